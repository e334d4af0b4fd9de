"""The Jellyfish tree equals the naive sparse Merkle tree at every version; proofs verify.

A block stores every version's leaves and its last version's whole tree (its checkpoint);
the versions in between are read by replaying the block's leaves (``libra.storage.replay``).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libra.crypto.merkle import (
    SPARSE_MERKLE_INTERNAL,
    SPARSE_MERKLE_PLACEHOLDER_HASH,
    hash_account_blob,
    hash_internal,
    key_bit,
    root_from_sparse_merkle_proof,
    smt_leaf_hash,
)
from libra.storage.errors import StorageError
from libra.storage.jellyfish import (
    NodeReader,
    TreeUpdater,
    _full_heap,
    decode_node,
    encode_node,
    get_blob,
    get_with_proof,
    root_hash,
)
from libra.storage.kv import MemoryStore, WriteBatch
from libra.storage.replay import replay
from libra.storage.schema import stale_node_keys


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


KEYS = [random.Random(i).randbytes(32) for i in range(40)]
# Keys sharing long prefixes force chains of single-child internal nodes.
KEYS += [KEYS[0][:6] + random.Random(100 + i).randbytes(26) for i in range(4)]
KEYS += [KEYS[1][:31] + bytes([i]) for i in range(3)]

changes = st.dictionaries(st.sampled_from(KEYS), st.one_of(st.none(), st.binary(max_size=20)), max_size=8)


@settings(max_examples=60, deadline=None)
@given(st.lists(changes, min_size=1, max_size=12), st.integers(1, 1000))
def test_tree_matches_reference(versions, cache_size):
    store = MemoryStore()
    reader = NodeReader(store.get, cache_size=cache_size, leaf_cache_size=cache_size)
    state: dict[bytes, bytes] = {}
    history = []
    base = None
    for version, change in enumerate(versions):
        batch = WriteBatch()
        updater = TreeUpdater(reader, batch)
        root = updater.apply(version, base, change)
        updater.checkpoint()  # each version a block of its own
        store.write(batch)
        reader.publish_overlay()
        for key, blob in change.items():
            if blob is None:
                state.pop(key, None)
            else:
                state[key] = blob
        expected = reference_root({k: hash_account_blob(v) for k, v in state.items()})
        assert root == expected == root_hash(reader, version)
        history.append(dict(state))
        base = version
    for version, snapshot in enumerate(history):
        root = reference_root({k: hash_account_blob(v) for k, v in snapshot.items()})
        for key in KEYS:
            blob, leaf, siblings = get_with_proof(reader, version, key)
            assert blob == snapshot.get(key) == get_blob(reader, version, key)
            value_hash = None if blob is None else hash_account_blob(blob)
            assert root_from_sparse_merkle_proof(key, value_hash, leaf and (leaf[0], leaf[1]), siblings) == root


def _run(versions, fast_path):
    """Apply ``versions`` on a fresh store; per version: root, batch operations, overlay after."""
    store = MemoryStore()
    reader = NodeReader(store.get, cache_size=64)
    results = []
    base = None
    for version, change in enumerate(versions):
        batch = WriteBatch()
        updater = TreeUpdater(reader, batch, fast_path=fast_path)
        root = updater.apply(version, base, change)
        updater.checkpoint()
        results.append((root, dict(batch.ops), dict(reader.overlay)))
        store.write(batch)
        reader.publish_overlay()
        base = version
    return results


# Mostly overwrites of keys that exist, so the fast path runs; sometimes new or deleted keys, so it steps aside.
overwrites = st.dictionaries(st.sampled_from(KEYS[:12]), st.binary(max_size=20), min_size=1, max_size=4)
any_change = st.one_of(overwrites, overwrites, changes)


@settings(max_examples=60, deadline=None)
@given(st.lists(any_change, min_size=1, max_size=12))
def test_fast_path_writes_what_the_general_path_writes(versions):
    versions = [dict.fromkeys(KEYS[:12], b"first"), *versions]
    taken = {}
    original = TreeUpdater._overwrite

    def spy(self, base_version, changes):
        result = original(self, base_version, changes)
        taken[self.version] = result is not None
        return result

    TreeUpdater._overwrite = spy
    try:
        fast = _run(versions, fast_path=True)
    finally:
        TreeUpdater._overwrite = original
    # same roots, same puts (batch order does not matter), same overlay (nodes compared by value)
    assert fast == _run(versions, fast_path=False)
    present: set[bytes] = set()
    for version, change in enumerate(versions):  # every version that only overwrites took the fast path
        if version and change and set(change) <= present and None not in change.values():
            assert taken[version]
        present |= {key for key, blob in change.items() if blob is not None}
        present -= {key for key, blob in change.items() if blob is None}


def test_cached_nodes_are_the_stored_nodes_until_forgotten():
    store = MemoryStore()
    reader = NodeReader(store.get, cache_size=3, leaf_cache_size=2)
    base = None
    for version in range(4):
        batch = WriteBatch()
        updater = TreeUpdater(reader, batch)
        updater.apply(version, base, {key: bytes([version]) * 9 for key in KEYS[version::3]})
        updater.checkpoint()
        store.write(batch)
        reader.publish_overlay()
        base = version
    stored = [(key, value) for key, value in store.iterate(b"N", b"O")]
    for _ in range(2):  # misses that fill the caches, then hits
        for key, value in stored:
            assert reader.read_stored(key) == decode_node(value)
    leaf_key = next(key for key, value in reversed(stored) if value[0] == 1)
    reader.read_stored(leaf_key)  # surely cached now
    reader.forget(leaf_key)
    batch = WriteBatch()
    batch.delete(leaf_key)
    store.write(batch)
    with pytest.raises(StorageError, match="missing"):
        reader.read_stored(leaf_key)


def _run_block(versions, fast_path):
    """Apply ``versions`` as blocks do: one updater and one batch for all of them, on top of a committed first
    version. Returns (roots, batch operations, overlay) and checks each overlay node against its stored bytes."""
    store = MemoryStore()
    reader = NodeReader(store.get, cache_size=64)
    batch = WriteBatch()
    updater = TreeUpdater(reader, batch)
    updater.apply(0, None, versions[0])
    updater.checkpoint()
    store.write(batch)
    reader.publish_overlay()
    batch = WriteBatch()
    updater = TreeUpdater(reader, batch, fast_path=fast_path)
    roots = [updater.apply(version, version - 1, change) for version, change in enumerate(versions) if version]
    updater.checkpoint()
    for key, node in reader.overlay.items():  # what later blocks and the caches will read
        assert encode_node(node) == batch.ops[key]
        if isinstance(node, dict):
            assert node._raw == batch.ops[key]
            assert node.heap() == _full_heap(node)
    for key, value in batch.ops.items():  # every leaf is stored, internal nodes only if in the last version's tree
        if key[:1] == b"N" and value is not None and value[0] != 1:
            assert key in reader.overlay
    result = (roots, dict(batch.ops), dict(reader.overlay))
    store.write(batch)
    reader.publish_overlay()
    for key, value in store.iterate(b"S", b"T"):  # the stale index lists stored nodes only
        for node_key_ in stale_node_keys(key, value):
            assert store.get(node_key_) is not None
    return result, reader, store


@settings(max_examples=60, deadline=None)
@given(st.lists(any_change, min_size=1, max_size=12))
def test_a_block_of_versions_writes_what_the_general_path_writes_and_proves_every_version(versions):
    versions = [dict.fromkeys(KEYS[:12], b"first"), *versions]
    fast, reader, store = _run_block(versions, fast_path=True)
    general, _, _ = _run_block(versions, fast_path=False)
    assert fast == general
    state: dict[bytes, bytes] = {}
    last = len(versions) - 1
    for version, change in enumerate(versions):  # every version of the block is held, with proofs
        for key, blob in change.items():
            if blob is None:
                state.pop(key, None)
            else:
                state[key] = blob
        root = reference_root({k: hash_account_blob(v) for k, v in state.items()})
        assert version == 0 or fast[0][version - 1] == root
        if version in (0, last):  # checkpoints: their trees are stored
            source = reader
        else:
            with pytest.raises(StorageError, match="missing"):
                root_hash(reader, version)
            source = replay(store, reader, 0, version, root)
        assert root_hash(source, version) == root
        for key in KEYS[:14]:
            blob, leaf, siblings = get_with_proof(source, version, key)
            assert blob == state.get(key)
            value_hash = None if blob is None else hash_account_blob(blob)
            assert root_from_sparse_merkle_proof(key, value_hash, leaf and (leaf[0], leaf[1]), siblings) == root


def test_a_block_of_payments_takes_the_fast_path():
    """Overwrites only, many versions in one updater: every version takes the fast path (same bytes as above)."""
    taken = []
    original = TreeUpdater._overwrite

    def spy(self, base_version, changes):
        result = original(self, base_version, changes)
        taken.append(result is not None)
        return result

    rng = random.Random(7)
    versions = [dict.fromkeys(KEYS, b"first")]
    versions += [{key: rng.randbytes(rng.randrange(30)) for key in rng.sample(KEYS, 2)} for _ in range(40)]
    TreeUpdater._overwrite = spy
    try:
        fast, _, _ = _run_block(versions, fast_path=True)
    finally:
        TreeUpdater._overwrite = original
    assert taken == [True] * 40
    assert fast == _run_block(versions, fast_path=False)[0]
