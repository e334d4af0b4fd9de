"""The transaction pool: per-account sequence queues with capacity and TTL limits.

Rules (Diem's mempool, simplified where Diem's extras serve no client):

* A transaction is keyed by (sender, sequence number). It is *ready* when every lower
  sequence number of its sender is either committed or also pooled; otherwise it is
  *parked* until the gap fills. At most ``max_parked_per_account`` sequence numbers
  past the next ready one are accepted.
* Re-submitting the identical transaction is a no-op success; a different
  transaction for a pooled (sender, seq) is refused (Diem: -32010 invalid update),
  unless it offers a strictly higher gas price, in which case it replaces the old one.
* Capacity: at most ``capacity`` transactions in all (-32008 mempool full) and
  ``capacity_per_account`` per sender (-32009 too many transactions).
* Transactions leave on commit (every seq below the committed account sequence
  number), on expiry (``expiration_timestamp_secs`` passed by ledger time) and after a
  system TTL in the pool.
* ``take_block`` yields ready transactions in gas-price order (highest first), then
  arrival order, never skipping a sender's lower sequence number.

The pool does no I/O and reads no clock: times are arguments, so the same calls
give the same pool.
"""

from __future__ import annotations

import enum
import heapq
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from libra.types.move import AccountAddress
from libra.types.transaction import SignedTransaction

# Encodings of pooled transactions, for the block path (which receives the decoded objects):
# id(txn) -> (txn, signed transaction bytes, transaction hash). An entry lives while its
# transaction is in some pool; the identity check in ``encoding_of`` makes a reused id harmless.
_ENCODINGS: dict[int, tuple[SignedTransaction, bytes, bytes]] = {}
_ENCODINGS_CAP = 1_000_000  # safety net for pools dropped without draining (tests)


def encoding_of(txn: SignedTransaction) -> tuple[bytes, bytes] | None:
    """(BCS bytes, hash) of a transaction admitted to a pool and still there; None otherwise."""
    entry = _ENCODINGS.get(id(txn))
    if entry is None or entry[0] is not txn:
        return None
    return entry[1], entry[2]


def _remember(pooled: PooledTransaction) -> None:
    if len(_ENCODINGS) >= _ENCODINGS_CAP:
        _ENCODINGS.clear()
    _ENCODINGS[id(pooled.txn)] = (pooled.txn, pooled.txn_bytes, pooled.txn_hash)


def _forget(pooled: PooledTransaction) -> None:
    entry = _ENCODINGS.get(id(pooled.txn))
    if entry is not None and entry[0] is pooled.txn:
        del _ENCODINGS[id(pooled.txn)]


class AddStatus(enum.Enum):
    ACCEPTED = "accepted"
    ALREADY_PRESENT = "already_present"
    MEMPOOL_FULL = "mempool_full"
    TOO_MANY_FOR_ACCOUNT = "too_many_transactions"
    INVALID_UPDATE = "invalid_update"
    SEQUENCE_TOO_OLD = "sequence_number_too_old"
    SEQUENCE_TOO_NEW = "sequence_number_too_new"


@dataclass(frozen=True, slots=True)
class PoolConfig:
    capacity: int = 10_000
    capacity_per_account: int = 100
    max_parked_per_account: int = 100
    system_ttl_secs: float = 600.0


@dataclass(slots=True)
class PooledTransaction:
    txn: SignedTransaction
    txn_bytes: bytes
    txn_hash: bytes
    arrival: int
    inserted_at: float

    @property
    def gas_unit_price(self) -> int:
        return self.txn.raw_txn.gas_unit_price

    @property
    def expiration_secs(self) -> int:
        return self.txn.raw_txn.expiration_timestamp_secs


@dataclass(slots=True)
class _AccountQueue:
    committed_seq: int
    by_seq: dict[int, PooledTransaction] = field(default_factory=dict)

    def next_ready_seq(self) -> int:
        """First sequence number not yet pooled, counting up from the committed one."""
        seq = self.committed_seq
        while seq in self.by_seq:
            seq += 1
        return seq


class Mempool:
    """Pending transactions of all senders; not thread-safe (owned by one task)."""

    def __init__(self, config: PoolConfig | None = None) -> None:
        self.config = config or PoolConfig()
        self._accounts: dict[AccountAddress, _AccountQueue] = {}
        self._by_hash: dict[bytes, PooledTransaction] = {}
        self._arrivals = itertools.count()
        # eviction candidates, earliest first: (expiration secs | insertion time, arrival, hash);
        # entries of transactions already gone are skipped when popped and dropped on compaction
        self._by_expiration: list[tuple[float, int, bytes]] = []
        self._by_insertion: list[tuple[float, int, bytes]] = []
        # admission's decoded view of the committed state it last checked against, and its
        # native checker (both opaque here)
        self.admission_state: tuple[int, object] | None = None
        self.native_admission: Any = None

    def __len__(self) -> int:
        return len(self._by_hash)

    def contains_hash(self, txn_hash: bytes) -> bool:
        return txn_hash in self._by_hash

    def add(
        self,
        txn: SignedTransaction,
        txn_bytes: bytes,
        txn_hash: bytes,
        account_sequence_number: int,
        now: float,
    ) -> AddStatus:
        """Admit an already validated transaction given its sender's committed seq."""
        sender = txn.raw_txn.sender
        seq = txn.raw_txn.sequence_number
        queue = self._accounts.get(sender)
        if queue is None:
            queue = _AccountQueue(account_sequence_number)
        elif account_sequence_number > queue.committed_seq:
            self._advance(queue, account_sequence_number)
        if seq < queue.committed_seq:
            return AddStatus.SEQUENCE_TOO_OLD
        existing = queue.by_seq.get(seq)
        if existing is not None:
            return self._replace(queue, existing, txn, txn_bytes, txn_hash, now)
        parked = self.config.max_parked_per_account
        # the next ready seq is at least the committed one: only a seq past that bound needs it
        if seq > queue.committed_seq + parked and seq > queue.next_ready_seq() + parked:
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

    def _schedule(self, pooled: PooledTransaction) -> None:
        heapq.heappush(self._by_expiration, (pooled.expiration_secs, pooled.arrival, pooled.txn_hash))
        heapq.heappush(self._by_insertion, (pooled.inserted_at, pooled.arrival, pooled.txn_hash))
        if len(self._by_expiration) > 2 * len(self._by_hash) + 1024:  # mostly gone: rebuild
            live = self._by_hash.values()
            self._by_expiration = [(p.expiration_secs, p.arrival, p.txn_hash) for p in live]
            self._by_insertion = [(p.inserted_at, p.arrival, p.txn_hash) for p in live]
            heapq.heapify(self._by_expiration)
            heapq.heapify(self._by_insertion)

    def _replace(
        self,
        queue: _AccountQueue,
        existing: PooledTransaction,
        txn: SignedTransaction,
        txn_bytes: bytes,
        txn_hash: bytes,
        now: float,
    ) -> AddStatus:
        if existing.txn_hash == txn_hash:
            return AddStatus.ALREADY_PRESENT
        if txn.raw_txn.gas_unit_price <= existing.gas_unit_price:
            return AddStatus.INVALID_UPDATE
        del self._by_hash[existing.txn_hash]
        _forget(existing)
        pooled = PooledTransaction(txn, txn_bytes, txn_hash, next(self._arrivals), now)
        queue.by_seq[txn.raw_txn.sequence_number] = pooled
        self._by_hash[txn_hash] = pooled
        _remember(pooled)
        self._schedule(pooled)
        return AddStatus.ACCEPTED

    def _advance(self, queue: _AccountQueue, committed_seq: int) -> None:
        """Raise the queue's committed seq (never lowered) and drop what it consumed; every
        pooled seq is at least the committed one, so only a raise can drop anything."""
        if committed_seq <= queue.committed_seq:
            return
        if queue.by_seq and min(queue.by_seq) < committed_seq:
            for seq in [s for s in queue.by_seq if s < committed_seq]:
                pooled = queue.by_seq.pop(seq)
                self._by_hash.pop(pooled.txn_hash, None)
                _forget(pooled)
        queue.committed_seq = committed_seq

    def commit(self, committed: Iterable[tuple[AccountAddress, int]]) -> None:
        """Drop what a committed block consumed: (sender, new account sequence number)."""
        for sender, next_seq in committed:
            queue = self._accounts.get(sender)
            if queue is None:
                continue
            self._advance(queue, max(queue.committed_seq, next_seq))
            if not queue.by_seq:
                del self._accounts[sender]

    def remove(self, txn_hash: bytes) -> None:
        """Drop one transaction (e.g. it was discarded at execution)."""
        pooled = self._by_hash.pop(txn_hash, None)
        if pooled is None:
            return
        _forget(pooled)
        sender = pooled.txn.raw_txn.sender
        queue = self._accounts[sender]
        queue.by_seq.pop(pooled.txn.raw_txn.sequence_number, None)
        if not queue.by_seq:
            del self._accounts[sender]

    def evict_expired(self, ledger_time_secs: int, now: float) -> int:
        """Remove transactions expired by ledger time or older than the system TTL.

        Only candidates whose deadline passed are looked at (two heaps), not the whole pool.
        """
        ttl_deadline = now - self.config.system_ttl_secs
        doomed: dict[bytes, None] = {}
        for heap, deadline, inclusive in (
            (self._by_expiration, float(ledger_time_secs), True),
            (self._by_insertion, ttl_deadline, False),
        ):
            while heap and (heap[0][0] <= deadline if inclusive else heap[0][0] < deadline):
                txn_hash = heapq.heappop(heap)[2]
                pooled = self._by_hash.get(txn_hash)
                if pooled is not None and (
                    pooled.expiration_secs <= ledger_time_secs or pooled.inserted_at < ttl_deadline
                ):
                    doomed[txn_hash] = None
        for txn_hash in doomed:
            self.remove(txn_hash)
        return len(doomed)

    def has_ready(self) -> bool:
        """Whether ``take_block(1)`` would give a transaction (some sender's next one is pooled),
        found without ordering the senders."""
        return any(queue.committed_seq in queue.by_seq for queue in self._accounts.values())

    def take_block(self, max_transactions: int, exclude: set[bytes] | None = None) -> list[PooledTransaction]:
        """Ready transactions for a block, highest gas price first, senders in order.

        ``exclude`` holds hashes already proposed in uncommitted blocks; a sender whose
        transaction is excluded continues after it.
        """
        exclude = exclude or set()
        heads: list[tuple[int, int, AccountAddress, int]] = []
        for sender, queue in self._accounts.items():
            seq = queue.committed_seq
            while (pooled := queue.by_seq.get(seq)) is not None and pooled.txn_hash in exclude:
                seq += 1
            if pooled is not None:
                heapq.heappush(heads, (-pooled.gas_unit_price, pooled.arrival, sender, seq))
        block: list[PooledTransaction] = []
        while heads and len(block) < max_transactions:
            _, _, sender, seq = heapq.heappop(heads)
            queue = self._accounts[sender]
            block.append(queue.by_seq[seq])
            seq += 1
            while (pooled := queue.by_seq.get(seq)) is not None and pooled.txn_hash in exclude:
                seq += 1
            if pooled is not None:
                heapq.heappush(heads, (-pooled.gas_unit_price, pooled.arrival, sender, seq))
        return block

    def pending_for(self, sender: AccountAddress) -> list[PooledTransaction]:
        queue = self._accounts.get(sender)
        if queue is None:
            return []
        return [queue.by_seq[s] for s in sorted(queue.by_seq)]
