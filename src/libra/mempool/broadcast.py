"""Handing accepted transactions on to peers until each peer has taken them.

A node that accepts a transaction from a client (or from a follower it serves) answers
"accepted" before any validator has the transaction. Gossip alone is best effort: a frame
is lost when a connection breaks, and a peer whose pool is full refuses what it is sent.
Without more, such a transaction waits in the accepting node's pool until its TTL while
every later transaction of its sender is parked behind the gap. So, as Diem's shared
mempool does, every batch is acknowledged and what a peer did not take is sent again:

* The node keeps a **timeline** of the transactions it shares, in the order it accepted
  them. Per peer, a cursor says how far along the timeline the peer was sent.
* Batches of at most ``max_batch`` transactions go out, at most ``max_in_flight``
  unacknowledged batches per peer (so traffic stays bounded whatever the backlog).
* The peer answers each batch with an **ack** naming the transactions it could not take
  *for now* (pool full, too many for the sender, sequence number too far ahead); they are
  offered again after ``retry_secs``. What it refused for good (bad signature, sequence
  number already used, ...) or took is done.
* A batch not acknowledged within ``ack_timeout_secs`` (lost frame, broken connection,
  overloaded peer) is offered again in full; a peer that takes it twice answers at once.
* A peer that (re)connects starts from the beginning of the timeline: a restarted peer
  lost its pool, and a re-sent transaction it already has costs it a hash lookup.
* Transactions that left this node's pool (committed, expired, evicted) are no longer
  offered: ``alive`` (the pool's membership test) says which are still there.

Like the pool, this does no I/O and reads no clock: times are arguments.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from libra.bcs import Deserializer, Serializer
from libra.mempool.pool import AddStatus

RETRY_STATUSES = frozenset({AddStatus.MEMPOOL_FULL, AddStatus.TOO_MANY_FOR_ACCOUNT, AddStatus.SEQUENCE_TOO_NEW})
"""Pool answers that mean "not now": the sender offers the transaction again later."""

P = TypeVar("P", bound=Hashable)  # how the caller names a peer

MAX_BATCH_RECEIVED = 1000
"""Transactions a node admits from one broadcast; the rest are acknowledged as "not now"."""


@dataclass(frozen=True, slots=True)
class BroadcastConfig:
    max_batch: int = 500
    max_in_flight: int = 4
    ack_timeout_secs: float = 3.0
    retry_secs: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.max_batch <= MAX_BATCH_RECEIVED:
            raise ValueError(f"max_batch must be in 1..{MAX_BATCH_RECEIVED}, got {self.max_batch}")
        if self.max_in_flight < 1 or self.ack_timeout_secs <= 0 or self.retry_secs < 0:
            raise ValueError("max_in_flight and ack_timeout_secs must be positive, retry_secs not negative")


# --- messages (Protocol.MEMPOOL payloads) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Broadcast:
    request_id: int
    transactions: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Ack:
    """``retry``: indexes in the acknowledged batch of the transactions to send again later."""

    request_id: int
    retry: tuple[int, ...]


def encode_message(message: Broadcast | Ack) -> bytes:
    s = Serializer()
    if isinstance(message, Broadcast):
        s.variant(0)
        s.u64(message.request_id)
        s.bytes_sequence(message.transactions)
    else:
        s.variant(1)
        s.u64(message.request_id)
        s.sequence(message.retry, Serializer.u32)
    return s.output()


def decode_message(payload: bytes) -> Broadcast | Ack:
    """Strict decoding; raises ``ValueError`` (``BcsError``) on anything else."""
    d = Deserializer(payload)
    tag = d.variant(2, "MempoolMessage")
    request_id = d.u64()
    message: Broadcast | Ack
    if tag == 0:
        message = Broadcast(request_id, tuple(d.bytes_sequence("transaction", "transactions")))
    else:
        message = Ack(request_id, tuple(d.sequence(Deserializer.u32, "retry")))
    d.finish()
    return message


# --- the sender's side ----------------------------------------------------------------------


@dataclass(slots=True)
class _Peer:
    cursor: int = 0  # first timeline id not yet sent to this peer
    in_flight: dict[int, tuple[float, list[int]]] = field(default_factory=dict)  # request -> (sent at, ids)
    retry: deque[tuple[float, int]] = field(default_factory=deque)  # (not before, timeline id)


class BroadcastTracker(Generic[P]):
    """What each peer still has to be sent; not thread-safe (owned by one task)."""

    def __init__(self, alive: Callable[[bytes], bool], config: BroadcastConfig | None = None) -> None:
        self.config = config or BroadcastConfig()
        self._alive = alive
        self._ids: list[int] = []  # timeline ids, increasing (may name pruned entries)
        self._entries: dict[int, tuple[bytes, bytes]] = {}  # timeline id -> (hash, signed bytes)
        self._next_id = 0
        self._next_request = 0
        self._peers: dict[P, _Peer] = {}
        self._prune_at = 1024

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def idle(self) -> bool:
        """Nothing to hand on and nothing unacknowledged or waiting to be sent again: ``due``
        gives nothing whatever the peers, and a peer that (re)connected meanwhile has nothing
        to start from (what is added later is after every cursor)."""
        return not self._entries and not any(peer.in_flight or peer.retry for peer in self._peers.values())

    def add(self, txn_hash: bytes, data: bytes) -> None:
        """A transaction this node accepted and must hand on."""
        self._entries[self._next_id] = (txn_hash, data)
        self._ids.append(self._next_id)
        self._next_id += 1
        if len(self._ids) >= self._prune_at:
            self._prune()

    def _prune(self) -> None:
        """Forget transactions that left the pool (amortised: run when the timeline doubled)."""
        self._entries = {i: e for i, e in self._entries.items() if self._alive(e[0])}
        self._ids = list(self._entries)
        self._prune_at = 2 * len(self._entries) + 1024

    def set_peers(self, peers: Iterable[P]) -> None:
        """The peers to hand transactions on to (the connected ones). A peer that was not
        in the previous set starts from the beginning of the timeline."""
        wanted = set(peers)
        for gone in [p for p in self._peers if p not in wanted]:
            del self._peers[gone]
        for peer in wanted:
            if peer not in self._peers:
                self._peers[peer] = _Peer()

    def _live(self, timeline_id: int) -> tuple[bytes, bytes] | None:
        entry = self._entries.get(timeline_id)
        if entry is None:
            return None
        if not self._alive(entry[0]):
            del self._entries[timeline_id]
            return None
        return entry

    def due(self, now: float) -> list[tuple[P, int, list[bytes]]]:
        """Batches to send now: (peer, request id, signed transactions)."""
        cfg = self.config
        out: list[tuple[P, int, list[bytes]]] = []
        for peer_id, peer in self._peers.items():
            for request_id in [r for r, (sent, _) in peer.in_flight.items() if now - sent >= cfg.ack_timeout_secs]:
                _, expired = peer.in_flight.pop(request_id)
                peer.retry.extend((now, i) for i in expired)
            while len(peer.in_flight) < cfg.max_in_flight:
                ids: list[int] = []
                datas: list[bytes] = []
                while peer.retry and len(ids) < cfg.max_batch and peer.retry[0][0] <= now:
                    timeline_id = peer.retry.popleft()[1]
                    if (entry := self._live(timeline_id)) is not None:
                        ids.append(timeline_id)
                        datas.append(entry[1])
                if len(ids) < cfg.max_batch:
                    position = bisect.bisect_left(self._ids, peer.cursor)
                    while position < len(self._ids) and len(ids) < cfg.max_batch:
                        timeline_id = self._ids[position]
                        position += 1
                        peer.cursor = timeline_id + 1
                        if (entry := self._live(timeline_id)) is not None:
                            ids.append(timeline_id)
                            datas.append(entry[1])
                if not ids:
                    break
                request_id = self._next_request
                self._next_request += 1
                peer.in_flight[request_id] = (now, ids)
                out.append((peer_id, request_id, datas))
        return out

    def ack(self, peer_id: P, request_id: int, retry: Sequence[int], now: float) -> None:
        """``peer_id`` answered batch ``request_id``; ``retry`` (indexes in it) to offer again later."""
        peer = self._peers.get(peer_id)
        if peer is None:
            return
        sent = peer.in_flight.pop(request_id, None)
        if sent is None:
            return  # timed out before (already offered again) or not ours
        ids = sent[1]
        not_before = now + self.config.retry_secs
        for index in sorted(set(retry)):
            if 0 <= index < len(ids):
                peer.retry.append((not_before, ids[index]))

    def unacknowledged(self, peer_id: P) -> int:
        """Transactions sent to ``peer_id`` and not answered, plus those waiting to be sent again."""
        peer = self._peers.get(peer_id)
        if peer is None:
            return 0
        return sum(len(ids) for _, ids in peer.in_flight.values()) + len(peer.retry)
