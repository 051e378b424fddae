"""The target paper's text for claim extraction: its abstract, or its full text from arXiv's HTML rendering.

``AbstractText`` gives the abstract (offline; the shipped corpus has nothing else). ``ArxivHtmlText``
fetches ``{base_url}/{versioned id}`` (https://arxiv.org/html/2604.23996v1) and reads its sections:

* **Bounded**: through ``generator.pipeline.bounded`` (same-origin redirects only, a body cap, a
  wall-clock limit per attempt and per call), retrying timeouts, lost connections and 429/5xx.
* **Polite**: one request at a time, at least ``delay`` seconds apart (arXiv asks for one every 3 s).
* **Cached**: each page that parsed is stored under ``cache_dir`` and read from there on a rerun, so a
  rerun makes no request and extracts the same claims.
* **Fails closed, by a recorded fallback**: if the page cannot be had (HTTP 404, as for papers arXiv
  has no HTML for; an answer that is not HTML, too large, off-host; no text paragraphs in it; retries
  or time run out), ``on_failure="abstract"`` (the default) falls back to the abstract and says why in
  ``TargetText.note``, which the record states among its uncertainties and in its methodology;
  ``on_failure="error"`` raises ``FullTextError`` instead, and nothing is written.

What is read (LaTeXML's markup, which arXiv's HTML is): the abstract (``ltx_abstract``) and every
paragraph under each section heading, headings named as printed ("4.2 Results"). Maths is replaced by
its ``alttext``; figures, tables, footnotes, the bibliography and the sections named in
``SKIPPED_SECTIONS`` (related work states other papers' results) are left out.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from generator.corpus import Paper
from generator.errors import SovereignError
from generator.fsio import atomic_write_bytes
from generator.pipeline.bounded import MIB, Refused, bounded_client, exchange
from generator.pipeline.retry import RETRY_STATUSES, Deadline, DeadlinePassed, RetriesExhausted, Retryable, RetryPolicy, \
    retry_after_seconds, with_retries

ARXIV_HTML_URL = "https://arxiv.org/html"
HTML_MAX_BODY_BYTES = 32 * MIB  # LaTeXML pages with inline SVG reach a few MB
HTML_MEDIA_TYPES = ("text/html", "application/xhtml+xml")
SKIPPED_SECTIONS = re.compile(r"related work|prior work|background|acknowledg|references|bibliography", re.I)
_SKIPPED_ELEMENTS = frozenset({"figure", "table", "nav", "header", "footer", "script", "style", "svg", "button"})
_SKIPPED_CLASSES = ("ltx_bibliography", "ltx_note", "ltx_page_footer", "ltx_authors", "ltx_dates", "ltx_TOC")
_SECTION_NAME = re.compile(r"[^A-Za-z0-9 .-]+")


class FullTextError(SovereignError):
    """The full text could not be had and the configuration says not to fall back to the abstract."""


@dataclass(frozen=True)
class TargetText:
    """The text claims are extracted from: ``(section, text)`` pairs in document order, and where it came from."""

    sections: tuple[tuple[str, str], ...]
    origin: str  # "abstract" or "full text"
    url: str | None = None
    note: str | None = None  # why the full text was wanted but not used


class AbstractText:
    """The abstract only (the shipped corpus and the arXiv API give nothing more)."""

    description = "abstract"

    def text_of(self, paper: Paper) -> TargetText:
        return TargetText((("abstract", paper.abstract),), "abstract")

    def close(self) -> None:
        pass


def section_name(heading: str) -> str:
    """A heading as a location name: printable words only (no ';', '<', '&'), at most 60 characters."""
    name = " ".join(_SECTION_NAME.sub(" ", heading).split())[:60].strip()
    return name or "untitled section"


class _LatexmlReader(HTMLParser):
    """Collects paragraph text per section heading from a LaTeXML (arXiv HTML) page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[tuple[str, list[str]]] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, skipping) for every open element
        self._heading: list[str] | None = None
        self._paragraph: list[str] | None = None
        self._in_abstract = False
        self._math = 0

    @property
    def _skipping(self) -> bool:
        return any(skip for _, skip in self._stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = attributes.get("class") or ""
        skip = tag in _SKIPPED_ELEMENTS or any(c in classes for c in _SKIPPED_CLASSES)
        if tag in ("br", "img", "meta", "link", "input", "hr"):
            return
        self._stack.append((tag, skip))
        if self._skipping:
            return
        if tag == "math":
            self._math += 1
            if self._paragraph is not None and self._math == 1:
                self._paragraph.append(" " + (attributes.get("alttext") or "") + " ")
        elif "ltx_abstract" in classes:
            self._in_abstract = True
            self.sections.append(("abstract", []))
        elif re.fullmatch(r"h[1-6]", tag) and "ltx_title" in classes and "ltx_title_abstract" not in classes \
                and "ltx_title_document" not in classes:
            self._heading = []
        elif tag == "p":
            self._paragraph = []

    def handle_endtag(self, tag):
        if not any(open_tag == tag for open_tag, _ in self._stack):
            return
        while self._stack:
            open_tag, _ = self._stack.pop()
            was_skipping = self._skipping
            if not was_skipping:
                self._close(open_tag)
            if open_tag == tag:
                break

    def _close(self, tag: str) -> None:
        if tag == "math":
            self._math = max(self._math - 1, 0)
        elif re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.sections.append((section_name("".join(self._heading)), []))
            self._heading = None
            self._in_abstract = False
        elif tag == "p" and self._paragraph is not None:
            text = " ".join("".join(self._paragraph).split())
            if text and self.sections:
                self.sections[-1][1].append(text)
            self._paragraph = None

    def handle_data(self, data):
        if self._skipping or self._math:
            return
        if self._heading is not None:
            self._heading.append(data)
        elif self._paragraph is not None:
            self._paragraph.append(data)


def read_sections(html: str) -> tuple[tuple[str, str], ...]:
    """The abstract and each section's paragraphs of a LaTeXML page, skipping ``SKIPPED_SECTIONS``."""
    reader = _LatexmlReader()
    reader.feed(html)
    reader.close()
    out = []
    for name, paragraphs in reader.sections:
        if paragraphs and not SKIPPED_SECTIONS.search(name):
            out.append((name, " ".join(paragraphs)))
    return tuple(out)


class ArxivHtmlText:
    """The target's full text from arXiv's HTML rendering; see the module docstring for every bound."""

    description = "arXiv HTML full text"

    def __init__(self, *, base_url: str = ARXIV_HTML_URL, delay: float = 3.0, timeout: float = 30.0,
                 retry: RetryPolicy = RetryPolicy(max_retries=2), max_body_bytes: int = HTML_MAX_BODY_BYTES,
                 call_deadline: float = 300.0, cache_dir: Path | None = None, on_failure: str = "abstract",
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        if on_failure not in ("abstract", "error"):
            raise ValueError(f"on_failure must be 'abstract' or 'error', not {on_failure!r}")
        self.base_url = base_url.rstrip("/")
        self.delay = delay
        self.timeout = timeout
        self.retry = retry
        self.max_body_bytes = max_body_bytes
        self.call_deadline = call_deadline
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.on_failure = on_failure
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._next_allowed = float("-inf")
        self._client = bounded_client(timeout)
        self.requests_sent = 0

    def url_of(self, paper: Paper) -> str:
        return f"{self.base_url}/{paper.versioned_id}"

    def close(self) -> None:
        self._client.close()

    def text_of(self, paper: Paper) -> TargetText:
        url = self.url_of(paper)
        try:
            sections = read_sections(self._page(paper, url).decode("utf-8", errors="replace"))
            if not sections:
                raise _Unavailable("has no text paragraphs under any section")
        except _Unavailable as exc:
            problem = f"the full text at {url} {exc}"
            if self.on_failure == "error":
                raise FullTextError(f"{problem}; claims.full_text.on_failure is 'error', so nothing was written") from None
            return TargetText((("abstract", paper.abstract),), "abstract", url,
                              f"Claims were extracted from the abstract only: {problem}.")
        return TargetText(sections, "full text", url)

    def _cache_file(self, paper: Paper) -> Path | None:
        return self.cache_dir / f"{paper.versioned_id.replace('/', '_')}.html" if self.cache_dir else None

    def _page(self, paper: Paper, url: str) -> bytes:
        cached = self._cache_file(paper)
        if cached is not None and cached.is_file():
            return cached.read_bytes()
        body = self._fetch(url)
        if cached is not None and read_sections(body.decode("utf-8", errors="replace")):
            cached.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(cached, body)
        return body

    def _fetch(self, url: str) -> bytes:
        deadline = Deadline(self.call_deadline, "full-text deadline")

        def attempt_once() -> bytes:
            with self._lock:
                wait = self._next_allowed - self._clock()
                if wait > 0:
                    self._sleep(wait)
                self.requests_sent += 1
                try:
                    answer = exchange(self._client, "GET", url, headers={"Accept": "text/html"}, timeout=self.timeout,
                                      deadline=deadline, max_body_bytes=self.max_body_bytes)
                finally:
                    self._next_allowed = self._clock() + self.delay
            if answer.status_code in RETRY_STATUSES:
                raise Retryable(f"HTTP {answer.status_code}", retry_after_seconds(answer.headers.get("Retry-After")))
            if answer.status_code != 200:
                raise _Unavailable(f"answered HTTP {answer.status_code}")
            if answer.media_type not in HTML_MEDIA_TYPES:
                raise _Unavailable(f"answered with {answer.media_type or 'no Content-Type'}, not HTML")
            return answer.content

        try:
            return with_retries(attempt_once, self.retry, sleep=self._sleep, what=f"full text {url}", deadline=deadline)
        except RetriesExhausted as exc:
            raise _Unavailable(f"gave no answer: {exc.problem} after {exc.attempts} attempts") from None
        except DeadlinePassed as exc:
            raise _Unavailable(f"gave no answer in time ({exc})") from None
        except Refused as exc:
            raise _Unavailable(f"was refused: it {exc.problem}") from None


class _Unavailable(Exception):
    """Why the full text cannot be used (the message completes 'the full text at URL ...')."""
