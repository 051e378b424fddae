"""How good is "verified"? Verifiers and the search stage measured on SciFact-format data.

Data (see data/scifact/SOURCE.md): ``corpus.jsonl`` with {doc_id, title, abstract: [sentences]}
and ``claims_<split>.jsonl`` with {id, claim, evidence: {doc_id: [{sentences, label}]},
cited_doc_ids}. A cited document without evidence is "not enough info" (NEI) for that claim.

Verification is measured on every (claim, cited document) pair: the gold answer is "evidence
present" (SUPPORT or CONTRADICT, the positive class) versus NEI, the prediction is
``verifier.verify(claim, [(doc_id, title + " " + abstract)]).verified``. A verifier that says
"verified" for a contradicting abstract is counted right here because the kernel's flag only claims
relevance, not agreement; the per-label breakdown shows how often that happens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from generator.clock import now_iso
from generator.digests import sha256_bytes
from generator.errors import InputError
from generator.pipeline.ranking import BM25Index
from generator.pipeline.verification import (
    VERIFIERS,
    Calibration,
    Verifier,
    calibrate_threshold,
    make_verifier,
)

LABELS = ("SUPPORT", "CONTRADICT")
NEI = "NEI"
RECALL_KS = (1, 3, 10)
CV_FOLDS = 5

DEFINITIONS = {
    "positive_class": "evidence present (SUPPORT or CONTRADICT) for a (claim, cited document) pair; "
    "negative: not enough info (NEI)",
    "precision_recall_f1": "of the verdict verified, over all pairs; precision is 0 when nothing is verified. "
    "On a split used to calibrate a verifier's threshold (see its settings) these are in-sample, hence optimistic",
    "cross_validated_f1": f"F1 when the verifier's threshold is re-chosen by calibrate_threshold on {CV_FOLDS - 1} "
    f"of {CV_FOLDS} claim folds (claim i of the file in fold i mod {CV_FOLDS}) and applied to the held-out fold: "
    "the out-of-sample estimate for a threshold tuned on this split",
    "always_verified": "the trivial baseline that verifies every pair",
}


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    abstract: tuple[str, ...]

    @property
    def text(self) -> str:
        """What a verifier and the search index see: the title, then the abstract's sentences."""
        return " ".join([self.title, *self.abstract])


@dataclass(frozen=True)
class Claim:
    claim_id: str
    text: str
    evidence: dict[str, str]  # doc_id -> SUPPORT | CONTRADICT
    cited_doc_ids: tuple[str, ...]

    def label_for(self, doc_id: str) -> str:
        return self.evidence.get(doc_id, NEI)


@dataclass(frozen=True)
class Pair:
    claim: Claim
    doc_id: str
    label: str

    @property
    def has_evidence(self) -> bool:
        return self.label != NEI


@dataclass(frozen=True)
class SciFact:
    """One split of a SciFact-format folder, with the SHA-256 of each file read."""

    split: str
    corpus: dict[str, Document]
    claims: tuple[Claim, ...]
    data_files: dict[str, str]

    def pairs(self) -> list[Pair]:
        """Every (claim, cited document) pair, in file order; a document cited twice counts once."""
        return [
            Pair(claim, doc_id, claim.label_for(doc_id))
            for claim in self.claims
            for doc_id in dict.fromkeys(claim.cited_doc_ids)
        ]


def _read_jsonl(path: Path) -> tuple[str, Iterator[tuple[int, dict[str, Any]]]]:
    """The file's SHA-256 and its objects with 1-based line numbers; blank lines are skipped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None

    def objects() -> Iterator[tuple[int, dict[str, Any]]]:
        for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: malformed JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(value, dict):
                raise InputError(f"{path}:{number}: expected a JSON object, got {type(value).__name__}")
            yield number, value

    return sha256_bytes(data), objects()


def _field(obj: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    if name not in obj:
        raise InputError(f"{where}: missing field {name!r}")
    value = obj[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InputError(f"{where}: field {name!r} has the wrong type ({type(value).__name__})")
    return value


def _doc_id(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InputError(f"{where}: document id {value!r} is not an integer or string")
    return str(value)


def _parse_document(obj: dict[str, Any], where: str) -> Document:
    abstract = _field(obj, "abstract", list, where)
    if not all(isinstance(sentence, str) for sentence in abstract):
        raise InputError(f"{where}: field 'abstract' must be a list of sentences (strings)")
    return Document(_doc_id(_field(obj, "doc_id", (int, str), where), where), _field(obj, "title", str, where), tuple(abstract))


def _parse_claim(obj: dict[str, Any], where: str, corpus: dict[str, Document]) -> Claim:
    claim_id = str(_field(obj, "id", (int, str), where))
    text = _field(obj, "claim", str, where)
    cited = tuple(_doc_id(value, where) for value in _field(obj, "cited_doc_ids", list, where))
    evidence: dict[str, str] = {}
    for raw_id, rationales in _field(obj, "evidence", dict, where).items():
        doc_id = _doc_id(raw_id, where)
        if not isinstance(rationales, list) or not rationales:
            raise InputError(f"{where}: evidence for document {doc_id} must be a non-empty list")
        labels = {item.get("label") if isinstance(item, dict) else None for item in rationales}
        if len(labels) != 1 or not labels <= set(LABELS):
            raise InputError(f"{where}: evidence for document {doc_id} must have one label, SUPPORT or CONTRADICT; got {sorted(map(str, labels))}")
        evidence[doc_id] = labels.pop()
    for doc_id in (*cited, *evidence):
        if doc_id not in corpus:
            raise InputError(f"{where}: document {doc_id} is not in corpus.jsonl")
    return Claim(claim_id, text, evidence, cited)


def load_scifact(data_dir: Path, split: str = "train") -> SciFact:
    """Read and check ``corpus.jsonl`` and ``claims_<split>.jsonl``; errors name the file and line."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: not a folder")
    claims_path = data_dir / f"claims_{split}.jsonl"
    if not claims_path.is_file():
        known = sorted(p.name[len("claims_") : -len(".jsonl")] for p in data_dir.glob("claims_*.jsonl"))
        raise InputError(f"{claims_path}: file not found (splits here: {', '.join(known) or 'none'})")
    corpus_path = data_dir / "corpus.jsonl"
    corpus_digest, corpus_lines = _read_jsonl(corpus_path)
    corpus: dict[str, Document] = {}
    for number, obj in corpus_lines:
        document = _parse_document(obj, f"{corpus_path}:{number}")
        if document.doc_id in corpus:
            raise InputError(f"{corpus_path}:{number}: duplicate doc_id {document.doc_id}")
        corpus[document.doc_id] = document
    claims_digest, claim_lines = _read_jsonl(claims_path)
    claims = tuple(_parse_claim(obj, f"{claims_path}:{number}", corpus) for number, obj in claim_lines)
    return SciFact(split, corpus, claims, {corpus_path.name: corpus_digest, claims_path.name: claims_digest})


def _ratio(numerator: int, denominator: int) -> float:
    """A rate with the convention 0/0 = 0 (e.g. precision of a verifier that never says verified)."""
    return numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@dataclass(frozen=True)
class LabelCount:
    pairs: int
    verified: int


@dataclass(frozen=True)
class VerifierEvaluation:
    """Counts of "verified" per gold label; every rate is derived from them."""

    name: str
    settings: dict[str, Any]
    per_label: dict[str, LabelCount]  # SUPPORT, CONTRADICT, NEI
    cross_validated_f1: float

    @property
    def pairs(self) -> int:
        return sum(count.pairs for count in self.per_label.values())

    @property
    def positives(self) -> int:
        return sum(self.per_label[label].pairs for label in LABELS)

    @property
    def true_positives(self) -> int:
        return sum(self.per_label[label].verified for label in LABELS)

    @property
    def false_positives(self) -> int:
        return self.per_label[NEI].verified

    @property
    def precision(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_positives)

    @property
    def recall(self) -> float:
        return _ratio(self.true_positives, self.positives)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    def to_json(self) -> dict[str, Any]:
        per_label: dict[str, Any] = {
            label: {"pairs": self.per_label[label].pairs, "verified": self.per_label[label].verified,
                    "recall": round(_ratio(self.per_label[label].verified, self.per_label[label].pairs), 4)}
            for label in LABELS
        }
        nei = self.per_label[NEI]
        per_label[NEI] = {"pairs": nei.pairs, "verified": nei.verified,
                          "false_positive_rate": round(_ratio(nei.verified, nei.pairs), 4)}
        return {
            "name": self.name,
            "settings": self.settings,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "cross_validated_f1": round(self.cross_validated_f1, 4),
            "per_label": per_label,
            "pairs": self.pairs,
            "positives": self.positives,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.positives - self.true_positives,
            "true_negatives": nei.pairs - nei.verified,
        }


@dataclass(frozen=True)
class RetrievalEvaluation:
    """BM25 over the whole corpus, query = claim text, measured on claims that have evidence.

    ``recall_at_k``: fraction of those claims whose gold evidence documents are *all* in the top k.
    ``doc_recall_at_k``: fraction of gold (claim, evidence document) pairs found in the claim's top k.
    """

    corpus_documents: int
    claims_with_evidence: int
    gold_documents: int
    claims_all_found: dict[int, int]
    docs_found: dict[int, int]

    def recall_at(self, k: int) -> float:
        return _ratio(self.claims_all_found[k], self.claims_with_evidence)

    def doc_recall_at(self, k: int) -> float:
        return _ratio(self.docs_found[k], self.gold_documents)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": f"BM25 (k1=1.5, b=0.75) over title + abstract of all {self.corpus_documents} corpus documents",
            "query": "claim text",
            "claims_with_evidence": self.claims_with_evidence,
            "gold_documents": self.gold_documents,
            "recall_at_k": {str(k): round(self.recall_at(k), 4) for k in sorted(self.claims_all_found)},
            "doc_recall_at_k": {str(k): round(self.doc_recall_at(k), 4) for k in sorted(self.docs_found)},
            "definition": (
                "recall_at_k: fraction of claims with evidence whose gold evidence documents all appear among "
                "the top k BM25 hits for the claim; doc_recall_at_k: fraction of gold (claim, evidence "
                "document) pairs whose document appears among the claim's top k hits"
            ),
        }


@dataclass(frozen=True)
class EvaluationResult:
    split: str
    data_files: dict[str, str]
    evaluated_at: str
    verifiers: tuple[VerifierEvaluation, ...]
    retrieval: RetrievalEvaluation
    dataset: str = "SciFact"

    def always_verified(self) -> dict[str, float]:
        """The trivial baseline every verifier must beat: say "verified" for every pair."""
        first = self.verifiers[0] if self.verifiers else None
        pairs, positives = (first.pairs, first.positives) if first else (0, 0)
        precision, recall = _ratio(positives, pairs), 1.0 if positives else 0.0
        return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(_f1(precision, recall), 4)}

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "split": self.split,
            "data_files": dict(sorted(self.data_files.items())),
            "evaluated_at": self.evaluated_at,
            "verifiers": [verifier.to_json() for verifier in self.verifiers],
            "baselines": {"always_verified": self.always_verified()},
            "retrieval": self.retrieval.to_json(),
            "definitions": DEFINITIONS,
        }


def _fit_on_corpus(verifier: Verifier, dataset: SciFact) -> None:
    fit = getattr(verifier, "fit", None)
    if callable(fit):
        fit([document.text for document in dataset.corpus.values()])


def pair_scores(verifier: Verifier, dataset: SciFact) -> tuple[list[Pair], np.ndarray, np.ndarray]:
    """Fit the verifier on the corpus (if it fits), then each pair's score and verdict."""
    _fit_on_corpus(verifier, dataset)
    pairs = dataset.pairs()
    verdicts = [verifier.verify(pair.claim.text, [(pair.doc_id, dataset.corpus[pair.doc_id].text)]) for pair in pairs]
    return pairs, np.array([v.best_score for v in verdicts]), np.array([v.verified for v in verdicts], dtype=bool)


def cross_validated_f1(scores: Sequence[float], labels: Sequence[bool], claim_index: Sequence[int], folds: int = CV_FOLDS) -> float:
    """Out-of-sample F1 of "score + calibrated threshold": pairs of claim i are in fold i mod folds."""
    scores, labels = np.asarray(scores, float), np.asarray(labels, bool)
    fold_of = np.asarray(claim_index) % folds
    predicted = np.zeros(len(scores), dtype=bool)
    for fold in range(folds):
        held_out = fold_of == fold
        if not held_out.any() or not labels[~held_out].any():
            continue
        threshold = calibrate_threshold(scores[~held_out], labels[~held_out]).threshold
        predicted[held_out] = scores[held_out] >= threshold
    true_positives = int(np.sum(predicted & labels))
    return _f1(_ratio(true_positives, int(predicted.sum())), _ratio(true_positives, int(labels.sum())))


def evaluate_verifier(verifier: Verifier, dataset: SciFact) -> VerifierEvaluation:
    pairs, scores, verified = pair_scores(verifier, dataset)
    per_label = {
        label: LabelCount(
            pairs=sum(1 for pair in pairs if pair.label == label),
            verified=sum(1 for pair, ok in zip(pairs, verified) if ok and pair.label == label),
        )
        for label in (*LABELS, NEI)
    }
    claim_index = {claim.claim_id: index for index, claim in enumerate(dataset.claims)}
    labels = [pair.has_evidence for pair in pairs]
    cv_f1 = cross_validated_f1(scores, labels, [claim_index[p.claim.claim_id] for p in pairs]) if any(labels) else 0.0
    return VerifierEvaluation(verifier.name, verifier.settings.as_provenance(), per_label, cv_f1)


def evaluate_retrieval(dataset: SciFact, ks: Sequence[int] = RECALL_KS) -> RetrievalEvaluation:
    doc_ids = list(dataset.corpus)
    index = BM25Index([dataset.corpus[doc_id].text for doc_id in doc_ids])
    claims_all_found = {k: 0 for k in ks}
    docs_found = {k: 0 for k in ks}
    with_evidence = [claim for claim in dataset.claims if claim.evidence]
    for claim in with_evidence:
        ranked = [doc_ids[hit.index] for hit in index.search(claim.text, limit=max(ks))]
        for k in ks:
            found = sum(1 for doc_id in claim.evidence if doc_id in ranked[:k])
            docs_found[k] += found
            claims_all_found[k] += found == len(claim.evidence)
    return RetrievalEvaluation(
        corpus_documents=len(doc_ids),
        claims_with_evidence=len(with_evidence),
        gold_documents=sum(len(claim.evidence) for claim in with_evidence),
        claims_all_found=claims_all_found,
        docs_found=docs_found,
    )


def evaluate_scifact(data_dir: Path, split: str = "train", verifier_names: Sequence[str] | None = None) -> EvaluationResult:
    """Every named verifier (default: all registered) and the search stage on one split."""
    names = list(dict.fromkeys(verifier_names or VERIFIERS))
    verifiers = [make_verifier(name) for name in names]  # unknown names fail before any work
    dataset = load_scifact(data_dir, split)
    return EvaluationResult(
        split=split,
        data_files=dataset.data_files,
        evaluated_at=now_iso(),
        verifiers=tuple(evaluate_verifier(verifier, dataset) for verifier in verifiers),
        retrieval=evaluate_retrieval(dataset),
    )


def calibrate_on_scifact(data_dir: Path, verifier_name: str, split: str = "train") -> Calibration:
    """Re-run a threshold calibration: the F1-maximising threshold for ``verifier_name`` on ``split``.

    Only the train split may be used, so that other splits stay untouched for evaluation.
    """
    if split != "train":
        raise InputError("thresholds are calibrated on the train split only")
    dataset = load_scifact(data_dir, split)
    pairs, scores, _ = pair_scores(make_verifier(verifier_name), dataset)
    return calibrate_threshold(scores, [pair.has_evidence for pair in pairs])


def format_table(result: EvaluationResult) -> str:
    """The human summary the CLI prints: one row per verifier, then retrieval recall@k."""
    first = result.verifiers[0] if result.verifiers else None
    lines = [
        f"{result.dataset} {result.split}: {first.pairs if first else 0} (claim, cited document) pairs, "
        f"{first.positives if first else 0} with evidence (positive = SUPPORT or CONTRADICT)",
        "",
        f"{'verifier':<20} {'precision':>9} {'recall':>7} {'F1':>7} {'CV F1':>7} {'SUPPORT rec':>11} "
        f"{'CONTRA rec':>10} {'NEI FPR':>7}",
    ]
    for verifier in result.verifiers:
        rates = {label: _ratio(count.verified, count.pairs) for label, count in verifier.per_label.items()}
        lines.append(
            f"{verifier.name:<20} {verifier.precision:>9.4f} {verifier.recall:>7.4f} {verifier.f1:>7.4f} "
            f"{verifier.cross_validated_f1:>7.4f} {rates['SUPPORT']:>11.4f} {rates['CONTRADICT']:>10.4f} "
            f"{rates[NEI]:>7.4f}"
        )
    baseline = result.always_verified()
    lines.append(
        f"{'(always verified)':<20} {baseline['precision']:>9.4f} {baseline['recall']:>7.4f} {baseline['f1']:>7.4f}"
    )
    retrieval = result.retrieval
    lines += [
        "",
        f"Retrieval: BM25 over {retrieval.corpus_documents} documents, "
        f"{retrieval.claims_with_evidence} claims with evidence",
        f"{'k':>4} {'recall@k':>9} {'doc recall@k':>13}",
    ]
    lines += [
        f"{k:>4} {retrieval.recall_at(k):>9.4f} {retrieval.doc_recall_at(k):>13.4f}"
        for k in sorted(retrieval.claims_all_found)
    ]
    return "\n".join(lines)
