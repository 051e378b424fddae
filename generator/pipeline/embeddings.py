"""The semantic index: text embeddings from NVIDIA NIM (online) or feature hashing (offline), cosine search.

The hashing backend is the default because it needs no download, no key and no network, and gives the
same vectors on every machine; the NIM backend is for better recall when a key is available.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Literal, Protocol

import httpx
import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

from generator.errors import InputError, SovereignError
from generator.pipeline.bounded import MIB, Answer, Refused, bounded_client, json_body, post_once
from generator.pipeline.retry import Deadline, DeadlinePassed, RetriesExhausted, RetryPolicy, with_retries

InputType = Literal["query", "passage"]
INPUT_TYPES = ("query", "passage")
NIM_BASE_URL = "https://integrate.api.nvidia.com/v1"
NIM_MODEL = "nvidia/nv-embedqa-e5-v5"
NIM_MAX_BODY_BYTES = 32 * MIB  # 50 vectors of 4096 floats as JSON text are about 5 MB
NIM_MAX_REDIRECTS = 5
NIM_CALL_DEADLINE = 180.0  # seconds for one batch, all its attempts and pauses
NIM_RUN_DEADLINE = 1800.0  # seconds for everything one NimEmbeddings asks, from its creation


class EmbeddingError(SovereignError):
    """Embeddings could not be computed; the message names the model, the URL or the setting to change."""


class EmbeddingRefused(EmbeddingError):
    """The endpoint's answer was refused: not an embeddings JSON answer, redirected off its host, or too large."""

    exit_code = 2


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
    provider = "local"

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

    def close(self) -> None:
        pass


class NimEmbeddings:
    """Embeddings from an NVIDIA NIM (OpenAI-style ``/embeddings``) endpoint.

    The API key is read from ``api_key_env`` at each call and never stored, logged or put in an error.
    HTTP 429/5xx, timeouts and connection failures are retried with backoff (Retry-After honoured);
    ``sleep`` is injectable so tests need not wait.

    Every answer goes through ``generator.pipeline.bounded``: ``timeout`` bounds one attempt (wall clock),
    a batch with its retries ends within ``call_deadline`` seconds (default 180 s, or what the retry
    policy needs if more) and everything within ``run_deadline`` seconds of creation (default 1800 s);
    bodies over ``max_body_bytes``, redirects off the base URL's host (or more than ``max_redirects``)
    and answers that are not an embeddings JSON object are refused (``EmbeddingRefused``).
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
        max_body_bytes: int = NIM_MAX_BODY_BYTES,
        max_redirects: int = NIM_MAX_REDIRECTS,
        call_deadline: float | None = None,
        run_deadline: float | None = None,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.provider = "NVIDIA NIM"
        self.model = model
        self.dimension = dimension
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.batch_size = batch_size
        self.retry = RetryPolicy(max_retries=max_retries, backoff_base=backoff_base, backoff_max=backoff_max)
        self.max_body_bytes = max_body_bytes
        self.max_redirects = max_redirects
        self.call_deadline = call_deadline if call_deadline is not None else max(NIM_CALL_DEADLINE, self.retry.budget(timeout))
        self.run_deadline = Deadline(run_deadline if run_deadline is not None else max(NIM_RUN_DEADLINE, self.call_deadline),
                                     "embedding run deadline")
        self._client = client if client is not None else bounded_client(timeout)
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
        answer = self._post(body)
        vectors = self._vectors(answer)
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

    def _vectors(self, answer: Answer) -> list[list[float]]:
        """The vectors of an OpenAI-style embeddings answer, in input order; refused unless it has that shape:
        ``data`` a list of objects, each with an ``embedding`` list of finite numbers and, if any has an
        ``index``, the indexes 0..n-1 each once."""
        try:
            value = json_body(answer)
        except Refused as exc:
            raise self._refused(exc.problem) from None

        def bad(problem: str) -> EmbeddingRefused:
            return self._refused(f"answered with JSON that is not an embeddings response ({problem})")

        data = value.get("data") if isinstance(value, dict) else None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise bad("no 'data' list of objects")
        indexes = [item.get("index") for item in data]
        if any(index is not None for index in indexes):
            whole = all(isinstance(i, int) and not isinstance(i, bool) for i in indexes)
            if not whole or sorted(indexes) != list(range(len(data))):
                raise bad("the 'index' values are not 0 to n-1 each once")
            data = sorted(data, key=lambda item: item["index"])
        vectors = []
        for item in data:
            embedding = item.get("embedding")
            if not isinstance(embedding, list) or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in embedding
            ):
                raise bad("an 'embedding' that is not a list of finite numbers")
            vectors.append([float(x) for x in embedding])
        return vectors

    def _refused(self, problem: str) -> EmbeddingRefused:
        return EmbeddingRefused(f"{self.url} (model {self.model}) {problem}; nothing was used from it")

    def _post(self, body: dict) -> Answer:
        deadline = Deadline(self.call_deadline, "embedding call deadline").sooner(self.run_deadline)

        def attempt_once() -> Answer:
            headers = {"Authorization": f"Bearer {self._api_key()}", "Accept": "application/json"}
            return post_once(self._client, self.url, body, headers, self.timeout, self._raise_fatal, deadline=deadline,
                             max_body_bytes=self.max_body_bytes, max_redirects=self.max_redirects)

        try:
            return with_retries(attempt_once, self.retry, sleep=self._sleep, what="embedding request", deadline=deadline)
        except RetriesExhausted as exc:
            raise EmbeddingError(
                f"embedding request to {self.url} (model {self.model}) failed: {exc.problem} after {exc.attempts} attempts"
            ) from None
        except DeadlinePassed as exc:
            raise EmbeddingError(f"embedding request to {self.url} (model {self.model}) stopped: {exc}") from None
        except Refused as exc:
            raise self._refused(exc.problem) from None

    def _raise_fatal(self, response: Answer) -> None:
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
