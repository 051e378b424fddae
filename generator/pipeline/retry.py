"""Retrying HTTP calls to external services: one backoff policy, one Retry-After reader, one loop, deadlines.

arXiv, NIM and chat endpoints all answer 429/5xx under load; each client decides what is fatal and
what a usable answer is, and leaves the waiting to this module. Waiting is bounded twice: each attempt
by its timeout (see ``generator.pipeline.bounded``), and a whole call (all attempts and the pauses
between them) by a wall-clock ``Deadline``; a pause that would end past the deadline is not taken.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

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

    def budget(self, timeout: float) -> float:
        """Seconds all attempts of ``timeout`` each and the backoff pauses between them take at most
        (without Retry-After): a floor for a call's deadline, so a deadline never cuts the retry policy short."""
        return self.attempts * timeout + sum(self.pause(attempt) for attempt in range(1, self.attempts))

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


class Deadline:
    """A wall-clock point (``time.monotonic``) after which nobody waits any longer; ``seconds=None``: never.

    ``what`` names it in messages ("query deadline"); ``sooner`` combines two (a call inside a run).
    """

    def __init__(self, seconds: float | None, what: str = "deadline", *, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.what = what
        self._clock = clock
        self.at = math.inf if seconds is None else clock() + seconds

    def remaining(self) -> float:
        return self.at - self._clock()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def sooner(self, other: "Deadline | None") -> "Deadline":
        return self if other is None or self.at <= other.at else other

    def __str__(self) -> str:
        return f"the {self.what} of {self.seconds:g} s" if self.seconds is not None else f"the {self.what}"

    def __repr__(self) -> str:
        return f"Deadline({self.seconds!r}, {self.what!r})"


class DeadlinePassed(Exception):
    """A call did not finish before its deadline (or would only finish after it); not retried."""

    def __init__(self, deadline: Deadline, problem: str | None = None):
        self.deadline = deadline
        self.problem = problem
        super().__init__(f"{deadline} passed" + (f" (last problem: {problem})" if problem else ""))


def with_retries(attempt_once: Callable[[], T], policy: RetryPolicy, *, sleep: Callable[[float], None] = time.sleep,
                 what: str = "request", deadline: Deadline | None = None) -> T:
    """Call ``attempt_once`` until it returns; it raises Retryable for failures worth another go.

    With a ``deadline``, no attempt starts after it and no pause is taken that would end after it:
    ``DeadlinePassed`` is raised instead (``attempt_once`` should bound its own attempt by it too).
    """
    problem = None
    for attempt in range(1, policy.attempts + 1):
        if deadline is not None and deadline.expired:
            raise DeadlinePassed(deadline, problem)
        try:
            return attempt_once()
        except Retryable as failure:
            problem = failure.problem
            if attempt < policy.attempts:
                pause = policy.pause(attempt, failure.retry_after)
                if deadline is not None and pause >= deadline.remaining():
                    raise DeadlinePassed(deadline, problem) from None
                logger.info("%s failed (%s, attempt %d of %d); retrying in %.1f s", what, problem, attempt, policy.attempts, pause)
                sleep(pause)
    raise RetriesExhausted(problem, policy.attempts)
