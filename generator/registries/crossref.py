"""Crossref's REST API, for the update notices (retractions, corrections, expressions of concern) of a DOI.

``GET https://api.crossref.org/works/{doi}`` answers the work's metadata; its ``updated-by`` list names
every notice that updates it, each with the notice's DOI and its Crossref update type. Requests go one
at a time, ``delay`` seconds apart, through ``generator.pipeline.bounded`` (same-origin redirects, a body
cap, a wall-clock timeout) with ``generator.pipeline.retry``'s backoff, and fail closed: an answer that is
not a Crossref work is refused, never read as "no notice". Answers are cached for ``max_age`` seconds
(only the fields read here), because a notice can appear at any time: a status check must not be answered
from last year's cache.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from generator.errors import SovereignError
from generator.fsio import MissingFile, atomic_write_json, parse_json, read_regular_file
from generator.pipeline.bounded import MIB, Refused, bounded_client, exchange, json_body
from generator.pipeline.retry import (RETRY_STATUSES, Deadline, DeadlinePassed, RetriesExhausted, Retryable, RetryPolicy,
                                      retry_after_seconds, with_retries)

CROSSREF_URL = "https://api.crossref.org"
MAX_BODY_BYTES = 8 * MIB  # a work with thousands of references is about 1 MB
CALL_DEADLINE = 300.0
DEFAULT_MAX_AGE = 86400.0


class CrossrefError(SovereignError):
    """Crossref could not be asked, or answered something that is not a work; nothing is concluded from it."""


@dataclass(frozen=True)
class Notice:
    """One entry of a work's ``updated-by``: a notice of Crossref update type ``kind`` with its own DOI."""

    kind: str
    doi: str | None
    label: str | None


class CrossrefClient:
    def __init__(self, base_url: str = CROSSREF_URL, *, mailto: str | None = None, delay: float = 1.0,
                 timeout: float = 30.0, retry: RetryPolicy = RetryPolicy(), cache_dir: Path | None = None,
                 max_age: float = DEFAULT_MAX_AGE, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.base_url = base_url.rstrip("/")
        # Crossref asks clients to say who they are (its "polite" pool); never a secret.
        agent = "sovereign-publish (https://sovereign-publish.github.io/registry/" + (f"; mailto:{mailto}" if mailto else "") + ")"
        self.headers = {"User-Agent": agent, "Accept": "application/json"}
        self.delay = delay
        self.timeout = timeout
        self.retry = retry
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.max_age = max_age
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._next_allowed = float("-inf")
        self._client = bounded_client(timeout)
        self.requests_sent = 0

    def close(self) -> None:
        self._client.close()

    def notices(self, doi: str) -> list[Notice] | None:
        """The notices that update ``doi``; None when Crossref has no such work (another agency's DOI, e.g. DataCite)."""
        cached = self._cached(doi)
        if cached is not None:
            work = cached
        else:
            work = self._fetch(doi)
            self._store(doi, work)
        if not work["found"]:
            return None
        return [Notice(str(n.get("type") or ""), n.get("DOI") if isinstance(n.get("DOI"), str) else None,
                       n.get("label") if isinstance(n.get("label"), str) else None)
                for n in work["updated-by"] if isinstance(n, dict)]

    def _fetch(self, doi: str) -> dict:
        url = f"{self.base_url}/works/{quote(doi, safe='')}"
        deadline = Deadline(CALL_DEADLINE, "Crossref call deadline")

        def once() -> dict:
            with self._lock:
                wait = self._next_allowed - self._clock()
                if wait > 0:
                    self._sleep(wait)
                try:
                    self.requests_sent += 1
                    answer = exchange(self._client, "GET", url, headers=self.headers, timeout=self.timeout,
                                      deadline=deadline, max_body_bytes=MAX_BODY_BYTES)
                finally:
                    self._next_allowed = self._clock() + self.delay
            if answer.status_code == 404:
                return {"found": False, "updated-by": []}
            if answer.status_code in RETRY_STATUSES:
                raise Retryable(f"HTTP {answer.status_code}", retry_after_seconds(answer.headers.get("Retry-After")))
            if answer.status_code != 200:
                raise CrossrefError(f"Crossref answered HTTP {answer.status_code} for {url}")
            value = json_body(answer)
            message = value.get("message") if isinstance(value, dict) and value.get("status") == "ok" else None
            if not isinstance(message, dict) or str(message.get("DOI", "")).lower() != doi.lower():
                raise Refused("answered JSON that is not the Crossref work asked for")
            updated_by = message.get("updated-by", [])
            if not isinstance(updated_by, list):
                raise Refused("answered an 'updated-by' that is not a list")
            return {"found": True, "updated-by": updated_by}

        try:
            return with_retries(once, self.retry, sleep=self._sleep, what=f"Crossref {doi}", deadline=deadline)
        except RetriesExhausted as exc:
            raise CrossrefError(f"Crossref: {url}: {exc}; try again later") from None
        except DeadlinePassed as exc:
            raise CrossrefError(f"Crossref: {url}: {exc}") from None
        except Refused as exc:
            raise CrossrefError(f"Crossref {exc.problem} for {url}; refused") from None

    # -- cache: one small JSON file per DOI, only the fields read here

    def _cache_path(self, doi: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / (hashlib.sha256(doi.lower().encode("utf-8")).hexdigest() + ".json")

    def _cached(self, doi: str) -> dict | None:
        path = self._cache_path(doi)
        if path is None:
            return None
        try:
            value = parse_json(read_regular_file(path, MAX_BODY_BYTES))
        except (MissingFile, ValueError, OSError):
            return None
        fresh = isinstance(value, dict) and isinstance(value.get("fetched"), (int, float)) and time.time() - value["fetched"] < self.max_age
        if not fresh or value.get("doi") != doi.lower() or not isinstance(value.get("updated-by"), list):
            return None
        return {"found": value.get("found") is True, "updated-by": value["updated-by"]}

    def _store(self, doi: str, work: dict) -> None:
        path = self._cache_path(doi)
        if path is not None:
            atomic_write_json(path, {"doi": doi.lower(), "fetched": int(time.time()), **work})


__all__ = ["CROSSREF_URL", "CrossrefClient", "CrossrefError", "Notice"]
