"""Claim extraction (claim-rule-v2): sentences, triggers, list splitting, confidences, selection by the question."""

from __future__ import annotations

import pytest

from generator.corpus import shipped_corpus
from generator.pipeline.claims import (
    CLAIM_RULE,
    extract_claims,
    narrow,
    select_claims,
    extraction_confidence,
    published_confidence,
    split_sentences,
    support_of,
)

SMOES = shipped_corpus().get("2604.23996")


def test_sentences_split_at_full_stops_but_not_abbreviations_or_decimals():
    text = ("We use e.g. MMMU and ChartQA. Smith et al. 2024 report 3.5% gains on Fig. 2. "
            "Does it scale? Yes! (Results in brackets.) The end")
    assert split_sentences(text) == [
        "We use e.g. MMMU and ChartQA.",
        "Smith et al. 2024 report 3.5% gains on Fig. 2.",
        "Does it scale?",
        "Yes!",
        "(Results in brackets.)",
        "The end",
    ]
    assert split_sentences("  ") == []


def test_the_smoes_abstract_gives_its_method_and_result_claims_each_grounded_in_a_sentence():
    claims = extract_claims([("abstract", SMOES.abstract)])

    assert [c.location for c in claims] == [
        "abstract, sentence 3",
        "abstract, sentence 4",
        "abstract, sentence 5, item 1",
        "abstract, sentence 5, item 2",
        "abstract, sentence 5, item 3",
        "abstract, sentence 6",
    ]
    lead = "Experiments across four MoE-based VLMs and 16 benchmarks demonstrate improvement on both effectiveness and efficiency: "
    assert claims[2].text == lead + "0.9% and 4.2% average gain on multimodal and language-only tasks."
    assert claims[3].text == lead + "56.1% reduction in EP communication overhead."
    assert claims[4].text == lead + "12.3% throughput improvement under realistic deployment."
    assert claims[0].text.startswith("We propose Soft Modality-guided Expert Specialization (SMoES)")
    assert all(c.rule.startswith(CLAIM_RULE + ": ") for c in claims)
    assert claims[0].rule == "claim-rule-v2: method (propose)"
    assert claims[2].rule == "claim-rule-v2: quantity, result (demonstrate)"
    # The two background sentences assert neither a result nor a method.
    sentences = split_sentences(SMOES.abstract)
    assert {c.sentence for c in claims} == {3, 4, 5, 6} and len(sentences) == 6


@pytest.mark.parametrize("sentence", [
    "Mixture-of-Experts has become a prevalent backbone for large vision-language models.",
    "Does soft routing improve accuracy by 5%?",
    "Gains of 5%.",
])
def test_background_questions_and_fragments_are_not_claims(sentence):
    assert extract_claims([("abstract", sentence)]) == []


def test_confidence_rule():
    assert extraction_confidence(("quantity", "result (improve)"), hedged=False) == 1.0
    assert extraction_confidence(("method (propose)",), hedged=False) == 0.5
    assert extraction_confidence(("comparison (than)",), hedged=False) == 0.7
    assert extraction_confidence(("quantity",), hedged=True) == 0.5
    hedged = extract_claims([("abstract", "Our results suggest the router may improve accuracy by 2%.")])
    assert hedged[0].hedged and hedged[0].confidence == 0.7 and hedged[0].rule.endswith("(hedged)")


def test_a_list_with_one_number_is_not_split():
    claims = extract_claims([("abstract", "We show two gains: better routing, and 3% faster decoding.")])
    assert len(claims) == 1 and claims[0].part is None


def test_published_confidence_is_scaled_by_support():
    claim = extract_claims([("abstract", "SMoES reduces latency by 22% compared to the baseline.")])[0]
    assert claim.confidence == 1.0
    assert support_of(0.30, 0.15) == 1.0
    assert published_confidence(claim, 0.30, 0.15) == 1.0
    assert published_confidence(claim, 0.03, 0.15) == 0.2
    assert published_confidence(claim, 0.0, 0.15) == 0.0


# ---------------------------------------------------------------------------------------------------
# Selection by the research question (rule steps 4-6)

SENTENCES = split_sentences(SMOES.abstract)
CANDIDATES = extract_claims([("abstract", SMOES.abstract)])
COMMUNICATION = "How much does SMoES reduce expert-parallel communication overhead?"
ACCURACY = "Does modality-guided routing improve accuracy on language-only tasks?"


def test_two_questions_about_one_paper_select_different_claims():
    communication = select_claims(CANDIDATES, COMMUNICATION, SENTENCES, max_claims=3)
    accuracy = select_claims(CANDIDATES, ACCURACY, SENTENCES, max_claims=3)

    assert communication[0].location == "abstract, sentence 5, item 2"  # "56.1% reduction in EP communication overhead"
    assert accuracy[0].location == "abstract, sentence 5, item 1"  # "0.9% and 4.2% average gain on ... language-only tasks"
    assert [c.location for c in communication] != [c.location for c in accuracy]


def test_relevance_and_score_are_recorded_in_the_claim_and_its_rule():
    best = select_claims(CANDIDATES, COMMUNICATION, SENTENCES)[0]

    assert 0 < best.relevance <= 1
    assert best.score == round(best.relevance * (0.5 + 0.5 * best.result_strength), 4)
    assert best.rule.startswith(f"claim-rule-v2: question relevance {best.relevance:.2f}, score {best.score:.2f}, quantity")
    assert ";" not in best.rule  # the record page reads the evidence line split at semicolons


def test_a_stated_result_outranks_a_method_statement_matching_the_question_as_well():
    text = ("We propose a sparse router for expert models. "
            "The sparse router reduces expert latency by 30% on eight benchmarks.")
    candidates = extract_claims([("abstract", text)])
    ranked = select_claims(candidates, "Is the sparse router of expert models fast?", split_sentences(text))

    assert [c.sentence for c in ranked] == [2, 1]
    assert ranked[0].result_strength == 1.0 and ranked[1].result_strength == 0.0


def test_candidates_sharing_no_term_with_the_question_are_not_claims():
    assert select_claims(CANDIDATES, "Which protein folds fastest in yeast?", SENTENCES) == []


def test_a_narrower_claim_is_the_clause_that_states_the_result():
    listed = next(c for c in CANDIDATES if c.part == 2)

    narrower = narrow(listed)

    assert narrower.text == "56.1% reduction in EP communication overhead."
    assert narrower.narrowed_from == listed.text and narrower.location == listed.location
    assert narrower.rule.endswith("(narrowed in revision)")
    assert narrow(CANDIDATES[0]) is None  # "We propose ...": no clause states a measured result
