"""A small OpenAI-compatible chat-completions client that asks for, and insists on, one JSON object.

The tribunal's roles answer in JSON; this is the one place that deals with the transport (timeouts,
rate limits, server errors, and through ``generator.pipeline.bounded`` redirects, body size and
deadlines) and with models that wrap JSON in a Markdown fence or get it wrong.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable

import httpx

from generator.errors import SovereignError
from generator.pipeline.bounded import MIB, Answer, Refused, bounded_client, json_body, post_once
from generator.pipeline.retry import Deadline, DeadlinePassed, RetriesExhausted, Retryable, RetryPolicy, with_retries

CHAT_MAX_BODY_BYTES = 8 * MIB  # a chat completion is a few kB; generous for long answers
CHAT_MAX_REDIRECTS = 5
CHAT_CALL_DEADLINE = 300.0  # seconds for one completion, all its attempts and pauses
CHAT_RUN_DEADLINE = 1800.0  # seconds for everything one ChatClient asks, from its creation

_FENCE = re.compile(r"^```[A-Za-z0-9_-]*\s*\n?(?P<body>.*?)\n?\s*```$", re.DOTALL)


class ChatError(SovereignError):
    """The model could not give a usable JSON answer; says which model, URL and what went wrong (never the key
    or the prompt)."""


class ChatRefused(ChatError):
    """The endpoint's answer was refused: not JSON, redirected off its host, or too large (not retried)."""

    exit_code = 2


class _Unusable(Exception):
    """An answer that arrived but is not one JSON object (retried like a transport failure)."""


def parse_json_object(content: str | None) -> dict:
    """The JSON object in a model's answer, which may be wrapped in a ```json fence; raises _Unusable."""
    if not isinstance(content, str) or not content.strip():
        raise _Unusable("the answer was empty")
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced["body"].strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Unusable(f"the answer is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(value, dict):
        raise _Unusable(f"the answer is JSON but a {type(value).__name__}, not an object")
    return value


class ChatClient:
    """``complete_json`` against ``{base_url}/chat/completions`` with JSON mode, retries and clear errors.

    The API key is read from ``api_key_env`` at each call and never stored. Timeouts, connection failures,
    HTTP 429/5xx and unusable answers are retried up to ``max_retries`` times with exponential backoff
    (Retry-After honoured); ``sleep`` is injectable so tests need not wait.

    ``timeout`` bounds one attempt (connect, headers and body: wall clock); one ``complete_json`` ends
    within ``call_deadline`` seconds (default 300 s, or what the retry policy needs if more) and all of
    them within ``run_deadline`` seconds of creation (default 1800 s). A body over ``max_body_bytes``, a
    redirect off the base URL's host (or more than ``max_redirects``) or an answer that is not JSON is
    refused at once (``ChatRefused``); JSON that is not a completion with a JSON object is retried.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 60,
        max_retries: int = 3,
        client: httpx.Client | None = None,
        *,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        max_body_bytes: int = CHAT_MAX_BODY_BYTES,
        max_redirects: int = CHAT_MAX_REDIRECTS,
        call_deadline: float | None = None,
        run_deadline: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.retry = RetryPolicy(max_retries=max_retries, backoff_base=backoff_base, backoff_max=backoff_max)
        self.max_body_bytes = max_body_bytes
        self.max_redirects = max_redirects
        self.call_deadline = call_deadline if call_deadline is not None else max(CHAT_CALL_DEADLINE, self.retry.budget(timeout))
        self.run_deadline = Deadline(run_deadline if run_deadline is not None else max(CHAT_RUN_DEADLINE, self.call_deadline),
                                     "chat run deadline")
        self._client = client if client is not None else bounded_client(timeout)
        self._owns_client = client is None
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"ChatClient(base_url={self.base_url!r}, model={self.model!r})"

    @property
    def url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> "ChatClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def complete_json(self, system: str, user: str, *, temperature: float = 0.0) -> dict:
        """The model's answer to ``system`` + ``user`` as a JSON object."""
        body = {
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": temperature,
            "response_format": {"type": "json_object"},
        }
        deadline = Deadline(self.call_deadline, "chat call deadline").sooner(self.run_deadline)

        def attempt_once() -> dict:
            answer = post_once(self._client, self.url, body, self._headers(), self.timeout, self._raise_fatal,
                               deadline=deadline, max_body_bytes=self.max_body_bytes, max_redirects=self.max_redirects)
            try:
                return parse_json_object(self._content(answer))
            except _Unusable as exc:
                raise Retryable(str(exc)) from None

        try:
            return with_retries(attempt_once, self.retry, sleep=self._sleep, what=f"chat request to {self.model}",
                                deadline=deadline)
        except RetriesExhausted as exc:
            raise ChatError(f"model {self.model} at {self.url} gave no usable JSON answer: {exc.problem} "
                            f"(after {exc.attempts} attempts)") from None
        except DeadlinePassed as exc:
            raise ChatError(f"model {self.model} at {self.url} gave no answer in time: {exc}") from None
        except Refused as exc:
            raise ChatRefused(f"model {self.model} at {self.url} {exc.problem}; nothing was used from it") from None

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env, "").strip()
        if not key:
            raise ChatError(f"no API key for {self.url}: set the environment variable {self.api_key_env}")
        return {"Authorization": f"Bearer {key}", "Accept": "application/json"}

    @staticmethod
    def _content(answer: Answer) -> str | None:
        value = json_body(answer)  # not JSON at all: Refused, not retried
        try:
            return value["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise _Unusable("the response is not a chat completion (no choices[0].message.content)") from None

    def _raise_fatal(self, response: Answer) -> None:
        status = response.status_code
        if status in (401, 403):
            raise ChatError(f"{self.url} rejected the API key from {self.api_key_env} (HTTP {status}); "
                            f"check the key and that it may use model {self.model}")
        if status == 404:
            raise ChatError(f"{self.url} answered HTTP 404: check the base URL and the model name {self.model!r}")
        try:
            detail = str(response.json()["error"]["message"])[:200]
        except (ValueError, KeyError, TypeError):
            detail = response.text[:200].strip()
        raise ChatError(f"{self.url} answered HTTP {status} for model {self.model}" + (f": {detail}" if detail else ""))
