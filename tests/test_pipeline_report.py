"""report.md: the seeds' section order, the kernel's results line, nothing cut, untrusted text escaped."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import markdown

from generator.corpus import Paper, shipped_corpus
from generator.pipeline.claims import CheckedClaim, extract_claims
from generator.pipeline.policy import PolicyFacts, decide
from generator.pipeline.report import ReportData, render_report, results_line
from generator.pipeline.tribunal import Draft, OfflineReviewer, run_tribunal
from generator.pipeline.verification import CONTRADICT, NOT_ENOUGH_INFO, SUPPORT
from generator.records.compose import SourceRef
from generator.records import draft_format

SECTIONS = ["## Abstract", "## 1 Introduction", "## 2 Methodology", "## 3 Results", "## 4 Uncertainties",
            "## 5 Extracted Claims", "## References"]
HOSTILE = "<script>alert(1)</script> | **bold** [x](javascript:alert(1)) `code`\n# heading ~~~"


def report(question: str, target: Paper, claims_text: str | None = None) -> str:
    claims = extract_claims([("abstract", claims_text or target.abstract)])
    checked = tuple(CheckedClaim(c, verified=i == 0, best_source="2401.06066v1", best_score=0.2 if i == 0 else 0.05,
                                 nearest_source="2401.06066v1", nearest_similarity=0.4, support=1.0,
                                 confidence=c.confidence) for i, c in enumerate(claims))
    return render(question, target, checked).decode("utf-8")


def render(question: str, target: Paper, checked: tuple[CheckedClaim, ...]) -> bytes:
    draft = Draft(question, target, checked, 10, 0.3, (HOSTILE, "Plain uncertainty."))
    tribunal = run_tribunal(draft, OfflineReviewer())
    policy = decide(PolicyFacts(tribunal.verdict, len(checked), sum(1 for c in checked if c.verified),
                                sum(1 for c in checked if c.contradicted)))
    other = shipped_corpus().get("2401.06066")
    data = ReportData(
        question=question, target=target, drafted=datetime(2026, 5, 28, tzinfo=timezone.utc),
        methodology=("Method sentence one.", "Method with <b>tag</b>."), queries=('all:"a|b" AND abs:"<i>"',),
        papers_retrieved=10, claims=checked, verifier="tfidf-cosine", threshold=0.15, tribunal=tribunal,
        policy=policy, uncertainties=tribunal.draft.uncertainties,
        references=(SourceRef(target.arxiv_id, target.version, "target", target),
                    SourceRef(other.arxiv_id, other.version, "cited", other)),
    )
    return render_report(data)


SOURCE = "2401.06066v1"


def contradicted_report(against: str = SOURCE) -> tuple[bytes, tuple[CheckedClaim, ...]]:
    """A report of three claims as the verifier labelled them: supported, contradicted by ``against``, and
    not enough information."""
    smoes = shipped_corpus().get("2604.23996")
    claims = extract_claims([("abstract", smoes.abstract)])[:3]
    labels = [(SUPPORT, 0.8, None, 0.0), (CONTRADICT, 0.1, against, 0.7), (NOT_ENOUGH_INFO, 0.05, None, 0.0)]
    checked = tuple(CheckedClaim(c, verified=label == SUPPORT, best_source=SOURCE, best_score=score, nearest_source=SOURCE,
                                 nearest_similarity=0.4, support=min(1.0, score / 0.5), confidence=c.confidence,
                                 label=label, contradicted_by=by, contradiction_score=by_score)
                    for c, (label, score, by, by_score) in zip(claims, labels))
    return render("How does SMoES compare?", smoes, checked), checked


def test_sections_in_the_seed_order_and_the_results_line_in_the_kernel_format():
    smoes = shipped_corpus().get("2604.23996")
    text = report("How does SMoES compare?", smoes)

    positions = [text.index("\n" + s + "\n") for s in SECTIONS]
    assert positions == sorted(positions)
    assert text.startswith("# SOVEREIGN: How does SMoES compare?\n")
    assert "\nMay 28, 2026\n" in text
    results = draft_format.parse_results(text, "report.md", None)
    assert (results.claims_extracted, results.claims_verified, results.decision) == (6, 1, "ESCALATE_TO_OWNER")
    assert "| Claim | Verified | Confidence |" in text
    assert text.count("| ✓ |") == 1 and text.count("| × |") == 5
    assert "- <https://arxiv.org/abs/2604.23996v1> — " in text


def test_results_line_format():
    assert results_line(10, 8, 0, 1.5, "REJECT", 0, "ESCALATE_TO_OWNER") == (
        "10 papers retrieved. 8 claims extracted, 0 verified. Tribunal: 1.5/10 → REJECT (revision_round=0). "
        "Policy: ESCALATE_TO_OWNER.")


def test_nothing_is_cut_title_and_abstract_are_whole():
    smoes = shipped_corpus().get("2604.23996")
    question = "Does soft MoE routing with token-level gating improve ANLS on InfographicsVQA and ChartQA " * 3 + "?"
    html = markdown.markdown(report(question, smoes), extensions=["tables"])
    plain = re.sub(r"<[^>]+>", "", html)

    assert " ".join(question.split()) in plain
    assert smoes.abstract in plain.replace("\n", " ")
    assert "…" not in plain


def test_untrusted_text_renders_as_text_never_as_markup():
    base = shipped_corpus().get("2604.23996")
    evil = Paper(arxiv_id=base.arxiv_id, version=base.version, title=HOSTILE,
                 abstract=HOSTILE + " We propose a method that improves accuracy by 5% | x. " + HOSTILE)
    text = report(HOSTILE, evil)
    html = markdown.markdown(text, extensions=["tables"])

    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "javascript:" not in re.findall(r'href="([^"]*)"', html).__str__()
    assert "<strong>" not in html and "<h1>heading" not in html
    assert html.count("<h2") == len(SECTIONS) and html.count("<h1") == 1
    # The claims table keeps its three columns on every row, whatever the claim text holds.
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert all(len(re.findall(r"(?<!\\)\|", row)) == 4 for row in rows)


def test_each_claims_evidence_line_states_its_stance_and_names_a_contradicting_source():
    text = contradicted_report()[0].decode("utf-8")
    evidence = text.split("Evidence per claim", 1)[1].split("\n## References", 1)[0]
    lines = [line for line in evidence.splitlines() if re.match(r"[0-9]+\. ", line)]

    assert len(lines) == 3
    assert "(score 0.8000, verified); stance: supported; nearest source" in lines[0]
    assert ("(score 0.1000, not verified); stance: contradicted by <code>2401\\.06066v1</code> (score 0.7000); "
            "nearest source") in lines[1]
    assert "(score 0.0500, not verified); stance: not enough information; nearest source" in lines[2]
    assert "| × |" in text and text.count("| ✓ |") == 1  # a contradiction is never counted as verified
