"""Full runs with the NIM embedding and the OpenAI-compatible tribunal backends, answered by respx (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx
import yaml
from click.testing import CliRunner

from conftest import SEEDS
from generator.cli import cli
from generator.pipeline.embeddings import HashingEmbeddings
from generator.records.importer import parse_file
from generator.records.validate import validate_tree

TARGET = "2604.23996"
QUESTION = parse_file(SEEDS[0]).research_question
NIM = "https://nim.test/v1"
LLM = "https://llm.test/v1"
NIM_KEY = "sk-test-SECRET123"
LLM_KEY = "sk-test-SECRET456"
MODEL = "nvidia/llama-3.2-nv-embedqa-1b-v2"
DIM = 8
HOSTILE_REASON = "<script>alert('x')</script> | # not a heading [link](javascript:alert(1))"


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("NVIDIA_API_KEY", NIM_KEY)
    monkeypatch.setenv("LLM_API_KEY", LLM_KEY)


def settings(*, embedding: bool = True, tribunal: bool = True, **extra) -> dict:
    data: dict = {}
    if embedding:
        data["embedding"] = {"backend": "nim", "base_url": NIM, "model": MODEL, "dimension": DIM,
                             "max_retries": 0, "backoff_seconds": 0.0}
    if tribunal:
        data["tribunal"] = {"backend": "openai-compatible", "base_url": LLM, "model": "judge-1",
                            "api_key_env": "LLM_API_KEY", "max_retries": 0, "backoff_seconds": 0.0}
    for section, values in extra.items():
        data.setdefault(section, {}).update(values)
    return data


def run_cli(tmp_path: Path, data: dict, *extra: str):
    config = tmp_path / "pipeline.yml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return CliRunner().invoke(cli, ["run", QUESTION, "--paper", TARGET, "--config", str(config),
                                    "--records", str(tmp_path / "records"), *extra])


def embeddings_answer(dimension: int = DIM):
    local = HashingEmbeddings(dimension=dimension)

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        vectors = local.embed(body["input"], "passage")
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        return httpx.Response(200, json={"object": "list", "data": data, "model": body["model"]})

    return answer


def completion(content: str) -> httpx.Response:
    return httpx.Response(200, json={"id": "c", "object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]})


def reviews(scores_by_round: list[dict[str, float]], seen: list[dict]):
    """Answers each role with its score for the draft's revision round, and records the request bodies."""
    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        role = next(r for r in ("SKEPTIC", "VALIDATOR", "SYNTHESIZER") if f"You are the {r}" in body["messages"][0]["content"])
        draft = json.loads(body["messages"][1]["content"])
        score = scores_by_round[draft["revision_round"]][role]
        return completion(json.dumps({"score": score, "reasons": [f"{role} reason", HOSTILE_REASON]}))

    return answer


def everything_written(records: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(records.rglob("*")) if p.is_file())


@respx.mock
def test_nim_embeddings_and_an_llm_tribunal_produce_a_valid_record_without_keys(tmp_path, fixed_epoch):
    nim = respx.post(f"{NIM}/embeddings").mock(side_effect=embeddings_answer())
    seen: list[dict] = []
    chat = respx.post(f"{LLM}/chat/completions").mock(
        side_effect=reviews([{"SKEPTIC": 7.0, "VALIDATOR": 8.0, "SYNTHESIZER": 6.4}], seen))

    result = run_cli(tmp_path, settings(), "--json")

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["review"] == {"score": 7.1, "verdict": "ACCEPT", "revision_round": 0}
    assert summary["policy"] == {"decision": "ESCALATE_TO_OWNER", "rule": "unverified-claims"}
    records = tmp_path / "records"
    assert validate_tree(records)[1] == []
    folder = Path(summary["folder"])
    provenance = json.loads((folder / "provenance.json").read_bytes())
    assert provenance["pipeline"]["embedding"] == {"provider": "NVIDIA NIM", "model": MODEL, "dimension": DIM}
    assert provenance["pipeline"]["tribunal"]["backend"] == "openai-compatible chat model judge-1 at https://llm.test/v1"
    assert "Tribunal consensus is LLM-based and prompt-sensitive." in provenance["uncertainties"]
    assert nim.called and all(c.request.headers["Authorization"] == f"Bearer {NIM_KEY}" for c in nim.calls)
    assert chat.call_count == 3 and all(c.request.headers["Authorization"] == f"Bearer {LLM_KEY}" for c in chat.calls)
    assert {json.loads(b["messages"][1]["content"])["research_question"] for b in seen} == {QUESTION}

    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "- SKEPTIC 7.0/10: SKEPTIC reason; " in report
    assert "<script>" not in report and "&lt;script&gt;" in report
    written = everything_written(records)
    for secret in (NIM_KEY, LLM_KEY, "SECRET"):
        assert secret.encode() not in written
        assert secret not in result.output


@respx.mock
def test_an_llm_revision_round_is_reviewed_again(tmp_path, fixed_epoch):
    respx.post(f"{NIM}/embeddings").mock(side_effect=embeddings_answer())
    seen: list[dict] = []
    respx.post(f"{LLM}/chat/completions").mock(side_effect=reviews(
        [{"SKEPTIC": 5.5, "VALIDATOR": 5.5, "SYNTHESIZER": 5.5}, {"SKEPTIC": 5.0, "VALIDATOR": 5.0, "SYNTHESIZER": 5.3}],
        seen))

    result = run_cli(tmp_path, settings(), "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["review"] == {"score": 5.1, "verdict": "REVISE", "revision_round": 1}
    assert len(seen) == 6
    revised = json.loads(seen[-1]["messages"][1]["content"])
    assert revised["revision_round"] == 1 and revised["uncertainties"][-1].startswith("Revision round 1")
    assert validate_tree(tmp_path / "records")[1] == []


@respx.mock
def test_a_wrong_dimension_embedding_answer_is_a_clean_error_and_nothing_is_written(tmp_path):
    respx.post(f"{NIM}/embeddings").mock(side_effect=embeddings_answer(DIM + 1))

    result = run_cli(tmp_path, settings(tribunal=False))

    assert result.exit_code == 1
    assert f"model {MODEL} returned vectors of length {DIM + 1}, expected {DIM}" in result.stderr
    assert "Traceback" not in result.output and NIM_KEY not in result.output
    assert not (tmp_path / "records").exists()


@respx.mock
def test_the_retired_default_nim_model_is_a_clean_error_naming_the_config(tmp_path):
    respx.post(f"{NIM}/embeddings").mock(return_value=httpx.Response(410, json={"detail": "Gone"}))
    data = settings(tribunal=False)
    del data["embedding"]["model"]

    result = run_cli(tmp_path, data)

    assert result.exit_code == 1
    assert "nvidia/nv-embedqa-e5-v5 is retired" in result.stderr and "pipeline config" in result.stderr
    assert not (tmp_path / "records").exists()


@pytest.mark.parametrize("content, problem", [
    ("Sure! I'd give it a 7 out of 10.", "gave no usable JSON answer"),
    ('{"score": "seven", "reasons": ["ok"]}', "in the wrong shape: 'score' is \"seven\""),
    ('{"score": 7}', "'reasons' is not a non-empty list"),
])
@respx.mock
def test_a_malformed_review_is_a_clean_error_and_nothing_is_written(tmp_path, content, problem):
    respx.post(f"{LLM}/chat/completions").mock(return_value=completion(content))

    result = run_cli(tmp_path, settings(embedding=False))

    assert result.exit_code == 1
    assert problem in result.stderr and "judge-1" in result.stderr
    assert "Traceback" not in result.output and LLM_KEY not in result.output
    assert not (tmp_path / "records").exists()


@respx.mock
def test_a_missing_key_is_a_clean_error_naming_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("LLM_API_KEY")
    route = respx.post(f"{LLM}/chat/completions").mock(return_value=completion("{}"))

    result = run_cli(tmp_path, settings(embedding=False))

    assert result.exit_code == 1 and "set the environment variable LLM_API_KEY" in result.stderr
    assert not route.called and not (tmp_path / "records").exists()
