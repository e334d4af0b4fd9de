"""CPU of a validator's mempool gossip per payment: a fresh copy, copies it holds, handing on.

Run: ``.venv/bin/python -m bench.gossip_path_bench [--txns N] [--accounts K] [--block 500]``.

A validator takes each transaction fresh once (decode, signature check, prologue, pool) and may
be sent copies its pool already holds: a batch sent again after its ack timed out
(``mempool/broadcast.py``), or, when a follower is a guest (a public full node, ``serve_followers``),
the copies the other validators hand on of what that follower forwarded to each of them
(``NodeRuntime._on_mempool_gossip``). In ``libra bench --validators 4 --full-nodes 1`` the full node
is a configured peer (``network.full_node_keys``), not a guest, so validators hand nothing on and
take one copy each; this bench models the guest case: batches of 500 from a guest, then the same
batches from three validators, then the node handing them on to three peers. It drives a
one-validator ``NodeRuntime`` (RocksDB, K funded senders) without sockets or TLS, ``Broadcast``
messages as BCS, acknowledged through a stub network that keeps what is sent.

Printed: CPU µs per payment of the whole process (``time.process_time``, the verify pool's
native checks included) for

* the fresh copy from the follower (a guest, so the node shares it on),
* the three copies from the other validators (what the pool already holds),
* handing the payment on to three peers (``_gossip_tick``: the ``Broadcast`` messages encoded),
  and taking their acknowledgements.

Blocks are executed and committed between rounds, outside the measure.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from bench.node_path_bench import parse_workload
from bench.submit_path_bench import Node, fund
from libra.client.loadgen import PaymentSigner, Sender, payment_plan
from libra.mempool.broadcast import Ack, Broadcast, decode_message, encode_message
from libra.network.wire import Protocol
from libra.node.gc_tuning import tune_garbage_collector
from libra.types.move import AccountAddress

FULL_NODE = AccountAddress(b"\xf0" * 16)
VALIDATORS = tuple(AccountAddress(bytes([0xa0 + i]) * 16) for i in range(3))
BATCH = 500


class StubNetwork:
    """What the runtime's gossip uses of ``Network``: peers, guests, and ``send`` (kept)."""

    def __init__(self) -> None:
        self.sent: list[tuple[AccountAddress, bytes]] = []

    def guests(self) -> set[AccountAddress]:
        return {FULL_NODE}

    def connected_peers(self) -> set[AccountAddress]:
        return {FULL_NODE, *VALIDATORS}

    def send(self, peer: AccountAddress, protocol: Protocol, payload: bytes) -> bool:
        assert protocol is Protocol.MEMPOOL
        self.sent.append((peer, payload))
        return True


def run(txns: int, accounts: int, block_size: int) -> dict[str, float]:
    tune_garbage_collector()  # as the node runs
    with tempfile.TemporaryDirectory(prefix="gossip-path-") as tmp:
        node = Node(Path(tmp))
        try:
            return asyncio.run(_run(node, txns, accounts, block_size))
        finally:
            node.runtime.verify_pool.shutdown()
            node.runtime.block_thread.shutdown()
            node.runtime.db.close()


async def _deliver(node: Node, peer: AccountAddress, payloads: list[bytes]) -> None:
    runtime = node.runtime
    for payload in payloads:
        runtime._on_mempool_gossip(peer, payload)
    if runtime._gossip_tail is not None:
        await runtime._gossip_tail


async def _run(node: Node, txns: int, accounts: int, block_size: int) -> dict[str, float]:
    runtime = node.runtime
    network = StubNetwork()
    runtime._gossip = network  # type: ignore[assignment]
    senders = [Sender.generate() for _ in range(accounts)]
    fund(node, senders)
    signer = PaymentSigner(node.chain_id, int(time.time()) + 3600)
    seqs = [0] * accounts
    signed = []
    for s, p in payment_plan(accounts, txns):
        signed.append(signer.sign(senders[s], seqs[s], senders[p].address)[0])
        seqs[s] += 1
    cpu = {"fresh": 0.0, "duplicates": 0.0, "share": 0.0}
    request = 0
    for start in range(0, len(signed), 2 * block_size):
        chunk = signed[start : start + 2 * block_size]
        batches = []
        for i in range(0, len(chunk), BATCH):
            batches.append(encode_message(Broadcast(request, tuple(chunk[i : i + BATCH]))))
            request += 1
        network.sent.clear()
        started = time.process_time()
        await _deliver(node, FULL_NODE, batches)
        cpu["fresh"] += time.process_time() - started
        acks = [decode_message(p) for _, p in network.sent]
        assert all(isinstance(a, Ack) and not a.retry for a in acks), "the fresh copies were not all taken"
        assert len(runtime.mempool) >= len(chunk)
        started = time.process_time()
        for peer in VALIDATORS:
            await _deliver(node, peer, batches)
        cpu["duplicates"] += time.process_time() - started
        network.sent.clear()
        started = time.process_time()
        runtime._gossip_tick(time.monotonic())
        answers = [(peer, decode_message(p)) for peer, p in network.sent]
        for peer, message in answers:
            assert isinstance(message, Broadcast)
            runtime._on_mempool_gossip(peer, encode_message(Ack(message.request_id, ())))
        cpu["share"] += time.process_time() - started
        shared = sum(len(m.transactions) for _, m in answers if isinstance(m, Broadcast))
        assert shared == len(VALIDATORS) * len(chunk), (shared, len(chunk))
        while len(runtime.mempool):
            node.block([p.txn for p in runtime.mempool.take_block(block_size)])
    return {
        "fresh copy from a guest follower": 1e6 * cpu["fresh"] / txns,
        "3 copies from the other validators": 1e6 * cpu["duplicates"] / txns,
        "handing it on to 3 validators (+ acks)": 1e6 * cpu["share"] / txns,
        "total": 1e6 * sum(cpu.values()) / txns,
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_workload(argv, __doc__.splitlines()[0])
    results = run(args.txns, args.accounts, args.block)
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores shared; process CPU time)")
    for name, micros in results.items():
        print(f"{name:45s} {micros:8.1f} µs/payment")


if __name__ == "__main__":
    main()
