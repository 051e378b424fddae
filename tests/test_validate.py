"""`validate`: schema, digests and rules; every mutation of a record is caught and located."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from conftest import REPO, copy_records
from generator.cli import cli
from generator.fsio import dump_json
from generator.records.schemas import SCHEMA_FILES, load_schema
from generator.records.validate import validate_tree

RECORD_004 = "SRCH-93BD3EF3"
RECORD_000 = "SRCH-7AEAE763"


def _walk_objects(schema: dict, pointer: str = ""):
    """Every (pointer, sub-schema) that describes an object with properties."""
    if isinstance(schema, dict):
        if "properties" in schema:
            yield pointer, schema
            for name, sub in schema["properties"].items():
                yield from _walk_objects(sub, f"{pointer}/{name}")
        if isinstance(schema.get("items"), dict):
            yield from _walk_objects(schema["items"], f"{pointer}/0")


@pytest.mark.parametrize("contract", SCHEMA_FILES)
def test_schema_passes_the_2020_12_meta_schema(contract):
    Draft202012Validator.check_schema(load_schema(contract))


@pytest.mark.parametrize("contract", SCHEMA_FILES)
def test_schema_is_closed_described_versioned_and_has_valid_examples(contract):
    schema = load_schema(contract)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].startswith("https://") and schema["$id"].endswith(f"/{contract}.json")
    for pointer, sub in _walk_objects(schema):
        assert sub.get("additionalProperties") is False or "parameters" in pointer, f"{pointer} is open"
        for name, prop in sub["properties"].items():
            assert prop.get("description"), f"{pointer}/{name} has no description"
    assert schema["examples"]
    for example in schema["examples"]:
        Draft202012Validator(schema).validate(example)


@pytest.fixture
def records(tmp_path) -> Path:
    return copy_records(tmp_path / "records", RECORD_000, RECORD_004)


def _rewrite(path: Path, value: dict) -> None:
    path.write_text(dump_json(value), encoding="utf-8")


def _problems(records: Path) -> list[str]:
    return [str(p) for p in validate_tree(records)[1]]


def test_example_records_are_valid(records):
    assert _problems(records) == []


def _required_paths(schema: dict, instance, pointer=""):
    """Every required property present in ``instance``, as (parent pointer, name)."""
    if isinstance(instance, dict) and "properties" in schema:
        for name in schema.get("required", []):
            if name in instance:
                yield pointer, name
        for name, sub in schema["properties"].items():
            if isinstance(instance.get(name), dict):
                yield from _required_paths(sub, instance[name], f"{pointer}/{name}")
            elif isinstance(instance.get(name), list) and instance[name] and isinstance(sub.get("items"), dict):
                yield from _required_paths(sub["items"], instance[name][0], f"{pointer}/{name}/0")


def _at(document, pointer):
    for token in filter(None, pointer.split("/")):
        document = document[int(token)] if isinstance(document, list) else document[token]
    return document


@pytest.mark.parametrize("file, contract", [("manifest.json", "paper-manifest-v1.1"), ("provenance.json", "source-provenance-v1")])
def test_removing_any_required_field_is_reported_with_file_and_pointer(records, file, contract):
    path = records / RECORD_000 / file
    original = json.loads(path.read_text())
    cases = list(_required_paths(load_schema(contract), original))
    assert len(cases) > 30
    for parent, name in cases:
        mutated = copy.deepcopy(original)
        del _at(mutated, parent)[name]
        _rewrite(path, mutated)
        problems = _problems(records)
        expected = f"{path}#{parent}/{name}: required property is missing"
        assert any(p.startswith(expected) for p in problems), f"removing {parent}/{name}: {problems}"
    _rewrite(path, original)


def _enum_paths(schema: dict, instance, pointer=""):
    if isinstance(instance, dict) and "properties" in schema:
        for name, sub in schema["properties"].items():
            if name not in instance:
                continue
            if "enum" in sub or "const" in sub:
                yield f"{pointer}/{name}"
            if isinstance(instance[name], dict):
                yield from _enum_paths(sub, instance[name], f"{pointer}/{name}")
            elif isinstance(instance[name], list) and instance[name] and isinstance(sub.get("items"), dict):
                yield from _enum_paths(sub["items"], instance[name][0], f"{pointer}/{name}/0")


@pytest.mark.parametrize("file, contract", [("manifest.json", "paper-manifest-v1.1"), ("provenance.json", "source-provenance-v1")])
def test_violating_any_enum_is_reported_with_file_and_pointer(records, file, contract):
    path = records / RECORD_000 / file
    original = json.loads(path.read_text())
    cases = list(_enum_paths(load_schema(contract), original))
    assert len(cases) >= 8
    for pointer in cases:
        mutated = copy.deepcopy(original)
        parent, _, name = pointer.rpartition("/")
        _at(mutated, parent)[name] = "NOT-AN-ALLOWED-VALUE"
        _rewrite(path, mutated)
        problems = _problems(records)
        assert any(p.startswith(f"{path}#{pointer}: ") for p in problems), f"{pointer}: {problems}"
    _rewrite(path, original)


def test_a_flipped_artifact_digest_is_reported(records):
    path = records / RECORD_000 / "manifest.json"
    manifest = json.loads(path.read_text())
    digest = manifest["artifacts"][0]["sha256"]
    manifest["artifacts"][0]["sha256"] = ("0" if digest[0] != "0" else "1") + digest[1:]
    _rewrite(path, manifest)
    assert any(p.startswith(f"{path}#/artifacts/0/sha256: digest does not match") for p in _problems(records))


def test_a_changed_byte_in_the_report_is_reported(records):
    report = records / RECORD_000 / "report.txt"
    data = bytearray(report.read_bytes())
    data[200] ^= 0x01
    report.write_bytes(bytes(data))
    assert any("digest does not match report.txt" in p for p in _problems(records))


def test_a_whitespace_only_edit_of_a_manifest_is_reported(records):
    path = records / RECORD_004 / "manifest.json"
    path.write_text(path.read_text().replace('\n  "contract"', '\n\t"contract"'), encoding="utf-8")
    assert any(p.startswith(f"{path}: file is not in the canonical layout") for p in _problems(records))


def test_folder_name_must_be_the_record_id(records):
    (records / RECORD_004).rename(records / "SRCH-00000000")
    assert any("folder name 'SRCH-00000000' must be 'SRCH-93BD3EF3'" in p for p in _problems(records))


def test_a_tier_that_contradicts_the_review_score_is_reported(records):
    path = records / RECORD_000 / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["quality_tier"]["tier"] = "Standard"
    _rewrite(path, manifest)
    assert any(f'{path}#/quality_tier/tier: /review/score = 1.5 gives "Quarantine candidate" by rule tier-by-score, record says "Standard"' in p
               for p in _problems(records))


def test_an_unlisted_file_in_a_record_folder_is_reported(records):
    (records / RECORD_000 / "notes.txt").write_text("hello")
    assert any("notes.txt: file is not listed" in p for p in _problems(records))


def test_one_bad_record_does_not_hide_the_others(records):
    for name in (RECORD_000, RECORD_004):
        path = records / name / "provenance.json"
        value = json.loads(path.read_text())
        del value["sources"]
        _rewrite(path, value)
    problems = _problems(records)
    assert any(RECORD_000 in p for p in problems) and any(RECORD_004 in p for p in problems)


def test_validate_cli_exits_non_zero_and_names_file_and_pointer(records):
    path = records / RECORD_004 / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["quality_dimensions"]["evidence_strength"]["rating"] = "VERY LOW"
    _rewrite(path, manifest)
    result = CliRunner().invoke(cli, ["validate", str(records)])
    assert result.exit_code == 1
    assert f"error: {path}#/quality_dimensions/evidence_strength/rating: 'VERY LOW' is not one of" in result.output


def test_validate_cli_passes_on_the_shipped_records():
    result = CliRunner().invoke(cli, ["validate", str(REPO / "records")])
    assert result.exit_code == 0, result.output
    assert "record(s)" in result.output
