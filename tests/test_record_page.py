"""The page a reader needs: every claim on the record page, and words instead of tokens.

The site here is the shipped records plus a pipeline run ("How does soft modality-guided routing affect
expert specialization?" on 2604.23996, offline), with corrections appended: SRCH:170CA349 corrected,
SRCH:B45010EB retracted, SRCH:FB47BE9E under an expression of concern. Each record page reads its
record's report, which is where the individual claims are.

* A record page lists every claim its record's files hold, in a table: for a pipeline run the claim,
  the section it came from, whether it was verified, the best independent source, its score and the
  claim's confidence, exactly the run's claims and agreeing with the provenance's counts; for an
  imported draft the draft's own table (claim, verified, confidence), saying what the draft does not
  record; for an imported public record page, which lists none, a sentence that says so.
* The records index shows each record's verdict and score ("Not recorded" where there is none) and
  its status as a reader reads it ("Under concern"), in the static rows and in the rows the script
  builds from index.json. No page shows UNDER_CONCERN, ESCALATE_TO_OWNER or RETRACTED as text.
* Cells read as sentences ("Available. Stated as available by ..."), each record carries the note of
  its own provenance level, and the quality guide shows a regex as written and fits its verifier table
  in the page.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import lxml.html
import pytest

from conftest import REPO
from generator import escape
from generator.website import pages, record_page
from site_fixtures import BUILD_EPOCH, build_into, serve_site, source_date_epoch
from test_site_browser import browser  # noqa: F401 - fixture

QUESTION = "How does soft modality-guided routing affect expert specialization?"
TARGET = "2604.23996"
IMPORTED_DRAFT = "SRCH:7AEAE763"  # seed 000, as imported
CORRECTED = "SRCH:170CA349"  # seed 002, corrected here
RETRACTED = "SRCH:B45010EB"  # seed 001, retracted here
CONCERN = "SRCH:FB47BE9E"  # seed 003, under an expression of concern here
PUBLIC_PAGE = "SRCH:93BD3EF3"  # seed 004, imported from a public record page
RAW_TOKENS = ("UNDER_CONCERN", "ESCALATE_TO_OWNER", "RETRACTED")


@dataclass
class ReaderSite:
    site: Path
    records: Path
    run: object  # the pipeline's RunResult, with its claims

    def page(self, record_id: str) -> Path:
        return self.site / "records" / record_id.replace(":", "-") / "index.html"

    def doc(self, record_id: str):
        return lxml.html.fromstring(self.page(record_id).read_bytes())

    def provenance(self, record_id: str) -> dict:
        return json.loads((self.records / record_id.replace(":", "-") / "provenance.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reader_site(tmp_path_factory) -> ReaderSite:
    from generator.pipeline.config import PipelineConfig
    from generator.pipeline.run import run_pipeline
    from generator.records.corrections import append_correction

    base = tmp_path_factory.mktemp("reader")
    records = base / "records"
    shutil.copytree(REPO / "records", records)  # with its log.jsonl
    with source_date_epoch(BUILD_EPOCH):  # after the shipped records were recorded, and not in the future
        run = run_pipeline(QUESTION, TARGET, PipelineConfig(), records)
        append_correction(records, CORRECTED, "correction", "The policy basis was misquoted.", "Assignee Research",
                          [("/policy/basis", '"Stated in the draft\'s results section (corrected)."')])
        append_correction(records, RETRACTED, "retraction", "The benchmarks it names are not in the paper.", "Assignee Research", [])
        append_correction(records, CONCERN, "expression_of_concern", "The throughput figures are being checked.", "Assignee Research", [])
    built = build_into(base, records)
    return ReaderSite(built.site, records, run)


def _text(el) -> str:
    return " ".join(el.text_content().split())


def _rows(doc) -> dict[str, str]:
    return {_text(tr.xpath("./td")[0]): _text(tr.xpath("./td")[1]) for tr in doc.xpath("//article//table//tr[td]")
            if len(tr.xpath("./td")) == 2}


def _claims_table(doc) -> tuple[list[str], list[list[str]]]:
    [table] = doc.xpath("//article//table[@id='sp-claims']")
    return [_text(th) for th in table.xpath(".//th")], [[_text(td) for td in tr.xpath("./td")] for tr in table.xpath(".//tbody/tr")]


def _section(doc, heading: str) -> str:
    """The text of a section of a record page, from its h2 to the next."""
    h2 = doc.xpath("//article//h2[normalize-space()=$h]", h=heading)[0]
    out = []
    for sibling in h2.itersiblings():
        if sibling.tag == "h2":
            break
        out.append(_text(sibling))
    return " ".join(out)


# --- the claims on the record page -----------------------------------------------------------------


def test_the_claims_table_of_a_pipeline_record_is_the_claims_its_provenance_counts(reader_site):
    run, provenance = reader_site.run, reader_site.provenance(reader_site.run.record_id)
    head, rows = _claims_table(reader_site.doc(run.record_id))

    assert head == ["#", "Claim", "Source section", "Verified", "Best independent source", "Score", "Confidence"]
    assert rows == [[str(n), c.text, c.claim.location, "Yes" if c.verified else "No", c.best_source or "none",
                     f"{c.best_score:.4f}", f"{c.confidence:.2f}"] for n, c in enumerate(run.claims, start=1)]
    claims = provenance["claims"]
    confidences = [float(row[6]) for row in rows]
    assert len(rows) == claims["extracted"] == claims["source_grounded"] > 0
    assert sum(row[3] == "Yes" for row in rows) == claims["verified"]
    assert (min(confidences), max(confidences)) == (claims["confidence"]["min"], claims["confidence"]["max"])
    assert provenance["public_provenance"]["level"] == "L4"


def test_a_pipeline_claims_best_source_links_to_its_arxiv_version(reader_site):
    doc = reader_site.doc(reader_site.run.record_id)
    links = doc.xpath("//table[@id='sp-claims']//tbody/tr/td[5]/a")
    assert [a.get("href") for a in links] == [f"https://arxiv.org/abs/{c.best_source}" for c in reader_site.run.claims if c.best_source]


def _draft_claims(seed: str) -> list[list[str]]:
    """The claims table of a kernel draft, read here from the seed itself: claim, verified mark, confidence."""
    text = next((REPO / "examples" / "seeds").glob(f"{seed}_*.txt")).read_text(encoding="utf-8")
    section = text.split("\n5 Extracted Claims\n", 1)[1].split("\nReferences\n", 1)[0]
    lines = [line.split("\t") for line in section.splitlines() if line.strip()]
    assert lines[0] == ["Claim", "Verified", "Confidence"]
    return lines[1:]


@pytest.mark.parametrize("record_id, seed", [(IMPORTED_DRAFT, "000"), (CORRECTED, "002"), (RETRACTED, "001")])
def test_an_imported_draft_lists_the_claims_of_its_draft_and_says_what_the_draft_does_not_record(reader_site, record_id, seed):
    doc = reader_site.doc(record_id)
    head, rows = _claims_table(doc)

    assert head == ["#", "Claim", "Verified", "Confidence"]
    assert rows == [[str(n), claim, {"×": "No", "✓": "Yes"}[mark], confidence]
                    for n, (claim, mark, confidence) in enumerate(_draft_claims(seed), start=1)]
    assert len(rows) == reader_site.provenance(record_id)["claims"]["extracted"]
    claims = _section(doc, "Claims")
    assert ("The draft does not record the section each claim came from, the source that verified it, "
            "or a verification score.") in claims


def test_an_imported_public_record_page_says_plainly_that_it_lists_no_claims(reader_site):
    doc = reader_site.doc(PUBLIC_PAGE)
    assert not doc.xpath("//table[@id='sp-claims']")
    claims = _section(doc, "Claims")
    assert claims == ("Claims: 13 source-grounded. Not recorded: how many claims were extracted and how many were verified "
                      "against an independent source. This record lists no individual claims: the public record page it "
                      "was imported from gives only the number of source-grounded claims, and its report is not in this "
                      "repository.")


def _kernel_draft_report(claims: list[tuple[str, str, str]]) -> bytes:
    rows = "\n".join("\t".join(row) for row in claims)
    return f"SOVEREIGN: Q\n\n5 Extracted Claims\n\nClaim\tVerified\tConfidence\n{rows}\n\nReferences\n\n- <http://arxiv.org/abs/1>\n".encode()


def _pipeline_report(claims: list[tuple[str, bool, float]]) -> bytes:
    """A report.md claims section written the way generator.pipeline.report writes it (text through md_inline)."""
    table = "\n".join(f"| {escape.md_inline(text)} | {'✓' if ok else '×'} | {confidence:.2f} |" for text, ok, confidence in claims)
    evidence = "\n".join(
        f"{n}. abstract, sentence {n}; claim-rule-v1: result; extraction confidence 0.50; best independent source "
        f"{escape.md_code('2401.06066v1')} (score 0.2000, {'verified' if ok else 'not verified'}); nearest source by embedding "
        f"{escape.md_code('2401.06066v1')} (cosine 0.3000)." for n, (_, ok, _) in enumerate(claims, start=1))
    return (f"# SOVEREIGN: Q\n\n## 5 Extracted Claims\n\n| Claim | Verified | Confidence |\n| --- | --- | --- |\n{table}\n\n"
            f"Evidence per claim (extraction rule claim-rule-v1; verification tfidf-cosine against independent sources only, "
            f"threshold 0.15):\n\n{evidence}\n\n## References\n\n- <https://arxiv.org/abs/1>\n").encode()


HOSTILE_CLAIMS = ["<img src=x onerror=alert(1)> improves | pipes | too", "**not bold** [x](javascript:alert(2)) \\*kept\\*",
                  "\u202eevil claim", "1. not a list &amp; ~~~"]


@pytest.mark.parametrize("kind", ["kernel-draft", "pipeline-run"])
def test_claim_texts_from_a_report_are_text_never_markup(kind):
    from generator.digests import sha256_bytes

    if kind == "kernel-draft":
        report = _kernel_draft_report([(text, "✓" if i == 0 else "×", "0.50") for i, text in enumerate(HOSTILE_CLAIMS)])
    else:
        report = _pipeline_report([(text, i == 0, 0.5) for i, text in enumerate(HOSTILE_CLAIMS)])
    manifest = {"record_id": "SRCH:00000000", "origin": {"format": kind}, "dates": {"recorded": "2026-11-22T12:00:00Z"}}
    provenance = {"report_artifact": {"path": "report.txt", "sha256": sha256_bytes(report)},
                  "claims": {"extracted": 4, "source_grounded": 4, "verified": 1,
                             "confidence": {"min": 0.5, "max": 0.5, "mean": 0.5, "median": 0.5}}}
    view = pages.record_view(manifest, provenance, [], report=report)
    expected = [escape.clean(" ".join(t.split())) for t in HOSTILE_CLAIMS]  # a pipeline report holds them balanced already
    assert view.claims is not None and [escape.clean(r.text) for r in view.claims.rows] == expected

    doc = lxml.html.fragment_fromstring(record_page.record_html(view), create_parent="div")
    cells = [_text(tr.xpath("./td")[1]) for tr in doc.xpath("//table[@id='sp-claims']/tbody/tr")]
    assert cells == expected
    table = doc.xpath("//table[@id='sp-claims']")[0]
    assert not table.xpath(".//img | .//strong | .//a[starts-with(@href, 'javascript')]")
    assert [b.text_content() for b in table.xpath(".//td/bdi")] == ["\u202eevil claim\u202c"], "isolated, its override closed"


@pytest.mark.parametrize("against", ["2401.06066v1", '2401.06066v1"><img src=x onerror=alert(1)>'])
def test_a_contradicted_claim_names_the_contradicting_source_in_the_claims_table(against):
    from generator.digests import sha256_bytes
    from test_pipeline_report import contradicted_report

    report, checked = contradicted_report(against)
    manifest = {"record_id": "SRCH:00000000", "origin": {"format": "pipeline-run"}, "dates": {"recorded": "2026-11-22T12:00:00Z"}}
    confidences = [c.confidence for c in checked]
    provenance = {"report_artifact": {"path": "report.md", "sha256": sha256_bytes(report)},
                  "claims": {"extracted": 3, "source_grounded": 3, "verified": 1,
                             "confidence": {"min": min(confidences), "max": max(confidences), "mean": 0.5, "median": 0.5}}}
    view = pages.record_view(manifest, provenance, [], report=report)
    assert view.claims is not None and [r.contradicted_by for r in view.claims.rows] == [None, against, None]

    doc = lxml.html.fragment_fromstring(record_page.record_html(view), create_parent="div")
    verified = [tr.xpath("./td")[3] for tr in doc.xpath("//table[@id='sp-claims']/tbody/tr")]
    assert [_text(td) for td in verified] == ["Yes", f"No; contradicted by {against}", "No"]
    links = [a.get("href") for a in verified[1].xpath(".//a")]
    assert links == (["https://arxiv.org/abs/2401.06066v1"] if against == "2401.06066v1" else [])  # never an untrusted URL
    assert not doc.xpath("//table[@id='sp-claims']//img")


def test_a_report_that_disagrees_with_the_provenance_counts_is_not_shown_as_its_claims():
    from generator.digests import sha256_bytes

    report = _kernel_draft_report([("A claim", "×", "0.50")])
    manifest = {"record_id": "SRCH:00000000", "origin": {"format": "kernel-draft"}, "dates": {"recorded": "2026-11-22T12:00:00Z"}}
    provenance = {"report_artifact": {"path": "report.txt", "sha256": sha256_bytes(report)},
                  "claims": {"extracted": 2, "source_grounded": 2, "verified": 0, "confidence": None}}
    view = pages.record_view(manifest, provenance, [], report=report)
    assert view.claims is None and "does not agree with the claim counts" in view.claims_problem
    tampered = pages.record_view(manifest, {**provenance, "report_artifact": {"path": "report.txt", "sha256": "0" * 64}}, [],
                                 report=report)
    assert tampered.claims is None and "not the one the provenance record names" in tampered.claims_problem


def test_a_production_build_gives_record_pages_their_claims(tmp_path):
    from conftest import copy_records
    from generator.website.build import load_views

    records = copy_records(tmp_path / "records", "SRCH-7AEAE763")
    views, _, _ = load_views(records)
    assert views[0].claims is not None and len(views[0].claims.rows) == 8


# --- notes and cells ---------------------------------------------------------------------------------


def test_each_record_carries_the_note_of_its_own_provenance_level(reader_site):
    levels = {}
    for folder in sorted(p for p in reader_site.records.iterdir() if p.is_dir()):
        record_id = folder.name.replace("-", ":", 1)
        level = reader_site.provenance(record_id)["public_provenance"]["level"]
        levels[record_id] = level
        note = _section(reader_site.doc(record_id), "Verification Level")
        if level == "L3":
            assert pages.VERIFICATION_NOTE in note and "individual claim records are public" not in note, record_id
        else:
            assert level == "L4" and pages.VERIFICATION_NOTE not in note, record_id
            assert "individual claim records are public" in note and "They are listed under Claims below." in note
    assert levels[reader_site.run.record_id] == "L4" and levels[PUBLIC_PAGE] == levels[IMPORTED_DRAFT] == "L3"


def test_provenance_and_claim_cells_read_as_sentences(reader_site):
    doc = reader_site.doc(PUBLIC_PAGE)
    rows = _rows(doc)
    assert rows["Report artifact"] == ("Available. Stated as available by the imported public record; the report file is "
                                       "not in this repository.")
    claims = _section(doc, "Claims")
    assert "Not recorded extracted" not in claims and "Not recorded verified" not in claims
    assert _section(doc, "Review") == ("No review score is recorded. Policy decision: Not recorded. "
                                       "Policy basis: Not disclosed by the imported public record.")
    pipeline = reader_site.doc(reader_site.run.record_id)
    assert _rows(pipeline)["Report artifact"] == "Available (report.md)"
    assert _section(pipeline, "Review").startswith(f"Review score {reader_site.run.score} / 10, verdict Reject, revision round 0.")
    assert "Policy decision: Escalate to owner." in _section(pipeline, "Review")


def test_statuses_verdicts_and_decisions_are_labels_with_the_token_as_their_value(reader_site):
    doc = reader_site.doc(RETRACTED)
    assert _rows(doc)["Status"] == "Retracted"
    assert doc.xpath("//article//td/strong/data[@value='RETRACTED']/text()") == ["Retracted"]
    assert "Status: Retracted." in _text(doc.xpath("//article//div[contains(@class,'admonition')]")[0])
    assert _text(doc.xpath("//article//h3")[0]).startswith("0001 Retraction")
    assert "Status Current → Retracted." in _section(doc, "Correction log")
    review = reader_site.doc(reader_site.run.record_id).xpath("//article//data")
    assert [(d.get("value"), d.text) for d in review] == [("CURRENT", "Current"), ("REJECT", "Reject"),
                                                          ("ESCALATE_TO_OWNER", "Escalate to owner")]


# --- the records index -------------------------------------------------------------------------------


def _index(reader_site) -> list[dict]:
    return json.loads((reader_site.site / "records" / "index.json").read_text(encoding="utf-8"))["records"]


def _expected_cells(record: dict) -> list[str]:
    return [record["record_id"], record["title"], record["level"], record["tier"], pages.label(record["status"]),
            pages.label(record["verdict"]), pages.score_text(record["review_score"]), record["recorded"][:10]]


def test_index_json_rows_carry_verdict_and_labels(reader_site):
    rows = {r["record_id"]: r for r in _index(reader_site)}
    assert (rows[CONCERN]["status"], rows[CONCERN]["status_label"]) == ("UNDER_CONCERN", "Under concern")
    assert (rows[RETRACTED]["verdict"], rows[RETRACTED]["verdict_label"]) == ("REJECT", "Reject")
    assert (rows[PUBLIC_PAGE]["verdict"], rows[PUBLIC_PAGE]["verdict_label"], rows[PUBLIC_PAGE]["review_score"]) == (None, "Not recorded", None)


def test_index_rows_show_verdict_score_and_status_labels(reader_site):
    doc = lxml.html.fromstring((reader_site.site / "records" / "index.html").read_bytes())
    assert [_text(th) for th in doc.xpath("//article//table//th")] == [
        "Record", "Title", "Level", "Tier", "Status", "Verdict", "Score", "Recorded"]
    shown = [[_text(td) for td in tr.xpath("./td")] for tr in doc.xpath("//article//table//tbody/tr")]
    assert shown == [_expected_cells(r) for r in _index(reader_site)]
    by_id = {row[0]: row for row in shown}
    assert by_id[PUBLIC_PAGE][5:7] == ["Not recorded", "Not recorded"]
    assert by_id[CONCERN][4] == "Under concern" and by_id[RETRACTED][4] == "Retracted"
    options = doc.xpath("//select[@id='sp-records-status']/option")
    assert [(o.get("value"), o.text) for o in options][1:4] == [("CURRENT", "Current"), ("CORRECTED", "Corrected"),
                                                                ("UNDER_CONCERN", "Under concern")]


def _visible_text(path: Path) -> str:
    """The text a reader can see on a page: the body without scripts, styles and code (the hand-written
    pipeline documentation names the policy decisions in code, as the configuration values they are)."""
    doc = lxml.html.fromstring(path.read_bytes())
    for el in doc.xpath("//script | //style | //code | //template"):
        el.drop_tree()
    return " ".join(doc.xpath("//body")[0].text_content().split())


def test_no_raw_token_is_visible_text_on_any_page(reader_site):
    pages_seen = sorted(reader_site.site.rglob("*.html"))
    assert len(pages_seen) > 10
    for path in pages_seen:
        text = _visible_text(path)
        for token in RAW_TOKENS:
            assert token not in text, f"{path.relative_to(reader_site.site)} shows {token}"
    search = json.loads((reader_site.site / "search" / "search_index.json").read_text(encoding="utf-8"))
    entries = [d for d in search["docs"] if d["location"].startswith("records/SRCH-")]
    assert entries and not [d for d in entries for token in RAW_TOKENS if token in d["text"]], "search results show labels"
    assert any("Under concern" in d["text"] for d in entries)


# --- the quality guide -------------------------------------------------------------------------------


def test_the_quality_guide_shows_a_regex_as_written(reader_site):
    doc = lxml.html.fromstring((reader_site.site / "quality-guide" / "index.html").read_bytes())
    settings = [_text(li) for li in doc.xpath("//article//li[starts-with(normalize-space(), 'token_pattern:')]")]
    assert settings[0] == r"token_pattern: (?u)\b\w\w+\b"
    assert not [s for s in settings if "\\\\" in s or '"' in s]


# --- in Chromium -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reader_url(reader_site):
    with serve_site(reader_site.site) as url:
        yield url


@pytest.fixture
def page_1280(browser):
    from test_site_browser import Watched

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield Watched(page)
    context.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def _fits(locator) -> bool:
    """Whether an element ends inside the page's content column and scrolls nothing sideways."""
    return locator.evaluate("""el => {
        const article = el.closest('article').getBoundingClientRect();
        const wrap = el.closest('.md-typeset__scrollwrap') || el;
        return el.getBoundingClientRect().right <= article.right + 1 && wrap.scrollWidth <= wrap.clientWidth + 1;
    }""")


@pytest.mark.browser
def test_rows_the_script_builds_from_index_json_show_verdict_score_and_labels(page_1280, reader_url, reader_site):
    page = page_1280.goto(f"{reader_url}records/")
    page.fill("#sp-records-search", "SRCH")  # every record: the rows now come from index.json
    total = len(_index(reader_site))
    page.wait_for_function("t => document.querySelector('#sp-records-count').textContent === t", arg=f"{total} of {total} records")
    built = page.locator("article table tbody:not([hidden]) tr")
    assert built.count() == total
    cells = [[" ".join(td.split()) for td in row.locator("td").all_inner_texts()] for row in built.all()]
    assert cells == [_expected_cells(r) for r in _index(reader_site)]
    page.fill("#sp-records-search", "")
    page.select_option("#sp-records-status", "UNDER_CONCERN")  # the filter's value is the token ...
    page.wait_for_function("() => document.querySelector('#sp-records-count').textContent === '1 of ' + "
                           f"{total} + ' records'")
    row = page.locator("article table tbody:not([hidden]) tr")
    assert row.locator("td").nth(4).inner_text() == "Under concern"  # ... and what it shows is the label
    assert page.locator("#sp-records-status option:checked").inner_text() == "Under concern"
    page_1280.assert_clean()


@pytest.mark.browser
def test_the_verifier_table_of_the_quality_guide_fits_the_page_at_1280_px(page_1280, reader_url, screenshots):
    page = page_1280.goto(f"{reader_url}quality-guide/")
    table = page.locator("article table").filter(has_text="Records using it")
    table.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "quality-guide-verifier.png"))
    assert table.is_visible() and _fits(table)
    assert page.locator("article li").filter(has_text="token_pattern").first.inner_text() == r"token_pattern: (?u)\b\w\w+\b"
    page_1280.assert_clean()


KINDS = {"imported-draft": (IMPORTED_DRAFT, "Current"), "pipeline-run": (None, "Current"),
         "corrected": (CORRECTED, "Corrected"), "retracted": (RETRACTED, "Retracted")}


@pytest.mark.browser
@pytest.mark.parametrize("kind", list(KINDS))
def test_screenshot_of_a_record_page_shows_its_claims_table_and_labels(page_1280, reader_url, reader_site, screenshots, kind):
    record_id, status = KINDS[kind]
    record_id = record_id or reader_site.run.record_id
    page = page_1280.goto(f"{reader_url}records/{record_id.replace(':', '-')}/")
    page.screenshot(path=str(screenshots / f"{kind}.png"), full_page=True)
    claims = page.locator("#sp-claims")
    claims.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"{kind}-claims.png"))
    assert claims.is_visible() and _fits(claims)
    assert claims.locator("tbody tr").count() == reader_site.provenance(record_id)["claims"]["extracted"]
    status_cell = page.locator("article td").filter(has_text=re.compile(r"^Status$")).locator("xpath=following-sibling::td")
    assert status_cell.inner_text() == status and status_cell.is_visible()
    if kind == "retracted":
        assert page.locator("article .admonition.danger").get_by_text("Status: Retracted.").is_visible()
    page_1280.assert_clean()


# --- golden pages ------------------------------------------------------------------------------------

GOLDEN_PAGES = REPO / "tests" / "golden" / "pages"


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_of_record_page_matches_its_golden_html(reader_site, update_golden, kind):
    """The page file MkDocs receives for one record of each kind, with the publisher settings of the shipped
    mkdocs.yml as the build reads them (``--update-golden`` rewrites them; review the diff)."""
    from generator.records.publisher import load_publisher
    from generator.website.build import DEFAULT_CONFIG, load_views

    record_id = KINDS[kind][0] or reader_site.run.record_id
    [view] = [v for v in load_views(reader_site.records)[0] if v.record_id == record_id]
    produced = record_page.record_document(view, load_publisher(DEFAULT_CONFIG))
    golden = GOLDEN_PAGES / f"{kind}.md"
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(produced, encoding="utf-8")
    assert produced == golden.read_text(encoding="utf-8")


def test_a_record_pages_table_of_contents_nests_its_headings():
    body = ('<h1 id="record">T &amp; U</h1><h2 id="abstract">Abstract</h2><h2 id="correction-log">Correction log</h2>'
            '<h3 id="correction-0002">0002 Retraction</h3><h3 id="correction-0001">0001 Correction</h3>')
    [root] = record_page.toc_tokens(body)
    assert (root["level"], root["id"], root["name"]) == (1, "record", "T &amp; U")
    assert [c["id"] for c in root["children"]] == ["abstract", "correction-log"]
    assert [c["id"] for c in root["children"][1]["children"]] == ["correction-0002", "correction-0001"]
