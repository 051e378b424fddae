"""`validate`: every record against its schema, plus the cross-checks a schema cannot express."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from generator.digests import canonical_json, sha256_bytes, sha256_json
from generator.errors import Problem
from generator.parallel import parallel_map
from generator.records import gate, log, rules, versions
from generator.records.layout import (CORRECTIONS_DIR, LOG_FILE, MANIFEST_FILE, PROVENANCE_FILE, RecordFiles, artifact_problems,
                                      folder_name, outline_of, read_record, record_folders)
from generator.records.schemas import schema_problems


def manifest_digest(manifest: dict, *, parsed: bool = False) -> str:
    """The SHA-256 of the manifest's RFC 8785 form without its own ``sha256`` field (for a manifest
    parsed from JSON: string keys); ``parsed`` as in ``canonical_json``."""
    return sha256_json({k: v for k, v in manifest.items() if k != "sha256"}, parsed=parsed)


_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def manifest_digests(manifest: dict) -> tuple[str, str]:
    """For a manifest parsed from JSON: the SHA-256 of its RFC 8785 form without its ``sha256`` field
    (what that field must say, ``manifest_digest``) and with it (what the log says).

    One encoding serves both: RFC 8785 writes an object's members in key order, each on its own, so
    the form without the field is the form with it less the bytes ``,"sha256":"<hex>"``. Those bytes
    can only stand as a member (a quote inside a string is escaped), so when they occur once and a key
    sorts before ``sha256`` they are the top-level field. Anything else is encoded twice."""
    full = canonical_json(manifest, parsed=True)
    stated = manifest.get("sha256")
    if isinstance(stated, str) and _HEX_DIGEST.fullmatch(stated) and any(key < "sha256" for key in manifest):
        member = b',"sha256":"' + stated.encode("ascii") + b'"'
        if full.count(member) == 1:
            return sha256_bytes(full.replace(member, b"", 1)), sha256_bytes(full)
    return manifest_digest(manifest, parsed=True), sha256_bytes(full)


def _artifact_problems(record: RecordFiles) -> list[Problem]:
    base = os.fspath(record.folder)
    manifest_file = f"{base}/{MANIFEST_FILE}"
    # Each listed file is read once: provenance.json was read with the record, and the report's digest
    # comes from the artifact check that read it.
    digests: dict[str, str] = {}
    problems = artifact_problems(record.folder, record.manifest, known=record.read_files, digests=digests)
    listed = {artifact.get("path") for artifact in record.manifest.get("artifacts", [])}
    for name in sorted(os.listdir(base)):
        if name not in listed and name != MANIFEST_FILE and name != CORRECTIONS_DIR and not name.startswith("."):
            problems.append(Problem(f"{base}/{name}", "", "file is not listed in the manifest's artifacts"))
    if PROVENANCE_FILE not in listed:
        problems.append(Problem(manifest_file, "/artifacts", f"{PROVENANCE_FILE} must be listed as an artifact"))
    report = (record.provenance or {}).get("report_artifact") or {}
    if isinstance(report, dict) and isinstance(report.get("path"), str) and report["path"]:
        if report["path"] not in listed:
            problems.append(Problem(f"{base}/{PROVENANCE_FILE}", "/report_artifact/path", f"report {report['path']!r} is not a listed artifact"))
        # a listed artifact: artifact_problems already reports one that cannot be read (it has no digest)
        elif report["path"] in digests and digests[report["path"]] != report.get("sha256"):
            problems.append(Problem(f"{base}/{PROVENANCE_FILE}", "/report_artifact/sha256", "digest does not match the report file"))
    return problems


def schema_checked(record: RecordFiles) -> list[Problem]:
    """Every document of the record against its schema. If the manifest or a correction fails, the
    record is marked ``schema_failed``: the checks that index into their values (correction chain,
    log cross-check) are skipped, the problems being reported here."""
    base = os.fspath(record.folder)
    manifest = schema_problems(record.manifest, rules.MANIFEST_CONTRACT, f"{base}/{MANIFEST_FILE}") if record.manifest is not None else []
    provenance = schema_problems(record.provenance, rules.PROVENANCE_CONTRACT, f"{base}/{PROVENANCE_FILE}") if record.provenance is not None else []
    corrections = [p for path, correction in record.corrections for p in schema_problems(correction, rules.CORRECTION_CONTRACT, str(path))]
    record.schema_failed = bool(manifest or corrections)
    return manifest + provenance + corrections


def log_cross_problems(file: str, records: list[RecordFiles], entries: list[log.LogEntry]) -> list[Problem]:
    """``log.log_problems`` over the records whose documents all passed their schemas, and the log
    lines of those records only: a record that failed is reported already, and only a schema-valid
    one can safely be indexed into. Then the version links among those records, judged by the log's
    order (``versions.tree_problems``)."""
    failed = {r.record_id for r in records if r.schema_failed and isinstance(r.record_id, str)}
    valid = [r for r in records if not r.schema_failed]
    return (log.log_problems(file, valid, [e for e in entries if e.record_id not in failed])
            + versions.tree_problems(valid, entries, frozenset(failed)))


def validate_record(folder: Path) -> tuple[RecordFiles, list[Problem]]:
    from generator.records.corrections import chain_problems  # corrections build on records

    # Published JSON has exactly one byte layout, so any changed byte shows even where JSON ignores it.
    record = read_record(folder, altered="it was edited after publication")
    problems = list(record.problems)
    base = os.fspath(folder)
    manifest_file = f"{base}/{MANIFEST_FILE}"
    provenance_file = f"{base}/{PROVENANCE_FILE}"
    # The derivation rules, the artifact listing and the correction chain index into the values: each
    # runs only on documents that passed their schemas (schema_checked reports those that did not).
    schema = schema_checked(record)
    problems += schema
    manifest_valid = record.manifest is not None and not any(p.file == manifest_file for p in schema)
    if record.manifest is not None:
        if manifest_valid:
            problems += gate.rule_problems(manifest_file, record.manifest)
        digest, logged = manifest_digests(record.manifest)
        if record.manifest.get("sha256") != digest:
            problems.append(Problem(manifest_file, "/sha256", f"manifest digest does not match its content (expected {digest}): it was edited after publication"))
        record_id = record.manifest.get("record_id")
        if isinstance(record_id, str) and os.path.basename(base) != folder_name(record_id):
            problems.append(Problem(manifest_file, "/record_id", f"folder name {os.path.basename(base)!r} must be {folder_name(record_id)!r} for record {record_id}"))
        problems += _artifact_problems(record) if manifest_valid else artifact_problems(record.folder, record.manifest)
    if record.provenance is not None:
        if record.manifest is not None and record.provenance.get("record_id") != record.manifest.get("record_id"):
            problems.append(Problem(provenance_file, "/record_id", f"must equal the manifest's record_id {record.manifest.get('record_id')!r}"))
    if record.manifest is not None and not record.schema_failed and record.corrections:  # no corrections: nothing to fold
        problems += chain_problems(record)
    if record.manifest is not None and not record.schema_failed:
        record.log_digests = log.document_digests(record, manifest=logged)
    return record, problems


def checked_record(folder: Path, then: Callable[[RecordFiles], Any] | None) -> tuple[RecordFiles, list[Problem]]:
    """``validate_record``, then ``then`` on a record with no problem (its result kept as ``record.derived``)."""
    record, problems = validate_record(folder)
    if then is not None and not problems:
        record.derived = then(record)
    return record, problems


def _for_the_tree(folder: Path, check: Callable[[Path], tuple[RecordFiles, list[Problem]]]) -> tuple[RecordFiles, list[Problem]]:
    """``check(folder)``, less what only the record's own checks read: its provenance document, the
    digests of files read, and all of the manifest but its outline (``layout.outline_of``). Sending and
    unpickling whole manifests took a fifth of `validate`'s time at 10,000 records."""
    record, problems = check(folder)
    if record.manifest is not None:
        record.kept_outline, record.manifest = outline_of(record.manifest), None
    record.provenance, record.read_files = None, {}
    return record, problems


def validate_tree(path: Path, *, then: Callable[[RecordFiles], Any] | None = None,
                  check: Callable[[Path], tuple[RecordFiles, list[Problem]]] | None = None) -> tuple[list[RecordFiles], list[Problem]]:
    """Validate every record under ``path`` and the publication log; one bad record never hides the others.

    ``path`` may also be a single record folder, which is checked on its own (without the log). Records
    are checked on every core (``generator.parallel``). ``then`` (a module-level function) runs on each
    record that passed its own checks, in the same worker, and its result is kept as ``record.derived``;
    whether the tree as a whole is valid (the log, duplicate ids) is known only when this returns.
    The records come back with their corrections and the outline of their manifest (``outline``), not
    the manifest or the provenance document (both None): whatever needs those runs in ``then``, or
    reads the record with ``validate_record``.
    ``check`` (module-level too) replaces the per-record pass, ``validate_record`` and ``then``: the
    build's record cache answers with a record it validated before when the folder's bytes are unchanged.
    """
    records, problems = [], []
    folders = record_folders(path)
    for record, found in parallel_map(partial(_for_the_tree, check=check or partial(checked_record, then=then)), folders):
        records.append(record)
        problems += found
    counts = Counter(r.record_id for r in records if isinstance(r.record_id, str))
    for record in records:
        if isinstance(record.record_id, str) and counts[record.record_id] > 1:
            problems.append(Problem(str(record.folder / MANIFEST_FILE), "/record_id", f"record id {record.record_id} is used by {counts[record.record_id]} folders"))
    if folders != [Path(path)] and (folders or os.path.lexists(Path(path) / LOG_FILE)):
        entries, found = log.read_log(path)
        problems += found
        if not found or entries:
            problems += log_cross_problems(str(Path(path) / LOG_FILE), records, entries)
    return records, problems
