"""The semantic index: text embeddings from NVIDIA NIM (online) or feature hashing (offline), cosine search.

The hashing backend is the default because it needs no download, no key and no network, and gives the
same vectors on every machine; the NIM backend is for better recall when a key is available.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Literal, Protocol

import httpx
import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

from generator.errors import InputError, SovereignError
from generator.pipeline.retry import RetriesExhausted, RetryPolicy, post_once, with_retries

InputType = Literal["query", "passage"]
INPUT_TYPES = ("query", "passage")
NIM_BASE_URL = "https://integrate.api.nvidia.com/v1"
NIM_MODEL = "nvidia/nv-embedqa-e5-v5"


class EmbeddingError(SovereignError):
    """Embeddings could not be computed; the message names the model, the URL or the setting to change."""


class EmbeddingBackend(Protocol):
    """Turns texts into vectors of length ``dimension``; ``model`` names what made them (for provenance)."""

    model: str
    dimension: int

    def embed(self, texts: list[str], input_type: InputType) -> list[list[float]]: ...


def _check_input_type(input_type: str) -> None:
    if input_type not in INPUT_TYPES:
        raise InputError(f"input_type must be 'query' or 'passage', not {input_type!r}")


class HashingEmbeddings:
    """Offline embeddings: hashed word unigrams and bigrams, L2-normalised; deterministic, no download.

    Queries and passages are embedded the same way (``input_type`` is accepted and ignored).
    """

    model = "local-hashing-v1"

    def __init__(self, dimension: int = 1024):
        self.dimension = dimension
        self._vectorizer = HashingVectorizer(
            n_features=dimension, ngram_range=(1, 2), alternate_sign=False, norm="l2", lowercase=True
        )

    def embed(self, texts: list[str], input_type: InputType = "passage") -> list[list[float]]:
        _check_input_type(input_type)
        if not texts:
            return []
        return self._vectorizer.transform(list(texts)).toarray().tolist()


class NimEmbeddings:
    """Embeddings from an NVIDIA NIM (OpenAI-style ``/embeddings``) endpoint.

    The API key is read from ``api_key_env`` at each call and never stored, logged or put in an error.
    HTTP 429/5xx, timeouts and connection failures are retried with backoff (Retry-After honoured);
    ``sleep`` is injectable so tests need not wait.
    """

    def __init__(
        self,
        base_url: str = NIM_BASE_URL,
        model: str = NIM_MODEL,
        dimension: int = 1024,
        api_key_env: str = "NVIDIA_API_KEY",
        timeout: float = 30.0,
        max_retries: int = 3,
        *,
        batch_size: int = 50,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.dimension = dimension
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.batch_size = batch_size
        self.retry = RetryPolicy(max_retries=max_retries, backoff_base=backoff_base, backoff_max=backoff_max)
        self._client = client if client is not None else httpx.Client(timeout=timeout)
        self._owns_client = client is None
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"NimEmbeddings(base_url={self.base_url!r}, model={self.model!r}, dimension={self.dimension})"

    @property
    def url(self) -> str:
        return f"{self.base_url}/embeddings"

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def embed(self, texts: list[str], input_type: InputType = "passage") -> list[list[float]]:
        _check_input_type(input_type)
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            vectors += self._embed_batch(list(texts[start : start + self.batch_size]), input_type)
        return vectors

    def _api_key(self) -> str:
        key = os.environ.get(self.api_key_env, "").strip()
        if not key:
            raise EmbeddingError(
                f"no API key for {self.url}: set the environment variable {self.api_key_env} "
                "(an NVIDIA API key from https://build.nvidia.com), or use the offline hashing embeddings"
            )
        return key

    def _embed_batch(self, texts: list[str], input_type: str) -> list[list[float]]:
        body = {
            "input": texts,
            "model": self.model,
            "input_type": input_type,
            "encoding_format": "float",
            "truncate": "END",
        }
        response = self._post(body)
        try:
            data = sorted(response.json()["data"], key=lambda item: item.get("index", 0))
            vectors = [[float(x) for x in item["embedding"]] for item in data]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise EmbeddingError(
                f"{self.url} answered with something that is not an embeddings response for model {self.model}"
            ) from None
        if len(vectors) != len(texts):
            raise EmbeddingError(
                f"{self.url} returned {len(vectors)} vectors for {len(texts)} texts (model {self.model})"
            )
        for vector in vectors:
            if len(vector) != self.dimension:
                raise EmbeddingError(
                    f"model {self.model} returned vectors of length {len(vector)}, expected {self.dimension}; "
                    "set the embedding dimension to match the model (or choose a model of that dimension)"
                )
        return vectors

    def _post(self, body: dict) -> httpx.Response:
        def attempt_once() -> httpx.Response:
            headers = {"Authorization": f"Bearer {self._api_key()}", "Accept": "application/json"}
            return post_once(self._client, self.url, body, headers, self.timeout, self._raise_fatal)

        try:
            return with_retries(attempt_once, self.retry, sleep=self._sleep, what="embedding request")
        except RetriesExhausted as exc:
            raise EmbeddingError(
                f"embedding request to {self.url} (model {self.model}) failed: {exc.problem} after {exc.attempts} attempts"
            ) from None

    def _raise_fatal(self, response: httpx.Response) -> None:
        status = response.status_code
        if status == 410:
            raise EmbeddingError(
                f"the embedding model {self.model} is retired: {self.url} answered HTTP 410 Gone. Choose a "
                "current embedding model (https://build.nvidia.com/explore/retrieval) and set its name as the "
                "embedding model in the pipeline config (NimEmbeddings(model=...)), with its dimension"
            )
        if status in (401, 403):
            raise EmbeddingError(
                f"{self.url} rejected the API key from {self.api_key_env} (HTTP {status}); check the key "
                f"and that it may use model {self.model}"
            )
        detail = response.text[:200].strip()
        raise EmbeddingError(
            f"{self.url} answered HTTP {status} for model {self.model}" + (f": {detail}" if detail else "")
        )


class SemanticIndex:
    """Passages embedded once, searched by cosine similarity to an embedded query."""

    def __init__(self, backend: EmbeddingBackend):
        self.backend = backend
        self.doc_ids: list[str] = []
        self._matrix = np.zeros((0, backend.dimension))

    def __len__(self) -> int:
        return len(self.doc_ids)

    def add(self, doc_ids: Sequence[str], passages: Sequence[str]) -> None:
        if len(doc_ids) != len(passages):
            raise InputError(f"{len(doc_ids)} document ids for {len(passages)} passages")
        counts = Counter(self.doc_ids) + Counter(doc_ids)
        duplicates = sorted(d for d in set(doc_ids) if counts[d] > 1)
        if duplicates:
            raise InputError(f"document ids already in the index or repeated: {', '.join(duplicates)}")
        if not doc_ids:
            return
        vectors = self._as_matrix(self.backend.embed(list(passages), "passage"))
        self._matrix = np.vstack([self._matrix, _unit_rows(vectors)])
        self.doc_ids += list(doc_ids)

    def query(self, text: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` most similar documents, best first (ties in insertion order), with their cosine."""
        if not self.doc_ids or k <= 0:
            return []
        query = _unit_rows(self._as_matrix(self.backend.embed([text], "query")))[0]
        scores = self._matrix @ query
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.doc_ids[i], float(scores[i])) for i in order]

    def _as_matrix(self, vectors: list[list[float]]) -> np.ndarray:
        matrix = np.asarray(vectors, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != self.backend.dimension:
            raise EmbeddingError(
                f"model {self.backend.model} gave vectors of shape {matrix.shape}, "
                f"expected length {self.backend.dimension}"
            )
        return matrix


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (all-zero rows stay zero, so their cosine is 0, not NaN)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
