"""Retrying HTTP calls to external services: one backoff policy, one Retry-After reader, one loop.

arXiv, NIM and chat endpoints all answer 429/5xx under load; each client decides what is fatal and
what a usable answer is, and leaves the waiting to this module.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often to retry a failed request and how long to wait between attempts."""

    max_retries: int = 4
    backoff_base: float = 3.0  # seconds before the first retry; doubles each time
    backoff_max: float = 60.0
    retry_after_max: float = 300.0  # never wait longer than this, whatever Retry-After says

    @property
    def attempts(self) -> int:
        return self.max_retries + 1

    def pause(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_max)
        return min(self.backoff_base * 2 ** (attempt - 1), self.backoff_max)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (a number of seconds or an HTTP date); None if absent or garbled."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


class Retryable(Exception):
    """A failed attempt worth repeating; the message says what went wrong (never a key or a prompt)."""

    def __init__(self, problem: str, retry_after: float | None = None):
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after


class RetriesExhausted(Exception):
    def __init__(self, problem: str, attempts: int):
        super().__init__(f"{problem} after {attempts} attempts")
        self.problem = problem
        self.attempts = attempts


def with_retries(attempt_once: Callable[[], T], policy: RetryPolicy, *, sleep: Callable[[float], None] = time.sleep,
                 what: str = "request") -> T:
    """Call ``attempt_once`` until it returns; it raises Retryable for failures worth another go."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return attempt_once()
        except Retryable as failure:
            problem = failure.problem
            if attempt < policy.attempts:
                pause = policy.pause(attempt, failure.retry_after)
                logger.info("%s failed (%s, attempt %d of %d); retrying in %.1f s", what, problem, attempt, policy.attempts, pause)
                sleep(pause)
    raise RetriesExhausted(problem, policy.attempts)


def post_once(client: httpx.Client, url: str, body: dict, headers: dict, timeout: float,
              raise_if_fatal: Callable[[httpx.Response], None]) -> httpx.Response:
    """One JSON POST: a response below 400, or Retryable for timeouts, lost connections and 408/429/5xx.

    ``raise_if_fatal`` is called for any other error status and must raise the client's own error.
    """
    try:
        response = client.post(url, json=body, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        raise Retryable(f"no answer within {timeout:g} s") from None
    except httpx.TransportError as exc:
        raise Retryable(f"connection failed ({type(exc).__name__})") from None
    if response.status_code < 400:
        return response
    if response.status_code not in RETRY_STATUSES:
        raise_if_fatal(response)
    raise Retryable(f"HTTP {response.status_code}", retry_after_seconds(response.headers.get("Retry-After")))
