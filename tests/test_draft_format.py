"""The kernel draft format has one owner, ``generator.records.draft_format``: what the pipeline writes
through it reads back as the same data, and the shipped kernel drafts read as the kernel wrote them."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from conftest import SEEDS
from generator.corpus import shipped_corpus
from generator.pipeline.claims import CheckedClaim, extract_claims
from generator.pipeline.policy import PolicyFacts, decide
from generator.pipeline.report import ReportData, render_report
from generator.pipeline.tribunal import Draft, OfflineReviewer, run_tribunal
from generator.records import draft_format as fmt
from generator.records.compose import SourceRef

KERNEL_DRAFTS = [seed for seed in SEEDS if seed.read_text(encoding="utf-8").lstrip().startswith(fmt.TITLE_PREFIX)]


@pytest.mark.parametrize("results", [
    fmt.Results(10, 8, 0, 1.5, "REJECT", 0, "ESCALATE_TO_OWNER"),
    fmt.Results(0, 0, 0, 0.0, "REJECT", 0, "ESCALATE_TO_OWNER"),
    fmt.Results(1_000_000_000, 12, 12, 10.0, "ACCEPT", 3, "AUTO_PUBLISH"),
    fmt.Results(7, 3, 1, 6.5, "REVISE", 1, "HOLD"),
])
def test_results_sentence_round_trips(results):
    assert fmt.parse_results(fmt.format_results(results), "draft", 1) == results


@pytest.mark.parametrize("day", [date(2026, 5, 28), date(2026, 1, 1), date(1999, 12, 9)])
def test_date_line_round_trips(day):
    assert fmt.parse_date(fmt.format_date(day)) == day


def test_a_written_report_reads_back_as_the_same_draft():
    smoes = shipped_corpus().get("2604.23996")
    question = "Does SMoES reduce EP communication overhead?"
    claims = tuple(CheckedClaim(c, verified=i == 0, best_source="2401.06066v1", best_score=0.2, nearest_source=None,
                                nearest_similarity=0.0, support=1.0, confidence=c.confidence)
                   for i, c in enumerate(extract_claims([("abstract", smoes.abstract)])))
    tribunal = run_tribunal(Draft(question, smoes, claims, 10, 0.3, ("One uncertainty.",)), OfflineReviewer())
    policy = decide(PolicyFacts(tribunal.verdict, len(claims), 1))
    drafted = datetime(2026, 5, 28, tzinfo=timezone.utc)
    text = render_report(ReportData(
        question=question, target=smoes, drafted=drafted, methodology=("Method.",), queries=("q",), papers_retrieved=10,
        claims=claims, verifier="tfidf-cosine", threshold=0.15, tribunal=tribunal, policy=policy,
        uncertainties=("One uncertainty.",), references=(SourceRef(smoes.arxiv_id, smoes.version, "target", smoes),),
    )).decode("utf-8")

    preamble, sections = fmt.split_sections(fmt.lines(text), fmt.SECTIONS, "report.md", level=2)

    assert preamble[0].text == fmt.title(question, level=1)
    assert [fmt.parse_date(line.text) for line in preamble if fmt.parse_date(line.text)] == [drafted.date()]
    results = fmt.parse_results(" ".join(line.text for line in sections["3 Results"]), "report.md", None)
    assert results == fmt.Results(10, len(claims), 1, round(tribunal.score, 1), tribunal.verdict, tribunal.revision_round,
                                  policy.decision)
    header, _, *rows = [line.text for line in sections["5 Extracted Claims"] if line.text.startswith("|")]
    assert header == "| Claim | Verified | Confidence |"
    assert [row.split(" | ")[-2:] for row in rows] == [
        [fmt.verified_mark(c.verified), fmt.format_confidence(c.confidence) + " |"] for c in claims]


@pytest.mark.parametrize("seed", KERNEL_DRAFTS, ids=lambda p: p.name[:3])
def test_each_shipped_kernel_draft_reads_as_written(seed):
    text = seed.read_text(encoding="utf-8")
    written = [line.strip() for line in text.splitlines() if line.strip()]

    draft = fmt.parse_kernel_draft(text, seed.name)

    assert fmt.format_results(draft.results) == draft.results_line.text.strip()
    assert fmt.format_date(draft.drafted) in written
    assert all(fmt.heading(name) in written for name in fmt.SECTIONS)
    assert len(draft.claims) == draft.results.claims_extracted
    assert sum(1 for _, verified, _ in draft.claims if verified) == draft.results.claims_verified
    assert draft.title.text.startswith(fmt.TITLE_PREFIX) and draft.question.startswith(draft.title.text[len(fmt.TITLE_PREFIX):].strip())
    assert draft.references and all(ref_id.split("v")[0] in line.text for line, ref_id in draft.references)


def test_a_malformed_results_line_names_file_and_line():
    text = KERNEL_DRAFTS[0].read_text(encoding="utf-8").replace("10 papers retrieved.", "١٠ papers retrieved.")

    with pytest.raises(fmt.ParseError, match=r"^000_[0-9a-f]+\.txt:\d+: results must read like .*found '١'"):
        fmt.parse_kernel_draft(text, KERNEL_DRAFTS[0].name)
