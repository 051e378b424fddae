"""Claims: which sentences of the target paper assert a result or a method, by a written rule.

The rule (``claim-rule-v1``), applied to each section of the target's text (the abstract is the only
section the arXiv metadata gives):

1. Split the section into sentences at ``.``, ``!`` or ``?`` followed by white space and a capital
   letter, digit or opening bracket/quote, except after the abbreviations in ``ABBREVIATIONS`` (so
   ``e.g. MMMU`` or ``et al. 2024`` never end a sentence; ``0.9%`` has no space after the point).
2. A sentence is a claim when it has at least 5 words, is not a question, and fires at least one
   trigger: ``quantity`` (a numeral, e.g. ``16 benchmarks``, ``56.1%``), ``result`` (a result verb stem
   from ``RESULT_VERBS``: improve, outperform, reduce, achieve, demonstrate, show, ...), ``comparison``
   (a comparative from ``COMPARATIVES``: better, faster, higher, than, ...) or ``method`` (a method verb
   stem from ``METHOD_VERBS``: propose, introduce, present, leverage, ...).
3. A claim sentence of the form ``LEAD: item, item, and item`` whose list has at least two items with
   a numeral is split into one claim per item, ``LEAD: item.`` (the items are separated at commas
   outside brackets; a leading "and"/"or" is dropped), so each measured result is checked on its own.

Extraction confidence (how clearly the sentence states something checkable), in [0, 1]:
``0.5 + 0.3 [quantity] + 0.2 [result or comparison] - 0.3 [hedged]``, clamped to [0, 1] and rounded
to 2 places, where *hedged* means a word from ``HEDGES`` (may, might, could, suggest, likely, ...).

After verification a claim's published confidence is ``extraction confidence x support``, with
``support = min(1, best verification score / verifier threshold)``: a verified claim keeps its
extraction confidence, an unverified one is scaled down by how far its best independent source fell
short. Every claim keeps its section and 1-based sentence number ("source-grounded") and the rule
and triggers that made it a claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

CLAIM_RULE = "claim-rule-v1"
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

    @property
    def rule(self) -> str:
        return f"{CLAIM_RULE}: " + ", ".join(self.triggers) + (" (hedged)" if self.hedged else "")

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


# ---------------------------------------------------------------------------------------------------
# After verification


@dataclass(frozen=True)
class CheckedClaim:
    """A claim with its verification against independent sources and its nearest source by embedding."""

    claim: Claim
    verified: bool
    best_source: str | None  # versioned arXiv id of the highest-scoring independent source (even below threshold)
    best_score: float
    nearest_source: str | None  # by the semantic index
    nearest_similarity: float
    support: float  # min(1, best_score / threshold)
    confidence: float  # extraction confidence x support, 2 places
    withdrawn: bool = False  # withdrawn from the synthesis in a tribunal revision round

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
