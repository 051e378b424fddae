"""The live arXiv search path, against a stand-in arXiv API on 127.0.0.1 (never the real network)."""

from __future__ import annotations

import time

import pytest

from arxiv_standin import Fault, serve
from generator.corpus import shipped_corpus
from generator.pipeline.search import (
    ArxivApiSearch,
    CorpusSearch,
    RetryPolicy,
    SearchError,
    derive_queries,
    run_queries,
)

FAST_RETRY = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_max=0.05)
QUERY = 'all:"expert routing" AND abs:"mixture-of-experts"'


@pytest.fixture
def arxiv_api():
    state, stop = serve(shipped_corpus())
    yield state
    stop()


@pytest.fixture
def make_search(arxiv_api, tmp_path):
    made = []

    def make(**options):
        settings = dict(
            base_url=arxiv_api.url, delay_seconds=0.0, timeout=0.5, retry=FAST_RETRY, cache_path=tmp_path / "cache"
        )
        settings.update(options)
        search = ArxivApiSearch(**settings)
        made.append(search)
        return search

    yield make
    for search in made:
        search.close()


def ids(papers):
    return [p.arxiv_id for p in papers]


def test_results_arrive_as_papers_in_the_servers_relevance_order(arxiv_api, make_search):
    papers = make_search().search(QUERY, 5)

    assert ids(papers) == ids(CorpusSearch().search(QUERY, 5))
    assert arxiv_api.count == 1
    smoes = next(p for p in papers if p.arxiv_id == "2604.23996")
    shipped = shipped_corpus().get("2604.23996")
    assert (smoes.version, smoes.title, smoes.abstract) == ("v1", shipped.title, shipped.abstract)
    assert smoes.authors == shipped.authors and smoes.published == "2026-04-27"
    assert smoes.url == "https://arxiv.org/abs/2604.23996v1"


def test_a_rerun_is_answered_from_the_cache_with_no_requests(arxiv_api, make_search):
    first = make_search().search(QUERY, 5)
    assert arxiv_api.count == 1

    again = make_search().search(QUERY, 5)  # a new client, same cache directory

    assert ids(again) == ids(first)
    assert arxiv_api.count == 1


def test_pages_are_fetched_until_max_results(arxiv_api, make_search):
    papers = make_search(page_size=3).search(QUERY, 7)

    assert len(papers) == 7
    assert [seen.start for seen in arxiv_api.seen] == [0, 3, 6]


def test_429_is_retried_after_the_retry_after_seconds(arxiv_api, make_search):
    arxiv_api.plan(Fault(status=429, retry_after="0.3"))

    papers = make_search().search(QUERY, 5)

    assert papers
    assert [seen.answered for seen in arxiv_api.seen] == ["HTTP 429", "feed"]
    assert arxiv_api.seen[1].at - arxiv_api.seen[0].at >= 0.3


def test_503_beyond_the_retry_budget_is_a_clear_search_error(arxiv_api, make_search):
    arxiv_api.always = Fault(status=503)

    with pytest.raises(SearchError) as caught:
        make_search().search(QUERY, 5)

    error = caught.value
    assert (error.status, error.attempts) == (503, 3)
    assert arxiv_api.count == 3
    assert error.url.startswith(arxiv_api.url)
    assert "HTTP 503" in str(error) and "after 3 attempts" in str(error) and arxiv_api.url in str(error)


def test_a_client_error_is_not_retried(arxiv_api, make_search):
    arxiv_api.always = Fault(status=400)

    with pytest.raises(SearchError, match="HTTP 400"):
        make_search().search(QUERY, 5)

    assert arxiv_api.count == 1


def test_a_response_slower_than_the_timeout_is_retried_then_reported(arxiv_api, make_search):
    arxiv_api.always = Fault(delay=0.6)
    started = time.monotonic()

    with pytest.raises(SearchError, match=r"no answer within 0.2 s .* after 2 attempts") as caught:
        make_search(timeout=0.2, retry=RetryPolicy(max_retries=1, backoff_base=0.01)).search(QUERY, 5)

    assert caught.value.status is None
    assert time.monotonic() - started < 1.0
    deadline = time.monotonic() + 2
    while arxiv_api.count < 2 and time.monotonic() < deadline:  # the server logs a request once it answers
        time.sleep(0.02)
    assert arxiv_api.count == 2


def test_an_empty_first_page_is_asked_again_and_not_cached(arxiv_api, make_search):
    arxiv_api.plan(Fault(empty=True))

    papers = make_search().search(QUERY, 5)

    assert ids(papers) == ids(CorpusSearch().search(QUERY, 5))
    assert [seen.answered for seen in arxiv_api.seen] == ["empty", "feed"]
    make_search().search(QUERY, 5)
    assert arxiv_api.count == 2  # the good page was cached, the empty one was not


def test_a_page_that_stays_empty_gives_no_papers_not_a_crash(arxiv_api, make_search):
    arxiv_api.always = Fault(empty=True)

    assert make_search(empty_page_retries=2).search(QUERY, 5) == []
    assert arxiv_api.count == 3


def test_concurrent_queries_share_one_client_and_keep_the_delay(arxiv_api, make_search):
    corpus = shipped_corpus()
    question = "How should modality signals guide expert routing in mixture-of-experts vision-language models?"
    queries = derive_queries(question, corpus.get("2604.23996"))
    search = make_search(delay_seconds=0.2)

    merged = run_queries(search, queries, 5)

    assert arxiv_api.count == 4
    arrivals = sorted(seen.at for seen in arxiv_api.seen)
    assert all(later - earlier >= 0.2 for earlier, later in zip(arrivals, arrivals[1:]))
    assert sorted(seen.search_query for seen in arxiv_api.seen) == sorted(queries)
    assert ids(merged) == ids(run_queries(CorpusSearch(corpus), queries, 5))
    assert len(set(ids(merged))) == len(merged)

    started = time.monotonic()
    assert ids(run_queries(make_search(delay_seconds=0.2), queries, 5)) == ids(merged)
    assert arxiv_api.count == 4  # all four answered from the cache ...
    assert time.monotonic() - started < 0.2  # ... without waiting out the rate limit
