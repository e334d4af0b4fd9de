"""LibraDB over both stores: commits, reads, proofs (checked by the client verifier), pruning, open checks."""

from __future__ import annotations

import random

import pytest

from libra.client.verifier import (
    verify_account_state,
    verify_consistency,
    verify_epoch_change_proof,
    verify_event,
    verify_ledger_info,
    verify_transaction_list,
)
from libra.storage import schema
from libra.storage.errors import StorageError
from libra.storage.jellyfish import node_key
from libra.storage.kv import WriteBatch
from libra.storage.libradb import LibraDB, TransactionToCommit
from libra.storage.testing import ChainBuilder, Validators
from libra.storage.verify import verify_store
from libra.types.ledger import EpochState


@pytest.fixture
def chain():
    rng = random.Random(7)
    return ChainBuilder(rng, Validators.generate(4, rng))


def test_commit_read_and_prove(kv_factory, chain):
    db = LibraDB(kv_factory())
    trusted = EpochState(1, chain.validators.verifier)
    lis = [chain.commit(db, size, end_epoch=(i == 3)) for i, size in enumerate([1, 5, 17, 3, 9])]
    latest = db.get_latest_ledger_info()
    assert latest == lis[-1] and db.next_version == 35
    verify_ledger_info(latest, chain.validators.verifier)
    li = latest.ledger_info
    for address in random.Random(1).sample(chain.accounts, 10) + [b"\x55" * 16]:
        proof = db.get_account_state_with_proof(address)
        assert verify_account_state(li, address, proof) == chain.state.get(address) == db.get_account_blob(address)
    old = db.get_account_state_with_proof(chain.accounts[0], 0)
    verify_account_state(li, chain.accounts[0], old)
    key = next(iter(chain.event_keys))
    events = db.get_events(key, 0, 100)
    assert [e.sequence_number for e in events] == list(range(chain.event_keys[key]))
    for event in events:
        assert verify_event(li, db.get_event_with_proof(key, event.sequence_number)) == event.event_bytes
    listing = db.get_transaction_list_with_proof(4, 12, include_events=True)
    assert verify_transaction_list(li, 4, listing) == tuple(db.get_transactions(4, 12))
    assert db.get_transactions(10**12, 10) == []
    frozen = db.get_accumulator_frozen_roots(6)
    verify_consistency(frozen, 6, db.get_accumulator_consistency_proof(6), li)
    last, state = verify_epoch_change_proof(db.get_epoch_change_proof(1, 2), trusted)
    assert last == lis[3] and state.epoch == 2
    state_proof = db.get_state_proof(3)
    assert state_proof.epoch_changes.ledger_info_with_sigs == (lis[3],)
    for version in range(db.next_version):
        txn = db.get_transaction(version)
        info = db.get_transaction_info(version)
        assert info.transaction_hash == TransactionToCommit(txn).transaction_hash
    assert all(f.ok for f in verify_store(db))


def test_sequence_index_and_bad_commits(kv_factory, chain):
    db = LibraDB(kv_factory())
    block = chain.block(4)
    prepared = db.prepare_block(block, 0)
    with pytest.raises(StorageError, match="ledger info root"):
        db.commit_prepared(prepared, chain.ledger_info(3, b"\x00" * 32))
    with pytest.raises(StorageError, match="expected 0"):
        db.commit_block(block, 1)
    db.commit_block(block, 0)
    assert db.get_transaction_version(block[2].sender, block[2].sequence_number) == 2
    assert db.get_transaction_version(b"\x00" * 16, 0) is None
    with pytest.raises(StorageError, match="not committed"):
        db.get_transaction(4)
    with pytest.raises(StorageError):
        db.commit_block([TransactionToCommit(b"x", {b"short": b""})], 4)


def test_reopen_and_pruning(tmp_path, chain):
    db = LibraDB.open(tmp_path / "db", prune_window=20)
    for _ in range(30):
        chain.commit(db, 5)
    root = db.get_state_root(db.latest_version)
    # blocks of 5 end at 4, 9, ...: pruning keeps the tree of the last block end at or before 149 - 19
    assert db.oldest_state_version == 129
    with pytest.raises(StorageError, match="pruned"):
        db.get_account_blob(chain.accounts[0], 3)
    li = db.get_latest_ledger_info().ledger_info
    verify_account_state(li, chain.accounts[0], db.get_account_state_with_proof(chain.accounts[0]))
    db.get_transaction_info_with_proof(0)  # transactions stay provable
    db.close()
    again = LibraDB.open(tmp_path / "db", prune_window=20)
    assert again.get_state_root(again.latest_version) == root
    for address in chain.accounts:
        assert again.get_account_blob(address) == chain.state[address]
    assert all(f.ok for f in verify_store(again))
    again.close()


def corrupt(store, key, value=None):
    batch = WriteBatch()
    if value is None:
        batch.delete(key)
    else:
        batch.put(key, value)
    store.write(batch)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda db: schema.version_key(schema.TRANSACTION_INFO, db.latest_version), "truncated"),
        (lambda db: schema.version_key(schema.TRANSACTION, db.latest_version), "truncated"),
        (lambda db: schema.accumulator_key(0, db.latest_version), "accumulator"),
        (lambda db: node_key(db.latest_version, bytes(32), 0), "state root|state tree"),
    ],
)
def test_damaged_store_refuses_to_open(kv_factory, chain, damage, message):
    store = kv_factory()
    db = LibraDB(store)
    for _ in range(3):
        chain.commit(db, 4)
    corrupt(store, damage(db))
    with pytest.raises(StorageError, match=message):
        LibraDB(store)


def test_wrong_signed_root_refuses_to_open(kv_factory, chain):
    store = kv_factory()
    db = LibraDB(store)
    chain.commit(db, 3)
    chain.commit(db, 3)
    bogus = chain.ledger_info(5, b"\x01" * 32)
    corrupt(store, schema.META_LATEST_LEDGER_INFO, bogus.to_bcs())
    with pytest.raises(StorageError, match="differs from the signed"):
        LibraDB(store)
    corrupt(store, schema.META_NEXT_VERSION, schema.u64_bytes(4))
    with pytest.raises(StorageError, match="beyond the commit pointer"):
        LibraDB(store)


def test_readers_never_see_a_block_whose_batch_is_written_but_not_yet_committed(kv_factory, chain):
    """Readers run beside the committing writer: in the moment between the batch write and the tip
    moving, the indexes must not point past the tip (the API once answered 'version N is not committed')."""
    db = LibraDB(kv_factory())
    chain.commit(db, 3)
    block = chain.block(4, events=2)
    seen: dict[str, object] = {}
    real_write = db._store.write

    def write_then_read(batch, sync=False):
        real_write(batch, sync=sync)
        seen["version"] = db.get_transaction_version(block[0].sender, block[0].sequence_number)
        seen["events"] = [event for key in chain.event_keys for event in db.get_events(key, 0, 1000)]

    db._store.write = write_then_read
    prepared = db.prepare_block(block, 3)
    db.commit_prepared(prepared, chain.ledger_info(6, prepared.root))
    assert seen["version"] is None
    assert seen["events"] and all(event.version < 3 for event in seen["events"])
    assert any(event.version >= 3 for key in chain.event_keys for event in db.get_events(key, 0, 1000))
    assert db.get_transaction_version(block[0].sender, block[0].sequence_number) == 3


def test_latest_blob_cache_answers_exactly_what_the_tree_holds(kv_factory):
    """Reads at the tip and at older versions, interleaved with commits, agree with an uncached store
    (a cache smaller than the accounts also exercises eviction)."""
    rng = random.Random(11)
    validators = Validators.generate(4, rng)
    chains = [ChainBuilder(random.Random(3), validators), ChainBuilder(random.Random(3), validators)]
    cached = LibraDB(kv_factory("cached"), blob_cache_size=7)
    plain = LibraDB(kv_factory("plain"), blob_cache_size=0)
    for _ in range(12):
        size = rng.randint(1, 6)
        for chain, db in zip(chains, (cached, plain), strict=True):
            chain.commit(db, size)
        addresses = chains[0].accounts + [b"\x42" * 16]
        for address in rng.sample(addresses, min(10, len(addresses))) + addresses[-3:]:
            version = rng.choice([None, cached.next_version - 1, rng.randrange(cached.next_version)])
            assert cached.get_account_blob(address, version) == plain.get_account_blob(address, version)
    for address in chains[0].accounts:
        assert cached.get_account_blob(address) == chains[0].state.get(address)
        for version in range(0, cached.next_version, 5):
            assert cached.get_account_blob(address, version) == plain.get_account_blob(address, version)


def test_cached_state_keys_are_the_account_key_hashes():
    from libra.crypto.merkle import hash_account_key
    from libra.storage.libradb import _state_key

    rng = random.Random(3)
    addresses = [rng.randbytes(16) for _ in range(50)]
    for address in addresses + addresses[::-1]:  # misses, then hits
        assert _state_key(address) == hash_account_key(address)
