"""Tribunal (verdict and revision-round boundaries, concurrency, offline formulas, LLM answer contract) and policy."""

from __future__ import annotations

import threading

import pytest

from generator.corpus import shipped_corpus
from generator.pipeline.chat import ChatError
from dataclasses import replace

from generator.pipeline.claims import CheckedClaim, extract_claims, select_claims, split_sentences
from generator.pipeline.config import PolicyConfig
from generator.pipeline.policy import ESCALATE, PUBLISH, PolicyFacts, decide
from generator.pipeline.tribunal import (
    Draft,
    EvidenceFigures,
    OfflineReviewer,
    Recheck,
    RoleReview,
    combine,
    parse_review,
    revise,
    round1,
    run_tribunal,
)

SMOES = shipped_corpus().get("2604.23996")
CLAIMS = extract_claims([("abstract", SMOES.abstract)])


def checked(claim, *, verified=False, score=0.05, confidence=0.2, source="2401.06066v1"):
    return CheckedClaim(claim=claim, verified=verified, best_source=source, best_score=score,
                        nearest_source=source, nearest_similarity=0.3, support=min(1.0, score / 0.15),
                        confidence=confidence)


def draft(claims=None, uncertainties=("a.", "b.")):
    claims = claims if claims is not None else tuple(checked(c) for c in CLAIMS)
    return Draft(question="Q?", target=SMOES, claims=tuple(claims), independent_sources=12,
                 question_relevance=0.3, uncertainties=tuple(uncertainties))


class Scripted:
    """Every role gives the same score, one per round, in order."""

    description = "scripted"

    def __init__(self, *scores):
        self.scores = list(scores)
        self.calls: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def review(self, role, d):
        with self._lock:
            self.calls.append((role, d.revision_round))
        return RoleReview(role, self.scores[d.revision_round], ("scripted",))


@pytest.mark.parametrize("scores, verdict, revision_round", [
    ((4.9,), "REJECT", 0),
    ((5.0, 5.0), "REVISE", 1),
    ((6.4, 6.4), "REVISE", 1),
    ((6.5,), "ACCEPT", 0),
    ((10.0,), "ACCEPT", 0),
    ((0.0,), "REJECT", 0),
    ((5.0, 6.5), "ACCEPT", 1),
    ((5.0, 4.0), "REJECT", 1),
])
def test_verdict_and_revision_round_boundaries(scores, verdict, revision_round):
    reviewer = Scripted(*scores)

    result = run_tribunal(draft(), reviewer)

    assert (result.score, result.verdict, result.revision_round) == (scores[-1], verdict, revision_round)
    assert len(result.rounds) == len(scores)
    assert len(reviewer.calls) == 3 * len(scores)


def test_no_revision_when_rounds_are_zero():
    result = run_tribunal(draft(), Scripted(5.0), max_revision_rounds=0)
    assert (result.verdict, result.revision_round) == ("REVISE", 0)


def test_combined_score_is_the_half_up_mean_of_rounded_role_scores():
    assert combine([4.9, 5.0, 5.0]) == 5.0  # 4.966...
    assert combine([1.0, 2.0, 2.0]) == 1.7
    assert combine([4.94, 4.94, 4.94]) == 4.9
    assert combine([6.45, 6.45, 6.45]) == 6.5  # each role 6.45 -> 6.5 half-up
    assert round1(4.95) == 5.0 and round1(0.05) == 0.1


def test_the_three_roles_review_concurrently():
    barrier = threading.Barrier(3, timeout=5)

    class Waiting:
        description = "waiting"

        def review(self, role, d):
            barrier.wait()  # only passes if all three roles are in flight at once
            return RoleReview(role, 7.0, ("ok",))

    result = run_tribunal(draft(), Waiting())
    assert [r.role for r in result.final.reviews] == ["SKEPTIC", "VALIDATOR", "SYNTHESIZER"]
    assert result.verdict == "ACCEPT"


def roles(d):
    return {r: OfflineReviewer().review(r, d).score for r in ("SKEPTIC", "VALIDATOR", "SYNTHESIZER")}


def test_offline_reviewer_formulas_read_the_claims():
    selected = select_claims(CLAIMS, "How much does SMoES reduce expert-parallel communication overhead?",
                             split_sentences(SMOES.abstract), max_claims=2)
    claims = [checked(selected[0], verified=True, score=0.3, confidence=1.0), checked(selected[1], score=0.075)]
    claims[0] = replace(claims[0], agreeing_sources=2)
    d = draft(claims)
    f = EvidenceFigures.of(d)

    # The evidence figures weigh each claim by its question relevance: w is the supported claim's share.
    w = selected[0].relevance / (selected[0].relevance + selected[1].relevance)
    assert selected[0].relevance > 0 and selected[1].relevance > 0
    expected = (w, w * 1.0 + (1 - w) * 0.5, w, 1 - w, 0.0)
    assert (f.supported, f.strength, f.agreement, f.overstatement, f.contradicted) == pytest.approx(expected)
    assert f.relevance == (selected[0].relevance + selected[1].relevance) / 2
    assert roles(d) == {
        "SKEPTIC": round1(10 * (0.45 * w + 0.30 * expected[1] + 0.25 * w)),
        "VALIDATOR": round1(10 * (0.40 * w + 0.35 * w + 0.25 * expected[1])),
        "SYNTHESIZER": round1(10 * (0.45 * f.relevance + 0.30 * f.coverage + 0.25 * 0.3)),
    }
    assert (f"1 of 2 claims supported by an independent source, {w:.0%} weighted by question relevance"
            in OfflineReviewer().review("SKEPTIC", d).reasons[0])


def test_a_claim_kept_only_to_fill_the_list_weighs_by_its_relevance():
    # The same evidence, once on the claim that answers the question and once on a barely relevant one.
    answer, padding = (replace(c, relevance=r) for c, r in zip(CLAIMS[:2], (0.8, 0.05)))
    supported_answer = [checked(answer, verified=True, score=0.3, confidence=0.9), checked(padding)]
    supported_padding = [checked(answer), checked(padding, verified=True, score=0.3, confidence=0.9)]

    first, second = EvidenceFigures.of(draft(supported_answer)), EvidenceFigures.of(draft(supported_padding))

    assert first.supported == pytest.approx(0.8 / 0.85) and second.supported == pytest.approx(0.05 / 0.85)
    assert all(roles(draft(supported_answer))[r] > roles(draft(supported_padding))[r] for r in ("SKEPTIC", "VALIDATOR"))


def test_no_claims_scores_nothing_but_the_sources():
    empty = roles(draft([]))
    assert empty["SKEPTIC"] == empty["VALIDATOR"] == 0.0 and empty["SYNTHESIZER"] == round1(10 * 0.25 * 0.3)


def test_scores_move_with_the_evidence_and_have_no_floor():
    unsupported = [checked(c, score=0.0, confidence=0.0) for c in CLAIMS]
    weak = [checked(c, score=0.05) for c in CLAIMS]
    strong = [replace(checked(c, verified=True, score=0.4, confidence=0.9, source=f"s{i}"), agreeing_sources=2)
              for i, c in enumerate(CLAIMS)]

    scores = [run_tribunal(draft(c), OfflineReviewer(), max_revision_rounds=0).score for c in (unsupported, weak, strong)]

    assert scores[0] < scores[1] < scores[2]
    assert run_tribunal(draft(strong), OfflineReviewer()) == run_tribunal(draft(strong), OfflineReviewer())  # deterministic


def test_a_contradiction_lowers_the_review():
    claims = [checked(c, verified=True, score=0.3, confidence=0.9) for c in CLAIMS]
    contradicted = list(claims)
    contradicted[0] = replace(claims[0], verified=False, label="CONTRADICT", contradicted_by="2401.06066v1",
                              contradiction_score=0.8)

    before, after = roles(draft(claims)), roles(draft(contradicted))

    assert all(after[role] < before[role] for role in before)


def test_withdrawing_claims_alone_does_not_change_the_score():
    claims = [checked(CLAIMS[0], confidence=0.1), checked(CLAIMS[1], confidence=0.5),
              checked(CLAIMS[2], verified=True, score=0.3, confidence=0.9)]

    revised = revise(draft(claims), 0.3)

    assert [c.withdrawn for c in revised.claims] == [True, False, False]
    assert revised.revision_round == 1
    assert revised.uncertainties[-3:] == (
        "Revision round 1 had no way to get new evidence; the score can only stay as it was.",
        "Revision round 1 withdrew 1 unverified claim with confidence below 0.3 from the synthesis; it remains listed "
        "as extracted and counted in the review.",
        "Revision round 1: 1 of 2 remaining claims are not verified by an independent source and rest on the target paper alone.",
    )
    assert roles(revised) == roles(draft(claims))


class NewSource:
    """Evidence that finds a source supporting every open claim in the revision round."""

    def recheck(self, d, number):
        claims = tuple(c if c.verified else replace(c, verified=True, label="SUPPORT", best_score=0.3, support=1.0,
                                                   agreeing_sources=1, revision_round=number) for c in d.claims)
        return Recheck(claims, d.independent_sources + 1, d.source_texts, "1 new source supports the open claims.")


def test_only_new_evidence_in_a_revision_round_changes_the_score():
    claims = [checked(c, score=0.1, confidence=0.6) for c in CLAIMS]
    window = dict(reject_below=0.0, revision_threshold=10.0)

    without = run_tribunal(draft(claims), OfflineReviewer(), **window)
    with_evidence = run_tribunal(draft(claims), OfflineReviewer(), evidence=NewSource(), **window)

    assert without.revision_round == with_evidence.revision_round == 1
    assert without.rounds[1].combined == without.rounds[0].combined
    assert with_evidence.rounds[1].combined > with_evidence.rounds[0].combined
    assert "Revision round 1: 1 new source supports the open claims." in with_evidence.draft.uncertainties


@pytest.mark.parametrize("answer, problem", [
    ({"score": "high", "reasons": ["x"]}, "'score' is \"high\""),
    ({"score": 11, "reasons": ["x"]}, "outside 0-10"),
    ({"score": True, "reasons": ["x"]}, "not a number"),
    ({"reasons": ["x"]}, "'score' is null"),
    ({"score": 5}, "'reasons' is not a non-empty list"),
    ({"score": 5, "reasons": []}, "'reasons' is not a non-empty list"),
    ({"score": 5, "reasons": [1]}, "'reasons' is not a non-empty list"),
    (["score", 5], "not a JSON object"),
])
def test_llm_answers_outside_the_contract_are_chat_errors(answer, problem):
    with pytest.raises(ChatError) as caught:
        parse_review(answer, "SKEPTIC", "judge-1")
    assert problem in str(caught.value) and "judge-1" in str(caught.value) and "SKEPTIC" in str(caught.value)


def test_a_good_llm_answer_is_a_role_review():
    review = parse_review({"score": 7.25, "reasons": ["  well\nsourced "], "verdict": "ignored"}, "VALIDATOR", "m")
    assert review == RoleReview("VALIDATOR", 7.3, ("well sourced",))


# ---------------------------------------------------------------------------------------------------
# Policy


@pytest.mark.parametrize("facts, decision, rule", [
    (PolicyFacts("REJECT", 6, 0), ESCALATE, "verdict-not-accept"),
    (PolicyFacts("REVISE", 6, 6), ESCALATE, "verdict-not-accept"),
    (PolicyFacts("ACCEPT", 0, 0), ESCALATE, "no-claims"),
    (PolicyFacts("ACCEPT", 6, 5, claims_contradicted=1), ESCALATE, "contradicted-claims"),
    (PolicyFacts("ACCEPT", 6, 5), ESCALATE, "unverified-claims"),
    (PolicyFacts("ACCEPT", 6, 6), PUBLISH, "none"),
])
def test_policy_rules_fire_in_order(facts, decision, rule):
    result = decide(facts)
    assert (result.decision, result.rule) == (decision, rule)
    assert (f"Rule {rule} fired" in result.basis) if rule != "none" else result.basis.startswith("No escalation rule fired")


def test_policy_rules_and_threshold_are_configurable():
    share_only = PolicyConfig(rules=("verified-share-below-minimum",), min_verified_share=0.5)
    assert decide(PolicyFacts("ACCEPT", 6, 3), share_only).decision == PUBLISH
    low = decide(PolicyFacts("ACCEPT", 6, 2), share_only)
    assert (low.decision, low.rule) == (ESCALATE, "verified-share-below-minimum")
    assert "0.33 (2 of 6) is below the minimum 0.5" in low.basis
    assert decide(PolicyFacts("REJECT", 6, 0), PolicyConfig(rules=())).decision == PUBLISH
