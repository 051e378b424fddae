"""Specification of the SciFact verifier evaluation, on a fixture whose answers are known by construction.

tests/data/scifact_tiny/README.md lists every (claim, cited document) pair, its gold label and the
verdict both verifiers must give.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import cli
from generator.errors import InputError
from generator.evaluation.scifact import abstract_level, evaluate_scifact, load_scifact, pair_scores, pair_task
from generator.scifact import Claim, grouped_folds
from generator.pipeline.config import PipelineConfig
from generator.pipeline.verification import CLAIM_COVERAGE_THRESHOLD, make_verifier

TINY = Path(__file__).parent / "data" / "scifact_tiny"
SHIPPED_EVAL = Path(__file__).parents[1] / "generator" / "data" / "verifier_eval.json"
SHIPPED_DATA = Path(__file__).parents[1] / "generator" / "data" / "scifact"
VERIFIER_NAMES = ["tfidf-cosine", "claim-coverage"]

# (claim id, doc id, gold label, verdict) -- the table of the fixture's README.
EXPECTED_PAIRS = [
    ("1", "1", "SUPPORT", True),  # claim repeats the title: true positive
    ("2", "2", "CONTRADICT", True),  # negation, same words: true positive
    ("3", "3", "SUPPORT", True),  # repeats a sentence: true positive
    ("3", "4", "NEI", False),  # no word in common: true negative
    ("4", "4", "NEI", True),  # same topic words, no evidence: false positive
    ("5", "5", "SUPPORT", False),  # paraphrase, no word in common: false negative
    ("6", "6", "SUPPORT", True),  # repeats a sentence: true positive
    ("7", "1", "NEI", False),  # no word in common: true negative
]


@pytest.fixture
def fixed_clock(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    return "2023-11-14T22:13:20Z"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """The real entry point, so errors are checked as the user sees them."""
    return subprocess.run([sys.executable, "-m", "generator", *args], capture_output=True, text=True, timeout=120)


def corrupt_line(tmp_path: Path, name: str, number: int, text: str) -> Path:
    data = tmp_path / "scifact"
    shutil.copytree(TINY, data)
    lines = (data / name).read_text(encoding="utf-8").splitlines()
    lines[number - 1] = text
    (data / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return data


# --- loading -------------------------------------------------------------------------------------


def test_loads_corpus_claims_and_the_pairs_to_judge():
    dataset = load_scifact(TINY)
    assert len(dataset.corpus) == 6 and len(dataset.claims) == 7
    assert [(p.claim.claim_id, p.doc_id, p.label) for p in dataset.pairs()] == [row[:3] for row in EXPECTED_PAIRS]
    assert dataset.corpus["1"].text == "Aspirin reduces fever in children We gave aspirin to children with fever. Aspirin reduced fever within two hours."


def test_malformed_line_names_file_and_line(tmp_path):
    data = corrupt_line(tmp_path, "claims_train.jsonl", 3, '{"id": 3, "claim": ')
    with pytest.raises(InputError, match=r"claims_train\.jsonl:3: malformed JSON"):
        load_scifact(data)


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("corpus.jsonl", '{"doc_id": 2, "title": "t"}', r"corpus\.jsonl:2: missing field 'abstract'"),
        ("corpus.jsonl", "[1, 2]", r"corpus\.jsonl:2: expected a JSON object"),
        ("claims_train.jsonl", '{"id": 9, "claim": "c", "evidence": {}, "cited_doc_ids": [99]}', r"claims_train\.jsonl:2: document 99 is not in corpus"),
        ("claims_train.jsonl", '{"id": 9, "claim": "c", "evidence": {"1": [{"sentences": [0], "label": "MAYBE"}]}, "cited_doc_ids": [1]}', r"claims_train\.jsonl:2: evidence for document 1"),
    ],
)
def test_invalid_records_name_file_and_line(tmp_path, name, line, message):
    with pytest.raises(InputError, match=message):
        load_scifact(corrupt_line(tmp_path, name, 2, line))


def test_missing_split_names_the_file_and_the_splits_present():
    with pytest.raises(InputError, match=r"claims_dev\.jsonl: file not found \(splits here: train\)"):
        load_scifact(TINY, "dev")


# --- verification metrics ------------------------------------------------------------------------


@pytest.mark.parametrize("name", VERIFIER_NAMES)
def test_each_pair_gets_the_verdict_built_into_the_fixture(name):
    _, _, verified = pair_scores(make_verifier(name), load_scifact(TINY))
    assert list(verified) == [row[3] for row in EXPECTED_PAIRS]


@pytest.mark.parametrize("name", VERIFIER_NAMES)
def test_pair_task_counts_only_support_as_right_to_verify(name):
    # Positive = gold SUPPORT (1-1, 3-3, 5-5, 6-6). Verified: 1-1, 2-2, 3-3, 4-4, 6-6.
    # TP 3 (1-1, 3-3, 6-6); FP 2 (2-2 contradicts, 4-4 no evidence); FN 1 (5-5); TN 2 (3-4, 7-1).
    precision, recall, specificity = 3 / 5, 3 / 4, 2 / 4
    [result] = evaluate_scifact(TINY, verifier_names=[name]).verifiers
    assert result.pair["precision"] == round(precision, 4) and result.pair["recall"] == recall
    assert result.pair["f1"] == round(2 * precision * recall / (precision + recall), 4)
    assert result.pair["balanced_accuracy"] == (recall + specificity) / 2
    assert result.contradict_called_verified == 1.0  # a word-overlap rule cannot see the negation
    assert result.per_label["CONTRADICT"] == {"SUPPORT": 1, "CONTRADICT": 0, "NOT_ENOUGH_INFO": 0}
    assert result.per_label["NEI"] == {"SUPPORT": 1, "CONTRADICT": 0, "NOT_ENOUGH_INFO": 2}


def test_auroc_and_balanced_accuracy_of_hand_made_rows():
    rows = [("SUPPORT", True, 0.9), ("SUPPORT", False, 0.4), ("CONTRADICT", False, 0.5), ("NEI", False, 0.1)]
    task = pair_task(rows)
    # Scores: support 0.9 and 0.4 against others 0.5 and 0.1: 3 of 4 pairs ordered right.
    assert task["auroc"] == 0.75
    assert task["balanced_accuracy"] == (1 / 2 + 1) / 2 and task["precision"] == 1.0


def test_baselines_are_trivial_on_every_task():
    baselines = evaluate_scifact(TINY, verifier_names=["tfidf-cosine"]).baselines
    always, never = baselines["always_verified"], baselines["never_verified"]
    assert always["pair_task"]["recall"] == 1.0 and always["pair_task"]["precision"] == 0.5  # 4 of 8 SUPPORT
    assert always["pair_task"]["balanced_accuracy"] == never["pair_task"]["balanced_accuracy"] == 0.5
    assert always["contradict_called_verified"] == 1.0 and never["contradict_called_verified"] == 0.0
    assert never["pair_task"]["f1"] == 0.0 and never["abstract_level"]["f1"] == 0.0
    assert never["pipeline"]["false_verification_rate"] == 0.0


def test_abstract_level_label_only_counts_label_matches():
    gold = {("1", "a", "SUPPORT"), ("2", "b", "CONTRADICT")}
    predicted = {("1", "a", "SUPPORT"), ("2", "b", "SUPPORT"), ("3", "c", "CONTRADICT")}
    task = abstract_level(predicted, gold)
    assert (task["correct"], task["precision"], task["recall"]) == (1, round(1 / 3, 4), 0.5)


# --- grouped folds ---------------------------------------------------------------------------------


def test_grouped_folds_never_split_claims_that_share_a_document():
    dataset = load_scifact(SHIPPED_DATA)
    fold_of = grouped_folds(dataset.claims, 5)
    by_document: dict[str, set[int]] = {}
    for claim in dataset.claims:
        for doc_id in (*claim.cited_doc_ids, *claim.evidence):
            by_document.setdefault(doc_id, set()).add(fold_of[claim.claim_id])
    assert all(len(folds) == 1 for folds in by_document.values())
    sizes = [sum(1 for f in fold_of.values() if f == fold) for fold in range(5)]
    assert sum(sizes) == len(dataset.claims) and max(sizes) - min(sizes) <= 0.1 * len(dataset.claims)
    assert grouped_folds(dataset.claims, 5) == fold_of  # deterministic


def test_grouped_folds_follow_chains_of_shared_documents():
    claims = [Claim("1", "a", {}, ("x",)), Claim("2", "b", {"y": "SUPPORT"}, ("x", "y")), Claim("3", "c", {}, ("y",)),
              Claim("4", "d", {}, ("z",))]
    fold_of = grouped_folds(claims, 2)
    assert fold_of["1"] == fold_of["2"] == fold_of["3"] != fold_of["4"]


# --- JSON ----------------------------------------------------------------------------------------


def test_json_shape(fixed_clock):
    report = evaluate_scifact(TINY, verifier_names=VERIFIER_NAMES).to_json()
    assert report["dataset"] == "SciFact" and report["split"] == "train"
    assert report["evaluated_at"] == fixed_clock
    assert report["data_files"] == {
        name: hashlib.sha256((TINY / name).read_bytes()).hexdigest() for name in ("claims_train.jsonl", "corpus.jsonl")
    }
    assert set(report["tasks"]) == {"pair", "contradiction", "abstract_level", "pipeline"}
    assert report["reference"]["abstract_label_only_f1"] == [0.47, 0.51] and report["reference"]["split"] == "dev"
    assert [v["name"] for v in report["verifiers"]] == VERIFIER_NAMES
    for entry in report["verifiers"]:
        assert {"settings", "figures", "pair_task", "per_label", "contradict_called_verified", "abstract_level",
                "pipeline"} <= set(entry)
        assert "cross_validated_f1" not in entry  # no figure of another threshold
    json.dumps(report)  # plain JSON values only


# --- CLI -----------------------------------------------------------------------------------------


def test_cli_prints_a_table_by_default():
    result = CliRunner().invoke(cli, ["eval-verifier", str(TINY), "--verifier", "tfidf-cosine", "--verifier", "claim-coverage"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines() if line.strip()}
    # threshold, P, R, F1, AUROC, balanced accuracy, CONTRADICT called verified
    assert rows["tfidf-cosine"][0] == "0.15" and rows["tfidf-cosine"][1:4] == ["0.6000", "0.7500", "0.6667"]
    assert rows["tfidf-cosine"][5:7] == ["0.6250", "1.0000"]
    assert "VeriSci abstract-level label-only F1 0.47-0.51 on SciFact dev" in result.output
    assert "recall@k" in result.output and rows["10"] == ["0.8000", "0.8000"]


def test_cli_json_and_out_file_match_the_library(tmp_path, fixed_clock):
    out = tmp_path / "eval" / "verifier_eval.json"
    result = CliRunner().invoke(cli, ["eval-verifier", str(TINY), "--verifier", "claim-coverage", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    expected = evaluate_scifact(TINY, verifier_names=["claim-coverage"]).to_json()
    assert json.loads(result.output) == expected
    assert json.loads(out.read_text(encoding="utf-8")) == expected


def test_cli_malformed_line_is_a_clean_error_with_file_and_line(tmp_path):
    data = corrupt_line(tmp_path, "claims_train.jsonl", 3, "not json")
    completed = run_cli("eval-verifier", str(data))
    assert completed.returncode == 2
    assert f"{data / 'claims_train.jsonl'}:3: malformed JSON" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_cli_unknown_verifier_lists_the_known_ones():
    completed = run_cli("eval-verifier", str(TINY), "--verifier", "bert")
    assert completed.returncode == 2
    assert "unknown verifier 'bert'; known verifiers: claim-coverage, coverage-stance, stance-lr, tfidf-cosine" in completed.stderr


# --- the shipped evaluation ----------------------------------------------------------------------


def test_shipped_evaluation_is_current_and_the_stance_verifier_meets_its_bar():
    report = json.loads(SHIPPED_EVAL.read_text(encoding="utf-8"))
    by_name = {entry["name"]: entry for entry in report["verifiers"]}
    assert report["data_files"] == {
        "claims_train.jsonl": "f4c8fa82d8bd0653a9cc8d61a6ea48c25eacea64e90af5dbf390ebb1b74372f0",
        "corpus.jsonl": "b8d6c89624cb2ed74dee8938effc4f5d8bd2086887880af8110d64be4ceade62",
    }
    assert by_name["tfidf-cosine"]["settings"] == make_verifier("tfidf-cosine").settings.as_provenance()
    assert by_name["claim-coverage"]["settings"]["threshold"] == CLAIM_COVERAGE_THRESHOLD
    # Both trained verifiers, and the pipeline's default among them, meet the bar out-of-fold.
    assert PipelineConfig().verification.verifier == "coverage-stance"
    for name in ("coverage-stance", "stance-lr"):
        trained = by_name[name]
        assert trained["settings"] == make_verifier(name).settings.as_provenance()  # the verifier shipped
        assert trained["figures"].startswith("out-of-fold")
        assert trained["contradict_called_verified"] < 0.20
        assert len(trained["fold_thresholds"]) == 5
        for baseline in report["baselines"].values():
            assert trained["pair_task"]["balanced_accuracy"] > baseline["pair_task"]["balanced_accuracy"]
