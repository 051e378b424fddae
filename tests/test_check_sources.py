"""`check-sources`: a cited paper withdrawn on arXiv or retracted at Crossref puts the record under concern, once."""

from __future__ import annotations

import re
from urllib.parse import unquote

import httpx
import pytest
import respx
from click.testing import CliRunner

from arxiv_standin import render_feed
from conftest import copy_records
from generator.cli import cli
from generator.corpus import Paper
from generator.pipeline.retry import RetryPolicy
from generator.pipeline.search import ArxivApiSearch
from generator.records.corrections import load_folded
from generator.registries.crossref import CrossrefClient, CrossrefError
from generator.registries.sources import check_sources
from generator.website.pages import record_view
from generator.website.record_page import banner

RECORD = "SRCH-7AEAE763"  # target 2604.23996v1, cites 1803.07724v1 and 2407.04255v1
RECORD_ID = "SRCH:7AEAE763"
ARXIV_API = "https://export.arxiv.org/api/query"
FAST = RetryPolicy(max_retries=1, backoff_base=0.0, backoff_max=0.0)
WITHDRAWN_COMMENT = "This paper has been withdrawn by the authors due to an error in Table 2"
SOURCE_DOI = "10.1234/journal.5"
NOTICE_DOI = "10.1234/retraction.9"


def arxiv_entry(arxiv_id: str, version: str, comment: str | None = None, doi: str | None = None) -> tuple[Paper, str]:
    paper = Paper.from_record({"id": f"{arxiv_id}{version}", "title": f"Paper {arxiv_id}", "authors": ["A. Author"],
                               "abstract": "An abstract.", "categories": ["cs.LG"], "published": "2020-01-01"})
    extra = (f"<arxiv:comment>{comment}</arxiv:comment>" if comment else "") + (f"<arxiv:doi>{doi}</arxiv:doi>" if doi else "")
    return paper, extra


def arxiv_answer(*entries: tuple[Paper, str]) -> httpx.Response:
    feed = render_feed([p for p, _ in entries], total=len(entries)).decode()
    for paper, extra in entries:  # the comment and journal DOI arXiv adds to an entry
        feed = re.sub(rf"(<id>http://arxiv.org/abs/{re.escape(paper.versioned_id)}</id>.*?)</entry>", rf"\g<1>{extra}</entry>", feed, count=1, flags=re.S)
    return httpx.Response(200, headers={"Content-Type": "application/atom+xml"}, content=feed.encode())


def crossref_work(doi: str, updated_by: list[dict]) -> httpx.Response:
    return httpx.Response(200, json={"status": "ok", "message-type": "work", "message": {"DOI": doi, "updated-by": updated_by}})


RETRACTION = [{"DOI": NOTICE_DOI, "type": "retraction", "label": "Retraction", "source": "publisher",
               "updated": {"date-time": "2026-10-01T00:00:00Z"}}]


@pytest.fixture
def records(tmp_path, later_epoch):
    return copy_records(tmp_path / "records", RECORD)


@pytest.fixture
def services(tmp_path):
    """arXiv and Crossref answering as ``answers`` say: arXiv ids -> entry, DOI -> Crossref response."""
    answers = {"arxiv": {}, "crossref": {}}
    with respx.mock(assert_all_called=False) as router:
        def arxiv_route(request):
            ids = request.url.params.get("id_list", "").split(",")
            return arxiv_answer(*[answers["arxiv"][i] for i in ids if i in answers["arxiv"]])

        def crossref_route(request):
            doi = unquote(request.url.raw_path.decode().split("/works/", 1)[1])
            return answers["crossref"].get(doi) or httpx.Response(404, text="Resource not found.")

        answers["arxiv_calls"] = router.get(url__startswith=ARXIV_API).mock(side_effect=arxiv_route)
        answers["crossref_calls"] = router.get(url__regex=r"^https://api\.crossref\.org/works/").mock(side_effect=crossref_route)
        yield answers


def clean(answers) -> None:
    answers["arxiv"].update({"2604.23996": arxiv_entry("2604.23996", "v1"), "1803.07724": arxiv_entry("1803.07724", "v1"),
                             "2407.04255": arxiv_entry("2407.04255", "v1")})


def live_check(records, tmp_path, *ids):
    arxiv = ArxivApiSearch(delay_seconds=0.0, timeout=5.0, retry=FAST, cache_path=None)
    crossref = CrossrefClient(delay=0.0, timeout=5.0, retry=FAST, cache_dir=tmp_path / "crossref", sleep=lambda s: None)
    try:
        return check_sources(records, list(ids) or [RECORD_ID], arxiv=arxiv, crossref=crossref)
    finally:
        arxiv.close()
        crossref.close()


def test_a_withdrawn_arxiv_source_and_a_retracted_doi_source_append_one_concern_each_and_the_banner_shows_both(records, tmp_path, services):
    clean(services)
    services["arxiv"]["1803.07724"] = arxiv_entry("1803.07724", "v3", comment=WITHDRAWN_COMMENT)
    services["arxiv"]["2407.04255"] = arxiv_entry("2407.04255", "v2", doi=SOURCE_DOI)
    services["crossref"][SOURCE_DOI] = crossref_work(SOURCE_DOI, RETRACTION)

    checks = live_check(records, tmp_path)

    folded = load_folded(records / RECORD)
    assert folded.status == "UNDER_CONCERN"
    assert [(e["type"], e["evidence"]) for e in folded.log] == [
        ("expression_of_concern", {"source": "arXiv:1803.07724v1", "kind": "withdrawn", "url": "https://arxiv.org/abs/1803.07724v3"}),
        ("expression_of_concern", {"source": "arXiv:2407.04255v1", "kind": "retraction", "url": f"https://doi.org/{NOTICE_DOI}",
                                   "doi": SOURCE_DOI}),
    ]
    assert WITHDRAWN_COMMENT in folded.log[0]["reason"]
    assert [c.line().split("  ")[1:] for c in checks][0] == ["arXiv:2604.23996v1", "clean (arXiv: not withdrawn; no journal DOI to ask Crossref about)"]
    view = record_view(folded.manifest, {}, folded.log)
    shown = banner(view)
    assert "Expression of concern since 2026-11-22" in shown
    assert "arXiv marks 1803.07724v3 withdrawn" in shown and f"Crossref lists a retraction notice for its DOI {SOURCE_DOI}" in shown


def test_the_built_site_shows_the_concerns_in_the_banner_and_verifies(records, tmp_path, services):
    from generator.website.build import build_site

    clean(services)
    services["arxiv"]["1803.07724"] = arxiv_entry("1803.07724", "v3", comment=WITHDRAWN_COMMENT)
    services["arxiv"]["2407.04255"] = arxiv_entry("2407.04255", "v2", doi=SOURCE_DOI)
    services["crossref"][SOURCE_DOI] = crossref_work(SOURCE_DOI, RETRACTION)
    live_check(records, tmp_path)

    build_site(records, tmp_path / "site", work_dir=tmp_path / "build")
    page = (tmp_path / "site" / "records" / RECORD / "index.html").read_text()
    top = page[page.index('<div class="admonition warning">'):]
    top = top[:top.index("</div>")]
    assert "Expression of concern since 2026-11-22" in top
    assert top.count("<strong>Reason (2026-11-22):</strong>") == 2 and "1803.07724v3 withdrawn" in top and NOTICE_DOI in top
    assert f'<a href="https://doi.org/{NOTICE_DOI}">https://doi.org/{NOTICE_DOI}</a>' in page  # the evidence, in the log
    verified = CliRunner().invoke(cli, ["verify", str(tmp_path / "site")])
    assert verified.exit_code == 0, verified.output


def test_checking_twice_appends_nothing_the_second_time(records, tmp_path, services):
    clean(services)
    services["arxiv"]["1803.07724"] = arxiv_entry("1803.07724", "v3", comment=WITHDRAWN_COMMENT)
    live_check(records, tmp_path)
    log = (records / "log.jsonl").read_bytes()

    again = live_check(records, tmp_path)

    assert (records / "log.jsonl").read_bytes() == log
    assert "withdrawn (https://arxiv.org/abs/1803.07724v3): already logged" in again[1].line()


def test_clean_sources_append_nothing(records, tmp_path, services):
    clean(services)
    services["arxiv"]["2407.04255"] = arxiv_entry("2407.04255", "v2", comment="Accepted at a venue; 12 pages", doi=SOURCE_DOI)
    services["crossref"][SOURCE_DOI] = crossref_work(SOURCE_DOI, [])
    log = (records / "log.jsonl").read_bytes()

    checks = live_check(records, tmp_path)

    assert (records / "log.jsonl").read_bytes() == log and not (records / RECORD / "corrections").exists()
    assert [c.checked and c.findings == [] for c in checks] == [True, True, True]
    assert f"Crossref: no notice for DOI {SOURCE_DOI}" in checks[2].line()


def test_a_correction_notice_is_logged_as_an_editorial_note_not_a_concern(records, tmp_path, services):
    clean(services)
    services["arxiv"]["2407.04255"] = arxiv_entry("2407.04255", "v2", doi=SOURCE_DOI)
    services["crossref"][SOURCE_DOI] = crossref_work(SOURCE_DOI, [{"DOI": "10.1234/erratum.1", "type": "correction"}])

    live_check(records, tmp_path)

    folded = load_folded(records / RECORD)
    assert (folded.status, [e["type"] for e in folded.log]) == ("CURRENT", ["editorial_note"])
    assert folded.log[0]["evidence"]["kind"] == "correction"


def test_a_failing_lookup_appends_nothing_at_all(records, tmp_path, services):
    clean(services)
    services["arxiv"]["1803.07724"] = arxiv_entry("1803.07724", "v3", comment=WITHDRAWN_COMMENT)
    services["arxiv"]["2407.04255"] = arxiv_entry("2407.04255", "v2", doi=SOURCE_DOI)
    services["crossref"][SOURCE_DOI] = httpx.Response(503)
    log = (records / "log.jsonl").read_bytes()

    with pytest.raises(CrossrefError, match="HTTP 503 after 2 attempts"):
        live_check(records, tmp_path)
    assert (records / "log.jsonl").read_bytes() == log and not (records / RECORD / "corrections").exists()


def test_an_answer_that_is_not_the_work_asked_for_is_refused(tmp_path, services):
    services["crossref"][SOURCE_DOI] = crossref_work("10.9999/other", RETRACTION)
    client = CrossrefClient(delay=0.0, retry=FAST)
    with pytest.raises(CrossrefError, match="not the Crossref work asked for"):
        client.notices(SOURCE_DOI)


def test_crossref_answers_are_cached_for_a_day_only(tmp_path, services):
    services["crossref"][SOURCE_DOI] = crossref_work(SOURCE_DOI, RETRACTION)
    make = lambda age: CrossrefClient(delay=0.0, retry=FAST, cache_dir=tmp_path / "c", max_age=age)  # noqa: E731
    assert make(86400).notices(SOURCE_DOI)[0].kind == "retraction"
    assert make(86400).notices(SOURCE_DOI)[0].doi == NOTICE_DOI
    assert services["crossref_calls"].call_count == 1
    make(0).notices(SOURCE_DOI)
    assert services["crossref_calls"].call_count == 2


def test_offline_reports_every_source_not_checked_asks_nothing_and_exits_0(records, services, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check-sources", "--records", str(records)])

    assert result.exit_code == 0, result.output
    assert result.output.count("not checked (offline") == 3
    assert "3 source(s): 0 checked, 3 not checked; 0 finding(s), 0 appended." in result.output
    assert services["arxiv_calls"].call_count == 0 and services["crossref_calls"].call_count == 0
    assert not (records / RECORD / "corrections").exists()


def test_live_mode_is_chosen_as_for_run_and_the_cli_prints_each_finding(records, services, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    clean(services)
    services["arxiv"]["1803.07724"] = arxiv_entry("1803.07724", "v3", comment=WITHDRAWN_COMMENT)
    result = CliRunner().invoke(cli, ["check-sources", RECORD_ID, "--records", str(records), "--set", "search.backend=arxiv",
                                      "--set", "search.arxiv.delay_seconds=0"])

    assert result.exit_code == 0, result.output
    assert "arXiv:1803.07724v1  withdrawn (https://arxiv.org/abs/1803.07724v3): appended corrections/0001.json (expression_of_concern)" in result.output
    assert "3 source(s): 3 checked, 0 not checked; 1 finding(s), 1 appended." in result.output
