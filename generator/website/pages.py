"""What the site shows of records, and the Markdown of the generated pages other than record pages (the
records index, the quality guide, the schemas page); record pages are HTML, see ``record_page.py``.

Plain Markdown (tables, admonitions, a little raw HTML we write ourselves) so the pages survive a move
to another static-site generator. Every value that comes from a record goes through
``generator.escape``; the labels, explanatory sentences and links are ours.
"""

from __future__ import annotations

import html as _html
import json
import re
from dataclasses import dataclass
from pathlib import Path

from generator.digests import sha256_bytes
from generator.records import corrections as corr
from generator.records import registration, rules, versions
from generator.records.layout import (CHECKPOINT_FILE, FEED_FILE, HISTORY_FILE, INDEX_JSON, LOG_FILE, SITE_MANIFEST_FILE,
                                      folder_name)
from generator.records.corrections import FoldedRecord
from generator.escape import html, html_link, html_text, md_code, md_inline, strip_bidi

SITE_URL = "https://sovereign-publish.github.io/registry/"
QUALITY_GUIDE_PAGE = "quality-guide.md"
SCHEMAS_PAGE = "schemas.md"
RECORDS_DIR = "records"

# The explanatory sentences under each table of a public record page (examples/seeds/004_*.txt).
# VERIFICATION_NOTE is 004's, and true only of a record at public provenance L3: each level has its own.
VERIFICATION_NOTE = ("Descriptive public verification status only; aggregate claim counts are public, "
                     "but individual claim records are not exposed here.")
CLAIM_LEVEL_NOTE = ("Descriptive public verification status only; individual claim records are public: each claim "
                    "with the section it came from, whether an independent source verified it, the best such "
                    "source and its score.")
NO_CLAIMS_NOTE = "Descriptive public verification status only; no claim counts or individual claim records are public here."
PROVENANCE_NOTES = {"L3": VERIFICATION_NOTE, "L4": CLAIM_LEVEL_NOTE}
TIER_NOTE = "Descriptive public triage only; this tier does not alter current publication or DOI behavior."
DIMENSIONS_NOTE = "Automated triage signals derived from public fields; not human peer review or independent validation."
CORRECTIONS_NOTE = "Public corrections are additive records. Current status does not claim the synthesis is error-free."

# How each non-CURRENT status is announced at the top of the page: admonition kind and title verb.
BANNERS = {
    corr.RETRACTED: ("danger", "Retracted on {date}", "This synthesis has been retracted and should not be relied on. It stays online, marked, so that citations to it still resolve."),
    corr.WITHDRAWN: ("danger", "Withdrawn on {date}", "The publisher withdrew this synthesis. It stays online, marked."),
    corr.REMOVED: ("danger", "Removed on {date}", "Content of this record was removed for legal reasons; the record and its correction log stay."),
    corr.UNDER_CONCERN: ("warning", "Expression of concern since {date}", "Readers are warned while a problem with this synthesis is investigated."),
    corr.SUPERSEDED: ("warning", "Superseded on {date}", "A newer record replaces this one."),
    corr.CORRECTED: ("info", "Corrected (latest correction on {date})", "Values on this page include the corrections listed in the correction log below."),
}

_ARXIV_ID = re.compile(r"(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})", re.ASCII)
_VERSION = re.compile(r"v\d+", re.ASCII)


def arxiv_url(arxiv_id: str | None, version: str | None) -> str | None:
    """The arxiv.org abstract URL for a validated id and version, else None (never an untrusted URL)."""
    if not arxiv_id or not _ARXIV_ID.fullmatch(arxiv_id) or (version and not _VERSION.fullmatch(version)):
        return None
    return f"https://arxiv.org/abs/{arxiv_id}{version or ''}"


NOT_RECORDED = "Not recorded"


def _or(value, missing: str = NOT_RECORDED) -> str:
    return missing if value is None or value == "" or value == [] else value


# Statuses, verdicts, policy decisions and correction types are tokens in the records (UNDER_CONCERN,
# ESCALATE_TO_OWNER, expression_of_concern); a reader sees their labels. Every token of the rule tables
# has one here; any other (a decision is any upper-case name) reads as its words.
LABELS = {
    corr.CURRENT: "Current", corr.CORRECTED: "Corrected", corr.UNDER_CONCERN: "Under concern",
    corr.RETRACTED: "Retracted", corr.WITHDRAWN: "Withdrawn", corr.SUPERSEDED: "Superseded", corr.REMOVED: "Removed",
    "REJECT": "Reject", "REVISE": "Revise", "ACCEPT": "Accept",
    "ESCALATE_TO_OWNER": "Escalate to owner", "PUBLISH": "Publish",
    **{t.name: t.name.replace("_", " ").capitalize() for t in corr.UPDATE_TYPES},
}


def label(token) -> str:
    """What a reader sees for a token: 'Under concern' for UNDER_CONCERN; 'Not recorded' for None."""
    if token is None or token == "":
        return NOT_RECORDED
    token = str(token)
    return LABELS.get(token) or " ".join(token.replace("_", " ").split()).capitalize()


def labelled(token) -> str:
    """A token as Markdown or HTML: its label as text, the token as the machine-readable value of ``<data>``."""
    if token is None or token == "":
        return NOT_RECORDED
    return f'<data value="{html(token)}">{html_text(label(token))}</data>'


def score_text(score) -> str:
    return NOT_RECORDED if score is None else f"{score}"


def _date(stamp: str | None) -> str:
    return (stamp or "")[:10]


# ---------------------------------------------------------------------------------------------------
# Individual claims
#
# A record's provenance.json holds claim aggregates only (counts and a confidence summary). The claims
# themselves are in its report artifact: a pipeline run's report.md (section "5 Extracted Claims": a
# Claim | Verified | Confidence table, then one line of evidence per claim) and a kernel draft's report.txt
# (a tab-separated Claim, Verified, Confidence table). An imported public record page lists none. The
# report is untrusted text: it is read line by line with anchored patterns, every value is unescaped to
# the plain text it stands for and escaped again where the page shows it, and the rows are shown only if
# they agree with the provenance's aggregates (count, verified count, lowest and highest confidence).


@dataclass(frozen=True)
class ClaimRow:
    text: str
    verified: bool
    confidence: float  # as published, two places
    section: str | None = None  # "abstract, sentence 3": where in the target paper the claim came from
    source: str | None = None  # versioned arXiv id of the best independent source (verified or not)
    score: float | None = None  # that source's verification score
    withdrawn: bool = False  # withdrawn from the synthesis in a tribunal revision round
    contradicted_by: str | None = None  # versioned arXiv id of a source the verifier found saying the opposite


@dataclass(frozen=True)
class ClaimTable:
    """The individual claims of one record, as read from ``file``."""

    file: str
    kind: str  # "pipeline-run" (with section, best source and score) or "kernel-draft" (claim, verified, confidence)
    rows: tuple[ClaimRow, ...]
    threshold: float | None = None  # the verifier's threshold, for a pipeline run

    @property
    def has_evidence(self) -> bool:
        return self.kind == "pipeline-run"


_BDI = re.compile(r"<bdi>(.*)</bdi>", re.S)
_MD_ESCAPED = re.compile(r"\\([\\`*_\[\]|{}#+!.-])")


def _plain(markdown_text: str) -> str:
    """The text an ``escape.md_inline`` value stands for (undoes its isolate, entities and backslashes)."""
    inner = _BDI.fullmatch(markdown_text)
    return _MD_ESCAPED.sub(r"\1", _html.unescape(inner[1] if inner else markdown_text))


_PIPELINE_ROW = re.compile(r"\| (?P<claim>.+) \| (?P<mark>[✓×]) \| (?P<confidence>[0-9]\.[0-9]{2}) \|")
_PIPELINE_EVIDENCE_INTRO = re.compile(r"Evidence per claim \(.*threshold (?P<threshold>[0-9]+(?:\.[0-9]+)?)\):")
_PIPELINE_EVIDENCE = re.compile(
    r"(?P<n>[0-9]{1,9})\. (?P<section>[^;<>]+); (?P<rule>[^;<>]+); extraction confidence [0-9]+\.[0-9]{2}; "
    r"best independent source (?:<code>(?P<source>[^<>]+)</code>|none) \(score (?P<score>-?[0-9]+\.[0-9]{4}), "
    r"(?P<verified>verified|not verified)\)(?:; stance: (?:(?:supported|not enough information|contradicted)(?:, also )?)?"
    r"(?:contradicted by <code>(?P<contra>[^<>]+)</code> \(score -?[0-9]+\.[0-9]{4}\))?)?; nearest source by embedding (?:<code>[^<>]+</code>|none) "
    r"\(cosine -?[0-9]+\.[0-9]{4}\)(?P<withdrawn>; withdrawn from the synthesis in revision)?\.")


def _section_lines(text: str, start: str, end: str) -> list[str] | None:
    """The non-blank lines between the line ``start`` and the line ``end`` (None if either is missing)."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    stripped = [line.strip() for line in lines]
    if start not in stripped:
        return None
    first = stripped.index(start) + 1
    if end not in stripped[first:]:
        return None
    last = stripped.index(end, first)
    return [line for line in lines[first:last] if line.strip()]


def pipeline_report_claims(text: str) -> tuple[tuple[ClaimRow, ...], float | None] | None:
    """The claims of a pipeline run's report.md with their evidence, and the verifier threshold; None if the
    report does not read as ``generator.pipeline.report`` writes it."""
    lines = _section_lines(text, "## 5 Extracted Claims", "## References")
    if lines is None:
        return None
    if lines == ["No sentence of the target paper met the claim rule."]:
        return (), None
    if lines[:2] != ["| Claim | Verified | Confidence |", "| --- | --- | --- |"]:
        return None
    table = [_PIPELINE_ROW.fullmatch(line) for line in lines[2:] if line.startswith("|")]
    rest = [line for line in lines[2:] if not line.startswith("|")]
    intro = _PIPELINE_EVIDENCE_INTRO.fullmatch(rest[0]) if rest else None
    evidence = [_PIPELINE_EVIDENCE.fullmatch(line) for line in rest[1:]]
    if (not table or not all(table) or intro is None or not all(evidence) or len(evidence) != len(table)
            or [int(e["n"]) for e in evidence] != list(range(1, len(table) + 1))):
        return None
    rows = []
    for row, proof in zip(table, evidence):
        verified = row["mark"] == "✓"
        if verified != (proof["verified"] == "verified"):
            return None
        rows.append(ClaimRow(text=_plain(row["claim"]), verified=verified, confidence=float(row["confidence"]),
                             section=_plain(proof["section"]), source=_plain(proof["source"]) if proof["source"] else None,
                             score=float(proof["score"]), withdrawn=bool(proof["withdrawn"]),
                             contradicted_by=_plain(proof["contra"]) if proof["contra"] else None))
    return tuple(rows), float(intro["threshold"])


_DRAFT_MARKS = {"×": False, "✗": False, "x": False, "✓": True, "✔": True}
_DRAFT_CONFIDENCE = re.compile(r"[0-9]{1,3}(\.[0-9]{1,12})?", re.ASCII)


def kernel_draft_claims(text: str) -> tuple[ClaimRow, ...] | None:
    """The claims of a research-kernel draft (its tab-separated table); None if it has no such table."""
    lines = _section_lines(text, "5 Extracted Claims", "References")
    if not lines or [c.strip() for c in lines[0].split("\t")] != ["Claim", "Verified", "Confidence"]:
        return None
    rows = []
    for line in lines[1:]:
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) != 3 or cells[1] not in _DRAFT_MARKS or not _DRAFT_CONFIDENCE.fullmatch(cells[2]):
            return None
        confidence = float(cells[2])
        if not 0 <= confidence <= 1:
            return None
        rows.append(ClaimRow(text=" ".join(cells[0].split()), verified=_DRAFT_MARKS[cells[1]], confidence=confidence))
    return tuple(rows)


def _agrees(rows: tuple[ClaimRow, ...], claims: dict) -> bool:
    """Whether the rows are the claims the provenance counts: as many, as many verified, same lowest and highest confidence."""
    if claims.get("extracted") != len(rows) or claims.get("verified") != sum(1 for r in rows if r.verified):
        return False
    summary = claims.get("confidence")
    if not rows:
        return summary is None
    low, high = min(r.confidence for r in rows), max(r.confidence for r in rows)
    return (bool(summary) and abs(summary.get("min", -1) - round(low, 4)) < 1e-9
            and abs(summary.get("max", -1) - round(high, 4)) < 1e-9)


def claim_table(manifest: dict, provenance: dict, report: bytes | None) -> tuple[ClaimTable | None, str | None]:
    """The record's individual claims from its report artifact, or None and, when the report was given but
    cannot be shown, why (a sentence for the page)."""
    entry = provenance.get("report_artifact") or {}
    name, kind = entry.get("path"), (manifest.get("origin") or {}).get("format")
    if report is None or not name or kind not in ("pipeline-run", "kernel-draft"):
        return None, None
    if sha256_bytes(report) != entry.get("sha256"):
        return None, f"The report {name} given to this page is not the one the provenance record names, so its claims are not shown."
    try:
        text = report.decode("utf-8")
    except UnicodeDecodeError:
        return None, f"The report {name} is not UTF-8 text, so its claims are not shown here."
    threshold = None
    if kind == "pipeline-run":
        found = pipeline_report_claims(text)
        rows, threshold = found if found else (None, None)
    else:
        rows = kernel_draft_claims(text)
    if rows is None:
        return None, f"The report {name} has no claims table in the form this site reads, so its claims are not shown here."
    if not _agrees(rows, provenance.get("claims") or {}):
        return None, (f"The claims table of {name} does not agree with the claim counts of the provenance record, "
                      "so it is not shown here.")
    return ClaimTable(name, kind, rows, threshold), None


def read_report(folder: Path, provenance: dict | None) -> bytes | None:
    """The bytes of a record's report artifact (None when it has none or it cannot be read), for ``record_view``."""
    from generator.fsio import MAX_ARTIFACT_BYTES, UnreadableFile, read_regular_file

    name = ((provenance or {}).get("report_artifact") or {}).get("path")
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        return None
    try:
        return read_regular_file(Path(folder) / name, MAX_ARTIFACT_BYTES)
    except UnreadableFile:
        return None


@dataclass
class RecordView:
    """One record as the site shows it: the files as published plus the folded (corrected) view."""

    folder_name: str  # SRCH-XXXXXXXX
    manifest: dict
    provenance: dict
    corrections: list[dict]
    folded: FoldedRecord
    claims: ClaimTable | None = None  # the individual claims, when the report holding them was given
    claims_problem: str | None = None  # why a given report's claims are not shown
    previous_version: str | None = None  # the record this one is a new version of (its manifest says so)
    newer_version: str | None = None  # the record that is a new version of this one (derived at build time)
    doi: str | None = None

    @property
    def record_id(self) -> str:
        return self.manifest["record_id"]

    @property
    def values(self) -> dict:
        return self.folded.values

    @property
    def page_path(self) -> str:
        """The page, relative to the docs root."""
        return f"{RECORDS_DIR}/{self.folder_name}.md"

    @property
    def url(self) -> str:
        return f"{SITE_URL}{RECORDS_DIR}/{self.folder_name}/"

    @property
    def latest_at(self) -> str:
        return self.corrections[-1]["at"] if self.corrections else self.manifest["dates"]["recorded"]


def record_view(manifest: dict, provenance: dict, corrections: list[dict], report: bytes | None = None,
                newer_version: str | None = None) -> RecordView:
    """The view of one validated record; ``report`` is its report artifact's bytes (``read_report``), which
    hold the individual claims the page lists. Without it the page says where the claims are.
    ``newer_version`` is the record that names this one as its previous version (``versions.newer_versions``)."""
    claims, problem = claim_table(manifest, provenance or {}, report)
    return RecordView(folder_name(manifest["record_id"]), manifest, provenance, corrections,
                      corr.fold(manifest, corrections), claims, problem, versions.previous_id(manifest), newer_version,
                      doi=registration.registered_doi(corrections))


def _table(rows: list[tuple[str, str]], header: tuple[str, str] = ("Field", "Value")) -> str:
    """A two-column table; cells must already be escaped Markdown."""
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in rows]
    return "\n".join(lines)


def json_text(value) -> str:
    """A JSON value as a reader reads it on a page: one line, keys sorted, non-ASCII as is."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _setting(value) -> str:
    """A setting as a reader reads it: a string as itself in code (a regex shows as ``(?u)\\b\\w\\w+\\b``, not as
    the JSON ``"(?u)\\\\b..."``), anything else (numbers, lists, true, null) as its JSON."""
    return md_code(value) if isinstance(value, str) else md_code(json_text(value))


def search_entry(view: RecordView) -> dict:
    """The record's entry in Material's search index: title, id, status, tier and research question.

    Material renders these strings as HTML, so they are HTML-escaped, and it builds the result's
    elements itself, so bidi controls are removed (``strip_bidi``) rather than isolated.
    """
    values = view.values
    text = (f"{view.record_id} {view.record_id.split(':')[-1]} · {label(view.folded.status)} · "
            f"{(values.get('quality_tier') or {}).get('tier')}. {values.get('research_question')}")
    return {"location": f"{RECORDS_DIR}/{view.folder_name}/", "title": html(strip_bidi(values.get("title"))),
            "text": html(strip_bidi(text))}


# ---------------------------------------------------------------------------------------------------
# Records index


def index_row(view: RecordView) -> dict:
    """One record's line in records/index.json and in the index table.

    Titles lose their bidi controls (``strip_bidi``): a listing must show what a title says, and an
    override would make "evil" read "live" there. The record's page and files keep them, isolated.
    Status and verdict are tokens (the filters' values) with the labels a reader sees beside them.
    """
    values = view.values
    review = values.get("review") or {}
    return {
        "record_id": view.record_id,
        "title": strip_bidi(values.get("title")),
        "short_title": strip_bidi(values.get("short_title")),
        "level": (values.get("verification") or {}).get("level"),
        "tier": (values.get("quality_tier") or {}).get("tier"),
        "status": view.folded.status,
        "status_label": label(view.folded.status),
        "verdict": review.get("verdict"),
        "verdict_label": label(review.get("verdict")),
        "review_score": review.get("score"),
        "recorded": view.manifest["dates"]["recorded"],
        "correction_count": view.folded.correction_count,
        "is_new_version_of": view.previous_version,
        "newer_version": view.newer_version,
        "page": view.url,
        "files": f"{RECORDS_DIR}/{view.folder_name}/",
    }


def _options(values: list[str], labels: dict[str, str] | None = None) -> str:
    """Options whose values are the filters' tokens and whose text is what a reader sees."""
    return "".join(f'<option value="{html(v)}">{html_text((labels or {}).get(v, v))}</option>' for v in values)


HTML_PAGE_KEY = "sovereign_html"  # front matter key of a page file that is ready-made HTML (``html_page``)
INDEX_PAGE_SIZE = 500  # rows per static index page: 10,000 rows in one page is 250,000 DOM nodes and seconds of layout


def index_page_name(number: int) -> str:
    """Index page ``number`` (from 1), relative to the records folder: index.md, page-2.md, ..."""
    return "index.md" if number == 1 else f"page-{number}.md"


def _index_url(number: int, from_number: int) -> str:
    """The URL of index page ``number`` relative to index page ``from_number`` (directory URLs:
    records/ and records/page-N/)."""
    return ("" if from_number == 1 else "../") + ("" if number == 1 else f"page-{number}/") or "./"


def _pager(number: int, count: int) -> str:
    if count == 1:
        return ""
    links = [f"<strong>{k}</strong>" if k == number else f'<a href="{_index_url(k, number)}">{k}</a>' for k in range(1, count + 1)]
    newer = f'<a href="{_index_url(number - 1, number)}">Newer</a>' if number > 1 else "Newer"
    older = f'<a href="{_index_url(number + 1, number)}">Older</a>' if number < count else "Older"
    return f'<p class="sp-pager">Pages: {newer} · {" ".join(links)} · {older}</p>\n'


def html_page(meta: dict, body: str) -> str:
    """A page file of ready-made HTML: front matter on one line of JSON marking it (``HTML_PAGE_KEY``),
    then the body. The site's MkDocs hook hands the body to MkDocs as it is, without Python-Markdown."""
    return f"---\n{json.dumps({**meta, HTML_PAGE_KEY: True}, ensure_ascii=True)}\n---\n" + body


def records_index_pages(rows: list[dict], page_size: int = INDEX_PAGE_SIZE) -> list[tuple[str, str]]:
    """The records index as (file name in the records folder, page file), ``page_size`` rows a page, newest first.

    Every record is linked from exactly one static page, so the registry is browsable and crawlable
    without JavaScript; records-index.js searches and filters all records through index.json. The
    pages are HTML (``html_page``): a 500-row Markdown table took Python-Markdown about half a second.
    """
    chunks = [rows[i:i + page_size] for i in range(0, len(rows), page_size)] or [[]]
    return [(index_page_name(number), _records_index_page(chunk, number, len(chunks), (number - 1) * page_size, len(rows)))
            for number, chunk in enumerate(chunks, start=1)]


INDEX_COLUMNS = ("Record", "Title", "Level", "Tier", "Status", "Verdict", "Score", "Recorded")


def _records_index_page(rows: list[dict], number: int, count: int, offset: int, total: int) -> str:
    # Every URL is final and relative to this page's own URL: records/ for page 1, records/page-N/ for the
    # others (directory URLs). MkDocs neither rewrites nor checks them; the LinkChecker test does.
    to_records = "" if number == 1 else "../"
    shown = f" This page shows {offset + 1}-{offset + len(rows)}, newest first." if count > 1 else " Newest first."
    title = "Records index" + (f", page {number} of {count}" if number > 1 else "")
    # The table needs the page's whole width. Search skips these pages: every record has its own search
    # entry, and an index page would be one entry matching every title (a third of the index's text).
    meta = {"title": title, "hide": ["navigation", "toc"], "search": {"exclude": True}}
    out = [f'<h1 id="records-index">{title}</h1>',
           f'<p>{total} records.{shown} Also as JSON: <a href="{to_records}{INDEX_JSON}">{INDEX_JSON}</a>; '
           f'corrections as an Atom feed: <a href="{to_records}../{FEED_FILE}">{FEED_FILE}</a>.</p>',
           # Our own markup with fixed option values (the rule tables' names) and numbers; no record text in it.
           f'<div class="sp-filter" id="sp-records-filter" data-total="{total}" data-index="{to_records}{INDEX_JSON}" '
           f'data-records="{to_records}">'
           '<label>Search <input type="search" id="sp-records-search" placeholder="Words from the title or id" autocomplete="off"></label> '
           f'<label>Tier <select id="sp-records-tier"><option value="">All tiers</option>{_options([t.name for t in rules.TIERS])}</select></label> '
           f'<label>Status <select id="sp-records-status"><option value="">All statuses</option>{_options(list(corr.STATUSES), {t: label(t) for t in corr.STATUSES})}</select></label> '
           '<output id="sp-records-count" aria-live="polite"></output></div>',
           _pager(number, count),
           "<table>", "<thead>", "<tr>" + "".join(f"<th>{name}</th>" for name in INDEX_COLUMNS) + "</tr>", "</thead>", "<tbody>"]
    for row in rows:
        folder = folder_name(row["record_id"])
        # Labels only; the filter script reads a status back as its token through the status filter's options.
        status = html_text(label(row["status"]))
        cells = (f'<a href="{to_records}{html(folder)}/">{html_text(row["record_id"])}</a>', html_text(row["title"]),
                 html_text(row["level"]), html_text(row["tier"]),
                 status if row["status"] == corr.CURRENT else f"<strong>{status}</strong>",
                 html_text(label(row.get("verdict"))), html_text(score_text(row["review_score"])), html_text(_date(row["recorded"])))
        out.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    if not rows:
        out.append("<tr><td></td><td>No records yet.</td>" + "<td></td>" * 6 + "</tr>")
    out += ["</tbody>", "</table>"]
    if count > 1:
        out.append(_pager(number, count))
    return html_page(meta, "\n".join(part for part in out if part) + "\n")


# ---------------------------------------------------------------------------------------------------
# Quality guide


def _bounds(tier: rules.Tier) -> str:
    if tier.lower is None:
        return "no review score"
    if tier.upper is None:
        return f"score ≥ {tier.lower}"
    return f"{tier.lower} ≤ score < {tier.upper}"


def verifiers_in_use(views: list[RecordView]) -> dict[str, int]:
    """How many records got their "verified" counts from each verifier (per their provenance)."""
    counts: dict[str, int] = {}
    for view in views:
        method = ((view.provenance.get("pipeline") or {}).get("verification") or {}).get("method")
        if method:
            counts[method] = counts.get(method, 0) + 1
    return counts


def _verifier_section(evaluation: dict | None, in_use: dict[str, int]) -> list[str]:
    out = ["## How far to trust the claim verifier\n"]
    if not evaluation:
        out.append("The claim verifier has not been measured: no evaluation result ships with this build, "
                   "so its precision and recall are unknown. Treat every \"verified\" count as an unmeasured signal.\n")
        return out
    out.append(md_inline(
        f"Measured on {evaluation.get('dataset')} ({evaluation.get('split')} split) on {evaluation.get('evaluated_at')}, "
        "each verifier at the threshold it is used with; a record's verifier is named in its provenance.") + "\n")
    tasks = evaluation.get("tasks") or {}
    for key, label in (("pair", "Pair task"), ("contradiction", "Contradiction"), ("abstract_level", "Abstract level"),
                       ("pipeline", "Pipeline setting")):
        if tasks.get(key):
            out.append(f"*{label}:* {md_inline(tasks[key])}\n")
    # One column per verifier, one row per measure, then the trivial baselines in a table of their own:
    # each keeps to the page's width.
    verifiers = evaluation.get("verifiers", [])
    baselines = sorted((evaluation.get("baselines") or {}).items())
    pair = lambda e, key: (e.get("pair_task") or {}).get(key)  # noqa: E731
    figures = [
        ("Pair: precision", lambda e: pair(e, "precision")),
        ("Pair: recall", lambda e: pair(e, "recall")),
        ("Pair: F1", lambda e: pair(e, "f1")),
        ("Pair: AUROC", lambda e: pair(e, "auroc")),
        ("Pair: balanced accuracy", lambda e: pair(e, "balanced_accuracy")),
        ("Contradicting pairs called verified", lambda e: e.get("contradict_called_verified")),
        ("Abstract-level F1", lambda e: (e.get("abstract_level") or {}).get("f1")),
        ("Pipeline: verified, no gold source", lambda e: (e.get("pipeline") or {}).get("false_verification_rate")),
        ("Pipeline: verified via gold", lambda e: (e.get("pipeline") or {}).get("share_verified_through_gold")),
        ("Pairs", lambda e: pair(e, "pairs")),
    ]

    def table(columns: list[str], measures: list) -> str:
        lines = ["| Measure | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
        lines += ["| " + " | ".join([name] + [md_inline(_or(x, "n/a")) for x in values]) + " |" for name, values in measures]
        return "\n".join(lines) + "\n"

    out.append(table([md_code(v.get("name")) for v in verifiers], [
        ("Records using it", [in_use.get(v.get("name"), 0) for v in verifiers]),
        ("Threshold", [(v.get("settings") or {}).get("threshold") for v in verifiers]),
        ("Figures are", [(v.get("figures") or "").split(" (")[0] or None for v in verifiers]),
    ] + [(name, [get(v) for v in verifiers]) for name, get in figures]))
    if baselines:
        out.append("The trivial baselines, on the same tasks:\n")
        out.append(table([md_inline(name.replace("_", " ")) for name, _ in baselines],
                         [(name, [get(b) for _, b in baselines]) for name, get in figures]))
    reference = evaluation.get("reference") or {}
    if reference.get("abstract_label_only_f1"):
        low, high = reference["abstract_label_only_f1"]
        out.append(md_inline(
            f"For scale: {reference.get('system')}, a trained neural system, reaches an abstract-level label-only F1 of "
            f"{low}-{high} on the SciFact {reference.get('split')} split ({reference.get('source')}); the figures above "
            f"are on the {evaluation.get('split')} split, out-of-fold for a trained verifier.") + "\n")
    unmeasured = sorted(set(in_use) - {v.get("name") for v in verifiers})
    if unmeasured:
        out.append(md_inline(f"Not measured, yet used by records on this site: {', '.join(unmeasured)}.") + "\n")
    definitions = evaluation.get("definitions") or {}
    for key, label in (("precision_recall_f1", "Precision, recall and F1"), ("auroc", "AUROC"),
                       ("balanced_accuracy", "Balanced accuracy"), ("figures", "Figures")):
        if definitions.get(key):
            out.append(f"*{label}:* {md_inline(definitions[key])}.\n")
    for v in verifiers:
        out.append(f"Settings of {md_code(v.get('name'))}:\n")
        out.append("\n".join(f"- {md_inline(k)}: {_setting(val)}" for k, val in sorted((v.get("settings") or {}).items())) + "\n")
    retrieval = evaluation.get("retrieval")
    if retrieval:
        out.append("Retrieval (finding the evidence documents for a claim):\n")
        rows = [(md_inline(f"recall@{k}"), md_inline(val)) for k, val in sorted(retrieval.get("recall_at_k", {}).items(), key=lambda kv: int(kv[0]))]
        rows += [(md_inline(f"document recall@{k}"), md_inline(val)) for k, val in sorted(retrieval.get("doc_recall_at_k", {}).items(), key=lambda kv: int(kv[0]))]
        out.append(_table(rows, ("Measure", "Value")) + "\n")
        out.append(md_inline(f"Index: {retrieval.get('index')}. {retrieval.get('definition')}") + "\n")
    files = evaluation.get("data_files") or {}
    if files:
        out.append("Data files (SHA-256): " + "; ".join(f"{md_inline(k)} {md_code(v)}" for k, v in sorted(files.items())) + "\n")
    out.append("*These figures are generated from `generator/data/verifier_eval.json` at build time, never typed by hand.*\n")
    return out


def quality_guide_page(evaluation: dict | None, in_use: dict[str, int] | None = None) -> str:
    """The guide, generated from the rule tables in generator/records/rules.py and corrections.py.

    ``in_use`` counts the records on the site per verifier (``verifiers_in_use``).
    """
    out = [f"# {rules.QUALITY_GUIDE_TITLE}\n",
           "Every value on a record page is derived from the record's public files by the rules below. "
           "This page is generated from the same rule tables the importer and the pipeline use, so it "
           "cannot disagree with the records it explains.\n",
           f"*{rules.NOTE}*\n",
           "## Levels: paper level and public provenance\n",
           "One ladder, applied twice: to the synthesis (**paper level**: what its claims rest on) and to its "
           "provenance record (**public provenance**: what a reader can check about those claims).\n",
           _table([(md_inline(l.code), md_inline(f"{l.label}: {l.meaning}")) for l in rules.LEVELS], ("Level", "Meaning")) + "\n",
           "## Quality tier and review score\n",
           f"The review score (0 to 10) comes from an automated multi-reviewer assessment with the roles "
           f"{md_inline(', '.join(rules.TRIBUNAL_ROLES))}. It sets the tier:\n"]
    lines = ["| Tier | Review score | Basis |", "|---|---|---|"]
    lines += [f"| {md_inline(t.name)} | {md_inline(_bounds(t))} | {md_inline(t.basis)} |" for t in rules.TIERS]
    out.append("\n".join(lines) + "\n")
    out.append("The reviewers' verdict follows from the same score:\n")
    out.append(_table([
        (labelled("REJECT"), md_inline(f"score < {rules.REJECT_BELOW}")),
        (labelled("REVISE"), md_inline(f"{rules.REJECT_BELOW} ≤ score < {rules.REVISION_THRESHOLD} (a revision round is run below {rules.REVISION_THRESHOLD})")),
        (labelled("ACCEPT"), md_inline(f"score ≥ {rules.REVISION_THRESHOLD}")),
    ], ("Verdict", "Review score")) + "\n")
    out.append(f"*{TIER_NOTE}* A tier marked as stated was copied from an imported public record rather than derived.\n")

    out.append("## Quality dimensions\n")
    out.append(f"Four LOW / MEDIUM / HIGH signals. *{DIMENSIONS_NOTE}*\n")
    for rule in rules.DIMENSIONS:
        out.append(f"### {md_inline(rule.label)}\n")
        out.append(md_inline(rule.question) + "\n")
        out.append(_table([("HIGH", md_inline(rule.high)), ("MEDIUM", md_inline(rule.medium)), ("LOW", md_inline(rule.low))],
                          ("Rating", "Rule")) + "\n")

    out.append("## Claims\n")
    out.append(f"A claim is **source-grounded** when it was extracted from a parsed section of the target paper "
               f"(claim record source: {md_inline(rules.CLAIM_RECORD_SOURCE)}). It is **verified** when the claim verifier "
               "labelled an independent retrieved source SUPPORT. The coverage-stance and stance-lr verifiers also say when a source "
               "contradicts a claim (shown as \"contradicted by\" that source), which never counts as verified; the "
               "kernel's TF-IDF rule and claim coverage only measure shared words, so their \"verified\" can include "
               "a source that says the opposite. Records at public provenance L3 give claim "
               "counts and a confidence summary; individual claims are public only at L4, and a record page lists every "
               "claim its record's files hold.\n")
    out += _verifier_section(evaluation, in_use or {})

    out.append("## Corrections and status\n")
    out.append("A published record is never edited. Corrections are separate, numbered files "
               "(`corrections/0001.json`, ...), each carrying the SHA-256 of the entry before it, so a changed, "
               "missing or reordered entry is detected. A record's status and values are the result of replaying "
               f"its corrections in order. *{CORRECTIONS_NOTE}*\n")
    lines = ["| Type | Allowed when the status is | Status after | Changes fields | Meaning |", "|---|---|---|---|---|"]
    for t in corr.UPDATE_TYPES:
        # The type's label, and its name as `sovereign-publish correct --type` takes it.
        lines.append(f"| {labelled(t.name)} ({md_code(t.name)}) | {', '.join(labelled(s) for s in t.allowed_from)} | "
                     f"{labelled(t.leads_to) if t.leads_to else 'unchanged'} | "
                     f"{'yes' if t.changes_fields else 'no'} | {md_inline(t.meaning)} |")
    out.append("\n".join(lines) + "\n")
    out.append(f"Terminal statuses: {', '.join(labelled(s) for s in corr.STATUSES if s in corr.TERMINAL)}. "
               + md_inline(f"Fields that can never be corrected: {', '.join(corr.FROZEN_FIELDS)}.") + "\n")
    out.append(f"A record whose status is not {labelled(corr.CURRENT)} shows a banner at the top of its page.\n")

    out.append("## Manifests\n")
    out.append(f"Each record has a manifest ({md_inline(rules.MANIFEST_CONTRACT)}), a provenance record "
               f"({md_inline(rules.PROVENANCE_CONTRACT)}) and zero or more corrections ({md_inline(rules.CORRECTION_CONTRACT)}). "
               f"The [schemas]({SCHEMAS_PAGE}) describe every field. Each record page links its files; "
               f"`folded.json` gives the values with corrections applied.\n")

    out.append("## Evidence links\n")
    out.append("Sources are linked to arxiv.org with their version (`v1`, `v2`, ...), because a later version can say "
               "something else. The SHA-256 next to a source is the digest of the RFC 8785 form of the arXiv metadata "
               "record the synthesis was built from; the report artifact's digest is over its bytes.\n")

    out.append("## Checkpoint\n")
    out.append(f"Every publication event (a record published, a correction appended) is one line of the publication log "
               f"{html_link(LOG_FILE, '../' + LOG_FILE)}, in the order it was published. The "
               f"{html_link('checkpoint', '../' + CHECKPOINT_FILE)} is a C2SP tlog-checkpoint signed note over an RFC 6962 "
               "Merkle tree of those lines (leaf hash `SHA-256(0x00 || line)`, node hash `SHA-256(0x01 || left || right)`), "
               "signed with the registry's Ed25519 key, and names the SHA-256 of "
               f"{html_link(SITE_MANIFEST_FILE, '../' + SITE_MANIFEST_FILE)}, which lists the digest of every other file of "
               f"the site. {html_link(HISTORY_FILE, '../' + HISTORY_FILE)} keeps every checkpoint this site has served with "
               "the consistency proof from each to the next: adding records or corrections only appends leaves, so a "
               "checkpoint you saved stays provable against every later one. Each record's `proofs.json` holds the "
               "inclusion proof of each of its entries. `sovereign-publish verify SITE --key KEY --since SAVED` checks all "
               "of it.\n")
    return "\n".join(out)


def schemas_page(schema_files: list[tuple[str, dict]]) -> str:
    out = ["# Schemas\n",
           "The JSON Schemas (draft 2020-12) every published file is validated against. Each is served at its `$id`.\n"]
    lines = ["| Contract | Schema | Describes |", "|---|---|---|"]
    for name, schema in schema_files:
        lines.append(f"| {md_inline(schema.get('title'))} | [{md_inline(name)}](schemas/{name}) | {md_inline(schema.get('description'))} |")
    out.append("\n".join(lines) + "\n")
    return "\n".join(out)
