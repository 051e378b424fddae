"""The site's tree head: an RFC 6962 Merkle tree over the publication log, in the order published.

Leaf ``i`` is line ``i`` of ``log.jsonl`` (its RFC 8785 bytes, without the newline), hashed as
SHA-256(0x00 || line); nodes are SHA-256(0x01 || left || right). Publishing only appends lines, so
the tree at any earlier size is a prefix of the tree now: every earlier checkpoint is consistent
with every later one, and a consistency proof shows it (RFC 9162 2.1.4).

The checkpoint is a C2SP ``tlog-checkpoint`` signed note::

    sovereign-publish.github.io/registry     origin
    12                                       tree size
    <base64 root>                            root hash
    site-manifest sha256:<hex>               extension: the digest of site-manifest.json

The extension line binds every other byte of the site to the signed tree head: ``site-manifest.json``
lists the SHA-256 of every file the build wrote. Witnesses (``tlog-cosignature``) attest only the
first three lines, as the C2SP spec says; the extension is the log key's statement alone.

``checkpoints.json`` keeps every checkpoint the site has served, oldest first, each with the
consistency proof from the one before it, so a reader who saved any of them can check that the log
only grew.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from generator.digests import sha256_bytes
from generator.fsio import MAX_SITE_FILE_BYTES, UnreadableFile, dump_json, read_regular_file
from generator.parallel import parallel_map
from generator.records.layout import UNLISTED_SITE_FILES
from generator.records.log import LogEntry
from generator.transparency import note
from generator.transparency.merkle import MerkleTree, leaf_hash

PROOFS_FORMAT = "sovereign-publish-inclusion-proofs-v2"
HISTORY_FORMAT = "sovereign-publish-checkpoint-history-v1"
SITE_MANIFEST_FORMAT = "sovereign-publish-site-manifest-v1"
SITE_MANIFEST_EXTENSION = "site-manifest sha256:"
SIGNING_KEY_ENV = "SOVEREIGN_LOG_KEY"


def origin_for(site_url: str) -> str:
    """The checkpoint origin: the site URL without its scheme or final slash (C2SP: a schema-less URL)."""
    parts = urlsplit(site_url)
    return (parts.netloc + parts.path).rstrip("/")


def log_tree(entries: list[LogEntry]) -> MerkleTree:
    return MerkleTree.from_leaf_hashes([leaf_hash(entry.leaf) for entry in entries])


def record_proofs(tree: MerkleTree, entries: list[LogEntry]) -> dict[str, dict]:
    """record_id -> its proofs.json: the inclusion proof of each of its log entries in ``tree``."""
    out: dict[str, dict] = {}
    root = tree.root.hex()
    for entry in entries:
        doc = out.setdefault(entry.record_id, {"format": PROOFS_FORMAT, "record_id": entry.record_id,
                                               "tree_size": tree.size, "root": root, "entries": []})
        doc["entries"].append({
            "sequence": entry.sequence,
            "file": entry.file,
            "leaf_index": entry.index,
            "leaf": entry.leaf.decode("utf-8"),
            "inclusion_proof": [h.hex() for h in tree.inclusion_proof(entry.index)],
        })
    return out


def site_files(site_dir: Path) -> tuple[dict[str, str], list[str]]:
    """path -> sha256 of every regular file under ``site_dir`` except the unlisted ones; and every
    path that is not a regular file or folder (a symlink, a device, a FIFO), which no site may hold.

    Nothing is followed or opened through a link: each file is read with ``fsio.read_regular_file``
    (at most ``fsio.MAX_SITE_FILE_BYTES``), which raises ``fsio.UnreadableFile`` naming the path
    for one that cannot be read or is too large.
    """
    site_dir = Path(site_dir)
    paths, special = [], []
    for top, dirs, names in os.walk(site_dir):
        for name in sorted(dirs + names):
            path = os.path.join(top, name)
            rel = Path(path).relative_to(site_dir).as_posix()
            try:
                mode = os.lstat(path).st_mode
            except FileNotFoundError:
                continue  # gone since the listing: nothing there to hash
            if stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                special.append(rel)
            elif rel not in UNLISTED_SITE_FILES:
                paths.append((rel, path))
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(top, d))]
    # Hashing some 60,000 files at 10,000 records: on every core (results come back in order).
    digests = parallel_map(_file_sha256, [path for _, path in paths])
    for digest, (_, path) in zip(digests, paths):
        if isinstance(digest, UnreadableFile):
            raise digest
    return dict(sorted(zip((rel for rel, _ in paths), digests))), sorted(special)


def _file_sha256(path: str) -> str | UnreadableFile:
    """The file's sha256, or the error reading it (raised by the caller, in the parent process)."""
    try:
        return sha256_bytes(read_regular_file(path, MAX_SITE_FILE_BYTES))
    except UnreadableFile as exc:
        return exc


def site_manifest_bytes(files: dict[str, str]) -> bytes:
    return dump_json({"format": SITE_MANIFEST_FORMAT, "files": files}).encode("utf-8")


def checkpoint_body(origin: str, tree: MerkleTree, site_manifest_sha256: str) -> str:
    return note.Checkpoint(origin, tree.size, tree.root, (f"{SITE_MANIFEST_EXTENSION}{site_manifest_sha256}",)).body()


def site_manifest_digest(checkpoint: note.Checkpoint) -> str | None:
    """The site-manifest digest the checkpoint's extension line names, if any."""
    for line in checkpoint.extensions:
        if line.startswith(SITE_MANIFEST_EXTENSION):
            return line[len(SITE_MANIFEST_EXTENSION):]
    return None


def signer_from_env() -> note.Signer | None:
    """The log's signing key from SOVEREIGN_LOG_KEY (Go note signer-key text), or None when unset."""
    from generator.errors import InputError

    text = os.environ.get(SIGNING_KEY_ENV, "").strip()
    if not text:
        return None
    try:
        return note.load_signer(text)
    except note.NoteError as exc:
        raise InputError(f"{SIGNING_KEY_ENV} does not hold a signer key: {exc}") from None


def sign(body: str, signer: note.Signer | None) -> str:
    """The signed note, or the bare body when there is no key (``open_note`` will call it unsigned)."""
    return note.sign_note(body, signer) if signer is not None else body


@dataclass(frozen=True)
class HistoryItem:
    """One checkpoint the site served, and the consistency proof from the one before it."""

    note_text: str
    checkpoint: note.Checkpoint
    proof_from_previous: tuple[bytes, ...] = ()


def history_document(origin: str, items: list[HistoryItem]) -> dict:
    return {
        "format": HISTORY_FORMAT,
        "origin": origin,
        "checkpoints": [{"size": item.checkpoint.size, "note": item.note_text,
                         "consistency_from_previous": [h.hex() for h in item.proof_from_previous]} for item in items],
    }


def extend_history(previous: list[HistoryItem], note_text: str, tree: MerkleTree) -> list[HistoryItem]:
    """Append the new checkpoint (unless the last one is the very same note) with its consistency proof."""
    checkpoint = note.parse_checkpoint(note.body_of(note_text))
    if previous and previous[-1].note_text == note_text:
        return list(previous)
    proof: tuple[bytes, ...] = ()
    if previous:
        old = previous[-1].checkpoint.size
        proof = tuple(tree.consistency_proof(old))
    return [*previous, HistoryItem(note_text, checkpoint, proof)]


