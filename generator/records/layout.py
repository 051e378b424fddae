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

import json
import os
import stat
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

import orjson

from generator import fsio
from generator.digests import sha256_bytes
from generator.errors import Problem
from generator.fsio import (MAX_ARTIFACT_BYTES, MAX_DOCUMENT_BYTES, MAX_JSON_DEPTH, MissingFile, UnreadableFile, file_kind,
                            read_json_object, read_regular_file)

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


# The manifest fields that checks across records read (the log cross-check, version links, the site's
# newer-version links): a record sent back from a worker carries these, a tenth of its manifest.
OUTLINE_FIELDS = ("record_id", "sha256", "research_question", "is_new_version_of", ("dates", "recorded"),
                  ("target_paper", "arxiv_id"), ("origin", "format"))


def outline_of(manifest: dict) -> dict:
    """The ``OUTLINE_FIELDS`` of ``manifest`` (any JSON object), nested as in the manifest; a field it
    lacks is left out, as it is missing there."""
    outline: dict = {}
    for name in OUTLINE_FIELDS:
        if isinstance(name, str):
            if name in manifest:
                outline[name] = manifest[name]
        elif isinstance(inner := manifest.get(name[0]), dict) and name[1] in inner:
            outline[name[0]] = {name[1]: inner[name[1]]}
    return outline


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
    # The sha256 and size of files read already, by name in the folder (provenance.json, which the manifest
    # also lists as an artifact): the artifact check uses them instead of reading the same bytes again.
    read_files: dict[str, tuple[str, int]] = field(default_factory=dict, repr=False, compare=False)
    # What a caller derived from a valid record in the same pass (the site's page text): a pooled pass
    # then reads, checks and renders each record once, in one worker (``validate_tree(then=...)``).
    derived: Any = field(default=None, repr=False, compare=False)
    # The SHA-256 of the RFC 8785 form of each document by its log sequence (0 the manifest), computed by
    # the worker that read them, so the log cross-check in the parent does not hash every document again.
    log_digests: dict[int, str] = field(default_factory=dict, repr=False, compare=False)
    # The digest of every file of the folder, when a caller computed it (the build's record cache key).
    files_digest: str | None = field(default=None, repr=False, compare=False)
    from_cache: bool = field(default=False, repr=False, compare=False)  # validated by an earlier build (record_cache)
    # What `validate_tree`'s workers keep of the manifest when they send the record back without it
    # (``outline_of``); None while the record holds its manifest.
    kept_outline: dict | None = field(default=None, repr=False, compare=False)

    @property
    def outline(self) -> dict | None:
        """The manifest's fields that checks across records read (``OUTLINE_FIELDS``), in the manifest's
        shape: the manifest itself where the record holds it, else the outline kept of it."""
        return self.manifest if self.manifest is not None else self.kept_outline

    @property
    def record_id(self) -> str | None:
        return (self.outline or {}).get("record_id")

    @property
    def correction_entries(self) -> list[dict]:
        return [entry for _, entry in self.corrections]


def _lstat_mode(path: Path | str) -> int | None:
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
    base = os.fspath(folder)  # file names are joined as strings: pathlib cost a tenth of `validate`
    mode = _lstat_mode(base)
    if mode is None or not stat.S_ISDIR(mode):
        what = "it is missing" if mode is None else f"it is {file_kind(mode)}"
        record.problems.append(Problem(base, "", f"expected a record folder, {what}: records hold only regular files and folders"))
        return record
    # Published files (``altered``) are read by the fast path for the published layout, which falls back
    # to fsio's strict reader for anything it does not accept; other reads go to fsio directly.
    read = read_json_object if altered is None else _read_published
    record.manifest = read(f"{base}/{MANIFEST_FILE}", record.problems, altered=altered)
    provenance = f"{base}/{PROVENANCE_FILE}"
    if altered is not None:
        record.provenance = _read_published(provenance, record.problems, altered=altered, digests=record.read_files)
    elif _lstat_mode(provenance) is not None:
        record.provenance = read_json_object(provenance, record.problems)
    corrections_dir = f"{base}/{CORRECTIONS_DIR}"
    mode = _lstat_mode(corrections_dir)
    if mode is not None and not stat.S_ISDIR(mode):
        record.problems.append(Problem(corrections_dir, "", f"expected a folder of corrections, it is {file_kind(mode)}"))
    elif mode is not None:
        for name in sorted(os.listdir(corrections_dir)):
            if name.startswith("."):
                continue
            path = folder / CORRECTIONS_DIR / name
            value = read(path, record.problems, altered=altered)
            if value is not None:
                record.corrections.append((path, value))
    return record


# --- the published layout, checked fast -------------------------------------------------------------
#
# `validate` (and `verify`) read every document with ``altered``: its bytes must be exactly
# ``fsio.dump_json`` of its value. ``fsio.read_json_object`` checks that with the strict parser (a
# Python hook per object and a walk over every value) and ``dump_json`` (the pure-Python encoder, as
# ``indent`` disables the C one): two thirds of `validate`'s time at 10,000 records. A file in the
# published layout needs neither: ``_read_published`` parses it with the C parser (numbers through
# fsio's own strict hooks) and compares it with ``_published_text``, an encoder equal to ``dump_json``
# for every value JSON text parses to. Only a file that passes every test below is accepted this way;
# anything else (not UTF-8, not parsed, not an object, not in the layout, nested near the depth limit)
# is read again by ``fsio.read_json_object``, which reports exactly what it always did.
#
# Equal to dump_json, the text also has what the strict parser would require: a duplicate key, a lone
# surrogate (an escape dump_json never writes) or a value that dump_json writes differently (1e400,
# 1.50) changes the text; NaN, Infinity and integers beyond 2**53 - 1 are refused by the number hooks;
# and a line indented 2 * MAX_JSON_DEPTH spaces deep sends a file that might nest too deep to the strict
# reader (in this layout each level indents two spaces, so a shallower file has no such line).

_PUBLISHED_DECODER = json.JSONDecoder(parse_float=fsio._parse_float, parse_int=fsio._parse_int,
                                      parse_constant=fsio._reject_constant)
_TOO_DEEP_LINE = "\n" + " " * (2 * MAX_JSON_DEPTH)


def _published_text(value, indent: str = "") -> str:
    """``fsio.dump_json(value)`` without the final newline, for the values a JSON text parses to (dict
    with string keys, list, str, int, float, bool, None): sorted keys, two-space indent, ``", "`` and
    ``": "`` separators, non-ASCII as is; ``TypeError`` for anything else (a NaN never gets here)."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = indent + "  "
        return ("{\n" + ",\n".join([inner + encode_basestring(key) + ": " + (encode_basestring(item) if type(item) is str else _published_text(item, inner))
                                     for key, item in sorted(value.items())]) + "\n" + indent + "}")
    if kind is list:
        if not value:
            return "[]"
        inner = indent + "  "
        return ("[\n" + ",\n".join([inner + (encode_basestring(item) if type(item) is str else _published_text(item, inner)) for item in value])
                + "\n" + indent + "]")
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    if kind is float and value - value == 0:  # finite
        return float.__repr__(value)
    raise TypeError(f"not a JSON value: {kind.__name__}")


# orjson parses and writes JSON in Rust, several times faster than both of the above, and its indented,
# key-sorted text is ``dump_json``'s wherever ``fsio.orjson_text_is_pythons`` says so (numbers are
# the exception). orjson refuses NaN, Infinity, overflow, lone surrogates, a BOM and raw control
# characters; a duplicate key, an escape ``dump_json`` does not write, or any other layout changes
# the text. A file it does not vouch for takes the pure-Python path above.

def _orjson_value(data: bytes):
    """The JSON object ``data`` holds if orjson can vouch that it is exactly in the published layout,
    else None (the caller then asks the pure-Python check)."""
    if not fsio.orjson_text_is_pythons(data):
        return None
    try:
        value = orjson.loads(data)
        if type(value) is not dict or orjson.dumps(value, option=fsio.ORJSON_LAYOUT) + b"\n" != data:
            return None
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return None
    return value


def _published_value(data: bytes):
    """The JSON object ``data`` holds if it is exactly in the published layout and the strict parser would
    take it, else None (the strict reader then says what is wrong)."""
    if b"\n" + b" " * (2 * MAX_JSON_DEPTH) not in data:
        value = _orjson_value(data)
        if value is not None:
            return value
    try:
        text = data.decode("utf-8")
        if _TOO_DEEP_LINE in text or not text.endswith("}\n"):
            return None
        value = _PUBLISHED_DECODER.decode(text)
        if type(value) is dict and _published_text(value) == text[:-1]:
            return value
    except (ValueError, TypeError, RecursionError):  # UnicodeDecodeError, JSONDecodeError and StrictJSONError are ValueErrors
        pass
    return None


def _read_published(path: Path | str, problems: list[Problem], *, altered: str,
                    digests: dict[str, tuple[str, int]] | None = None) -> dict | None:
    """``fsio.read_json_object(path, problems, altered=altered)``, fast for a file in the published layout;
    with ``digests``, also records the sha256 and size of the bytes read under the file's name."""
    try:
        data = read_regular_file(path, MAX_DOCUMENT_BYTES)
    except UnreadableFile:
        return read_json_object(path, problems, altered=altered)  # reports it as it always did
    value = _published_value(data)
    if value is None:
        return read_json_object(path, problems, altered=altered)
    if digests is not None:
        digests[os.path.basename(path)] = (sha256_bytes(data), len(data))
    return value


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
    with os.scandir(path) as entries:  # the entry's type comes with its name: no stat per folder
        names = sorted(entry.name for entry in entries
                       if not entry.name.startswith(".") and entry.name != LOG_FILE and not entry.is_file(follow_symlinks=False))
    return [path / name for name in names]


def artifact_problems(folder: Path, manifest: dict, *, known: dict[str, tuple[str, int]] | None = None,
                      digests: dict[str, str] | None = None) -> list[Problem]:
    """Every artifact the manifest lists must be a regular file in ``folder`` with the stated digest and
    size. Safe on any JSON: a manifest whose ``artifacts`` is not a list of objects is a problem too.

    ``known`` gives the sha256 and size of files read already (``RecordFiles.read_files``), which are
    not read again; ``digests``, when given, receives the sha256 of every artifact that could be read."""
    base = os.fspath(folder)
    manifest_file = f"{base}/{MANIFEST_FILE}"
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
        if known is not None and name in known:
            digest, size = known[name]
        else:
            path = f"{base}/{name}"
            try:
                data = read_regular_file(path, MAX_ARTIFACT_BYTES)
            except MissingFile:
                problems.append(Problem(manifest_file, f"/artifacts/{index}/path", f"artifact {name!r} does not exist"))
                continue
            except UnreadableFile as exc:
                problems.append(exc.problem())
                continue
            digest, size = sha256_bytes(data), len(data)
        if digests is not None:
            digests[name] = digest
        if digest != artifact.get("sha256"):
            problems.append(Problem(manifest_file, f"/artifacts/{index}/sha256", f"digest does not match {name}: expected {artifact.get('sha256')}, file has {digest}"))
        if size != artifact.get("bytes"):
            problems.append(Problem(manifest_file, f"/artifacts/{index}/bytes", f"size does not match {name}: expected {artifact.get('bytes')}, file has {size}"))
    return problems


def published_files(manifest: dict, corrections: list[dict]) -> list[str]:
    """The record's own files as published, relative to its folder: manifest, artifacts, corrections."""
    names = [MANIFEST_FILE, *(a["path"] for a in manifest.get("artifacts", []))]
    names += [entry_file(entry["sequence"]) for entry in corrections]
    return names
