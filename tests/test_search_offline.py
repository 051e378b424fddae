"""The offline search stage: corpus relevance search, query derivation, merging of several answers."""

from __future__ import annotations

import re
import threading
import time

import pytest

from generator.corpus import Paper, shipped_corpus
from generator.errors import InputError
from generator.pipeline.search import CorpusSearch, derive_queries, key_phrases, merge_ranked, query_words, run_queries

SMOES = "2604.23996"
QUESTION = "How should modality signals guide expert routing in mixture-of-experts vision-language models?"


def paper(arxiv_id: str, version: str | None = "v1") -> Paper:
    return Paper(arxiv_id=arxiv_id, version=version, title=f"Paper {arxiv_id}", abstract="")


def test_corpus_search_finds_the_smoes_paper_first_for_a_smoes_question():
    hits = CorpusSearch().search(QUESTION, 5)

    assert hits[0].arxiv_id == SMOES
    assert len(hits) == 5


def test_corpus_search_reads_arxiv_query_syntax_as_plain_words():
    query = 'ti:"soft modality" AND abs:"expert routing" ANDNOT (au:nobody)'

    assert query_words(query) == "soft modality expert routing nobody"
    assert CorpusSearch().search(query, 3)[0].arxiv_id == SMOES


def test_corpus_search_returns_nothing_for_words_the_corpus_lacks():
    assert CorpusSearch().search('all:"zzyzx"', 5) == []


def test_derive_queries_gives_four_quoted_field_queries():
    target = shipped_corpus().get(SMOES)

    queries = derive_queries(QUESTION, target)

    assert queries == [
        'all:"SMoES" AND abs:"expert routing"',
        'all:"soft modality-guided" AND abs:"mixture-of-experts"',
        'all:"expert specialization" AND abs:"vision-language models"',
        'all:"MoE-VLMs" AND abs:"modality signals"',
    ]
    clause = r'(ti|abs|all):"[^"]+"'
    assert all(re.fullmatch(rf"{clause}( AND {clause})*", q) for q in queries)


def test_derive_queries_is_deterministic_and_distinct():
    target = shipped_corpus().get(SMOES)
    question = "Does soft modality-guided routing improve ChartQA accuracy of MoE VLMs?"

    runs = [derive_queries(question, target) for _ in range(3)]

    assert runs[0] == runs[1] == runs[2]
    assert len(runs[0]) == 4 == len(set(runs[0]))
    assert any('"ChartQA"' in q for q in runs[0])


def test_derive_queries_honours_n():
    target = shipped_corpus().get(SMOES)

    assert len(derive_queries(QUESTION, target, n=2)) == 2
    assert derive_queries(QUESTION, target, n=2) == derive_queries(QUESTION, target)[:2]


def test_derive_queries_refuses_a_question_and_title_without_key_phrases():
    with pytest.raises(InputError, match="no key phrases"):
        derive_queries("why?", Paper(arxiv_id="2604.00001", version="v1", title="On it", abstract=""))


def test_key_phrases_prefer_phrases_the_target_paper_uses():
    phrases = key_phrases(QUESTION, grounding="modality-specific signals should guide expert routing in MoE")

    assert phrases[0] == "expert routing"
    assert "modality signals" in phrases
    assert not any(word in {"how", "should", "guide"} for p in phrases for word in p.split())


def test_merge_interleaves_by_rank_and_keeps_the_highest_version():
    first = [paper("1111.00001"), paper("2222.00002", "v1"), paper("3333.00003")]
    second = [paper("2222.00002", "v3"), paper("4444.00004")]

    merged = merge_ranked([first, second])

    assert [p.versioned_id for p in merged] == ["1111.00001v1", "2222.00002v3", "4444.00004v1", "3333.00003v1"]


class SlowStub:
    """Answers in reverse query order of arrival, to show the merge does not depend on timing."""

    def __init__(self, answers: dict[str, list[Paper]]):
        self.answers = answers
        self.threads: set[str] = set()

    def search(self, query: str, max_results: int) -> list[Paper]:
        self.threads.add(threading.current_thread().name)
        time.sleep(0.05 * (len(self.answers) - list(self.answers).index(query)))
        return self.answers[query][:max_results]


def test_run_queries_runs_concurrently_and_merges_in_query_order():
    stub = SlowStub({
        "a": [paper("1111.00001"), paper("1111.00002")],
        "b": [paper("2222.00001"), paper("1111.00001", "v2")],
        "c": [paper("3333.00001")],
    })

    merged = run_queries(stub, ["a", "b", "c"], 2)

    assert [p.versioned_id for p in merged] == ["1111.00001v2", "2222.00001v1", "3333.00001v1", "1111.00002v1"]
    assert len(stub.threads) == 3
    assert run_queries(stub, [], 2) == []
