"""The one place untrusted text is made safe for the site: Markdown, HTML, YAML front matter, JSON-LD, XML.

Everything a record holds (titles, abstracts, research questions, model output, correction reasons,
names) is data, never markup. Every generated page passes such text through exactly one of these
functions, chosen by where the text lands:

``md_inline``   a Markdown paragraph, heading, list item, admonition body or table cell
``md_blocks``   several paragraphs (blank-line separated in the source text)
``html_blocks`` several paragraphs as raw HTML blocks Python-Markdown passes through whole (long texts)
``html``        raw HTML we write ourselves (attribute values; element text goes through ``html_text``)
``strip_bidi``  plain text that can carry no markup (feed, search index, records index rows)
``front_matter_title``  the ``title:`` of a page's YAML front matter (MkDocs puts it in ``<title>``)
``page_title``          that title's value, for front matter written as JSON
``json_for_script``     JSON inside ``<script type="application/ld+json">``
``xml_text``    text handed to feedgen/lxml (which does the XML escaping but refuses control characters)

Markdown rule: first backslash-escape every character that is Markdown syntax where it stands
(see ``_MD_ALWAYS`` and the line-start rules), then HTML-escape with
``markupsafe.escape`` so ``<``, ``>``, ``&`` and quotes become entities, then turn ``~`` (a fence
character that cannot be backslash-escaped) into the character reference ``&#126;``. Whitespace runs (newlines included) collapse to one
space, so a value can never start a block (heading, list, code block, fence, setext underline,
admonition) on a line of its own. Control characters are replaced by U+FFFD: Python-Markdown uses
``\\x02``/``\\x03`` to mark stashed raw HTML, and a value containing them could otherwise pull a
stashed block into the page.

Bidi rule: Unicode bidirectional controls (embeddings and overrides U+202A-U+202E, isolates
U+2066-U+2069, marks U+200E, U+200F, U+061C) and right-to-left letters in a value must never reorder
the text around it (an override in a title would otherwise turn our "evil" into "live", or a status
after it). Every value is first balanced (``clean``): whatever embedding, override or isolate it
opens is closed at its end, and a PDF or PDI that closes nothing of its own is dropped, so it cannot
end an isolate around it. Then text that holds a bidi control or a right-to-left letter is wrapped in
``<bdi>`` (``unicode-bidi: isolate``) by ``md_inline``, ``html_text`` and ``html_blocks``. Where no
markup can go (``<title>``, the Atom feed, the search index, the records index's rows) the controls
are removed instead (``strip_bidi``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from markupsafe import escape as _markupsafe_escape

# Markdown syntax wherever it appears in a line: backslash, code spans, emphasis, links and images
# ([ ]), table cells (|), attribute lists ({ }) and a heading's closing #. All are in
# Python-Markdown's ESCAPED_CHARS (| via the tables extension), so a backslash hides them; a
# backslash before any other character would stay visible.
_MD_ALWAYS = re.compile(r"([\\`*_\[\]|{}#])")
# Block syntax that only counts at the start of a line (md_inline output is always one line):
# list bullets, ordered lists ("1."), admonitions ("!!!"). ">" and "<" are HTML-escaped instead.
_MD_LEADING_MARK = re.compile(r"^([-+!])")
_MD_LEADING_NUMBER = re.compile(r"^(\d+)\.")
# C0 controls except tab/newline/carriage return, DEL and C1 controls; includes Python-Markdown's
# placeholder markers \x02 and \x03.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Characters XML 1.0 forbids (lxml raises on them), beyond the C0 controls above.
_XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")

# Unicode bidirectional formatting characters: LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI; LRM, RLM, ALM.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_BIDI_CONTROL = re.compile(f"[{BIDI_CONTROLS}]")
_BIDI_SCOPED = re.compile("[\u202a-\u202e\u2066-\u2069]")  # the ones that open or close a scope
_OPENS_EMBEDDING = frozenset("\u202a\u202b\u202d\u202e")
_OPENS_ISOLATE = frozenset("\u2066\u2067\u2068")
_PDF, _PDI = "\u202c", "\u2069"
# Text that can reorder what is around it: a bidi control or a right-to-left letter (Hebrew, Arabic,
# Syriac, Thaana, N'Ko, Samaritan, Mandaic and their presentation forms; the RTL scripts beyond the BMP).
_NEEDS_ISOLATION = re.compile(f"[{BIDI_CONTROLS}\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe"
                              "\U00010800-\U00010fff\U0001e800-\U0001efff]")


def _balance_bidi(text: str) -> str:
    """Close every embedding, override and isolate ``text`` opens at its end, and drop each PDF or PDI
    that would close one it did not open (UAX #9: a PDI also closes the embeddings inside its isolate)."""
    if not _BIDI_SCOPED.search(text):
        return text
    out, open_scopes = [], []
    for char in text:
        if char in _OPENS_EMBEDDING:
            open_scopes.append(_PDF)
        elif char in _OPENS_ISOLATE:
            open_scopes.append(_PDI)
        elif char == _PDF:
            if not open_scopes or open_scopes[-1] != _PDF:
                continue
            open_scopes.pop()
        elif char == _PDI:
            if _PDI not in open_scopes:
                continue
            while open_scopes.pop() != _PDI:
                pass
        out.append(char)
    return "".join(out) + "".join(reversed(open_scopes))


def strip_bidi(text: Any) -> str:
    """``str(text)`` without bidi controls, for plain text that cannot isolate a value (None becomes '')."""
    if text is None:
        return ""
    return _BIDI_CONTROL.sub("", str(text))


def needs_isolation(text: str) -> bool:
    """Whether ``text`` holds a bidi control or a right-to-left letter (ASCII text never does)."""
    return not text.isascii() and _NEEDS_ISOLATION.search(text) is not None


def _isolated(escaped: str, text: str) -> str:
    return f"<bdi>{escaped}</bdi>" if needs_isolation(text) else escaped


def clean(text: Any) -> str:
    """``str(text)`` with control characters replaced by U+FFFD and bidi scopes balanced (None becomes '')."""
    if text is None:
        return ""
    return _balance_bidi(_CONTROL.sub("\ufffd", str(text)))


def html(text: Any) -> str:
    """Text for raw HTML we write ourselves: a double-quoted attribute value (element text: ``html_text``)."""
    return str(_markupsafe_escape(clean(text)))


def html_text(text: Any) -> str:
    """``html`` for element content, on one line (whitespace collapsed, so it never ends a raw HTML
    block); a value that could reorder its surroundings comes in ``<bdi>``."""
    collapsed = " ".join(clean(text).split())
    return _isolated(str(_markupsafe_escape(collapsed)), collapsed)


def _backslash(text: str) -> str:
    text = _MD_ALWAYS.sub(r"\\\1", text)
    text = _MD_LEADING_MARK.sub(r"\\\1", text)
    return _MD_LEADING_NUMBER.sub(r"\1\\.", text)


def md_inline(text: Any) -> str:
    """One line of Markdown that renders as exactly ``text`` (whitespace collapsed), never as markup.

    Safe in paragraphs, headings, list items, admonition bodies and table cells (``|`` is escaped).
    Only characters that are syntax where they stand are escaped, so ordinary prose (hyphens,
    periods, parentheses) reaches Python-Markdown as plain text and costs it nothing. Quotes are
    left as they are: they are not markup in text, and this output never lands in an attribute.
    """
    collapsed = " ".join(clean(text).split())
    escaped = html(_backslash(collapsed)).replace("~", "&#126;")
    return _isolated(escaped.replace("&#39;", "'").replace("&#34;", '"'), collapsed)


def md_blocks(text: Any, indent: str = "") -> str:
    """Paragraphs of ``text`` (split at blank lines), each rendered as plain text, each line indented.

    Use ``indent="    "`` for the body of an admonition.
    """
    paragraphs = [md_inline(p) for p in _paragraphs(text)]
    return "\n\n".join(indent + p for p in paragraphs if p)


def _paragraphs(text: Any) -> list[str]:
    return _BLANK_LINE.split(("" if text is None else str(text)).replace("\r\n", "\n").replace("\r", "\n"))


def html_blocks(text: Any) -> str:
    """Paragraphs of ``text`` (split at blank lines) as raw HTML ``<p>`` blocks, whitespace collapsed.

    For long texts (an abstract, a research question). Python-Markdown passes a raw HTML block through
    whole, while its inline processor rebuilds a paragraph's text once for every backslash escape or
    entity in it, so a long value full of Markdown syntax characters costs it time quadratic in their
    number (0.5 s for 20,000 of them); as HTML it costs nothing. Top level only: an indented block
    (an admonition body) is not raw HTML to Python-Markdown, so use ``md_blocks`` there.
    """
    blocks = []
    for paragraph in _paragraphs(text):
        collapsed = " ".join(clean(paragraph).split())
        if collapsed:
            blocks.append(f"<p>{_isolated(str(_markupsafe_escape(collapsed)), collapsed)}</p>")
    return "\n\n".join(blocks)


def md_code(text: Any) -> str:
    """Short machine values (ids, digests, JSON pointers) shown in a code style, still fully escaped.

    Rendered as ``<code>`` raw HTML around escaped text instead of a backtick span, because a value
    containing backticks or ``|`` could end a code span or a table cell.
    """
    return f"<code>{md_inline(text)}</code>"


_SAFE_URL = re.compile(r"https://[A-Za-z0-9.-]+(/[A-Za-z0-9._~%/+:@!$,;=-]*)?(#[A-Za-z0-9_-]*)?")
_RELATIVE_URL = re.compile(r"[A-Za-z0-9._/-]+(#[A-Za-z0-9_-]*)?")


def _is_safe_url(url: str) -> bool:
    return bool(_SAFE_URL.fullmatch(url) or _RELATIVE_URL.fullmatch(url))


def md_link(text: Any, url: str) -> str:
    """A Markdown link whose text is escaped; ``url`` must be a plain https URL or a relative path we built.

    Anything else (``javascript:``, spaces, parentheses, quotes) is refused, and the link text is
    shown without a link, so an untrusted value can never choose where a link goes.
    """
    if _is_safe_url(url):
        return f"[{md_inline(text)}]({url})"
    return md_inline(text)


def html_link(text: Any, url: str, *, download: bool = False) -> str:
    """``md_link`` for raw HTML: an anchor MkDocs leaves as written (neither rewritten nor validated).

    Used for the files a record page links to that MkDocs never sees (the verbatim mirror); the same
    URL rule applies, and the text is HTML-escaped. ``download`` marks a link to a record's file: the
    browser saves it instead of showing it (a record's files are data, never pages of the site).
    """
    if _is_safe_url(url):
        return f'<a href="{html(url)}"{" download" if download else ""}>{html_text(text)}</a>'
    return html_text(text)


def front_matter_title(text: Any) -> str:
    """A YAML front-matter line setting the page title.

    MkDocs Material writes ``page.meta.title`` into ``<title>`` and the header *without* escaping,
    while it would run ``striptags`` (which unescapes entities) on a title taken from the H1. So the
    title is HTML-escaped here, once, and quoted as a JSON string (a valid YAML double-quoted scalar).
    """
    return "title: " + json.dumps(page_title(text), ensure_ascii=True)


def page_title(text: Any) -> str:
    """The page title as front matter must hold it: one line, bidi controls stripped, HTML-escaped once
    (see ``front_matter_title``)."""
    return html(" ".join(strip_bidi(clean(text)).split()))


_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_SCRIPT_UNSAFE_RE = re.compile("[<>&\u2028\u2029]")


def json_for_script(value: Any) -> str:
    """JSON for a ``<script type="application/ld+json">`` block, on one line.

    ``<``, ``>`` and ``&`` become ``\\u003c``, ``\\u003e``, ``\\u0026`` so no string can close the
    script element or open a comment; the JSON value read back is unchanged.
    """
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return _SCRIPT_UNSAFE_RE.sub(lambda m: _SCRIPT_UNSAFE[m.group()], text)


def xml_text(text: Any) -> str:
    """Text lxml accepts (forbidden XML characters replaced); lxml itself escapes ``<``, ``&``."""
    if text is None:
        return ""
    return _XML_FORBIDDEN.sub("\ufffd", str(text))


def feed_text(text: Any) -> str:
    """``xml_text`` for an Atom text construct shown as plain text: bidi controls removed (``strip_bidi``)."""
    return xml_text(strip_bidi(text))
