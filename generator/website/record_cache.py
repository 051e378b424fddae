"""An incremental build, before MkDocs: each record's validated form and generated files, reused.

Validating a record and generating its files (page, ``folded.json``, citation files) is a function of
the record folder's bytes and the toolchain (the generator's code, the schemas, MkDocs and its
packages, ``mkdocs.yml``, the hand-written docs: ``page_cache.toolchain_digest``). The generated
files also depend on two things from outside the folder: whether a newer version of the record
exists, and the configured publisher. So an entry is keyed by the SHA-256 of every file in the record
folder (names and bytes, ``files_digest``) under the toolchain's folder, and holds:

* the record as ``validate_record`` read and checked it, with its view (``RecordFiles.derived``), and
* the generated files, with the outside inputs they were made from (``context``).

A build looks each record folder up by its digest: a hit skips reading, validating and folding it;
a generated-files hit with the same context skips rendering. The checks across records (duplicate
ids, the publication log, version links, the Merkle proofs) run on every build. Only records that
passed every check of their own are stored, so a hit can never hide a problem: a changed byte is a
different key, and an invalid record is validated (and reported) every time.

Entries are pickles, written once (temporary file, then rename). A cache is trusted like the code
that reads it: restore one only from a source as trusted as the checkout (the deploy workflow builds
with ``--no-cache``, and ``verify --rebuild`` rebuilds a served site without one and compares every byte).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
from dataclasses import dataclass, field
from pathlib import Path

from generator.records.layout import CORRECTIONS_DIR, RecordFiles

ENTRY_SUFFIX = ".pickle"


def files_digest(folder: Path) -> str | None:
    """The SHA-256 of a record folder: every name (sorted) and the bytes of every file, one level of
    subfolders deep. None when the folder holds anything but regular files and folders (a symlink, a
    device), or a deeper folder: such a folder is always validated, never cached."""
    digest = hashlib.sha256(b"sovereign-publish record files v1\0")
    try:
        if not _add_folder(digest, Path(folder), "", depth=1):
            return None
    except OSError:
        return None
    return digest.hexdigest()


def _add_folder(digest, folder: Path, prefix: str, depth: int) -> bool:
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            mode = entry.stat(follow_symlinks=False).st_mode
            name = f"{prefix}{entry.name}"
            if stat.S_ISREG(mode):
                with open(entry.path, "rb") as handle:
                    data = handle.read()
                digest.update(b"F" + name.encode("utf-8", "surrogateescape") + b"\0" + len(data).to_bytes(8, "big") + data)
            elif stat.S_ISDIR(mode) and depth > 0:
                digest.update(b"D" + name.encode("utf-8", "surrogateescape") + b"\0")
                if not _add_folder(digest, Path(entry.path), f"{name}/", depth - 1):
                    return False
            else:
                return False
    return True


@dataclass
class Entry:
    record: RecordFiles
    context: str | None = None  # the outside inputs ``outputs`` were generated from
    outputs: dict[str, bytes] = field(default_factory=dict)  # path in the record's site folder -> bytes


@dataclass
class RecordCache:
    """The entries of one toolchain: ``<root>/<toolchain>/records/<files digest>.pickle``."""

    folder: Path

    @classmethod
    def open(cls, root: Path, toolchain: str) -> "RecordCache":
        folder = Path(root) / toolchain / "records"
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder)

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}{ENTRY_SUFFIX}"

    def load(self, key: str, folder: Path) -> Entry | None:
        """The entry of ``key``, its paths moved to where the record is now (``folder``); None on a miss
        or an entry this code cannot read (it is then replaced)."""
        try:
            with open(self._path(key), "rb") as handle:
                context, outputs = pickle.load(handle)
                record = pickle.load(handle)
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001 - a truncated or foreign entry is a miss, never an error
            return None
        if not isinstance(record, RecordFiles) or not isinstance(outputs, dict):
            return None
        record.folder = Path(folder)
        record.corrections = [(Path(folder) / CORRECTIONS_DIR / path.name, value) for path, value in record.corrections]
        record.files_digest = key
        record.from_cache = True
        return Entry(record, context, outputs)

    def load_outputs(self, key: str, context: str) -> dict[str, bytes] | None:
        """Only the generated files of ``key``, when they were made from ``context`` (the entry's first part)."""
        try:
            with open(self._path(key), "rb") as handle:
                stored, outputs = pickle.load(handle)
        except Exception:  # noqa: BLE001 - missing, truncated or foreign: a miss
            return None
        return outputs if stored == context and isinstance(outputs, dict) else None

    def store(self, key: str, entry: Entry) -> None:
        """Write ``entry`` as two pickles, the generated files first (what a build that only renders reads)."""
        entry.record.from_cache = False
        temporary = self.folder / f".{key}.{os.getpid()}.tmp"
        with open(temporary, "wb") as handle:
            pickle.dump((entry.context, entry.outputs), handle, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(entry.record, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, self._path(key))

    def keep_only(self, keys: set[str]) -> int:
        """Delete every entry not in ``keys`` (records changed or removed since); returns how many."""
        wanted = {f"{key}{ENTRY_SUFFIX}" for key in keys}
        removed = 0
        with os.scandir(self.folder) as entries:
            for entry in entries:
                if entry.name not in wanted:
                    os.unlink(entry.path)
                    removed += 1
        return removed
