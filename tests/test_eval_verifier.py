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
from generator.evaluation.scifact import evaluate_scifact, load_scifact, pair_scores
from generator.pipeline.verification import CLAIM_COVERAGE_THRESHOLD, make_verifier

TINY = Path(__file__).parent / "data" / "scifact_tiny"
SHIPPED_EVAL = Path(__file__).parents[1] / "generator" / "data" / "verifier_eval.json"
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
def test_precision_recall_and_f1_are_exact(name):
    # TP = pairs 1-1, 2-2, 3-3, 6-6; FP = 4-4; FN = 5-5; TN = 3-4, 7-1.
    true_pos, false_pos, false_neg = 4, 1, 1
    precision = true_pos / (true_pos + false_pos)  # 0.8
    recall = true_pos / (true_pos + false_neg)  # 0.8
    f1 = 2 * precision * recall / (precision + recall)  # 0.8

    [result] = evaluate_scifact(TINY, verifier_names=[name]).verifiers
    assert (result.precision, result.recall, result.f1) == pytest.approx((precision, recall, f1))
    assert (result.pairs, result.positives, result.true_positives, result.false_positives) == (8, 5, 4, 1)
    per_label = result.to_json()["per_label"]
    assert per_label["SUPPORT"] == {"pairs": 4, "verified": 3, "recall": 0.75}
    assert per_label["CONTRADICT"] == {"pairs": 1, "verified": 1, "recall": 1.0}
    assert per_label["NEI"] == {"pairs": 3, "verified": 1, "false_positive_rate": round(1 / 3, 4)}


def test_retrieval_recall_at_k_counts_claims_whose_evidence_is_ranked():
    # Claims 1, 2, 3 and 6 find their one evidence document first; claim 5 shares no word with any.
    retrieval = evaluate_scifact(TINY).retrieval
    assert (retrieval.claims_with_evidence, retrieval.gold_documents) == (5, 5)
    assert [retrieval.recall_at(k) for k in (1, 3, 10)] == [0.8, 0.8, 0.8]
    assert [retrieval.doc_recall_at(k) for k in (1, 3, 10)] == [0.8, 0.8, 0.8]


# --- JSON ----------------------------------------------------------------------------------------


def test_json_shape(fixed_clock):
    report = evaluate_scifact(TINY).to_json()
    assert report["dataset"] == "SciFact" and report["split"] == "train"
    assert report["evaluated_at"] == fixed_clock
    assert report["data_files"] == {
        name: hashlib.sha256((TINY / name).read_bytes()).hexdigest() for name in ("claims_train.jsonl", "corpus.jsonl")
    }
    assert [v["name"] for v in report["verifiers"]] == ["tfidf-cosine", "claim-coverage"]
    for entry in report["verifiers"]:
        assert {"name", "settings", "precision", "recall", "f1", "per_label", "pairs", "positives", "cross_validated_f1"} <= set(entry)
        assert entry["settings"] == make_verifier(entry["name"]).settings.as_provenance() | (
            {"idf_fitted_on": "background corpus of 6 texts"} if entry["name"] == "claim-coverage" else {}
        )
        assert (entry["precision"], entry["recall"], entry["f1"]) == (0.8, 0.8, 0.8)
    assert report["baselines"]["always_verified"] == {"precision": 0.625, "recall": 1.0, "f1": round(2 * 0.625 / 1.625, 4)}
    assert report["retrieval"]["recall_at_k"] == {"1": 0.8, "3": 0.8, "10": 0.8}
    json.dumps(report)  # plain JSON values only


def test_floats_are_rounded_to_four_places(fixed_clock):
    nei = evaluate_scifact(TINY).to_json()["verifiers"][0]["per_label"]["NEI"]
    assert nei["false_positive_rate"] == 0.3333


# --- CLI -----------------------------------------------------------------------------------------


def test_cli_prints_a_table_by_default():
    result = CliRunner().invoke(cli, ["eval-verifier", str(TINY)])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines() if line.strip()}
    assert rows["tfidf-cosine"][:3] == rows["claim-coverage"][:3] == ["0.8000", "0.8000", "0.8000"]
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
    assert "unknown verifier 'bert'; known verifiers: claim-coverage, tfidf-cosine" in completed.stderr


# --- the shipped evaluation ----------------------------------------------------------------------


def test_shipped_evaluation_is_current_and_the_better_verifier_wins():
    report = json.loads(SHIPPED_EVAL.read_text(encoding="utf-8"))
    by_name = {entry["name"]: entry for entry in report["verifiers"]}
    assert report["data_files"] == {
        "claims_train.jsonl": "f4c8fa82d8bd0653a9cc8d61a6ea48c25eacea64e90af5dbf390ebb1b74372f0",
        "corpus.jsonl": "b8d6c89624cb2ed74dee8938effc4f5d8bd2086887880af8110d64be4ceade62",
    }
    assert by_name["tfidf-cosine"]["settings"] == make_verifier("tfidf-cosine").settings.as_provenance()
    assert by_name["claim-coverage"]["settings"]["threshold"] == CLAIM_COVERAGE_THRESHOLD
    assert by_name["claim-coverage"]["f1"] > by_name["tfidf-cosine"]["f1"]
    assert by_name["claim-coverage"]["cross_validated_f1"] > report["baselines"]["always_verified"]["f1"]
