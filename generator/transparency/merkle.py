"""RFC 6962 (section 2.1) Merkle tree hashes, inclusion proofs and consistency proofs.

Leaves and interior nodes are hashed with different one-byte prefixes (0x00, 0x01) so a leaf can
never be passed off as an interior node.  The tree splits ``n`` leaves at the largest power of two
smaller than ``n``; building it bottom-up and carrying an unpaired last node up unchanged gives the
same shape, which lets ``MerkleTree`` store every level once and answer each proof in O(log n).
Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 and only ever answers True or False.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _next_level(level: Sequence[bytes]) -> tuple[bytes, ...]:
    """Hash pairs; an unpaired last node moves up unchanged (the right edge of the RFC split)."""
    paired = tuple(node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2))
    return paired + (level[-1],) if len(level) % 2 else paired


def _largest_power_of_two_below(n: int) -> int:
    """The RFC 6962 split point k: the largest power of two with k < n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


@dataclass(frozen=True)
class MerkleTree:
    """All levels of a tree, built once: level 0 holds the leaf hashes, the last level the root."""

    levels: tuple[tuple[bytes, ...], ...]

    @classmethod
    def from_leaf_hashes(cls, hashes: Sequence[bytes]) -> MerkleTree:
        level = tuple(hashes)
        for item in level:
            if not isinstance(item, bytes) or len(item) != HASH_SIZE:
                raise ValueError(f"a leaf hash must be {HASH_SIZE} bytes, got {item!r}")
        levels = [level]
        while len(levels[-1]) > 1:
            levels.append(_next_level(levels[-1]))
        return cls(tuple(levels))

    @classmethod
    def from_leaves(cls, leaves: Sequence[bytes]) -> MerkleTree:
        return cls.from_leaf_hashes([leaf_hash(data) for data in leaves])

    @property
    def size(self) -> int:
        return len(self.levels[0])

    @property
    def root(self) -> bytes:
        return self.levels[-1][0] if self.size else EMPTY_ROOT

    def inclusion_proof(self, index: int) -> list[bytes]:
        """RFC 6962 2.1.1 audit path for leaf ``index``, nearest sibling first."""
        if not 0 <= index < self.size:
            raise ValueError(f"leaf index {index} is outside a tree of {self.size} leaves")
        proof = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            index >>= 1
        return proof

    def root_at(self, size: int) -> bytes:
        """MTH of the first ``size`` leaves: the root the log had when it was that size."""
        if not 0 <= size <= self.size:
            raise ValueError(f"size {size} is outside 0..{self.size}")
        return self._range_hash(0, size) if size else EMPTY_ROOT

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """RFC 6962 2.1.2 proof that the first ``old_size`` leaves are a prefix of the first
        ``new_size`` (default: all of this tree)."""
        new_size = self.size if new_size is None else new_size
        if not 0 <= old_size <= new_size <= self.size:
            raise ValueError(f"sizes {old_size}, {new_size} are outside 0 <= old <= new <= {self.size}")
        if old_size in (0, new_size):
            return []
        return self._subproof(old_size, 0, new_size, True)

    def _subproof(self, m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
        """SUBPROOF(m, D[lo:hi], whole) of RFC 6962 2.1.2, with ranges looked up in the levels."""
        n = hi - lo
        if m == n:
            return [] if whole else [self._range_hash(lo, hi)]
        k = _largest_power_of_two_below(n)
        if m <= k:
            return self._subproof(m, lo, lo + k, whole) + [self._range_hash(lo + k, hi)]
        return self._subproof(m - k, lo + k, hi, False) + [self._range_hash(lo, lo + k)]

    def _range_hash(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]); proofs only ask for stored nodes, the recursion is a safety net."""
        n = hi - lo
        height = (n - 1).bit_length()
        aligned = lo % (1 << height) == 0
        if aligned and (n == 1 << height or hi == self.size):
            return self.levels[height][lo >> height]
        k = _largest_power_of_two_below(n)
        return node_hash(self._range_hash(lo, lo + k), self._range_hash(lo + k, hi))


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    return MerkleTree.from_leaf_hashes(hashes).root


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """MTH over raw leaf data (each leaf is hashed with the 0x00 prefix first)."""
    return MerkleTree.from_leaves(leaves).root


def _as_tree(tree_or_hashes: MerkleTree | Sequence[bytes]) -> MerkleTree:
    if isinstance(tree_or_hashes, MerkleTree):
        return tree_or_hashes
    return MerkleTree.from_leaf_hashes(tree_or_hashes)


def inclusion_proof(tree_or_hashes: MerkleTree | Sequence[bytes], index: int) -> list[bytes]:
    """Audit path for one leaf; pass a ``MerkleTree`` when asking for many, so it is built once.

    A plain sequence is read as leaf hashes (raw data could not be told apart from 32-byte hashes).
    """
    return _as_tree(tree_or_hashes).inclusion_proof(index)


def consistency_proof(tree_or_hashes: MerkleTree | Sequence[bytes], old_size: int) -> list[bytes]:
    """Proof that the tree of the first ``old_size`` leaf hashes is a prefix of the whole tree."""
    return _as_tree(tree_or_hashes).consistency_proof(old_size)


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash_list(values: object) -> bool:
    return isinstance(values, (list, tuple)) and all(
        isinstance(v, bytes) and len(v) == HASH_SIZE for v in values
    )


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does ``proof`` lead from ``leaf_hash`` at ``index`` to ``root``?"""
    if not (_is_size(index) and _is_size(tree_size) and index < tree_size):
        return False
    if not (_is_hash_list(proof) and isinstance(leaf_hash, bytes) and isinstance(root, bytes)):
        return False
    fn, sn, r = index, tree_size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: is the tree of ``old_size`` leaves a prefix of the tree of ``new_size``?

    Equal sizes need an empty proof and equal roots; the empty tree is a prefix of every tree.
    """
    if not (_is_size(old_size) and _is_size(new_size) and old_size <= new_size):
        return False
    if not (_is_hash_list(proof) and isinstance(old_root, bytes) and isinstance(new_root, bytes)):
        return False
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
