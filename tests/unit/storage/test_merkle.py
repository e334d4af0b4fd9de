"""Accumulator and sparse Merkle math against naive references; store proofs fold to roots."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libra.crypto.merkle import (
    ACCUMULATOR_PLACEHOLDER_HASH,
    TRANSACTION_ACCUMULATOR,
    ProofError,
    accumulator_proof_of_leaves,
    accumulator_root,
    accumulator_root_of_leaves,
    extend_frozen,
    hash_internal,
    root_from_accumulator_proof,
    root_from_range_proof,
)
from libra.storage.accumulator import TransactionAccumulator
from libra.storage.kv import MemoryStore, WriteBatch

SEED = TRANSACTION_ACCUMULATOR


def naive_root(leaves: list[bytes]) -> bytes:
    """Perfect tree of depth ceil(log2 n), empty subtrees are placeholders."""
    if not leaves:
        return ACCUMULATOR_PLACEHOLDER_HASH
    width = 1
    while width < len(leaves):
        width *= 2
    level = leaves + [ACCUMULATOR_PLACEHOLDER_HASH] * (width - len(leaves))
    while len(level) > 1:
        level = [
            ACCUMULATOR_PLACEHOLDER_HASH
            if a == b == ACCUMULATOR_PLACEHOLDER_HASH
            else hash_internal(SEED, a, b)
            for a, b in zip(level[::2], level[1::2], strict=True)
        ]
    return level[0]


def leaf(i: int) -> bytes:
    return hashlib.sha3_256(i.to_bytes(8, "little")).digest()


def build(n: int) -> tuple[MemoryStore, TransactionAccumulator]:
    store = MemoryStore()
    acc = TransactionAccumulator(store.get, 0)
    done = 0
    step = 1
    while done < n:
        count = min(step, n - done)
        batch = WriteBatch()
        frozen, _ = acc.append(batch, [leaf(i) for i in range(done, done + count)])
        store.write(batch)
        done += count
        acc.adopt(frozen, done)
        step = step * 2 + 1
    return store, acc


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 33, 100])
def test_roots_match_naive(n):
    leaves = [leaf(i) for i in range(n)]
    assert accumulator_root_of_leaves(SEED, leaves) == naive_root(leaves)
    _, acc = build(n)
    assert acc.root(n) == naive_root(leaves)
    for m in range(n + 1):
        assert acc.root(m) == naive_root(leaves[:m])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 70), st.data())
def test_proofs_fold_to_root(n, data):
    _, acc = build(n)
    m = data.draw(st.integers(1, n))
    root = naive_root([leaf(i) for i in range(m)])
    i = data.draw(st.integers(0, m - 1))
    assert root_from_accumulator_proof(SEED, leaf(i), i, acc.proof(i, m)) == root
    assert accumulator_proof_of_leaves(SEED, [leaf(j) for j in range(m)], i) == acc.proof(i, m)
    first = data.draw(st.integers(0, m - 1))
    count = data.draw(st.integers(1, m - first))
    left, right = acc.range_proof(first, count, m)
    assert root_from_range_proof(SEED, first, [leaf(j) for j in range(first, first + count)], left, right) == root
    old = data.draw(st.integers(0, m))
    frozen = extend_frozen(SEED, acc.frozen_roots(old), old, acc.consistency_proof(old, m), m)
    assert accumulator_root(SEED, frozen, m) == root


def test_bad_proofs_refused():
    _, acc = build(10)
    proof = acc.proof(3, 10)
    with pytest.raises(ProofError):
        root_from_accumulator_proof(SEED, leaf(3), 1 << 40, proof)
    assert root_from_accumulator_proof(SEED, leaf(4), 3, proof) != acc.root(10)
    with pytest.raises(ProofError):
        root_from_range_proof(SEED, 3, [leaf(3)], [], [])
    with pytest.raises(ProofError):
        extend_frozen(SEED, acc.frozen_roots(4), 4, [], 10)
