"""Specification of the claim verifiers: the kernel's TF-IDF rule, claim coverage, stance-lr, coverage-stance,
the shipped model file, and the registry."""

from __future__ import annotations

import json
import math

import pytest

from generator.errors import InputError
from generator.pipeline import model_file, stance
from generator.pipeline.verification import (
    CLAIM_COVERAGE_THRESHOLD,
    CoverageStanceVerifier,
    CONTRADICT,
    NOT_ENOUGH_INFO,
    SUPPORT,
    StanceVerifier,
    VERIFIERS,
    ClaimCoverageVerifier,
    TfidfCosineVerifier,
    Verification,
    Verifier,
    VerifierSettings,
    calibrate_threshold,
    make_trained_verifier,
    make_verifier,
)

# Smooth IDF over two texts (the claim and one source): a word in both gets 1, a word in one 1 + ln(3/2).
SHARED, OWN = 1.0, 1.0 + math.log(1.5)

CLAIM = "Metformin lowers blood glucose in type 2 diabetes."
# An abstract-length source that contains the claim word for word among 200 other words.
LONG_SOURCE = "In this cohort study " + " ".join(f"term{i}" for i in range(200)) + ". " + CLAIM


# --- the kernel's rule: TF-IDF cosine, word unigrams + bigrams, threshold 0.15 -----------------


def test_kernel_rule_verifies_identical_text():
    verdict = TfidfCosineVerifier().verify(CLAIM, [("s1", CLAIM)])
    assert verdict.verified and verdict.best_source == "s1"
    assert verdict.best_score == pytest.approx(1.0)


def test_kernel_rule_rejects_unrelated_text():
    verdict = TfidfCosineVerifier().verify(CLAIM, [("s1", "Quantum entanglement enables teleportation.")])
    assert verdict == Verification(NOT_ENOUGH_INFO, best_source="s1", best_score=0.0)


def test_kernel_rule_matches_the_hand_computed_cosine():
    # "alpha beta" -> {alpha, beta, "alpha beta"}; "alpha gamma" -> {alpha, gamma, "alpha gamma"}.
    # Only alpha is shared: cosine = SHARED^2 / (SHARED^2 + 2 * OWN^2).
    expected = SHARED**2 / (SHARED**2 + 2 * OWN**2)
    assert TfidfCosineVerifier().score("alpha beta", "alpha gamma") == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(0.2020, abs=1e-4)
    assert TfidfCosineVerifier().verify("alpha beta", [("s", "alpha gamma")]).verified


def test_kernel_rule_one_shared_word_among_many_stays_below_threshold():
    # 5 claim terms, 7 source terms, alpha shared: 1 / sqrt((1 + 4 OWN^2)(1 + 6 OWN^2)) ~ 0.093.
    expected = 1 / math.sqrt((1 + 4 * OWN**2) * (1 + 6 * OWN**2))
    verdict = TfidfCosineVerifier().verify("alpha beta gamma", [("s", "alpha delta epsilon zeta")])
    assert verdict.best_score == pytest.approx(expected, abs=1e-12)
    assert not verdict.verified


def test_threshold_is_inclusive():
    score = TfidfCosineVerifier().score("alpha beta", "alpha gamma")
    at = TfidfCosineVerifier(threshold=score).verify("alpha beta", [("s", "alpha gamma")])
    above = TfidfCosineVerifier(threshold=math.nextafter(score, 1.0)).verify("alpha beta", [("s", "alpha gamma")])
    assert at.verified and not above.verified
    assert at.best_score == above.best_score == score


def test_kernel_rule_settings_are_recorded_exactly():
    assert TfidfCosineVerifier().settings.as_provenance() == {
        "method": "tfidf-cosine",
        "ngram_range": [1, 2],
        "analyzer": "word",
        "threshold": 0.15,
        "idf_fitted_on": "claim and source texts at hand",
        "lowercase": True,
        "norm": "l2",
        "smooth_idf": True,
        "sublinear_tf": False,
        "source_unit": "whole text",
        "stop_words": None,
        "token_pattern": r"(?u)\b\w\w+\b",
    }


def test_kernel_rule_ignores_fit_and_is_deterministic():
    verifier = TfidfCosineVerifier()
    before = verifier.score("alpha beta", "alpha gamma")
    verifier.fit(["alpha", "alpha beta", "gamma delta"])
    assert verifier.score("alpha beta", "alpha gamma") == before
    assert TfidfCosineVerifier().score("alpha beta", "alpha gamma") == before


def test_kernel_rule_penalises_long_sources():
    # The reason for a better verifier: every word of the claim is there, yet the cosine is low.
    assert not TfidfCosineVerifier().verify(CLAIM, [("s", LONG_SOURCE)]).verified


# --- verdicts over several sources ---------------------------------------------------------------


@pytest.mark.parametrize("verifier", [TfidfCosineVerifier(), ClaimCoverageVerifier()], ids=lambda v: v.name)
def test_best_source_is_reported_even_when_short_of_the_threshold(verifier):
    sources = [("unrelated", "Quantum entanglement enables teleportation."), ("close", "Metformin was studied.")]
    verdict = verifier.verify(CLAIM, sources)
    assert verdict.best_source == "close" and 0 < verdict.best_score < verifier.settings.threshold
    assert not verdict.verified


@pytest.mark.parametrize("verifier", [TfidfCosineVerifier(), ClaimCoverageVerifier()], ids=lambda v: v.name)
def test_ties_go_to_the_earlier_source_and_no_sources_means_unverified(verifier):
    assert verifier.verify(CLAIM, [("a", CLAIM), ("b", CLAIM)]).best_source == "a"
    assert verifier.verify(CLAIM, []) == Verification(NOT_ENOUGH_INFO, best_source=None, best_score=0.0)


@pytest.mark.parametrize("verifier", [TfidfCosineVerifier(), ClaimCoverageVerifier()], ids=lambda v: v.name)
def test_texts_without_words_score_zero(verifier):
    assert verifier.score("", "") == 0.0
    assert verifier.verify("...", [("s", "!!")]).best_score == 0.0


# --- claim coverage ------------------------------------------------------------------------------


def test_coverage_is_the_idf_weighted_share_of_claim_words_found():
    verifier = ClaimCoverageVerifier().fit(["alpha beta", "alpha gamma", "delta"])  # n = 3
    idf_alpha, idf_beta = math.log(4 / 3) + 1, math.log(4 / 2) + 1  # df 2 and 1
    assert verifier.score("alpha beta", "alpha") == pytest.approx(idf_alpha / (idf_alpha + idf_beta))
    assert verifier.score("alpha beta", "beta and alpha") == 1.0
    assert verifier.score("alpha beta", "gamma delta") == 0.0


def test_coverage_gives_words_unseen_in_the_background_the_highest_weight():
    verifier = ClaimCoverageVerifier().fit(["alpha beta", "alpha gamma", "delta"])
    idf_alpha, idf_unseen = math.log(4 / 3) + 1, math.log(4) + 1
    assert verifier.score("alpha omega", "alpha") == pytest.approx(idf_alpha / (idf_alpha + idf_unseen))


def test_coverage_ignores_stop_words_and_case_and_keeps_hyphenated_terms():
    verifier = ClaimCoverageVerifier()
    assert verifier.score("The effect of 4-PBA", "4-pba effect") == 1.0
    assert verifier.score("4-PBA effect", "PBA effect") < 1.0


def test_coverage_verifies_a_long_source_that_contains_the_claim():
    verdict = ClaimCoverageVerifier().fit([LONG_SOURCE, "An unrelated abstract."]).verify(CLAIM, [("s", LONG_SOURCE)])
    assert verdict.verified and verdict.best_score == 1.0


def test_coverage_threshold_boundary_is_inclusive():
    verifier = ClaimCoverageVerifier().fit(["alpha beta", "alpha gamma", "delta"])
    score = verifier.score("alpha beta", "alpha")
    assert ClaimCoverageVerifier(threshold=score).fit(["alpha beta", "alpha gamma", "delta"]).verify(
        "alpha beta", [("s", "alpha")]
    ).verified
    assert not ClaimCoverageVerifier(threshold=math.nextafter(score, 1.0)).fit(
        ["alpha beta", "alpha gamma", "delta"]
    ).verify("alpha beta", [("s", "alpha")]).verified


def test_coverage_settings_record_the_calibrated_threshold_and_where_idf_came_from():
    unfitted = ClaimCoverageVerifier().settings.as_provenance()
    fitted = ClaimCoverageVerifier().fit(["a text", "another text"]).settings.as_provenance()
    assert unfitted["threshold"] == fitted["threshold"] == CLAIM_COVERAGE_THRESHOLD
    assert unfitted["idf_fitted_on"] == "claim and source texts at hand"
    assert fitted["idf_fitted_on"] == "background corpus of 2 texts"
    assert {key: fitted[key] for key in ("method", "ngram_range", "analyzer")} == {
        "method": "claim-coverage",
        "ngram_range": [1, 1],
        "analyzer": "word",
    }
    assert fitted["stop_words"] == "sklearn english" and "threshold_calibration" in fitted


def test_settings_params_cannot_shadow_the_named_settings():
    with pytest.raises(ValueError):
        VerifierSettings(method="m", ngram_range=(1, 1), threshold=0.5, params=(("threshold", 0.1),))


# --- threshold calibration -----------------------------------------------------------------------


def test_calibration_puts_the_threshold_midway_below_the_best_f1_score():
    calibration = calibrate_threshold([0.1, 0.2, 0.3, 0.4], [False, False, True, True])
    assert calibration.threshold == 0.25
    assert (calibration.precision, calibration.recall, calibration.f1) == (1.0, 1.0, 1.0)


def test_calibration_prefers_the_stricter_threshold_on_equal_f1():
    # Threshold 0.1 -> P 1/2, R 1, F1 2/3; threshold 0.4 -> P 1, R 1/2, F1 2/3: the stricter wins.
    calibration = calibrate_threshold([0.1, 0.2, 0.3, 0.4], [True, False, False, True])
    assert calibration.threshold == 0.35 and calibration.f1 == pytest.approx(2 / 3)


def test_calibration_needs_a_positive_example():
    with pytest.raises(InputError):
        calibrate_threshold([0.1, 0.2], [False, False])


# --- registry ------------------------------------------------------------------------------------


def test_registry_names_both_verifiers_and_builds_them_by_name():
    assert set(VERIFIERS) == {"coverage-stance", "stance-lr", "tfidf-cosine", "claim-coverage"}
    for name in VERIFIERS:
        verifier = make_verifier(name)
        assert isinstance(verifier, Verifier) and verifier.name == name
    assert make_verifier("tfidf-cosine", threshold=0.3).settings.threshold == 0.3


def test_unknown_verifier_name_lists_the_known_ones():
    with pytest.raises(InputError, match="unknown verifier 'bert'.*claim-coverage, coverage-stance, stance-lr, tfidf-cosine"):
        make_verifier("bert")


def test_unknown_setting_is_an_input_error():
    with pytest.raises(InputError, match="claim-coverage"):
        make_verifier("claim-coverage", ngram_range=(1, 3))


# --- labels: only SUPPORT is verified -----------------------------------------------------------


def test_only_support_counts_as_verified():
    assert Verification(SUPPORT, "s", 0.9).verified
    assert not Verification(CONTRADICT, "s", 0.1, contradicted_by="s", contradiction_score=0.8).verified
    assert not Verification(NOT_ENOUGH_INFO, "s", 0.1).verified
    with pytest.raises(ValueError, match="label must be one of"):
        Verification("VERIFIED", "s", 1.0)


@pytest.mark.parametrize("verifier", [TfidfCosineVerifier(), ClaimCoverageVerifier()], ids=lambda v: v.name)
def test_word_overlap_rules_never_say_contradict(verifier):
    # A source that negates the claim word for word is, to a direction-blind rule, support.
    verdict = verifier.verify(CLAIM, [("s", "Metformin does not lower blood glucose in type 2 diabetes.")])
    assert verdict.label == SUPPORT and verdict.contradicted_by is None


# --- stance-lr: trained on the shipped SciFact train split -------------------------------------


@pytest.fixture(scope="module")
def stance_verifier():
    return StanceVerifier()


def test_stance_calls_a_restating_source_support(stance_verifier):
    verdict = stance_verifier.verify(CLAIM, [("same", "Metformin lowers blood glucose in type 2 diabetes. "
                                                      "We followed 200 patients for a year.")])
    assert verdict.label == SUPPORT and verdict.verified and verdict.best_source == "same"


@pytest.mark.parametrize("source", [
    "Metformin did not lower blood glucose in type 2 diabetes in this trial.",  # negated
    "Metformin raises blood glucose in type 2 diabetes, increasing it in most patients.",  # opposite direction
])
def test_stance_calls_a_source_saying_the_opposite_contradict(stance_verifier, source):
    verdict = stance_verifier.verify(CLAIM, [("against", source)])
    assert verdict.label == CONTRADICT and not verdict.verified
    assert verdict.contradicted_by == "against" and verdict.contradiction_score > verdict.best_score


def test_stance_number_mismatch_is_not_support(stance_verifier):
    claim = "Aspirin reduces fever in 95% of children within 2 hours."
    verdict = stance_verifier.verify(claim, [("s", "Aspirin reduced fever in 40% of children within 6 hours.")])
    assert not verdict.verified


def test_stance_unrelated_source_is_not_enough_info(stance_verifier):
    verdict = stance_verifier.verify(CLAIM, [("far", "Quantum entanglement enables teleportation of photons.")])
    assert verdict.label == NOT_ENOUGH_INFO and verdict.contradicted_by is None


def test_stance_over_several_sources_names_support_and_contradiction(stance_verifier):
    verdict = stance_verifier.verify(CLAIM, [
        ("far", "Quantum entanglement enables teleportation of photons."),
        ("against", "Metformin did not lower blood glucose in type 2 diabetes in this trial."),
    ])
    assert verdict.label == CONTRADICT and verdict.contradicted_by == "against"
    assert stance_verifier.verify(CLAIM, []) == Verification(NOT_ENOUGH_INFO, None, 0.0)


def test_stance_settings_name_the_rule_its_threshold_and_training_data(stance_verifier):
    settings = stance_verifier.settings.as_provenance()
    assert settings["method"] == "stance-lr" and settings["threshold"] == stance_verifier.threshold
    assert 0.5 <= settings["threshold"] <= 0.9
    assert settings["training_data_sha256"] == {
        "claims_train.jsonl": "f4c8fa82d8bd0653a9cc8d61a6ea48c25eacea64e90af5dbf390ebb1b74372f0",
        "corpus.jsonl": "b8d6c89624cb2ed74dee8938effc4f5d8bd2086887880af8110d64be4ceade62",
    }
    assert {"model", "features", "support_rule", "contradiction_rule", "threshold_rule", "training_data"} <= set(settings)
    assert make_verifier("stance-lr", threshold=0.8).settings.threshold == 0.8


def test_stance_verifier_reads_the_shipped_model_file(stance_verifier):
    shipped = model_file.load()
    assert stance_verifier.trained.model.digest == shipped.stance.model.digest
    assert stance_verifier.threshold == shipped.stance.threshold


# --- the shipped model file: training once, reproduced exactly ---------------------------------


def test_the_shipped_model_file_is_exactly_what_training_on_the_shipped_data_gives():
    # Retraining (about ten seconds) must give the very floats the file holds, and the file must name the data.
    from generator.pipeline.verification import train_shipped

    retrained = model_file.to_json(train_shipped())
    shipped = json.loads(model_file.shipped_path().read_text(encoding="utf-8"))
    assert retrained == shipped, f"stale model file: regenerate it with `{model_file.COMMAND}`"
    assert shipped["training_data_sha256"] == {
        "claims_train.jsonl": "f4c8fa82d8bd0653a9cc8d61a6ea48c25eacea64e90af5dbf390ebb1b74372f0",
        "corpus.jsonl": "b8d6c89624cb2ed74dee8938effc4f5d8bd2086887880af8110d64be4ceade62",
    }


@pytest.mark.parametrize("pointer, change", [
    ("/stance/digest", lambda data: data["stance"]["coef"][0].__setitem__(0, 0.5)),
    ("/stance/mean", lambda data: data["stance"]["mean"].pop()),
    ("/coverage_stance/direction_threshold", lambda data: data["coverage_stance"].__setitem__("direction_threshold", "0.3")),
    ("/features", lambda data: data.__setitem__("features", "stance-features-v0")),
])
def test_a_changed_model_file_is_refused_naming_the_pointer(tmp_path, pointer, change):
    data = json.loads(model_file.shipped_path().read_text(encoding="utf-8"))
    change(data)
    with pytest.raises(InputError, match=f"model.json: {pointer}: expected .*regenerate it with"):
        model_file.from_json(data, model_file.load().stance.idf, tmp_path / "model.json")


def test_a_model_file_trained_on_other_data_is_refused(tmp_path):
    data = json.loads(model_file.shipped_path().read_text(encoding="utf-8"))
    data["training_data_sha256"]["corpus.jsonl"] = "0" * 64
    (tmp_path / "model.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match="model.json: /training_data_sha256: expected the SHA-256 of the shipped"):
        model_file.load(tmp_path / "model.json")


# --- coverage-stance: coverage says "on topic", the stance model says which way ---------------


@pytest.fixture(scope="module")
def coverage_stance():
    return CoverageStanceVerifier()


def test_coverage_stance_verifies_a_source_restating_the_claim(coverage_stance):
    verdict = coverage_stance.verify(CLAIM, [("same", "Metformin lowers blood glucose in type 2 diabetes. "
                                                      "We followed 200 patients for a year.")])
    assert verdict.label == SUPPORT and verdict.best_source == "same"
    assert verdict.best_score >= coverage_stance.threshold


@pytest.mark.parametrize("source", [
    "Metformin did not lower blood glucose in type 2 diabetes in this trial.",  # negated
    "Metformin raises blood glucose in type 2 diabetes, increasing it in most patients.",  # opposite direction
])
def test_coverage_stance_calls_an_on_topic_source_saying_the_opposite_contradict(coverage_stance, source):
    # Claim coverage alone would call both verified (see test_word_overlap_rules_never_say_contradict).
    verdict = coverage_stance.verify(CLAIM, [("against", source)])
    assert verdict.label == CONTRADICT and not verdict.verified and verdict.contradicted_by == "against"
    assert verdict.best_score < 0.5 * coverage_stance.threshold  # a source the model leans against gives little support


def test_coverage_stance_never_calls_an_off_topic_source_either_way(coverage_stance):
    # "did not" and "raises" are cues of disagreement, but the source shares too few of the claim's words.
    verdict = coverage_stance.verify(CLAIM, [("far", "Photon counts did not rise; entanglement raises noise.")])
    assert verdict.label == NOT_ENOUGH_INFO and verdict.contradicted_by is None


def test_coverage_stance_support_outweighs_a_weaker_contradiction_and_names_both(coverage_stance):
    sources = [("against", "Metformin did not lower blood glucose in type 2 diabetes in this trial."),
               ("same", "Metformin lowers blood glucose in type 2 diabetes. We followed 200 patients for a year.")]
    verdict = coverage_stance.verify(CLAIM, sources)
    assert verdict.label == SUPPORT and verdict.best_source == "same" and verdict.contradicted_by == "against"
    assert coverage_stance.verify(CLAIM, []) == Verification(NOT_ENOUGH_INFO, None, 0.0)


def test_coverage_stance_settings_name_both_thresholds_and_the_training_data(coverage_stance):
    settings = coverage_stance.settings.as_provenance()
    shipped = model_file.load()
    assert settings["method"] == "coverage-stance"
    assert (settings["threshold"], settings["direction_threshold"]) == (shipped.coverage_threshold,
                                                                       shipped.direction_threshold)
    assert {"coverage", "direction", "support_rule", "contradiction_rule", "threshold_rule", "training_data",
            "training_data_sha256", "model"} <= set(settings)
    assert make_verifier("coverage-stance", threshold=0.6).settings.threshold == 0.6


# --- coverage-stance: restatement, numbers, and a support score that is not 0 for a near miss --------


ROUTERS = "2401.15969"


def test_a_verbatim_restatement_is_support_even_where_the_stance_model_leans_against_it(coverage_stance):
    # The stance model learnt on SciFact, where a source holding nearly all of a claim's words is often the text
    # a contradicting claim was rewritten from: it leans against this abstract's own sentence.
    from generator.corpus import shipped_corpus

    paper = shipped_corpus().get(ROUTERS)
    claim = "In this paper, we present a comprehensive study of routers in MoEs for computer vision tasks."
    source = f"{paper.title}. {paper.abstract}"
    assert claim in source
    _, probabilities = coverage_stance.per_source(claim, [source])
    assert probabilities[0, 1] > probabilities[0, 0]  # P(CONTRADICT) > P(SUPPORT)

    verdict = coverage_stance.verify(claim, [("same", source)])
    assert verdict.label == SUPPORT and verdict.contradicted_by is None and verdict.best_score == 1.0


@pytest.mark.parametrize("sentence, restates", [
    ("Metformin lowers blood glucose in type 2 diabetes.", True),
    ("In type 2 diabetes, metformin lowers blood glucose, as before.", True),  # same words, other order
    ("Metformin does not lower blood glucose in type 2 diabetes.", False),  # negated
    ("Metformin raises blood glucose in type 2 diabetes.", False),  # the other direction
    ("Metformin lowers blood glucose in type 1 diabetes.", False),  # a number of the claim missing
    ("Metformin lowers blood pressure.", False),  # too few of the claim's words
])
def test_restatement_needs_nearly_all_the_claim_said_the_same_way(sentence, restates):
    idf = model_file.load().stance.idf
    assert (stance.restatement(CLAIM, f"We report a trial. {sentence}", idf) >= stance.RESTATEMENT) is restates


def test_a_source_reporting_other_numbers_for_the_same_measure_does_not_support(coverage_stance):
    claim = "The drug cleared 95% of the infection in 2 hours."
    other = "The drug cleared 40% of the infection in 6 hours."
    same = "In mice, the drug cleared 95% of the infection in 2 hours."
    idf = coverage_stance.trained.stance.idf
    assert stance.number_mismatch(claim, other, idf) and not stance.number_mismatch(claim, same, idf)
    assert not stance.number_mismatch(claim, "The drug cleared the infection.", idf)  # no numbers of its own
    assert coverage_stance.verify(claim, [("other", other)]).label != SUPPORT
    assert coverage_stance.verify(claim, [("other", other), ("same", same)]).best_source == "same"


def test_a_source_the_model_leans_against_gives_a_small_support_score_not_zero(coverage_stance):
    # The support score of a source that does not support is min(coverage, threshold) x (1 - direction): below
    # the threshold, lower the more the model leans against it, so a claim's confidence reflects its near misses.
    against = coverage_stance.verify(CLAIM, [("s", "Metformin did not lower blood glucose in type 2 diabetes.")])
    closer = coverage_stance.verify(CLAIM, [("s", "Metformin and blood glucose in type 2 diabetes were measured.")])
    assert 0 < against.best_score < closer.best_score < coverage_stance.threshold
    assert against.label == CONTRADICT and closer.label != SUPPORT


def test_a_trained_verifier_can_be_made_from_another_training_and_a_fixed_rule_cannot():
    trained = model_file.load()
    other = type(trained)(trained.stance, 0.5, 0.3, (("claims_train.jsonl", "0" * 64),))

    stance_lr = make_trained_verifier("stance-lr", other)
    coverage = make_trained_verifier("coverage-stance", other, threshold=0.4)

    assert stance_lr.trained is other.stance and stance_lr.settings.as_provenance()["training_data_sha256"] == dict(other.data_files)
    assert coverage.threshold == 0.4 and coverage.direction_threshold == 0.3
    with pytest.raises(InputError, match="'tfidf-cosine' is not trained"):
        make_trained_verifier("tfidf-cosine", other)
