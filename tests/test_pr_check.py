"""The pull-request check runs the BASE branch's checker over the pull request's records, as data.

`.github/workflows/append-only.yml` checks the base branch out into ``base/`` and installs it, checks
the pull request's commit out into ``head/`` as data only, and runs the script of its step "Records
are append-only (base code over head data)". Before, the check installed and ran the pull request's
own ``validate``, so a pull request could edit a published record and, in the same commit, ship a
checker that no longer looks.

These tests build a pull-request-shaped scratch repository (the project's ``generator/``,
``schemas/``, ``records/`` and ``pyproject.toml`` committed as the base on ``main``, and a head
commit on a branch), lay it out as the workflow does (``ws/base`` and ``ws/head``, two git checkouts,
and the base's ``sovereign-publish`` first on PATH), and run the very text of the workflow's step in
bash. Nothing of ``ws/head`` is imported by the check: the shim puts ``ws/base`` on PYTHONPATH.

Each hostile head is self-consistent (its manifest digest and its log agree with its edit) and
weakens its own ``generator/`` until its own ``validate`` passes. The control runs the same script
with the head's code behind ``sovereign-publish`` and shows it exit 0: under the old workflow, which
ran the pull request's own checker, the attack would have passed.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.digests import canonical_json, sha256_json
from generator.fsio import dump_json
from workflow_steps import append_only_script

REPO = Path(__file__).resolve().parents[1]
RECORD = "SRCH:B45010EB"
FOLDER = "SRCH-B45010EB"
MANIFEST = f"records/{FOLDER}/manifest.json"
REPORT = f"records/{FOLDER}/report.txt"
RETRACTION = f"records/{FOLDER}/corrections/0001.json"
LOG = "records/log.jsonl"

# The shipped records were recorded at 2026-11-22T09:06:25Z; the machine's clock is later still.
PUBLISHED = "2026-11-22T10:00:00Z"  # the base commit
NOON_EPOCH = "1795348800"  # 2026-11-22T12:00:00Z, for SOURCE_DATE_EPOCH
AFTERNOON = "2026-11-22T13:00:00Z"  # a base commit made after a correction dated noon
TIMEOUT = 120

# What a hostile pull request appends to its own checker's history.py: nothing is compared with the base.
WEAKENED_HISTORY = '''

def check_append_only_dirs(head_dir, base_dir, base_time=None):
    return []


def log_growth_problems(base, head, file, base_time):
    return []
'''
# ... and to its gate.py, since its edited manifest's new score no longer gives its tier and verdict.
WEAKENED_RULES = '''

def rule_problems(file, values, published=None):
    return []
'''
# ... or, bluntly, a validate that finds nothing at all.
NOTHING_FOUND = '''

def validate_tree(path):
    return [], []
'''


def _git(repo: Path, *args: str, date: str = PUBLISHED) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
           "PATH": "/usr/bin:/bin", "HOME": str(repo), "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True,
                          timeout=TIMEOUT).stdout


@dataclass
class PullRequest:
    """A scratch repository (``repo``: a base on ``main``, heads on branches) and the workflow's workspace ``ws``."""

    tmp: Path
    repo: Path
    ws: Path
    base: str = ""

    def commit_base(self, message: str, date: str) -> str:
        """Commit the working tree on ``main`` (``commit_head`` always comes back to it)."""
        _git(self.repo, "add", "--all", ".")
        _git(self.repo, "commit", "-qm", message, date=date)
        self.base = _git(self.repo, "rev-parse", "HEAD").strip()
        return self.base

    def commit_head(self, branch: str, change, date: str = PUBLISHED) -> str:
        """A head commit on a new ``branch`` off the base: what ``change(repo)`` did to the working tree."""
        _git(self.repo, "checkout", "-qb", branch, self.base)
        change(self.repo)
        _git(self.repo, "add", "--all", ".")
        _git(self.repo, "commit", "-qm", branch, date=date)
        head = _git(self.repo, "rev-parse", "HEAD").strip()
        _git(self.repo, "checkout", "-q", "main")
        return head

    def checkout(self, name: str, commit: str) -> Path:
        """``ws/<name>``: a git checkout of ``commit``, as actions/checkout leaves it."""
        target = self.ws / name
        if target.exists():
            if _git(target, "rev-parse", "HEAD").strip() == commit:
                return target
            shutil.rmtree(target)
        _git(self.ws, "clone", "-q", "--no-checkout", str(self.repo), name)
        _git(target, "checkout", "-q", "--detach", commit)
        return target

    def shim(self, name: str, code: Path) -> Path:
        """``ws/<name>/sovereign-publish``: the CLI of the checkout ``code``, which is first on PYTHONPATH."""
        folder = self.ws / name
        folder.mkdir(exist_ok=True)
        script = folder / "sovereign-publish"
        script.write_text("#!/bin/sh\n"
                          f"PYTHONPATH={shlex.quote(str(code))}\n"
                          "export PYTHONPATH\n"
                          f'exec {shlex.quote(sys.executable)} -m generator "$@"\n')
        script.chmod(0o755)
        return folder

    def env(self, bin_dir: Path, **extra: str) -> dict[str, str]:
        """A clean environment: ``bin_dir`` first on PATH; no SOVEREIGN_LOG_KEY, SOURCE_DATE_EPOCH or PYTHONPATH."""
        return {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(self.tmp), "LANG": "C.UTF-8",
                "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", **extra}

    def correct(self, *args: str, epoch: str) -> None:
        """``sovereign-publish correct`` on the scratch repository's working tree, with the base's code."""
        self.checkout("base", self.base)
        bin_dir = self.shim("bin", self.ws / "base")
        result = subprocess.run(["sovereign-publish", "correct", RECORD, "--records", "records", *args], cwd=self.repo,
                                env=self.env(bin_dir, SOURCE_DATE_EPOCH=epoch), capture_output=True, text=True,
                                timeout=TIMEOUT)
        assert result.returncode == 0, result.stdout + result.stderr

    def run_check(self, head: str, *, code: str = "base") -> subprocess.CompletedProcess:
        """The workflow step's own script, in bash from the workspace root, over ``ws/head`` at ``head``.

        ``code="base"`` is the workflow as it is: the base's checker. ``code="head"`` is the old
        workflow: the pull request's own checker, over the same data.
        """
        self.checkout("base", self.base)
        self.checkout("head", head)
        bin_dir = self.shim("bin" if code == "base" else f"bin-{code}", self.ws / code)
        return subprocess.run(["bash", "-c", append_only_script()], cwd=self.ws, env=self.env(bin_dir),
                              capture_output=True, text=True, timeout=TIMEOUT)


def scratch_pr(tmp_path: Path, date: str = PUBLISHED) -> PullRequest:
    """The project's code, schemas and records (with their log), committed on ``main`` at ``date``."""
    repo = tmp_path / "scratch"
    repo.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("generator", "schemas", "records"):
        shutil.copytree(REPO / name, repo / name, ignore=ignore)
    shutil.copy2(REPO / "pyproject.toml", repo / "pyproject.toml")
    assert (repo / LOG).is_file()
    _git(repo, "init", "-q", "-b", "main")
    (tmp_path / "ws").mkdir()
    pr = PullRequest(tmp=tmp_path, repo=repo, ws=tmp_path / "ws")
    pr.commit_base("publish", date)
    return pr


@pytest.fixture
def pr(tmp_path) -> PullRequest:
    return scratch_pr(tmp_path)


def output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def assert_old_workflow_passes(pr: PullRequest, head: str) -> None:
    """The control: the pull request's own checker, run as the old workflow ran it, lets its change through."""
    result = pr.run_check(head, code="head")
    assert result.returncode == 0, "the head's own checker should pass its own change\n" + output(result)


# --- what hostile heads do ------------------------------------------------------------------------

def _log_lines(repo: Path) -> list[dict]:
    return [json.loads(line) for line in (repo / LOG).read_bytes().splitlines()]


def _write_log(repo: Path, entries: list[dict]) -> None:
    (repo / LOG).write_bytes(b"".join(canonical_json(entry) + b"\n" for entry in entries))


def _weaken_checker(repo: Path, *, entirely: bool = False) -> None:
    records = repo / "generator" / "records"
    with open(records / "history.py", "a", encoding="utf-8") as handle:
        handle.write(WEAKENED_HISTORY)
    with open(records / ("validate.py" if entirely else "gate.py"), "a", encoding="utf-8") as handle:
        handle.write(NOTHING_FOUND if entirely else WEAKENED_RULES)


def _edited_manifest(repo: Path) -> dict:
    """Quietly improve a published record: a new title, a better review score, a softer note."""
    path = repo / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["title"] = "SMoES-based MoE-VLMs scale efficiently"
    manifest["review"]["score"] = 9.1
    manifest["note"] = "Reviewed and endorsed."
    # As generator/records/validate.py::manifest_digest computes it: the digest of everything else.
    manifest["sha256"] = sha256_json({k: v for k, v in manifest.items() if k != "sha256"})
    path.write_text(dump_json(manifest), encoding="utf-8")
    return manifest


def edit_published_manifest(repo: Path) -> None:
    """Edit the manifest, re-log it in place (the head's records agree with each other), weaken the checker."""
    manifest = _edited_manifest(repo)
    entries = _log_lines(repo)
    for entry in entries:
        if (entry["record_id"], entry["sequence"]) == (RECORD, 0):
            entry["sha256"] = sha256_json(manifest)
    _write_log(repo, entries)
    _weaken_checker(repo)


def delete_published_retraction(repo: Path) -> None:
    """Make a retraction disappear: its file and its line of the log."""
    (repo / RETRACTION).unlink()
    _write_log(repo, [e for e in _log_lines(repo) if (e["record_id"], e["sequence"]) != (RECORD, 1)])
    _weaken_checker(repo)


def symlink_a_published_file(repo: Path) -> None:
    """The report becomes a symlink to a copy of itself (same bytes when read through the link)."""
    (repo / REPORT).rename(repo / f"records/{FOLDER}/.report.txt")
    os.symlink(".report.txt", repo / REPORT)
    _weaken_checker(repo, entirely=True)


def replace_a_published_file_by_a_folder(repo: Path) -> None:
    report = (repo / REPORT).read_bytes()
    (repo / REPORT).unlink()
    (repo / REPORT).mkdir()
    (repo / REPORT / "report.txt").write_bytes(report)
    _weaken_checker(repo, entirely=True)


def make_a_published_file_executable(repo: Path) -> None:
    (repo / REPORT).chmod(0o755)
    _weaken_checker(repo, entirely=True)


def truncate_the_log(repo: Path) -> None:
    _write_log(repo, _log_lines(repo)[:-1])
    _weaken_checker(repo, entirely=True)


def symlink_the_log(repo: Path) -> None:
    (repo / LOG).rename(repo / "records/.log.jsonl")
    os.symlink(".log.jsonl", repo / LOG)
    _weaken_checker(repo, entirely=True)


def relog_an_edited_manifest_at_the_end(repo: Path) -> None:
    """Keep every published log line, append one that gives the edited manifest's digest."""
    manifest = _edited_manifest(repo)
    entries = _log_lines(repo)
    entries.append({"at": "2026-11-22T11:00:00Z", "index": len(entries), "record_id": RECORD, "sequence": 0,
                    "sha256": sha256_json(manifest)})
    _write_log(repo, entries)
    _weaken_checker(repo, entirely=True)


# --- the specification ----------------------------------------------------------------------------

def test_the_workflow_step_runs_the_base_checker_over_the_head_as_data():
    script = append_only_script()
    assert "sovereign-publish validate head/records --base-records base/records" in script
    assert '--base-time "$base_time"' in script
    assert "git -C base show -s --format=%cI HEAD" in script


def test_the_checkout_on_pythonpath_is_the_code_that_runs_not_the_installed_package(pr):
    pr.checkout("base", pr.base)
    pr.checkout("head", pr.base)
    for code in ("base", "head"):
        result = subprocess.run([sys.executable, "-c", "import generator.records.history as h; print(h.__file__)"],
                                cwd=pr.ws, env=pr.env(pr.ws / "bin", PYTHONPATH=str(pr.ws / code)),
                                capture_output=True, text=True, timeout=TIMEOUT)
        assert result.returncode == 0, output(result)
        # The project is also installed (editable) in this venv: PYTHONPATH still wins.
        assert Path(result.stdout.strip()) == pr.ws / code / "generator" / "records" / "history.py"


def test_a_pr_that_edits_a_published_manifest_and_weakens_its_own_checker_fails_the_check(pr):
    head = pr.commit_head("quiet-edit", edit_published_manifest)
    assert_old_workflow_passes(pr, head)

    result = pr.run_check(head)

    assert result.returncode != 0
    assert f"head/{MANIFEST}: published file was modified (records are append-only" in output(result)
    assert f"head/{LOG}: published lines of the log were changed, removed or reordered" in output(result)


def test_a_pr_that_deletes_a_published_retraction_and_weakens_its_own_checker_fails_the_check(pr):
    pr.correct("--type", "retraction", "--reason", "The benchmark numbers were not reproducible.", epoch=NOON_EPOCH)
    pr.commit_base("retract", AFTERNOON)
    head = pr.commit_head("unretract", delete_published_retraction, date=AFTERNOON)
    assert_old_workflow_passes(pr, head)

    result = pr.run_check(head)

    assert result.returncode != 0
    assert f"head/{RETRACTION}: published file was deleted or replaced (records are append-only" in output(result)
    assert f"head/{LOG}: published lines of the log were changed, removed or reordered" in output(result)


@pytest.mark.parametrize(("change", "expected"), [pytest.param(change, expected, id=change.__name__) for change, expected in [
    (symlink_a_published_file, [f"head/{REPORT}: not a regular file or folder (a symlink",
                                f"head/{REPORT}: published file was deleted or replaced"]),
    (replace_a_published_file_by_a_folder, [f"head/{REPORT}: published file was deleted or replaced"]),
    (make_a_published_file_executable, [f"head/{REPORT}: published file's mode changed"]),
    (truncate_the_log, [f"head/{LOG}: published lines of the log were changed, removed or reordered"]),
    (symlink_the_log, [f"head/{LOG}: not a regular file or folder (a symlink", f"head/{LOG}: the publication log was deleted"]),
    (relog_an_edited_manifest_at_the_end, [f"head/{MANIFEST}: published file was modified",
                                           f"head/{LOG}: line 6: {RECORD} sequence 0 is already logged at line 4"]),
]])
def test_other_ways_a_pr_hides_a_change_from_its_own_checker_fail_the_check(pr, change, expected):
    head = pr.commit_head(change.__name__.replace("_", "-"), change)
    assert_old_workflow_passes(pr, head)

    result = pr.run_check(head)

    assert result.returncode != 0
    for message in expected:
        assert message in output(result)


def test_a_pr_that_replaces_records_by_a_symlink_into_the_base_checkout_fails_the_check(pr):
    def swap(repo: Path) -> None:
        shutil.rmtree(repo / "records")
        os.symlink("../base/records", repo / "records")  # from ws/head/records: ws/base/records

    head = pr.commit_head("records-elsewhere", swap)
    assert "records/log.jsonl" not in _git(pr.repo, "ls-tree", "-r", "--name-only", head)  # all of records/ deleted

    result = pr.run_check(head)

    assert result.returncode != 0, output(result)
    assert "head/records: the records folder is, or lies under, a symlink" in output(result)


def test_a_pr_that_appends_a_correction_passes_the_check(pr):
    head = pr.commit_head("concern", lambda repo: pr.correct(
        "--type", "expression_of_concern", "--reason", "The scaling claim is being checked.", epoch=NOON_EPOCH),
        date=AFTERNOON)

    result = pr.run_check(head)

    assert result.returncode == 0, output(result)
    assert "5 record(s) and 1 correction(s) valid." in result.stdout


def test_a_pr_whose_new_correction_is_dated_before_the_base_commit_fails_the_check(tmp_path):
    pr = scratch_pr(tmp_path, date=AFTERNOON)  # the base commit is made at 13:00 ...
    head = pr.commit_head("backdated", lambda repo: pr.correct(  # ... and the correction says noon
        "--type", "expression_of_concern", "--reason", "Dated before the base commit.", epoch=NOON_EPOCH), date=AFTERNOON)

    result = pr.run_check(head)

    assert result.returncode != 0
    assert (f"head/{LOG}: line 6: {RECORD} sequence 1 is dated 2026-11-22T12:00:00Z, "
            "before the base commit (2026-11-22T13:00:00+00:00): new entries cannot be back-dated") in output(result)
