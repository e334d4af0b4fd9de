import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from libra.mempool.pool import AddStatus, Mempool, PoolConfig
from libra.types.move import CORE_CODE_ADDRESS, AccountAddress, ModuleId
from libra.types.transaction import Ed25519Authenticator, RawTransaction, ScriptFunction, SignedTransaction


def make_txn(sender: int, seq: int, gas_price: int = 0, expiry: int = 10_000) -> SignedTransaction:
    payload = ScriptFunction(ModuleId(CORE_CODE_ADDRESS, "PaymentScripts"), "peer_to_peer_with_metadata")
    raw = RawTransaction(
        AccountAddress(sender.to_bytes(16, "big")), seq, payload, 1_000_000, gas_price, "XUS", expiry, 2
    )
    return SignedTransaction(raw, Ed25519Authenticator(bytes(32), bytes(64)))


def add(pool: Mempool, txn: SignedTransaction, account_seq: int = 0, now: float = 0.0) -> AddStatus:
    data = txn.to_bcs()
    return pool.add(txn, data, hashlib.sha3_256(data).digest(), account_seq, now)


def test_ready_transactions_come_out_in_sequence_order_and_gaps_park():
    pool = Mempool()
    for seq in (0, 1, 3):
        assert add(pool, make_txn(1, seq)) is AddStatus.ACCEPTED
    assert [p.txn.sequence_number for p in pool.take_block(10)] == [0, 1]
    assert add(pool, make_txn(1, 2)) is AddStatus.ACCEPTED
    assert [p.txn.sequence_number for p in pool.take_block(10)] == [0, 1, 2, 3]


def test_identical_resubmission_is_a_no_op_and_a_different_one_is_refused():
    pool = Mempool()
    txn = make_txn(1, 0)
    assert add(pool, txn) is AddStatus.ACCEPTED
    assert add(pool, txn) is AddStatus.ALREADY_PRESENT
    assert len(pool) == 1
    assert add(pool, make_txn(1, 0, expiry=20_000)) is AddStatus.INVALID_UPDATE
    assert add(pool, make_txn(1, 0, gas_price=5)) is AddStatus.ACCEPTED
    assert len(pool) == 1
    assert pool.take_block(1)[0].gas_unit_price == 5


def test_stale_and_far_future_sequence_numbers_refused():
    pool = Mempool(PoolConfig(max_parked_per_account=2))
    assert add(pool, make_txn(1, 4), account_seq=5) is AddStatus.SEQUENCE_TOO_OLD
    assert add(pool, make_txn(1, 8), account_seq=5) is AddStatus.SEQUENCE_TOO_NEW
    assert add(pool, make_txn(1, 7), account_seq=5) is AddStatus.ACCEPTED


def test_capacity_limits_total_and_per_account():
    pool = Mempool(PoolConfig(capacity=3, capacity_per_account=2))
    assert add(pool, make_txn(1, 0)) is AddStatus.ACCEPTED
    assert add(pool, make_txn(1, 1)) is AddStatus.ACCEPTED
    assert add(pool, make_txn(1, 2)) is AddStatus.TOO_MANY_FOR_ACCOUNT
    assert add(pool, make_txn(2, 0)) is AddStatus.ACCEPTED
    assert add(pool, make_txn(3, 0)) is AddStatus.MEMPOOL_FULL


def test_commit_removes_consumed_sequence_numbers():
    pool = Mempool()
    for seq in range(3):
        add(pool, make_txn(1, seq))
    pool.commit([(AccountAddress((1).to_bytes(16, "big")), 2)])
    assert [p.txn.sequence_number for p in pool.take_block(10)] == [2]
    assert len(pool) == 1


def test_expiry_by_ledger_time_and_system_ttl():
    pool = Mempool(PoolConfig(system_ttl_secs=60))
    add(pool, make_txn(1, 0, expiry=100), now=0)
    add(pool, make_txn(2, 0, expiry=10_000), now=0)
    add(pool, make_txn(3, 0, expiry=10_000), now=50)
    assert pool.evict_expired(ledger_time_secs=100, now=70) == 2
    assert [p.txn.raw_txn.sender.value[-1] for p in pool.take_block(10)] == [3]


def test_gas_price_orders_senders_but_never_reorders_one_sender():
    pool = Mempool()
    add(pool, make_txn(1, 0, gas_price=1))
    add(pool, make_txn(1, 1, gas_price=100))
    add(pool, make_txn(2, 0, gas_price=50))
    order = [(p.txn.raw_txn.sender.value[-1], p.txn.sequence_number) for p in pool.take_block(10)]
    assert order == [(2, 0), (1, 0), (1, 1)]


def test_excluded_in_flight_transactions_are_skipped():
    pool = Mempool()
    hashes = []
    for seq in range(3):
        txn = make_txn(1, seq)
        add(pool, txn)
        hashes.append(hashlib.sha3_256(txn.to_bcs()).digest())
    taken = pool.take_block(10, exclude={hashes[0]})
    assert [p.txn.sequence_number for p in taken] == [1, 2]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(0, 6)), max_size=40), st.integers(1, 20))
def test_block_never_skips_a_senders_sequence_number(ops, block_size):
    pool = Mempool()
    for sender, seq in ops:
        add(pool, make_txn(sender, seq))
    taken = pool.take_block(block_size)
    assert len(taken) <= block_size
    per_sender: dict[bytes, list[int]] = {}
    for pooled in taken:
        per_sender.setdefault(pooled.txn.raw_txn.sender.value, []).append(pooled.txn.sequence_number)
    for seqs in per_sender.values():
        assert seqs == list(range(len(seqs)))


class _PlainRules(Mempool):
    """The pool's rules as first written (every bound computed in full), to hold the faster
    ``add`` to: same answers, same pool."""

    def add(self, txn, txn_bytes, txn_hash, account_sequence_number, now):  # type: ignore[no-untyped-def]
        from libra.mempool.pool import PooledTransaction, _AccountQueue, _forget, _remember

        sender, seq = txn.raw_txn.sender, txn.raw_txn.sequence_number
        queue = self._accounts.get(sender)
        if queue is None:
            queue = _AccountQueue(account_sequence_number)
        else:
            committed = max(queue.committed_seq, account_sequence_number)
            for stale in [s for s in queue.by_seq if s < committed]:
                pooled = queue.by_seq.pop(stale)
                self._by_hash.pop(pooled.txn_hash, None)
                _forget(pooled)
            queue.committed_seq = committed
        if seq < queue.committed_seq:
            return AddStatus.SEQUENCE_TOO_OLD
        existing = queue.by_seq.get(seq)
        if existing is not None:
            return self._replace(queue, existing, txn, txn_bytes, txn_hash, now)
        if seq > queue.next_ready_seq() + self.config.max_parked_per_account:
            return AddStatus.SEQUENCE_TOO_NEW
        if len(self._by_hash) >= self.config.capacity:
            return AddStatus.MEMPOOL_FULL
        if len(queue.by_seq) >= self.config.capacity_per_account:
            return AddStatus.TOO_MANY_FOR_ACCOUNT
        pooled = PooledTransaction(txn, txn_bytes, txn_hash, next(self._arrivals), now)
        queue.by_seq[seq] = pooled
        self._accounts[sender] = queue
        self._by_hash[txn_hash] = pooled
        _remember(pooled)
        self._schedule(pooled)
        return AddStatus.ACCEPTED


_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(1, 3), st.integers(0, 12), st.integers(0, 6), st.integers(0, 2)),
        st.tuples(st.just("commit"), st.integers(1, 3), st.integers(0, 12)),
        st.tuples(st.just("remove"), st.integers(0, 30)),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(_OPS, st.integers(1, 12), st.integers(1, 5), st.integers(0, 4))
def test_add_answers_as_the_plain_rules(ops, capacity, per_account, parked):  # type: ignore[no-untyped-def]
    config = PoolConfig(capacity=capacity, capacity_per_account=per_account, max_parked_per_account=parked)
    pools = (Mempool(config), _PlainRules(config))
    hashes: list[bytes] = []
    for op in ops:
        answers = []
        for pool in pools:
            if op[0] == "add":
                _, sender, seq, account_seq, price = op
                txn = make_txn(sender, seq, gas_price=price)
                answers.append(add(pool, txn, account_seq))
                hashes.append(hashlib.sha3_256(txn.to_bcs()).digest())
            elif op[0] == "commit":
                pool.commit([(AccountAddress(op[1].to_bytes(16, "big")), op[2])])
            elif hashes:
                pool.remove(hashes[op[1] % len(hashes)])
        assert answers[:1] == answers[1:]
        contents = [[(p.txn_hash, p.arrival) for p in pool.take_block(100)] for pool in pools]
        assert contents[0] == contents[1]
        assert [len(pool) for pool in pools] == [len(pools[0])] * 2
        assert all(pool.has_ready() == bool(pool.take_block(1)) for pool in pools)
