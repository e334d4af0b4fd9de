"""A naive in-memory sparse Merkle tree, the reference the Jellyfish tree must agree with."""

from __future__ import annotations

from libra.crypto.merkle import (
    SPARSE_MERKLE_INTERNAL,
    SPARSE_MERKLE_PLACEHOLDER_HASH,
    hash_internal,
    key_bit,
    smt_leaf_hash,
)


def reference_root(leaves: dict[bytes, bytes], depth: int = 0) -> bytes:
    """Root over ``key -> value_hash``: empty is the placeholder, one leaf is itself."""
    if not leaves:
        return SPARSE_MERKLE_PLACEHOLDER_HASH
    if len(leaves) == 1:
        ((key, value_hash),) = leaves.items()
        return smt_leaf_hash(key, value_hash)
    left = {k: v for k, v in leaves.items() if not key_bit(k, depth)}
    right = {k: v for k, v in leaves.items() if key_bit(k, depth)}
    return hash_internal(SPARSE_MERKLE_INTERNAL, reference_root(left, depth + 1), reference_root(right, depth + 1))
