"""RFC 6962 Merkle tree: reference vectors, proofs that verify, and tampering that never does."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.transparency.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    merkle_root,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).parent / "data" / "rfc6962" / "vectors.json").read_text())
LEAVES = [bytes.fromhex(h) for h in VECTORS["leaves_hex"]]
INCLUSION = VECTORS["inclusion_happy_path"]
CONSISTENCY = VECTORS["consistency_happy_path"]


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def b64_list(items: list[str]) -> list[bytes]:
    return [b64(item) for item in items]


def leaves_of(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(n)]


def hashes_of(n: int) -> list[bytes]:
    return [leaf_hash(data) for data in leaves_of(n)]


def every_single_bit_flip(proof: list[bytes]):
    """Yield (element, bit, tampered proof) for every bit of every element."""
    for element, item in enumerate(proof):
        for bit in range(len(item) * 8):
            flipped = bytearray(item)
            flipped[bit // 8] ^= 1 << (bit % 8)
            yield element, bit, proof[:element] + [bytes(flipped)] + proof[element + 1 :]


# RFC 6962 section 2.1, written as literally as possible, to cross-check the level-based tree.
def reference_mth(hashes: list[bytes]) -> bytes:
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return node_hash(reference_mth(hashes[:k]), reference_mth(hashes[k:]))


def reference_path(m: int, hashes: list[bytes]) -> list[bytes]:
    if len(hashes) == 1:
        return []
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    if m < k:
        return reference_path(m, hashes[:k]) + [reference_mth(hashes[k:])]
    return reference_path(m - k, hashes[k:]) + [reference_mth(hashes[:k])]


def reference_subproof(m: int, hashes: list[bytes], whole: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if whole else [reference_mth(hashes)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return reference_subproof(m, hashes[:k], whole) + [reference_mth(hashes[k:])]
    return reference_subproof(m - k, hashes[k:], False) + [reference_mth(hashes[:k])]


# Reference vectors


def test_empty_tree_root_is_sha256_of_nothing():
    assert merkle_root([]) == EMPTY_ROOT == bytes.fromhex(VECTORS["empty_tree_root_hex"])
    assert root_from_leaf_hashes([]) == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_root_of_first_n_vector_leaves_matches_rfc6962(size):
    expected = bytes.fromhex(VECTORS["roots_hex_by_size"][str(size)])
    assert merkle_root(LEAVES[:size]) == expected
    assert root_from_leaf_hashes([leaf_hash(d) for d in LEAVES[:size]]) == expected


def test_leaf_hash_prefixes_a_zero_byte():
    assert leaf_hash(b"") == b64(INCLUSION["leafHash"])
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()


def test_published_inclusion_proof_verifies_and_is_what_we_produce():
    proof = b64_list(INCLUSION["proof"])
    leaf = b64(INCLUSION["leafHash"])
    index, size, root = INCLUSION["leafIdx"], INCLUSION["treeSize"], b64(INCLUSION["root"])
    hashes = [leaf_hash(d) for d in LEAVES[:size]]
    assert inclusion_proof(hashes, index) == proof
    assert verify_inclusion(leaf, index, size, proof, root)


def test_published_consistency_proof_verifies_and_is_what_we_produce():
    proof = b64_list(CONSISTENCY["proof"])
    old, new = CONSISTENCY["size1"], CONSISTENCY["size2"]
    old_root, new_root = b64(CONSISTENCY["root1"]), b64(CONSISTENCY["root2"])
    hashes = [leaf_hash(d) for d in LEAVES[:new]]
    assert consistency_proof(hashes, old) == proof
    assert verify_consistency(old, new, old_root, new_root, proof)


# Tampering


def test_flipping_any_bit_of_the_inclusion_proof_fails_verification():
    proof = b64_list(INCLUSION["proof"])
    args = (b64(INCLUSION["leafHash"]), INCLUSION["leafIdx"], INCLUSION["treeSize"])
    root = b64(INCLUSION["root"])
    for element, bit, tampered in every_single_bit_flip(proof):
        assert not verify_inclusion(*args, tampered, root), (element, bit)


def test_flipping_any_bit_of_the_consistency_proof_fails_verification():
    proof = b64_list(CONSISTENCY["proof"])
    sizes = (CONSISTENCY["size1"], CONSISTENCY["size2"])
    roots = (b64(CONSISTENCY["root1"]), b64(CONSISTENCY["root2"]))
    for element, bit, tampered in every_single_bit_flip(proof):
        assert not verify_consistency(*sizes, *roots, tampered), (element, bit)


def test_flipping_any_bit_of_a_computed_mid_tree_proof_fails_verification():
    tree = MerkleTree.from_leaves(leaves_of(13))
    for index in (0, 6, 12):
        proof = tree.inclusion_proof(index)
        leaf = tree.levels[0][index]
        for element, bit, tampered in every_single_bit_flip(proof):
            assert not verify_inclusion(leaf, index, 13, tampered, tree.root), (index, element, bit)
    old_root = MerkleTree.from_leaves(leaves_of(5)).root
    proof = tree.consistency_proof(5)
    for element, bit, tampered in every_single_bit_flip(proof):
        assert not verify_consistency(5, 13, old_root, tree.root, tampered), (element, bit)


def test_inclusion_fails_for_a_wrong_index_or_tree_size():
    proof = b64_list(INCLUSION["proof"])
    leaf, root = b64(INCLUSION["leafHash"]), b64(INCLUSION["root"])
    assert verify_inclusion(leaf, 0, 8, proof, root)
    for index in (1, 2, 7):
        assert not verify_inclusion(leaf, index, 8, proof, root)
    # RFC 9162 binds the size only through the proof's shape: for leaf 0, sizes 5..8 share one
    # shape and are told apart by the root (a signed tree head binds size and root together).
    for size in (0, 1, 2, 4, 9, 16):
        assert not verify_inclusion(leaf, 0, size, proof, root), size


def test_inclusion_fails_for_an_index_out_of_range_without_raising():
    proof = b64_list(INCLUSION["proof"])
    leaf, root = b64(INCLUSION["leafHash"]), b64(INCLUSION["root"])
    assert not verify_inclusion(leaf, 8, 8, proof, root)
    assert not verify_inclusion(leaf, 100, 8, proof, root)
    assert not verify_inclusion(leaf, -1, 8, proof, root)
    assert not verify_inclusion(leaf, 0, -8, proof, root)


def test_inclusion_fails_for_a_proof_of_the_wrong_length():
    proof = b64_list(INCLUSION["proof"])
    leaf, root = b64(INCLUSION["leafHash"]), b64(INCLUSION["root"])
    assert not verify_inclusion(leaf, 0, 8, proof[:-1], root)
    assert not verify_inclusion(leaf, 0, 8, proof + [proof[0]], root)
    assert not verify_inclusion(leaf, 0, 8, [], root)
    assert not verify_inclusion(leaf, 0, 8, [p[:-1] for p in proof], root)


def test_inclusion_fails_for_another_leaf_or_another_root():
    proof = b64_list(INCLUSION["proof"])
    leaf, root = b64(INCLUSION["leafHash"]), b64(INCLUSION["root"])
    assert not verify_inclusion(leaf_hash(b"forged"), 0, 8, proof, root)
    assert not verify_inclusion(leaf, 0, 8, proof, merkle_root(LEAVES[:7]))


def test_consistency_fails_for_wrong_sizes_or_roots():
    proof = b64_list(CONSISTENCY["proof"])
    old_root, new_root = b64(CONSISTENCY["root1"]), b64(CONSISTENCY["root2"])
    assert verify_consistency(1, 8, old_root, new_root, proof)
    # As for inclusion, sizes with the same proof shape (1 -> 5..8) are told apart by the roots.
    for old, new in [(2, 8), (1, 4), (1, 9), (1, 16), (0, 8), (8, 1), (-1, 8), (1, -8)]:
        assert not verify_consistency(old, new, old_root, new_root, proof), (old, new)
    assert not verify_consistency(1, 8, merkle_root(LEAVES[:2]), new_root, proof)
    assert not verify_consistency(1, 8, old_root, merkle_root(LEAVES[:7]), proof)
    assert not verify_consistency(1, 8, old_root, new_root, proof[:-1])
    assert not verify_consistency(1, 8, old_root, new_root, proof + [proof[0]])
    assert not verify_consistency(1, 8, old_root, new_root, [])


def test_consistency_fails_when_history_was_rewritten():
    honest = MerkleTree.from_leaves(leaves_of(12))
    rewritten = leaves_of(12)
    rewritten[3] = b"rewritten"
    old_root = merkle_root(rewritten[:7])
    assert not verify_consistency(7, 12, old_root, honest.root, honest.consistency_proof(7))


def test_equal_sizes_and_the_empty_tree_are_consistent_only_with_an_empty_proof():
    root = merkle_root(LEAVES)
    assert verify_consistency(8, 8, root, root, [])
    assert not verify_consistency(8, 8, root, merkle_root(LEAVES[:7]), [])
    assert not verify_consistency(8, 8, root, root, [root])
    assert verify_consistency(0, 8, EMPTY_ROOT, root, [])
    assert not verify_consistency(0, 8, root, root, [])


@settings(max_examples=200, deadline=None)
@given(
    index=st.integers(min_value=-5, max_value=40),
    size=st.integers(min_value=-5, max_value=40),
    proof=st.lists(st.binary(min_size=0, max_size=40), max_size=8),
    root=st.binary(max_size=40),
)
def test_verification_answers_false_instead_of_raising_on_garbage(index, size, proof, root):
    assert verify_inclusion(leaf_hash(b"x"), index, size, proof, root) in (True, False)
    assert verify_consistency(index, size, root, root, proof) in (True, False)


# Every proof of small trees


def test_every_inclusion_proof_of_every_tree_up_to_40_leaves_verifies():
    for size in range(1, 41):
        tree = MerkleTree.from_leaves(leaves_of(size))
        for index in range(size):
            proof = tree.inclusion_proof(index)
            leaf = tree.levels[0][index]
            assert verify_inclusion(leaf, index, size, proof, tree.root), (size, index)


def test_consistency_proofs_between_all_sizes_up_to_20_verify():
    trees = {size: MerkleTree.from_leaves(leaves_of(size)) for size in range(1, 21)}
    for new in range(1, 21):
        for old in range(1, new + 1):
            proof = trees[new].consistency_proof(old)
            assert verify_consistency(old, new, trees[old].root, trees[new].root, proof), (old, new)


def test_proofs_match_the_recursive_rfc6962_definitions():
    for size in range(1, 34):
        hashes = hashes_of(size)
        tree = MerkleTree.from_leaf_hashes(hashes)
        assert tree.root == reference_mth(hashes)
        for index in range(size):
            assert tree.inclusion_proof(index) == reference_path(index, hashes), (size, index)
        for old in range(1, size):
            assert tree.consistency_proof(old) == reference_subproof(old, hashes, True), (old, size)


@settings(max_examples=60, deadline=None)
@given(leaves=st.lists(st.binary(max_size=16), min_size=1, max_size=40), data=st.data())
def test_any_leaf_of_any_tree_is_proven_included_and_any_prefix_consistent(leaves, data):
    tree = MerkleTree.from_leaves(leaves)
    index = data.draw(st.integers(min_value=0, max_value=len(leaves) - 1))
    proof = inclusion_proof(tree, index)
    assert verify_inclusion(leaf_hash(leaves[index]), index, len(leaves), proof, tree.root)
    old = data.draw(st.integers(min_value=1, max_value=len(leaves)))
    proof = consistency_proof(tree, old)
    assert verify_consistency(old, len(leaves), merkle_root(leaves[:old]), tree.root, proof)


# Misuse when producing proofs


def test_asking_for_a_proof_outside_the_tree_is_an_error():
    tree = MerkleTree.from_leaves(leaves_of(4))
    with pytest.raises(ValueError):
        tree.inclusion_proof(4)
    with pytest.raises(ValueError):
        tree.inclusion_proof(-1)
    with pytest.raises(ValueError):
        tree.consistency_proof(5)


def test_leaf_hashes_must_be_32_bytes():
    with pytest.raises(ValueError):
        root_from_leaf_hashes([b"short"])
