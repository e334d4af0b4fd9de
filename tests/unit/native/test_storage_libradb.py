"""A store built by the native core holds the bytes a store built by the Python path holds.

Generated workloads drive two ``LibraDB`` side by side (``native_tree`` on and off): blocks
creating, overwriting and deleting accounts (among them accounts whose state keys share up
to 5 nibbles), events, failed statuses, empty blocks, chains of uncommitted blocks, forks,
stale commits, ledger infos and prune windows. After every step the prepared blocks
(infos, roots, changed blobs) agree; after every commit the whole key-value content is
equal, and so are the roots, blobs and proofs of every readable version.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libra.crypto.merkle import hash_account_key
from libra.storage import schema
from libra.storage.errors import StorageError
from libra.storage.kv import MemoryStore, RocksStore, WriteBatch
from libra.storage.libradb import EventToCommit, LibraDB, PreparedBlock, TransactionToCommit
from libra.types.ledger import (
    EXECUTED,
    KEPT_MOVE_ABORT,
    KEPT_OUT_OF_GAS,
    AbortLocation,
    BlockInfo,
    KeptVMStatus,
    LedgerInfo,
    LedgerInfoWithSignatures,
)


def _addresses_sharing_prefixes() -> list[bytes]:
    """Addresses whose state keys share their first 3, 4 or 5 nibbles (found by trying), then random ones."""
    by_prefix: dict[int, dict[str, list[bytes]]] = {3: defaultdict(list), 4: defaultdict(list), 5: defaultdict(list)}
    for index in range(40000):
        address = hashlib.sha3_256(index.to_bytes(4, "little")).digest()[:16]
        nibbles = hash_account_key(address).hex()
        for length, groups in by_prefix.items():
            groups[nibbles[:length]].append(address)
    chosen: list[bytes] = []
    for length, count in ((5, 2), (4, 2), (3, 2)):
        groups = sorted((g for g in by_prefix[length].values() if len(g) >= 2), key=lambda g: g[0])
        for group in groups[:count]:
            chosen += [a for a in group[:3] if a not in chosen]
    rng = random.Random(5)
    chosen += [rng.randbytes(16) for _ in range(10)]
    return chosen


ADDRESSES = _addresses_sharing_prefixes()
EVENT_KEYS = [bytes([i]) * 24 for i in range(4)]
ABORT = KeptVMStatus(KEPT_MOVE_ABORT, AbortLocation(None), abort_code=7)


@st.composite
def transactions(draw: st.DrawFn) -> TransactionToCommit:
    blobs = draw(
        st.dictionaries(
            st.sampled_from(ADDRESSES), st.one_of(st.none(), st.binary(min_size=1, max_size=40)), max_size=4
        )
    )
    events = [
        EventToCommit(draw(st.sampled_from(EVENT_KEYS)), draw(st.integers(0, 2**64 - 1)), draw(st.binary(max_size=30)))
        for _ in range(draw(st.integers(0, 3)))
    ]
    user = draw(st.booleans())
    return TransactionToCommit(
        transaction_bytes=draw(st.binary(min_size=1, max_size=60)),
        account_blobs=blobs,
        events=events,
        gas_used=draw(st.integers(0, 2**64 - 1)),
        status=draw(st.sampled_from([EXECUTED, EXECUTED, KeptVMStatus(KEPT_OUT_OF_GAS), ABORT])),
        sender=draw(st.sampled_from(ADDRESSES)) if user else None,
        sequence_number=draw(st.integers(0, 2**64 - 1)) if user else None,
        write_set_bytes=draw(st.binary(max_size=20)),
    )


blocks = st.lists(transactions(), max_size=6)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("extend"), blocks),  # a child of the newest uncommitted block (or of the tip)
        st.tuples(st.just("fork"), blocks),  # a sibling of the newest uncommitted block
        st.tuples(st.just("commit"), st.booleans()),  # the newest uncommitted block (and its ancestors); with an LI?
        st.tuples(st.just("commit oldest"), st.booleans()),  # the oldest uncommitted block
        st.tuples(st.just("reopen"), st.booleans()),  # a fresh LibraDB on the same store (cold caches)
    ),
    min_size=1,
    max_size=20,
)


def summary(block: PreparedBlock) -> tuple[object, ...]:
    return (
        block.first_version, block.next_version, block.transaction_infos, block.root, block.state_root,
        block.changed_blobs, block.frozen,
    )


@dataclass
class Twins:
    """The same operations on a native and a Python store; ``blocks`` pairs their prepared blocks."""

    prune_window: int | None
    cache_size: int
    stores: tuple[MemoryStore, MemoryStore] = field(default_factory=lambda: (MemoryStore(), MemoryStore()))
    chain: list[tuple[PreparedBlock, PreparedBlock]] = field(default_factory=list)
    forks: list[tuple[PreparedBlock, PreparedBlock]] = field(default_factory=list)
    epoch_round: int = 0

    def __post_init__(self) -> None:
        self.open()

    def open(self) -> None:
        self.dbs = tuple(
            LibraDB(
                store, prune_window=self.prune_window, node_cache_size=self.cache_size,
                leaf_cache_size=self.cache_size, native_tree=native,
            )
            for store, native in zip(self.stores, (True, False), strict=True)
        )
        self.chain.clear()
        self.forks.clear()

    def both(self, call):  # type: ignore[no-untyped-def]
        """``call(db, index)`` on each side: the same answer, or the same error."""
        answers = []
        for index, db in enumerate(self.dbs):
            try:
                answers.append(("ok", call(db, index)))
            except StorageError as exc:
                answers.append((type(exc), str(exc)))
        if answers[0][0] == "ok" and answers[1][0] == "ok":
            return answers[0][1], answers[1][1]
        assert answers[0] == answers[1]
        return None

    def prepare(self, txns: list[TransactionToCommit], parent: tuple[PreparedBlock, PreparedBlock] | None):
        first = parent[0].next_version if parent else self.dbs[0].next_version
        pair = self.both(lambda db, side: db.prepare_block(txns, first, parent[side] if parent else None))
        if pair is not None:
            assert summary(pair[0]) == summary(pair[1])
        return pair

    def commit(self, pair: tuple[PreparedBlock, PreparedBlock], with_ledger_info: bool) -> None:
        ledger_info = None
        if with_ledger_info:
            self.epoch_round += 1
            version = pair[0].next_version - 1
            ledger_info = LedgerInfoWithSignatures(
                LedgerInfo(BlockInfo(1, self.epoch_round, bytes(32), pair[0].root, version, 0, None), bytes(32)), ()
            )
        self.both(lambda db, side: db.commit_prepared(pair[side], ledger_info))
        self.check_store()

    def check_store(self) -> None:
        native, python = (dict(store._data) for store in self.stores)
        assert native == python
        if self.dbs[0].next_version == 0:
            return
        self.both(lambda db, _: (db.next_version, db.oldest_state_version, db.get_latest_ledger_info()))
        latest = self.dbs[0].latest_version
        for version in range(self.dbs[0].oldest_state_version, self.dbs[0].next_version):
            assert self.both(lambda db, _, v=version: db.get_state_root(v)) is not None
            for address in ADDRESSES[::3]:
                answers = self.both(lambda db, _, v=version, a=address: (
                    db.get_account_blob(a, v), db.get_account_state_with_proof(a, v, latest)
                ))
                assert answers is not None and answers[0] == answers[1]
        answers = self.both(lambda db, _: (
            db.get_accumulator_root(latest),
            db.get_transaction_list_with_proof(0, latest + 1, latest, include_events=True),
            [db.get_account_blob(a) for a in ADDRESSES],
            [db.get_events(key, 0, 100) for key in EVENT_KEYS],
            db.get_accumulator_consistency_proof(None, latest),
        ))
        assert answers is not None and answers[0] == answers[1]


def run(twins: Twins, plan: list[tuple[str, object]]) -> None:
    for kind, argument in plan:
        if kind == "extend":
            pair = twins.prepare(argument, twins.chain[-1] if twins.chain else None)  # type: ignore[arg-type]
            if pair is not None:
                twins.chain.append(pair)
        elif kind == "fork":
            parent = twins.chain[-2] if len(twins.chain) >= 2 else None
            pair = twins.prepare(argument, parent)  # type: ignore[arg-type]
            if pair is not None:
                twins.forks.append(pair)
        elif kind in ("commit", "commit oldest") and twins.chain:
            pair = twins.chain[-1] if kind == "commit" else twins.chain[0]
            twins.commit(pair, bool(argument))
            twins.chain = twins.chain[twins.chain.index(pair) + 1 :]
            for fork in twins.forks:  # committed or stale now: either way both sides say the same
                twins.both(lambda db, side, f=fork: db.commit_prepared(f[side]))
                twins.check_store()
            twins.forks.clear()
        elif kind == "reopen":
            twins.open()
            twins.check_store()
    while twins.chain:
        twins.commit(twins.chain[-1], True)
        twins.chain.clear()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    st.lists(transactions(), min_size=1, max_size=6), steps,
    st.sampled_from([None, None, 1, 2, 5]), st.sampled_from([2, 8, 20000]),
)
def test_native_and_python_stores_hold_the_same_bytes_and_answer_alike(genesis, plan, prune_window, cache_size):
    twins = Twins(prune_window, cache_size)
    first = twins.prepare(genesis, None)
    assert first is not None
    twins.commit(first, True)
    run(twins, [("extend", [TransactionToCommit(b"\x01", {a: b"open" for a in ADDRESSES})]), *plan])


@pytest.mark.parametrize("tables", [(), schema.TABLES], ids=["one family", "a family per table"])
def test_a_rocksdb_store_gets_the_same_bytes(tmp_path, tables):
    """RocksDB takes the native puts through ``fill`` (into each table's column family, in the
    ledger's layout): the same content as the Python path's puts."""
    rng = random.Random(3)
    stores = []
    for native in (True, False):
        store = RocksStore(tmp_path / f"db-{native}", tables=tables)
        assert store.tables == bytes(sorted(prefix[0] for prefix in tables))
        db = LibraDB(store, native_tree=native, prune_window=3)
        for _ in range(6):
            txns = [
                TransactionToCommit(
                    rng.randbytes(30),
                    {rng.choice(ADDRESSES): rng.choice([None, rng.randbytes(50)]) for _ in range(3)},
                    [EventToCommit(rng.choice(EVENT_KEYS), rng.getrandbits(64), rng.randbytes(9))],
                    sender=rng.choice(ADDRESSES), sequence_number=rng.getrandbits(32),
                )
                for _ in range(5)
            ]
            db.commit_block(txns, db.next_version)
        stores.append(dict(store.iterate(b"")))
        db.close()
        rng = random.Random(3)
    assert stores[0] == stores[1] and len(stores[0]) > 100


BAD_INPUTS = {
    "address of 15 bytes": TransactionToCommit(b"t", {b"a" * 15: b"blob"}),
    "event key of 23 bytes": TransactionToCommit(b"t", events=[EventToCommit(b"k" * 23, 0, b"e")]),
    "sender without a sequence number": TransactionToCommit(b"t", sender=b"s" * 16),
    "sender of 17 bytes": TransactionToCommit(b"t", sender=b"s" * 17, sequence_number=1),
    "gas beyond u64": TransactionToCommit(b"t", gas_used=2**64),
    "negative gas": TransactionToCommit(b"t", gas_used=-1),
    "event sequence beyond u64": TransactionToCommit(b"t", events=[EventToCommit(b"k" * 24, 2**64, b"e")]),
    "sequence number beyond u64": TransactionToCommit(b"t", sender=b"s" * 16, sequence_number=2**64),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_gets_the_python_error(name):
    """The native core declines what it does not take; the Python store then raises its own error."""
    errors = []
    for native in (True, False):
        db = LibraDB.in_memory() if not native else LibraDB(MemoryStore(), native_tree=True)
        db.commit_block([TransactionToCommit(b"genesis", {ADDRESSES[0]: b"x"})], 0)
        with pytest.raises(Exception) as caught:
            db.prepare_block([TransactionToCommit(b"fine"), BAD_INPUTS[name]], 1)
        errors.append((type(caught.value), str(caught.value)))
    assert errors[0] == errors[1]


def test_inputs_of_other_types_take_the_python_path_on_a_native_store():
    """A bytearray blob, a bool gas and a non-dict mapping: what the Python path accepts, with the same result."""
    from types import MappingProxyType

    txns = [
        TransactionToCommit(b"t0", {ADDRESSES[0]: bytearray(b"blob")}, gas_used=True),  # type: ignore[dict-item]
        TransactionToCommit(b"t1", MappingProxyType({ADDRESSES[1]: b"b", ADDRESSES[2]: None})),
    ]
    twins = Twins(None, 20000)
    first = twins.prepare([TransactionToCommit(b"g", {ADDRESSES[2]: b"old"})], None)
    assert first is not None
    twins.commit(first, True)
    for txn in txns:
        pair = twins.prepare([txn], None)
        assert pair is not None
        twins.commit(pair, False)
    child = twins.prepare([TransactionToCommit(b"t2", {ADDRESSES[0]: b"new"})], None)
    assert child is not None
    grandchild = twins.prepare([TransactionToCommit(b"t3", {ADDRESSES[3]: bytearray(b"x")})], child)
    assert grandchild is not None  # a Python-prepared block on a native parent, then a native child on it
    great = twins.prepare([TransactionToCommit(b"t4", {ADDRESSES[3]: None, ADDRESSES[0]: b"z"})], grandchild)
    assert great is not None
    twins.commit(great, True)


def test_a_missing_node_is_the_same_storage_error():
    """A leaf lost from the store: reads and a block over it fail alike, naming the node."""
    answers = []
    key = hash_account_key(ADDRESSES[0])
    for native in (True, False):
        store = MemoryStore()
        LibraDB(store, native_tree=native).commit_block([TransactionToCommit(b"g", {a: b"x" for a in ADDRESSES})], 0)
        lost = next(k for k, v in store._data.items() if k[:1] == b"N" and v[:1] == b"\x01" and v[1:33] == key)
        batch = WriteBatch()
        batch.delete(lost)
        store.write(batch)
        db = LibraDB(store, native_tree=native)  # cold caches
        errors = []
        for call in (
            lambda db=db: db.get_account_blob(ADDRESSES[0]),
            lambda db=db: db.get_account_state_with_proof(ADDRESSES[0]),
            lambda db=db: db.prepare_block([TransactionToCommit(b"t", {ADDRESSES[0]: b"y"})], 1),
        ):
            with pytest.raises(StorageError) as caught:
                call()
            errors.append(str(caught.value))
        answers.append(errors)
    assert answers[0] == answers[1]
    assert answers[0][0].startswith("missing state tree node")


def test_fill_hands_each_put_its_family_by_first_byte():
    """``BlockBatch.fill(put, families)`` gives ``put`` the family of the key's first byte, in
    the batch's order; a family list that is not one per byte value is refused."""
    from libra import _core

    items = [(b"A\x00", b"x"), (b"N\x01\x02", b"y"), (b"T\x05", b"z"), (b"A\x01", b"w")]
    batch = _core.BlockBatch.from_items(items)
    families = [f"family-{first}" for first in range(256)]
    calls = []
    batch.fill(lambda key, value, family: calls.append((key, value, family)), families)
    assert calls == [(key, value, f"family-{key[0]}") for key, value in batch.items()]
    assert sorted((key, value) for key, value, _ in calls) == sorted(items)
    with pytest.raises(ValueError, match="256"):
        batch.fill(lambda *args: None, families[:255])
