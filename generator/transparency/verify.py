"""`sovereign-publish verify`: check a built site as a Certificate Transparency monitor checks a log.

What is checked, and what each check stands on:

* every file: ``site-manifest.json`` lists the SHA-256 of every file the build wrote; a changed,
  added or missing file is reported by path, and so is a symlink or device;
* the site manifest is named by the checkpoint's extension line, and the checkpoint is signed by the
  log key (``--key``): without a key, verify can only say the site is self-consistent;
* the log: ``log.jsonl`` hashes to the checkpoint's root; each logged file is mirrored with that
  digest; time never decreases; correction chains and artifact digests hold;
* record pages are bound to their URL: the page at ``records/SRCH-X/`` names record ``SRCH:X``;
* history: every checkpoint in ``checkpoints.json`` is a prefix of today's tree, with a valid
  consistency proof from the one before it;
* ``--since``: a checkpoint the reader saved earlier is consistent with today's tree.

Nothing of the site is trusted to be well-formed: every file is read through ``generator.fsio``
(never through a symlink, never a device or FIFO, with a size bound) and every JSON document is
parsed strictly; a record document that fails its schema is reported and left out of the checks that
index into its values. Whatever is wrong is a problem naming the file, never a traceback.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from generator.digests import sha256_bytes
from generator.errors import Problem
from generator.fsio import (MAX_DOCUMENT_BYTES, dump_json, MAX_LOG_BYTES, MAX_SITE_FILE_BYTES, MissingFile, StrictJSONError, UnreadableFile, parse_json,
                           read_regular_file)
from generator.records import log
from generator.records.layout import (CHECKPOINT_FILE, HISTORY_FILE, LOG_FILE, MANIFEST_FILE, PROOFS_FILE, SITE_MANIFEST_FILE, SITE_RECORDS_DIR,
                                      artifact_problems, folder_name, read_record)
from generator.transparency import checkpoint as cp
from generator.transparency import note
from generator.transparency.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion

PAGE_ID_ATTRIBUTE = "data-record-id"


@dataclass
class Report:
    entries: int = 0
    files: int = 0
    records: int = 0
    tree_size: int = 0
    signed_by: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)  # what was and was not established, for the reader
    problems: list[Problem] = field(default_factory=list)


def _read(path: Path, report: Report, what: str, limit: int = MAX_DOCUMENT_BYTES) -> bytes | None:
    """The bytes of a regular file of the site (never through a link, at most ``limit``), or None with a problem."""
    try:
        return read_regular_file(path, limit)
    except MissingFile:
        report.problems.append(Problem(str(path), "", f"{what} is missing"))
    except UnreadableFile as exc:
        report.problems.append(Problem(str(path), "", f"{what}: {exc.reason}"))
    return None


def _parse(data: bytes) -> object:
    """Strict JSON, or None when it is not (the caller says what it expected)."""
    try:
        return parse_json(data)
    except StrictJSONError:
        return None


def _open_checkpoint(text: str, verifiers: list[note.Verifier], file: str, report: Report) -> note.Checkpoint | None:
    """Parse a checkpoint note; with verifiers, a valid signature by one of them is required."""
    try:
        if verifiers:
            body, signed = note.open_note(text, verifiers)
            report.signed_by = sorted({v.name for v in signed} | set(report.signed_by))
        else:
            body = note.body_of(text)
        return note.parse_checkpoint(body)
    except note.NoteError as exc:
        report.problems.append(Problem(file, "", f"checkpoint does not verify: {exc}"))
        return None


def _check_files(site_dir: Path, report: Report) -> bytes | None:
    try:
        files, special = cp.site_files(site_dir)
    except UnreadableFile as exc:  # too large, or replaced while read: the listing cannot be compared
        report.problems.append(exc.problem())
        files, special = None, []
    report.files = len(files or {})
    for rel in special:
        report.problems.append(Problem(str(site_dir / rel), "", "not a regular file (a symlink, device or FIFO): a site holds only files"))
    data = _read(site_dir / SITE_MANIFEST_FILE, report, "the site manifest", MAX_SITE_FILE_BYTES)
    if data is None:
        return None
    doc = _parse(data)
    listed = doc.get("files") if isinstance(doc, dict) else None
    if not (isinstance(listed, dict) and all(isinstance(v, str) for v in listed.values())):
        report.problems.append(Problem(str(site_dir / SITE_MANIFEST_FILE), "/files", "expected an object of path -> sha256"))
        return data
    if files is None:
        return data
    for rel in sorted(set(listed) | set(files)):
        if rel not in files:
            report.problems.append(Problem(str(site_dir / rel), "", "missing: the site manifest lists this file"))
        elif rel not in listed:
            report.problems.append(Problem(str(site_dir / rel), "", "added: the site manifest does not list this file"))
        elif listed[rel] != files[rel]:
            report.problems.append(Problem(str(site_dir / rel), "", f"changed: hashes to {files[rel]}, the site manifest says {listed[rel]}"))
    return data


def _check_records(site_dir: Path, entries: list[log.LogEntry], tree: MerkleTree, report: Report) -> None:
    from generator.records.corrections import chain_problems
    from generator.records.validate import log_cross_problems, schema_checked

    records_dir = site_dir / SITE_RECORDS_DIR
    # Folders only (lstat): a symlink or device here is reported by _check_files and never entered.
    folders = sorted(p for p in records_dir.iterdir() if p.name.startswith("SRCH-") and _is_folder(p)) if _is_folder(records_dir) else []
    records = []
    for folder in folders:
        if not os.path.lexists(folder / MANIFEST_FILE):
            continue
        record = read_record(folder, altered="it was altered")
        report.problems += record.problems
        if record.manifest is None:
            continue
        records.append(record)
        report.problems += schema_checked(record)
        record_id = record.record_id
        if not isinstance(record_id, str) or folder.name != folder_name(record_id):
            report.problems.append(Problem(str(folder / MANIFEST_FILE), "/record_id", f"record {record_id!r} is served at {folder.name}/: a record folder was moved or swapped"))
            continue
        page = folder / "index.html"
        if os.path.lexists(page):
            text = _read(page, report, "the record page", MAX_SITE_FILE_BYTES)
            if text is not None and f'{PAGE_ID_ATTRIBUTE}="{record_id}"'.encode("utf-8") not in text:
                report.problems.append(Problem(str(page), "", f"the page at this URL does not show record {record_id}: a page was moved or swapped"))
        report.problems += artifact_problems(folder, record.manifest)
        if not record.schema_failed:
            report.problems += chain_problems(record)
        _check_proofs(folder / PROOFS_FILE, record_id, entries, tree, report)
    report.records = len(records)
    report.problems += log_cross_problems(str(site_dir / LOG_FILE), records, entries)


def _is_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _check_proofs(path: Path, record_id: str, entries: list[log.LogEntry], tree: MerkleTree, report: Report) -> None:
    data = _read(path, report, "the inclusion proofs")
    if data is None:
        return
    doc = _parse(data)
    items = doc.get("entries") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        report.problems.append(Problem(str(path), "", "not an inclusion proofs document"))
        return
    logged = {e.sequence: e for e in entries if e.record_id == record_id}
    proven = set()
    for i, item in enumerate(items):
        pointer = f"/entries/{i}"
        try:
            index, leaf, proof = item["leaf_index"], item["leaf"].encode("utf-8"), [bytes.fromhex(h) for h in item["inclusion_proof"]]
            assert type(index) is int and type(item.get("sequence")) is int
        except (KeyError, TypeError, ValueError, AttributeError, AssertionError):
            report.problems.append(Problem(str(path), pointer, "expected leaf_index, leaf, sequence and inclusion_proof"))
            continue
        entry = logged.get(item["sequence"])
        if entry is None or entry.index != index or entry.leaf != leaf:
            report.problems.append(Problem(str(path), pointer, f"does not match line {index!r} of the log"))
            continue
        if not verify_inclusion(leaf_hash(leaf), index, tree.size, proof, tree.root):
            report.problems.append(Problem(str(path), f"{pointer}/inclusion_proof", f"inclusion proof of {entry.file} (leaf {index}) does not lead to the checkpoint root"))
            continue
        proven.add(entry.sequence)
    for sequence, entry in sorted(logged.items()):
        if sequence not in proven:
            report.problems.append(Problem(str(path), "", f"{record_id} {entry.file} (leaf {entry.index}) has no inclusion proof"))


def _check_history(site_dir: Path, current_text: str, tree: MerkleTree, verifiers: list[note.Verifier], report: Report) -> None:
    path = site_dir / HISTORY_FILE
    data = _read(path, report, "the checkpoint history", MAX_SITE_FILE_BYTES)
    if data is None:
        return
    doc = _parse(data)
    items = doc.get("checkpoints") if isinstance(doc, dict) else None
    if not (isinstance(items, list) and items):
        report.problems.append(Problem(str(path), "/checkpoints", "expected a non-empty list of checkpoints"))
        return
    previous = None
    history: list[cp.HistoryItem] = []
    for i, item in enumerate(items):
        pointer = f"/checkpoints/{i}"
        text = item.get("note") if isinstance(item, dict) else None
        if not isinstance(text, str):
            report.problems.append(Problem(str(path), pointer, "expected a checkpoint note"))
            return
        checkpoint = _open_checkpoint(text, verifiers, f"{path}#{pointer}", report)
        if checkpoint is None:
            return
        if checkpoint.size > tree.size or tree.root_at(checkpoint.size) != checkpoint.root:
            report.problems.append(Problem(str(path), pointer, f"checkpoint of size {checkpoint.size} is not a prefix of today's log: "
                                                               "entries published before it were changed, removed or reordered"))
        if previous is not None:
            try:
                proof = [bytes.fromhex(h) for h in item.get("consistency_from_previous", [])]
            except (TypeError, ValueError):
                proof = None
            if proof is None or not verify_consistency(previous.size, checkpoint.size, previous.root, checkpoint.root, proof):
                report.problems.append(Problem(str(path), f"{pointer}/consistency_from_previous",
                                               f"no valid consistency proof from size {previous.size} to {checkpoint.size}"))
        proof = tuple(tree.consistency_proof(previous.size, checkpoint.size)) if previous and previous.size <= checkpoint.size <= tree.size else ()
        history.append(cp.HistoryItem(text, checkpoint, proof))
        previous = checkpoint
    if items[-1].get("note") != current_text:
        report.problems.append(Problem(str(path), f"/checkpoints/{len(items) - 1}", f"the last checkpoint of the history is not the site's {CHECKPOINT_FILE}"))
    # Every byte counts: the file must be exactly what the build writes for these checkpoints.
    if not report.problems and data != dump_json(cp.history_document(history[-1].checkpoint.origin, history)).encode("utf-8"):
        report.problems.append(Problem(str(path), "", "not the document the build writes for these checkpoints: the file was altered"))


def check_since(saved_text: str, saved_name: str, current: note.Checkpoint, tree: MerkleTree,
                verifiers: list[note.Verifier], report: Report, witnesses: list[note.Verifier] = ()) -> None:
    """Is the checkpoint a reader saved earlier consistent with today's tree? (what a CT monitor asks).

    With ``witnesses``, the saved checkpoint must carry a valid cosignature of each: the reader then
    holds a tree head that others saw too, which the log's owner alone cannot have forged.
    """
    saved = _open_checkpoint(saved_text, verifiers, saved_name, report)
    if saved is None:
        return
    for witness in witnesses:
        try:
            at = note.verify_cosignature(saved_text, witness)
            report.statements.append(f"the saved checkpoint is cosigned by witness {witness.name} (at {at})")
        except note.NoteError as exc:
            report.problems.append(Problem(saved_name, "", f"no valid cosignature by witness {witness.name}: {exc}"))
    if saved.origin != current.origin:
        report.problems.append(Problem(saved_name, "", f"is a checkpoint of {saved.origin!r}, not of {current.origin!r}"))
        return
    if saved.size > tree.size:
        report.problems.append(Problem(saved_name, "", f"saw {saved.size} entries; the site's log now has only {tree.size}: published entries were removed"))
        return
    proof = tree.consistency_proof(saved.size)
    if not verify_consistency(saved.size, tree.size, saved.root, tree.root, proof):
        report.problems.append(Problem(saved_name, "", f"is not consistent with the site's checkpoint (size {tree.size}): the site's first "
                                                       f"{saved.size} entries hash to {tree.root_at(saved.size).hex()}, the saved checkpoint says "
                                                       f"{saved.root.hex()}: entries published before it were changed, removed or reordered"))
        return
    report.statements.append(f"consistent with the saved checkpoint of size {saved.size} (RFC 9162 consistency proof of {len(proof)} hashes)")


def verify_site(site_dir: Path, *, verifiers: list[note.Verifier] | None = None, since: tuple[str, str] | None = None,
                witnesses: list[note.Verifier] = ()) -> Report:
    """Check a built site; ``since`` is (name, text) of a checkpoint the reader saved, which each of
    ``witnesses`` must have cosigned."""
    site_dir = Path(site_dir)
    verifiers = verifiers or []
    report = Report()
    manifest_bytes = _check_files(site_dir, report)

    text_bytes = _read(site_dir / CHECKPOINT_FILE, report, "the checkpoint")
    if text_bytes is None:
        return report
    text = text_bytes.decode("utf-8", errors="replace")
    current = _open_checkpoint(text, verifiers, str(site_dir / CHECKPOINT_FILE), report)
    if current is None:
        return report
    if not verifiers:
        signers = [name for name, _, _ in note.split_note(text)[1]] if "\n\n" in text else []
        report.statements.append(f"signature NOT checked (signed by {', '.join(signers)}; pass --key to check it)" if signers
                                 else "the checkpoint is UNSIGNED: the site is self-consistent, but anyone could have recomputed it")
    report.tree_size = current.size
    named = cp.site_manifest_digest(current)
    if manifest_bytes is not None and named != sha256_bytes(manifest_bytes):
        report.problems.append(Problem(str(site_dir / SITE_MANIFEST_FILE), "", f"hashes to {sha256_bytes(manifest_bytes)}, the checkpoint names {named}"))

    log_bytes = _read(site_dir / LOG_FILE, report, "the publication log", MAX_LOG_BYTES)
    if log_bytes is None:
        return report
    entries, problems = log.parse_log_bytes(log_bytes, str(site_dir / LOG_FILE))
    report.problems += problems
    report.entries = len(entries)
    tree = cp.log_tree(entries)
    if (tree.size, tree.root) != (current.size, current.root):
        report.problems.append(Problem(str(site_dir / CHECKPOINT_FILE), "", f"says size {current.size} root {current.root.hex()}; the site's log "
                                                                            f"gives size {tree.size} root {tree.root.hex()}"))
    _check_records(site_dir, entries, tree, report)
    _check_history(site_dir, text, tree, verifiers, report)
    if since is not None:
        check_since(since[1], since[0], current, tree, verifiers, report, witnesses)
    return report
