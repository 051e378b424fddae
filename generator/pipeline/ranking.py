"""Okapi BM25 relevance ranking over short texts (titles and abstracts), offline and deterministic.

Used by the offline corpus search and by the verifier evaluation's retrieval measure, so both rank
documents the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer


@dataclass(frozen=True)
class RankedHit:
    index: int
    score: float


class BM25Index:
    """A BM25 index over ``documents``; ``k1`` and ``b`` are the usual Okapi parameters."""

    def __init__(self, documents: list[str], *, k1: float = 1.5, b: float = 0.75):
        self.k1 = k1
        self.b = b
        self.vectorizer = CountVectorizer(lowercase=True, stop_words="english", token_pattern=r"(?u)\b\w[\w-]*\b")
        counts = self.vectorizer.fit_transform(documents).tocsc().astype(np.float64)
        n_docs = counts.shape[0]
        doc_len = np.asarray(counts.sum(axis=1)).ravel()
        avg_len = doc_len.mean() if n_docs else 0.0
        doc_freq = np.diff(counts.indptr)
        self.idf = np.log(1.0 + (n_docs - doc_freq + 0.5) / (doc_freq + 0.5))
        norm = k1 * (1.0 - b + b * doc_len / (avg_len or 1.0))
        counts = counts.tocsr()
        rows = np.repeat(np.arange(n_docs), np.diff(counts.indptr))
        data = counts.data * (k1 + 1.0) / (counts.data + norm[rows])
        self.weights = counts.copy()
        self.weights.data = data
        self.n_docs = n_docs

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for ``query`` (each distinct query term counted once)."""
        terms = self.vectorizer.transform([query])
        terms.data[:] = 1.0
        query_weights = terms.multiply(self.idf).tocsr()
        return np.asarray((self.weights @ query_weights.T).todense()).ravel()

    def search_many(self, queries: list[str], limit: int = 10) -> list[list[RankedHit]]:
        """``search`` for each query, with one sparse product for all of them (same results, faster)."""
        terms = self.vectorizer.transform(queries)
        terms.data[:] = 1.0
        scores = np.asarray((self.weights @ terms.multiply(self.idf).tocsr().T).todense())
        out = []
        for column in range(len(queries)):
            values = scores[:, column]
            order = np.lexsort((np.arange(self.n_docs), -values))[:limit]
            out.append([RankedHit(int(i), float(values[i])) for i in order if values[i] > 0])
        return out

    def search(self, query: str, limit: int = 10) -> list[RankedHit]:
        """The best ``limit`` documents with a positive score, best first, ties by index."""
        scores = self.scores(query)
        order = np.lexsort((np.arange(self.n_docs), -scores))[:limit]  # by score, then index
        return [RankedHit(int(i), float(scores[i])) for i in order if scores[i] > 0]
