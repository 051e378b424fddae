"""Records on disk: one folder per record under records/<SRCH-XXXXXXXX>/, never rewritten once published.

Publishing writes the folder, then logs the event in records/log.jsonl (see ``generator.records.log``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path

from generator.errors import InputError, ValidationFailed
from generator.fsio import MAX_ARTIFACT_BYTES, UnreadableFile, read_regular_file
from generator.records import gate, log, versions
from generator.records.compose import Synthesis, compose_record
from generator.records.layout import MANIFEST_FILE, folder_name

DEFAULT_RECORDS_DIR = Path("records")


def write_new_record(records_dir: Path, record_id: str, files: dict[str, bytes]) -> tuple[Path, bool]:
    """Publish a record folder atomically and log it; returns (folder, written).

    An existing folder with the same bytes is left alone (importing twice is harmless); one with
    different bytes is refused, because published files are never rewritten.
    """
    folder = Path(records_dir) / folder_name(record_id)
    if os.path.lexists(folder):
        differing = _differing(folder, files)
        if differing:
            raise InputError(
                f"{folder}: record {record_id} is already published and differs in {', '.join(differing)}; "
                "published files are never rewritten (append a correction with `sovereign-publish correct`)"
            )
        return folder, False
    problems = gate.record_problems(files, f"record {record_id}")
    manifest = json.loads(files[MANIFEST_FILE]) if not problems else None
    if manifest is not None:
        problems += gate.version_problems(records_dir, manifest, f"record {record_id} {MANIFEST_FILE}")
    if problems:
        raise ValidationFailed(problems)  # nothing is ever written that `validate` would reject
    log.check_can_append(records_dir, log.event_time(manifest, 0), f"record {record_id}")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        os.chmod(staging, 0o755)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.append_events(records_dir, [(record_id, 0, manifest)])
    return folder, True


@dataclasses.dataclass(frozen=True)
class Published:
    record_id: str
    folder: Path
    written: bool
    new_version_of: str | None = None  # the record this one is a new version of


def publish_version(records_dir: Path, synthesis: Synthesis) -> Published:
    """Publish a run: a new record, or a new version of the latest record of the same question, or nothing.

    A run whose files equal a published version of its question (same inputs, same SOURCE_DATE_EPOCH)
    is already published: nothing is written. Otherwise, if the question about this paper was published
    before, the run becomes a new version of the latest version (``versions``); the earlier records stay
    as published.
    """
    first = compose_record(dataclasses.replace(synthesis, new_version_of=None))
    line = versions.latest_versions(records_dir, json.loads(first[MANIFEST_FILE])["record_id"])
    files, previous = first, None
    for manifest in line:
        if previous is not None:
            files = compose_record(dataclasses.replace(synthesis, new_version_of=previous))
        folder = Path(records_dir) / folder_name(manifest["record_id"])
        if json.loads(files[MANIFEST_FILE])["record_id"] == manifest["record_id"] and not _differing(folder, files):
            return Published(manifest["record_id"], folder, False, versions.previous_id(manifest))
        previous = versions.reference(manifest)
    if previous is not None:
        files = compose_record(dataclasses.replace(synthesis, new_version_of=previous))
    record_id = json.loads(files[MANIFEST_FILE])["record_id"]
    folder, written = write_new_record(records_dir, record_id, files)
    return Published(record_id, folder, written, previous.record_id if previous else None)


def _differing(folder: Path, files: dict[str, bytes]) -> list[str]:
    return sorted(name for name, data in files.items() if _published_bytes(folder / name) != data)


def _published_bytes(path: Path) -> bytes | None:
    try:
        return read_regular_file(path, MAX_ARTIFACT_BYTES)
    except UnreadableFile:
        return None


def find_record(records_dir: Path, record_id: str) -> Path:
    folder = Path(records_dir) / folder_name(record_id)
    if not (folder / MANIFEST_FILE).is_file():
        raise InputError(f"unknown record {record_id}: {folder / MANIFEST_FILE} does not exist")
    return folder
