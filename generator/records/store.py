"""Records on disk: one folder per record under records/<SRCH-XXXXXXXX>/, never rewritten once published.

Publishing writes the folder, then logs the event in records/log.jsonl (see ``generator.records.log``).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from generator.errors import InputError, ValidationFailed
from generator.fsio import MAX_ARTIFACT_BYTES, UnreadableFile, read_regular_file
from generator.records import gate, log
from generator.records.layout import MANIFEST_FILE, folder_name

DEFAULT_RECORDS_DIR = Path("records")


def write_new_record(records_dir: Path, record_id: str, files: dict[str, bytes]) -> tuple[Path, bool]:
    """Publish a record folder atomically and log it; returns (folder, written).

    An existing folder with the same bytes is left alone (importing twice is harmless); one with
    different bytes is refused, because published files are never rewritten.
    """
    folder = Path(records_dir) / folder_name(record_id)
    if os.path.lexists(folder):
        differing = sorted(name for name, data in files.items() if _published_bytes(folder / name) != data)
        if differing:
            raise InputError(
                f"{folder}: record {record_id} is already published and differs in {', '.join(differing)}; "
                "published files are never rewritten (append a correction with `sovereign-publish correct`)"
            )
        return folder, False
    problems = gate.record_problems(files, f"record {record_id}")
    if problems:
        raise ValidationFailed(problems)  # nothing is ever written that `validate` would reject
    manifest = json.loads(files[MANIFEST_FILE])
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
