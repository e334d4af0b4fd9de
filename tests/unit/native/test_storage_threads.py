"""Readers on other threads while the native store prepares (GIL released) and commits.

The module docstring of ``libradb.py`` promises: reads take no lock of the store's, see
either the old or the new tip, and never get wrong data (a read of a version the pruner
is deleting may fail with "pruned"). Readers check every answer against the state the
workload gives at that version, and every proof against the version's state root.
"""

from __future__ import annotations

import random
import threading

from libra.crypto.merkle import hash_account_blob, hash_account_key, root_from_sparse_merkle_proof
from libra.storage.errors import StorageError
from libra.storage.kv import MemoryStore
from libra.storage.libradb import LibraDB, TransactionToCommit

ADDRESSES = [random.Random(i).randbytes(16) for i in range(60)]


def workload(rng: random.Random, blocks: int) -> tuple[list[list[TransactionToCommit]], list[dict[bytes, bytes]]]:
    """Blocks of creates, overwrites and deletes, and the state after every version."""
    state: dict[bytes, bytes] = {}
    states = []
    plan = []
    for _ in range(blocks):
        block = []
        for _ in range(rng.randint(1, 30)):
            blobs: dict[bytes, bytes | None] = {}
            for address in rng.sample(ADDRESSES, 3):
                blobs[address] = None if rng.random() < 0.1 else rng.randbytes(rng.randint(1, 80))
            block.append(TransactionToCommit(rng.randbytes(20), blobs))
            for address, blob in blobs.items():
                if blob is None:
                    state.pop(address, None)
                else:
                    state[address] = blob
            states.append(dict(state))
        plan.append(block)
    return plan, states


def test_readers_see_committed_state_only_and_exactly_while_the_native_store_writes():
    plan, states = workload(random.Random(1), 60)
    db = LibraDB(MemoryStore(), prune_window=40, node_cache_size=50, leaf_cache_size=20, native_tree=True)
    done = threading.Event()
    failures: list[BaseException] = []
    reads = [0]

    def writer() -> None:
        try:
            parent = None
            for index, block in enumerate(plan):
                first = parent.next_version if parent is not None else db.next_version
                prepared = db.prepare_block(block, first, parent)
                if index % 3 == 2:  # every third block commits with its uncommitted parents
                    db.commit_prepared(prepared)
                    parent = None
                else:
                    parent = prepared
            if parent is not None:
                db.commit_prepared(parent)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            done.set()

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        try:
            while not done.is_set() or reads[0] < 300:
                tip = db.latest_version
                if tip is None:
                    continue
                version = rng.randint(max(0, tip - 45), tip)
                address = rng.choice(ADDRESSES)
                try:
                    blob = db.get_account_blob(address, version)
                    proof = db.get_account_state_with_proof(address, version, tip)
                    root = db.get_state_root(version)
                except StorageError as exc:
                    assert "pruned" in str(exc), exc
                    continue
                assert blob == states[version].get(address)
                assert proof.blob == blob and proof.version == version
                siblings = proof.proof.transaction_info_to_account_proof.siblings
                leaf = proof.proof.transaction_info_to_account_proof.leaf
                value_hash = None if blob is None else hash_account_blob(blob)
                implied = root_from_sparse_merkle_proof(
                    hash_account_key(address), value_hash, leaf and (leaf.key, leaf.value_hash), siblings
                )
                assert implied == root == proof.proof.transaction_info_with_proof.transaction_info.state_root_hash
                reads[0] += 1
        except BaseException as exc:
            failures.append(exc)
            done.set()

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[0]
    assert db.next_version == len(states) and reads[0] >= 300
