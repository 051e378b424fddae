"""The one owner of a record's on-disk shape, in the records folder and in the built site.

records/
  log.jsonl                      the publication log: one line per event, in the order published
  SRCH-XXXXXXXX/                 one folder per record (``folder_name``)
    manifest.json                the manifest (log sequence 0)
    provenance.json, report.*    artifacts, each listed in the manifest with its sha256 and size
    corrections/0001.json, ...   appended corrections (log sequence 1, 2, ...)

site/
  records/SRCH-XXXXXXXX/         the record's page (index.html) and its files, mirrored byte for byte,
                                 plus folded.json (values with corrections applied) and proofs.json
  log.jsonl                      the publication log, byte for byte
  checkpoint                     the latest signed checkpoint (C2SP tlog-checkpoint signed note)
  checkpoints.json               every earlier checkpoint and the consistency proof to the next one
  site-manifest.json             the sha256 of every other file of the site

Every module that names one of these files takes the name from here, and reads them through
``read_record`` and ``artifact_problems`` (which read through ``generator.fsio``): a record folder
holds only regular files and folders; a symlink, device, FIFO or socket is refused by path, never
followed, and every file is read with a size bound (``fsio.MAX_DOCUMENT_BYTES`` for the JSON
documents, ``fsio.MAX_ARTIFACT_BYTES`` for an artifact).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from generator.digests import sha256_bytes
from generator.errors import Problem
from generator.fsio import MAX_ARTIFACT_BYTES, MissingFile, UnreadableFile, file_kind, read_json_object, read_regular_file

MANIFEST_FILE = "manifest.json"
PROVENANCE_FILE = "provenance.json"
CORRECTIONS_DIR = "corrections"
LOG_FILE = "log.jsonl"

# The built site.
SITE_RECORDS_DIR = "records"
FOLDED_FILE = "folded.json"
PROOFS_FILE = "proofs.json"
CHECKPOINT_FILE = "checkpoint"
HISTORY_FILE = "checkpoints.json"
SITE_MANIFEST_FILE = "site-manifest.json"
INDEX_JSON = "index.json"
FEED_FILE = "corrections.xml"
# Site files that the site manifest cannot list: it names them (they are checked by signature and proof).
UNLISTED_SITE_FILES = (CHECKPOINT_FILE, HISTORY_FILE, SITE_MANIFEST_FILE)

# Names in a record folder that the record's own files may never take: ours, or the page's.
RESERVED_NAMES = frozenset({MANIFEST_FILE, CORRECTIONS_DIR, FOLDED_FILE, PROOFS_FILE, "index.html", "index.md"})


def folder_name(record_id: str) -> str:
    """``SRCH:93BD3EF3`` -> ``SRCH-93BD3EF3`` (a colon is not portable in file names or URLs)."""
    return record_id.replace(":", "-")


def correction_name(sequence: int) -> str:
    return f"{sequence:04d}.json"


def entry_file(sequence: int) -> str:
    """The path, inside a record folder, of log sequence ``sequence``: 0 the manifest, then the corrections."""
    return MANIFEST_FILE if sequence == 0 else f"{CORRECTIONS_DIR}/{correction_name(sequence)}"


def record_url_path(record_id: str) -> str:
    """The record's folder on the site, relative to the site root, with a final slash."""
    return f"{SITE_RECORDS_DIR}/{folder_name(record_id)}/"


@dataclass
class RecordFiles:
    """One record folder as read from disk: the parsed JSON, and what was wrong reading it."""

    folder: Path
    manifest: dict | None = None
    provenance: dict | None = None
    corrections: list[tuple[Path, dict]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Set by whoever checks the documents against their schemas: a document failed, so the checks that
    # index into its values (rules, correction chain, log cross-check) are skipped; its problems are reported.
    schema_failed: bool = False

    @property
    def record_id(self) -> str | None:
        return (self.manifest or {}).get("record_id")

    @property
    def correction_entries(self) -> list[dict]:
        return [entry for _, entry in self.corrections]


def _lstat_mode(path: Path) -> int | None:
    """The ``st_mode`` of ``path`` itself (a symlink is not followed), or None when nothing is there."""
    try:
        return os.lstat(path).st_mode
    except (OSError, ValueError):
        return None


def read_record(folder: Path, *, altered: str | None = None) -> RecordFiles:
    """Parse a record folder; with ``altered``, a file not in the published byte layout is also a problem.

    Nothing is followed through a symlink: a record folder, its ``corrections`` folder or any file
    in them that is a symlink, device, FIFO or socket is a problem naming the path.
    """
    folder = Path(folder)
    record = RecordFiles(folder=folder)
    mode = _lstat_mode(folder)
    if mode is None or not stat.S_ISDIR(mode):
        what = "it is missing" if mode is None else f"it is {file_kind(mode)}"
        record.problems.append(Problem(str(folder), "", f"expected a record folder, {what}: records hold only regular files and folders"))
        return record
    record.manifest = read_json_object(folder / MANIFEST_FILE, record.problems, altered=altered)
    provenance = folder / PROVENANCE_FILE
    if _lstat_mode(provenance) is not None or altered is not None:
        record.provenance = read_json_object(provenance, record.problems, altered=altered)
    corrections_dir = folder / CORRECTIONS_DIR
    mode = _lstat_mode(corrections_dir)
    if mode is not None and not stat.S_ISDIR(mode):
        record.problems.append(Problem(str(corrections_dir), "", f"expected a folder of corrections, it is {file_kind(mode)}"))
    elif mode is not None:
        for path in sorted(corrections_dir.iterdir()):
            if path.name.startswith("."):
                continue
            value = read_json_object(path, record.problems, altered=altered)
            if value is not None:
                record.corrections.append((path, value))
    return record


def record_folders(path: Path) -> list[Path]:
    """The record folders at ``path``: the folder itself if it is one record, else every entry in it
    but the log, hidden names and regular files; so a symlink or device where a record folder could be
    is returned too, for ``read_record`` to refuse by name."""
    from generator.errors import InputError

    path = Path(path)
    if not path.is_dir():
        raise InputError(f"{path}: no such records folder")
    if os.path.lexists(path / MANIFEST_FILE):
        return [path]
    return sorted(p for p in path.iterdir()
                  if not p.name.startswith(".") and p.name != LOG_FILE and not stat.S_ISREG(_lstat_mode(p) or stat.S_IFREG))


def artifact_problems(folder: Path, manifest: dict) -> list[Problem]:
    """Every artifact the manifest lists must be a regular file in ``folder`` with the stated digest and
    size. Safe on any JSON: a manifest whose ``artifacts`` is not a list of objects is a problem too."""
    manifest_file = str(Path(folder) / MANIFEST_FILE)
    artifacts = manifest.get("artifacts", [])
    if not isinstance(artifacts, list):
        return [Problem(manifest_file, "/artifacts", "expected a list of artifacts")]
    problems = []
    for index, artifact in enumerate(artifacts):
        if not isinstance(artifact, dict):
            problems.append(Problem(manifest_file, f"/artifacts/{index}", "expected an artifact object"))
            continue
        name = artifact.get("path", "")
        if (not isinstance(name, str) or not name or name in RESERVED_NAMES or "/" in name or "\0" in name
                or name.startswith(".")):
            problems.append(Problem(manifest_file, f"/artifacts/{index}/path", f"artifact name {name!r} is reserved or not a plain file name"))
            continue
        path = Path(folder) / name
        try:
            data = read_regular_file(path, MAX_ARTIFACT_BYTES)
        except MissingFile:
            problems.append(Problem(manifest_file, f"/artifacts/{index}/path", f"artifact {name!r} does not exist"))
            continue
        except UnreadableFile as exc:
            problems.append(exc.problem())
            continue
        if sha256_bytes(data) != artifact.get("sha256"):
            problems.append(Problem(manifest_file, f"/artifacts/{index}/sha256", f"digest does not match {name}: expected {artifact.get('sha256')}, file has {sha256_bytes(data)}"))
        if len(data) != artifact.get("bytes"):
            problems.append(Problem(manifest_file, f"/artifacts/{index}/bytes", f"size does not match {name}: expected {artifact.get('bytes')}, file has {len(data)}"))
    return problems


def published_files(manifest: dict, corrections: list[dict]) -> list[str]:
    """The record's own files as published, relative to its folder: manifest, artifacts, corrections."""
    names = [MANIFEST_FILE, *(a["path"] for a in manifest.get("artifacts", []))]
    names += [entry_file(entry["sequence"]) for entry in corrections]
    return names
