"""An accepted transaction reaches the validators even when the first hand-over fails.

Before acknowledged broadcasts, a full node forwarded each accepted transaction once: a
validator whose pool was full refused it (and a lost frame lost it), the full node never
sent it again, and the payment, with every later one of its sender, never committed
although the API had answered "accepted". These tests drive the node's real gossip code
(``_gossip_tick``, ``_on_mempool_gossip``, ``_admit_gossip``, ``_acknowledge``) between a
"full node" and a "validator" over a fake network, with real pools.
"""

from __future__ import annotations

import asyncio
import os
import types
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from libra.client import builders
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.crypto.hashing import user_transaction_hash
from libra.mempool.admission import Admission
from libra.mempool.broadcast import BroadcastTracker
from libra.mempool.pool import AddStatus, Mempool, PoolConfig
from libra.node.runtime import NodeRuntime
from libra.types.move import AccountAddress
from libra.types.transaction import SignedTransaction


def _signed(sender: AccountAddress, seqs: range) -> list[bytes]:
    key = Ed25519PrivateKey.generate()
    return [
        builders.sign_transaction(
            key, sender, seq, builders.peer_to_peer_with_metadata("XUS", AccountAddress(os.urandom(16)), 1),
            chain_id=2, expiration_timestamp_secs=2**40,
        ).bcs
        for seq in seqs
    ]


class _Network:
    def __init__(self) -> None:
        self.peers: set[str] = set()
        self.outbox: list[tuple[str, bytes]] = []

    def connected_peers(self) -> frozenset[str]:
        return frozenset(self.peers)

    def guests(self) -> frozenset[str]:
        return frozenset()

    def send(self, peer: str, _protocol: Any, payload: bytes) -> bool:
        self.outbox.append((peer, payload))
        return True


class _Node:
    """NodeRuntime's gossip methods over a real pool; ``_admit`` is the runtime's minus the
    framework's account checks (every sender's sequence number on chain is 0)."""

    def __init__(self, name: str, capacity: int, verify_pool: ThreadPoolExecutor) -> None:
        self.name = name
        self.mempool = Mempool(PoolConfig(capacity=capacity))
        self.verify_pool = verify_pool
        self._gossip = _Network()
        self._gossip_batches = 0
        self._gossip_tail: asyncio.Future[None] | None = None
        self._broadcast: BroadcastTracker[str] = BroadcastTracker(self.mempool.contains_hash)
        self.clock = 0.0
        for method in ("_on_mempool_gossip", "_admit_gossip", "_acknowledge", "_gossip_tick", "refuses_for_capacity"):
            setattr(self, method, types.MethodType(getattr(NodeRuntime, method), self))

    def _admit(self, data: bytes, *, share: bool, checked: Any = None) -> Admission:
        if self.refuses_for_capacity(data):  # type: ignore[attr-defined]
            return Admission(AddStatus.MEMPOOL_FULL, None, None, None)
        txn, txn_hash = SignedTransaction.from_bcs(data), user_transaction_hash(data)
        if checked is not None and not checked[1]:
            return Admission(None, "INVALID_SIGNATURE", txn, txn_hash)
        status = self.mempool.add(txn, data, txn_hash, 0, 0.0)
        if share and status is AddStatus.ACCEPTED:
            self._broadcast.add(txn_hash, data)
        return Admission(status, None, txn, txn_hash)

    def _now(self) -> float:
        return self.clock

    def tick(self, now: float) -> None:
        """The broadcast loop's step at time ``now`` (acks that arrive later are stamped with it)."""
        self.clock = now
        self._gossip_tick(now)  # type: ignore[attr-defined]

    def submit(self, data: bytes) -> AddStatus | None:
        return self._admit(data, share=True).status

    def has(self, data: bytes) -> bool:
        return self.mempool.contains_hash(user_transaction_hash(data))


async def _deliver(a: _Node, b: _Node, drop: bool = False) -> int:
    """Carry every queued message between ``a`` and ``b`` until none is left (or drop a's)."""
    carried = 0
    while a._gossip.outbox or b._gossip.outbox or a._gossip_batches or b._gossip_batches:
        for source, target in ((a, b), (b, a)):
            out, source._gossip.outbox = source._gossip.outbox, []
            for _peer, payload in out:
                if drop and source is a:
                    continue
                carried += 1
                target._on_mempool_gossip(source.name, payload)  # type: ignore[attr-defined]
        await asyncio.sleep(0.001)
    return carried


def _pair(pool: ThreadPoolExecutor, validator_capacity: int) -> tuple[_Node, _Node]:
    full, validator = _Node("full", 100, pool), _Node("validator", validator_capacity, pool)
    full._gossip.peers.add("validator")
    validator._gossip.peers.add("full")
    return full, validator


def test_a_transaction_a_full_validator_refused_is_sent_again_once_it_has_room() -> None:
    filler_sender, sender = AccountAddress(os.urandom(16)), AccountAddress(os.urandom(16))
    fillers = _signed(filler_sender, range(2))
    first, second = _signed(sender, range(2))

    async def run() -> None:
        with ThreadPoolExecutor(2) as pool:
            full, validator = _pair(pool, validator_capacity=2)
            for data in fillers:
                assert validator.submit(data) is AddStatus.ACCEPTED
            validator._gossip.outbox.clear()  # (the validator's own clients: not what is tested)
            validator._broadcast.set_peers([])

            assert full.submit(first) is AddStatus.ACCEPTED  # the API answers "accepted"
            full.tick(0.0)
            assert await _deliver(full, validator) == 2  # the broadcast, and an ack naming it "retry"
            assert not validator.has(first)  # the validator's pool was full: refused

            validator.mempool.commit([(filler_sender, 2)])  # a block commits; room again
            assert full.submit(second) is AddStatus.ACCEPTED
            full.tick(0.1)
            await _deliver(full, validator)
            assert validator.has(second) and not validator.has(first)
            # the gap: the sender's later payment is parked behind the refused one
            assert validator.mempool.take_block(10) == []

            full.tick(0.5)
            assert await _deliver(full, validator) == 0  # not before the retry delay
            full.tick(1.2)
            assert await _deliver(full, validator) == 2
            assert validator.has(first)
            assert [p.txn_bytes for p in validator.mempool.take_block(10)] == [first, second]

            full.tick(100.0)
            assert await _deliver(full, validator) == 0  # taken: never sent again

    asyncio.run(run())


def test_a_lost_broadcast_is_sent_again_after_the_ack_timeout() -> None:
    (data,) = _signed(AccountAddress(os.urandom(16)), range(1))

    async def run() -> None:
        with ThreadPoolExecutor(2) as pool:
            full, validator = _pair(pool, validator_capacity=10)
            full.submit(data)
            full.tick(0.0)
            await _deliver(full, validator, drop=True)  # the frame is lost on a broken connection
            assert not validator.has(data)
            full.tick(1.0)
            assert await _deliver(full, validator) == 0
            full.tick(3.0)
            assert await _deliver(full, validator) == 2
            assert validator.has(data)

    asyncio.run(run())


def test_a_restarted_validator_is_offered_what_is_still_pending() -> None:
    (data,) = _signed(AccountAddress(os.urandom(16)), range(1))

    async def run() -> None:
        with ThreadPoolExecutor(2) as pool:
            full, validator = _pair(pool, validator_capacity=10)
            full.submit(data)
            full.tick(0.0)
            await _deliver(full, validator)
            assert validator.has(data)
            _, restarted = _pair(pool, validator_capacity=10)  # its pool is empty again
            full._gossip.peers.discard("validator")
            full.tick(1.0)
            full._gossip.peers.add("validator")
            full.tick(2.0)
            await _deliver(full, restarted)
            assert restarted.has(data)

    asyncio.run(run())


def test_a_refused_transaction_is_not_sent_again() -> None:
    (data,) = _signed(AccountAddress(os.urandom(16)), range(1))
    tampered = data[:-1] + bytes([data[-1] ^ 1])  # bad signature: refused for good

    async def run() -> None:
        with ThreadPoolExecutor(2) as pool:
            full, validator = _pair(pool, validator_capacity=10)
            full._broadcast.add(user_transaction_hash(tampered), tampered)
            full.mempool.add(SignedTransaction.from_bcs(tampered), tampered, user_transaction_hash(tampered), 0, 0.0)
            full.tick(0.0)
            assert await _deliver(full, validator) == 2  # the broadcast and its ack
            assert not validator.has(tampered)
            full.tick(10.0)
            assert await _deliver(full, validator) == 0

    asyncio.run(run())
