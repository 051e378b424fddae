"""Stance features of a (claim, source) pair and the logistic regression that reads them.

The stance-lr verifier asks three things of a source: does it talk about what the claim talks about
(IDF-weighted coverage of the claim's content words, in the whole source and in its best sentences,
shared word bigrams), and if so, does it say the same thing or the opposite (negation present on one
side only, an increase/decrease word pointing the other way, a word of the claim whose antonym the
source uses instead, a number of the claim the source does not have, hedging). Each cue is a plain
word list below, so what the model can and cannot notice is readable here; it cannot read meaning.

The model is a multinomial logistic regression (scikit-learn, newton-cg, standardised features, balanced
class weights) over SUPPORT / CONTRADICT / NOT_ENOUGH_INFO. Training is deterministic: the examples
are built in file order, the solver has no randomness, and ``StanceModel.digest`` names the exact
coefficients, so two trainings on the same data can be compared byte for byte.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.linear_model import LogisticRegression

FEATURE_SET = "stance-features-v1"
CLASSES = ("SUPPORT", "CONTRADICT", "NOT_ENOUGH_INFO")
TOP_SENTENCES = 2  # the sentences most like the claim, where agreement or disagreement is looked for
REGULARISATION_C = 1.0
MAX_ITER = 2000

_TOKEN = re.compile(r"(?u)\b\w[\w-]*\b")
_NUMBER = re.compile(r"\d")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")

NEGATIONS = frozenset({
    "not", "no", "never", "none", "nor", "neither", "without", "cannot", "can't", "don't", "doesn't", "didn't",
    "isn't", "aren't", "wasn't", "weren't", "fail", "fails", "failed", "lack", "lacks", "lacked", "absent",
    "unrelated", "unaffected", "unchanged", "independent", "neither", "nonsignificant", "non-significant",
    "insignificant", "ineffective", "unable",
})
# Stems of words that say a quantity goes up or down (a token counts when it starts with a stem).
UP_STEMS = ("increas", "higher", "elevat", "enhanc", "improv", "promot", "activat", "induc", "upregulat",
            "up-regulat", "stimulat", "rais", "rise", "gain", "accelerat", "greater", "exacerbat", "augment",
            "amplif", "strengthen", "potentiat", "more", "larger", "longer", "faster", "benefi", "protect")
DOWN_STEMS = ("decreas", "lower", "reduc", "inhibit", "suppress", "impair", "downregulat", "down-regulat",
              "attenuat", "diminish", "declin", "block", "prevent", "loss", "less", "fewer", "weaken", "abolish",
              "abrogat", "delay", "smaller", "shorter", "slower", "impede", "harm", "worse")
# Pairs of stems with opposite meaning; a claim word whose opposite the source uses (and not the word
# itself) is a sign of disagreement.
ANTONYM_STEMS = (
    ("increas", "decreas"), ("higher", "lower"), ("more", "less"), ("greater", "smaller"), ("larger", "smaller"),
    ("positive", "negative"), ("promot", "inhibit"), ("activat", "inhibit"), ("enhanc", "impair"),
    ("upregulat", "downregulat"), ("up-regulat", "down-regulat"), ("benefi", "harm"), ("effective", "ineffective"),
    ("present", "absent"), ("presence", "absence"), ("gain", "loss"), ("sufficient", "insufficient"),
    ("necessary", "dispensable"), ("required", "dispensable"), ("high", "low"), ("early", "late"),
    ("rare", "common"), ("same", "different"), ("faster", "slower"), ("longer", "shorter"), ("safe", "unsafe"),
    ("associated", "unassociated"), ("significant", "insignificant"), ("accelerat", "delay"),
    ("stimulat", "suppress"), ("induc", "inhibit"), ("susceptib", "resistan"), ("protect", "risk"),
)
HEDGES = frozenset({"may", "might", "could", "suggest", "suggests", "possibly", "likely", "potentially", "appear",
                    "appears", "seem", "seems", "perhaps"})
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | NEGATIONS

# Only features of the pair: a cue of the claim alone (say, "decreases") would let the model learn how
# SciFact's annotators wrote contradicting claims rather than whether the source disagrees.
FEATURE_NAMES = (
    "coverage", "coverage_best_sentence", "coverage_top_sentences", "bigram_share",
    "negation_mismatch", "direction_conflict", "direction_agreement", "antonym_hits", "claim_numbers_missing",
    "coverage_x_negation_mismatch", "coverage_x_direction_conflict", "coverage_x_direction_agreement",
    "coverage_x_antonym", "coverage_x_numbers_missing",
)
_STEMS = sorted({*UP_STEMS, *DOWN_STEMS, *(stem for pair in ANTONYM_STEMS for stem in pair)}, key=lambda x: (-len(x), x))


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def split_sentences(text: str) -> list[str]:
    """Sentences at '.', '!' or '?' followed by space and a capital, digit or bracket; never empty."""
    parts = [part for part in _SENTENCE_END.split(text.strip()) if part.strip()]
    return parts or [text]


def _content(words: Iterable[str]) -> list[str]:
    return [word for word in words if word not in STOP_WORDS and len(word) > 1]


@lru_cache(maxsize=65536)
def _word_cues(word: str) -> tuple[frozenset[str], int, int]:
    """The stems a word starts with, and whether it is an up cue and a down cue (cached: words repeat)."""
    return (frozenset(stem for stem in _STEMS if word.startswith(stem)), int(word.startswith(UP_STEMS)),
            int(word.startswith(DOWN_STEMS)))


def _stems(words: Iterable[str]) -> set[str]:
    """Every stem of UP_STEMS, DOWN_STEMS and ANTONYM_STEMS that some word starts with."""
    return set().union(*(_word_cues(word)[0] for word in set(words)))


def _direction(words: Sequence[str]) -> tuple[int, int]:
    """(up cues, down cues) among the words: counts of words starting with a stem of each list."""
    cues = [_word_cues(word) for word in words]
    return sum(cue[1] for cue in cues), sum(cue[2] for cue in cues)


def _sign(up: int, down: int) -> int:
    return (up > down) - (down > up)


@dataclass(frozen=True)
class Idf:
    """Smooth IDF, ln((1 + n) / (1 + df)) + 1, over a background corpus; unseen words get ln(1 + n) + 1."""

    weights: Mapping[str, float]
    unseen: float
    documents: int

    @classmethod
    def fit(cls, texts: Sequence[str]) -> "Idf":
        doc_freq: dict[str, int] = {}
        for text in texts:
            for word in set(_content(tokens(text))):
                doc_freq[word] = doc_freq.get(word, 0) + 1
        n = len(texts)
        weights = {word: math.log((1 + n) / (1 + df)) + 1 for word, df in sorted(doc_freq.items())}
        return cls(weights, math.log(1 + n) + 1, n)

    def __call__(self, word: str) -> float:
        return self.weights.get(word, self.unseen)


@dataclass(frozen=True)
class _Source:
    sentences: tuple[tuple[str, ...], ...]  # lowercase tokens per sentence
    words: frozenset[str]
    bigrams: frozenset[tuple[str, str]]


@lru_cache(maxsize=8192)
def _analyse_source(text: str) -> _Source:
    sentences = tuple(tuple(tokens(sentence)) for sentence in split_sentences(text))
    words = frozenset(word for sentence in sentences for word in sentence)
    bigrams = frozenset(pair for sentence in sentences for pair in zip(_content(sentence), _content(sentence)[1:]))
    return _Source(sentences, words, bigrams)


def pair_features(claim: str, source_text: str, idf: Idf) -> np.ndarray:
    """The FEATURE_NAMES vector of one (claim, source) pair."""
    claim_words = tokens(claim)
    content = list(dict.fromkeys(_content(claim_words)))
    weights = {word: idf(word) for word in content}
    total = sum(weights.values()) or 1.0
    source = _analyse_source(source_text)

    def cover(words: frozenset[str] | set[str]) -> float:
        return sum(weight for word, weight in weights.items() if word in words) / total

    sentence_cover = [cover(set(sentence)) for sentence in source.sentences]
    order = sorted(range(len(sentence_cover)), key=lambda i: (-sentence_cover[i], i))[:TOP_SENTENCES]
    top_words = [word for i in order for word in source.sentences[i]]
    top_set = set(top_words)

    claim_content = _content(claim_words)
    claim_bigrams = set(zip(claim_content, claim_content[1:]))
    bigram_share = len(claim_bigrams & source.bigrams) / len(claim_bigrams) if claim_bigrams else 0.0

    claim_negated = any(word in NEGATIONS or word.endswith("n't") for word in claim_words)
    top_negated = any(word in NEGATIONS or word.endswith("n't") for word in top_words)
    claim_sign, top_sign = _sign(*_direction(claim_words)), _sign(*_direction(top_words))
    claim_stems, top_stems = _stems(claim_words), _stems(top_words)
    antonyms = sum(1 for left, right in ANTONYM_STEMS for mine, theirs in ((left, right), (right, left))
                   if mine in claim_stems and mine not in top_stems and theirs in top_stems)
    numbers = {word for word in claim_words if _NUMBER.search(word)}
    missing = len(numbers - source.words) / len(numbers) if numbers else 0.0

    best = sentence_cover[order[0]] if order else 0.0
    mismatch = float(claim_negated != top_negated)
    conflict = float(claim_sign * top_sign < 0)
    agreement = float(claim_sign * top_sign > 0)
    return np.array([
        cover(source.words), best, cover(top_set), bigram_share,
        mismatch, conflict, agreement, float(antonyms), missing,
        best * mismatch, best * conflict, best * agreement, best * min(antonyms, 1), best * missing,
    ], dtype=np.float64)


def feature_matrix(pairs: Sequence[tuple[str, str]], idf: Idf) -> np.ndarray:
    if not pairs:
        return np.zeros((0, len(FEATURE_NAMES)))
    return np.vstack([pair_features(claim, text, idf) for claim, text in pairs])


@dataclass(frozen=True)
class StanceModel:
    """A fitted model: standardisation, then a multinomial logistic regression over ``CLASSES``."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (len(CLASSES), len(FEATURE_NAMES))
    intercept: np.ndarray

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Rows of (P(SUPPORT), P(CONTRADICT), P(NOT_ENOUGH_INFO))."""
        logits = ((features - self.mean) / self.scale) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    @property
    def digest(self) -> str:
        """SHA-256 of the coefficients' bytes (float64, little-endian), to compare two trainings exactly."""
        h = hashlib.sha256()
        for array in (self.mean, self.scale, self.coef, self.intercept):
            h.update(np.ascontiguousarray(array, dtype="<f8").tobytes())
        return h.hexdigest()


def train(features: np.ndarray, labels: Sequence[str]) -> StanceModel:
    """Fit the model on labelled feature rows (labels from ``CLASSES``); deterministic for the same input."""
    y = np.array([CLASSES.index(label) for label in labels])
    missing = sorted(set(range(len(CLASSES))) - set(y.tolist()))
    if missing:
        raise ValueError(f"training needs every class; missing {[CLASSES[i] for i in missing]}")
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=REGULARISATION_C, class_weight="balanced", max_iter=MAX_ITER, solver="newton-cg")
    model.fit((features - mean) / scale, y)
    order = [list(model.classes_).index(i) for i in range(len(CLASSES))]
    return StanceModel(mean, scale, model.coef_[order].copy(), model.intercept_[order].copy())


HARD_NEGATIVES = 2  # per claim: the best BM25 hits it neither cites nor has evidence in, as NOT_ENOUGH_INFO


def gold_label(label: str) -> str:
    """SciFact's NEI is this module's NOT_ENOUGH_INFO."""
    return label if label in ("SUPPORT", "CONTRADICT") else "NOT_ENOUGH_INFO"


THRESHOLD_GRID = tuple(round(0.5 + 0.05 * i, 2) for i in range(9))  # 0.50 ... 0.90
CONTRADICTION_BUDGET = 0.15  # at most this share of contradicting training pairs may be called SUPPORT
INNER_FOLDS = 5
RANKED_PER_CLAIM = 10


def support_label(probabilities: np.ndarray, threshold: float) -> np.ndarray:
    """Per row: SUPPORT when P(SUPPORT) >= threshold and >= P(CONTRADICT); else CONTRADICT when P(CONTRADICT)
    is the largest of the three; else NOT_ENOUGH_INFO."""
    support = (probabilities[:, 0] >= threshold) & (probabilities[:, 0] >= probabilities[:, 1])
    contradict = ~support & (probabilities[:, 1] >= probabilities[:, 0]) & (probabilities[:, 1] >= probabilities[:, 2])
    return np.where(support, "SUPPORT", np.where(contradict, "CONTRADICT", "NOT_ENOUGH_INFO"))


def choose_threshold(probabilities: np.ndarray, gold: Sequence[str]) -> float:
    """The lowest threshold of THRESHOLD_GRID at which at most CONTRADICTION_BUDGET of the CONTRADICT rows
    are labelled SUPPORT (the highest of the grid if none is)."""
    gold = np.asarray(gold)
    contradicting = gold == "CONTRADICT"
    for threshold in THRESHOLD_GRID:
        called = support_label(probabilities[contradicting], threshold) == "SUPPORT"
        if not contradicting.any() or called.mean() <= CONTRADICTION_BUDGET:
            return threshold
    return THRESHOLD_GRID[-1]


@dataclass(frozen=True)
class TrainedStance:
    """A model, the IDF it reads features with, and its SUPPORT threshold, with what they came from."""

    model: StanceModel
    idf: Idf
    threshold: float
    examples: int


@dataclass(frozen=True)
class Training:
    """A training's model, and what a threshold above it may be chosen from without touching other claims:
    each cited (claim, document) pair of the training claims with its gold label and its probabilities
    from the inner cross-validation (a model that never saw that claim's fold)."""

    trained: TrainedStance
    cited: tuple[tuple[str, str, str], ...]  # (claim text, doc id, gold label), one per cited pair
    held_out: np.ndarray  # (len(cited), len(CLASSES)) out-of-fold probabilities of those pairs


def _examples(claims: Sequence, corpus: Mapping, ranked: Mapping[str, Sequence[str]], idf: Idf,
              cache: dict) -> tuple[np.ndarray, list[str], list[str], list[bool], list[tuple[str, str]]]:
    """Feature rows, labels, claim ids, whether cited, and (claim, doc) of the training pairs of ``claims``
    (rows cached by pair)."""
    rows, labels, owners, cited, keys = [], [], [], [], []
    for claim in claims:
        for claim_text, doc_id, label, is_cited in _claim_examples(claim, corpus, ranked):
            key = (claim_text, doc_id)
            if key not in cache:
                cache[key] = pair_features(claim_text, corpus[doc_id].text, idf)
            rows.append(cache[key])
            labels.append(label)
            owners.append(claim.claim_id)
            cited.append(is_cited)
            keys.append(key)
    return (np.vstack(rows) if rows else np.zeros((0, len(FEATURE_NAMES)))), labels, owners, cited, keys


def _claim_examples(claim, corpus: Mapping, ranked: Mapping[str, Sequence[str]]) -> list[tuple[str, str, str, bool]]:
    cited = list(dict.fromkeys(claim.cited_doc_ids))
    out = [(claim.text, doc_id, gold_label(claim.label_for(doc_id)), True) for doc_id in cited]
    known = set(cited) | set(claim.evidence)
    extra = [doc_id for doc_id in ranked.get(claim.claim_id, ()) if doc_id not in known][:HARD_NEGATIVES]
    return out + [(claim.text, doc_id, "NOT_ENOUGH_INFO", False) for doc_id in extra]


def fit_stance(claims: Sequence, corpus: Mapping, ranked: Mapping[str, Sequence[str]], idf: Idf,
               fold_of: Mapping[str, int], cache: dict | None = None) -> Training:
    """Train on ``claims``: the model on all their pairs, the threshold by ``choose_threshold`` on the
    out-of-fold probabilities of an inner cross-validation over ``fold_of`` (claims grouped by shared
    documents), so the threshold too is learnt from these claims alone."""
    cache = {} if cache is None else cache
    features, labels, owners, cited, keys = _examples(claims, corpus, ranked, idf, cache)
    inner = np.array([fold_of[owner] % INNER_FOLDS for owner in owners])
    held_out_probabilities = np.zeros((len(labels), len(CLASSES)))
    for fold in range(INNER_FOLDS):
        test = inner == fold
        if test.any():
            train_rows = ~test
            model = train(features[train_rows], [label for label, keep in zip(labels, train_rows) if keep])
            held_out_probabilities[test] = model.probabilities(features[test])
    threshold = choose_threshold(held_out_probabilities, labels)
    trained = TrainedStance(train(features, labels), idf, threshold, len(labels))
    rows = [i for i, is_cited in enumerate(cited) if is_cited]
    return Training(trained, tuple((keys[i][0], keys[i][1], labels[i]) for i in rows), held_out_probabilities[rows])


def train_stance(claims: Sequence, corpus: Mapping, ranked: Mapping[str, Sequence[str]], idf: Idf,
                 fold_of: Mapping[str, int], cache: dict | None = None) -> TrainedStance:
    """``fit_stance``'s model alone."""
    return fit_stance(claims, corpus, ranked, idf, fold_of, cache).trained


# --- the direction test of coverage-stance -----------------------------------------------------------

DIRECTION_GRID = tuple(round(0.2 + 0.025 * i, 3) for i in range(17))  # 0.200 ... 0.600


def direction(probabilities: np.ndarray) -> np.ndarray:
    """Per row, P(CONTRADICT) / (P(SUPPORT) + P(CONTRADICT)): how far the model leans towards the source
    saying the opposite, given that it says something about the claim (0.5 when it cannot tell)."""
    pair = probabilities[:, 0] + probabilities[:, 1]
    return np.divide(probabilities[:, 1], pair, out=np.full(len(pair), 0.5), where=pair > 0)


def choose_direction_threshold(probabilities: np.ndarray, coverage: np.ndarray, gold: Sequence[str],
                               coverage_threshold: float, support_threshold: float,
                               restated: np.ndarray | None = None, mismatched: np.ndarray | None = None) -> float:
    """The highest of DIRECTION_GRID at which at most CONTRADICTION_BUDGET of the CONTRADICT rows would be
    called SUPPORT by coverage-stance (coverage >= coverage_threshold, no number mismatch, and a restatement,
    direction < the threshold or the stance model's own SUPPORT at ``support_threshold``); the lowest of the
    grid if none is. ``restated`` and ``mismatched`` are per row (``restatement`` >= RESTATEMENT and
    ``number_mismatch``); None means none."""
    gold = np.asarray(gold)
    contradicting = gold == "CONTRADICT"
    if not contradicting.any():
        return DIRECTION_GRID[-1]
    none = np.zeros(len(gold), dtype=bool)
    restated = (none if restated is None else np.asarray(restated, dtype=bool))[contradicting]
    mismatched = (none if mismatched is None else np.asarray(mismatched, dtype=bool))[contradicting]
    rows = probabilities[contradicting]
    leaning = direction(rows)
    covered = (np.asarray(coverage)[contradicting] >= coverage_threshold) & ~mismatched
    stance_support = support_label(rows, support_threshold) == "SUPPORT"
    for threshold in reversed(DIRECTION_GRID):
        if (covered & (restated | (leaning < threshold) | stance_support)).mean() <= CONTRADICTION_BUDGET:
            return threshold
    return DIRECTION_GRID[0]


# --- restatement and number mismatch: rules of coverage-stance beside the model ----------------------

RESTATEMENT = 0.9  # share of the claim's content (IDF-weighted) one source sentence must hold to restate it


def _negated(words: Sequence[str]) -> bool:
    return any(word in NEGATIONS or word.endswith("n't") for word in words)


def _claim_numbers(words: Sequence[str]) -> set[str]:
    return {word for word in words if _NUMBER.search(word)}


def restatement(claim: str, source_text: str, idf: Idf) -> float:
    """The largest IDF-weighted share of the claim's content words held by one source sentence that says it
    the same way: negated exactly when the claim is, no increase/decrease word pointing the other way, no
    antonym of a claim word in place of the word, and every number of the claim present; 0 when none, and 0
    when one of the source's ``TOP_SENTENCES`` sentences most like the claim is negated and the claim is not
    (or the other way round): a source quoting the claim to deny it does not restate it.

    Why a rule beside the model: the model learnt on SciFact, where a source holding nearly all of a claim's
    words is often the text a contradicting claim was rewritten from, so it gives a verbatim restatement
    P(CONTRADICT) above P(SUPPORT). A sentence at ``RESTATEMENT`` or above with the same polarity is rare
    there and mostly support (SciFact train, cited pairs: 8 of 370 supporting, 1 of 194 contradicting,
    0 of 355 without evidence at 0.9)."""
    claim_words = tokens(claim)
    weights = {word: idf(word) for word in dict.fromkeys(_content(claim_words))}
    total = sum(weights.values())
    if not total:
        return 0.0
    negated, sign, stems, numbers = (_negated(claim_words), _sign(*_direction(claim_words)), _stems(claim_words),
                                     _claim_numbers(claim_words))
    sentences = _analyse_source(source_text).sentences
    cover = [sum(weight for word, weight in weights.items() if word in set(sentence)) for sentence in sentences]
    top = sorted(range(len(cover)), key=lambda i: (-cover[i], i))[:TOP_SENTENCES]
    if any(_negated(sentences[i]) != negated for i in top):
        return 0.0  # "we tested the claim that X. It did not hold": a sentence near the claim negates it
    best = 0.0
    for sentence in sentences:
        words = set(sentence)
        if _negated(sentence) != negated or sign * _sign(*_direction(sentence)) < 0 or not numbers <= words:
            continue
        theirs = _stems(sentence)
        if any(mine in stems and mine not in theirs and other in theirs
               for left, right in ANTONYM_STEMS for mine, other in ((left, right), (right, left))):
            continue
        best = max(best, sum(weight for word, weight in weights.items() if word in words) / total)
    return best


def number_mismatch(claim: str, source_text: str, idf: Idf) -> bool:
    """True when the claim states numbers, the source's ``TOP_SENTENCES`` sentences most like the claim state
    numbers too, and some number of the claim is nowhere in the source: it reports other quantities for what
    the claim measures ("95% in 2 hours" against "40% in 6 hours"), so it cannot support the claim."""
    claim_words = tokens(claim)
    numbers = _claim_numbers(claim_words)
    if not numbers:
        return False
    source = _analyse_source(source_text)
    if numbers <= source.words:
        return False
    weights = {word: idf(word) for word in dict.fromkeys(_content(claim_words))}
    cover = [sum(weight for word, weight in weights.items() if word in set(sentence)) for sentence in source.sentences]
    order = sorted(range(len(cover)), key=lambda i: (-cover[i], i))[:TOP_SENTENCES]
    return any(_claim_numbers(source.sentences[i]) for i in order)
