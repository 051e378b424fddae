"""An optional witness (C2SP tlog-cosignature): cosigns a checkpoint only after proving it consistent
with the last checkpoint it cosigned, and remembers that one.

A witness run by someone other than the registry's owner is what makes a split view or a rewritten
history visible: the owner can re-sign anything with the log key, but cannot make the witness
cosign a tree that does not extend the one it saw last.
"""

from __future__ import annotations

from pathlib import Path

from generator import clock
from generator.errors import InputError
from generator.fsio import atomic_write_text, parse_json
from generator.records.layout import CHECKPOINT_FILE, HISTORY_FILE
from generator.transparency import note
from generator.transparency.merkle import verify_consistency
from generator.transparency.remote import fetch


class WitnessRefused(InputError):
    """The checkpoint is not provably consistent with the last one this witness cosigned."""


def state_file(state_dir: Path, origin: str) -> Path:
    return Path(state_dir) / (origin.replace("/", "_").replace(":", "_") + ".checkpoint")


def _history(source: str, log_key: note.Verifier) -> list[tuple[note.Checkpoint, list[bytes]]]:
    data = fetch(source, HISTORY_FILE)
    try:
        items = parse_json(data)["checkpoints"]
        out = []
        for item in items:
            body, _ = note.open_note(item["note"], [log_key])
            out.append((note.parse_checkpoint(body), [bytes.fromhex(h) for h in item["consistency_from_previous"]]))
        return out
    except (ValueError, KeyError, TypeError) as exc:
        raise WitnessRefused(f"{source}: {HISTORY_FILE} cannot be used to prove consistency: {exc}") from None


def _prove(last: note.Checkpoint, current: note.Checkpoint, source: str, log_key: note.Verifier) -> None:
    """Follow the site's consistency proofs from ``last`` to ``current``, or refuse."""
    if current.size < last.size:
        raise WitnessRefused(f"the log shrank from {last.size} to {current.size} entries since this witness last cosigned")
    if current.size == last.size:
        if current.root != last.root:
            raise WitnessRefused(f"two different trees of size {current.size}: a split view or a rewritten history")
        return
    chain = _history(source, log_key)
    start = next((i for i, (c, _) in enumerate(chain) if (c.size, c.root) == (last.size, last.root)), None)
    if start is None:
        raise WitnessRefused(f"the site's history does not contain the checkpoint of size {last.size} this witness last cosigned")
    for (before, _), (after, proof) in zip(chain[start:], chain[start + 1:]):
        if not verify_consistency(before.size, after.size, before.root, after.root, proof):
            raise WitnessRefused(f"no valid consistency proof from size {before.size} to {after.size}")
    end = chain[-1][0]
    if (end.size, end.root) != (current.size, current.root):
        raise WitnessRefused("the history does not end at the site's current checkpoint")


def witness(source: str, log_key: note.Verifier, witness_key: note.Signer, state_dir: Path) -> str:
    """Check the site's checkpoint and cosign it; returns the checkpoint note with the cosignature added."""
    text = fetch(source, CHECKPOINT_FILE).decode("utf-8", errors="replace")
    try:
        body, _ = note.open_note(text, [log_key])
        checkpoint = note.parse_checkpoint(body)
    except note.NoteError as exc:
        raise WitnessRefused(f"{source}{CHECKPOINT_FILE}: {exc}") from None
    if checkpoint.origin != log_key.name:
        raise WitnessRefused(f"checkpoint origin {checkpoint.origin!r} is not the log key's name {log_key.name!r}")
    state = state_file(state_dir, checkpoint.origin)
    if state.is_file():
        try:
            last = note.parse_checkpoint(state.read_text(encoding="utf-8"))
        except note.NoteError as exc:
            raise InputError(f"{state}: the witness state is damaged: {exc}") from None
        _prove(last, checkpoint, source, log_key)
    line = note.cosign(body, witness_key, int(clock.now().timestamp()))
    atomic_write_text(state, body)
    return text + line
