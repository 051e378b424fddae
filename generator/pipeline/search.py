"""The search stage: find candidate papers for a research question, offline (corpus) or live (arXiv API).

The live path goes through one shared ``arxiv.Client`` whose HTTP session we supply, because arxiv 4.0.2
sets no request timeout, does not back off on HTTP 429/503, ignores Retry-After, is not safe to share
between threads, follows any redirect and reads any body, however large or slow, into memory.
``PoliteAdapter`` fixes all of that below the client, where the bytes arrive: it fetches through
``generator.pipeline.bounded`` (redirects only within the configured host, a body size cap, a wall-clock
limit per attempt, per query and per run) and refuses any answer that is not an arXiv Atom feed before
the arxiv package (or the cache) sees it. The arxiv package keeps doing what it is good at (URL building,
paging, Atom parsing) unchanged.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import arxiv
import requests
import requests_cache
from requests.adapters import HTTPAdapter
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from urllib3.response import HTTPResponse

from generator.corpus import Corpus, Paper, shipped_corpus, split_arxiv_id
from generator.errors import InputError, SovereignError
from generator.pipeline.bounded import MIB, Answer, Refused, bounded_client, exchange
from generator.pipeline.ranking import BM25Index
from generator.pipeline.retry import RETRY_STATUSES, Deadline, DeadlinePassed, Retryable, RetryPolicy, retry_after_seconds

logger = logging.getLogger(__name__)

ARXIV_API_URL = "https://export.arxiv.org/api/query"
DEFAULT_CACHE_PATH = Path(".cache/arxiv")
ARXIV_MAX_BODY_BYTES = 16 * MIB  # a 2000-entry page (the API's largest) is about 8 MB
ARXIV_MAX_REDIRECTS = 5
ARXIV_QUERY_DEADLINE = 600.0  # seconds for one query, all its pages, retries and turns at the rate limit
ARXIV_RUN_DEADLINE = 1800.0  # seconds for everything one ArxivApiSearch asks, from its creation

ATOM_NS = "http://www.w3.org/2005/Atom"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
FEED_MEDIA_TYPES = ("application/atom+xml", "application/xml", "text/xml")


class SearchError(SovereignError):
    """The live search could not get an answer; says which URL, what went wrong and how often we tried."""

    def __init__(self, message: str, *, url: str, status: int | None = None, attempts: int = 1):
        self.url = url
        self.status = status
        self.attempts = attempts
        super().__init__(message)


class SearchRefused(SearchError):
    """arXiv's answer was refused: not an Atom feed, redirected off the configured host, or too large."""

    exit_code = 2


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
        self.description = f"offline arXiv corpus ({len(self.corpus.papers)} records shipped with sovereign-publish)"
        self.not_found_hint = (f"the offline arXiv corpus ({len(self.corpus.papers)} records); use the arxiv search "
                               "backend (--set search.backend=arxiv) to look it up live")

    def lookup(self, base_id: str) -> Paper | None:
        return self.corpus.get(base_id)

    def close(self) -> None:
        pass

    def search(self, query: str, max_results: int) -> list[Paper]:
        hits = self._index.search(query_words(query), max_results)
        return [self.corpus.papers[hit.index] for hit in hits]


# ---------------------------------------------------------------------------------------------------
# Live: what an arXiv answer must look like

_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def feed_problem(content: bytes, media_type: str) -> str | None:
    """Why ``content`` is not an arXiv API Atom feed, or None if it is one.

    A feed is XML served as Atom (or generic XML), whose root is an Atom ``<feed>`` carrying the
    OpenSearch ``totalResults`` (a count) that arXiv always sends, and whose entries each have an id and
    a title. No DTD is accepted (arXiv sends none; entity tricks stay out). A feed with no entries is a
    valid, empty answer.
    """
    if media_type not in FEED_MEDIA_TYPES:
        return f"answered with {media_type or 'no Content-Type'}, not an Atom feed"
    if _DECLARATION.search(content):
        return "answered with XML carrying a DTD or entity declarations, which an arXiv feed never has"
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        return f"answered with something that is not well-formed XML ({exc})"
    if root.tag != f"{{{ATOM_NS}}}feed":
        return f"answered with XML whose root is {root.tag!r}, not an Atom <feed>"
    total = root.find(f"{{{OPENSEARCH_NS}}}totalResults")
    if total is None or not (total.text or "").strip().isdigit():
        return "answered with an Atom feed without an OpenSearch totalResults count, so not an arXiv API feed"
    for number, entry in enumerate(root.iter(f"{{{ATOM_NS}}}entry"), 1):
        for field in ("id", "title"):
            element = entry.find(f"{{{ATOM_NS}}}{field}")
            if element is None or not (element.text or "").strip():
                return f"answered with an Atom feed whose entry {number} has no {field}"
    return None


# ---------------------------------------------------------------------------------------------------
# Live: arXiv API through one polite, bounded, cached, thread-safe session


class PoliteAdapter(HTTPAdapter):
    """Transport that sends one request at a time, ``delay`` seconds apart, each within its limits.

    arXiv allows one request every 3 seconds per client, so the lock and the "next allowed" time are
    shared by every thread using the session. HTTP 429/5xx, timeouts and connection failures are
    retried (Retry-After honoured, otherwise exponential backoff); the pause applies to all threads,
    since a server asking us to slow down means all of us. Anything else that is not 200, or running out
    of retries, raises ``SearchError``; an answer that is not an arXiv feed, a redirect off the base URL's
    host (or too many), or a body over ``max_body_bytes`` raises ``SearchRefused`` and is not retried.

    Time: ``timeout`` bounds one attempt (connect, headers and body, wall clock); the query deadline of
    the calling thread (``within``) or else ``run_deadline`` bounds everything, including waiting for the
    lock, the rate limit and retry pauses. Cached responses never reach this adapter, so they cost no
    delay; only answers that passed every check can be cached.
    """

    def __init__(
        self,
        *,
        delay: float = 3.0,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        max_body_bytes: int = ARXIV_MAX_BODY_BYTES,
        max_redirects: int = ARXIV_MAX_REDIRECTS,
        run_deadline: Deadline | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        super().__init__()
        self.delay = delay
        self.timeout = timeout
        self.retry = retry
        self.max_body_bytes = max_body_bytes
        self.max_redirects = max_redirects
        self.run_deadline = run_deadline or Deadline(None)
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._next_allowed = float("-inf")
        self._local = threading.local()
        self._client = bounded_client(timeout)
        self.requests_sent = 0

    @contextmanager
    def within(self, deadline: Deadline) -> Iterator[None]:
        """Requests sent from this thread inside the block also end by ``deadline``."""
        previous = getattr(self._local, "deadline", None)
        self._local.deadline = deadline.sooner(self.run_deadline)
        try:
            yield
        finally:
            self._local.deadline = previous

    def _deadline(self) -> Deadline:
        return getattr(self._local, "deadline", None) or self.run_deadline

    def close(self) -> None:
        super().close()
        self._client.close()

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        url = request.url
        deadline = self._deadline()
        attempts = self.retry.attempts
        problem, status = "no attempt made", None

        def passed(reason: str | None = None) -> SearchError:
            return SearchError(
                f"arXiv search stopped: {deadline} passed for {url}"
                + (f" (last problem: {reason})" if reason else "") + "; try again later",
                url=url, status=status, attempts=attempt,
            )

        for attempt in range(1, attempts + 1):
            status, retry_after = None, None
            if not self._lock.acquire(timeout=max(min(deadline.remaining(), threading.TIMEOUT_MAX), 0)):
                raise passed("waiting for other arXiv requests to finish")
            try:
                wait = self._next_allowed - self._clock()
                if wait >= deadline.remaining():
                    raise passed("waiting for arXiv's rate limit")
                if wait > 0:
                    self._sleep(wait)
                self.requests_sent += 1
                try:
                    answer = exchange(self._client, "GET", url, headers=_forwarded(request.headers), timeout=self.timeout,
                                      deadline=deadline, max_body_bytes=self.max_body_bytes,
                                      max_redirects=self.max_redirects)
                except Retryable as failure:
                    answer, problem = None, failure.problem
                finally:
                    self._next_allowed = self._clock() + self.delay
            except DeadlinePassed as exc:
                raise passed(exc.problem) from None
            except Refused as exc:
                raise SearchRefused(f"arXiv {exc.problem} for {url}", url=url, attempts=attempt) from None
            finally:
                self._lock.release()
            if answer is not None:
                status = answer.status_code
                if status == 200:
                    refused = feed_problem(answer.content, answer.media_type)
                    if refused:
                        raise SearchRefused(f"arXiv {refused} for {url}", url=url, status=status, attempts=attempt)
                    return self._as_response(request, answer)
                if status < 400:
                    raise SearchRefused(f"arXiv answered HTTP {status} for {url}, not a feed", url=url, status=status,
                                        attempts=attempt)
                problem = f"HTTP {status}"
                retry_after = retry_after_seconds(answer.headers.get("Retry-After"))
                if status not in RETRY_STATUSES:
                    raise SearchError(
                        f"arXiv answered {problem} for {url}; check the query syntax", url=url, status=status,
                        attempts=attempt,
                    )
            if attempt == attempts:
                break
            pause = self.retry.pause(attempt, retry_after)
            if pause >= deadline.remaining():
                raise passed(problem)
            logger.info("arXiv request failed (%s, attempt %d of %d); retrying in %.1f s: %s",
                        problem, attempt, attempts, pause, url)
            with self._lock:
                self._next_allowed = max(self._next_allowed, self._clock() + pause)
        raise SearchError(
            f"arXiv search failed: {problem} for {url} after {attempts} attempts; the API may be overloaded, "
            "try again in a few minutes (pages already fetched are cached)",
            url=url, status=status, attempts=attempts,
        )

    def _as_response(self, request, answer: Answer) -> requests.Response:
        """The checked answer as the ``requests.Response`` the session, its cache and arxiv expect."""
        headers = {k: v for k, v in answer.headers.items()
                   if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")}
        headers["Content-Length"] = str(len(answer.content))
        raw = HTTPResponse(body=io.BytesIO(answer.content), headers=headers, status=answer.status_code,
                           reason=answer.reason, preload_content=False, decode_content=False,
                           request_url=answer.url)
        return self.build_response(request, raw)


def _forwarded(headers) -> dict[str, str]:
    """The request headers worth passing on (the arxiv package's User-Agent, Accept)."""
    return {k: v for k, v in headers.items() if k.lower() in ("user-agent", "accept", "accept-language")}


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
    """Relevance search on the live arXiv API through one shared, rate-limited, bounded, cached ``arxiv.Client``.

    Safe to call from several threads: requests are serialized by the session's adapter. Each ``search``
    ends within ``query_deadline`` seconds, and all of them (and lookups through ``client``) within
    ``run_deadline`` seconds of creation; by default the query deadline is 600 s, or longer if the
    timeout and retry policy could legitimately take longer, and the run deadline 1800 s (at least the
    query deadline). ``math.inf`` turns a deadline off.
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
        max_body_bytes: int = ARXIV_MAX_BODY_BYTES,
        max_redirects: int = ARXIV_MAX_REDIRECTS,
        query_deadline: float | None = None,
        run_deadline: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url
        self.empty_page_retries = empty_page_retries
        self.query_deadline = (query_deadline if query_deadline is not None
                               else max(ARXIV_QUERY_DEADLINE, retry.budget(timeout) + retry.attempts * delay_seconds))
        self.run_deadline = Deadline(run_deadline if run_deadline is not None
                                     else max(ARXIV_RUN_DEADLINE, self.query_deadline), "arXiv run deadline")
        self.adapter = PoliteAdapter(delay=delay_seconds, timeout=timeout, retry=retry, max_body_bytes=max_body_bytes,
                                     max_redirects=max_redirects, run_deadline=self.run_deadline, sleep=sleep)
        self.session = polite_session(self.adapter, cache_path, cache_expire_after)
        # The adapter does the rate limiting (and skips it for cached pages), so the client must not.
        self.client = arxiv.Client(page_size=page_size, delay_seconds=0.0, num_retries=empty_page_retries)
        self.client._session = self.session  # arxiv 4.0.2 has no public hook for the session
        self.client.query_url_format = base_url + "?{}"

    description = "arXiv API"
    not_found_hint = "the arXiv API"

    def lookup(self, base_id: str) -> Paper | None:
        """The paper with this arXiv id (any version: the newest), or None."""
        with self.adapter.within(Deadline(self.query_deadline, "arXiv query deadline")):
            try:
                results = list(self.client.results(arxiv.Search(id_list=[base_id], max_results=1)))
            except arxiv.UnexpectedEmptyPageError:
                return None
            except arxiv.HTTPError as exc:
                raise SearchError(f"arXiv answered HTTP {exc.status} looking up {base_id}", url=exc.url,
                                  status=exc.status) from exc
        for result in results:
            paper = paper_from_result(result)
            if paper.arxiv_id == base_id:
                return paper
        return None

    def entries(self, base_ids: Sequence[str]) -> list[arxiv.Result]:
        """The API entries of ``base_ids`` as arXiv has them now (the newest version, with its comment and
        journal DOI), in one id_list query; an id arXiv does not know is simply absent."""
        if not base_ids:
            return []
        with self.adapter.within(Deadline(self.query_deadline, "arXiv query deadline")):
            try:
                return list(self.client.results(arxiv.Search(id_list=list(base_ids), max_results=len(base_ids))))
            except arxiv.UnexpectedEmptyPageError:
                return []
            except arxiv.HTTPError as exc:
                raise SearchError(f"arXiv answered HTTP {exc.status} looking up {', '.join(base_ids)}", url=exc.url,
                                  status=exc.status) from exc

    def search(self, query: str, max_results: int) -> list[Paper]:
        spec = arxiv.Search(query=query, max_results=max_results, sort_by=arxiv.SortCriterion.Relevance)
        with self.adapter.within(Deadline(self.query_deadline, "arXiv query deadline")):
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
    "SearchRefused",
    "derive_queries",
    "feed_problem",
    "key_phrases",
    "merge_ranked",
    "paper_from_result",
    "polite_session",
    "query_words",
    "run_queries",
]
