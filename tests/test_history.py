"""The append-only check: record files may be added, never changed, removed or moved."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from generator.errors import InputError
from generator.records.history import check_append_only

MANIFEST = "records/r1/manifest.json"
FIRST_CORRECTION = "records/r1/corrections/0001.json"


@pytest.fixture(autouse=True)
def hermetic_git(monkeypatch):
    """No user or system git config leaks in; commits get a fixed identity."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for key in ("NAME", "EMAIL"):
        monkeypatch.setenv(f"GIT_AUTHOR_{key}", "Test" if key == "NAME" else "test@example.org")
        monkeypatch.setenv(f"GIT_COMMITTER_{key}", "Test" if key == "NAME" else "test@example.org")
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(key, raising=False)


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    assert result.returncode == 0 or args[0] == "merge", result.stderr
    return result.stdout


def write(repo: Path, path: str, text: str) -> None:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", message)


@pytest.fixture
def repo(tmp_path) -> Path:
    """A repository whose ``main`` holds one published record with one correction."""
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    write(tmp_path, MANIFEST, '{"id": "r1"}\n')
    write(tmp_path, "records/r1/report.md", "# Report\n")
    write(tmp_path, FIRST_CORRECTION, '{"n": 1}\n')
    write(tmp_path, "README.md", "readme\n")
    commit_all(tmp_path, "publish r1")
    return tmp_path


def files(problems) -> list[str]:
    return [p.file for p in problems]


def test_an_untouched_tree_has_no_problems(repo):
    assert check_append_only(repo, "main") == []


def test_only_additions_committed_staged_or_untracked_have_no_problems(repo):
    git(repo, "switch", "--quiet", "-c", "feature")
    write(repo, "records/r1/corrections/0002.json", '{"n": 2}\n')
    commit_all(repo, "correct r1")
    write(repo, "records/r2/manifest.json", '{"id": "r2"}\n')
    git(repo, "add", "records/r2/manifest.json")
    write(repo, "records/r1/corrections/0003.json", '{"n": 3}\n')
    assert check_append_only(repo, "main") == []


def test_a_committed_edit_of_an_old_correction_is_reported_with_its_path(repo):
    git(repo, "switch", "--quiet", "-c", "feature")
    write(repo, FIRST_CORRECTION, '{"n": "rewritten"}\n')
    commit_all(repo, "rewrite history")
    [problem] = check_append_only(repo, "main")
    assert problem.file == FIRST_CORRECTION
    assert problem.pointer == ""
    assert "modified" in problem.message and "append-only" in problem.message


def test_an_uncommitted_edit_is_reported(repo):
    write(repo, MANIFEST, '{"id": "r1", "edited": true}\n')
    assert files(check_append_only(repo, "main")) == [MANIFEST]


def test_a_deletion_is_reported(repo):
    (repo / FIRST_CORRECTION).unlink()
    [problem] = check_append_only(repo, "main")
    assert problem.file == FIRST_CORRECTION
    assert "deleted" in problem.message


def test_a_committed_deletion_of_a_whole_record_reports_every_file(repo):
    git(repo, "switch", "--quiet", "-c", "unpublish")
    git(repo, "rm", "--quiet", "-r", "records/r1")
    git(repo, "commit", "--quiet", "-m", "unpublish r1")
    assert files(check_append_only(repo, "main")) == [
        FIRST_CORRECTION,
        MANIFEST,
        "records/r1/report.md",
    ]


def test_a_file_only_untracked_in_the_index_but_unchanged_on_disk_is_not_reported(repo):
    git(repo, "rm", "--quiet", "--cached", FIRST_CORRECTION)
    assert check_append_only(repo, "main") == []


def test_a_rename_is_reported_at_the_old_path(repo):
    git(repo, "mv", FIRST_CORRECTION, "records/r1/corrections/0009.json")
    [problem] = check_append_only(repo, "main")
    assert problem.file == FIRST_CORRECTION
    assert "renamed to records/r1/corrections/0009.json" in problem.message


def test_a_move_out_of_the_records_folder_is_reported(repo):
    git(repo, "mv", "records/r1/report.md", "report.md")
    assert files(check_append_only(repo, "main")) == ["records/r1/report.md"]


@pytest.mark.skipif(os.name == "nt", reason="no executable bit")
def test_a_mode_change_is_reported(repo):
    (repo / MANIFEST).chmod(0o755)
    [problem] = check_append_only(repo, "main")
    assert problem.file == MANIFEST
    assert "mode changed from 100644 to 100755" in problem.message


def test_changes_outside_the_records_folder_are_ignored(repo):
    write(repo, "README.md", "rewritten\n")
    (repo / "docs").mkdir()
    write(repo, "docs/new.md", "new\n")
    commit_all(repo, "docs")
    assert check_append_only(repo, "main~1") == []


def test_a_custom_records_folder_is_the_one_checked(repo):
    write(repo, "README.md", "rewritten\n")
    assert check_append_only(repo, "main", records_dir="published") == []
    write(repo, "published/a.json", "{}\n")
    commit_all(repo, "published folder")
    write(repo, "published/a.json", '{"x": 1}\n')
    assert files(check_append_only(repo, "HEAD", records_dir="published")) == ["published/a.json"]


def test_paths_with_spaces_and_unicode_are_reported_exactly(repo):
    path = "records/café record ü/corrections/0001 final.json"
    write(repo, path, '{"n": 1}\n')
    commit_all(repo, "unicode record")
    write(repo, path, '{"n": "edited"}\n')
    git(repo, "mv", "records/r1/report.md", "records/r1/rapport été.md")
    problems = check_append_only(repo, "HEAD")
    assert files(problems) == [path, "records/r1/report.md"]
    assert "renamed to records/r1/rapport été.md" in problems[1].message


def test_two_branches_appending_the_same_correction_fail_once_the_first_is_merged(repo):
    correction = "records/r1/corrections/0002.json"
    git(repo, "switch", "--quiet", "-c", "branch-a")
    write(repo, correction, '{"n": 2, "by": "a"}\n')
    commit_all(repo, "a corrects r1")
    git(repo, "switch", "--quiet", "-c", "branch-b", "main")
    write(repo, correction, '{"n": 2, "by": "b"}\n')
    commit_all(repo, "b corrects r1")
    assert check_append_only(repo, "main") == []  # each branch alone only appends

    git(repo, "switch", "--quiet", "main")
    git(repo, "merge", "--quiet", "--no-ff", "-m", "merge a", "branch-a")
    git(repo, "switch", "--quiet", "branch-b")

    [problem] = check_append_only(repo, "main")
    assert problem.file == correction
    assert "modified" in problem.message


def test_a_conflicted_merge_of_two_same_numbered_corrections_is_reported(repo):
    correction = "records/r1/corrections/0002.json"
    git(repo, "switch", "--quiet", "-c", "branch-a")
    write(repo, correction, '{"n": 2, "by": "a"}\n')
    commit_all(repo, "a corrects r1")
    git(repo, "switch", "--quiet", "-c", "branch-b", "main")
    write(repo, correction, '{"n": 2, "by": "b"}\n')
    commit_all(repo, "b corrects r1")
    git(repo, "switch", "--quiet", "main")
    git(repo, "merge", "--quiet", "-m", "merge a", "branch-a")
    git(repo, "switch", "--quiet", "branch-b")

    git(repo, "merge", "--quiet", "-m", "merge main", "main")
    assert "<<<<<<<" in (repo / correction).read_text()  # both sides added 0002: a conflict
    assert files(check_append_only(repo, "main")) == [correction]


def test_an_unknown_base_ref_is_an_input_error(repo):
    with pytest.raises(InputError, match="no-such-branch"):
        check_append_only(repo, "no-such-branch")


def test_a_base_ref_that_looks_like_an_option_is_an_input_error(repo):
    with pytest.raises(InputError, match="--output"):
        check_append_only(repo, "--output=/tmp/x")


def test_a_folder_that_is_not_a_git_repository_is_an_input_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(InputError, match="not inside a git working tree"):
        check_append_only(plain, "main")


def test_the_real_index_is_left_untouched(repo):
    write(repo, "records/r1/corrections/0002.json", "{}\n")
    write(repo, MANIFEST, "edited\n")
    before = (repo / ".git" / "index").read_bytes()
    check_append_only(repo, "main")
    assert (repo / ".git" / "index").read_bytes() == before
    assert git(repo, "status", "--porcelain").splitlines() == [
        " M records/r1/manifest.json",
        "?? records/r1/corrections/0002.json",
    ]
