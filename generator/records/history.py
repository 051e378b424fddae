"""The pull-request check "records are append-only": published files never change, new ones appear.

A record is corrected by adding ``corrections/NNNN.json``, never by editing what readers may already
have cited.  This compares what the working tree holds under ``records/`` (committed, staged,
unstaged and untracked alike) with a base commit and reports every published file that was modified,
deleted, renamed away, or had its mode or type changed.  New files are fine.

The working-tree side is staged into a throwaway index (``GIT_INDEX_FILE``), so the check sees
untracked files too and never touches the real index other people may be using.  Two branches that
both add the same ``corrections/0002.json`` are caught once the first is merged: against the new
base, the second branch's file is a modification of a published one.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from generator.errors import InputError, Problem

ADVICE = "records are append-only: add a correction instead"


@dataclass(frozen=True)
class Change:
    """One line of ``git diff --raw``: how a path at base differs from the working tree."""

    status: str
    old_mode: str
    new_mode: str
    old_blob: str
    new_blob: str
    path: str
    new_path: str | None = None


def check_append_only(
    repo_root: Path, base_ref: str, records_dir: str = "records"
) -> list[Problem]:
    """A problem for each file under ``records_dir`` at ``base_ref`` that did not survive unchanged.

    ``Problem.file`` is the path relative to the top of the repository, as git prints it.
    """
    repo_root = Path(repo_root)
    _require_work_tree(repo_root)
    base = _resolve_commit(repo_root, base_ref)
    with tempfile.TemporaryDirectory(prefix="append-only-") as scratch:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
        _git(repo_root, ["read-tree", base], env)
        listed = ["ls-files", "-z", "--cached", "--others", "--exclude-standard"]
        if not _git(repo_root, [*listed, "--", records_dir], env):
            return []  # nothing at base and nothing new: `git add` would reject the pathspec
        _git(repo_root, ["add", "--all", "--", records_dir], env)
        diff = ["diff", "--cached", "--raw", "-z", "--no-abbrev", "--find-renames", "--no-ext-diff"]
        raw = _git(repo_root, [*diff, base, "--", records_dir], env)
    changes = parse_raw_diff(raw)
    return sorted((p for c in changes if (p := problem_for(c))), key=lambda p: p.file)


def problem_for(change: Change) -> Problem | None:
    """Additions are the only allowed change; everything else touches a published file."""
    kind = change.status[:1]
    if kind == "A":
        return None
    if kind == "D":
        what = "published file was deleted"
    elif kind == "R":
        what = f"published file was renamed to {change.new_path}"
    elif kind == "T":
        what = f"published file changed type (mode {change.old_mode} -> {change.new_mode})"
    elif kind == "M" and change.old_blob == change.new_blob:
        what = f"published file's mode changed from {change.old_mode} to {change.new_mode}"
    else:
        what = "published file was modified"
    return Problem(change.path, "", f"{what} ({ADVICE})")


def parse_raw_diff(raw: bytes) -> list[Change]:
    """Parse ``git diff --raw -z``: ``:modes blobs STATUS\\0path\\0`` (two paths for R and C)."""
    fields = raw.decode("utf-8", errors="surrogateescape").split("\0")
    changes = []
    i = 0
    while i < len(fields) and fields[i]:
        old_mode, new_mode, old_blob, new_blob, status = fields[i].lstrip(":").split(" ")
        header = (status, old_mode, new_mode, old_blob, new_blob)
        if status[:1] in ("R", "C"):
            changes.append(Change(*header, fields[i + 1], fields[i + 2]))
            i += 3
        else:
            changes.append(Change(*header, fields[i + 1]))
            i += 2
    return changes


def _require_work_tree(repo_root: Path) -> None:
    if not repo_root.is_dir():
        raise InputError(f"{repo_root} is not a directory")
    try:
        inside = _git(repo_root, ["rev-parse", "--is-inside-work-tree"]).strip()
    except InputError:
        inside = b""
    if inside != b"true":
        raise InputError(f"{repo_root} is not inside a git working tree")


def _resolve_commit(repo_root: Path, ref: str) -> str:
    try:
        args = ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"]
        return _git(repo_root, args).decode().strip()
    except InputError:
        raise InputError(f"base ref {ref!r} does not resolve to a commit in {repo_root}") from None


def _git(repo_root: Path, args: list[str], env: dict[str, str] | None = None) -> bytes:
    """Run git in ``repo_root``; a failure becomes an ``InputError`` carrying git's own message."""
    try:
        result = subprocess.run(
            ["git", "-c", "core.quotePath=false", *args],
            cwd=repo_root,
            env=env,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise InputError("git is needed to check that records are append-only") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", errors="replace").strip()
        reason = message or f"exit status {result.returncode}"
        raise InputError(f"git {args[0]} failed in {repo_root}: {reason}")
    return result.stdout
