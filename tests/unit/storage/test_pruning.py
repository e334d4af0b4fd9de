"""Pruning keeps exactly the state-tree nodes the readable versions need (stale index in either layout):
the whole trees of the checkpoints (block ends) from the oldest readable version on, and every leaf
written since it (what the versions between checkpoints replay)."""

from __future__ import annotations

import random

import pytest

from libra.storage import schema
from libra.storage.jellyfish import decode_node, node_key
from libra.storage.kv import MemoryStore, WriteBatch, iterate_prefix
from libra.storage.libradb import LibraDB
from libra.storage.testing import ChainBuilder, Validators


def _path_key(nibbles: list[int]) -> bytes:
    """A 32-byte key whose first nibbles are ``nibbles``."""
    padded = nibbles + [0] * (64 - len(nibbles))
    return bytes(padded[i] << 4 | padded[i + 1] for i in range(0, 64, 2))


def reachable(store: MemoryStore, version: int) -> set[bytes]:
    """Every node key of the tree of ``version``, found by walking it from its root."""
    found = set()
    pending = [(node_key(version, bytes(32), 0), [])]
    while pending:
        key, nibbles = pending.pop()
        found.add(key)
        value = store.get(key)
        assert value is not None, f"node {key.hex()} of version {version} is missing"
        node = decode_node(value)
        if isinstance(node, dict):
            for index, (child_version, _, _) in node.items():
                path = [*nibbles, index]
                pending.append((node_key(child_version, _path_key(path), len(path)), path))
    return found


def stored_nodes(store: MemoryStore) -> set[bytes]:
    return {key for key, _ in iterate_prefix(store, schema.NODE)}


def is_checkpoint(store: MemoryStore, version: int) -> bool:
    return store.get(node_key(version, bytes(32), 0)) is not None


def needed(store: MemoryStore, window: range) -> set[bytes]:
    """The checkpoint trees in ``window`` and the leaves written in it."""
    assert (window[0] == 0 or is_checkpoint(store, window[0])) and is_checkpoint(store, window[-1])
    nodes = set().union(*(reachable(store, v) for v in window if is_checkpoint(store, v)))
    for key, value in iterate_prefix(store, schema.NODE):
        if schema.read_u64(key, 1) in window and value[0] == 1:
            nodes.add(key)
    return nodes


def to_legacy_stale_index(store: MemoryStore) -> None:
    """Rewrite the stale index in the older layout: one ``S | since | N-key -> b""`` per node."""
    batch = WriteBatch()
    for key, value in list(iterate_prefix(store, schema.STALE)):
        batch.delete(key)
        for node in schema.stale_node_keys(key, value):
            batch.put(key + node, b"")
    store.write(batch)


@pytest.mark.parametrize("legacy", [False, True])
def test_pruning_keeps_exactly_the_nodes_of_the_window(legacy):
    rng = random.Random(11)
    chain = ChainBuilder(rng, Validators.generate(1, rng))
    store = MemoryStore()
    db = LibraDB(store)  # no pruning yet: every version's nodes stay
    for _ in range(6):
        chain.commit(db, rng.randint(1, 6), new_account_rate=0.3)
    assert stored_nodes(store) == needed(store, range(db.next_version))
    if legacy:
        to_legacy_stale_index(store)
    db = LibraDB(store, prune_window=7)
    opened_at = db.latest_version  # the oldest checkpoint it knows of
    for _ in range(12):
        chain.commit(db, rng.randint(1, 6), new_account_rate=0.3)
        window = range(db.oldest_state_version, db.next_version)
        assert len(window) >= 7
        if db.next_version - 7 >= opened_at:  # from the last checkpoint at or before the window's start
            assert not any(is_checkpoint(store, v) for v in range(window[0] + 1, db.next_version - 6))
        assert stored_nodes(store) == needed(store, window)
    assert not any(len(key) > 9 for key, _ in iterate_prefix(store, schema.STALE))  # legacy entries pruned too


def test_stale_node_keys_rejects_a_corrupt_entry():
    good = node_key(3, bytes(range(32)), 5)
    assert schema.stale_node_keys(schema.stale_key(4), good + good) == [good, good]
    with pytest.raises(ValueError, match="corrupt"):
        schema.stale_node_keys(schema.stale_key(4), good[:-1])
