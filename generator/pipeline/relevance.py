"""How much of a research question a text speaks to: the IDF-weighted share of the question's terms it contains.

Terms are lowercase alphanumeric runs (hyphenated words split, so "MoE-VLMs" gives "moe" and "vlm"),
lightly stemmed (plural and -ing/-ed endings dropped, so "routing", "routed" and "routes" meet), minus
English stop words and the words every question uses ("does", "compared", "effect", ...). A term's
weight is its smooth IDF over the background texts (the sentences of the target paper), so a term that
every sentence shares counts little and a question term the paper never uses counts most: a sentence
only scores high when it contains the question's distinctive terms.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

QUESTION_WORDS = frozenset(
    """
    does do did doing can could would should will whether versus vs how what which why when where who
    compare compared comparing comparison effect effects impact role affect affects use using used
    paper papers study approach method result results versus relative respect terms e.g i.e etc
    """.split()
)
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | QUESTION_WORDS
_TOKEN = re.compile(r"[A-Za-z0-9]+")


def stem(word: str) -> str:
    """A light, deterministic stem: lowercase, then drop one plural or -ing/-ed ending."""
    w = word.casefold()
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if len(w) > 5 and w.endswith("ing"):
        return w[:-3]
    if len(w) > 4 and w.endswith("ed"):
        return w[:-2]
    return w


def terms(text: str) -> frozenset[str]:
    """The distinct content terms of ``text`` (stems, no stop words, no bare numbers, two letters at least)."""
    out = set()
    for token in _TOKEN.findall(text):
        if token.isdigit() or len(token) < 2 or token.casefold() in STOP_WORDS:
            continue
        out.add(stem(token))
    return frozenset(out)


@dataclass(frozen=True)
class QuestionTerms:
    """The question's terms with their weights over a background; scores any text against them."""

    weights: dict[str, float]

    @classmethod
    def of(cls, question: str, background: Sequence[str]) -> "QuestionTerms":
        docs = [terms(text) for text in background]
        n = len(docs)
        weights = {}
        for term in sorted(terms(question)):
            df = sum(1 for doc in docs if term in doc)
            weights[term] = math.log((1 + n) / (1 + df)) + 1.0
        return cls(weights)

    @property
    def total(self) -> float:
        return sum(self.weights.values())

    def coverage(self, texts: Iterable[str] | str) -> float:
        """Share (0..1) of the question's weight whose terms occur in ``texts`` (one text or several together)."""
        if isinstance(texts, str):
            texts = [texts]
        found = frozenset().union(*(terms(t) for t in texts))
        total = self.total
        if total == 0:
            return 0.0
        return round(sum(w for term, w in self.weights.items() if term in found) / total, 4)

    def matched(self, text: str) -> list[str]:
        """The question terms ``text`` contains, heaviest first (ties alphabetical)."""
        found = terms(text)
        return [t for t, _ in sorted(self.weights.items(), key=lambda kv: (-kv[1], kv[0])) if t in found]
