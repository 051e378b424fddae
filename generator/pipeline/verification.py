"""Claim verification: does a retrieved source support a claim, contradict it, or neither -- and by which rule?

A verifier returns a ``Verification`` with a label, SUPPORT, CONTRADICT or NOT_ENOUGH_INFO; only SUPPORT
counts as "verified". Four verifiers, selectable by name through ``VERIFIERS`` / ``make_verifier``:

* ``coverage-stance`` (the pipeline's default): claim coverage says whether a source is on topic, a
  restatement rule and the stance model say which way, a number veto keeps a source reporting other
  quantities from supporting (``CoverageStanceVerifier``).
* ``stance-lr`` reads direction: a logistic regression over overlap, negation, antonym,
  increase/decrease, number and hedging cues (``generator.pipeline.stance``), trained on the SciFact
  train split shipped in the package (coefficients in ``verifier_model.json``), so a source that says the
  opposite of the claim is CONTRADICT, not verified.
* ``tfidf-cosine`` is the kernel's rule, unchanged, the method of record for imported kernel drafts:
  "TF-IDF cosine semantic verification (word bigrams, threshold=0.15)". It measures shared words only,
  so it never says CONTRADICT.
* ``claim-coverage``: the IDF-weighted share of the claim's content words found in the source. Also
  direction-blind (SUPPORT or NOT_ENOUGH_INFO only).

Every verifier carries ``VerifierSettings`` whose ``as_provenance()`` is what a provenance record
stores, so a published "verified" always says which rule produced it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Protocol, Sequence, runtime_checkable

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from generator.errors import InputError
from generator.pipeline import model_file, stance
from generator.pipeline.model_file import TrainedVerifiers
from generator.pipeline.ranking import BM25Index
from generator.scifact import SciFact, grouped_folds, load_scifact, shipped_dir

SUPPORT = "SUPPORT"
CONTRADICT = "CONTRADICT"
NOT_ENOUGH_INFO = "NOT_ENOUGH_INFO"
LABELS = (SUPPORT, CONTRADICT, NOT_ENOUGH_INFO)

# Tokens as BM25Index sees them: lowercase words, hyphenated compounds kept whole ("4-pba").
CONTENT_TOKEN_PATTERN = r"(?u)\b\w[\w-]*\b"

# Obtained with ``calibrate_on_scifact(Path("data/scifact"), "claim-coverage", split="train")``
# (generator/evaluation/scifact.py): IDF fitted on the 5,183-abstract SciFact corpus, every
# (claim, cited abstract) pair of the train split scored (919 pairs, 564 with evidence), threshold
# = midpoint between the F1-maximising score and the next lower score, rounded to 4 places.
# In-sample F1 0.8431 (P 0.8477, R 0.8387); re-choosing the threshold on 4 of 5 claim folds and
# scoring the fifth gives F1 0.8339 (``cross_validated_f1``), the out-of-sample estimate.
# Only the train split was ever used; re-run the function if the scoring changes.
CLAIM_COVERAGE_THRESHOLD = 0.3777


@dataclass(frozen=True)
class VerifierSettings:
    """The exact rule behind a verdict; ``params`` holds every setting beyond the four named ones."""

    method: str
    ngram_range: tuple[int, int]
    threshold: float
    analyzer: str = "word"
    params: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        clash = {"method", "ngram_range", "threshold", "analyzer"} & {key for key, _ in self.params}
        if clash:
            raise ValueError(f"params may not redefine {sorted(clash)}")

    def as_provenance(self) -> dict[str, Any]:
        """Plain JSON values, flat, so a provenance record can store and compare them as they are."""
        record: dict[str, Any] = {
            "method": self.method,
            "ngram_range": list(self.ngram_range),
            "analyzer": self.analyzer,
            "threshold": self.threshold,
        }
        record.update((key, list(value) if isinstance(value, tuple) else value) for key, value in self.params)
        return record


@dataclass(frozen=True)
class Verification:
    """The verdict on one claim; only SUPPORT is "verified".

    ``best_source`` is the source that scored highest for support even when it falls short (the near
    miss is worth recording); None only when there were no sources. ``contradicted_by`` is the source
    that most clearly says the opposite, when one did (a direction-blind verifier never sets it).
    """

    label: str
    best_source: str | None
    best_score: float
    contradicted_by: str | None = None
    contradiction_score: float = 0.0

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise ValueError(f"label must be one of {', '.join(LABELS)}, got {self.label!r}")

    @property
    def verified(self) -> bool:
        return self.label == SUPPORT


@runtime_checkable
class Verifier(Protocol):
    """What the pipeline needs from a verifier. ``fit`` is optional: call it when the verifier has one."""

    name: str
    settings: VerifierSettings

    def score(self, claim: str, source_text: str) -> float: ...

    def verify(self, claim: str, sources: Sequence[tuple[str, str]]) -> Verification: ...


def _verdict(scores: Sequence[float], sources: Sequence[tuple[str, str]], threshold: float) -> Verification:
    """Best source wins, ties to the earlier one; SUPPORT when its score >= threshold, else NOT_ENOUGH_INFO
    (a score of shared words cannot tell a contradiction from support)."""
    if not sources:
        return Verification(NOT_ENOUGH_INFO, best_source=None, best_score=0.0)
    best = max(range(len(sources)), key=lambda i: (scores[i], -i))
    best_score = float(scores[best])
    return Verification(SUPPORT if best_score >= threshold else NOT_ENOUGH_INFO, best_source=sources[best][0],
                        best_score=best_score)


class TfidfCosineVerifier:
    """The kernel's rule, kept exact so it can be measured: word unigrams + bigrams, scikit-learn
    TfidfVectorizer defaults (lowercase, smooth IDF, L2 norm), cosine of the claim against each
    whole source text, verified when the best cosine >= 0.15.

    IDF is fitted afresh in every call on the claim followed by the source texts at hand, in that
    order, exactly as the kernel does; nothing is carried between calls, so results are
    deterministic and independent of call order. ``fit`` is therefore a no-op.
    """

    name = "tfidf-cosine"

    def __init__(self, *, threshold: float = 0.15, ngram_range: tuple[int, int] = (1, 2)):
        self.settings = VerifierSettings(
            method="tfidf-cosine",
            ngram_range=tuple(ngram_range),
            threshold=threshold,
            params=(
                ("idf_fitted_on", "claim and source texts at hand"),
                ("lowercase", True),
                ("norm", "l2"),
                ("smooth_idf", True),
                ("sublinear_tf", False),
                ("source_unit", "whole text"),
                ("stop_words", None),
                ("token_pattern", r"(?u)\b\w\w+\b"),
            ),
        )

    def fit(self, texts: Iterable[str]) -> None:
        """No-op by design: the kernel's IDF comes from the texts at hand, see the class docstring."""

    def _cosines(self, claim: str, texts: Sequence[str]) -> np.ndarray:
        vectorizer = TfidfVectorizer(analyzer="word", ngram_range=self.settings.ngram_range)
        try:
            matrix = vectorizer.fit_transform([claim, *texts])
        except ValueError:  # no token anywhere: nothing to compare
            return np.zeros(len(texts))
        # Rows are L2-normalised, so the dot product is the cosine (0 for an empty row).
        return np.asarray((matrix[1:] @ matrix[0].T).todense()).ravel()

    def score(self, claim: str, source_text: str) -> float:
        return float(self._cosines(claim, [source_text])[0])

    def verify(self, claim: str, sources: Sequence[tuple[str, str]]) -> Verification:
        scores = self._cosines(claim, [text for _, text in sources]) if sources else []
        return _verdict(scores, sources, self.settings.threshold)


class ClaimCoverageVerifier:
    """Share of the claim found in the source: sum of IDF over the claim's distinct content words
    that also occur in the source, divided by the sum over all of them (0 to 1).

    Content words are lowercase tokens of ``CONTENT_TOKEN_PATTERN`` minus scikit-learn's English stop
    words. IDF is smooth IDF, ln((1 + n) / (1 + df)) + 1, over the background texts given to ``fit``
    (the evaluation fits on the whole SciFact corpus; the pipeline should fit on its search corpus);
    a word absent from them gets the highest weight, ln(1 + n) + 1. Unfitted, IDF comes from the
    claim and source texts at hand, like the kernel -- this works but the calibrated threshold was
    obtained with a fitted background, so fit whenever a corpus exists.
    """

    name = "claim-coverage"

    def __init__(self, *, threshold: float = CLAIM_COVERAGE_THRESHOLD):
        self._counter = CountVectorizer(
            lowercase=True, stop_words="english", token_pattern=CONTENT_TOKEN_PATTERN, binary=True
        )
        self._analyze = self._counter.build_analyzer()
        self._idf: dict[str, float] | None = None
        self._unseen_idf = 0.0
        self._background_size = 0
        self.settings = self._settings(threshold)

    def _settings(self, threshold: float) -> VerifierSettings:
        idf_source = f"background corpus of {self._background_size} texts" if self._idf is not None else (
            "claim and source texts at hand"
        )
        return VerifierSettings(
            method="claim-coverage",
            ngram_range=(1, 1),
            threshold=threshold,
            params=(
                ("idf", "smooth: ln((1 + n) / (1 + df)) + 1"),
                ("idf_fitted_on", idf_source),
                ("lowercase", True),
                ("score", "idf-weighted share of claim content words present in source"),
                ("source_unit", "whole text"),
                ("stop_words", "sklearn english"),
                ("threshold_calibration", "max F1 on SciFact train, see CLAIM_COVERAGE_THRESHOLD"),
                ("token_pattern", CONTENT_TOKEN_PATTERN),
            ),
        )

    def fit(self, texts: Iterable[str]) -> ClaimCoverageVerifier:
        """Learn document frequencies from background texts; returns self for chaining."""
        texts = list(texts)
        self._idf, self._unseen_idf = self._document_idf(texts)
        self._background_size = len(texts)
        self.settings = self._settings(self.settings.threshold)
        return self

    def _document_idf(self, texts: Sequence[str]) -> tuple[dict[str, float], float]:
        n_docs = len(texts)
        counter = CountVectorizer(lowercase=True, stop_words="english", token_pattern=CONTENT_TOKEN_PATTERN, binary=True)
        try:
            presence = counter.fit_transform(texts).tocsc()
        except ValueError:  # no content word in any text
            return {}, math.log(1 + n_docs) + 1.0
        doc_freq = np.diff(presence.indptr)
        idf = np.log((1.0 + n_docs) / (1.0 + doc_freq)) + 1.0
        return dict(zip(counter.get_feature_names_out().tolist(), idf.tolist())), math.log(1 + n_docs) + 1.0

    def _coverages(self, claim: str, texts: Sequence[str]) -> list[float]:
        if self._idf is None:
            idf, unseen = self._document_idf([claim, *texts])
        else:
            idf, unseen = self._idf, self._unseen_idf
        weights = {word: idf.get(word, unseen) for word in set(self._analyze(claim))}
        total = sum(weights.values())
        if total == 0:
            return [0.0] * len(texts)
        coverages = []
        for text in texts:
            present = set(self._analyze(text))
            coverages.append(sum(weight for word, weight in weights.items() if word in present) / total)
        return coverages

    def score(self, claim: str, source_text: str) -> float:
        return self._coverages(claim, [source_text])[0]

    def verify(self, claim: str, sources: Sequence[tuple[str, str]]) -> Verification:
        scores = self._coverages(claim, [text for _, text in sources]) if sources else []
        return _verdict(scores, sources, self.settings.threshold)


def ranked_documents(dataset: SciFact, limit: int) -> dict[str, list[str]]:
    """Claim id -> the ``limit`` best BM25 documents of the corpus for the claim text, best first."""
    doc_ids = list(dataset.corpus)
    index = BM25Index([dataset.corpus[doc_id].text for doc_id in doc_ids])
    hits = index.search_many([claim.text for claim in dataset.claims], limit=limit)
    return {claim.claim_id: [doc_ids[hit.index] for hit in found] for claim, found in zip(dataset.claims, hits)}


def train_on(dataset: SciFact, claims: Sequence | None = None, *, ranked: dict[str, list[str]] | None = None,
             idf: stance.Idf | None = None, cache: dict | None = None) -> stance.TrainedStance:
    """The stance model trained on ``claims`` (default: every claim of ``dataset``) with IDF over its corpus."""
    return train_verifiers(dataset, claims, ranked=ranked, idf=idf, cache=cache).stance


def train_verifiers(dataset: SciFact, claims: Sequence | None = None, *, ranked: dict[str, list[str]] | None = None,
                    idf: stance.Idf | None = None, cache: dict | None = None,
                    coverage: "ClaimCoverageVerifier | None" = None) -> TrainedVerifiers:
    """Everything learnt from ``claims`` (default: all of ``dataset``) and nothing else: the stance model with
    stance-lr's threshold, then coverage-stance's thresholds on the same claims' cited pairs -- the coverage
    threshold maximising F1 of "the abstract is evidence" (``calibrate_threshold``, as for claim-coverage), and
    the direction threshold by ``stance.choose_direction_threshold`` on the inner cross-validation's
    out-of-fold probabilities. ``coverage`` is claim coverage fitted on the corpus (made here if None)."""
    cache = {} if cache is None else cache
    texts = [document.text for document in dataset.corpus.values()]
    idf = idf or stance.Idf.fit(texts)
    ranked = ranked if ranked is not None else ranked_documents(dataset, stance.RANKED_PER_CLAIM)
    training = stance.fit_stance(list(dataset.claims if claims is None else claims), dataset.corpus, ranked, idf,
                                 grouped_folds(dataset.claims), cache)
    if coverage is None:
        coverage = ClaimCoverageVerifier().fit(texts)
    scores = []
    for claim_text, doc_id, _ in training.cited:
        key = ("coverage", claim_text, doc_id)
        if key not in cache:
            cache[key] = coverage.score(claim_text, dataset.corpus[doc_id].text)
        scores.append(cache[key])
    gold = [label for _, _, label in training.cited]
    rules = []
    for claim_text, doc_id, _ in training.cited:
        key = ("rules", claim_text, doc_id)
        if key not in cache:
            text = dataset.corpus[doc_id].text
            cache[key] = (stance.restatement(claim_text, text, idf) >= stance.RESTATEMENT,
                          stance.number_mismatch(claim_text, text, idf))
        rules.append(cache[key])
    coverage_threshold = calibrate_threshold(scores, [label != NOT_ENOUGH_INFO for label in gold]).threshold
    direction_threshold = stance.choose_direction_threshold(
        training.held_out, np.array(scores), gold, coverage_threshold, training.trained.threshold,
        restated=np.array([r for r, _ in rules], dtype=bool), mismatched=np.array([m for _, m in rules], dtype=bool))
    return TrainedVerifiers(training.trained, coverage_threshold, direction_threshold,
                            tuple(sorted(dataset.data_files.items())))


def train_shipped() -> TrainedVerifiers:
    """Train on the SciFact train split shipped in the package (what ``verifier_model.json`` holds)."""
    return train_verifiers(load_scifact(shipped_dir(), "train"))


@lru_cache(maxsize=1)
def shipped_models() -> TrainedVerifiers:
    """The trained verifiers of ``generator/data/verifier_model.json``, read once per process."""
    return model_file.load()


class StanceVerifier:
    """Support, contradiction or neither, per source, from ``generator.pipeline.stance``'s model.

    A source SUPPORTs when P(SUPPORT) >= the threshold and >= P(CONTRADICT); it CONTRADICTs when
    P(CONTRADICT) is the largest of the three probabilities. Over several sources the claim is SUPPORT
    when a source supports it at least as strongly as the strongest contradiction, else CONTRADICT when a
    source contradicts it, else NOT_ENOUGH_INFO. ``best_score`` is the highest P(SUPPORT) of any source.

    The threshold is learnt with the model: the lowest of ``stance.THRESHOLD_GRID`` at which at most
    ``stance.CONTRADICTION_BUDGET`` of the contradicting training pairs are called SUPPORT in a grouped
    inner cross-validation. IDF comes from the training corpus, so ``fit`` is a no-op: features must be
    read the way the model was trained.
    """

    name = "stance-lr"

    def __init__(self, *, threshold: float | None = None, trained: stance.TrainedStance | None = None,
                 data_files: Sequence[tuple[str, str]] | None = None):
        if trained is None:
            shipped = shipped_models()
            trained = shipped.stance
            data_files = shipped.data_files if data_files is None else data_files
        self.trained = trained
        self.threshold = trained.threshold if threshold is None else float(threshold)
        files = dict(data_files or ())
        self.settings = VerifierSettings(
            method="stance-lr",
            ngram_range=(1, 1),
            threshold=self.threshold,
            params=(
                ("classes", list(stance.CLASSES)),
                ("contradiction_rule", "P(CONTRADICT) is the largest of the three probabilities"),
                ("features", stance.FEATURE_SET),
                ("idf_fitted_on", f"training corpus of {trained.idf.documents} texts"),
                ("model", f"multinomial logistic regression (scikit-learn newton-cg, C={stance.REGULARISATION_C}, "
                          "balanced class weights, standardised features)"),
                ("source_unit", "whole text; cues read in its 2 sentences most like the claim"),
                ("support_rule", "P(SUPPORT) >= threshold and >= P(CONTRADICT)"),
                ("threshold_rule", f"lowest of {stance.THRESHOLD_GRID[0]}-{stance.THRESHOLD_GRID[-1]} (step 0.05) "
                                   f"calling at most {stance.CONTRADICTION_BUDGET:.0%} of contradicting training pairs "
                                   f"SUPPORT in a {stance.INNER_FOLDS}-fold inner cross-validation grouped by shared "
                                   "documents"),
                ("training_data", "SciFact train split: every (claim, cited abstract) pair with its gold label, "
                                  f"plus the first {stance.HARD_NEGATIVES} BM25 hits per claim it neither cites nor "
                                  "has evidence in, as NOT_ENOUGH_INFO"),
                ("training_data_sha256", dict(sorted(files.items()))),
                ("training_pairs", trained.examples),
            ),
        )

    def fit(self, texts: Iterable[str]) -> None:
        """No-op by design: IDF is the training corpus's, see the class docstring."""

    def probabilities(self, claim: str, texts: Sequence[str]) -> np.ndarray:
        features = stance.feature_matrix([(claim, text) for text in texts], self.trained.idf)
        return self.trained.model.probabilities(features) if len(texts) else np.zeros((0, len(stance.CLASSES)))

    def score(self, claim: str, source_text: str) -> float:
        return float(self.probabilities(claim, [source_text])[0, 0])

    def verify(self, claim: str, sources: Sequence[tuple[str, str]]) -> Verification:
        if not sources:
            return Verification(NOT_ENOUGH_INFO, best_source=None, best_score=0.0)
        probabilities = self.probabilities(claim, [text for _, text in sources])
        labels = stance.support_label(probabilities, self.threshold)
        best = max(range(len(sources)), key=lambda i: (probabilities[i, 0], -i))
        supporting = [i for i in range(len(sources)) if labels[i] == SUPPORT]
        contradicting = [i for i in range(len(sources)) if labels[i] == CONTRADICT]
        against = max(contradicting, key=lambda i: (probabilities[i, 1], -i)) if contradicting else None
        against_score = float(probabilities[against, 1]) if against is not None else 0.0
        if supporting:
            best = max(supporting, key=lambda i: (probabilities[i, 0], -i))
        if supporting and probabilities[best, 0] >= against_score:
            label = SUPPORT
        else:
            label = CONTRADICT if against is not None else NOT_ENOUGH_INFO
        return Verification(label, best_source=sources[best][0], best_score=float(probabilities[best, 0]),
                            contradicted_by=sources[against][0] if against is not None else None,
                            contradiction_score=against_score)


class CoverageStanceVerifier:
    """Claim coverage says whether a source speaks to the claim; the stance model says which way.

    Per source: ``coverage`` is claim-coverage's score (IDF-weighted share of the claim's content words the
    source has) and ``direction`` is P(CONTRADICT) / (P(SUPPORT) + P(CONTRADICT)) of the stance model. A
    source is on topic when coverage >= the threshold. It SUPPORTs when on topic, it reports no other
    numbers for what the claim measures (``stance.number_mismatch``), and either one of its sentences
    restates the claim (``stance.restatement`` >= ``stance.RESTATEMENT``: nearly all of the claim's words,
    with the same negation, direction and numbers; the model, trained where such sentences are mostly the
    source of a rewritten contradiction, gives a verbatim restatement P(CONTRADICT) above P(SUPPORT)) or the
    stance model leans towards agreement: direction < the direction threshold, or the model's own SUPPORT
    (stance-lr's rule at its threshold). It CONTRADICTs when on topic, neither supporting nor restating, and
    P(CONTRADICT) is the largest of the three probabilities. Over several sources the claim is SUPPORT when a
    source restates it, or when a source supports it with P(SUPPORT) at least the strongest contradicting
    source's P(CONTRADICT); else CONTRADICT when a source contradicts it; else NOT_ENOUGH_INFO.

    Why both: on SciFact train, coverage alone calls 82% of contradicting pairs verified (they share the
    claim's words), and the stance model alone almost never says SUPPORT for a claim sentence from one
    arXiv paper against another's abstract. A veto only where the model calls CONTRADICT still lets about
    half of the contradictions through, hence the learnt direction threshold.

    ``best_score`` (the support score) is the supporting source's coverage; a source that does not support
    counts min(coverage, threshold) x (1 - direction), the share of the model's belief that it agrees, so it
    stays below the threshold and a source the model leans against counts little, but a near miss is not 0.
    Verified therefore means best_score >= threshold, unless a stronger contradiction overrules it. Both
    thresholds are learnt with the stance model, on the same training claims only (``train_verifiers``,
    with the restatement and number rules applied as here). ``fit`` fits the coverage IDF on background
    texts, as for claim-coverage; the stance features keep the IDF of the stance model's training corpus.
    """

    name = "coverage-stance"

    def __init__(self, *, threshold: float | None = None, direction_threshold: float | None = None,
                 trained: TrainedVerifiers | None = None):
        trained = trained or shipped_models()
        self.trained = trained
        self.threshold = trained.coverage_threshold if threshold is None else float(threshold)
        self.direction_threshold = trained.direction_threshold if direction_threshold is None else float(direction_threshold)
        self.coverage = ClaimCoverageVerifier(threshold=self.threshold)
        model = trained.stance
        self.settings = VerifierSettings(
            method="coverage-stance",
            ngram_range=(1, 1),
            threshold=self.threshold,
            params=(
                ("classes", list(stance.CLASSES)),
                ("contradiction_rule", "coverage >= threshold, not supporting, no restatement, and P(CONTRADICT) "
                                       "the largest of the stance model's three probabilities"),
                ("coverage", "idf-weighted share of claim content words present in source (as claim-coverage: "
                             "sklearn english stop words, smooth idf)"),
                ("coverage_idf_fitted_on", "the background texts given to fit: the run's retrieved papers in the "
                                           "pipeline, the SciFact corpus in the evaluation"),
                ("direction", "P(CONTRADICT) / (P(SUPPORT) + P(CONTRADICT)) of the stance model"),
                ("direction_threshold", self.direction_threshold),
                ("features", stance.FEATURE_SET),
                ("model", f"stance model: multinomial logistic regression (scikit-learn newton-cg, "
                          f"C={stance.REGULARISATION_C}, balanced class weights, standardised features), IDF over its "
                          f"training corpus of {model.idf.documents} texts"),
                ("number_veto", "no SUPPORT when the claim states numbers, the source's 2 sentences most like the "
                                "claim state numbers, and a number of the claim is not in the source"),
                ("restatement", f"one source sentence holding >= {stance.RESTATEMENT:g} of the claim's idf-weighted "
                                "content words, negated exactly when the claim is, with no opposite increase/decrease "
                                "word, no antonym and every number of the claim; none when one of the source's 2 "
                                "sentences most like the claim differs from it in negation"),
                ("score", "the supporting source's coverage; a source that does not support counts "
                          "min(coverage, threshold) x (1 - direction)"),
                ("source_unit", "whole text; stance cues read in its 2 sentences most like the claim"),
                ("support_rule", "coverage >= threshold, no number veto, and a restatement, or direction < "
                                 f"direction_threshold, or P(SUPPORT) >= {model.threshold:g} and >= P(CONTRADICT)"),
                ("threshold_rule", "coverage threshold: maximum F1 of 'the abstract is evidence' (SUPPORT or "
                                   "CONTRADICT) over the training claims' cited pairs; P(SUPPORT) threshold: stance-lr's; "
                                   "direction threshold: highest of "
                                   f"{stance.DIRECTION_GRID[0]}-{stance.DIRECTION_GRID[-1]} (step 0.025) calling at most "
                                   f"{stance.CONTRADICTION_BUDGET:.0%} of contradicting training pairs SUPPORT, on a "
                                   f"{stance.INNER_FOLDS}-fold inner cross-validation grouped by shared documents"),
                ("training_data", "SciFact train split: every (claim, cited abstract) pair with its gold label, "
                                  f"plus the first {stance.HARD_NEGATIVES} BM25 hits per claim it neither cites nor "
                                  "has evidence in, as NOT_ENOUGH_INFO (stance model)"),
                ("training_data_sha256", dict(trained.data_files)),
                ("training_pairs", model.examples),
            ),
        )

    def fit(self, texts: Iterable[str]) -> "CoverageStanceVerifier":
        """Fit the coverage IDF on background texts (the stance model's features are fixed); returns self."""
        self.coverage.fit(texts)
        return self

    def per_source(self, claim: str, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Each source's coverage and the stance model's probabilities (rows of SUPPORT, CONTRADICT, NEI)."""
        coverage = np.array(self.coverage._coverages(claim, texts), dtype=np.float64)
        features = stance.feature_matrix([(claim, text) for text in texts], self.trained.stance.idf)
        return coverage, self.trained.stance.model.probabilities(features)

    def score(self, claim: str, source_text: str) -> float:
        return self.verify(claim, [("source", source_text)]).best_score

    def verify(self, claim: str, sources: Sequence[tuple[str, str]]) -> Verification:
        if not sources:
            return Verification(NOT_ENOUGH_INFO, best_source=None, best_score=0.0)
        texts = [text for _, text in sources]
        coverage, probabilities = self.per_source(claim, texts)
        idf = self.trained.stance.idf
        restated = np.array([stance.restatement(claim, text, idf) >= stance.RESTATEMENT for text in texts])
        mismatched = np.array([stance.number_mismatch(claim, text, idf) for text in texts])
        leaning = stance.direction(probabilities)
        on_topic = coverage >= self.threshold
        agreeing = ~mismatched & (restated | (leaning < self.direction_threshold)
                                  | (stance.support_label(probabilities, self.trained.stance.threshold) == SUPPORT))
        supporting = on_topic & agreeing
        contradicting = (on_topic & ~supporting & ~restated & (probabilities[:, 1] >= probabilities[:, 0])
                         & (probabilities[:, 1] >= probabilities[:, 2]))
        support_score = np.where(supporting, coverage, np.minimum(coverage, self.threshold) * (1 - leaning))
        best = max(range(len(sources)), key=lambda i: (bool(supporting[i]), bool(restated[i] & supporting[i]),
                                                       support_score[i], -i))
        against = max(np.flatnonzero(contradicting), key=lambda i: (probabilities[i, 1], -i), default=None)
        against_score = float(probabilities[against, 1]) if against is not None else 0.0
        if supporting[best] and (restated[best] or probabilities[best, 0] >= against_score):
            label = SUPPORT
        else:
            label = CONTRADICT if against is not None else NOT_ENOUGH_INFO
        return Verification(label, best_source=sources[best][0], best_score=float(support_score[best]),
                            contradicted_by=sources[against][0] if against is not None else None,
                            contradiction_score=against_score)


@dataclass(frozen=True)
class Calibration:
    """A threshold chosen on labelled scores, with the figures it achieved there (in-sample)."""

    threshold: float
    precision: float
    recall: float
    f1: float


def _f1_counts(scores: np.ndarray, labels: np.ndarray, threshold: float) -> tuple[float, float, float]:
    predicted = scores >= threshold
    true_pos = int(np.sum(predicted & labels))
    precision = true_pos / int(predicted.sum()) if predicted.any() else 0.0
    recall = true_pos / int(labels.sum()) if labels.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def calibrate_threshold(scores: Sequence[float], labels: Sequence[bool]) -> Calibration:
    """The threshold maximising F1 of ``score >= threshold`` against ``labels``.

    Candidates are the distinct scores; ties go to the higher (stricter) one. The threshold returned
    is the midpoint between the winning score and the next lower score, rounded to 4 places, so the
    boundary sits in a gap rather than on a training example.
    """
    values = np.asarray(scores, dtype=float)
    truth = np.asarray(labels, dtype=bool)
    if values.size == 0 or not truth.any():
        raise InputError("calibration needs at least one positive example")
    candidates = np.unique(values)  # ascending
    best_index, best_f1 = 0, -1.0
    for index, candidate in enumerate(candidates):
        f1 = _f1_counts(values, truth, float(candidate))[2]
        if f1 >= best_f1:
            best_index, best_f1 = index, f1
    lower = candidates[best_index - 1] if best_index > 0 else 0.0
    threshold = round((float(candidates[best_index]) + float(lower)) / 2, 4)
    precision, recall, f1 = _f1_counts(values, truth, threshold)
    return Calibration(threshold=threshold, precision=precision, recall=recall, f1=f1)


VERIFIERS: dict[str, Callable[..., Verifier]] = {
    CoverageStanceVerifier.name: CoverageStanceVerifier,
    StanceVerifier.name: StanceVerifier,
    TfidfCosineVerifier.name: TfidfCosineVerifier,
    ClaimCoverageVerifier.name: ClaimCoverageVerifier,
}


TRAINED = (StanceVerifier.name, CoverageStanceVerifier.name)  # the verifiers that learn from SciFact


def make_trained_verifier(name: str, trained: TrainedVerifiers, **overrides: Any) -> Verifier:
    """Verifier ``name`` (one of ``TRAINED``) with the model and thresholds of ``trained`` rather than the
    shipped ones: to judge claims a training never saw."""
    if name == StanceVerifier.name:
        return StanceVerifier(trained=trained.stance, data_files=trained.data_files, **overrides)
    if name == CoverageStanceVerifier.name:
        return CoverageStanceVerifier(trained=trained, **overrides)
    raise InputError(f"verifier {name!r} is not trained; trained verifiers: {', '.join(TRAINED)}")


def make_verifier(name: str, **overrides: Any) -> Verifier:
    """The verifier registered as ``name``; ``overrides`` are its keyword settings (e.g. threshold)."""
    try:
        factory = VERIFIERS[name]
    except KeyError:
        raise InputError(f"unknown verifier {name!r}; known verifiers: {', '.join(sorted(VERIFIERS))}") from None
    try:
        return factory(**overrides)
    except TypeError as exc:
        raise InputError(f"verifier {name!r} does not accept {sorted(overrides)}: {exc}") from None
