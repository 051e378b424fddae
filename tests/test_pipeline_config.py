"""Pipeline configuration: defaults, YAML files, unknown keys, types, --set and --offline overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import InputError
from generator.pipeline.config import (
    DEFAULT_CONFIG_FILE,
    PipelineConfig,
    config_from_dict,
    load_config,
    parse_override,
)

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "sovereign.example.yml"


def write(tmp_path: Path, text: str, name: str = "pipeline.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_kernels_parameters():
    config = load_config(None, default_file=None)

    assert config == PipelineConfig()
    assert (config.search.backend, config.search.query_count) == ("offline", 4)
    assert (config.verification.verifier, config.verification.threshold) == ("coverage-stance", None)  # its learnt thresholds
    assert (config.embedding.backend, config.embedding.model, config.embedding.dimension) == (
        "local", "nvidia/nv-embedqa-e5-v5", 1024)
    assert config.tribunal.backend == "offline"
    assert (config.tribunal.revision_threshold, config.tribunal.reject_below) == (6.5, 5.0)


def test_the_example_file_documents_every_key_with_its_default():
    config = load_config(EXAMPLE, default_file=None)

    assert config == PipelineConfig()
    text = EXAMPLE.read_text(encoding="utf-8")
    flat = []

    def walk(value, prefix=""):
        for key, item in value.items():
            if isinstance(item, dict):
                walk(item, f"{prefix}{key}.")
            else:
                flat.append(f"{prefix}{key}")

    walk(PipelineConfig().as_dict())
    for key in flat:
        assert f"{key.rsplit('.', 1)[-1]}:" in text, key


def test_a_yaml_file_sets_values_and_leaves_the_rest_at_their_defaults(tmp_path):
    path = write(tmp_path, """
search:
  backend: arxiv
  max_results_per_query: 25
  arxiv:
    delay_seconds: 5
    cache_path: null
embedding:
  backend: nim
  model: nvidia/llama-3.2-nv-embedqa-1b-v2
  dimension: 2048
verification:
  verifier: claim-coverage
  threshold: null
policy:
  rules: [no-claims, verdict-not-accept]
""")
    config = load_config(path, default_file=None)

    assert config.search.backend == "arxiv" and config.search.max_results_per_query == 25
    assert config.search.arxiv.delay_seconds == 5.0 and config.search.arxiv.cache_path is None
    assert config.search.query_count == 4
    assert (config.embedding.model, config.embedding.dimension) == ("nvidia/llama-3.2-nv-embedqa-1b-v2", 2048)
    assert config.verification.threshold is None
    assert config.policy.rules == ("no-claims", "verdict-not-accept")


@pytest.mark.parametrize("text, key", [
    ("serach:\n  backend: arxiv\n", "serach"),
    ("search:\n  bakend: arxiv\n", "search.bakend"),
    ("search:\n  arxiv:\n    retries: 3\n", "search.arxiv.retries"),
    ("tribunal:\n  api_key: sk-test-SECRET123\n", "tribunal.api_key"),
])
def test_an_unknown_key_is_an_error_naming_the_key_and_the_file(tmp_path, text, key):
    path = write(tmp_path, text)

    with pytest.raises(InputError) as caught:
        load_config(path, default_file=None)

    assert f"'{key}'" in str(caught.value) and str(path) in str(caught.value)
    assert "SECRET123" not in str(caught.value)


@pytest.mark.parametrize("text, message", [
    ("search:\n  query_count: four\n", "search.query_count must be an integer"),
    ("search:\n  query_count: 0\n", "search.query_count must be at least 1"),
    ("search:\n  backend: google\n", "search.backend must be offline or arxiv"),
    ("verification:\n  verifier: magic\n", "verification.verifier must be one of"),
    ("verification:\n  threshold: 1.5\n", "verification.threshold must be a number in [0, 1]"),
    ("embedding:\n  backend: openai\n", "embedding.backend must be local or nim"),
    ("tribunal:\n  backend: openai-compatible\n", "tribunal.model must be a chat model name"),
    ("tribunal:\n  reject_below: 7\n", "tribunal.revision_threshold must be a score in [7, 10]"),
    ("policy:\n  rules: [publish-everything]\n", "policy.rules must be a list of rule names"),
    ("search: [1, 2]\n", "search must be a mapping"),
    ("- just\n- a list\n", "the top level must be a mapping"),
    ("search: {backend: [unclosed\n", "not valid YAML"),
])
def test_bad_values_are_errors_that_say_what_was_expected(tmp_path, text, message):
    path = write(tmp_path, text)

    with pytest.raises(InputError, match=None) as caught:
        load_config(path, default_file=None)

    assert message in str(caught.value) and str(path) in str(caught.value)


def test_an_empty_file_means_the_defaults(tmp_path):
    assert load_config(write(tmp_path, ""), default_file=None) == PipelineConfig()


def test_a_missing_config_file_is_an_error(tmp_path):
    with pytest.raises(InputError, match="no such config file"):
        load_config(tmp_path / "nope.yml", default_file=None)


def test_overrides_apply_after_the_file_and_offline_wins(tmp_path):
    path = write(tmp_path, "search:\n  backend: arxiv\n  query_count: 3\n")

    config = load_config(path, ["search.query_count=2", "tribunal.max_revision_rounds=0",
                                "embedding.model=nvidia/other-model"], default_file=None)
    assert config.search.query_count == 2 and config.search.backend == "arxiv"
    assert config.tribunal.max_revision_rounds == 0 and config.embedding.model == "nvidia/other-model"

    assert load_config(path, offline=True, default_file=None).search.backend == "offline"


def test_override_syntax_and_unknown_override_keys():
    assert parse_override("search.arxiv.cache_path=null") == (["search", "arxiv", "cache_path"], None)
    assert parse_override("policy.rules=[no-claims]") == (["policy", "rules"], ["no-claims"])
    with pytest.raises(InputError, match="expected SECTION.KEY=VALUE"):
        parse_override("search.backend")
    with pytest.raises(InputError, match="unknown key 'search.sort'"):
        load_config(None, ["search.sort=date"], default_file=None)


def test_sovereign_yml_in_the_working_directory_is_the_default(tmp_path, monkeypatch):
    write(tmp_path, "search:\n  query_count: 2\n", name=str(DEFAULT_CONFIG_FILE))
    monkeypatch.chdir(tmp_path)

    assert load_config(None).search.query_count == 2
    assert load_config(write(tmp_path, "")).search.query_count == 4  # an explicit --config wins


def test_the_config_holds_names_of_key_variables_never_keys(monkeypatch):
    monkeypatch.setenv("NVIDIA_API_KEY", "sk-test-SECRET123")
    config = config_from_dict({"tribunal": {"backend": "openai-compatible", "model": "judge"}})

    assert "SECRET123" not in repr(config.as_dict())
    assert config.as_dict()["embedding"]["api_key_env"] == "NVIDIA_API_KEY"


def test_invalid_yaml_names_the_file_line_and_column_not_a_unicode_string(tmp_path):
    path = write(tmp_path, "search:\n  backend: [offline\n")
    with pytest.raises(InputError) as caught:
        load_config(path, default_file=None)
    message = str(caught.value)
    assert message.startswith(f"{path}: not valid YAML: line 3, column 1:")
    assert "<unicode string>" not in message
