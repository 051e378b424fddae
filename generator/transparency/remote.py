"""Reading a published site, local or live: bounded, fail-closed fetches, and the deploy check.

``previous_history`` is what ``build --previous`` runs before a deploy, as a CT monitor or Go's
checksum-database client does: it takes the checkpoints the live site already served and refuses a
new tree that is smaller than any of them or does not extend them.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from generator.errors import InputError, SovereignError
from generator.fsio import MissingFile, atomic_write_bytes, parse_json, read_regular_file
from generator.records.layout import CHECKPOINT_FILE, HISTORY_FILE, LOG_FILE, SITE_MANIFEST_FILE
from generator.transparency import note
from generator.transparency.checkpoint import HistoryItem
from generator.transparency.merkle import MerkleTree

MAX_BYTES = 256 * 1024 * 1024  # no file of a site is larger; a bigger answer is refused, not buffered
TIMEOUT = 30.0
_SAFE_PATH = re.compile(r"[A-Za-z0-9._~+@%-]+(/[A-Za-z0-9._~+@%-]+)*")


class InconsistentTree(SovereignError):
    """The new tree does not extend what the live site already published: the deploy is refused."""


def is_url(source: str) -> bool:
    return source.startswith(("https://", "http://"))


def fetch(source: str, name: str, *, missing_ok: bool = False) -> bytes | None:
    """The bytes of ``name`` under a site folder or URL; None when absent and ``missing_ok``."""
    if not is_url(source):
        path = Path(source) / name
        try:  # never through a symlink, never a device or FIFO, never more than MAX_BYTES
            return read_regular_file(path, MAX_BYTES)
        except MissingFile:
            if missing_ok:
                return None
            raise InputError(f"{path}: no such file") from None
    import httpx

    url = source.rstrip("/") + "/" + name
    try:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client, client.stream("GET", url) as response:
            if response.status_code == 404 and missing_ok:
                return None
            if response.status_code != 200:
                raise InputError(f"{url}: HTTP {response.status_code} (expected 200; redirects are not followed)")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise InputError(f"{url}: answer larger than {MAX_BYTES} bytes")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise InputError(f"{url}: {type(exc).__name__}: {exc}") from None


def _note_items(history: bytes | None, current: bytes | None, source: str) -> list[str]:
    if history is not None:
        try:
            items = parse_json(history)["checkpoints"]
            texts = [item["note"] for item in items]
            assert texts and all(isinstance(t, str) for t in texts)
        except (ValueError, KeyError, TypeError, AssertionError):
            raise InconsistentTree(f"{source}: {HISTORY_FILE} is not a checkpoint history") from None
        if current is not None and texts[-1].encode("utf-8") != current:
            raise InconsistentTree(f"{source}: the live {CHECKPOINT_FILE} is not the last entry of its {HISTORY_FILE}")
        return texts
    return [current.decode("utf-8", errors="replace")] if current is not None else []


def previous_history(source: str, tree: MerkleTree, verifiers: list[note.Verifier]) -> list[HistoryItem]:
    """Every checkpoint the site at ``source`` served, each checked against ``tree``; refuses a tree
    that is smaller than, or inconsistent with, any of them. An empty list: nothing published yet."""
    current = fetch(source, CHECKPOINT_FILE, missing_ok=True)
    history = fetch(source, HISTORY_FILE, missing_ok=True)
    items: list[HistoryItem] = []
    for text in _note_items(history, current, source):
        try:
            if verifiers:
                body, _ = note.open_note(text, verifiers)
            else:
                body = note.body_of(text)
            checkpoint = note.parse_checkpoint(body)
        except note.NoteError as exc:
            raise InconsistentTree(f"{source}: a published checkpoint does not verify: {exc}") from None
        if checkpoint.size > tree.size:
            raise InconsistentTree(f"refusing to deploy: {source} already published {checkpoint.size} log entries, this tree has only "
                                   f"{tree.size}: published records or corrections were removed")
        if tree.root_at(checkpoint.size) != checkpoint.root:
            raise InconsistentTree(f"refusing to deploy: this tree is not consistent with the checkpoint of size {checkpoint.size} "
                                   f"that {source} published (its first {checkpoint.size} entries hash to "
                                   f"{tree.root_at(checkpoint.size).hex()}, the checkpoint says {checkpoint.root.hex()}): "
                                   "published entries were changed, removed or reordered")
        if items and checkpoint.size < items[-1].checkpoint.size:
            raise InconsistentTree(f"{source}: its checkpoint history shrinks from size {items[-1].checkpoint.size} to {checkpoint.size}")
        if not items or items[-1].note_text != text:
            proof = tuple(tree.consistency_proof(items[-1].checkpoint.size, checkpoint.size)) if items else ()
            items.append(HistoryItem(text, checkpoint, proof))
    return items


def download_site(url: str, dest: Path) -> Path:
    """Copy a live site into ``dest``: the files its site manifest lists, and the ones it names."""
    manifest = fetch(url, SITE_MANIFEST_FILE)
    try:
        listed = sorted(parse_json(manifest)["files"])
    except (ValueError, KeyError, TypeError):
        raise InputError(f"{url}{SITE_MANIFEST_FILE}: not a site manifest") from None
    for name in [*listed, CHECKPOINT_FILE, HISTORY_FILE, LOG_FILE]:
        if not isinstance(name, str) or not _SAFE_PATH.fullmatch(name) or ".." in PurePosixPath(name).parts:
            raise InputError(f"{url}{SITE_MANIFEST_FILE}: unsafe path {name!r}")
        data = fetch(url, name, missing_ok=name in (HISTORY_FILE, LOG_FILE))
        if data is not None:
            atomic_write_bytes(Path(dest) / name, data)
    atomic_write_bytes(Path(dest) / SITE_MANIFEST_FILE, manifest)
    return Path(dest)
