"""A record's page as ready-made HTML: the sections of a public record page (seed 004), in its order.

MkDocs Material still wraps every record page in its template (header, search, theme, tabs), but
Python-Markdown never parses it: ``record_document`` writes the page file as front matter plus this
HTML, and the build's MkDocs hook (``mkdocs_hooks.py``) hands the HTML and its table of contents to
MkDocs as the page's content. On a 10,000-record build Python-Markdown was most of the MkDocs time.

So every value here is escaped for HTML (``generator.escape``'s ``html``/``html_text``/``html_link``),
and every link is the final URL relative to the page's own URL, ``records/SRCH-XXXXXXXX/`` (MkDocs
neither rewrites nor checks these links; the LinkChecker test does). Each value from a record is
escaped on its own, so a bidi control in it cannot reorder our words around it. Statuses, verdicts
and policy decisions show as labels ("Under concern"), their token kept as the value of ``<data>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from generator.escape import html, html_blocks, html_link, html_text, json_for_script, page_title
from generator.records import corrections as corr
from generator.records import citation, registration, rules
from generator.records.layout import CHECKPOINT_FILE, FOLDED_FILE, PROOFS_FILE, entry_file, folder_name, published_files
from generator.records.publisher import Publisher
from generator.website import citing, signposting
from generator.website.pages import (BANNERS, CLAIM_LEVEL_NOTE, CORRECTIONS_NOTE, DIMENSIONS_NOTE, NO_CLAIMS_NOTE,
                                     HTML_PAGE_KEY, PROVENANCE_NOTES, QUALITY_GUIDE_PAGE, TIER_NOTE, ClaimTable, RecordView, _date, _or, json_text,
                                     arxiv_url, html_page, label, labelled)

# The front-matter key holding the page's Signposting ``<link>`` elements, which the hook puts in its head.
HEAD_KEY = "sovereign_head"
# The hand-written pages are one level up from a record page's URL (records/SRCH-X/ -> ../../).
SITE_ROOT = "../../"
_DOI = re.compile(r"10\.\d{4,9}/[A-Za-z0-9._;()/:-]+")


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    title: str  # HTML (escaped text)


def record_document(view: RecordView, publisher: Publisher = Publisher()) -> str:
    """The page file MkDocs reads: front matter on one line of JSON (valid YAML too, and read without
    YAML by ``mkdocs_hooks``), then the HTML body (``record_html``).

    Material's search would parse every record page (the biggest cost of a large build, and a search
    index of 100 MB at 10,000 records); the build adds one small entry per record instead. Record
    pages are not in the nav, so its sidebar would be an empty column: hidden, the claims table gets the room.
    The Signposting links for the page's head are in the front matter (``HEAD_KEY``, a JSON string, which
    is a YAML double-quoted scalar), so the page file is all a rendered page depends on (the page cache's key).
    """
    meta = {"title": page_title(view.values.get("title")), "hide": ["navigation"], "search": {"exclude": True},
            HEAD_KEY: signposting.head_html(view, publisher)}
    return html_page(meta, record_html(view, publisher))


def record_html(view: RecordView, publisher: Publisher = Publisher()) -> str:
    """The body of one record's page, as HTML; ``publisher`` is the configured identity (``extra.publisher``)."""
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

    out: list[str] = [f'<h1 id="record">{html_text(values.get("title"))}</h1>']
    if banner_html := banner(view):
        out.append(banner_html)

    target_url = arxiv_url(target.get("arxiv_id"), target.get("version"))
    target_label = f"arXiv:{target.get('arxiv_id')}{target.get('version') or ''}"
    authors = ", ".join(html_text(name) for name in target.get("authors") or []) or "authors not recorded"
    # The page names its record in an attribute `verify` checks, so a page served at another record's URL is caught.
    record_id = html(view.record_id)
    out.append(f'<p>Record <span data-record-id="{record_id}">{record_id}</span>, recorded {html_text(dates["recorded"])}'
               + (f", drafted {html_text(dates['drafted'])}" if dates.get("drafted") else "") + ".<br />\n"
               f"Target paper: {html_text(target.get('title'))} ({html_link(target_label, target_url or '')}), "
               f"by {authors}.</p>")
    if links := version_links(view):
        out.append(links)

    out.append(_h2("abstract", "Abstract"))
    out.append(html_blocks(target.get("abstract") or "No abstract recorded."))
    out.append(_note("The abstract of the target paper, as given by its arXiv record."))

    out.append(_h2("research-question", "Research Question"))
    out.append(html_blocks(values.get("research_question")))

    out.append(_h2("verification-level", "Verification Level"))
    out.append(_table([
        ("Paper level", _level(verification)),
        ("Source-grounded claims", html_text(verification.get("source_grounded_claims"))),
        ("Claim record source", html_text(verification.get("claim_record_source"))),
    ]))
    level = (prov.get("public_provenance") or {}).get("level")
    note = PROVENANCE_NOTES.get(level, NO_CLAIMS_NOTE)
    if level == "L4":
        note += " They are listed under Claims below." if view.claims else " They are in the record's report (see Claims below)."
    out.append(_note(note))

    out.append(_h2("quality-tier", "Quality Tier"))
    out.append(_table([("Tier", html_text(tier.get("tier"))), ("Basis", html_text(tier.get("basis")))]))
    out.append(_note(TIER_NOTE))

    out.append(_h2("quality-dimensions", "Quality Dimensions"))
    out.append(_table([(rule.label, html_text((dims.get(rule.key) or {}).get("rating"))) for rule in rules.DIMENSIONS],
                      ("Dimension", "Rating")))
    out.append(_note(DIMENSIONS_NOTE))

    out.append(_h2("correction-record", "Correction Record"))
    out.append(_table([
        ("Status", f"<strong>{labelled(folded.status)}</strong>"),
        ("Correction count", str(folded.correction_count)),
        ("Manifest contract", html_text(values.get("contract"))),
        ("Correction contract", html_text((values.get("contracts") or {}).get("correction"))),
    ]))
    out.append(_note(CORRECTIONS_NOTE))

    report_cell = html_text(_or(report.get("availability")))
    if report.get("path"):
        report_cell += f" ({html_link(report['path'], report['path'], download=True)})"
    if report.get("note"):  # its own sentence: "Available. Stated as available by the imported public record; ..."
        report_cell += ". " + html_text(report["note"])
    external_cell = _external_record(external, registration.latest_registration(view.corrections))
    out.append(_h2("provenance", "Provenance"))
    out.append(_table([
        ("Publisher", html_text(values.get("publisher"))),
        ("Public provenance", _level(prov.get("public_provenance") or {})),
        ("Report artifact", report_cell),
        ("External record", external_cell),
        ("Claim lineage", html_text((prov.get("claim_lineage") or {}).get("summary"))),
        ("Review method", html_text(review.get("method"))),
        ("Quality guide", html_link(rules.QUALITY_GUIDE_TITLE, SITE_ROOT + _page_url(QUALITY_GUIDE_PAGE))),
        ("Provenance contract", html_text(prov.get("contract"))),
        ("Note", html_text(values.get("note"))),
    ]))

    out.append(_h2("review", "Review"))
    out.append(f"<p>{_review_sentence(review, policy)}</p>")

    out += _claims_section(view)
    if prov.get("uncertainties"):
        out.append("<p>Uncertainties stated by the synthesis:</p>")
        out.append(_list([html_text(u) for u in prov["uncertainties"]]))

    out.append(_h2("sources", "Sources"))
    if prov.get("sources"):
        rows = []
        for source in prov["sources"]:
            versioned = f"{source.get('arxiv_id')}{source.get('version') or ''}"
            link = html_link(versioned, arxiv_url(source.get("arxiv_id"), source.get("version")) or "")
            digest = f"<code>{html_text(source['sha256'])}</code>" if source.get("sha256") else "Not recorded"
            rows.append([link, html_text(source.get("role")), html_text(_or(source.get("title"))), digest])
        out.append(_grid(["arXiv", "Role", "Title", "Metadata SHA-256"], rows))
    else:
        out.append("<p>No source is identified.</p>")

    out += cite_section(view, publisher)

    out.append(_h2("files", "Files"))
    # The record's files are copied into the site after MkDocs (see build.py), next to this page's URL.
    # Links to them download them: they are data, never pages of the site (the schema's allow-list of
    # artifact extensions keeps HTML and SVG out in the first place).
    names = [*published_files(view.manifest, view.corrections), FOLDED_FILE, PROOFS_FILE]
    out.append("<p>" + " · ".join(html_link(name, name, download=True) for name in names) + "</p>")
    out.append(_note("The manifest, provenance record and corrections exactly as published; <code>folded.json</code> holds "
                     "the current values with every correction applied, <code>proofs.json</code> the inclusion proof of "
                     f"each in the site's signed {html_link('checkpoint', SITE_ROOT + CHECKPOINT_FILE)}.", raw=True))
    if view.manifest.get("truncations"):
        out.append("<p>Truncated in the imported text and restored: " + "; ".join(
            f"{html_text(t.get('field'))} (from {html_text(_or(t.get('restored_from'), 'nowhere'))})"
            for t in view.manifest["truncations"]) + ".</p>")

    out.append(_h2("correction-log", "Correction log"))
    if not view.corrections:
        out.append("<p>No corrections. The record is as published.</p>")
    for entry in reversed(view.corrections):  # newest first
        kind = html_text(label(entry["type"]))
        out.append(f'<h3 id="correction-{entry["sequence"]:04d}">{entry["sequence"]:04d} {kind} '
                   f"({html_text(_date(entry['at']))})</h3>")
        out.append(f"<p>Sequence {html_text(entry['sequence'])}, {kind}, {html_text(entry['at'])}, "
                   f"stated by {html_text(entry['by'])}. "
                   f"Status {html_text(label(entry['status_before']))} → {html_text(label(entry['status_after']))}.<br />\n"
                   f"Reason: {html_text(entry['reason'])}</p>")
        if entry.get("evidence"):
            out.append(f"<p>{_evidence(entry['evidence'])}</p>")
        if entry.get("changes"):
            out.append("<p>Changed fields (old → new):</p>")
            out.append(_list([f"<code>{html_text(c['field'])}</code>: {html_text(json_text(c['old']))} → "
                              f"{html_text(json_text(c['new']))}" for c in entry["changes"]]))

    out.append(f'<script type="application/ld+json">{json_for_script(json_ld(view, publisher))}</script>')
    return "\n".join(out) + "\n"


_HEADING = re.compile(r'<h([1-3]) id="([a-z0-9-]+)">(.*?)</h\1>')


def headings(body: str) -> list[Heading]:
    """The headings of a ``record_html`` body, in order (the page's table of contents)."""
    return [Heading(int(level), anchor, title) for level, anchor, title in _HEADING.findall(body)]


def toc_tokens(body: str) -> list[dict]:
    """The table of contents as Python-Markdown's toc extension hands it to MkDocs: nested by level."""
    roots: list[dict] = []
    stack: list[dict] = []
    for heading in headings(body):
        token = {"level": heading.level, "id": heading.id, "name": heading.title, "children": []}
        while stack and stack[-1]["level"] >= heading.level:
            stack.pop()
        (stack[-1]["children"] if stack else roots).append(token)
        stack.append(token)
    return roots


# ---------------------------------------------------------------------------------------------------


def _page_url(page: str) -> str:
    """A hand-written page's URL (MkDocs' directory URLs): quality-guide.md -> quality-guide/."""
    return page.removesuffix(".md") + "/"


def _h2(anchor: str, title: str) -> str:
    return f'<h2 id="{anchor}">{title}</h2>'


def _note(text: str, *, raw: bool = False) -> str:
    """The explanatory sentence in italics under a section; ``raw`` when ``text`` is already our HTML."""
    return f"<p><em>{text if raw else html_text(text)}</em></p>"


def _list(items: list[str]) -> str:
    """A list of items that are already HTML."""
    return "<ul>\n" + "\n".join(f"<li>{item}</li>" for item in items) + "\n</ul>"


def _grid(head: list[str], rows: list[list[str]], *, table_id: str | None = None) -> str:
    """A table; header cells are our words, body cells already HTML."""
    attribute = f' id="{table_id}"' if table_id else ""
    return (f"<table{attribute}>\n<thead>\n<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>\n</thead>\n<tbody>\n"
            + "\n".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
            + "\n</tbody>\n</table>")


def _table(rows: list[tuple[str, str]], header: tuple[str, str] = ("Field", "Value")) -> str:
    """A two-column table of our labels and escaped values."""
    return _grid(list(header), [[name, value] for name, value in rows])


def _level(value: dict) -> str:
    return html_text(f"{value.get('level')}, {value.get('label')}")


def _sentence(parts: list[str]) -> str:
    return " ".join(p for p in parts if p)


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
    concerns = open_concerns(view.corrections) if status == corr.UNDER_CONCERN else []
    if len(concerns) > 1:  # each finding (e.g. about two cited sources) has its own reason
        reasons = [f"<strong>Reason ({html_text(_date(e['at']))}):</strong> {html_text(e['reason'])}" for e in concerns]
    else:
        reasons = [f"<strong>Reason:</strong> {html_text(reason)}"]
    return _admonition(kind, title.format(date=html_text(date)),
                       [f"<strong>Status: {labelled(status)}.</strong> {meaning}", *reasons])


def open_concerns(corrections: list[dict]) -> list[dict]:
    """The expressions of concern since the record's status last became UNDER_CONCERN, oldest first."""
    concerns: list[dict] = []
    for entry in corrections:
        if entry["status_after"] != corr.UNDER_CONCERN:
            concerns = []
        elif entry["type"] == "expression_of_concern":
            concerns.append(entry)
    return concerns


def _admonition(kind: str, title: str, paragraphs: list[str]) -> str:
    """A box in the markup of Python-Markdown's admonition extension, which Material styles; title and
    paragraphs are already HTML."""
    return (f'<div class="admonition {kind}">\n<p class="admonition-title">{title}</p>\n'
            + "".join(f"<p>{paragraph}</p>\n" for paragraph in paragraphs) + "</div>")


def version_links(view: RecordView) -> str:
    """Links to the record's previous and newer versions (DataCite IsNewVersionOf / IsPreviousVersionOf);
    a newer version is announced as Crossmark does, at the top of the page. '' for a record with neither."""
    out = []
    if view.newer_version:
        link = html_link(view.newer_version, f"../{folder_name(view.newer_version)}/")
        out.append(_admonition("info", "A newer version of this record exists",
                               [f"{link} is a later run of the same research question about the same paper. "
                                "This record stays as it was published."]))
    if view.previous_version:
        link = html_link(view.previous_version, f"../{folder_name(view.previous_version)}/")
        out.append(f"<p>This record is a new version of {link}.</p>")
    return "\n".join(out)


def _evidence(evidence: dict) -> str:
    """A finding about a cited source (check-sources): which source, what was found, and where to see it."""
    what = ("is marked withdrawn on arXiv" if evidence.get("kind") == "withdrawn"
            else f"has a Crossref update notice ({label(evidence.get('kind'))})")
    doi = f" (DOI {html_text(evidence['doi'])})" if evidence.get("doi") else ""
    return (f"Evidence: cited source {html_text(evidence.get('source'))}{doi} {html_text(what)}: "
            f"{html_link(evidence.get('url'), evidence.get('url') or '')}.")


def _external_record(external: dict, registered: registration.Registration | None) -> str:
    """The provenance's registration as published, unless the log registered a DOI since (the newest wins)."""
    if registered is None:
        cell = html_text(external.get("status"))
        if external.get("doi") and _DOI.fullmatch(external["doi"]):
            cell += f" ({html_text('doi:' + external['doi'])})"
        return cell
    cell = f"DOI {html_link(registered.doi, registered.url)}, registered with {html_text(registered.registrar)}"
    cell += f" ({html_link('deposited files', registered.deposition)}; logged as correction {registered.sequence:04d})"
    if registered.is_test:
        cell += ". A test DOI from the Zenodo Sandbox: it does not resolve and does not identify this record"
    return cell


def _review_sentence(review: dict, policy: dict) -> str:
    score = review.get("score")
    roles = ", ".join(review.get("roles") or [])
    if score is not None:
        revision = review.get("revision_round")
        review_text = (f"Review score {html_text(score)} / 10, verdict {labelled(review.get('verdict'))}"
                       + (f", revision round {html_text(revision)}." if revision is not None
                          else ". The revision round is not recorded."))
    else:
        review_text = "No review score is recorded."
    return _sentence([
        review_text,
        f"Reviewer roles: {html_text(roles)}." if roles else "",
        f"Policy decision: {labelled(policy.get('decision'))}.",
    ]) + (f" Policy basis: {html_text(policy['basis'])}" if policy.get("basis") else "")


def cite_section(view: RecordView, publisher: Publisher) -> list[str]:
    """"Cite this": the reference as text, and the citation files to download (written by the build under cite/)."""
    c = citing.citable(view, publisher)
    files = " · ".join(html_link(fmt.label, citing.cite_path(fmt), download=True) for fmt in citation.FORMATS)
    # In code, as the text to copy: a retracted record's reference starts with the COPE prefix "RETRACTED: ".
    out = [_h2("cite-this", "Cite this"), f"<p><code>{html_text(citation.plain_text(c))}</code></p>", f"<p>Download: {files}</p>"]
    what = ("Cite the DOI." if view.doi else "Cite the page's address: this record has no DOI yet.")
    if c.status in citation.TITLE_PREFIXES:
        what += " The citation says that the record was " + label(c.status).lower() + ", with the reason."
    out.append(_note(what + " Each file is made from the values above, corrections applied."))
    return out


def json_ld(view: RecordView, publisher: Publisher = Publisher()) -> dict:
    """schema.org ScholarlyArticle for the record (kept small: no full correction values), with the DOI,
    the publisher's ROR id, the creators' ORCID iDs and the licence when they are known."""
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
        "publisher": _organisation(values.get("publisher"), publisher.ror_for(values.get("publisher"))),
        "datePublished": view.manifest["dates"]["recorded"],
        "creativeWorkStatus": view.folded.status,
        "isBasedOn": f"{view.url}manifest.json",
    }
    if view.doi:
        data["identifier"] = [view.record_id, {"@type": "PropertyValue", "propertyID": "DOI", "value": view.doi,
                                               "url": citation.doi_url(view.doi)}]
        data["sameAs"] = citation.doi_url(view.doi)
    if publisher.creators:
        data["author"] = [_person(person) for person in publisher.creators]
    if publisher.license:
        data["license"] = publisher.license.url
    if view.corrections:
        data["dateModified"] = view.corrections[-1]["at"]
        data["correction"] = [
            {"@type": "CorrectionComment", "name": f"{entry['sequence']:04d} {entry['type']}",
             "text": entry["reason"], "datePublished": entry["at"],
             "url": f"{view.url}{entry_file(entry['sequence'])}"}
            for entry in view.corrections
        ]
    return data


def _organisation(name, ror: str | None) -> dict:
    out = {"@type": "Organization", "name": name}
    if ror:
        out.update({"@id": ror, "identifier": ror})
    return out


def _person(person) -> dict:
    out = {"@type": "Person", "name": f"{person.given} {person.family}".strip(), "familyName": person.family}
    if person.given:
        out["givenName"] = person.given
    if person.orcid:
        out.update({"@id": person.orcid, "identifier": person.orcid})
    return out


# ---------------------------------------------------------------------------------------------------
# Claims


def _claim_counts(claims: dict) -> str:
    """The aggregate sentence: what was counted, then what was not ("Not recorded extracted" never)."""
    counted, missing = [], []
    for key, words in (("extracted", "extracted"), ("source_grounded", "source-grounded"),
                       ("verified", "verified against an independent source")):
        value = claims.get(key)
        if value is None:
            missing.append(f"how many {'claims ' if not missing else ''}were {words}")
        else:
            counted.append(f"{value} {words}")
    out = [f"Claims: {', '.join(counted)}." if counted else ""]
    confidence = claims.get("confidence")
    if confidence:
        out.append(f"Confidence min / median / max: {confidence['min']} / {confidence['median']} / {confidence['max']}.")
    if missing:
        out.append(f"Not recorded: {' and '.join(missing)}.")
    return html_text(_sentence(out))


def _arxiv_link(versioned: str | None) -> str:
    if not versioned:
        return "none"
    match = re.fullmatch(r"(.+?)(v\d+)?", versioned)
    return html_link(versioned, arxiv_url(match[1], match[2]) or "")


def claims_table_html(table: ClaimTable) -> str:
    """Every claim as one table row: the claim, and what the report says of its evidence."""
    if table.has_evidence:
        head = ["#", "Claim", "Source section", "Verified", "Best independent source", "Score", "Confidence"]
    else:
        head = ["#", "Claim", "Verified", "Confidence"]
    rows = []
    for number, row in enumerate(table.rows, start=1):
        claim = html_text(row.text) + (" <em>(withdrawn from the synthesis in revision)</em>" if row.withdrawn else "")
        verified = "Yes" if row.verified else "No"
        if row.contradicted_by:
            verified += f"; contradicted by {_arxiv_link(row.contradicted_by)}"
        cells = [str(number), claim]
        if table.has_evidence:
            cells += [html_text(row.section), verified, _arxiv_link(row.source),
                      "" if row.score is None else f"{row.score:.4f}", f"{row.confidence:.2f}"]
        else:
            cells += [verified, f"{row.confidence:.2f}"]
        rows.append(cells)
    return _grid(head, rows, table_id="sp-claims")


def _claims_section(view: RecordView) -> list[str]:
    """The claim counts, then every claim (from the report: ``claim_table``), or a plain sentence saying why none."""
    prov = view.provenance
    claims = prov.get("claims") or {}
    report = (prov.get("report_artifact") or {}).get("path")
    origin = (view.manifest.get("origin") or {}).get("format")
    out = [_h2("claims", "Claims"), f"<p>{_claim_counts(claims)}</p>"]
    table = view.claims
    if table is not None and not table.rows:
        out.append("<p>No claim was extracted, so there is no claim to list.</p>")
    elif table is not None:
        link = html_link(table.file, table.file, download=True)
        if table.has_evidence:
            threshold = f" at or above {table.threshold:g}" if table.threshold is not None else ""
            out.append(f"<p>Every claim, as the pipeline recorded it in its report ({link}): the section of the target paper "
                       f"it was extracted from, whether an independent retrieved source supported it (a score{threshold}), "
                       "the best such source and its score, and the claim's published confidence.</p>")
        else:
            out.append(f"<p>Every claim, as the draft lists it ({link}): whether it was verified and its confidence. The draft "
                       "does not record the section each claim came from, the source that verified it, or a verification "
                       "score.</p>")
        out.append(claims_table_html(table))
        cut = sum(1 for row in table.rows if len(row.text) == 120) if not table.has_evidence else 0
        if cut:
            out.append(_note(f"{cut} of these claims stop at exactly 120 characters and may have been cut short in the draft."))
    elif view.claims_problem:
        out.append(f"<p>{html_text(view.claims_problem)}</p>")
    elif origin == "public-record-page":
        out.append("<p>This record lists no individual claims: the public record page it was imported from gives only the "
                   "number of source-grounded claims, and its report is not in this repository.</p>")
    elif report:
        out.append(f"<p>The individual claims are not shown on this page; they are listed in the record's report, "
                   f"{html_link(report, report, download=True)}.</p>")
    else:
        out.append("<p>This record lists no individual claims.</p>")
    return out


__all__ = ["CLAIM_LEVEL_NOTE", "HEAD_KEY", "HTML_PAGE_KEY", "Heading", "banner", "cite_section", "claims_table_html", "headings", "json_ld",
           "record_document", "record_html", "toc_tokens"]
