"""Gossiped transactions: signatures checked off the event loop, admitted in arrival order."""

from __future__ import annotations

import asyncio
import os
import types
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from libra.client import builders
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.mempool.admission import check_signatures
from libra.mempool.broadcast import Broadcast, encode_message
from libra.mempool.pool import AddStatus
from libra.node import runtime as runtime_module
from libra.node.runtime import NodeRuntime
from libra.types.move import AccountAddress


def _payload(items: list[bytes]) -> bytes:
    return encode_message(Broadcast(0, tuple(items)))


def _signed(count: int) -> list[bytes]:
    key = Ed25519PrivateKey.generate()
    sender = AccountAddress(os.urandom(16))
    return [
        builders.sign_transaction(
            key, sender, seq, builders.peer_to_peer_with_metadata("XUS", AccountAddress(os.urandom(16)), 1),
            chain_id=2, expiration_timestamp_secs=2**40,
        ).bcs
        for seq in range(count)
    ]


class _EmptyPool:
    config = types.SimpleNamespace(capacity=10_000)

    def __len__(self) -> int:
        return 0

    def contains_hash(self, _hash: bytes) -> bool:
        return False


class _Node:
    """The parts of NodeRuntime that gossip admission uses, with ``_admit`` recorded."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.verify_pool = pool
        self._gossip = None
        self._gossip_batches = 0
        self._gossip_tail: asyncio.Future[None] | None = None
        self.admitted: list[tuple[bytes, Any]] = []
        self.mempool = _EmptyPool()
        self.on_gossip = types.MethodType(NodeRuntime._on_mempool_gossip, self)
        self._admit_gossip = types.MethodType(NodeRuntime._admit_gossip, self)
        self._acknowledge = types.MethodType(NodeRuntime._acknowledge, self)

    def refuses_for_capacity(self, _data: bytes) -> bool:
        return False

    def _admit(self, data: bytes, *, share: bool, checked: Any = None) -> Any:
        self.admitted.append((data, checked))
        return types.SimpleNamespace(status=AddStatus.ACCEPTED)


async def _settle(node: _Node) -> None:
    while node._gossip_batches:
        await asyncio.sleep(0.001)


def test_batches_are_checked_on_the_pool_and_admitted_in_order(caplog) -> None:  # type: ignore[no-untyped-def]
    good = _signed(7)
    tampered = good[3][:-1] + bytes([good[3][-1] ^ 1])
    first, second = [*good[:3], tampered, b"\x01\x02"], good[3:]

    async def run() -> _Node:
        with ThreadPoolExecutor(2) as pool:
            node = _Node(pool)
            node.on_gossip("peer", _payload(first))
            node.on_gossip("peer", _payload(second))
            node.on_gossip("peer", _payload([]))  # nothing to admit
            await _settle(node)
            return node

    node = asyncio.run(run())
    assert [data for data, _ in node.admitted] == first + second
    assert [checked for _, checked in node.admitted] == check_signatures(first + second)
    assert [checked[1] if checked else None for _, checked in node.admitted] == [True] * 3 + [False, None] + [True] * 4
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_a_flood_is_checked_on_the_loop_past_the_batches_in_flight(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(runtime_module, "GOSSIP_BATCHES_IN_FLIGHT", 1)
    items = _signed(4)

    async def run() -> _Node:
        with ThreadPoolExecutor(2) as pool:
            node = _Node(pool)
            node.on_gossip("peer", _payload(items[:2]))
            node.on_gossip("peer", _payload(items[2:]))  # one batch in flight already: admitted now
            assert [checked for _, checked in node.admitted] == [None, None]
            await _settle(node)
            return node

    node = asyncio.run(run())
    assert sorted(data for data, _ in node.admitted) == sorted(items)
    assert node._gossip_batches == 0


def test_a_failed_check_costs_its_batch_not_the_counter(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken(_datas: list[bytes]) -> list[Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(runtime_module, "check_signatures", broken)

    async def run() -> _Node:
        with ThreadPoolExecutor(2) as pool:
            node = _Node(pool)
            node.on_gossip("peer", _payload(_signed(2)))
            await _settle(node)
            return node

    node = asyncio.run(run())
    assert node.admitted == [] and node._gossip_batches == 0


class _PoolHolding(_EmptyPool):
    def __init__(self, held: set[bytes]) -> None:
        self.held = held

    def __len__(self) -> int:
        return len(self.held)

    def contains_hash(self, txn_hash: bytes) -> bool:
        return txn_hash in self.held


def test_what_the_pool_holds_is_answered_without_admitting_it_again() -> None:
    """The copies other validators hand on of what the pool has: no check, no decoding, no
    ``_admit``; acknowledged as taken (ALREADY_PRESENT is not a status to send again)."""
    from libra.crypto.hashing import user_transaction_hash
    from libra.mempool.broadcast import Ack, decode_message

    items = _signed(4)
    sent: list[bytes] = []

    async def run() -> _Node:
        with ThreadPoolExecutor(2) as pool:
            node = _Node(pool)
            node.mempool = _PoolHolding({user_transaction_hash(items[0]), user_transaction_hash(items[2])})
            node._gossip = types.SimpleNamespace(guests=lambda: set(), send=lambda _p, _proto, data: sent.append(data))
            node.on_gossip("peer", _payload(items))
            await _settle(node)
            return node

    node = asyncio.run(run())
    assert [data for data, _ in node.admitted] == [items[1], items[3]]
    assert [checked[1] for _, checked in node.admitted] == [True, True]
    (ack,) = [decode_message(data) for data in sent]
    assert isinstance(ack, Ack) and ack.retry == ()
