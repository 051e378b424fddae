"""The publication log: every publication event, in the order it was published (records/log.jsonl).

An event is a record published (its manifest, sequence 0) or a correction appended (sequence 1, 2,
...). Each is one line, the RFC 8785 canonical JSON of::

    {"at": "<when>", "index": <n>, "record_id": "SRCH:XXXXXXXX", "sequence": <s>, "sha256": "<hex>"}

where ``index`` is the line's position (0, 1, ...), ``at`` is the event's own time (the manifest's
``dates.recorded`` or the correction's ``at``) and ``sha256`` is the SHA-256 of the RFC 8785 form of
the file. The line's bytes, without the newline, are the RFC 6962 Merkle leaf, so the log only ever
grows at its end and every earlier checkpoint stays consistent with every later one, as in
Certificate Transparency. Two branches that each append index 7 both change the log's last line:
once one is merged, the other is a rewrite of a published line, and the append-only check says so.

Time never decreases along the log, and no event is in the future: a correction cannot be back-dated
before what it corrects, nor dated ahead to sort last.
"""

from __future__ import annotations

import fcntl
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from generator.digests import canonical_json, sha256_json
from generator.errors import InputError, Problem
from generator.fsio import MAX_LOG_BYTES, MissingFile, StrictJSONError, UnreadableFile, atomic_write_bytes, parse_json, read_regular_file
from generator.records.layout import LOG_FILE, RecordFiles, entry_file, folder_name

# A clock that runs a little fast on the machine that wrote an entry is not forgery.
CLOCK_SKEW = timedelta(minutes=5)
_FIELDS = {"at": str, "index": int, "record_id": str, "sequence": int, "sha256": str}


@dataclass(frozen=True)
class LogEntry:
    index: int
    at: str
    record_id: str
    sequence: int
    sha256: str

    @property
    def leaf(self) -> bytes:
        """The Merkle leaf data: the line's canonical JSON bytes."""
        return canonical_json({"at": self.at, "index": self.index, "record_id": self.record_id, "sequence": self.sequence,
                               "sha256": self.sha256})

    @property
    def file(self) -> str:
        return entry_file(self.sequence)


def parse_instant(stamp: object) -> datetime | None:
    """An RFC 3339 instant with a zone, or None."""
    if not isinstance(stamp, str):
        return None
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def event_time(document: dict, sequence: int) -> str | None:
    """When an event happened, as its own file says."""
    if sequence == 0:
        dates = document.get("dates")
        return dates.get("recorded") if isinstance(dates, dict) else None
    return document.get("at")


def wall_clock() -> datetime:
    """The real time, never SOURCE_DATE_EPOCH: "in the future" is judged against the world's clock."""
    return datetime.now(tz=timezone.utc)


# A line that matches this is canonical as it stands: its keys are sorted, its strings hold only
# characters RFC 8785 writes as they are, its integers are below 2**53 with no leading zero. Every
# line we write matches it; any other line takes the strict parser, which says what is wrong.
_CANONICAL_LINE = re.compile(rb'\{"at":"([0-9A-Za-z:.+-]*)","index":(0|[1-9][0-9]{0,14}),"record_id":"([0-9A-Za-z:_-]*)",'
                             rb'"sequence":(0|[1-9][0-9]{0,14}),"sha256":"([0-9a-f]*)"\}')


def parse_line(line: bytes, where: str, file: str) -> tuple[LogEntry | None, list[Problem]]:
    """One log line: exactly the five fields, in RFC 8785 canonical form."""
    if (match := _CANONICAL_LINE.fullmatch(line)) is not None:
        at, index, record_id, sequence, sha256 = match.groups()
        return LogEntry(int(index), at.decode(), record_id.decode(), int(sequence), sha256.decode()), []
    return parse_line_strictly(line, where, file)


def parse_line_strictly(line: bytes, where: str, file: str) -> tuple[LogEntry | None, list[Problem]]:
    """``parse_line`` through the strict JSON parser and a canonical re-encoding (any line at all)."""
    try:
        value = parse_json(line)
    except StrictJSONError as exc:
        return None, [Problem(file, "", f"{where}: not valid JSON: {exc}")]
    if not isinstance(value, dict) or set(value) != set(_FIELDS) or not all(type(value[k]) is t for k, t in _FIELDS.items()):
        return None, [Problem(file, "", f"{where}: expected exactly {sorted(_FIELDS)} with types {', '.join(t.__name__ for t in _FIELDS.values())}")]
    problems = []
    if canonical_json(value) != line:
        problems.append(Problem(file, "", f"{where}: not in RFC 8785 canonical form: the line was edited"))
    return LogEntry(**value), problems


def parse_log_bytes(data: bytes, file: str) -> tuple[list[LogEntry], list[Problem]]:
    """Parse a log's bytes: every line canonical, every index its line number."""
    entries, problems = [], []
    if data and not data.endswith(b"\n"):
        problems.append(Problem(file, "", "the last line has no newline: an interrupted write, or not a publication log"))
    for number, line in enumerate(data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")):
        entry, found = parse_line(line, f"line {number + 1}", file)
        problems += found
        if entry is None:
            continue
        if entry.index != number:
            problems.append(Problem(file, "", f"line {number + 1}: index {entry.index}, expected {number} (indexes are unique and contiguous from 0)"))
        entries.append(entry)
    return entries, problems


def read_log(records_dir: Path) -> tuple[list[LogEntry], list[Problem]]:
    path = Path(records_dir) / LOG_FILE
    try:
        data = read_regular_file(path, MAX_LOG_BYTES)
    except MissingFile:
        return [], [Problem(str(path), "", "the publication log is missing (create it once with `sovereign-publish migrate-log`)")]
    except UnreadableFile as exc:
        return [], [exc.problem()]
    return parse_log_bytes(data, str(path))


def log_bytes(entries: list[LogEntry]) -> bytes:
    return b"".join(entry.leaf + b"\n" for entry in entries)


def time_problems(entries: list[LogEntry], file: str, *, now: datetime | None = None) -> list[Problem]:
    """Time never decreases along the log and no entry is in the future."""
    problems = []
    latest = (now or wall_clock()) + CLOCK_SKEW
    previous = None
    for entry in entries:
        moment = parse_instant(entry.at)
        where = f"line {entry.index + 1}"
        if moment is None:
            problems.append(Problem(file, "", f"{where}: 'at' {entry.at!r} is not an RFC 3339 instant"))
            continue
        if moment > latest:
            problems.append(Problem(file, "", f"{where}: {entry.record_id} sequence {entry.sequence} is dated {entry.at}, in the future"))
        if previous is not None and moment < previous[0]:
            problems.append(Problem(file, "", f"{where}: {entry.record_id} sequence {entry.sequence} is dated {entry.at}, "
                                              f"before the entry logged ahead of it ({previous[1]}): time never decreases along the log"))
        previous = (moment, entry.at) if previous is None or moment >= previous[0] else previous
    return problems


def document_digests(record: RecordFiles, *, manifest: str) -> dict[int, str]:
    """What the log says of each of the record's documents: the SHA-256 of its RFC 8785 form, by sequence
    (0 the manifest, whose digest the caller has from ``validate.manifest_digests``; a correction by its
    own ``sequence``, the last one when two claim the same)."""
    digests = {0: manifest}
    for correction in record.correction_entries:
        sequence = correction.get("sequence")
        if isinstance(sequence, int) and not isinstance(sequence, bool) and sequence != 0:
            digests[sequence] = sha256_json(correction, parsed=True)
    return digests


def logged_digest(record: RecordFiles, sequence: int, document: dict) -> str:
    """What the log must say of the record's document ``sequence`` (``document``, the correction or the
    manifest's outline): the digest its worker computed, else one computed here from the whole document."""
    if sequence in record.log_digests:
        return record.log_digests[sequence]
    if sequence == 0 and record.manifest is None:
        raise ValueError(f"{record.folder}: the manifest's digest was not kept with its outline")
    return sha256_json(record.manifest if sequence == 0 else document, parsed=True)


def log_problems(file: str, records: list[RecordFiles], entries: list[LogEntry]) -> list[Problem]:
    """The log (``file``) and the record folders agree: each file logged once, in sequence order, with its digest and time."""
    problems = time_problems(entries, file)
    by_id = {r.record_id: r for r in records if isinstance(r.record_id, str) and r.outline is not None}
    seen: dict[tuple[str, int], LogEntry] = {}
    for entry in entries:
        where = f"line {entry.index + 1}"
        key = (entry.record_id, entry.sequence)
        if key in seen:
            problems.append(Problem(file, "", f"{where}: {entry.record_id} sequence {entry.sequence} is already logged at line {seen[key].index + 1}"))
            continue
        seen[key] = entry
        if entry.sequence > 0 and (entry.record_id, entry.sequence - 1) not in seen:
            problems.append(Problem(file, "", f"{where}: {entry.record_id} sequence {entry.sequence} is logged before sequence {entry.sequence - 1}"))
        record = by_id.get(entry.record_id)
        if record is None:
            problems.append(Problem(file, "", f"{where}: logs {entry.record_id}, but no such record is published: a published record was deleted"))
            continue
        document = record.outline if entry.sequence == 0 else dict(
            (c.get("sequence"), c) for c in record.correction_entries).get(entry.sequence)
        if document is None:
            problems.append(Problem(file, "", f"{where}: logs {record.folder / entry.file}, which does not exist: a published file was deleted"))
            continue
        digest = logged_digest(record, entry.sequence, document)
        if digest != entry.sha256:
            problems.append(Problem(str(record.folder / entry.file), "", f"file hashes to {digest}, the log (line {entry.index + 1}) says {entry.sha256}: it was edited after publication"))
        if event_time(document, entry.sequence) != entry.at:
            problems.append(Problem(str(record.folder / entry.file), "", f"dated {event_time(document, entry.sequence)!r}, the log (line {entry.index + 1}) says {entry.at!r}"))
    for record_id, record in sorted(by_id.items()):
        sequences = [0, *(c.get("sequence") for c in record.correction_entries)]
        for sequence in sequences:
            if (record_id, sequence) not in seen:
                problems.append(Problem(str(record.folder / entry_file(sequence) if isinstance(sequence, int) else record.folder), "",
                                        f"not in the publication log {file}: every published file is logged when it is written"))
    return problems


class _Locked:
    """An exclusive lock on the records folder for one append (other writers wait); leaves no file behind."""

    def __init__(self, records_dir: Path):
        self.folder = Path(records_dir)

    def __enter__(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def check_new_time(at: str, last: LogEntry | None, what: str) -> None:
    """Refuse (InputError) an event dated in the future or before the last logged one."""
    moment = parse_instant(at)
    if moment is None:
        raise InputError(f"{what}: time {at!r} is not an RFC 3339 instant")
    if moment > wall_clock() + CLOCK_SKEW:
        raise InputError(f"{what}: dated {at}, which is in the future (is SOURCE_DATE_EPOCH set ahead?)")
    if last is not None and moment < parse_instant(last.at):
        raise InputError(f"{what}: dated {at}, before the last published event ({last.record_id} sequence "
                         f"{last.sequence}, {last.at}); the log's time never goes back (is SOURCE_DATE_EPOCH set?)")


def _tail(records_dir: Path, new_folders: frozenset[str] = frozenset()) -> tuple[int, LogEntry | None]:
    """How many entries the log has and its last one, reading only what an append needs (validate
    reads the whole log). A missing log is an empty one only while no record but ``new_folders`` exists."""
    path = Path(records_dir) / LOG_FILE
    if not os.path.lexists(path):
        folders = {p.name for p in Path(records_dir).iterdir() if p.is_dir() and not p.name.startswith(".")} if Path(records_dir).is_dir() else set()
        if folders - new_folders:
            raise InputError(f"{path}: records exist but the publication log is missing (create it once with `sovereign-publish migrate-log`)")
        return 0, None
    data = read_regular_file(path, MAX_LOG_BYTES)
    if not data:
        return 0, None
    count = data.count(b"\n")
    body = data[:-1] if data.endswith(b"\n") else data
    last_line = body[body.rfind(b"\n") + 1:]
    last, problems = parse_line(last_line, f"line {count}", str(path))
    if problems or last is None or not data.endswith(b"\n") or last.index != count - 1:
        raise InputError(f"{path}: the last line is not entry {count - 1} of a publication log (an interrupted write?); "
                         "run `sovereign-publish validate` and repair the log before publishing more")
    return count, last


def check_can_append(records_dir: Path, at: str, what: str) -> None:
    """The checks ``append_events`` will make, for a writer to run before it writes anything."""
    _, last = _tail(records_dir)
    check_new_time(at, last, what)


def append_events(records_dir: Path, events: list[tuple[str, int, dict]]) -> list[LogEntry]:
    """Log ``(record_id, sequence, document)`` events in this order, appended to the log's end.

    Appending (O_APPEND, then fsync) costs the same at 10 entries and at 100,000. A crash mid-write
    leaves a last line without its newline, which every later append and `validate` refuse.
    """
    path = Path(records_dir) / LOG_FILE
    with _Locked(records_dir):
        count, last = _tail(records_dir, frozenset(folder_name(record_id) for record_id, _, _ in events))
        new = []
        for record_id, sequence, document in events:
            at = event_time(document, sequence)
            check_new_time(at, new[-1] if new else last, f"{record_id} sequence {sequence}")
            new.append(LogEntry(count + len(new), at, record_id, sequence, sha256_json(document)))
        if count == 0:
            atomic_write_bytes(path, log_bytes(new))
        else:
            with open(path, "ab") as handle:
                handle.write(log_bytes(new))
                handle.flush()
                os.fsync(handle.fileno())
    return new


def migrate(records_dir: Path, records: list[RecordFiles]) -> list[LogEntry]:
    """Create the log of a registry that predates it: events ordered by time, then record id and sequence."""
    path = Path(records_dir) / LOG_FILE
    if path.exists():
        raise InputError(f"{path} already exists; the log is only ever appended to")
    events = [(event_time(document, sequence) or "", record.record_id, sequence, document, record)
              for record in records
              for sequence, document in [(0, record.outline), *((c["sequence"], c) for c in record.correction_entries)]]
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    entries = [LogEntry(i, at, record_id, sequence, logged_digest(record, sequence, document))
               for i, (at, record_id, sequence, document, record) in enumerate(events)]
    atomic_write_bytes(path, log_bytes(entries))
    return entries

