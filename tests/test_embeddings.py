"""Embedding backends and the semantic index; the NIM endpoint is mocked with respx (no network)."""

from __future__ import annotations

import json
import traceback

import httpx
import pytest
import respx

from generator.corpus import shipped_corpus
from generator.errors import InputError
from generator.pipeline.embeddings import EmbeddingError, HashingEmbeddings, NimEmbeddings, SemanticIndex

BASE = "https://nim.test/v1"
KEY = "nvapi-SECRET-do-not-leak-123"
SLEEPS: list[float] = []


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("NVIDIA_API_KEY", KEY)
    SLEEPS.clear()


def nim(**options) -> NimEmbeddings:
    settings = dict(base_url=BASE, dimension=4, max_retries=2, sleep=SLEEPS.append)
    settings.update(options)
    return NimEmbeddings(**settings)


def answer(*vectors, status=200, headers=None):
    data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
    return httpx.Response(status, json={"object": "list", "data": data, "model": "m"}, headers=headers)


def everything_said(error: BaseException) -> str:
    return str(error) + repr(error) + "".join(traceback.format_exception(error))


@respx.mock
def test_nim_posts_the_documented_body_with_a_bearer_key():
    route = respx.post(f"{BASE}/embeddings").mock(return_value=answer([1, 0, 0, 0], [0, 1, 0, 0]))

    vectors = nim().embed(["first passage", "second passage"], "passage")

    assert vectors == [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert json.loads(request.content) == {
        "input": ["first passage", "second passage"],
        "model": "nvidia/nv-embedqa-e5-v5",
        "input_type": "passage",
        "encoding_format": "float",
        "truncate": "END",
    }


@respx.mock
def test_nim_keeps_the_order_of_the_inputs_and_batches_them():
    route = respx.post(f"{BASE}/embeddings")
    route.side_effect = [
        httpx.Response(200, json={"data": [{"index": 1, "embedding": [0, 2, 0, 0]},
                                           {"index": 0, "embedding": [1, 0, 0, 0]}]}),
        answer([0, 0, 3, 0]),
    ]

    vectors = nim(batch_size=2).embed(["a", "b", "c"], "query")

    assert vectors == [[1, 0, 0, 0], [0, 2, 0, 0], [0, 0, 3, 0]]
    assert [json.loads(call.request.content)["input"] for call in route.calls] == [["a", "b"], ["c"]]
    assert json.loads(route.calls.last.request.content)["input_type"] == "query"


@respx.mock
def test_a_vector_of_the_wrong_length_is_an_embedding_error():
    respx.post(f"{BASE}/embeddings").mock(return_value=answer([1, 0, 0]))

    with pytest.raises(EmbeddingError, match=r"nvidia/nv-embedqa-e5-v5 returned vectors of length 3, expected 4"):
        nim().embed(["text"], "passage")


@respx.mock
def test_410_gone_says_the_model_is_retired_and_what_to_change():
    route = respx.post(f"{BASE}/embeddings").mock(return_value=httpx.Response(410, json={"detail": "Gone"}))

    with pytest.raises(EmbeddingError) as caught:
        nim().embed(["text"], "passage")

    message = str(caught.value)
    assert "nvidia/nv-embedqa-e5-v5 is retired" in message and "HTTP 410" in message
    assert "model" in message and "config" in message
    assert route.call_count == 1  # not retried


@respx.mock
def test_429_is_retried_after_retry_after_then_succeeds():
    route = respx.post(f"{BASE}/embeddings")
    route.side_effect = [httpx.Response(429, headers={"Retry-After": "7"}), answer([1, 1, 0, 0])]

    assert nim().embed(["text"], "query") == [[1, 1, 0, 0]]
    assert route.call_count == 2
    assert SLEEPS == [7.0]


@respx.mock
def test_server_errors_are_retried_with_backoff_then_reported():
    route = respx.post(f"{BASE}/embeddings").mock(return_value=httpx.Response(503))

    with pytest.raises(EmbeddingError, match=r"https://nim.test/v1/embeddings .* HTTP 503 after 3 attempts"):
        nim(backoff_base=0.5).embed(["text"], "passage")

    assert route.call_count == 3
    assert SLEEPS == [0.5, 1.0]


def test_a_missing_key_names_the_environment_variable(monkeypatch):
    monkeypatch.delenv("NVIDIA_API_KEY")

    with pytest.raises(EmbeddingError, match="NVIDIA_API_KEY"):
        nim().embed(["text"], "passage")


@respx.mock
def test_the_key_never_appears_in_errors_or_reprs():
    respx.post(f"{BASE}/embeddings").side_effect = [
        httpx.Response(401, json={"error": "bad key"}),
        httpx.ConnectTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
    ]
    backend = nim()

    for _ in range(2):
        with pytest.raises(EmbeddingError) as caught:
            backend.embed(["text"], "passage")
        assert KEY not in everything_said(caught.value)
    assert KEY not in repr(backend) and KEY not in repr(vars(backend))


def test_nim_refuses_an_unknown_input_type():
    with pytest.raises(InputError, match="'query' or 'passage'"):
        nim().embed(["text"], "document")


def test_hashing_embeddings_are_deterministic_unit_vectors_of_the_right_length():
    texts = ["Soft modality-guided expert routing", "Mixture of experts for vision-language models", ""]

    first = HashingEmbeddings().embed(texts, "passage")
    second = HashingEmbeddings().embed(texts, "query")

    assert first == second
    assert [len(v) for v in first] == [1024, 1024, 1024]
    assert abs(sum(x * x for x in first[0]) - 1.0) < 1e-9
    assert all(x >= 0 for x in first[0])  # alternate_sign=False
    assert sum(first[2]) == 0.0
    assert HashingEmbeddings(dimension=64).embed(["x y"], "query")[0].__len__() == 64
    assert HashingEmbeddings.model == "local-hashing-v1"


def test_semantic_index_ranks_by_cosine():
    corpus = shipped_corpus()
    index = SemanticIndex(HashingEmbeddings())
    index.add([p.arxiv_id for p in corpus.papers], [f"{p.title}. {p.abstract}" for p in corpus.papers])

    hits = index.query("soft modality-guided expert specialization in MoE vision-language models", k=3)

    assert hits[0][0] == "2604.23996"
    assert len(hits) == 3
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1.0 + 1e-9


def test_semantic_index_refuses_duplicate_and_mismatched_ids():
    index = SemanticIndex(HashingEmbeddings(dimension=16))
    index.add(["a"], ["alpha"])

    with pytest.raises(InputError, match="a"):
        index.add(["a"], ["again"])
    with pytest.raises(InputError, match="2 document ids for 1 passages"):
        index.add(["b", "c"], ["only one"])
    assert SemanticIndex(HashingEmbeddings(dimension=16)).query("anything") == []


@respx.mock
def test_semantic_index_over_nim_sends_passages_then_a_query():
    route = respx.post(f"{BASE}/embeddings")
    route.side_effect = [answer([1, 0, 0, 0], [0, 1, 0, 0]), answer([0.1, 0.9, 0, 0])]
    index = SemanticIndex(nim())

    index.add(["p1", "p2"], ["one", "two"])
    hits = index.query("which?", k=1)

    assert [h[0] for h in hits] == ["p2"]
    assert [json.loads(c.request.content)["input_type"] for c in route.calls] == ["passage", "query"]
