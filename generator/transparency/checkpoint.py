"""The site checkpoint: one RFC 6962 Merkle tree over every published manifest and correction.

Leaves, exactly:

* one leaf per manifest (sequence 0) and per correction (its sequence 1, 2, ...);
* sorted by (record_id, sequence), record ids compared as strings (``SRCH:`` + 8 upper-case hex digits);
* leaf data = the UTF-8 bytes of ``f"{record_id} {sequence} {sha256}"`` (single spaces, decimal
  sequence, no newline), where ``sha256`` is the lower-case hex SHA-256 of the RFC 8785 canonical
  JSON of the file (the same digest a correction's ``previous_sha256`` names);
* leaf hash = SHA-256(0x00 || leaf data), node hash = SHA-256(0x01 || left || right) (RFC 6962 2.1).

``site/checkpoint.json`` states the tree size and root; ``site/records/<id>/proofs.json`` holds the
inclusion proof of each of the record's entries. ``verify_site`` recomputes every leaf from the JSON
files mirrored in a built site and checks the root, every proof, the artifact digests and the
correction chain, so a flipped byte in any mirrored file is reported by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.digests import sha256_bytes, sha256_json
from generator.errors import Problem
from generator.fsio import read_json_object
from generator.transparency.merkle import MerkleTree, leaf_hash, verify_inclusion

CHECKPOINT_FORMAT = "sovereign-publish-checkpoint-v1"
PROOFS_FORMAT = "sovereign-publish-inclusion-proofs-v1"
CHECKPOINT_FILE = "checkpoint.json"
PROOFS_FILE = "proofs.json"
LEAF_DEFINITION = (
    "One leaf per manifest (sequence 0) and per correction (sequence 1, 2, ...), sorted by (record_id, sequence); "
    "leaf data is the UTF-8 of '<record_id> <sequence> <sha256>' where sha256 is the lower-case hex SHA-256 of the "
    "RFC 8785 canonical JSON of the file; RFC 6962 hashing: leaf SHA-256(0x00||data), node SHA-256(0x01||left||right)."
)


@dataclass(frozen=True)
class Entry:
    """One leaf: which record, which sequence (0 = manifest), the file's path in the record folder, its digest."""

    record_id: str
    sequence: int
    file: str
    sha256: str

    @property
    def data(self) -> bytes:
        return f"{self.record_id} {self.sequence} {self.sha256}".encode("utf-8")

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.data)


def record_entries(manifest: dict, corrections: list[dict]) -> list[Entry]:
    record_id = manifest["record_id"]
    entries = [Entry(record_id, 0, "manifest.json", sha256_json(manifest))]
    entries += [Entry(record_id, c["sequence"], f"corrections/{c['sequence']:04d}.json", sha256_json(c)) for c in corrections]
    return entries


def _sort_key(entry: Entry) -> tuple[str, int]:
    return entry.record_id, entry.sequence


@dataclass
class Checkpoint:
    tree: MerkleTree
    entries: list[Entry]  # in leaf order

    def document(self, origin: str, latest_entry_at: str | None) -> dict:
        return {
            "format": CHECKPOINT_FORMAT,
            "origin": origin,
            "hash": "sha256",
            "tree": "RFC 6962 Merkle tree",
            "leaves": LEAF_DEFINITION,
            "tree_size": self.tree.size,
            "root": self.tree.root.hex(),
            "records": len({e.record_id for e in self.entries}),
            "latest_entry_at": latest_entry_at,
        }

    def proofs(self) -> dict[str, dict]:
        """record_id -> the proofs.json document of that record."""
        out: dict[str, dict] = {}
        root, size = self.tree.root.hex(), self.tree.size
        for index, entry in enumerate(self.entries):
            doc = out.setdefault(entry.record_id, {"format": PROOFS_FORMAT, "record_id": entry.record_id,
                                                   "tree_size": size, "root": root, "entries": []})
            doc["entries"].append({
                "sequence": entry.sequence,
                "file": entry.file,
                "sha256": entry.sha256,
                "leaf_index": index,
                "leaf_hash": entry.leaf_hash.hex(),
                "inclusion_proof": [h.hex() for h in self.tree.inclusion_proof(index)],
            })
        return out


def build_checkpoint(entries: list[Entry]) -> Checkpoint:
    ordered = sorted(entries, key=_sort_key)
    keys = [_sort_key(e) for e in ordered]
    if len(set(keys)) != len(keys):
        raise ValueError("two checkpoint entries share a (record_id, sequence)")
    return Checkpoint(MerkleTree.from_leaf_hashes([e.leaf_hash for e in ordered]), ordered)


# ---------------------------------------------------------------------------------------------------
# Verification of a built site


def _load(path: Path, problems: list[Problem]) -> dict | None:
    return read_json_object(path, problems, altered="it was altered")


def _hex_list(values) -> list[bytes] | None:
    try:
        return [bytes.fromhex(v) for v in values]
    except (TypeError, ValueError):
        return None


def _record_folders(site_dir: Path) -> list[Path]:
    records = site_dir / "records"
    if not records.is_dir():
        return []
    return sorted(p for p in records.iterdir() if p.is_dir() and (p / "manifest.json").is_file())


def verify_site(site_dir: Path) -> tuple[int, list[Problem]]:
    """Recompute the checkpoint from a built site's mirrored JSON; returns (entries checked, problems)."""
    from generator.records.corrections import chain_problems
    from generator.records.store import RecordFiles

    site_dir = Path(site_dir)
    problems: list[Problem] = []
    checkpoint_path = site_dir / CHECKPOINT_FILE
    checkpoint = _load(checkpoint_path, problems)
    if checkpoint is None:
        return 0, problems
    try:
        root = bytes.fromhex(checkpoint["root"])
        size = int(checkpoint["tree_size"])
    except (KeyError, TypeError, ValueError):
        problems.append(Problem(str(checkpoint_path), "/root", "checkpoint has no valid tree_size and root"))
        return 0, problems

    entries: list[Entry] = []
    proof_docs: list[tuple[Path, dict]] = []
    for folder in _record_folders(site_dir):
        manifest = _load(folder / "manifest.json", problems)
        if manifest is None or "record_id" not in manifest:
            continue
        corrections_dir = folder / "corrections"
        corrections: list[tuple[Path, dict]] = []
        if corrections_dir.is_dir():
            for path in sorted(corrections_dir.glob("*.json")):
                entry = _load(path, problems)
                if entry is not None:
                    corrections.append((path, entry))
        try:
            entries += record_entries(manifest, [c for _, c in corrections])
        except (KeyError, TypeError) as exc:
            problems.append(Problem(str(folder), "", f"cannot form checkpoint entries: {exc}"))
            continue
        # The other mirrored files are bound to the manifest by their digests.
        for index, artifact in enumerate(manifest.get("artifacts", [])):
            path = folder / str(artifact.get("path"))
            if not path.is_file():
                problems.append(Problem(str(path), "", "artifact listed in the manifest is missing from the site"))
            elif sha256_bytes(path.read_bytes()) != artifact.get("sha256"):
                problems.append(Problem(str(path), "", f"digest does not match the manifest's /artifacts/{index}/sha256: the file was altered"))
        provenance = _load(folder / "provenance.json", problems) if (folder / "provenance.json").is_file() else None
        chain = chain_problems(RecordFiles(folder=folder, manifest=manifest, provenance=provenance, corrections=corrections))
        problems += chain
        proofs = _load(folder / PROOFS_FILE, problems)
        if proofs is not None:
            proof_docs.append((folder / PROOFS_FILE, proofs))

    checkpoint_tree = build_checkpoint(entries)
    if checkpoint_tree.tree.size != size:
        problems.append(Problem(str(checkpoint_path), "/tree_size", f"the site holds {checkpoint_tree.tree.size} entries, the checkpoint says {size}"))
    if checkpoint_tree.tree.root != root:
        problems.append(Problem(str(checkpoint_path), "/root", f"root recomputed from the mirrored files is {checkpoint_tree.tree.root.hex()}, "
                                                               f"the checkpoint says {root.hex()}: a mirrored manifest or correction differs from what was checkpointed"))

    by_key = {_sort_key(e): e for e in checkpoint_tree.entries}
    proven: set[tuple[str, int]] = set()
    for path, doc in proof_docs:
        if doc.get("tree_size") != size or doc.get("root") != checkpoint.get("root"):
            problems.append(Problem(str(path), "/root", "proofs are for a different tree than checkpoint.json"))
        for i, item in enumerate(doc.get("entries") or []):
            pointer = f"/entries/{i}"
            key = (doc.get("record_id"), item.get("sequence"))
            entry = by_key.get(key)
            if entry is None:
                problems.append(Problem(str(path), pointer, f"no mirrored file for {key[0]} sequence {key[1]}"))
                continue
            proven.add(key)
            proof = _hex_list(item.get("inclusion_proof"))
            index = item.get("leaf_index")
            if item.get("sha256") != entry.sha256:
                problems.append(Problem(str(path), f"{pointer}/sha256", f"{entry.file} now hashes to {entry.sha256}, the proof says {item.get('sha256')}"))
            if proof is None or not verify_inclusion(entry.leaf_hash, index, size, proof, root):
                problems.append(Problem(str(path), f"{pointer}/inclusion_proof",
                                        f"inclusion proof of {entry.file} (leaf {index}) does not lead to the checkpoint root"))
    for key, entry in sorted(by_key.items()):
        if key not in proven:
            problems.append(Problem(str(site_dir / "records"), "", f"{entry.record_id} {entry.file} has no inclusion proof"))
    return len(entries), problems
