"""Reads at versions inside a block (replayed from the checkpoint before them) equal the state
that version had: blobs, proofs that verify against its info's state root, the deep check."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libra.crypto.merkle import hash_account_blob, hash_account_key, root_from_sparse_merkle_proof
from libra.storage import schema
from libra.storage.errors import StorageError
from libra.storage.jellyfish import node_key
from libra.storage.kv import MemoryStore, WriteBatch
from libra.storage.libradb import LibraDB, TransactionToCommit
from libra.storage.verify import verify_store

ADDRESSES = [random.Random(i).randbytes(16) for i in range(10)]

# A version: a few accounts get a blob or are deleted (None); a block: one to six versions.
version_changes = st.dictionaries(
    st.sampled_from(ADDRESSES), st.one_of(st.none(), st.binary(min_size=1, max_size=12)), max_size=4
)
blocks = st.lists(st.lists(version_changes, min_size=1, max_size=6), min_size=1, max_size=5)


def commit_blocks(
    db: LibraDB, chain: list[list[dict[bytes, bytes | None]]], history: list[dict[bytes, bytes]] | None = None
) -> list[dict[bytes, bytes]]:
    """Commit ``chain``; return ``history`` (the state after each version) extended by its versions."""
    history = [] if history is None else history
    state = dict(history[-1]) if history else {}
    for block in chain:
        first = db.next_version
        txns = [TransactionToCommit(f"txn {first + i}".encode(), changes) for i, changes in enumerate(block)]
        db.commit_block(txns, first)
        for changes in block:
            for address, blob in changes.items():
                if blob is None:
                    state.pop(address, None)
                else:
                    state[address] = blob
            history.append(dict(state))
    return history


def check_version(db: LibraDB, version: int, expected: dict[bytes, bytes]) -> None:
    root = db.get_transaction_info(version).state_root_hash
    assert db.get_state_root(version) == root
    for address in ADDRESSES:
        assert db.get_account_blob(address, version) == expected.get(address)
        blob, leaf, siblings = db._get_with_proof(version, hash_account_key(address))
        assert blob == expected.get(address)
        value_hash = None if blob is None else hash_account_blob(blob)
        assert root_from_sparse_merkle_proof(hash_account_key(address), value_hash, leaf and leaf[:2], siblings) == root


@settings(max_examples=40, deadline=None)
@given(blocks, st.booleans())
def test_every_version_reads_as_it_was(chain, native_tree):
    db = LibraDB(MemoryStore(), native_tree=native_tree)
    history = commit_blocks(db, chain)
    ends = set()
    version = -1
    for block in chain:
        version += len(block)
        ends.add(version)
    for version in range(len(history)):  # inside blocks only leaves are stored: no root of their own
        stored_root = db._store.get(node_key(version, bytes(32), 0))
        assert stored_root is not None or version not in ends
    for version in reversed(range(len(history))):  # newest first: each replay starts from its block's start
        check_version(db, version, history[version])


def test_the_deep_check_replays_a_version_inside_a_block():
    db = LibraDB(MemoryStore())
    rng = random.Random(3)
    chain = [[{rng.choice(ADDRESSES): rng.randbytes(8) for _ in range(3)} for _ in range(8)] for _ in range(3)]
    commit_blocks(db, chain)
    findings = list(verify_store(db, version=12))
    assert findings[-1].ok and "state version 12" in findings[-1].message
    # a damaged leaf inside the block: the replay's root no longer matches the info's
    store = db._store
    leaf_key, leaf = next(
        (key, value) for key, value in store.iterate(schema.version_key(schema.NODE, 9), None) if value[0] == 1
    )
    version = schema.read_u64(leaf_key, 1)
    assert 8 < version < 15  # inside the second block
    batch = WriteBatch()
    batch.put(leaf_key, leaf[:-1] + bytes([leaf[-1] ^ 1]))  # another blob: the leaf's value hash no longer fits
    store.write(batch)
    fresh = LibraDB(store)  # no cached replay
    with pytest.raises(StorageError, match="replayed state root"):
        fresh.get_account_blob(ADDRESSES[0], version)


def test_pruning_stops_at_a_checkpoint_and_keeps_the_window_readable(tmp_path):
    db = LibraDB.open(tmp_path / "db", prune_window=10)
    rng = random.Random(5)
    chain = [[{rng.choice(ADDRESSES): rng.randbytes(8)} for _ in range(4)] for _ in range(12)]
    history = commit_blocks(db, chain)
    latest = db.latest_version
    assert latest == 47
    # blocks end at 3, 7, ..., 47: the latest block end at or before 47 - 10 + 1 = 38 is 35
    assert db.oldest_state_version == 35
    for version in range(35, latest + 1):
        check_version(db, version, history[version])
    with pytest.raises(StorageError, match="pruned"):
        db.get_account_blob(ADDRESSES[0], 34)
    db.close()
    again = LibraDB.open(tmp_path / "db", prune_window=10)
    for version in range(35, latest + 1):
        check_version(again, version, history[version])
    # after a restart the checkpoints known are the tip's onward: pruning waits until the window passes it
    more = [[{rng.choice(ADDRESSES): rng.randbytes(8)} for _ in range(4)] for _ in range(2)]
    history = commit_blocks(again, more, history)  # versions 48..55: the window starts at 46, before the tip 47
    assert again.oldest_state_version == 35
    history = commit_blocks(again, more[:1], history)  # 56..59: the window starts at 50; 47 is the checkpoint
    assert again.oldest_state_version == 47
    for version in range(47, again.latest_version + 1):
        check_version(again, version, history[version])
    again.close()


class FailingOnce(MemoryStore):
    """A store whose next write fails (as a full disk would) when ``fail`` is set."""

    fail = False

    def write(self, batch: WriteBatch, sync: bool = True) -> None:
        if self.fail:
            self.fail = False
            raise StorageError("disk full")
        super().write(batch, sync)


def test_a_failed_commit_leaves_no_checkpoint_for_the_pruner():
    store = FailingOnce()
    db = LibraDB(store, prune_window=6)
    rng = random.Random(9)
    history = commit_blocks(db, [[{rng.choice(ADDRESSES): rng.randbytes(8)} for _ in range(3)] for _ in range(3)])
    store.fail = True
    with pytest.raises(StorageError, match="disk full"):  # a block ending at 11 that never lands
        commit_blocks(db, [[{ADDRESSES[0]: b"lost"} for _ in range(3)]], history)
    assert db.next_version == 9
    # blocks of 4 from 9 end at 12, 16, 20; after 16 the window starts at 11, the failed block's end
    for expected_oldest in (5, 8, 12):
        history = commit_blocks(db, [[{rng.choice(ADDRESSES): rng.randbytes(8)} for _ in range(4)]], history)
        assert db.oldest_state_version == expected_oldest  # the latest written block end at or before the window
        assert store.get(node_key(db.oldest_state_version, bytes(32), 0)) is not None
    for version in range(db.oldest_state_version, db.next_version):
        check_version(db, version, history[version])
