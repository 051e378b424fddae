"""Claims from the target's full text: arXiv's HTML rendering, read bounded, politely, cached, failing closed.

Every HTTP answer here is constructed (respx); nothing touches the network.
"""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from generator.corpus import shipped_corpus
from generator.pipeline.config import config_from_dict
from generator.pipeline.fulltext import ArxivHtmlText, FullTextError, read_sections
from generator.pipeline.retry import RetryPolicy
from generator.pipeline.run import run_pipeline
from generator.records.validate import validate_tree

SMOES = shipped_corpus().get("2604.23996")
BASE = "https://html.test/html"
URL = f"{BASE}/2604.23996v1"
PAGE = """<!DOCTYPE html><html><head><title>SMoES</title><script>var x = "1. 99% faster";</script></head><body>
<h1 class="ltx_title ltx_title_document">SMoES</h1>
<div class="ltx_abstract"><h6 class="ltx_title ltx_title_abstract">Abstract</h6>
<p class="ltx_p">We propose SMoES for expert routing in vision-language models.</p></div>
<section class="ltx_section"><h2 class="ltx_title ltx_title_section"><span class="ltx_tag">2 </span>Related Work</h2>
<div class="ltx_para"><p class="ltx_p">Prior routers reduce communication by 80% on other models.</p></div></section>
<section class="ltx_section"><h2 class="ltx_title ltx_title_section"><span class="ltx_tag">4 </span>Experiments &amp; Results</h2>
<div class="ltx_para"><p class="ltx_p">SMoES reduces time to first token by 10.3% compared to top-2 routing with
<math alttext="k=2"><mi>k</mi></math> experts.</p>
<figure class="ltx_table"><p>Table junk: 77% better than everything.</p></figure></div></section>
<section class="ltx_bibliography"><h2 class="ltx_title">References</h2><p>[1] A. Author. 2024.</p></section>
</body></html>"""


def html(body: str = PAGE, status: int = 200, media: str = "text/html; charset=utf-8") -> httpx.Response:
    return httpx.Response(status, content=body.encode(), headers={"Content-Type": media})


class Clock:
    def __init__(self):
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def source(tmp_path=None, clock: Clock | None = None, **overrides) -> ArxivHtmlText:
    clock = clock or Clock()
    settings = dict(base_url=BASE, delay=3.0, timeout=2.0, retry=RetryPolicy(max_retries=1, backoff_base=0.0),
                    cache_dir=tmp_path, sleep=clock.sleep, clock=clock)
    settings.update(overrides)
    return ArxivHtmlText(**settings)


def test_sections_are_read_with_their_headings_and_without_related_work_figures_or_references():
    assert read_sections(PAGE) == (
        ("abstract", "We propose SMoES for expert routing in vision-language models."),
        ("4 Experiments Results", "SMoES reduces time to first token by 10.3% compared to top-2 routing with k=2 experts."),
    )


@respx.mock
def test_the_full_text_is_fetched_once_then_read_from_the_cache(tmp_path):
    route = respx.get(URL).mock(return_value=html())

    first = source(tmp_path).text_of(SMOES)
    second = source(tmp_path).text_of(SMOES)

    assert route.call_count == 1
    assert first == second and first.origin == "full text" and first.url == URL and first.note is None
    assert first.sections[1][0] == "4 Experiments Results"


@respx.mock
def test_requests_wait_for_the_rate_limit():
    respx.get(URL).mock(return_value=html())
    respx.get(f"{BASE}/2401.06066v1").mock(return_value=html())
    clock = Clock()
    text = source(clock=clock)

    text.text_of(SMOES)
    text.text_of(shipped_corpus().get("2401.06066"))

    assert clock.sleeps == [3.0]


@pytest.mark.parametrize("answer, why", [
    (html(status=404), "answered HTTP 404"),
    (html(media="application/pdf"), "answered with application/pdf, not HTML"),
    (html("<html><body><p>no sections</p></body></html>"), "has no text paragraphs under any section"),
    (httpx.Response(302, headers={"Location": "https://elsewhere.test/x"}), "redirecting to https://elsewhere.test"),
    (httpx.Response(503), "HTTP 503 after 2 attempts"),
])
@respx.mock
def test_a_page_that_cannot_be_used_falls_back_to_the_abstract_and_says_why(answer, why, tmp_path):
    respx.get(URL).mock(return_value=answer)

    text = source(tmp_path).text_of(SMOES)

    assert text.origin == "abstract" and text.sections == (("abstract", SMOES.abstract),)
    assert text.note.startswith(f"Claims were extracted from the abstract only: the full text at {URL} ")
    assert why in text.note
    assert list(tmp_path.iterdir()) == []  # nothing unusable is cached


@respx.mock
def test_a_body_over_the_cap_is_refused():
    respx.get(URL).mock(return_value=html())
    text = source(max_body_bytes=100).text_of(SMOES)
    assert text.origin == "abstract" and "more than the limit of 100 bytes" in text.note


@respx.mock
def test_with_on_failure_error_a_missing_page_stops_the_run():
    respx.get(URL).mock(return_value=html(status=404))
    with pytest.raises(FullTextError, match=r"full text at https://html.test/html/2604.23996v1 answered HTTP 404; "
                                            r"claims.full_text.on_failure is 'error'"):
        source(on_failure="error").text_of(SMOES)


def full_text_config(tmp_path, **extra):
    return config_from_dict({"claims": {"source": "full-text", "full_text": {
        "base_url": BASE, "delay_seconds": 0.0, "cache_path": str(tmp_path / "cache"), **extra}}})


@respx.mock
def test_a_run_extracts_claims_from_the_sections_of_the_full_text(tmp_path, fixed_epoch):
    respx.get(URL).mock(return_value=html())

    result = run_pipeline("Does SMoES reduce time to first token compared to top-2 routing?", "2604.23996",
                          full_text_config(tmp_path), tmp_path / "records")

    assert result.claims[0].claim.location == "4 Experiments Results, sentence 1"
    assert result.claims[0].text.startswith("SMoES reduces time to first token by 10.3%")
    assert all("Prior routers" not in c.text for c in result.claims)  # related work is not the paper's result
    report = (result.folder / "report.md").read_text(encoding="utf-8")
    assert f"full text ({URL}) by claim-rule-v2" in report
    provenance = json.loads((result.folder / "provenance.json").read_bytes())
    assert any(u.startswith("Claims were selected from the target paper's full text (2 sections")
               for u in provenance["uncertainties"])
    assert validate_tree(tmp_path / "records")[1] == []


@respx.mock
def test_a_run_whose_full_text_is_missing_states_the_fallback_in_the_record(tmp_path, fixed_epoch):
    respx.get(URL).mock(return_value=html(status=404))

    result = run_pipeline("Does SMoES reduce communication overhead?", "2604.23996", full_text_config(tmp_path),
                          tmp_path / "records")

    provenance = json.loads((result.folder / "provenance.json").read_bytes())
    assert f"Claims were extracted from the abstract only: the full text at {URL} answered HTTP 404." in provenance["uncertainties"]
    assert all(c.claim.section == "abstract" for c in result.claims)
