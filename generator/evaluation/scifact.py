"""How good is "verified"? Verifiers measured on SciFact-format data, each at the threshold it is used with.

Regenerate the shipped figures (generator/data/verifier_eval.json) with::

    SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) python -m generator eval-verifier generator/data/scifact \\
        --out generator/data/verifier_eval.json

Four tasks, each defined in ``TASKS`` in one sentence, over every claim of the split:

* the pair task: (claim, cited abstract) -> verified or not, right when verified exactly for SUPPORT;
* contradiction: the share of CONTRADICT pairs a verifier calls verified (it should be near 0);
* SciFact's abstract-level label-only task: retrieve the top ``ABSTRACT_K`` abstracts by BM25 and label
  each; a (claim, abstract, SUPPORT|CONTRADICT) prediction is right when the gold label agrees;
* the pipeline setting: verify each claim against its top ``PIPELINE_SOURCES`` BM25 abstracts at once.

Claims are dealt into ``CV_FOLDS`` folds grouped by shared documents (``generator.scifact.grouped_folds``).
A trained verifier is trained on four folds (model and threshold) and judged on the fifth, so its figures
are out-of-fold; a fixed rule is applied as it is. Nothing is ever re-thresholded for the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from sklearn.metrics import roc_auc_score

from generator.clock import now_iso
from generator.errors import InputError
from generator.pipeline import stance
from generator.pipeline.ranking import BM25Index
from generator.pipeline.verification import (
    CONTRADICT,
    NOT_ENOUGH_INFO,
    SUPPORT,
    TRAINED,
    VERIFIERS,
    Calibration,
    ClaimCoverageVerifier,
    CoverageStanceVerifier,
    StanceVerifier,
    TrainedVerifiers,
    Verification,
    Verifier,
    calibrate_threshold,
    make_trained_verifier,
    make_verifier,
    train_verifiers,
)
from generator.scifact import NEI, Claim, Pair, SciFact, grouped_folds, load_scifact  # noqa: F401 - load_scifact re-exported

RECALL_KS = (1, 3, 10)
CV_FOLDS = 5
ABSTRACT_K = 3
PIPELINE_SOURCES = 15
GOLD = (SUPPORT, CONTRADICT, NEI)
PREDICTED = (SUPPORT, CONTRADICT, NOT_ENOUGH_INFO)
VERISCI = {
    "system": "VeriSci",
    "abstract_label_only_f1": [0.47, 0.51],
    "split": "dev",
    "source": "Wadden et al., Fact or Fiction: Verifying Scientific Claims, EMNLP 2020 (SciFact dev split)",
}

TASKS = {
    "pair": "Given a claim and one abstract it cites, say verified exactly when the abstract supports the claim "
            "(gold SUPPORT); a contradicting or uninformative abstract (CONTRADICT, NEI) must not be verified.",
    "contradiction": "The share of (claim, cited abstract) pairs whose abstract contradicts the claim that the "
                     "verifier calls verified.",
    "abstract_level": f"SciFact's abstract-level label-only task: for each claim take the top {ABSTRACT_K} abstracts "
                      "of the whole corpus by BM25, label each SUPPORT, CONTRADICT or not enough info, and count a "
                      "SUPPORT or CONTRADICT prediction right when that abstract is gold evidence with that label "
                      "(F1 over all claims).",
    "pipeline": f"Each claim verified against its top {PIPELINE_SOURCES} BM25 abstracts at once, as the pipeline "
                "does: how often it is verified when none of them is gold evidence, and how often a claim whose "
                "supporting gold abstract is among them is verified through that abstract.",
}
DEFINITIONS = {
    "auroc": "area under the ROC curve of the verifier's support score (best_score) for gold SUPPORT against "
             "CONTRADICT and NEI; 0.5 is chance",
    "balanced_accuracy": "mean of the recall on SUPPORT pairs and the recall on the other pairs (verified vs not); "
                         "both trivial baselines score 0.5",
    "precision_recall_f1": "of the verdict verified against gold SUPPORT, over all pairs; precision is 0 when "
                           "nothing is verified",
    "figures": "out-of-fold for a trained verifier (trained on 4 of 5 folds of claims grouped by shared documents, "
               "judged on the 5th); for a fixed rule, the rule as it is; for a threshold calibrated on this split, "
               "in-sample",
    "always_verified": "the trivial baseline that verifies every pair",
    "never_verified": "the trivial baseline that verifies nothing",
}
FIGURES = {
    "coverage-stance": f"out-of-fold ({CV_FOLDS}-fold cross-validation, claims grouped by shared documents; stance model "
                       "and both thresholds learnt on the training folds only)",
    "stance-lr": f"out-of-fold ({CV_FOLDS}-fold cross-validation, claims grouped by shared documents; model and "
                 "threshold learnt on the training folds only)",
    "tfidf-cosine": "fixed rule (threshold 0.15 from the kernel; nothing fitted to these labels)",
    "claim-coverage": "in-sample (its threshold was calibrated on this split's pairs)",
}


def _ratio(numerator: int, denominator: int) -> float:
    """A rate with the convention 0/0 = 0 (e.g. precision of a verifier that never says verified)."""
    return numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


@dataclass(frozen=True)
class Judged:
    """Every verdict a verifier gave on one split: per cited pair, per top-k abstract, per claim in the pipeline."""

    pairs: list[tuple[Pair, Verification]]
    abstracts: list[tuple[Claim, str, Verification]]  # top ABSTRACT_K per claim, each verified alone
    pipeline: list[tuple[Claim, tuple[str, ...], Verification]]  # the claim's top PIPELINE_SOURCES, together


def pair_task(pairs: Sequence[tuple[str, bool, float]]) -> dict[str, Any]:
    """P/R/F1, AUROC and balanced accuracy of (gold label, verified, score) rows; positive = gold SUPPORT."""
    gold = np.array([label == SUPPORT for label, _, _ in pairs], dtype=bool)
    said = np.array([verified for _, verified, _ in pairs], dtype=bool)
    scores = np.array([score for _, _, score in pairs], dtype=float)
    tp, fp = int(np.sum(said & gold)), int(np.sum(said & ~gold))
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, int(gold.sum()))
    specificity = _ratio(int(np.sum(~said & ~gold)), int((~gold).sum()))
    auroc = float(roc_auc_score(gold, scores)) if 0 < gold.sum() < len(gold) else None
    return {"pairs": len(pairs), "support_pairs": int(gold.sum()), "verified": int(said.sum()),
            "precision": _r(precision), "recall": _r(recall), "f1": _r(_f1(precision, recall)), "auroc": _r(auroc),
            "balanced_accuracy": _r((recall + specificity) / 2)}


def abstract_level(predicted: set[tuple[str, str, str]], gold: set[tuple[str, str, str]]) -> dict[str, Any]:
    """Label-only abstract-level P/R/F1: (claim, doc, label) predictions against gold (claim, doc, label)."""
    correct = len(predicted & gold)
    precision, recall = _ratio(correct, len(predicted)), _ratio(correct, len(gold))
    return {"k": ABSTRACT_K, "predicted": len(predicted), "gold": len(gold), "correct": correct,
            "precision": _r(precision), "recall": _r(recall), "f1": _r(_f1(precision, recall))}


def gold_abstracts(dataset: SciFact) -> set[tuple[str, str, str]]:
    return {(claim.claim_id, doc_id, label) for claim in dataset.claims for doc_id, label in claim.evidence.items()}


def pipeline_setting(rows: Sequence[tuple[Claim, tuple[str, ...], Verification]]) -> dict[str, Any]:
    """False verification without gold evidence among the sources; verification through a supporting gold source."""
    without = [v for claim, sources, v in rows if not set(sources) & set(claim.evidence)]
    support_rows = [(claim, v) for claim, sources, v in rows
                    if any(claim.evidence.get(doc_id) == SUPPORT for doc_id in sources)]
    contra_rows = [(claim, v, sources) for claim, sources, v in rows
                   if any(claim.evidence.get(doc_id) == CONTRADICT for doc_id in sources)]
    through = sum(1 for claim, v in support_rows if v.verified and claim.evidence.get(v.best_source) == SUPPORT)
    contra_verified = sum(1 for _, v, _ in contra_rows if v.verified)
    contra_found = sum(1 for claim, v, _ in contra_rows if claim.evidence.get(v.contradicted_by or "") == CONTRADICT)
    return {
        "sources_per_claim": PIPELINE_SOURCES,
        "claims_without_gold_evidence": len(without),
        "falsely_verified": sum(1 for v in without if v.verified),
        "false_verification_rate": _r(_ratio(sum(1 for v in without if v.verified), len(without))),
        "claims_with_supporting_gold_source": len(support_rows),
        "verified_through_gold": through,
        "share_verified_through_gold": _r(_ratio(through, len(support_rows))),
        "claims_with_contradicting_gold_source": len(contra_rows),
        "verified_despite_contradicting_gold": contra_verified,
        "contradicted_by_gold": contra_found,
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




@dataclass(frozen=True)
class VerifierEvaluation:
    """One verifier's figures on every task, at the settings it is used with."""

    name: str
    settings: dict[str, Any]
    figures: str
    pair: dict[str, Any]
    per_label: dict[str, dict[str, int]]  # gold label -> predicted label -> pairs
    abstract: dict[str, Any]
    pipeline: dict[str, Any]
    fold_thresholds: tuple = ()  # per fold: the threshold, or (coverage, direction) for coverage-stance

    @property
    def contradict_called_verified(self) -> float:
        row = self.per_label[CONTRADICT]
        return _ratio(row[SUPPORT], sum(row.values()))

    def to_json(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "settings": self.settings,
            "figures": self.figures,
            "pair_task": self.pair,
            "per_label": {gold: dict(self.per_label[gold]) for gold in GOLD},
            "contradict_called_verified": _r(self.contradict_called_verified),
            "abstract_level": self.abstract,
            "pipeline": self.pipeline,
        }
        if self.fold_thresholds:
            out["fold_thresholds"] = [list(t) if isinstance(t, tuple) else t for t in self.fold_thresholds]
        return out


def summarise(name: str, settings: dict[str, Any], figures: str, judged: Judged, dataset: SciFact,
              fold_thresholds: tuple = ()) -> VerifierEvaluation:
    per_label = {gold: {label: 0 for label in PREDICTED} for gold in GOLD}
    for pair, verdict in judged.pairs:
        per_label[pair.label][verdict.label] += 1
    pair = pair_task([(p.label, v.verified, v.best_score) for p, v in judged.pairs])
    predicted = {(claim.claim_id, doc_id, v.label) for claim, doc_id, v in judged.abstracts if v.label != NOT_ENOUGH_INFO}
    return VerifierEvaluation(name, settings, figures, pair, per_label, abstract_level(predicted, gold_abstracts(dataset)),
                              pipeline_setting(judged.pipeline), fold_thresholds)


def judge(dataset: SciFact, ranked: dict[str, list[str]], verifier_for: Callable[[Claim], Verifier]) -> Judged:
    """Every verdict of the verifier ``verifier_for(claim)`` gives for each claim (its fold's, if trained)."""
    text = {doc_id: document.text for doc_id, document in dataset.corpus.items()}
    pairs, abstracts, pipeline = [], [], []
    for claim in dataset.claims:
        verifier = verifier_for(claim)
        for doc_id in dict.fromkeys(claim.cited_doc_ids):
            pairs.append((Pair(claim, doc_id, claim.label_for(doc_id)), verifier.verify(claim.text, [(doc_id, text[doc_id])])))
        top = ranked.get(claim.claim_id, [])
        abstracts += [(claim, doc_id, verifier.verify(claim.text, [(doc_id, text[doc_id])])) for doc_id in top[:ABSTRACT_K]]
        sources = tuple(top[:PIPELINE_SOURCES])
        pipeline.append((claim, sources, verifier.verify(claim.text, [(doc_id, text[doc_id]) for doc_id in sources])))
    return Judged(pairs, abstracts, pipeline)


def _fit_on_corpus(verifier: Verifier, dataset: SciFact) -> None:
    fit = getattr(verifier, "fit", None)
    if callable(fit):
        fit([document.text for document in dataset.corpus.values()])


def _fold_trainings(dataset: SciFact, ranked: dict[str, list[str]], fold_of: dict[str, int],
                    memo: dict) -> tuple[list[TrainedVerifiers], TrainedVerifiers]:
    """Everything learnt on each fold's training claims (the other four folds), and on the whole split;
    computed once per evaluation (``memo``) and shared by the trained verifiers."""
    if "trainings" not in memo:
        texts = [document.text for document in dataset.corpus.values()]
        idf = stance.Idf.fit(texts)
        coverage = ClaimCoverageVerifier().fit(texts)
        training_ranked = {claim_id: docs[: stance.RANKED_PER_CLAIM] for claim_id, docs in ranked.items()}
        cache: dict = {}
        by_fold = []
        for fold in range(CV_FOLDS):
            claims = [claim for claim in dataset.claims if fold_of[claim.claim_id] != fold]
            try:
                by_fold.append(train_verifiers(dataset, claims, ranked=training_ranked, idf=idf, cache=cache,
                                               coverage=coverage))
            except (ValueError, InputError) as exc:
                raise InputError(f"the verifiers cannot be trained on the folds other than fold {fold + 1}: {exc}") from None
        whole = train_verifiers(dataset, ranked=training_ranked, idf=idf, cache=cache, coverage=coverage)
        memo["trainings"] = (by_fold, whole)
    return memo["trainings"]


def _trained_verifier(name: str, trained: TrainedVerifiers, dataset: SciFact) -> Verifier:
    verifier = make_trained_verifier(name, trained)
    if name == CoverageStanceVerifier.name:
        _fit_on_corpus(verifier, dataset)
    return verifier


def evaluate_verifier(name: str, dataset: SciFact, ranked: dict[str, list[str]], fold_of: dict[str, int],
                      memo: dict | None = None) -> VerifierEvaluation:
    """A fixed or calibrated rule is applied as it is; a trained verifier (stance-lr, coverage-stance) is trained
    per fold, thresholds included, and judged out-of-fold, and reported with the settings of the one trained on
    the whole split (the one a user of this data gets)."""
    if name not in TRAINED:
        verifier = make_verifier(name)
        _fit_on_corpus(verifier, dataset)
        return summarise(name, verifier.settings.as_provenance(), FIGURES.get(name, "fixed rule"),
                         judge(dataset, ranked, lambda claim: verifier), dataset)
    trainings, whole = _fold_trainings(dataset, ranked, fold_of, {} if memo is None else memo)
    by_fold = [_trained_verifier(name, trained, dataset) for trained in trainings]
    judged = judge(dataset, ranked, lambda claim: by_fold[fold_of[claim.claim_id]])
    if name == StanceVerifier.name:
        thresholds = tuple(verifier.threshold for verifier in by_fold)
    else:
        thresholds = tuple((verifier.threshold, verifier.direction_threshold) for verifier in by_fold)
    return summarise(name, _trained_verifier(name, whole, dataset).settings.as_provenance(), FIGURES[name], judged,
                     dataset, thresholds)


def baselines(dataset: SciFact, ranked: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    """Always verified and never verified, on the pair task, contradiction, abstract level and pipeline."""
    out = {}
    for name, verified in (("always_verified", True), ("never_verified", False)):
        label = SUPPORT if verified in (True,) else NOT_ENOUGH_INFO

        class Constant:
            def verify(self, claim: str, sources: Sequence[tuple[str, str]]) -> Verification:
                return Verification(label if sources else NOT_ENOUGH_INFO, sources[0][0] if sources else None,
                                    1.0 if verified else 0.0)

        entry = summarise(name, {}, "trivial baseline", judge(dataset, ranked, lambda claim: Constant()), dataset).to_json()
        out[name] = {key: entry[key] for key in ("pair_task", "contradict_called_verified", "abstract_level", "pipeline")}
    return out


@dataclass(frozen=True)
class EvaluationResult:
    split: str
    data_files: dict[str, str]
    evaluated_at: str
    folds: dict[str, Any]
    verifiers: tuple[VerifierEvaluation, ...]
    baselines: dict[str, dict[str, Any]]
    retrieval: RetrievalEvaluation
    dataset: str = "SciFact"

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "split": self.split,
            "data_files": dict(sorted(self.data_files.items())),
            "evaluated_at": self.evaluated_at,
            "command": "python -m generator eval-verifier generator/data/scifact --out generator/data/verifier_eval.json",
            "tasks": TASKS,
            "definitions": DEFINITIONS,
            "folds": self.folds,
            "verifiers": [verifier.to_json() for verifier in self.verifiers],
            "baselines": self.baselines,
            "reference": VERISCI,
            "retrieval": self.retrieval.to_json(),
        }


def fold_summary(dataset: SciFact, fold_of: dict[str, int]) -> dict[str, Any]:
    groups: dict[int, int] = {}
    for claim in dataset.claims:
        groups[fold_of[claim.claim_id]] = groups.get(fold_of[claim.claim_id], 0) + 1
    return {"count": CV_FOLDS, "claims_per_fold": [groups.get(f, 0) for f in range(CV_FOLDS)],
            "grouping": "claims sharing a cited or evidence document (connected components) are always in one fold"}


def evaluate_scifact(data_dir: Path, split: str = "train", verifier_names: Sequence[str] | None = None) -> EvaluationResult:
    """Every named verifier (default: all registered) on every task, the baselines, and BM25 retrieval."""
    names = list(dict.fromkeys(verifier_names or VERIFIERS))
    unknown = [name for name in names if name not in VERIFIERS]
    if unknown:
        make_verifier(unknown[0])  # raises, listing the known names, before any work
    dataset = load_scifact(data_dir, split)
    doc_ids = list(dataset.corpus)
    index = BM25Index([dataset.corpus[doc_id].text for doc_id in doc_ids])
    hits = index.search_many([claim.text for claim in dataset.claims], limit=max(PIPELINE_SOURCES, stance.RANKED_PER_CLAIM))
    ranked = {claim.claim_id: [doc_ids[hit.index] for hit in found] for claim, found in zip(dataset.claims, hits)}
    fold_of = grouped_folds(dataset.claims, CV_FOLDS)
    memo: dict = {}
    return EvaluationResult(
        split=split,
        data_files=dataset.data_files,
        evaluated_at=now_iso(),
        folds=fold_summary(dataset, fold_of),
        verifiers=tuple(evaluate_verifier(name, dataset, ranked, fold_of, memo) for name in names),
        baselines=baselines(dataset, ranked),
        retrieval=evaluate_retrieval(dataset),
    )


def pair_scores(verifier: Verifier, dataset: SciFact) -> tuple[list[Pair], np.ndarray, np.ndarray]:
    """Fit the verifier on the corpus (if it fits), then each cited pair's score and verdict (verified or not)."""
    _fit_on_corpus(verifier, dataset)
    pairs = dataset.pairs()
    verdicts = [verifier.verify(pair.claim.text, [(pair.doc_id, dataset.corpus[pair.doc_id].text)]) for pair in pairs]
    return pairs, np.array([v.best_score for v in verdicts]), np.array([v.verified for v in verdicts], dtype=bool)


def calibrate_on_scifact(data_dir: Path, verifier_name: str, split: str = "train") -> Calibration:
    """Re-run the calibration behind CLAIM_COVERAGE_THRESHOLD: the threshold maximising F1 of "evidence
    present" (SUPPORT or CONTRADICT, the positive class it was chosen for) on ``split``.

    Only the train split may be used, so that other splits stay untouched for evaluation.
    """
    if split != "train":
        raise InputError("thresholds are calibrated on the train split only")
    dataset = load_scifact(data_dir, split)
    pairs, scores, _ = pair_scores(make_verifier(verifier_name), dataset)
    return calibrate_threshold(scores, [pair.has_evidence for pair in pairs])


def _threshold_text(threshold: float | tuple[float, ...]) -> str:
    return "/".join(f"{t:g}" for t in threshold) if isinstance(threshold, tuple) else f"{threshold:g}"


def _cell(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def format_table(result: EvaluationResult) -> str:
    """The human summary the CLI prints: one row per verifier and baseline, the reference, then retrieval."""
    first = result.verifiers[0] if result.verifiers else None
    pairs = first.pair["pairs"] if first else 0
    support = first.pair["support_pairs"] if first else 0
    lines = [
        f"{result.dataset} {result.split}: {pairs} (claim, cited abstract) pairs, {support} SUPPORT "
        f"(verified is right only for SUPPORT); {CV_FOLDS} folds grouped by shared documents",
        "",
        f"{'verifier':<18} {'thresh':>6} {'P':>6} {'R':>6} {'F1':>6} {'AUROC':>6} {'BalAcc':>6} "
        f"{'C->ver':>6} {'abs F1':>6} {'pipeFV':>6} {'viaGold':>7}",
    ]
    rows = [(v.name, v.settings.get("threshold"), v.to_json()) for v in result.verifiers]
    rows += [(f"({name.replace('_', ' ')})", None, entry) for name, entry in result.baselines.items()]
    for name, threshold, entry in rows:
        pair, pipe = entry["pair_task"], entry["pipeline"]
        lines.append(
            f"{name:<18} {('' if threshold is None else f'{threshold:g}'):>6} {_cell(pair['precision']):>6} "
            f"{_cell(pair['recall']):>6} {_cell(pair['f1']):>6} {_cell(pair['auroc']):>6} "
            f"{_cell(pair['balanced_accuracy']):>6} {_cell(entry['contradict_called_verified']):>6} "
            f"{_cell(entry['abstract_level']['f1']):>6} {_cell(pipe['false_verification_rate']):>6} "
            f"{_cell(pipe['share_verified_through_gold']):>7}"
        )
    low, high = VERISCI["abstract_label_only_f1"]
    lines += [
        "",
        "C->ver: share of CONTRADICT pairs called verified. abs F1: SciFact abstract-level label-only F1 "
        f"(top {ABSTRACT_K} BM25).",
        f"pipeFV: verified with no gold evidence among the top {PIPELINE_SOURCES}; viaGold: verified through a "
        "supporting gold abstract among them.",
        f"Reference: VeriSci abstract-level label-only F1 {low:.2f}-{high:.2f} on SciFact dev (published); the "
        f"figures above are on {result.split} ({', '.join(sorted({v.figures.split(' (')[0] for v in result.verifiers}))}).",
    ]
    for verifier in result.verifiers:
        lines.append(f"  {verifier.name}: {verifier.figures}"
                     + (f"; fold thresholds {', '.join(_threshold_text(t) for t in verifier.fold_thresholds)}" if verifier.fold_thresholds else ""))
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
