"""Hostile files under records/ and in a built site: refused by path, never followed, never a traceback.

The property, for `sovereign-publish validate` (a copy of the shipped records) and `sovereign-publish
verify` (a copy of a site built once for this module), whatever sits where a record's file belongs:

* the command exits 1 or 2, in well under its timeout (no hang on a FIFO or /dev/stdin, no
  MemoryError on /dev/zero: it runs with its stdin a pipe that stays open, and a 2 GiB address space);
* it prints one or more ``error:`` lines, one naming the path and saying what is wrong with it;
* it prints no ``Traceback``, and nothing of a symlink's target: not its digest, size or content;
* it writes nothing: every file, link and folder is as it was.

The commands run as subprocesses of this interpreter, on this checkout's code. The named cases are
the inputs of the issue (5: symlinks, devices, FIFOs; 6: tracebacks found by fuzzing); the Hypothesis
tests then mutate a manifest's bytes at random and check that `validate_tree` and `verify_site`
return problems and never raise.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import REPO, copy_records
from generator.digests import sha256_bytes, sha256_json
from generator.fsio import dump_json
from site_fixtures import BUILD_EPOCH, source_date_epoch

FOLDER = "SRCH-7AEAE763"  # the record each case is planted in; on the site it also has a correction
TIMEOUT = 60
MEMORY = 2 * 1024**3

SECRET_SIZE = 31337  # a distinctive size: the target's size must not appear in the output
# Shaped like the record (its id) so that code that followed the link would go on to hash it.
_PREFIX, _SUFFIX = b'{"record_id": "SRCH:7AEAE763", "secret": "s3cr3t-marker-', b'"}'
SECRET = _PREFIX + b"x" * (SECRET_SIZE - len(_PREFIX) - len(_SUFFIX)) + _SUFFIX


# --- planting a case -------------------------------------------------------------------------------


def _outside_secret(scratch: Path) -> Path:
    path = scratch / "outside" / "secret.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(SECRET)
    assert len(SECRET) == SECRET_SIZE and json.loads(SECRET)
    return path


def _replace(path: Path, make: Callable[[Path], None]) -> Path:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    make(path)
    return path


def symlink_to(target: str | Callable[[Path], Path]) -> Callable[[Path, Path], Path]:
    def plant(path: Path, scratch: Path) -> Path:
        to = target(scratch) if callable(target) else target
        return _replace(path, lambda p: os.symlink(to, p))
    return plant


def fifo(path: Path, scratch: Path) -> Path:
    return _replace(path, os.mkfifo)


def directory(path: Path, scratch: Path) -> Path:
    return _replace(path, lambda p: (p.mkdir(), (p / "inside.json").write_text("{}")))


def loop(path: Path, scratch: Path) -> Path:
    return _replace(path, lambda p: os.symlink(p.name, p))


def raw_value(value: bytes) -> Callable[[Path, Path], Path]:
    """The manifest with ``"aaa": value`` as its first member (the rest as published)."""
    def plant(path: Path, scratch: Path) -> Path:
        original = path.read_bytes()
        assert original.startswith(b"{\n")
        path.write_bytes(b'{\n  "aaa": ' + value + b",\n" + original[2:])
        return path
    return plant


def duplicate_key(path: Path, scratch: Path) -> Path:
    original = path.read_bytes()
    path.write_bytes(b'{\n  "contract": "a-second-contract",\n' + original[2:])
    return path


def edited(change: Callable[[dict], None]) -> Callable[[Path, Path], Path]:
    """The document with ``change`` applied, in the published layout (so only the types are wrong)."""
    def plant(path: Path, scratch: Path) -> Path:
        value = json.loads(path.read_bytes())
        change(value)
        path.write_text(dump_json(value), encoding="utf-8")
        return path
    return plant


def correction_of_lists(path: Path, scratch: Path) -> Path:
    """A correction whose fields and change entries are lists where objects and scalars belong."""
    correction = {
        "contract": "correction-record-v1", "record_id": ["SRCH:7AEAE763"], "sequence": [1], "type": ["correction"],
        "reason": ["x"], "by": "Editor", "at": "2026-11-22T12:00:00Z", "changes": [["/title", "old", "new"], [1, 2]],
        "status_before": ["CURRENT"], "status_after": "CORRECTED", "previous_sha256": "0" * 64, "sha256": "0" * 64,
    }
    return _replace(path, lambda p: p.write_text(dump_json(correction), encoding="utf-8"))


@dataclass(frozen=True)
class Case:
    name: str
    file: str  # relative to the record folder, or "/name" relative to the site's root
    plant: Callable[[Path, Path], Path]
    says: str  # what the error line naming the path says


MANIFEST, PROVENANCE, CORRECTION = "manifest.json", "provenance.json", "corrections/0001.json"

# Issue 5: what is not a regular file, where a record's file belongs.
FILE_CASES = [
    Case("manifest-symlink-outside", MANIFEST, symlink_to(_outside_secret), "symlink"),
    Case("manifest-symlink-dev-zero", MANIFEST, symlink_to("/dev/zero"), "symlink"),
    Case("manifest-symlink-dev-stdin", MANIFEST, symlink_to("/dev/stdin"), "symlink"),
    Case("artifact-fifo", PROVENANCE, fifo, "FIFO"),
    Case("manifest-directory", MANIFEST, directory, "folder"),
    Case("manifest-symlink-loop", MANIFEST, loop, "symlink"),
]
# Issue 6: JSON that parsed into values the code after it could not take.
JSON_CASES = [
    Case("nan", MANIFEST, raw_value(b"NaN"), "NaN"),
    Case("infinity", MANIFEST, raw_value(b"Infinity"), "Infinity"),
    Case("minus-infinity", MANIFEST, raw_value(b"[-Infinity]"), "Infinity"),
    Case("overflowing-float", MANIFEST, raw_value(b"1e400"), "overflows"),
    Case("5000-digit-integer", MANIFEST, raw_value(b"9" * 5000), "digits"),
    Case("huge-integer", MANIFEST, raw_value(str(2**64).encode()), "magnitude"),
    Case("lone-surrogate", MANIFEST, raw_value(b'"\\ud800"'), "surrogate"),
    Case("duplicate-key", MANIFEST, duplicate_key, "duplicate key"),
    Case("nested-10000-deep", MANIFEST, raw_value(b"[" * 10000 + b"]" * 10000), "nested deeper"),
    Case("artifacts-is-5", MANIFEST, edited(lambda m: m.update(artifacts=5)), "/artifacts"),
    Case("dates-is-a-string", MANIFEST, edited(lambda m: m.update(dates="x")), "/dates"),
    Case("correction-of-lists", CORRECTION, correction_of_lists, "is not of type"),
]
# The same, where `verify` reads without the record-level checks in front: the site's own files.
SITE_CASES = [
    Case("site-manifest-symlink-outside", "/site-manifest.json", symlink_to(_outside_secret), "symlink"),
    Case("log-symlink-dev-zero", "/log.jsonl", symlink_to("/dev/zero"), "symlink"),
    Case("checkpoint-symlink-dev-stdin", "/checkpoint", symlink_to("/dev/stdin"), "symlink"),
    Case("proofs-fifo", "proofs.json", fifo, "FIFO"),
    Case("correction-directory", CORRECTION, directory, "folder"),
    Case("correction-symlink-loop", CORRECTION, loop, "symlink"),
    Case("history-symlink-outside", "/checkpoints.json", symlink_to(_outside_secret), "symlink"),
    Case("page-fifo", "index.html", fifo, "FIFO"),
]


# --- running a command --------------------------------------------------------------------------------


def _snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root`` as it is, links and FIFOs included and never followed or opened."""
    out = {}
    for top, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(top) / name
            info = os.lstat(path)
            content = path.read_bytes() if path.is_file() and not path.is_symlink() else os.readlink(path) if path.is_symlink() else None
            out[str(path.relative_to(root))] = (info.st_mode, info.st_size, info.st_mtime_ns, content)
    return out


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_cli(args: list[str], cwd: Path) -> tuple[int, str]:
    """The CLI as a user runs it, on this checkout's code, with stdin a pipe that stays open."""
    read_end, write_end = os.pipe()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    try:
        done = subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, env=env, stdin=read_end,
                              capture_output=True, timeout=TIMEOUT, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`sovereign-publish {' '.join(args)}` still running after {TIMEOUT} s: it blocked on a file")
    finally:
        os.close(read_end)
        os.close(write_end)
    return done.returncode, done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")


def check_refused(args: list[str], root: Path, named: Path, says: str, scratch: Path) -> str:
    before = _snapshot(root)
    code, output = run_cli(args, scratch)
    assert "Traceback" not in output, output[-3000:]
    assert code in (1, 2), f"exit {code}: {output[-3000:]}"
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert errors, output[-3000:]
    assert any(str(named) in line and says in line for line in errors), \
        f"no error line names {named} with {says!r}:\n" + "\n".join(errors[:20])
    for leak in (sha256_bytes(SECRET), sha256_json(json.loads(SECRET)), str(SECRET_SIZE), "s3cr3t-marker"):
        assert leak not in output, f"the output shows {leak!r}, from a symlink's target"
    assert _snapshot(root) == before, "the command changed a file"
    assert not any(scratch.glob("*")) or sorted(p.name for p in scratch.iterdir()) == ["outside"], "the command wrote a file"
    return output


# --- validate ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", FILE_CASES + JSON_CASES, ids=lambda c: c.name)
def test_validate_refuses_by_path_with_no_traceback_no_leak_and_nothing_written(case, tmp_path):
    records = copy_records(tmp_path / "records")
    scratch = tmp_path / "cwd"
    scratch.mkdir()
    named = case.plant(records / FOLDER / case.file, scratch)
    check_refused(["validate", str(records)], records, named, case.says, scratch)


def test_validate_refuses_a_record_folder_or_log_that_is_a_symlink(tmp_path):
    records = copy_records(tmp_path / "records")
    scratch = tmp_path / "cwd"
    scratch.mkdir()
    outside = tmp_path / "elsewhere"
    shutil.copytree(records / FOLDER, outside)
    shutil.rmtree(records / FOLDER)
    os.symlink(outside, records / FOLDER)
    check_refused(["validate", str(records)], records, records / FOLDER, "symlink", scratch)

    shutil.move(str(records / "log.jsonl"), outside / "log.jsonl")
    os.symlink(outside / "log.jsonl", records / "log.jsonl")
    check_refused(["validate", str(records)], records, records / "log.jsonl", "symlink", scratch)


# --- verify --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A site of the shipped records, with one correction (so a record has a corrections folder)."""
    from generator.records.corrections import append_correction
    from generator.website.build import build_site

    root = tmp_path_factory.mktemp("strict-site")
    records = copy_records(root / "records")
    with source_date_epoch(BUILD_EPOCH):
        append_correction(records, "SRCH:7AEAE763", "editorial_note", "Checked again.", "Editor", [])
        build_site(records, root / "site", work_dir=root / "build")
    return root / "site"


def _site_path(site: Path, file: str) -> Path:
    return site / file[1:] if file.startswith("/") else site / "records" / FOLDER / file


@pytest.mark.parametrize("case", FILE_CASES + JSON_CASES + SITE_CASES, ids=lambda c: c.name)
def test_verify_refuses_by_path_with_no_traceback_no_leak_and_nothing_written(case, built, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(built, site, symlinks=True)
    scratch = tmp_path / "cwd"
    scratch.mkdir()
    named = case.plant(_site_path(site, case.file), scratch)
    check_refused(["verify", str(site)], site, named, case.says, scratch)


def test_the_built_site_verifies_before_any_case_is_planted(built, tmp_path):
    code, output = run_cli(["verify", str(built)], tmp_path)
    assert code == 0, output


# --- the readers themselves ---------------------------------------------------------------------------


def test_strict_json_takes_the_edges_of_what_it_allows_and_refuses_one_beyond():
    from generator.fsio import MAX_JSON_DEPTH, MAX_JSON_INTEGER, StrictJSONError, parse_json

    assert parse_json(f"[{MAX_JSON_INTEGER}, {-MAX_JSON_INTEGER}]".encode()) == [MAX_JSON_INTEGER, -MAX_JSON_INTEGER]
    assert parse_json(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH) is not None
    assert parse_json('["\\ud83d\\ude00", 1.5e300, "[[[["]'.encode()) == ["\U0001F600", 1.5e300, "[[[["]
    for beyond in (f"[{MAX_JSON_INTEGER + 1}]".encode(), b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),
                   '{"a": 1}'.encode("utf-16"), b'"\xff"', b'{"a": {"b": 1, "b": 1}}', b'{"\\udc80": 1}'):
        with pytest.raises(StrictJSONError):
            parse_json(beyond)


def test_a_file_over_its_limit_is_refused_without_reading_it_whole(tmp_path):
    from generator.fsio import UnreadableFile, read_regular_file

    path = tmp_path / "big"
    path.write_bytes(b"x" * 1001)
    assert read_regular_file(path, 1001) == b"x" * 1001
    with pytest.raises(UnreadableFile, match=r"big: larger than 1000 bytes"):
        read_regular_file(path, 1000)


# --- fuzzing ------------------------------------------------------------------------------------------

FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
INSERTS = [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"9" * 5000, b'"\\ud800"', b'"\\udfff"', b"[" * 10000, b"]" * 10000,
           b"{" * 3000, b'"contract": "x", ', b'"artifacts": 5, ', b'"dates": "x", ', b"null", b"[]", b"{}", b"\x00", b"\xff\xfe",
           b'"', b"\\", b",", b":", b'"record_id": ["SRCH:7AEAE763"], ', str(2**53).encode(), b"-0", b"1e-400", b"\xed\xa0\x80"]

mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.sampled_from(range(len(INSERTS)))),
    st.tuples(st.just("bytes"), st.integers(0, 10**6), st.binary(min_size=1, max_size=8)),
)


def _mutate(data: bytes, mutations: list[tuple]) -> bytes:
    for kind, position, arg in mutations:
        at = position % (len(data) + 1)
        if kind == "flip" and data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([data[at] ^ arg]) + data[at + 1:]
        elif kind == "truncate":
            data = data[:at]
        elif kind == "insert":
            data = data[:at] + INSERTS[arg] + data[at:]
        elif kind == "bytes":
            data = data[:at] + arg + data[at:]
    return data


@pytest.fixture(scope="module")
def fuzz_records(tmp_path_factory) -> Path:
    return copy_records(tmp_path_factory.mktemp("fuzz") / "records", FOLDER)


@FUZZ
@given(mutations=st.lists(mutation, min_size=1, max_size=3))
def test_validate_tree_returns_problems_and_never_raises_on_a_mutated_manifest(fuzz_records, mutations):
    from generator.records.validate import validate_tree

    path = fuzz_records / FOLDER / MANIFEST
    original = path.read_bytes()
    mutated = _mutate(original, mutations)
    assume(mutated != original)
    try:
        path.write_bytes(mutated)
        _, problems = validate_tree(fuzz_records)
    finally:
        path.write_bytes(original)
    assert problems


@settings(FUZZ, max_examples=100)
@given(mutations=st.lists(mutation, min_size=1, max_size=3), which=st.sampled_from([MANIFEST, CORRECTION, "proofs.json", "/log.jsonl",
                                                                                     "/site-manifest.json", "/checkpoints.json", "/checkpoint"]))
def test_verify_site_returns_problems_and_never_raises_on_a_mutated_file(built, mutations, which):
    from generator.transparency.verify import verify_site

    path = _site_path(built, which)
    original = path.read_bytes()
    mutated = _mutate(original, mutations)
    assume(mutated != original)
    try:
        path.write_bytes(mutated)
        problems = verify_site(built).problems
    finally:
        path.write_bytes(original)
    # Every file but the history is bound to the checkpoint, byte for byte; of the history only the
    # notes and proofs are checked, so a changed byte elsewhere in it need not be a problem.
    assert problems or which == "/checkpoints.json"
