"""Records on disk: one folder per record under records/<SRCH-XXXXXXXX>/, never rewritten once published."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import InputError, Problem
from generator.fsio import read_json_object
from generator.records.compose import CORRECTIONS_DIR, MANIFEST_FILE, PROVENANCE_FILE, record_folder_name

DEFAULT_RECORDS_DIR = Path("records")


@dataclass
class RecordFiles:
    """One record folder as read from disk: parsed JSON plus the raw bytes the digests are checked on."""

    folder: Path
    manifest: dict | None = None
    provenance: dict | None = None
    corrections: list[tuple[Path, dict]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def record_id(self) -> str | None:
        return (self.manifest or {}).get("record_id")


def write_new_record(records_dir: Path, record_id: str, files: dict[str, bytes]) -> tuple[Path, bool]:
    """Publish a record folder atomically; returns (folder, written).

    An existing folder with the same bytes is left alone (importing twice is harmless); one with
    different bytes is refused, because published files are never rewritten.
    """
    folder = Path(records_dir) / record_folder_name(record_id)
    if folder.exists():
        differing = sorted(name for name, data in files.items()
                           if not (folder / name).is_file() or (folder / name).read_bytes() != data)
        if differing:
            raise InputError(
                f"{folder}: record {record_id} is already published and differs in {', '.join(differing)}; "
                "published files are never rewritten (append a correction with `sovereign-publish correct`)"
            )
        return folder, False
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder, True


def read_record(folder: Path, *, altered: str | None = None) -> RecordFiles:
    """Parse a record folder; with ``altered``, a file not in the published layout is also a problem."""
    record = RecordFiles(folder=folder)
    record.manifest = read_json_object(folder / MANIFEST_FILE, record.problems, altered=altered)
    record.provenance = read_json_object(folder / PROVENANCE_FILE, record.problems, altered=altered)
    corrections_dir = folder / CORRECTIONS_DIR
    if corrections_dir.is_dir():
        for path in sorted(corrections_dir.iterdir()):
            if path.name.startswith("."):
                continue
            value = read_json_object(path, record.problems, altered=altered)
            if value is not None:
                record.corrections.append((path, value))
    return record


def record_folders(path: Path) -> list[Path]:
    """The record folders at ``path``: the folder itself if it is one record, else its sub-folders."""
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"{path}: no such records folder")
    if (path / MANIFEST_FILE).exists():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))


def find_record(records_dir: Path, record_id: str) -> Path:
    folder = Path(records_dir) / record_folder_name(record_id)
    if not (folder / MANIFEST_FILE).is_file():
        raise InputError(f"unknown record {record_id}: {folder / MANIFEST_FILE} does not exist")
    return folder
