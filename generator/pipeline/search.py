"""The search stage: find candidate papers for a research question, offline (corpus) or live (arXiv API).

The live path goes through one shared ``arxiv.Client`` whose HTTP session we supply, because arxiv 4.0.2
sets no request timeout, does not back off on HTTP 429/503, ignores Retry-After and is not safe to
share between threads. ``PoliteAdapter`` fixes all of that below the client, so the arxiv package keeps
doing what it is good at (URL building, paging, Atom parsing) unchanged.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import arxiv
import requests
import requests_cache
from requests.adapters import HTTPAdapter
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from generator.corpus import Corpus, Paper, shipped_corpus, split_arxiv_id
from generator.errors import InputError, SovereignError
from generator.pipeline.ranking import BM25Index
from generator.pipeline.retry import RETRY_STATUSES, RetryPolicy, retry_after_seconds

logger = logging.getLogger(__name__)

ARXIV_API_URL = "https://export.arxiv.org/api/query"
DEFAULT_CACHE_PATH = Path(".cache/arxiv")


class SearchError(SovereignError):
    """The live search could not get an answer; says which URL, what went wrong and how often we tried."""

    def __init__(self, message: str, *, url: str, status: int | None = None, attempts: int = 1):
        self.url = url
        self.status = status
        self.attempts = attempts
        super().__init__(message)


class SearchBackend(Protocol):
    """Anything that turns one query into papers, best first."""

    def search(self, query: str, max_results: int) -> list[Paper]: ...


# ---------------------------------------------------------------------------------------------------
# Offline: BM25 over the shipped corpus

_FIELD_PREFIX = re.compile(r"\b(?:ti|au|abs|co|jr|cat|rn|id|all):", re.IGNORECASE)
_OPERATOR = re.compile(r"\b(?:AND|OR|ANDNOT)\b")


def query_words(query: str) -> str:
    """Strip arXiv query syntax (field prefixes, quotes, parentheses, AND/OR/ANDNOT) down to plain words."""
    text = _FIELD_PREFIX.sub(" ", query)
    text = _OPERATOR.sub(" ", text)
    text = re.sub(r"[\"()]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


class CorpusSearch:
    """Relevance search over a local corpus (title + abstract, BM25); needs no network."""

    def __init__(self, corpus: Corpus | None = None):
        self.corpus = corpus if corpus is not None else shipped_corpus()
        self._index = BM25Index([f"{p.title}\n{p.abstract}" for p in self.corpus.papers])

    def search(self, query: str, max_results: int) -> list[Paper]:
        hits = self._index.search(query_words(query), max_results)
        return [self.corpus.papers[hit.index] for hit in hits]


# ---------------------------------------------------------------------------------------------------
# Live: arXiv API through one polite, cached, thread-safe session


class PoliteAdapter(HTTPAdapter):
    """Transport that sends one request at a time, ``delay`` seconds apart, with a default timeout.

    arXiv allows one request every 3 seconds per client, so the lock and the "next allowed" time are
    shared by every thread using the session. HTTP 429/5xx, timeouts and connection failures are
    retried (Retry-After honoured, otherwise exponential backoff); the pause applies to all threads,
    since a server asking us to slow down means all of us. Anything else that is not 2xx/3xx, or running
    out of retries, raises ``SearchError``. Cached responses never reach this adapter, so they cost no
    delay.
    """

    def __init__(
        self,
        *,
        delay: float = 3.0,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        super().__init__()
        self.delay = delay
        self.timeout = timeout
        self.retry = retry
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._next_allowed = float("-inf")
        self.requests_sent = 0

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        timeout = self.timeout if timeout is None else timeout
        url = request.url
        attempts = self.retry.max_retries + 1
        for attempt in range(1, attempts + 1):
            status, retry_after = None, None
            with self._lock:
                wait = self._next_allowed - self._clock()
                if wait > 0:
                    self._sleep(wait)
                self.requests_sent += 1
                try:
                    response = super().send(
                        request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
                    )
                except requests.exceptions.Timeout:
                    response, problem = None, f"no answer within {timeout:g} s"
                except requests.exceptions.ConnectionError as exc:
                    response, problem = None, f"connection failed ({type(exc).__name__})"
                finally:
                    self._next_allowed = self._clock() + self.delay
            if response is not None:
                status = response.status_code
                if status < 400:
                    return response
                problem = f"HTTP {status}"
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                response.close()
                if status not in RETRY_STATUSES:
                    raise SearchError(
                        f"arXiv answered {problem} for {url}; check the query syntax", url=url, status=status,
                        attempts=attempt,
                    )
            if attempt == attempts:
                break
            pause = self.retry.pause(attempt, retry_after)
            logger.info("arXiv request failed (%s, attempt %d of %d); retrying in %.1f s: %s",
                        problem, attempt, attempts, pause, url)
            with self._lock:
                self._next_allowed = max(self._next_allowed, self._clock() + pause)
        raise SearchError(
            f"arXiv search failed: {problem} for {url} after {attempts} attempts; the API may be overloaded, "
            "try again in a few minutes (pages already fetched are cached)",
            url=url, status=status, attempts=attempts,
        )


def _has_entries(response: requests.Response) -> bool:
    """Only cache pages with results: an empty page may be arXiv's sporadic glitch, worth asking again."""
    return response.status_code == 200 and b"<entry" in response.content


def polite_session(
    adapter: PoliteAdapter,
    cache_path: Path | None = DEFAULT_CACHE_PATH,
    expire_after: float | None = None,
) -> requests.Session:
    """A session sending through ``adapter``, with an SQLite response cache under ``cache_path`` (None: no cache).

    Cached pages never expire by default (``expire_after`` in seconds otherwise), so a rerun of the same
    searches is reproducible and makes no network requests.
    """
    if cache_path is None:
        session = requests.Session()
    else:
        cache_path = Path(cache_path)
        cache_path.mkdir(parents=True, exist_ok=True)
        session = requests_cache.CachedSession(
            str(cache_path / "responses.sqlite"),
            backend="sqlite",
            expire_after=requests_cache.NEVER_EXPIRE if expire_after is None else expire_after,
            allowable_codes=(200,),
            allowable_methods=("GET",),
            filter_fn=_has_entries,
        )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def paper_from_result(result: arxiv.Result) -> Paper:
    """An arXiv API result as a Paper; the entry id ``http://arxiv.org/abs/2604.23996v1`` gives id and version."""
    record = {
        "id": result.get_short_id(),
        "title": _clean(result.title),
        "authors": [author.name for author in result.authors],
        "abstract": _clean(result.summary),
        "categories": list(result.categories),
        "published": result.published.date().isoformat() if result.published else None,
    }
    split_arxiv_id(record["id"])  # fail with a clear message on an unexpected entry id
    return Paper.from_record(record)


class ArxivApiSearch:
    """Relevance search on the live arXiv API through one shared, rate-limited, cached ``arxiv.Client``.

    Safe to call from several threads: requests are serialized by the session's adapter.
    """

    def __init__(
        self,
        *,
        base_url: str = ARXIV_API_URL,
        delay_seconds: float = 3.0,
        page_size: int = 50,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        empty_page_retries: int = 2,
        cache_path: Path | None = DEFAULT_CACHE_PATH,
        cache_expire_after: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url
        self.empty_page_retries = empty_page_retries
        self.adapter = PoliteAdapter(delay=delay_seconds, timeout=timeout, retry=retry, sleep=sleep)
        self.session = polite_session(self.adapter, cache_path, cache_expire_after)
        # The adapter does the rate limiting (and skips it for cached pages), so the client must not.
        self.client = arxiv.Client(page_size=page_size, delay_seconds=0.0, num_retries=empty_page_retries)
        self.client._session = self.session  # arxiv 4.0.2 has no public hook for the session
        self.client.query_url_format = base_url + "?{}"

    def search(self, query: str, max_results: int) -> list[Paper]:
        spec = arxiv.Search(query=query, max_results=max_results, sort_by=arxiv.SortCriterion.Relevance)
        for attempt in range(self.empty_page_retries + 1):
            try:
                results = list(self.client.results(spec))
            except arxiv.UnexpectedEmptyPageError as exc:
                raise SearchError(
                    f"arXiv kept returning an empty page for {exc.url} after {exc.retry + 1} attempts; "
                    "try again later", url=exc.url, attempts=exc.retry + 1,
                ) from exc
            except arxiv.HTTPError as exc:  # only if a caller swapped in another session
                raise SearchError(
                    f"arXiv answered HTTP {exc.status} for {exc.url}", url=exc.url, status=exc.status,
                    attempts=exc.retry + 1,
                ) from exc
            if results or not max_results:
                break
            # arxiv stops silently on an empty first page; it is sometimes a glitch, so ask again.
            logger.info("arXiv returned an empty first page for %r (attempt %d)", query, attempt + 1)
        return [paper_from_result(result) for result in results]

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "ArxivApiSearch":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------------
# Several queries at once


def _version_number(paper: Paper) -> int:
    return int(paper.version[1:]) if paper.version else 0


def merge_ranked(rankings: Sequence[Sequence[Paper]]) -> list[Paper]:
    """Interleave ranked lists by rank (1st of each list, then 2nd, ...) and keep each arXiv id once.

    A paper keeps the position of its best rank; if it appears in several versions, the highest wins.
    """
    merged: dict[str, Paper] = {}
    depth = max((len(ranking) for ranking in rankings), default=0)
    for rank in range(depth):
        for ranking in rankings:
            if rank >= len(ranking):
                continue
            paper = ranking[rank]
            known = merged.get(paper.arxiv_id)
            if known is None or _version_number(paper) > _version_number(known):
                merged[paper.arxiv_id] = paper  # replacing keeps the dict position
    return list(merged.values())


def run_queries(backend: SearchBackend, queries: Sequence[str], max_results: int) -> list[Paper]:
    """Run ``queries`` concurrently through one backend, ``max_results`` each, and merge the answers.

    The order is deterministic (by rank, then by query order) whatever order the answers arrive in.
    If a query fails, its error (the first in query order) is raised.
    """
    if not queries:
        return []
    with ThreadPoolExecutor(max_workers=len(queries), thread_name_prefix="search") as pool:
        futures = [pool.submit(backend.search, query, max_results) for query in queries]
        rankings = [future.result() for future in futures]
    return merge_ranked(rankings)


# ---------------------------------------------------------------------------------------------------
# Queries from a question

_EXTRA_STOP_WORDS = frozenset(
    """
    paper papers work works study studies approach approaches method methods result results effect effects
    impact role use uses used using based compare compared comparison improve improves improved propose
    proposed show shows shown evaluate evaluated guide guides help helps make makes affect affects does do
    did can could would should whether versus vs new novel existing towards toward via
    """.split()
)
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | _EXTRA_STOP_WORDS
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]|[A-Za-z0-9]")
_CLAUSE_BREAK = re.compile(r"[:;,.?!()\[\]{}\"']")


def _is_acronym(token: str) -> bool:
    """SMoES, MoE-VLMs, ChartQA, VLMs: some hyphen part has two or more capitals."""
    return any(sum(c.isupper() for c in part) >= 2 for part in token.split("-"))


def _is_content(token: str) -> bool:
    return len(token) >= 3 and token.casefold() not in STOP_WORDS and not token.isdigit()


def key_phrases(text: str, grounding: str = "") -> list[str]:
    """Candidate search phrases in ``text``, best first.

    The rule: acronym-like terms (kept as written), hyphenated compounds and bigrams of two content words
    (neither a stop word, both at least 3 characters, not across punctuation), lowercased. Phrases that
    also occur in ``grounding`` (the target paper's title and abstract) rank first, then by position
    (longer first at the same position); a phrase sharing a word with a better one is dropped.
    """
    grounding = grounding.casefold()
    candidates: list[tuple[int, int, str]] = []
    position = 0
    for clause in _CLAUSE_BREAK.split(text):
        tokens = _TOKEN.findall(clause)
        for i, token in enumerate(tokens):
            position += 1
            if _is_acronym(token):
                candidates.append((position, -1, token))
                continue
            if not _is_content(token):
                continue
            following = tokens[i + 1] if i + 1 < len(tokens) else None
            if following and _is_content(following) and not _is_acronym(following):
                candidates.append((position, -2, f"{token} {following}".casefold()))
            if "-" in token:
                candidates.append((position, -1, token.casefold()))
    ranked = sorted((phrase.casefold() not in grounding, pos, length, phrase) for pos, length, phrase in candidates)
    chosen: list[str] = []
    used_words: set[str] = set()
    for _, _, _, phrase in ranked:
        words = set(phrase.casefold().split())
        if words & used_words:
            continue
        chosen.append(phrase)
        used_words |= words
    return chosen


def _quoted(field: str, phrase: str) -> str:
    return f'{field}:"{phrase}"'


def derive_queries(question: str, target: Paper, n: int = 4) -> list[str]:
    """``n`` arXiv queries pairing what the target is about with what the question asks.

    Anchors are the key phrases of the target's title (searched in all fields), aspects those of the
    question (searched in abstracts, ranked by whether the target's abstract uses them). Query i pairs
    anchor i with aspect i (cycling), then other pairs, then single phrases, until there are ``n``
    distinct ones. Every phrase is quoted: arXiv answers quoted phrases fast and unquoted multi-word
    queries slowly. Deterministic: the same input always gives the same queries.
    """
    anchors = key_phrases(target.title, target.title)
    anchor_words = {word for phrase in anchors for word in phrase.casefold().split()}
    aspects = [
        phrase for phrase in key_phrases(question, f"{target.title}\n{target.abstract}")
        if not set(phrase.casefold().split()) <= anchor_words
    ]
    if not anchors and not aspects:
        raise InputError(
            f"cannot derive search queries: no key phrases in the question {question!r} or the title of "
            f"{target.versioned_id}; phrase the question with the terms a paper would use"
        )
    pairs: list[str] = []
    if anchors and aspects:
        for i in range(max(len(anchors), len(aspects))):
            pairs.append(f"{_quoted('all', anchors[i % len(anchors)])} AND {_quoted('abs', aspects[i % len(aspects)])}")
        pairs += [f"{_quoted('all', a)} AND {_quoted('abs', s)}" for a in anchors for s in aspects]
    singles = [_quoted("all", a) for a in anchors] + [_quoted("abs", s) for s in aspects]
    queries = list(dict.fromkeys(pairs + singles))
    return queries[:n]


__all__ = [
    "ARXIV_API_URL",
    "ArxivApiSearch",
    "CorpusSearch",
    "PoliteAdapter",
    "RetryPolicy",
    "SearchBackend",
    "SearchError",
    "derive_queries",
    "key_phrases",
    "merge_ranked",
    "paper_from_result",
    "polite_session",
    "query_words",
    "run_queries",
]
