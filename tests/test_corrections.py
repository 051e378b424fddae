"""Additive corrections: the hash-chained log, the status fold, and what `correct` refuses."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO, copy_records
from generator.cli import cli
from generator.errors import InputError
from generator.records.corrections import append_correction, load_folded
from generator.records.validate import validate_tree

RECORD = "SRCH:93BD3EF3"
FOLDER = "SRCH-93BD3EF3"


@pytest.fixture
def records(tmp_path, later_epoch) -> Path:
    return copy_records(tmp_path / "records", FOLDER)


def correct(records: Path, *args: str):
    return CliRunner().invoke(cli, ["correct", RECORD, "--records", str(records), *args])


def test_a_correction_changes_the_folded_status_count_and_value_but_not_the_manifest(records):
    manifest_before = (records / FOLDER / "manifest.json").read_bytes()
    result = correct(records, "--type", "correction", "--reason", "Publisher name was misspelt.",
                     "--field", "/publisher", "--value", '"Assignee Research Lab"', "--by", "Editor")
    assert result.exit_code == 0, result.output
    folded = load_folded(records / FOLDER)
    assert (folded.status, folded.correction_count) == ("CORRECTED", 1)
    assert folded.values["publisher"] == "Assignee Research Lab"
    assert folded.manifest["publisher"] == "Assignee Research"
    assert (records / FOLDER / "manifest.json").read_bytes() == manifest_before
    entry = json.loads((records / FOLDER / "corrections" / "0001.json").read_text())
    assert entry["changes"] == [{"field": "/publisher", "old": "Assignee Research", "new": "Assignee Research Lab"}]
    assert (entry["status_before"], entry["status_after"], entry["sequence"]) == ("CURRENT", "CORRECTED", 1)
    assert validate_tree(records)[1] == []


def test_the_chain_links_each_entry_to_the_one_before(records):
    from generator.digests import sha256_json

    correct(records, "--type", "expression_of_concern", "--reason", "Scores look off.")
    correct(records, "--type", "retraction", "--reason", "Scores were wrong.")
    manifest = json.loads((records / FOLDER / "manifest.json").read_text())
    first, second = (json.loads((records / FOLDER / "corrections" / f"000{i}.json").read_text()) for i in (1, 2))
    assert first["previous_sha256"] == sha256_json(manifest)
    assert second["previous_sha256"] == sha256_json(first)
    folded = load_folded(records / FOLDER)
    assert folded.status == "RETRACTED"
    assert folded.status_reason == "Scores were wrong."


@pytest.mark.parametrize("update_type", ["correction", "expression_of_concern", "retraction", "withdrawal", "new_version", "removal"])
def test_nothing_but_an_editorial_note_may_follow_a_retraction(records, update_type):
    assert correct(records, "--type", "retraction", "--reason", "Wrong.").exit_code == 0
    args = ["--field", "/publisher", "--value", '"X"'] if update_type == "correction" else []
    result = correct(records, "--type", update_type, "--reason", "More.", *args)
    assert result.exit_code == 2
    assert "cannot follow status RETRACTED (a terminal status); allowed: editorial_note" in result.output
    assert not (records / FOLDER / "corrections" / "0002.json").exists()
    assert correct(records, "--type", "editorial_note", "--reason", "Linked the retraction notice.").exit_code == 0
    assert load_folded(records / FOLDER).status == "RETRACTED"


@pytest.mark.parametrize("args, message", [
    (["--type", "correction", "--reason", "r", "--field", "/no_such_field", "--value", "1"], "field /no_such_field does not exist"),
    (["--type", "correction", "--reason", "r", "--field", "/record_id", "--value", '"SRCH:00000000"'], "identifies the record and cannot be corrected"),
    (["--type", "correction", "--reason", "r", "--field", "/publisher", "--value", "not json"], "--value for /publisher must be strict JSON"),
    (["--type", "retraction", "--reason", "r", "--field", "/publisher", "--value", '"X"'], "a retraction changes no fields"),
    (["--type", "correction", "--reason", "r"], "must change at least one field"),
    (["--type", "rewrite", "--reason", "r"], "unknown correction type 'rewrite'"),
    (["--type", "correction", "--reason", "r", "--field", "/publisher"], "every --field needs a --value"),
])
def test_bad_corrections_are_refused_with_a_clear_error_and_nothing_written(records, args, message):
    result = correct(records, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert not (records / FOLDER / "corrections").exists() or not any((records / FOLDER / "corrections").iterdir())


def test_a_correction_to_an_unknown_record_is_refused(records):
    with pytest.raises(InputError, match="unknown record SRCH:00000000"):
        append_correction(records, "SRCH:00000000", "correction", "r", "me", [("/publisher", '"X"')])


def _record_set(records: Path) -> list[Path]:
    correct(records, "--type", "correction", "--reason", "Typo.", "--field", "/publisher", "--value", '"Assignee Research Lab"')
    correct(records, "--type", "expression_of_concern", "--reason", "Under investigation.")
    assert validate_tree(records)[1] == []
    folder = records / FOLDER
    return [folder / "manifest.json", folder / "corrections" / "0001.json", folder / "corrections" / "0002.json"]


def test_every_single_byte_mutation_of_a_correction_or_manifest_is_caught(records):
    files = _record_set(records)
    rng = random.Random(6962)
    checked = 0
    for path in files:
        original = path.read_bytes()
        positions = range(len(original)) if "corrections" in str(path) else rng.sample(range(len(original)), 600)
        for position in positions:
            mutated = bytearray(original)
            mutated[position] = (mutated[position] + rng.randrange(1, 256)) % 256
            path.write_bytes(bytes(mutated))
            assert validate_tree(records)[1], f"undetected change of byte {position} in {path.name}"
            checked += 1
        path.write_bytes(original)
    assert checked > 1500
    assert validate_tree(records)[1] == []


def test_reordered_missing_and_duplicated_entries_are_caught(records):
    files = _record_set(records)
    first, second = files[1], files[2]
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b), second.write_bytes(a)
    assert validate_tree(records)[1], "reordered"
    first.write_bytes(a), second.write_bytes(b)
    second.unlink()
    assert any("a published file was deleted" in str(p) for p in validate_tree(records)[1]), "the publication log still names the dropped entry"
    first.unlink()
    second.write_bytes(b)
    assert any("expected correction file 0001.json" in str(p) for p in validate_tree(records)[1]), "missing"
    second.unlink()
    first.write_bytes(a)
    (first.parent / "0002.json").write_bytes(a)
    assert validate_tree(records)[1], "duplicated"


def _git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_GLOBAL": "/dev/null", "PATH": "/usr/bin:/bin",
           # Commits made before the corrections (LATER_EPOCH) are dated, so appending passes the base-time check.
           "GIT_AUTHOR_DATE": "2026-11-22T10:00:00Z", "GIT_COMMITTER_DATE": "2026-11-22T10:00:00Z"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path, later_epoch, monkeypatch) -> Path:
    repo = tmp_path / "repo"
    copy_records(repo / "records", FOLDER)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "publish")
    monkeypatch.chdir(repo)
    return repo


def test_validate_base_accepts_a_new_correction(repo):
    assert correct(repo / "records", "--type", "expression_of_concern", "--reason", "Checking.").exit_code == 0
    result = CliRunner().invoke(cli, ["validate", "records", "--base", "main"])
    assert result.exit_code == 0, result.output


def test_validate_base_fails_on_a_commit_that_edits_an_old_correction(repo):
    correct(repo / "records", "--type", "expression_of_concern", "--reason", "Checking.")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "concern")
    path = repo / "records" / FOLDER / "corrections" / "0001.json"
    path.write_text(path.read_text().replace("Checking.", "Nothing to see."))
    _git(repo, "commit", "-qam", "quietly reword")
    result = CliRunner().invoke(cli, ["validate", "records", "--base", "HEAD~1"])
    assert result.exit_code == 1
    assert f"records/{FOLDER}/corrections/0001.json" in result.output
    assert "append-only" in result.output


def test_two_branches_appending_the_same_sequence_fail_once_merged(repo):
    _git(repo, "checkout", "-qb", "a")
    correct(repo / "records", "--type", "expression_of_concern", "--reason", "Branch A.")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "a")
    _git(repo, "checkout", "-q", "main")
    _git(repo, "checkout", "-qb", "b")
    correct(repo / "records", "--type", "correction", "--reason", "Branch B.", "--field", "/publisher", "--value", '"B"')
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "b")
    _git(repo, "checkout", "-q", "main")
    _git(repo, "merge", "-q", "a")
    _git(repo, "checkout", "-q", "b")
    result = CliRunner().invoke(cli, ["validate", "records", "--base", "main"])
    assert result.exit_code == 1
    assert f"records/{FOLDER}/corrections/0001.json" in result.output
    assert "records/log.jsonl: published lines of the log were changed" in result.output, "both took log index 1"
