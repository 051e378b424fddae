"""Reruns as new versions (DataCite IsNewVersionOf / IsPreviousVersionOf; Crossmark's "a newer version exists").

A published record is never edited, so running a question again publishes a new record whose manifest
names the one before it in ``is_new_version_of`` (its id and its manifest's ``sha256``). The earlier
record learns of its newer version only on the site, where the relation is derived when the site is
built (``newer_versions``).

A new version's id is derived from the question, target and origin, as a first version's is, plus the
id of the record it follows (``compose.derive_record_id``): deterministic, checkable from the manifest
alone, and two different reruns of the same record take the same id, so versions form a line.

The relation is sound when (the write path checks it before writing, `validate` and `verify` over the tree):

* the named record is published, and its manifest has the ``sha256`` the link names;
* it answers the same research question (whitespace-normalised) about the same target paper (arXiv id
  without version), from the same origin format;
* it was published earlier in the log (so no chain of versions can loop back on itself);
* it has no other newer version: each record has at most one, the earliest published.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from generator.errors import InputError, Problem
from generator.fsio import read_json_object
from generator.records.compose import VersionRef, derive_record_id
from generator.records.layout import MANIFEST_FILE, RecordFiles, folder_name

RELATION = "is_new_version_of"
ID_POINTER = f"/{RELATION}/record_id"
DIGEST_POINTER = f"/{RELATION}/sha256"


def previous_id(manifest: dict) -> str | None:
    """The id of the record ``manifest`` is a new version of, or None for a first version."""
    link = manifest.get(RELATION)
    return link.get("record_id") if isinstance(link, dict) and isinstance(link.get("record_id"), str) else None


def next_version_id(manifest: dict) -> str:
    """The id a new version of this published record takes (the id rule, with this record as the one before)."""
    return derive_record_id(manifest["research_question"], manifest["target_paper"]["arxiv_id"],
                            manifest["origin"]["format"], manifest["record_id"])


def reference(manifest: dict) -> VersionRef:
    """The link a new version of this published record carries."""
    return VersionRef(manifest["record_id"], manifest["sha256"])


def newer_versions(manifests: Iterable[dict]) -> dict[str, str]:
    """previous id -> the id of its newer version, for a validated tree (at most one each)."""
    out: dict[str, str] = {}
    for manifest in manifests:
        previous = previous_id(manifest)
        if previous is not None:
            out.setdefault(previous, manifest["record_id"])
    return out


def _question(manifest: dict) -> str | None:
    question = manifest.get("research_question")
    return " ".join(question.split()) if isinstance(question, str) else None


def _get(values: dict, *path: str):
    for key in path:
        values = values.get(key) if isinstance(values, dict) else None
    return values


def pair_problems(file: str, manifest: dict, previous: dict) -> list[Problem]:
    """What is wrong with ``manifest`` being a new version of the published ``previous`` (both schema-valid;
    each a manifest or its outline, ``layout.outline_of``, which holds every field read here)."""
    prev_id = previous.get("record_id")
    problems = []
    if _get(manifest, RELATION, "sha256") != previous.get("sha256"):
        problems.append(Problem(file, DIGEST_POINTER, f"{prev_id}'s manifest has sha256 {previous.get('sha256')}: "
                                                      "the link must name the record exactly as published"))
    if _question(manifest) != _question(previous):
        problems.append(Problem(file, "/research_question", f"a new version answers the same research question as "
                                                            f"{prev_id}, which asks {previous.get('research_question')!r}"))
    if _get(manifest, "target_paper", "arxiv_id") != _get(previous, "target_paper", "arxiv_id"):
        problems.append(Problem(file, "/target_paper/arxiv_id", f"a new version is about the same paper as {prev_id}, "
                                                                f"arXiv {_get(previous, 'target_paper', 'arxiv_id')}"))
    if _get(manifest, "origin", "format") != _get(previous, "origin", "format"):
        problems.append(Problem(file, "/origin/format", f"a new version comes from the same origin format as {prev_id}, "
                                                        f"{_get(previous, 'origin', 'format')!r}"))
    return problems


def tree_problems(records: list[RecordFiles], entries: list, failed: frozenset[str] = frozenset()) -> list[Problem]:
    """Every unsound version relation among ``records`` (schema-valid ones), judged by the log ``entries``.

    ``failed`` holds ids of records reported already (schema failures): a link to one is not called dangling.
    """
    by_id = {r.record_id: r for r in records if isinstance(r.record_id, str) and r.outline is not None}
    logged = {e.record_id: e.index for e in entries if e.sequence == 0}
    unlogged = len(entries)  # records missing from the log sort last (log_problems reports them)
    order = sorted(by_id.values(), key=lambda r: (logged.get(r.record_id, unlogged), r.record_id))
    problems: list[Problem] = []
    newer: dict[str, str] = {}
    for record in order:
        previous = previous_id(record.outline)
        if previous is None:
            continue
        file = str(record.folder / MANIFEST_FILE)
        if previous == record.record_id:
            problems.append(Problem(file, ID_POINTER, "a record cannot be a new version of itself"))
            continue
        if previous not in by_id:
            if previous not in failed:
                problems.append(Problem(file, ID_POINTER, f"names {previous} as the record this is a new version of, "
                                                          "but no such record is published"))
            continue
        problems += pair_problems(file, record.outline, by_id[previous].outline)
        here, there = logged.get(record.record_id), logged.get(previous)
        if here is not None and there is not None and there > here:
            problems.append(Problem(file, ID_POINTER, f"{previous} is published after this record (log line {there + 1}, "
                                                      f"this record line {here + 1}): a new version follows the record it replaces"))
        if previous in newer:
            problems.append(Problem(file, ID_POINTER, f"{previous} already has a newer version, {newer[previous]}; "
                                                      "a new version continues the latest version"))
        else:
            newer[previous] = record.record_id
    problems += _cycle_problems(by_id)
    return problems


def _cycle_problems(by_id: dict[str, RecordFiles]) -> list[Problem]:
    """Each loop of version links once, named at its smallest id (log order rules them out; this names them
    even where the log cannot be read)."""
    problems, reported = [], set()
    for start in sorted(by_id):
        path, current = [start], previous_id(by_id[start].outline)
        while current in by_id and current not in path and current not in reported:
            path.append(current)
            current = previous_id(by_id[current].outline)
        if current == start and len(path) > 1 and start == min(path):
            reported.update(path)
            problems.append(Problem(str(by_id[start].folder / MANIFEST_FILE), ID_POINTER,
                                    "version links form a cycle: " + " -> ".join([*path, start])))
    return problems


def latest_versions(records_dir: Path, first_id: str) -> list[dict]:
    """The published manifests of the line of versions that starts at ``first_id``, oldest first ([] if unpublished).

    Each next version's id follows from the one before, so the line is found by following the id rule."""
    out: list[dict] = []
    record_id = first_id
    while True:
        path = Path(records_dir) / folder_name(record_id) / MANIFEST_FILE
        if not path.exists():
            return out
        found: list[Problem] = []
        manifest = read_json_object(path, found)
        if found or manifest is None:
            raise InputError("\n".join(str(p) for p in found) or f"{path}: not a manifest")
        expected = out[-1]["record_id"] if out else None
        if manifest.get("record_id") != record_id or previous_id(manifest) != expected:
            raise InputError(f"{path}: does not continue the versions of {first_id} (run `sovereign-publish validate`)")
        out.append(manifest)
        record_id = next_version_id(manifest)
