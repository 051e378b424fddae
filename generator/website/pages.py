"""The Markdown of the generated pages: one per record, the records index, the quality guide, the schemas page.

Plain Markdown (tables, admonitions, a little raw HTML we write ourselves) so the pages survive a move
to another static-site generator. Every value that comes from a record goes through
``generator.website.escape``; the labels, explanatory sentences and links are ours.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from generator.records import corrections as corr
from generator.records import rules
from generator.records.layout import (CHECKPOINT_FILE, FEED_FILE, FOLDED_FILE, HISTORY_FILE, INDEX_JSON, LOG_FILE, PROOFS_FILE,
                                      SITE_MANIFEST_FILE, entry_file, folder_name, published_files)
from generator.records.corrections import FoldedRecord
from generator.website.escape import (front_matter_title, html, html_blocks, html_link, html_text, json_for_script, md_code,
                                      md_inline, md_link, strip_bidi)

SITE_URL = "https://sovereign-publish.github.io/registry/"
QUALITY_GUIDE_PAGE = "quality-guide.md"
SCHEMAS_PAGE = "schemas.md"
RECORDS_DIR = "records"

# The explanatory sentences under each table of a public record page (examples/seeds/004_*.txt).
VERIFICATION_NOTE = ("Descriptive public verification status only; aggregate claim counts are public, "
                     "but individual claim records are not exposed here.")
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


def _or(value, missing: str = "Not recorded") -> str:
    return missing if value is None or value == "" or value == [] else value


def _date(stamp: str | None) -> str:
    return (stamp or "")[:10]


@dataclass
class RecordView:
    """One record as the site shows it: the files as published plus the folded (corrected) view."""

    folder_name: str  # SRCH-XXXXXXXX
    manifest: dict
    provenance: dict
    corrections: list[dict]
    folded: FoldedRecord

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


def record_view(manifest: dict, provenance: dict, corrections: list[dict]) -> RecordView:
    return RecordView(folder_name(manifest["record_id"]), manifest, provenance, corrections,
                      corr.fold(manifest, corrections))


def _table(rows: list[tuple[str, str]], header: tuple[str, str] = ("Field", "Value")) -> str:
    """A two-column table; cells must already be escaped Markdown."""
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in rows]
    return "\n".join(lines)


def _level(value: dict) -> str:
    return md_inline(f"{value.get('level')}, {value.get('label')}")


def _json_text(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _json_value(value) -> str:
    return md_inline(_json_text(value))


def _html_list(items: list[str]) -> str:
    """A raw HTML list of items that are already HTML (see ``html_blocks`` for why raw HTML)."""
    return "<ul>\n" + "\n".join(f"<li>{item}</li>" for item in items) + "\n</ul>"


def banner(view: RecordView) -> str:
    """The admonition at the top of a record whose status is not CURRENT ('' when it is CURRENT)."""
    status = view.folded.status
    if status == corr.CURRENT or status not in BANNERS:
        return ""
    kind, title, meaning = BANNERS[status]
    if status == corr.CORRECTED:
        latest = next(e for e in reversed(view.corrections) if e["status_after"] == corr.CORRECTED)
        date, reason = _date(latest["at"]), latest["reason"]
    else:
        date, reason = _date(view.folded.status_changed_at), view.folded.status_reason
    # The title holds only our words and a date; the reason is escaped text in the body.
    return (f'!!! {kind} "{title.format(date=md_inline(date))}"\n\n'
            f"    **Status: {status}.** {meaning}\n\n"
            f"    **Reason:** {md_inline(reason)}\n")


def json_ld(view: RecordView) -> dict:
    """schema.org ScholarlyArticle for the record (kept small: no full correction values)."""
    values = view.values
    target = values.get("target_paper", {})
    data = {
        "@context": "https://schema.org",
        "@type": "ScholarlyArticle",
        "identifier": view.record_id,
        "name": values.get("title"),
        "abstract": target.get("abstract"),
        "url": view.url,
        "about": {
            "@type": "ScholarlyArticle",
            "identifier": f"arXiv:{target.get('arxiv_id')}{target.get('version') or ''}",
            "name": target.get("title"),
            "url": arxiv_url(target.get("arxiv_id"), target.get("version")),
        },
        "publisher": {"@type": "Organization", "name": values.get("publisher")},
        "datePublished": view.manifest["dates"]["recorded"],
        "creativeWorkStatus": view.folded.status,
        "isBasedOn": f"{view.url}manifest.json",
    }
    if view.corrections:
        data["dateModified"] = view.corrections[-1]["at"]
        data["correction"] = [
            {"@type": "CorrectionComment", "name": f"{entry['sequence']:04d} {entry['type']}",
             "text": entry["reason"], "datePublished": entry["at"],
             "url": f"{view.url}{entry_file(entry['sequence'])}"}
            for entry in view.corrections
        ]
    return data


def _sentence(parts: list[str]) -> str:
    return " ".join(p for p in parts if p)


def record_page(view: RecordView) -> str:
    """The Markdown page of one record: the sections of a public record page (seed 004), in its order.

    The 004 sections are tables with 004's row labels; the supplementary sections (review, claims,
    files, correction log) are short paragraphs. Python-Markdown's cost grows with the number of
    text elements (every table cell is one), which dominates a 10,000-record build. The long texts
    (abstract, research question, uncertainties, corrected values) are raw HTML blocks, which
    Python-Markdown passes through whole (``escape.html_blocks``). Each value from a record is
    escaped on its own, so a bidi control in it cannot reorder our words around it.
    """
    values, prov, folded = view.values, view.provenance, view.folded
    target = values.get("target_paper", {})
    verification = values.get("verification", {})
    tier = values.get("quality_tier", {})
    dims = values.get("quality_dimensions", {})
    review = values.get("review", {})
    policy = values.get("policy", {})
    report = prov.get("report_artifact") or {}
    external = prov.get("external_record") or {}
    dates = view.manifest["dates"]
    # Material's search would parse every record page's HTML (the biggest cost of a large build, and a
    # search index of 100 MB at 10,000 records); the build adds one small entry per record instead.
    out: list[str] = ["---", front_matter_title(values.get("title")), "search:", "  exclude: true", "---", ""]
    out.append(f"# {md_inline(values.get('title'))}\n")
    if banner_text := banner(view):
        out.append(banner_text)

    target_url = arxiv_url(target.get("arxiv_id"), target.get("version"))
    target_label = f"arXiv:{target.get('arxiv_id')}{target.get('version') or ''}"
    target_link = md_link(target_label, target_url) if target_url else md_inline(target_label)
    # The page names its record in an attribute `verify` checks, so a page served at another record's URL is caught.
    record_id = html(view.record_id)
    out.append(f"Record <span data-record-id=\"{record_id}\">{record_id}</span>, recorded {md_inline(dates['recorded'])}"
               + (f", drafted {md_inline(dates['drafted'])}" if dates.get("drafted") else "") + ".  \n"
               f"Target paper: {md_inline(target.get('title'))} ({target_link}), by "
               f"{', '.join(md_inline(name) for name in target.get('authors') or []) or 'authors not recorded'}.\n")

    out.append("## Abstract\n")
    out.append(html_blocks(target.get("abstract") or "No abstract recorded.") + "\n")
    out.append("*The abstract of the target paper, as given by its arXiv record.*\n")

    out.append("## Research Question\n")
    out.append(html_blocks(values.get("research_question")) + "\n")

    out.append("## Verification Level\n")
    out.append(_table([
        ("Paper level", _level(verification)),
        ("Source-grounded claims", md_inline(verification.get("source_grounded_claims"))),
        ("Claim record source", md_inline(verification.get("claim_record_source"))),
    ]) + "\n")
    out.append(f"*{VERIFICATION_NOTE}*\n")

    out.append("## Quality Tier\n")
    out.append(_table([("Tier", md_inline(tier.get("tier"))), ("Basis", md_inline(tier.get("basis")))]) + "\n")
    out.append(f"*{TIER_NOTE}*\n")

    out.append("## Quality Dimensions\n")
    out.append(_table([(rule.label, md_inline((dims.get(rule.key) or {}).get("rating"))) for rule in rules.DIMENSIONS],
                      ("Dimension", "Rating")) + "\n")
    out.append(f"*{DIMENSIONS_NOTE}*\n")

    out.append("## Correction Record\n")
    out.append(_table([
        ("Status", f"**{md_inline(folded.status)}**"),
        ("Correction count", str(folded.correction_count)),
        ("Manifest contract", md_inline(values.get("contract"))),
        ("Correction contract", md_inline((values.get("contracts") or {}).get("correction"))),
    ]) + "\n")
    out.append(f"*{CORRECTIONS_NOTE}*\n")

    report_cell = md_inline(report.get("availability"))
    if report.get("path"):
        report_cell += f" ({html_link(report['path'], report['path'], download=True)})"
    if report.get("note"):
        report_cell += " " + md_inline(report["note"])
    external_cell = md_inline(external.get("status"))
    if external.get("doi") and re.fullmatch(r"10\.\d{4,9}/[A-Za-z0-9._;()/:-]+", external["doi"]):
        external_cell += f" ({md_inline('doi:' + external['doi'])})"
    out.append("## Provenance\n")
    out.append(_table([
        ("Publisher", md_inline(values.get("publisher"))),
        ("Public provenance", _level(prov.get("public_provenance") or {})),
        ("Report artifact", report_cell),
        ("External record", external_cell),
        ("Claim lineage", md_inline((prov.get("claim_lineage") or {}).get("summary"))),
        ("Review method", md_inline(review.get("method"))),
        ("Quality guide", f"[{rules.QUALITY_GUIDE_TITLE}](../{QUALITY_GUIDE_PAGE})"),
        ("Provenance contract", md_inline(prov.get("contract"))),
        ("Note", md_inline(values.get("note"))),
    ]) + "\n")

    score = review.get("score")
    roles = ", ".join(review.get("roles") or [])
    out.append("## Review\n")
    out.append(md_inline(_sentence([
        f"Review score {score} / 10, verdict {_or(review.get('verdict'))}, revision round {_or(review.get('revision_round'))}."
        if score is not None else "No review score is recorded.",
        f"Reviewer roles: {roles}." if roles else "",
        f"Policy decision: {_or(policy.get('decision'))}.",
    ])) + (f" Policy basis: {md_inline(policy['basis'])}" if policy.get("basis") else "") + "\n")

    claims = prov.get("claims") or {}
    confidence = claims.get("confidence")
    out.append("## Claims\n")
    out.append(md_inline(_sentence([
        f"{_or(claims.get('extracted'))} extracted, {_or(claims.get('source_grounded'))} source-grounded, "
        f"{_or(claims.get('verified'))} verified against an independent source.",
        f"Confidence min / median / max: {confidence['min']} / {confidence['median']} / {confidence['max']}." if confidence else "",
    ])) + "\n")
    if prov.get("uncertainties"):
        out.append("Uncertainties stated by the synthesis:\n")
        out.append(_html_list([html_text(u) for u in prov["uncertainties"]]) + "\n")

    out.append("## Sources\n")
    if prov.get("sources"):
        lines = ["| arXiv | Role | Title | Metadata SHA-256 |", "|---|---|---|---|"]
        for source in prov["sources"]:
            label = f"{source.get('arxiv_id')}{source.get('version') or ''}"
            url = arxiv_url(source.get("arxiv_id"), source.get("version"))
            link = md_link(label, url) if url else md_inline(label)
            lines.append(f"| {link} | {md_inline(source.get('role'))} | {md_inline(_or(source.get('title')))} | "
                         f"{md_code(source.get('sha256')) if source.get('sha256') else 'Not recorded'} |")
        out.append("\n".join(lines) + "\n")
    else:
        out.append("No source is identified.\n")

    out.append("## Files\n")
    # The record's files are copied into the site after MkDocs (see build.py), so these links are raw
    # HTML relative to the page's URL, records/<folder>/, where the files are.
    names = [*published_files(view.manifest, view.corrections), FOLDED_FILE, PROOFS_FILE]
    # Links to a record's files download them: they are data, never pages of the site (see the schema's
    # allow-list of artifact extensions, which keeps HTML and SVG out in the first place).
    links = [html_link(name, name, download=True) for name in names]
    out.append(" · ".join(links) + "\n")
    out.append(f"*The manifest, provenance record and corrections exactly as published; `folded.json` holds the "
               f"current values with every correction applied, `proofs.json` the inclusion proof of each in the site's signed "
               f"{html_link('checkpoint', '../../' + CHECKPOINT_FILE)}.*\n")
    if view.manifest.get("truncations"):
        out.append("Truncated in the imported text and restored: " + "; ".join(
            f"{md_inline(t.get('field'))} (from {md_inline(_or(t.get('restored_from'), 'nowhere'))})"
            for t in view.manifest["truncations"]) + ".\n")

    out.append("## Correction log\n")
    if not view.corrections:
        out.append("No corrections. The record is as published.\n")
    for entry in reversed(view.corrections):  # newest first
        out.append(f"### {entry['sequence']:04d} {md_inline(entry['type'])} ({md_inline(_date(entry['at']))})\n")
        out.append(f"Sequence {md_inline(entry['sequence'])}, {md_inline(entry['type'])}, {md_inline(entry['at'])}, "
                   f"stated by {md_inline(entry['by'])}. "
                   f"Status {md_inline(entry['status_before'])} → {md_inline(entry['status_after'])}.  \n"
                   + "Reason: " + md_inline(entry["reason"]) + "\n")
        if entry.get("changes"):
            out.append("Changed fields (old → new):\n")
            out.append(_html_list([f"<code>{html_text(c['field'])}</code>: {html_text(_json_text(c['old']))} → "
                                   f"{html_text(_json_text(c['new']))}" for c in entry["changes"]]) + "\n")

    out.append(f'<script type="application/ld+json">{json_for_script(json_ld(view))}</script>\n')
    return "\n".join(out)


def search_entry(view: RecordView) -> dict:
    """The record's entry in Material's search index: title, id, status, tier and research question.

    Material renders these strings as HTML, so they are HTML-escaped, and it builds the result's
    elements itself, so bidi controls are removed (``strip_bidi``) rather than isolated.
    """
    values = view.values
    text = (f"{view.record_id} {view.record_id.split(':')[-1]} · {view.folded.status} · "
            f"{(values.get('quality_tier') or {}).get('tier')}. {values.get('research_question')}")
    return {"location": f"{RECORDS_DIR}/{view.folder_name}/", "title": html(strip_bidi(values.get("title"))),
            "text": html(strip_bidi(text))}


# ---------------------------------------------------------------------------------------------------
# Records index


def index_row(view: RecordView) -> dict:
    """One record's line in records/index.json and in the index table.

    Titles lose their bidi controls (``strip_bidi``): a listing must show what a title says, and an
    override would make "evil" read "live" there. The record's page and files keep them, isolated.
    """
    values = view.values
    return {
        "record_id": view.record_id,
        "title": strip_bidi(values.get("title")),
        "short_title": strip_bidi(values.get("short_title")),
        "level": (values.get("verification") or {}).get("level"),
        "tier": (values.get("quality_tier") or {}).get("tier"),
        "status": view.folded.status,
        "review_score": (values.get("review") or {}).get("score"),
        "recorded": view.manifest["dates"]["recorded"],
        "correction_count": view.folded.correction_count,
        "page": view.url,
        "files": f"{RECORDS_DIR}/{view.folder_name}/",
    }


def _options(values: list[str]) -> str:
    return "".join(f'<option value="{v}">{v}</option>' for v in values)


INDEX_PAGE_SIZE = 500  # rows per static index page: 10,000 rows in one page is 250,000 DOM nodes and seconds of layout


def index_page_name(number: int) -> str:
    """Index page ``number`` (from 1), relative to the records folder: index.md, page-2.md, ..."""
    return "index.md" if number == 1 else f"page-{number}.md"


def _pager(number: int, count: int) -> str:
    if count == 1:
        return ""
    links = [f"**{k}**" if k == number else f"[{k}]({index_page_name(k)})" for k in range(1, count + 1)]
    newer = f"[Newer]({index_page_name(number - 1)})" if number > 1 else "Newer"
    older = f"[Older]({index_page_name(number + 1)})" if number < count else "Older"
    return f"Pages: {newer} · {' '.join(links)} · {older}\n"


def records_index_pages(rows: list[dict], page_size: int = INDEX_PAGE_SIZE) -> list[tuple[str, str]]:
    """The records index as (file name in the records folder, Markdown), ``page_size`` rows a page, newest first.

    Every record is linked from exactly one static page, so the registry is browsable and crawlable
    without JavaScript; records-index.js searches and filters all records through index.json.
    """
    chunks = [rows[i:i + page_size] for i in range(0, len(rows), page_size)] or [[]]
    return [(index_page_name(number), _records_index_page(chunk, number, len(chunks), (number - 1) * page_size, len(rows)))
            for number, chunk in enumerate(chunks, start=1)]


def _records_index_page(rows: list[dict], number: int, count: int, offset: int, total: int) -> str:
    # Raw HTML is not rewritten by MkDocs, so the script gets URLs relative to this page's own URL:
    # records/ for page 1, records/page-N/ for the others (directory URLs).
    to_records = "" if number == 1 else "../"
    shown = f" This page shows {offset + 1}-{offset + len(rows)}, newest first." if count > 1 else " Newest first."
    # The table needs the page's whole width. Search skips these pages: every record has its own search
    # entry, and an index page would be one entry matching every title (a third of the index's text).
    out = ["---\nhide:\n  - navigation\n  - toc\nsearch:\n  exclude: true\n---\n",
           "# Records index" + (f", page {number} of {count}" if number > 1 else "") + "\n",
           f"{total} records.{shown} Also as JSON: [index.json]({INDEX_JSON}); "
           f"corrections as an Atom feed: [corrections.xml](../{FEED_FILE}).\n",
           # Our own markup with fixed option values (the rule tables' names) and numbers; no record text in it.
           f'<div class="sp-filter" id="sp-records-filter" data-total="{total}" data-index="{to_records}{INDEX_JSON}" '
           f'data-records="{to_records}">'
           '<label>Search <input type="search" id="sp-records-search" placeholder="Words from the title or id" autocomplete="off"></label> '
           f'<label>Tier <select id="sp-records-tier"><option value="">All tiers</option>{_options([t.name for t in rules.TIERS])}</select></label> '
           f'<label>Status <select id="sp-records-status"><option value="">All statuses</option>{_options(list(corr.STATUSES))}</select></label> '
           '<output id="sp-records-count" aria-live="polite"></output></div>\n',
           _pager(number, count),
           "| Record | Title | Level | Tier | Status | Score | Recorded |",
           "|---|---|---|---|---|---|---|"]
    for row in rows:
        folder = folder_name(row["record_id"])
        score = "" if row["review_score"] is None else md_inline(row["review_score"])
        status = md_inline(row["status"])
        out.append(f"| [{md_inline(row['record_id'])}]({folder}.md) | {md_inline(row['title'])} | {md_inline(row['level'])} | "
                   f"{md_inline(row['tier'])} | {status if row['status'] == corr.CURRENT else '**' + status + '**'} | {score} | "
                   f"{md_inline(_date(row['recorded']))} |")
    if not rows:
        out.append("| | No records yet. | | | | | |")
    if count > 1:
        out.append("\n" + _pager(number, count))
    return "\n".join(out) + "\n"


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
    definitions = evaluation.get("definitions") or {}
    out.append(md_inline(
        f"Measured on {evaluation.get('dataset')} ({evaluation.get('split')} split) on {evaluation.get('evaluated_at')}. "
        f"Positive: {_or(definitions.get('positive_class'))}.") + "\n")
    lines = ["| Verifier | Records using it | Precision | Recall | F1 | Cross-validated F1 | Pairs | Threshold |",
             "|---|---|---|---|---|---|---|---|"]
    for v in evaluation.get("verifiers", []):
        settings = v.get("settings") or {}
        lines.append("| " + " | ".join(md_inline(_or(x, "n/a")) for x in (
            v.get("name"), in_use.get(v.get("name"), 0), v.get("precision"), v.get("recall"), v.get("f1"),
            v.get("cross_validated_f1"), v.get("pairs"), settings.get("threshold"))) + " |")
    for name, b in sorted((evaluation.get("baselines") or {}).items()):
        lines.append("| " + " | ".join(md_inline(x) for x in (f"baseline: {name}", "", b.get("precision"), b.get("recall"), b.get("f1"), "n/a", "", "")) + " |")
    out.append("\n".join(lines) + "\n")
    unmeasured = sorted(set(in_use) - {v.get("name") for v in evaluation.get("verifiers", [])})
    if unmeasured:
        out.append(md_inline(f"Not measured, yet used by records on this site: {', '.join(unmeasured)}.") + "\n")
    for key, label in (("precision_recall_f1", "Precision, recall and F1"), ("cross_validated_f1", "Cross-validated F1")):
        if definitions.get(key):
            out.append(f"*{label}:* {md_inline(definitions[key])}.\n")
    for v in evaluation.get("verifiers", []):
        out.append(f"Settings of {md_code(v.get('name'))}:\n")
        out.append("\n".join(f"- {md_inline(k)}: {_json_value(val)}" for k, val in sorted((v.get("settings") or {}).items())) + "\n")
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
        ("REJECT", md_inline(f"score < {rules.REJECT_BELOW}")),
        ("REVISE", md_inline(f"{rules.REJECT_BELOW} ≤ score < {rules.REVISION_THRESHOLD} (a revision round is run below {rules.REVISION_THRESHOLD})")),
        ("ACCEPT", md_inline(f"score ≥ {rules.REVISION_THRESHOLD}")),
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
               "found support for it in an independent retrieved source. Records at public provenance L3 give claim "
               "counts and a confidence summary; individual claims are public only at L4.\n")
    out += _verifier_section(evaluation, in_use or {})

    out.append("## Corrections and status\n")
    out.append("A published record is never edited. Corrections are separate, numbered files "
               "(`corrections/0001.json`, ...), each carrying the SHA-256 of the entry before it, so a changed, "
               "missing or reordered entry is detected. A record's status and values are the result of replaying "
               f"its corrections in order. *{CORRECTIONS_NOTE}*\n")
    lines = ["| Type | Allowed when the status is | Status after | Changes fields | Meaning |", "|---|---|---|---|---|"]
    for t in corr.UPDATE_TYPES:
        lines.append(f"| {md_inline(t.name)} | {md_inline(', '.join(t.allowed_from))} | {md_inline(t.leads_to or 'unchanged')} | "
                     f"{'yes' if t.changes_fields else 'no'} | {md_inline(t.meaning)} |")
    out.append("\n".join(lines) + "\n")
    out.append(md_inline(f"Terminal statuses: {', '.join(s for s in corr.STATUSES if s in corr.TERMINAL)}. "
                         f"Fields that can never be corrected: {', '.join(corr.FROZEN_FIELDS)}.") + "\n")
    out.append("A record whose status is not CURRENT shows a banner at the top of its page.\n")

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
