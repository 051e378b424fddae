"""A small OpenAI-compatible chat-completions client that asks for, and insists on, one JSON object.

The tribunal's roles answer in JSON; this is the one place that deals with the transport (timeouts,
rate limits, server errors) and with models that wrap JSON in a Markdown fence or get it wrong.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import httpx

from generator.errors import SovereignError

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_FENCE = re.compile(r"^```[A-Za-z0-9_-]*\s*\n?(?P<body>.*?)\n?\s*```$", re.DOTALL)


class ChatError(SovereignError):
    """The model could not give a usable JSON answer; says which model, URL and what went wrong (never the key
    or the prompt)."""


class _Unusable(Exception):
    """An answer that arrived but is not one JSON object (retried like a transport failure)."""


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (a number or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


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
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._client = client if client is not None else httpx.Client(timeout=timeout)
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
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            retry_after = None
            try:
                response = self._client.post(self.url, json=body, headers=self._headers(), timeout=self.timeout)
            except httpx.TimeoutException:
                problem = f"no answer within {self.timeout:g} s"
            except httpx.TransportError as exc:
                problem = f"connection failed ({type(exc).__name__})"
            else:
                if response.status_code < 400:
                    try:
                        return parse_json_object(self._content(response))
                    except _Unusable as exc:
                        problem = str(exc)
                else:
                    self._raise_unless_retryable(response)
                    problem = f"HTTP {response.status_code}"
                    retry_after = _retry_after(response.headers.get("Retry-After"))
            if attempt < attempts:
                pause = retry_after if retry_after is not None else self.backoff_base * 2 ** (attempt - 1)
                pause = min(pause, self.backoff_max)
                logger.info("chat request to %s failed (%s, attempt %d of %d); retrying in %.1f s",
                            self.model, problem, attempt, attempts, pause)
                self._sleep(pause)
        raise ChatError(f"model {self.model} at {self.url} gave no usable JSON answer: {problem} "
                        f"(after {attempts} attempts)")

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env, "").strip()
        if not key:
            raise ChatError(f"no API key for {self.url}: set the environment variable {self.api_key_env}")
        return {"Authorization": f"Bearer {key}", "Accept": "application/json"}

    @staticmethod
    def _content(response: httpx.Response) -> str | None:
        try:
            return response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise _Unusable("the response is not a chat completion (no choices[0].message.content)") from None

    def _raise_unless_retryable(self, response: httpx.Response) -> None:
        status = response.status_code
        if status in RETRY_STATUSES:
            return
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
