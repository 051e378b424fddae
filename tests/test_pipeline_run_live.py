"""A full `run` with the arxiv search backend, against the local arXiv stand-in (never the real network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from arxiv_standin import Fault, serve
from conftest import SEEDS
from generator.cli import cli
from generator.corpus import shipped_corpus
from generator.pipeline.config import config_from_dict
from generator.pipeline.run import run_pipeline
from generator.pipeline.search import SearchError
from generator.records.importer import parse_file
from generator.records.validate import validate_tree

TARGET = "2604.23996"
QUESTION = parse_file(SEEDS[4]).research_question


@pytest.fixture
def arxiv_api():
    state, stop = serve(shipped_corpus())
    yield state
    stop()


def live_settings(url: str, cache: Path, **arxiv) -> dict:
    settings = {"base_url": url, "delay_seconds": 0.0, "timeout_seconds": 0.5, "max_retries": 2,
                "backoff_seconds": 0.01, "cache_path": str(cache)}
    settings.update(arxiv)
    # Claims from the abstract: these tests are about the search; the full text has its own (test_fulltext.py).
    return {"search": {"backend": "arxiv", "arxiv": settings}, "claims": {"source": "abstract"}}


def live_config(url: str, cache: Path, **arxiv):
    return config_from_dict(live_settings(url, cache, **arxiv))


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_live_run_writes_a_valid_record_of_what_arxiv_answered(arxiv_api, tmp_path, fixed_epoch):
    result = run_pipeline(QUESTION, TARGET, live_config(arxiv_api.url, tmp_path / "cache"), tmp_path / "records")

    assert validate_tree(tmp_path / "records")[1] == []
    assert arxiv_api.count == 4 and all(seen.answered == "feed" for seen in arxiv_api.seen)
    provenance = json.loads((result.folder / "provenance.json").read_bytes())
    search = provenance["pipeline"]["search"]
    assert search["service"] == "arXiv API"
    assert sorted(search["queries"]) == sorted(seen.search_query for seen in arxiv_api.seen)
    assert "arXiv Relevance ranking is query-dependent." in provenance["uncertainties"]
    retrieved = [s for s in provenance["sources"] if s["role"] != "target"]
    assert retrieved and all(s["version"] and s["retrieved_at"] == "2026-05-28T20:26:40Z" and s["sha256"] for s in retrieved)


def test_429_then_success(arxiv_api, tmp_path, fixed_epoch):
    arxiv_api.plan(Fault(status=429, retry_after="0"))

    result = run_pipeline(QUESTION, TARGET, live_config(arxiv_api.url, tmp_path / "cache"), tmp_path / "records")

    assert result.written
    assert [seen.answered for seen in arxiv_api.seen].count("HTTP 429") == 1 and arxiv_api.count == 5
    assert validate_tree(tmp_path / "records")[1] == []


def test_503_beyond_the_retry_budget_is_a_clean_cli_error_and_nothing_is_written(arxiv_api, tmp_path):
    arxiv_api.always = Fault(status=503)
    config_file = tmp_path / "sovereign.yml"
    config_file.write_text(yaml.safe_dump(live_settings(arxiv_api.url, tmp_path / "cache")), encoding="utf-8")
    records = tmp_path / "records"

    result = CliRunner().invoke(cli, ["run", QUESTION, "--paper", TARGET, "--config", str(config_file),
                                      "--records", str(records)])

    assert result.exit_code == 1
    assert "error: arXiv search failed: HTTP 503" in result.stderr and "after 3 attempts" in result.stderr
    assert "Traceback" not in result.output
    assert not records.exists()


def test_offline_flag_overrides_an_arxiv_config(arxiv_api, tmp_path, fixed_epoch):
    arxiv_api.always = Fault(status=503)
    config_file = tmp_path / "sovereign.yml"
    config_file.write_text(yaml.safe_dump(live_settings(arxiv_api.url, tmp_path / "cache")), encoding="utf-8")

    result = CliRunner().invoke(cli, ["run", QUESTION, "--paper", TARGET, "--config", str(config_file), "--offline",
                                      "--records", str(tmp_path / "records")])

    assert result.exit_code == 0, result.output
    assert arxiv_api.count == 0


def test_a_slow_answer_times_out_and_is_retried(arxiv_api, tmp_path, fixed_epoch):
    arxiv_api.plan(Fault(delay=0.6))

    result = run_pipeline(QUESTION, TARGET, live_config(arxiv_api.url, tmp_path / "cache", timeout_seconds=0.2),
                          tmp_path / "records")

    assert result.written and validate_tree(tmp_path / "records")[1] == []


def test_answers_that_never_come_in_time_are_a_clean_error_and_nothing_is_written(arxiv_api, tmp_path):
    arxiv_api.always = Fault(delay=0.5)
    config = live_config(arxiv_api.url, tmp_path / "cache", timeout_seconds=0.1, max_retries=0)

    with pytest.raises(SearchError, match=r"no answer within 0.1 s"):
        run_pipeline(QUESTION, TARGET, config, tmp_path / "records")
    assert not (tmp_path / "records").exists()


def test_an_empty_first_page_is_asked_again(arxiv_api, tmp_path, fixed_epoch):
    arxiv_api.plan(Fault(empty=True))

    result = run_pipeline(QUESTION, TARGET, live_config(arxiv_api.url, tmp_path / "cache"), tmp_path / "records")

    answered = [seen.answered for seen in arxiv_api.seen]
    assert answered.count("empty") == 1 and answered.count("feed") == 4
    clean = run_pipeline(QUESTION, TARGET, live_config(arxiv_api.url, tmp_path / "cache2"), tmp_path / "records2")
    for name in ("provenance.json", "report.md"):  # the manifest differs: its origin digests the cache path
        assert (result.folder / name).read_bytes() == (clean.folder / name).read_bytes()


def test_a_cached_rerun_makes_no_requests_and_gives_the_same_record(arxiv_api, tmp_path, fixed_epoch):
    config = live_config(arxiv_api.url, tmp_path / "cache")
    first = run_pipeline(QUESTION, TARGET, config, tmp_path / "a")
    sent = arxiv_api.count
    assert sent == 4

    second = run_pipeline(QUESTION, TARGET, config, tmp_path / "b")

    assert arxiv_api.count == sent
    assert files_under(first.folder) == files_under(second.folder)
