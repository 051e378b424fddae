"""Additive corrections: a hash-chained log per record, and the status machine it is folded through.

A published manifest is never edited. Its current status, correction count and corrected field
values are computed by replaying `corrections/0001.json`, `0002.json`, ... in order (a fold), and
each entry carries the SHA-256 of the one before it (the manifest for the first), so a flipped,
missing, reordered or duplicated entry breaks the chain.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path

from generator import clock
from generator.digests import sha256_json
from generator.errors import InputError, Problem, ValidationFailed
from generator.fsio import dump_json, parse_json
from generator.records import gate, log, rules
from generator.records.layout import CORRECTIONS_DIR, RecordFiles, correction_name, read_record
from generator.records.schemas import schema_problems
from generator.records.store import find_record

CURRENT, CORRECTED, UNDER_CONCERN = "CURRENT", "CORRECTED", "UNDER_CONCERN"
RETRACTED, WITHDRAWN, SUPERSEDED, REMOVED = "RETRACTED", "WITHDRAWN", "SUPERSEDED", "REMOVED"
STATUSES = (CURRENT, CORRECTED, UNDER_CONCERN, RETRACTED, WITHDRAWN, SUPERSEDED, REMOVED)
TERMINAL = frozenset({RETRACTED, WITHDRAWN, SUPERSEDED, REMOVED})
OPEN = (CURRENT, CORRECTED, UNDER_CONCERN)
NOTE_TYPE = "editorial_note"
# The optional properties an entry may carry beside its changes (see correction-record-v1.json).
EXTRA_PROPERTIES = frozenset({"identifier", "evidence"})


@dataclass(frozen=True)
class UpdateType:
    """A Crossref update type: which statuses it may follow, the status it leads to, and whether it edits fields."""

    name: str
    leads_to: str | None  # None: the status stays as it is
    allowed_from: tuple[str, ...]
    changes_fields: bool
    meaning: str


UPDATE_TYPES: tuple[UpdateType, ...] = (
    UpdateType("correction", CORRECTED, OPEN, True, "Fixes an error in the record's public fields."),
    UpdateType("corrigendum", CORRECTED, OPEN, True, "An author-side correction (Crossref 'corrigendum')."),
    UpdateType("erratum", CORRECTED, OPEN, True, "A publisher-side correction (Crossref 'erratum')."),
    UpdateType("addendum", CORRECTED, OPEN, True, "Adds information without withdrawing any."),
    UpdateType("clarification", CORRECTED, OPEN, True, "Rewords a field without changing its meaning."),
    UpdateType("partial_retraction", CORRECTED, OPEN, True, "Withdraws part of the synthesis; the rest stands."),
    UpdateType("expression_of_concern", UNDER_CONCERN, OPEN, False, "Warns readers while a problem is investigated."),
    UpdateType("retraction", RETRACTED, OPEN, False, "The synthesis should not be relied on; it stays online, marked (COPE)."),
    UpdateType("withdrawal", WITHDRAWN, OPEN, False, "The publisher withdrew the synthesis; it stays online, marked."),
    UpdateType("new_version", SUPERSEDED, OPEN, False, "A newer record replaces this one."),
    UpdateType("new_edition", SUPERSEDED, OPEN, False, "A new edition replaces this one."),
    UpdateType("removal", REMOVED, OPEN, False, "Content removed for legal reasons; the record and its log stay."),
    UpdateType(NOTE_TYPE, None, STATUSES, False, "This project's annotation: changes no field and no status; the only entry allowed after a terminal status."),
)
UPDATE_TYPES_BY_NAME = {t.name: t for t in UPDATE_TYPES}

# Fields that identify the record or its files can never be corrected: change them by publishing a new record.
FROZEN_FIELDS = ("/record_id", "/contract", "/contracts", "/artifacts", "/origin", "/dates/recorded", "/sha256",
                 "/target_paper/arxiv_id", "/is_new_version_of")


class IllegalCorrection(InputError):
    pass


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def resolve_pointer(document: dict, pointer: str):
    """The value at a JSON pointer; KeyError when it does not exist."""
    value = document
    for token in pointer.split("/")[1:]:
        token = _unescape(token)
        if isinstance(value, list):
            if not token.isdigit() or int(token) >= len(value):
                raise KeyError(pointer)
            value = value[int(token)]
        elif isinstance(value, dict) and token in value:
            value = value[token]
        else:
            raise KeyError(pointer)
    return value


def _set_pointer(document: dict, pointer: str, new) -> None:
    tokens = [_unescape(t) for t in pointer.split("/")[1:]]
    parent = resolve_pointer(document, "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens[:-1])) if len(tokens) > 1 else document
    key = tokens[-1]
    if isinstance(parent, list):
        parent[int(key)] = new
    else:
        parent[key] = new


def entry_digest(entry: dict) -> str:
    """SHA-256 of an entry's RFC 8785 form without its own ``sha256`` field."""
    return sha256_json({k: v for k, v in entry.items() if k != "sha256"})


@dataclass
class FoldedRecord:
    """The record as readers should see it now: the manifest with every correction replayed."""

    manifest: dict  # as published
    values: dict  # with corrected fields applied
    status: str = CURRENT
    log: list[dict] = field(default_factory=list)
    status_changed_at: str | None = None
    status_reason: str | None = None

    @property
    def correction_count(self) -> int:
        return len(self.log)

    @property
    def record_id(self) -> str:
        return self.manifest["record_id"]


def check_transition(status: str, update_type: str, changes: list[dict]) -> str:
    """The status after ``update_type``, or IllegalCorrection saying why it may not follow ``status``."""
    kind = UPDATE_TYPES_BY_NAME.get(update_type)
    if kind is None:
        raise IllegalCorrection(f"unknown correction type {update_type!r}; known: {', '.join(UPDATE_TYPES_BY_NAME)}")
    if status not in kind.allowed_from:
        allowed = NOTE_TYPE if status in TERMINAL else ", ".join(t.name for t in UPDATE_TYPES if status in t.allowed_from)
        raise IllegalCorrection(f"a {update_type} cannot follow status {status}" + (" (a terminal status)" if status in TERMINAL else "") + f"; allowed: {allowed}")
    if changes and not kind.changes_fields:
        raise IllegalCorrection(f"a {update_type} changes no fields; use a correction type to change {changes[0]['field']}")
    if kind.changes_fields and not changes and update_type == "correction":
        raise IllegalCorrection("a correction must change at least one field (--field POINTER --value JSON)")
    return kind.leads_to or status


def apply_changes(values: dict, changes: list[dict]) -> None:
    for change in changes:
        pointer = change["field"]
        if any(pointer == f or pointer.startswith(f + "/") for f in FROZEN_FIELDS):
            raise IllegalCorrection(f"field {pointer} identifies the record and cannot be corrected")
        try:
            current = resolve_pointer(values, pointer)
        except KeyError:
            raise IllegalCorrection(f"field {pointer} does not exist in the manifest") from None
        if current != change["old"]:
            raise IllegalCorrection(f"field {pointer}: old value {change['old']!r} is not the current value {current!r}")
        _set_pointer(values, pointer, change["new"])


def fold(manifest: dict, corrections: list[dict]) -> FoldedRecord:
    """Replay corrections in sequence order; raises IllegalCorrection on the first entry that does not fit."""
    folded = FoldedRecord(manifest=manifest, values=copy.deepcopy(manifest))
    for entry in corrections:
        after = check_transition(folded.status, entry["type"], entry.get("changes", []))
        apply_changes(folded.values, entry.get("changes", []))
        if after != folded.status:
            folded.status_changed_at = entry["at"]
            folded.status_reason = entry["reason"]
        folded.status = after
        folded.log.append(entry)
    return folded


def chain_problems(record: RecordFiles) -> list[Problem]:
    """Everything wrong with a record's correction log: names, sequence, digests, chain and transitions."""
    problems: list[Problem] = []
    previous = record.manifest
    folded = FoldedRecord(manifest=record.manifest, values=copy.deepcopy(record.manifest))
    for expected_sequence, (path, entry) in enumerate(record.corrections, start=1):
        file = str(path)
        if path.name != correction_name(expected_sequence):
            problems.append(Problem(file, "", f"expected correction file {correction_name(expected_sequence)} here (sequence must run 0001, 0002, ... without gaps)"))
            break
        if entry.get("sequence") != expected_sequence:
            problems.append(Problem(file, "/sequence", f"expected sequence {expected_sequence}, found {entry.get('sequence')!r}"))
        if entry.get("record_id") != record.manifest.get("record_id"):
            problems.append(Problem(file, "/record_id", f"must be {record.manifest.get('record_id')!r}"))
        if entry.get("sha256") != entry_digest(entry):
            problems.append(Problem(file, "/sha256", f"entry digest does not match its content (expected {entry_digest(entry)}): the entry was altered"))
        expected_previous = sha256_json(previous)
        if entry.get("previous_sha256") != expected_previous:
            what = "the manifest" if expected_sequence == 1 else f"correction {expected_sequence - 1:04d}"
            problems.append(Problem(file, "/previous_sha256", f"chain broken: expected the digest of {what} ({expected_previous})"))
        problems += _time_problems(file, entry, previous, expected_sequence)
        if entry.get("status_before") != folded.status:
            problems.append(Problem(file, "/status_before", f"folded status before this entry is {folded.status}, entry says {entry.get('status_before')!r}"))
        try:
            after = check_transition(folded.status, entry.get("type"), entry.get("changes", []))
            apply_changes(folded.values, entry.get("changes", []))
        except (IllegalCorrection, KeyError, TypeError) as exc:
            problems.append(Problem(file, "/type", str(exc)))
            break
        for index, change in enumerate(entry.get("changes") or []):
            why = gate.derived_rule(change.get("field", ""), record.manifest) if "derived_by" not in change else None
            if why:
                problems.append(Problem(file, f"/changes/{index}/field", f"{change.get('field')} is derived ({why})"))
        problems += [Problem(file, p.pointer, f"the record as corrected by this entry: {p.message}")
                     for p in gate.manifest_problems("", folded.values, record.manifest)]
        if entry.get("status_after") != after:
            problems.append(Problem(file, "/status_after", f"a {entry.get('type')} after {folded.status} leads to {after}, entry says {entry.get('status_after')!r}"))
        folded.status = after
        previous = entry
    return problems


def _time_problems(file: str, entry: dict, previous: dict, sequence: int) -> list[Problem]:
    """A correction is never dated before what it follows: the previous correction, or the record itself."""
    at = log.parse_instant(entry.get("at"))
    before_at = log.event_time(previous, 0 if sequence == 1 else sequence - 1)
    before = log.parse_instant(before_at)
    if at is None or before is None or at >= before:
        return []
    what = "the record was recorded" if sequence == 1 else f"correction {sequence - 1:04d}"
    return [Problem(file, "/at", f"dated {entry.get('at')}, before {what} ({before_at}): a correction cannot be back-dated")]


def load_folded(folder: Path) -> FoldedRecord:
    record = read_record(folder)
    if record.problems or record.manifest is None:
        raise InputError("; ".join(str(p) for p in record.problems) or f"{folder}: no manifest")
    return fold(record.manifest, [entry for _, entry in record.corrections])


def parse_change(pointer: str, value_json: str, values: dict) -> dict:
    if not pointer.startswith("/"):
        raise InputError(f"--field must be a JSON pointer such as /research_question, found {pointer!r}")
    try:
        new = parse_json(value_json)
    except ValueError as exc:
        raise InputError(f"--value for {pointer} must be strict JSON (a string needs quotes: '\"text\"'): {exc}") from None
    try:
        old = resolve_pointer(values, pointer)
    except KeyError:
        raise IllegalCorrection(f"field {pointer} does not exist in the manifest") from None
    return {"field": pointer, "old": old, "new": new}


def append_correction(records_dir: Path, record_id: str, update_type: str, reason: str, by: str,
                      fields: list[tuple[str, str]], *, extra: dict | None = None) -> Path:
    """Write the next correction of ``record_id``; refuses (writing nothing) anything the fold would reject.

    ``extra`` adds the schema's optional properties (``identifier`` of a registration, ``evidence`` of a
    finding about a cited source); the schema says which entry types may carry them."""
    if unknown := set(extra or {}) - EXTRA_PROPERTIES:
        raise ValueError(f"not an optional property of a correction: {sorted(unknown)}")
    folder = find_record(records_dir, record_id)
    record = read_record(folder)
    if record.problems:
        raise InputError("; ".join(str(p) for p in record.problems))
    from generator.records.validate import schema_checked  # validate builds on corrections

    if invalid := schema_checked(record):
        raise ValidationFailed(invalid)
    broken = chain_problems(record)
    if broken:
        raise InputError("the record's correction log is already invalid; fix it first:\n" + "\n".join(map(str, broken)))
    if not reason.strip():
        raise InputError("--reason must say why the correction is made")
    for option, text in (("--reason", reason), ("--by", by)):
        if any(0xD800 <= ord(ch) <= 0xDFFF or ch == "\x00" for ch in text):
            raise InputError(f"{option} must be UTF-8 text without NUL characters (it holds bytes that are not UTF-8, or a lone surrogate)")
    folded = fold(record.manifest, [entry for _, entry in record.corrections])
    changes = [parse_change(pointer, value, folded.values) for pointer, value in fields]
    for change in changes:
        if why := gate.derived_rule(change["field"], record.manifest):
            raise IllegalCorrection(f"field {change['field']} is derived ({why})")
    after = check_transition(folded.status, update_type, changes)
    values = copy.deepcopy(folded.values)
    apply_changes(values, changes)
    invalid = schema_problems(values, rules.MANIFEST_CONTRACT, "the record as corrected")
    if not invalid:
        changes += gate.derived_changes(record.manifest, values)
        invalid = gate.rule_problems("the record as corrected", values, record.manifest)
    if invalid:
        raise ValidationFailed(invalid)
    sequence = folded.correction_count + 1
    previous = record.corrections[-1][1] if record.corrections else record.manifest
    entry = {
        "contract": rules.CORRECTION_CONTRACT,
        "record_id": record_id,
        "sequence": sequence,
        "type": update_type,
        "reason": reason,
        "by": by,
        "at": clock.now_iso(),
        "changes": changes,
        "status_before": folded.status,
        "status_after": after,
        **(extra or {}),
        "previous_sha256": sha256_json(previous),
    }
    entry["sha256"] = entry_digest(entry)
    invalid = schema_problems(entry, rules.CORRECTION_CONTRACT, f"correction {sequence:04d}")
    invalid += _time_problems(f"correction {sequence:04d}", entry, previous, sequence)
    if invalid:
        raise InputError("\n".join(map(str, invalid)))
    log.check_can_append(records_dir, entry["at"], f"correction {sequence:04d} of {record_id}")
    path = folder / CORRECTIONS_DIR / correction_name(sequence)
    path.parent.mkdir(exist_ok=True)
    data = dump_json(entry).encode("utf-8")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    try:
        os.link(tmp, path)  # fails if another writer took this sequence number first
    except FileExistsError:
        raise InputError(f"{path} already exists: another correction was appended concurrently; retry") from None
    finally:
        tmp.unlink(missing_ok=True)
    log.append_events(records_dir, [(record_id, sequence, entry)])
    return path
