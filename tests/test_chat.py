"""The tribunal's chat client; the OpenAI-compatible endpoint is mocked with respx (no network)."""

from __future__ import annotations

import json
import traceback

import httpx
import pytest
import respx

from generator.pipeline.chat import ChatClient, ChatError

BASE = "https://llm.test/v1"
URL = f"{BASE}/chat/completions"
KEY = "sk-SECRET-never-print-456"
PROMPT = "Judge this claim: the secret prompt text that must stay private."
SLEEPS: list[float] = []


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    SLEEPS.clear()


def chat(**options) -> ChatClient:
    settings = dict(base_url=BASE, model="judge-1", max_retries=2, sleep=SLEEPS.append)
    settings.update(options)
    return ChatClient(**settings)


def completion(content: str | None, status: int = 200, headers=None) -> httpx.Response:
    body = {"id": "c1", "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}
    return httpx.Response(status, json=body, headers=headers)


def everything_said(error: BaseException) -> str:
    return str(error) + repr(error) + "".join(traceback.format_exception(error))


@respx.mock
def test_a_json_answer_comes_back_as_a_dict_and_the_request_asks_for_json():
    route = respx.post(URL).mock(return_value=completion('{"verdict": "supported", "confidence": 0.8}'))

    assert chat().complete_json("You are the judge.", PROMPT, temperature=0.2) == {
        "verdict": "supported", "confidence": 0.8,
    }
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert json.loads(request.content) == {
        "model": "judge-1",
        "messages": [{"role": "system", "content": "You are the judge."}, {"role": "user", "content": PROMPT}],
        "temperature": 0.2,
        "response_format": {"type": "json_object"},
    }


@respx.mock
def test_a_fenced_json_answer_is_accepted():
    respx.post(URL).mock(return_value=completion('```json\n{"verdict": "refuted"}\n```'))

    assert chat().complete_json("s", "u") == {"verdict": "refuted"}


@respx.mock
def test_malformed_json_is_retried_then_a_chat_error_without_key_or_prompt():
    route = respx.post(URL).mock(return_value=completion('{"verdict": "supported",'))

    with pytest.raises(ChatError, match=r"judge-1 .* not valid JSON .*\(after 3 attempts\)") as caught:
        chat().complete_json("system", PROMPT)

    assert route.call_count == 3
    said = everything_said(caught.value)
    assert KEY not in said and PROMPT not in said


@respx.mock
def test_json_that_is_not_an_object_is_a_chat_error():
    respx.post(URL).mock(return_value=completion('["supported"]'))

    with pytest.raises(ChatError, match="a list, not an object"):
        chat(max_retries=0).complete_json("s", "u")


@respx.mock
def test_429_is_retried_after_retry_after_then_succeeds():
    route = respx.post(URL)
    route.side_effect = [httpx.Response(429, headers={"Retry-After": "2"}), completion('{"ok": true}')]

    assert chat().complete_json("s", "u") == {"ok": True}
    assert route.call_count == 2
    assert SLEEPS == [2.0]


@respx.mock
def test_timeouts_are_retried_with_backoff_then_a_chat_error():
    route = respx.post(URL).mock(side_effect=httpx.ReadTimeout("timed out"))

    with pytest.raises(ChatError, match=r"no answer within 5 s \(after 3 attempts\)") as caught:
        chat(timeout=5, backoff_base=0.5).complete_json("s", PROMPT)

    assert route.call_count == 3
    assert SLEEPS == [0.5, 1.0]
    assert KEY not in everything_said(caught.value)


@respx.mock
def test_a_timeout_then_an_answer_succeeds():
    route = respx.post(URL)
    route.side_effect = [httpx.ConnectTimeout("timed out"), completion('{"ok": 1}')]

    assert chat().complete_json("s", "u") == {"ok": 1}
    assert route.call_count == 2


@respx.mock
def test_a_rejected_key_is_not_retried_and_not_printed():
    route = respx.post(URL).mock(return_value=httpx.Response(401, json={"error": {"message": f"bad key {KEY[:6]}"}}))

    with pytest.raises(ChatError, match="OPENAI_API_KEY") as caught:
        chat().complete_json("s", PROMPT)

    assert route.call_count == 1
    said = everything_said(caught.value)
    assert KEY not in said and PROMPT not in said


def test_a_missing_key_names_the_environment_variable(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")

    with pytest.raises(ChatError, match="set the environment variable OPENAI_API_KEY"):
        chat().complete_json("s", "u")

    assert KEY not in repr(chat()) and KEY not in repr(vars(chat()))
