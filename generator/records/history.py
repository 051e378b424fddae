"""The pull-request check "records are append-only": published files never change, new ones appear.

The publication log (records/log.jsonl) is the one file that changes: it may only grow at its end,
and what it gains may not be dated before the base commit.

Two forms: ``check_append_only_dirs`` compares two folders with no git at all (the pull-request
workflow runs the base branch's code over the head's records, checked out as data), and
``check_append_only`` compares the working tree with a git commit (local use, pushes to main).

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
from generator.records import log
from generator.records.layout import LOG_FILE

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
    log_path = f"{records_dir.rstrip('/')}/{LOG_FILE}"
    problems = [p for c in changes if c.path != log_path and (p := problem_for(c))]
    log_change = next((c for c in changes if c.path == log_path), None)
    if log_change is not None:
        base_log = b"" if log_change.status[:1] == "A" else _git(repo_root, ["cat-file", "blob", f"{base}:{log_path}"])
        head_log = repo_root / log_path
        head_bytes = head_log.read_bytes() if head_log.is_file() and not head_log.is_symlink() else None
        problems += log_growth_problems(base_log, head_bytes, log_path, commit_time(repo_root, base))
    return sorted(problems, key=lambda p: p.file)


def commit_time(repo_root: Path, commit: str) -> str:
    return _git(repo_root, ["show", "-s", "--format=%cI", commit]).decode().strip()


def log_growth_problems(base: bytes | None, head: bytes | None, file: str, base_time: str | None) -> list[Problem]:
    """The head's log keeps the base's bytes as its beginning, and every line it adds is dated no
    earlier than the base commit (a correction cannot be back-dated into published history)."""
    if head is None:
        return [Problem(file, "", f"the publication log was deleted ({ADVICE})")] if base else []
    if base and not head.startswith(base):
        return [Problem(file, "", f"published lines of the log were changed, removed or reordered: only appending is allowed ({ADVICE})")]
    entries, problems = log.parse_log_bytes(head, file)
    floor = log.parse_instant(base_time) if base_time else None
    if base_time and floor is None:
        raise InputError(f"--base-time {base_time!r} is not an RFC 3339 instant")
    first_new = base.count(b"\n") if base else 0
    for entry in entries[first_new:]:
        moment = log.parse_instant(entry.at)
        if floor is not None and moment is not None and moment < floor:
            problems.append(Problem(file, "", f"line {entry.index + 1}: {entry.record_id} sequence {entry.sequence} is dated {entry.at}, "
                                              f"before the base commit ({base_time}): new entries cannot be back-dated"))
    return problems


def check_append_only_dirs(head_dir: Path, base_dir: Path, base_time: str | None = None) -> list[Problem]:
    """Every file under ``base_dir`` is in ``head_dir`` with the same bytes, except the log, which may
    only grow. Reads files as data: nothing under ``head_dir`` is run, and symlinks are refused."""
    head_dir, base_dir = Path(head_dir), Path(base_dir)
    for folder in (head_dir, base_dir):
        if not folder.is_dir():
            raise InputError(f"{folder}: no such records folder")
    if os.path.realpath(head_dir) != os.path.abspath(head_dir):
        # e.g. a head whose records/ links to the base's: every published file "survives" through the link
        return [Problem(str(head_dir), "", "the records folder is, or lies under, a symlink: records hold only files and folders")]
    problems = []
    for path in sorted(head_dir.rglob("*")):
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            problems.append(Problem(str(path), "", "not a regular file or folder (a symlink, device or FIFO): records hold only files"))
    for old in sorted(p for p in base_dir.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = old.relative_to(base_dir)
        new = head_dir / rel
        if rel.as_posix() == LOG_FILE:
            continue
        if new.is_symlink() or not new.is_file():
            problems.append(Problem(str(new), "", f"published file was deleted or replaced ({ADVICE})"))
        elif new.read_bytes() != old.read_bytes():
            problems.append(Problem(str(new), "", f"published file was modified ({ADVICE})"))
        elif (new.stat().st_mode & 0o111) != (old.stat().st_mode & 0o111):
            problems.append(Problem(str(new), "", f"published file's mode changed ({ADVICE})"))
    base_log, head_log = base_dir / LOG_FILE, head_dir / LOG_FILE
    problems += log_growth_problems(base_log.read_bytes() if base_log.is_file() else None,
                                    head_log.read_bytes() if head_log.is_file() and not head_log.is_symlink() else None,
                                    str(head_log), base_time)
    return problems


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
