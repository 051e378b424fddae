"""Claims: which sentences of the target paper answer the research question, by a written rule.

The rule (``claim-rule-v2``) has two parts. **Candidates** (which sentences assert something), applied
to each section of the target's text (the abstract offline; the full text's sections when it was
fetched, see ``generator.pipeline.fulltext``):

1. Split the section into sentences at ``.``, ``!`` or ``?`` followed by white space and a capital
   letter, digit or opening bracket/quote, except after the abbreviations in ``ABBREVIATIONS`` (so
   ``e.g. MMMU`` or ``et al. 2024`` never end a sentence; ``0.9%`` has no space after the point).
2. A sentence is a candidate when it has at least 5 words, is not a question, and fires at least one
   trigger: ``quantity`` (a numeral, e.g. ``16 benchmarks``, ``56.1%``), ``result`` (a result verb stem
   from ``RESULT_VERBS``: improve, outperform, reduce, achieve, demonstrate, show, ...), ``comparison``
   (a comparative from ``COMPARATIVES``: better, faster, higher, than, ...) or ``method`` (a method verb
   stem from ``METHOD_VERBS``: propose, introduce, present, leverage, ...).
3. A candidate of the form ``LEAD: item, item, and item`` whose list has at least two items with a
   numeral is split into one candidate per item, ``LEAD: item.`` (the items are separated at commas
   outside brackets; a leading "and"/"or" is dropped), so each measured result is checked on its own.

**Selection** (which candidates answer the question), by ``select_claims``:

4. ``relevance`` is the IDF-weighted share of the question's terms the candidate contains
   (``generator.pipeline.relevance``; IDF over the sentences of the target text), in [0, 1].
5. ``result strength`` is ``0.5 [quantity] + 0.5 [result or comparison]``: a measured result scores 1,
   a bare method statement 0.
6. ``score = relevance x (0.5 + 0.5 x result strength)``, rounded to 4 places. Candidates with
   relevance 0 (none of the question's terms) are dropped; the rest are ranked by score (ties in
   document order) and the first ``max_claims`` are the claims, best first.

So two questions about one paper select different claims wherever its text allows it, and a sentence
stating a measured result outranks a method statement that matches the question as well.

Extraction confidence (how clearly the sentence states something checkable), in [0, 1]:
``0.5 + 0.3 [quantity] + 0.2 [result or comparison] - 0.3 [hedged]``, clamped to [0, 1] and rounded
to 2 places, where *hedged* means a word from ``HEDGES`` (may, might, could, suggest, likely, ...).

After verification a claim's published confidence is ``extraction confidence x support``, with
``support = min(1, best verification score / verifier threshold)``: a verified claim keeps its
extraction confidence, an unverified one is scaled down by how far its best independent source fell
short. Every claim keeps its section and 1-based sentence number ("source-grounded"), the rule and
triggers that made it a candidate, and its relevance and score (all in ``Claim.rule``, which the report
prints).

A revision round may **narrow** an unverified claim (``narrow``): to the clause of its sentence that
carries the measured result, which claims less and so may be checked on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

from generator.pipeline.relevance import QuestionTerms
from generator.pipeline.verification import CONTRADICT, NOT_ENOUGH_INFO, SUPPORT

CLAIM_RULE = "claim-rule-v2"
MAX_CLAIMS = 5
AGREEMENT_CAP = 3
MIN_WORDS = 5

ABBREVIATIONS = frozenset({"e.g", "i.e", "et al", "al", "vs", "cf", "fig", "figs", "eq", "eqs", "sec", "approx",
                           "resp", "etc", "no", "ref", "refs", "tab", "dr", "mr", "ms", "prof", "inc"})
RESULT_VERBS = ("improv", "outperform", "reduc", "achiev", "demonstrat", "show", "surpass", "exceed", "increas",
                "decreas", "boost", "accelerat", "speed", "yield", "gain", "enabl", "validat", "confirm", "attain",
                "lower", "cut", "halv", "doubl", "match", "beat", "unlock")
COMPARATIVES = ("better", "worse", "faster", "slower", "higher", "lower", "fewer", "smaller", "larger", "stronger",
                "weaker", "superior", "inferior", "than", "more accurate", "more efficient", "less")
METHOD_VERBS = ("propos", "introduc", "present", "develop", "design", "leverag", "employ", "formulat", "devis")
HEDGES = ("may", "might", "could", "suggest", "suggests", "suggested", "likely", "possibly", "potentially",
          "appear", "appears", "seem", "seems", "perhaps", "presumably")

_BOUNDARY = re.compile(r"(?<=[.!?])(?P<close>[\"')\]]*)\s+(?=[A-Z0-9\"'(\[])")
_NUMERAL = re.compile(r"\d")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def _stem_pattern(stems: Sequence[str]) -> re.Pattern:
    return re.compile(r"\b(" + "|".join(re.escape(s) for s in stems) + r")\w*", re.IGNORECASE)


def _word_pattern(words: Sequence[str]) -> re.Pattern:
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)


_RESULT = _stem_pattern(RESULT_VERBS)
_METHOD = _stem_pattern(METHOD_VERBS)
_COMPARATIVE = _word_pattern(COMPARATIVES)
_HEDGE = _word_pattern(HEDGES)


@dataclass(frozen=True)
class Claim:
    """One extracted claim, grounded in a section and sentence of the target paper."""

    text: str
    section: str
    sentence: int  # 1-based number of the sentence in its section
    part: int | None  # 1-based list item when the sentence was split (rule step 3), else None
    triggers: tuple[str, ...]
    hedged: bool
    confidence: float  # extraction confidence, see the module docstring
    relevance: float | None = None  # share of the question's terms it contains (rule step 4); None before selection
    score: float | None = None  # selection score (rule step 6)
    narrowed_from: str | None = None  # the claim text before a revision round narrowed it

    @property
    def rule(self) -> str:
        parts = list(self.triggers)
        if self.relevance is not None:
            parts.insert(0, f"question relevance {self.relevance:.2f}, score {self.score:.2f}")
        text = f"{CLAIM_RULE}: " + ", ".join(parts) + (" (hedged)" if self.hedged else "")
        return text + (" (narrowed in revision)" if self.narrowed_from is not None else "")

    @property
    def result_strength(self) -> float:
        """Rule step 5: 0.5 for a numeral, 0.5 for a result verb or comparative."""
        kinds = {t.split(" ", 1)[0] for t in self.triggers}
        return 0.5 * ("quantity" in kinds) + 0.5 * bool(kinds & {"result", "comparison"})

    @property
    def location(self) -> str:
        where = f"{self.section}, sentence {self.sentence}"
        return where + (f", item {self.part}" if self.part is not None else "")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (whitespace collapsed), split by rule step 1."""
    text = " ".join(text.split())
    if not text:
        return []
    sentences, start = [], 0
    for match in _BOUNDARY.finditer(text):
        before = text[start:match.start()]
        last_word = before.rsplit(" ", 1)[-1].rstrip(".!?").casefold()
        tail = before[-6:].casefold()
        if last_word in ABBREVIATIONS or tail.endswith("et al."):
            continue
        sentences.append(text[start:match.end("close")].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if s]


def triggers_of(sentence: str) -> tuple[str, ...]:
    found = []
    if _NUMERAL.search(sentence):
        found.append("quantity")
    match = _RESULT.search(sentence)
    if match:
        found.append(f"result ({match.group(0).lower()})")
    match = _COMPARATIVE.search(sentence)
    if match:
        found.append(f"comparison ({match.group(0).lower()})")
    match = _METHOD.search(sentence)
    if match:
        found.append(f"method ({match.group(0).lower()})")
    return tuple(found)


def extraction_confidence(triggers: Sequence[str], hedged: bool) -> float:
    kinds = {t.split(" ", 1)[0] for t in triggers}
    value = 0.5 + 0.3 * ("quantity" in kinds) + 0.2 * bool(kinds & {"result", "comparison"}) - 0.3 * hedged
    return round(min(max(value, 0.0), 1.0), 2)


def _top_level_items(text: str) -> list[str]:
    """Split at commas outside brackets; drop a leading 'and'/'or' and a final full stop."""
    items, depth, current = [], 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(depth - 1, 0)
        if ch == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    cleaned = []
    for item in items:
        item = item.strip().rstrip(".").strip()
        item = re.sub(r"^(and|or)\s+", "", item, flags=re.IGNORECASE)
        if item:
            cleaned.append(item)
    return cleaned


def _is_claim(sentence: str, triggers: Sequence[str]) -> bool:
    return bool(triggers) and len(_WORD.findall(sentence)) + len(re.findall(r"\d+(?:\.\d+)?", sentence)) >= MIN_WORDS \
        and not sentence.rstrip().endswith("?")


def extract_claims(sections: Sequence[tuple[str, str]]) -> list[Claim]:
    """Claims from ``(section name, text)`` pairs, in document order, by ``claim-rule-v1``."""
    claims: list[Claim] = []
    for section, text in sections:
        for number, sentence in enumerate(split_sentences(text), start=1):
            triggers = triggers_of(sentence)
            if not _is_claim(sentence, triggers):
                continue
            lead, colon, rest = sentence.partition(": ")
            items = _top_level_items(rest) if colon else []
            if len(items) >= 2 and sum(1 for item in items if _NUMERAL.search(item)) >= 2:
                for part, item in enumerate(items, start=1):
                    text_ = f"{lead}: {item}."
                    item_triggers = triggers_of(text_)
                    hedged = bool(_HEDGE.search(text_))
                    claims.append(Claim(text_, section, number, part, item_triggers, hedged,
                                        extraction_confidence(item_triggers, hedged)))
                continue
            hedged = bool(_HEDGE.search(sentence))
            claims.append(Claim(sentence, section, number, None, triggers, hedged, extraction_confidence(triggers, hedged)))
    return claims


def select_claims(candidates: Sequence[Claim], question: str, background: Sequence[str],
                  max_claims: int = MAX_CLAIMS) -> list[Claim]:
    """Rule steps 4-6: the candidates that answer ``question``, best first, with relevance and score recorded.

    ``background`` are the texts the question's term weights come from (the target's sentences).
    """
    weights = QuestionTerms.of(question, background)
    scored = []
    for order, claim in enumerate(candidates):
        relevance = weights.coverage(claim.text)
        if relevance <= 0:
            continue
        score = round(relevance * (0.5 + 0.5 * claim.result_strength), 4)
        scored.append((-score, order, replace(claim, relevance=relevance, score=score)))
    scored.sort(key=lambda item: item[:2])
    return [claim for _, _, claim in scored[:max_claims]]


_CLAUSE = re.compile(r"(?:[:;]\s+|,\s+(?:and|while|whereas|which|but)\s+|\s+while\s+|\s+whereas\s+)")


def narrow(claim: Claim) -> Claim | None:
    """The narrowest clause of the claim that still carries a numeral and a result or comparison (or,
    failing that, a numeral), as a claim of its own; None when no clause is narrower and still a claim."""
    clauses = [c.strip().rstrip(".").strip() for c in _CLAUSE.split(claim.text)]
    best = None
    for clause in clauses:
        if clause == claim.text.rstrip(".") or not clause:
            continue
        triggers = triggers_of(clause)
        if not _is_claim(clause, triggers) or not _NUMERAL.search(clause):
            continue
        strength = (bool({t.split(" ", 1)[0] for t in triggers} & {"result", "comparison"}), -len(clause))
        if best is None or strength > best[0]:
            best = (strength, clause, triggers)
    if best is None:
        return None
    _, clause, triggers = best
    hedged = claim.hedged or bool(_HEDGE.search(clause))
    text = clause[0].upper() + clause[1:] + "."
    return replace(claim, text=text, triggers=triggers, hedged=hedged, confidence=extraction_confidence(triggers, hedged),
                   narrowed_from=claim.text)


# ---------------------------------------------------------------------------------------------------
# After verification


@dataclass(frozen=True)
class CheckedClaim:
    """A claim with its verification against independent sources and its nearest source by embedding.

    ``label`` is the verification's (SUPPORT, CONTRADICT or NOT_ENOUGH_INFO; from ``verified`` when not
    given); ``agreeing_sources`` counts the distinct independent sources that each verify the claim on
    their own (up to ``AGREEMENT_CAP``), so the reviewers can tell one source from several.
    """

    claim: Claim
    verified: bool
    best_source: str | None  # versioned arXiv id of the highest-scoring independent source (even below threshold)
    best_score: float
    nearest_source: str | None  # by the semantic index
    nearest_similarity: float
    support: float  # min(1, best_score / threshold)
    confidence: float  # extraction confidence x support, 2 places
    withdrawn: bool = False  # withdrawn from the synthesis in a tribunal revision round
    label: str = ""
    contradicted_by: str | None = None
    contradiction_score: float = 0.0
    agreeing_sources: int = 0
    sources_compared: int = 0
    revision_round: int = 0  # the round whose evidence this check is (0: the first verification)

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", SUPPORT if self.verified else NOT_ENOUGH_INFO)
        if (self.label == SUPPORT) != self.verified:
            raise ValueError(f"a claim labelled {self.label} cannot have verified={self.verified}")

    @property
    def contradicted(self) -> bool:
        return self.label == CONTRADICT

    @property
    def text(self) -> str:
        return self.claim.text

    def withdraw(self) -> "CheckedClaim":
        return replace(self, withdrawn=True)


def support_of(best_score: float, threshold: float) -> float:
    if threshold <= 0:
        return 1.0
    return min(1.0, max(best_score, 0.0) / threshold)


def published_confidence(claim: Claim, best_score: float, threshold: float) -> float:
    return round(claim.confidence * support_of(best_score, threshold), 2)
