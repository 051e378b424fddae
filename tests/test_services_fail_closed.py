"""Live services fail closed: an answer from arXiv, NIM or the chat model that is not what the service
sends (garbage, an HTML page), that redirects off the configured host, that never ends or that arrives one
byte at a time stops the run with one clean error and writes nothing.

Every service is the local stand-in on 127.0.0.1 (tests/arxiv_standin.py); every endless or dribbled
answer ends by itself, and the client-side limits under test keep each test to a few seconds.
"""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import httpx
import pytest
import respx
import yaml
from click.testing import CliRunner

from arxiv_standin import Fault, render_feed, serve
from conftest import SEEDS, copy_records
from generator.cli import cli
from generator.corpus import shipped_corpus
from generator.pipeline.bounded import Refused, bounded_client, clamped, exchange
from generator.pipeline.chat import CHAT_MAX_BODY_BYTES, ChatClient, ChatError, ChatRefused
from generator.pipeline.embeddings import NIM_MAX_BODY_BYTES, EmbeddingError, EmbeddingRefused, NimEmbeddings
from generator.pipeline.retry import Deadline, DeadlinePassed, RetryPolicy
from generator.pipeline.search import ARXIV_MAX_BODY_BYTES, ArxivApiSearch, SearchError, SearchRefused, feed_problem
from generator.records.importer import parse_file

TARGET = "2604.23996"
QUESTION = parse_file(SEEDS[4]).research_question
QUERY = 'all:"expert routing" AND abs:"mixture-of-experts"'
TIMEOUT = 1.0  # seconds per attempt, set in the config of the runs below
DRIBBLE = 0.2  # seconds between the bytes of a dribbled answer
MIB = 1024 * 1024
IN_FLIGHT = 32 * MIB  # what loopback socket buffers may hold beyond what the client read
CAPS = {"arxiv": ARXIV_MAX_BODY_BYTES, "nim": NIM_MAX_BODY_BYTES, "chat": CHAT_MAX_BODY_BYTES}
REQUESTS = {"arxiv": 1, "nim": 1, "chat": 3}  # the tribunal asks its three roles at once
NIM_KEY = "nvapi-test-SECRET-1"
LLM_KEY = "sk-test-SECRET-2"


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("NVIDIA_API_KEY", NIM_KEY)
    monkeypatch.setenv("LLM_API_KEY", LLM_KEY)


@pytest.fixture
def standin():
    state, stop = serve(shipped_corpus())
    yield state
    stop()


@pytest.fixture
def records(tmp_path, later_epoch) -> Path:
    """A copy of the shipped records: a failed run must leave it exactly as it was."""
    return copy_records(tmp_path / "records")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def settings(service: str, standin, tmp_path: Path) -> dict:
    """A run with only ``service`` live (at the stand-in), one attempt of TIMEOUT seconds, everything else offline."""
    if service == "arxiv":
        return {"search": {"backend": "arxiv", "query_count": 1, "arxiv": {
            "base_url": standin.url, "delay_seconds": 0.0, "timeout_seconds": TIMEOUT, "max_retries": 0,
            "backoff_seconds": 0.01, "empty_page_retries": 0, "cache_path": str(tmp_path / "cache")}}}
    if service == "nim":
        return {"embedding": {"backend": "nim", "base_url": f"{standin.origin}/v1", "dimension": 8,
                              "timeout_seconds": TIMEOUT, "max_retries": 0, "backoff_seconds": 0.0}}
    return {"tribunal": {"backend": "openai-compatible", "base_url": f"{standin.origin}/v1", "model": "judge-1",
                         "api_key_env": "LLM_API_KEY", "timeout_seconds": TIMEOUT, "max_retries": 0,
                         "backoff_seconds": 0.0}}


def run_cli(service: str, standin, tmp_path: Path, records: Path):
    config = tmp_path / "pipeline.yml"
    config.write_text(yaml.safe_dump(settings(service, standin, tmp_path)), encoding="utf-8")
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["run", QUESTION, "--paper", TARGET, "--config", str(config),
                                      "--records", str(records)])
    return result, time.monotonic() - started


def assert_clean_failure(result, exit_code: int, *expected: str) -> str:
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.exit_code == exit_code, (result.exit_code, result.output, result.exception)
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    for text in expected:
        assert text in errors[0], errors[0]
    for secret in (NIM_KEY, LLM_KEY):
        assert secret not in result.output
    return errors[0]


GARBAGE = b"\x00\x9f<feed><<\xff garbage }{ not what any service sends"
HTML = (b"<!DOCTYPE html>\n<html><head><title>Service unavailable</title></head>"
        b"<body><h1>Please try again later</h1></body></html>")
CONTENT_TYPE = {"arxiv": "application/atom+xml; charset=utf-8", "nim": "application/json", "chat": "application/json"}
# The endpoint each service's client asks, for redirects that loop back to it.
LOOP_PATH = {"arxiv": "{path}", "nim": "/v1/embeddings", "chat": "/v1/chat/completions"}
REDIRECT_STATUS = {"arxiv": 302, "nim": 307, "chat": 307}  # 307 keeps the POST a POST


def refusals(service: str) -> dict[str, tuple[Fault, str]]:
    """Each reproduction of the issue as a standing fault, with what the one error line must say."""
    status = REDIRECT_STATUS[service]
    return {
        "garbage": (Fault(body=GARBAGE, content_type=CONTENT_TYPE[service]),
                    "not well-formed XML" if service == "arxiv" else "not valid JSON"),
        "html page": (Fault(body=HTML, content_type="text/html; charset=utf-8"),
                      "text/html, not an Atom feed" if service == "arxiv" else "text/html, not JSON"),
        "redirect loop": (Fault(redirect="{origin}" + LOOP_PATH[service], redirect_status=status),
                          "more than 5 redirects"),
        "redirect to file": (Fault(redirect="file:///etc/passwd", redirect_status=status),
                             "redirecting to file:, which is not http://127.0.0.1:"),
        "redirect to another host": (Fault(redirect="http://localhost:{port}/elsewhere", redirect_status=status),
                                     "redirecting to http://localhost:"),
    }


SERVICES = ("arxiv", "nim", "chat")
WHAT = {"arxiv": "arXiv", "nim": "/v1/embeddings", "chat": "judge-1"}


@pytest.mark.parametrize("case", ["garbage", "html page", "redirect loop", "redirect to file", "redirect to another host"])
@pytest.mark.parametrize("service", SERVICES)
def test_an_answer_that_is_not_the_service_is_refused_and_nothing_is_written(standin, tmp_path, records, service, case):
    fault, message = refusals(service)[case]
    if fault.redirect and "{port}" in fault.redirect:
        fault = Fault(redirect=fault.redirect.replace("{port}", standin.origin.rsplit(":", 1)[1]),
                      redirect_status=fault.redirect_status)
    standin.always = fault
    before = snapshot(records)

    result, seconds = run_cli(service, standin, tmp_path, records)

    assert_clean_failure(result, 2, message, WHAT[service])
    assert snapshot(records) == before
    assert seconds < 5
    if case == "redirect loop":
        assert standin.count == 6 * REQUESTS[service]  # the first request and five redirects, each
    elif case.startswith("redirect"):
        assert standin.count == REQUESTS[service]  # the redirect was not followed anywhere


@pytest.mark.parametrize("service", SERVICES)
def test_an_endless_body_is_cut_off_at_the_size_cap(standin, tmp_path, records, service):
    standin.always = Fault(endless=True, content_type=CONTENT_TYPE[service])
    before = snapshot(records)

    result, seconds = run_cli(service, standin, tmp_path, records)

    assert_clean_failure(result, 2, f"more than the limit of {CAPS[service]} bytes", WHAT[service])
    assert snapshot(records) == before
    streams = standin.wait_for_streams(REQUESTS[service])
    assert len(streams) == REQUESTS[service]
    for stream in streams:  # the client hung up soon after the cap: the server could send little more
        assert stream.ended == "client went away"
        assert CAPS[service] < stream.sent <= CAPS[service] + IN_FLIGHT
    assert seconds < 5


@pytest.mark.parametrize("where", ["body", "headers"])
@pytest.mark.parametrize("service", SERVICES)
def test_an_answer_dribbled_one_byte_at_a_time_is_abandoned_at_the_deadline(standin, tmp_path, records, service, where):
    if where == "body":
        standin.always = Fault(dribble=DRIBBLE, content_type=CONTENT_TYPE[service])
    else:
        standin.always = Fault(dribble_headers=DRIBBLE)
    before = snapshot(records)

    result, seconds = run_cli(service, standin, tmp_path, records)

    assert_clean_failure(result, 1, f"no answer within {TIMEOUT:g} s", WHAT[service])
    assert snapshot(records) == before
    assert seconds < TIMEOUT + 3
    streams = standin.wait_for_streams(REQUESTS[service])
    assert len(streams) == REQUESTS[service] and all(s.ended == "client went away" for s in streams)
    # The server kept sending a byte every DRIBBLE seconds; the client stopped listening at its deadline.
    assert all(s.sent <= TIMEOUT / DRIBBLE + 3 for s in streams)


# ---------------------------------------------------------------------------------------------------
# arXiv: what counts as a feed


def atom(inner: str, *, total: bool = True) -> bytes:
    count = "<opensearch:totalResults>0</opensearch:totalResults>" if total else ""
    return ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" '
            f'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{count}{inner}</feed>').encode()


@pytest.mark.parametrize("content, media_type, problem", [
    (b'<?xml version="1.0"?><results><paper>x</paper></results>', "application/atom+xml", "root is 'results'"),
    (b'<feed><entry/></feed>', "application/atom+xml", "root is 'feed', not an Atom <feed>"),
    (atom("", total=False), "application/atom+xml", "without an OpenSearch totalResults"),
    (atom("<entry><title>t</title></entry>"), "application/atom+xml", "entry 1 has no id"),
    (atom(""), "text/plain", "text/plain, not an Atom feed"),
    (atom(""), "", "no Content-Type"),
    (b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaa">]><feed xmlns="http://www.w3.org/2005/Atom">&a;</feed>',
     "application/atom+xml", "DTD or entity declarations"),
    (b"", "application/atom+xml", "not well-formed XML"),
])
def test_feed_problem_names_what_is_wrong(content, media_type, problem):
    assert problem in feed_problem(content, media_type)


def test_real_feeds_pass_the_check():
    corpus = shipped_corpus()
    assert feed_problem(render_feed(corpus.papers[:3], total=3), "application/atom+xml") is None
    assert feed_problem(render_feed([], total=0), "application/atom+xml") is None


def test_a_well_formed_empty_feed_is_a_valid_empty_result(standin, tmp_path, records):
    standin.always = Fault(body=render_feed([], total=0), content_type="application/atom+xml")

    result, _ = run_cli("arxiv", standin, tmp_path, records)

    assert result.exit_code == 0, result.output
    assert "0 papers retrieved" in result.output


def test_a_redirect_within_the_host_is_followed(standin, tmp_path):
    standin.plan(Fault(redirect="{origin}{path}"))
    with ArxivApiSearch(base_url=standin.url, delay_seconds=0.0, timeout=2.0, cache_path=None) as search:
        papers = search.search(QUERY, 3)

    assert len(papers) == 3
    assert [seen.answered for seen in standin.seen] == ["redirect", "feed"]


def test_a_refused_answer_is_not_retried_and_not_cached(standin, tmp_path):
    standin.plan(Fault(body=HTML, content_type="text/html"))
    cache = tmp_path / "cache"
    with ArxivApiSearch(base_url=standin.url, delay_seconds=0.0, timeout=2.0, cache_path=cache,
                        retry=RetryPolicy(max_retries=3, backoff_base=0.01)) as search:
        with pytest.raises(SearchRefused):
            search.search(QUERY, 3)
        assert standin.count == 1
        assert len(search.search(QUERY, 3)) == 3  # the next answer is a feed, asked for again
    assert standin.count == 2


def test_a_query_deadline_bounds_all_attempts_and_pauses(standin):
    standin.always = Fault(dribble=DRIBBLE)
    started = time.monotonic()
    with ArxivApiSearch(base_url=standin.url, delay_seconds=0.0, timeout=5.0, query_deadline=0.8, cache_path=None,
                        retry=RetryPolicy(max_retries=3, backoff_base=0.01)) as search:
        with pytest.raises(SearchError, match=r"the arXiv query deadline of 0.8 s passed") as caught:
            search.search(QUERY, 3)
    assert not isinstance(caught.value, SearchRefused) and caught.value.exit_code == 1
    assert time.monotonic() - started < 2.0
    assert standin.count == 1


def test_a_run_deadline_bounds_every_query_of_the_backend(standin):
    with ArxivApiSearch(base_url=standin.url, delay_seconds=0.0, timeout=5.0, run_deadline=0.6, cache_path=None) as search:
        assert len(search.search(QUERY, 2)) == 2
        time.sleep(0.7)
        with pytest.raises(SearchError, match=r"the arXiv run deadline of 0.6 s passed"):
            search.search(QUERY, 3)
    assert standin.count == 1  # nothing was sent once the run deadline had passed


def test_a_pause_that_would_end_past_the_deadline_is_not_taken(standin):
    standin.always = Fault(status=503, retry_after="60")
    started = time.monotonic()
    with ArxivApiSearch(base_url=standin.url, delay_seconds=0.0, timeout=2.0, query_deadline=3.0, cache_path=None,
                        retry=RetryPolicy(max_retries=3)) as search:
        with pytest.raises(SearchError, match=r"query deadline of 3 s passed .*last problem: HTTP 503"):
            search.search(QUERY, 3)
    assert time.monotonic() - started < 1.0 and standin.count == 1


# ---------------------------------------------------------------------------------------------------
# The shared exchange


def test_bounded_clients_clamp_their_sockets_to_the_deadline():
    client = bounded_client(5.0)
    try:
        assert clamped(client)  # if an httpx upgrade moves the pool's backend, this says so
    finally:
        client.close()


def test_a_deadline_cuts_a_dribbled_answer_even_with_a_long_timeout(standin):
    standin.always = Fault(dribble=DRIBBLE)
    client = bounded_client(30.0)
    started = time.monotonic()
    try:
        with pytest.raises(DeadlinePassed):
            exchange(client, "GET", standin.url, timeout=30.0, deadline=Deadline(0.5), max_body_bytes=MIB)
    finally:
        client.close()
    assert time.monotonic() - started < 1.0


@respx.mock
def test_a_declared_length_over_the_cap_is_refused_before_reading():
    respx.get("https://svc.test/x").mock(return_value=httpx.Response(200, headers={"Content-Length": str(10 * MIB)},
                                                                      content=b"{}"))
    with httpx.Client() as client, pytest.raises(Refused, match=f"body of {10 * MIB} bytes"):
        exchange(client, "GET", "https://svc.test/x", timeout=5, max_body_bytes=MIB)


@respx.mock
def test_a_compression_bomb_is_cut_off_at_the_cap_not_inflated():
    bomb = gzip.compress(b"\0" * (64 * MIB))  # 64 KB on the wire
    respx.get("https://svc.test/x").mock(return_value=httpx.Response(
        200, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}, content=bomb))
    with httpx.Client() as client, pytest.raises(Refused, match=f"limit of {MIB} bytes"):
        exchange(client, "GET", "https://svc.test/x", timeout=5, max_body_bytes=MIB)


@respx.mock
def test_a_compressed_answer_within_the_cap_is_decoded():
    respx.get("https://svc.test/x").mock(return_value=httpx.Response(
        200, headers={"Content-Encoding": "gzip"}, content=gzip.compress(b'{"ok": true}')))
    with httpx.Client() as client:
        answer = exchange(client, "GET", "https://svc.test/x", timeout=5, max_body_bytes=MIB)
    assert answer.json() == {"ok": True}


# ---------------------------------------------------------------------------------------------------
# NIM and chat: JSON of the expected shape, redirects, deadlines

NIM = "https://nim.test/v1"
LLM = "https://llm.test/v1"


def nim(**options) -> NimEmbeddings:
    return NimEmbeddings(**{"base_url": NIM, "dimension": 2, "max_retries": 0, "sleep": lambda s: None, **options})


def chat(**options) -> ChatClient:
    return ChatClient(**{"base_url": LLM, "model": "judge-1", "api_key_env": "LLM_API_KEY", "max_retries": 0,
                         "sleep": lambda s: None, **options})


@pytest.mark.parametrize("body, problem", [
    ({"data": [{"index": 0, "embedding": [1, "2"]}]}, "not a list of finite numbers"),
    ({"data": [{"index": 0, "embedding": [1, True]}]}, "not a list of finite numbers"),
    ({"data": [{"index": 0, "embedding": [1, float("nan")]}]}, "not a list of finite numbers"),
    ({"data": [{"index": 0, "embedding": [1, 0]}, {"index": 0, "embedding": [0, 1]}]}, "'index' values"),
    ({"data": {"embedding": [1, 0]}}, "no 'data' list of objects"),
    ([1, 2], "no 'data' list of objects"),
])
@respx.mock
def test_nim_json_of_the_wrong_shape_is_refused(body, problem):
    respx.post(f"{NIM}/embeddings").mock(return_value=httpx.Response(
        200, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"}))
    with pytest.raises(EmbeddingRefused, match=problem) as caught:
        nim().embed(["a", "b"])
    assert caught.value.exit_code == 2 and NIM_KEY not in str(caught.value)


@respx.mock
def test_a_post_redirected_within_the_host_with_307_is_followed_with_its_body():
    moved = f"{NIM}/moved/embeddings"
    respx.post(f"{NIM}/embeddings").mock(return_value=httpx.Response(307, headers={"Location": moved}))
    route = respx.post(moved).mock(return_value=httpx.Response(200, json={"data": [{"index": 0, "embedding": [1, 0]}]}))

    assert nim().embed(["a"]) == [[1.0, 0.0]]
    assert json.loads(route.calls.last.request.content)["input"] == ["a"]


@respx.mock
def test_a_302_for_a_post_is_refused_not_turned_into_a_get():
    respx.post(f"{LLM}/chat/completions").mock(return_value=httpx.Response(302, headers={"Location": f"{LLM}/x"}))
    with pytest.raises(ChatRefused, match="would turn the POST into a GET"):
        chat().complete_json("s", "u")


@respx.mock
def test_a_chat_call_deadline_stops_retries_that_would_outlast_it():
    route = respx.post(f"{LLM}/chat/completions").mock(return_value=httpx.Response(503, headers={"Retry-After": "30"}))
    slept: list[float] = []
    client = chat(max_retries=5, call_deadline=10, sleep=slept.append)

    with pytest.raises(ChatError, match=r"gave no answer in time: the chat call deadline of 10 s passed") as caught:
        client.complete_json("s", "u")

    assert route.call_count == 1 and slept == []
    assert not isinstance(caught.value, ChatRefused)


def test_an_embedding_run_deadline_bounds_every_call(standin):
    standin.always = Fault(dribble=DRIBBLE, content_type="application/json")
    client = nim(base_url=f"{standin.origin}/v1", timeout=30.0, run_deadline=0.6)
    started = time.monotonic()
    try:
        with pytest.raises(EmbeddingError, match=r"the embedding run deadline of 0.6 s passed"):
            client.embed(["a"])
    finally:
        client.close()
    assert time.monotonic() - started < 1.5
