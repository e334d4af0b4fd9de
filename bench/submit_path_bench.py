"""CPU of one payment's submission on a validator's event loop: JSON-RPC in, admitted, answer out.

Run: ``.venv/bin/python -m bench.submit_path_bench [--txns N] [--accounts K] [--block 500]``.

A one-validator node (``NodeRuntime`` over a prepared localnet folder, RocksDB) with K funded
senders serves N pre-signed payments as ``libra bench`` sends them: JSON-RPC batches of 20
``submit`` calls, 12 batches in flight. Each batch goes through what aiohttp's handler does
after reading the body (the ledger snapshot, ``json.loads``, ``Dispatcher.handle_payload``:
params, the signature check on the verify pool, ``NodeRuntime.submit``: admission, pool,
broadcast bookkeeping; the response text, encoded) — everything but the HTTP transport. Blocks
are executed and committed between rounds, outside the measure.

Printed: CPU µs per payment of the event loop's thread (``time.thread_time``: what limits the
rate the API admits at), and of the whole process during submission (the verify pool's native
checks included).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.node_path_bench import open_senders, parse_workload
from libra.api.dispatcher import METHODS, Dispatcher
from libra.api.metrics import ApiMetrics
from libra.api.server import decode_json, read_ledger
from libra.api.service import NodeApiService
from libra.client.loadgen import BATCH, PaymentSigner, Sender, payment_plan, submit_batch_body
from libra.crypto.ed25519 import Ed25519PrivateKey, load_private_key
from libra.crypto.hashing import hash_with_salt
from libra.node.config import load_config
from libra.node.gc_tuning import tune_garbage_collector
from libra.node.localnet import LocalnetSpec, prepare
from libra.node.runtime import NodeRuntime
from libra.types.ledger import LedgerInfo, LedgerInfoWithSignatures
from libra.types.move import TREASURY_COMPLIANCE_ADDRESS
from libra.types.transaction import BlockMetadata, SignedTransaction

CONNECTIONS = 12


def _unsigned(ledger_info: LedgerInfo) -> LedgerInfoWithSignatures:
    return LedgerInfoWithSignatures(ledger_info, ())


class Node:
    """A validator's runtime over a fresh localnet folder, blocks committed by hand."""

    def __init__(self, folder: Path) -> None:
        (plan,) = prepare(LocalnetSpec(folder, validators=1, full_nodes=0, api_port=1, network_base_port=2))
        self.folder = folder
        self.runtime = NodeRuntime(load_config(plan.config_path))
        self.chain_id = self.runtime.chain_id
        self.round = self.runtime.ledger.snapshot().ledger_info.ledger_info.commit_info.round + 1
        self.timestamp = time.time_ns() // 1000

    def key(self, name: str) -> Ed25519PrivateKey:
        return load_private_key(self.folder / "keys" / f"{name}.key")

    def block(self, txns: list[SignedTransaction]) -> Any:
        self.timestamp += 1000
        metadata = BlockMetadata(
            hash_with_salt("BlockData", self.round.to_bytes(8, "little")), self.round, self.timestamp, (),
            self.runtime.identity.address if self.runtime.identity else TREASURY_COMPLIANCE_ADDRESS,
        )
        self.round += 1
        committed = self.runtime.ledger.execute_and_commit(metadata, txns, _unsigned, verified=True)
        self.runtime._after_commit(committed)
        return committed


def fund(node: Node, senders: list[Sender]) -> None:
    open_senders(node.block, node.key("treasury_compliance"), node.key("designated_dealer"), node.chain_id, senders)


async def _post(dispatcher: Dispatcher, service: NodeApiService, body: bytes) -> bytes:
    """What ``handle_jsonrpc`` does with a read body: snapshot, parse, dispatch, encode."""
    ledger = read_ledger(service)
    assert ledger is not None
    text = await dispatcher.handle_payload(decode_json(body), ledger)
    return text.encode("utf-8")


async def _submit_round(dispatcher: Dispatcher, service: NodeApiService, bodies: list[bytes]) -> list[bytes]:
    """The bodies as ``CONNECTIONS`` clients send them, each waiting for its answer."""
    queue = list(reversed(bodies))
    answers: list[bytes] = []

    async def client() -> None:
        while queue:
            answers.append(await _post(dispatcher, service, queue.pop()))

    await asyncio.gather(*(client() for _ in range(CONNECTIONS)))
    return answers


def run(txns: int, accounts: int, block_size: int) -> dict[str, float]:
    tune_garbage_collector()  # as the node runs
    with tempfile.TemporaryDirectory(prefix="submit-path-") as tmp:
        node = Node(Path(tmp))
        try:
            return asyncio.run(_run(node, txns, accounts, block_size))
        finally:
            node.runtime.verify_pool.shutdown()
            node.runtime.block_thread.shutdown()
            node.runtime.db.close()


async def _run(node: Node, txns: int, accounts: int, block_size: int) -> dict[str, float]:
    runtime = node.runtime
    senders = [Sender.generate() for _ in range(accounts)]
    fund(node, senders)
    signer = PaymentSigner(node.chain_id, int(time.time()) + 3600)
    seqs = [0] * accounts
    payloads = []
    for s, p in payment_plan(accounts, txns):
        payloads.append(signer.sign(senders[s], seqs[s], senders[p].address)[0].hex())
        seqs[s] += 1
    service = NodeApiService(runtime)
    dispatcher = Dispatcher(service, ApiMetrics(METHODS))
    loop_cpu = process_cpu = 0.0
    wall = 0.0
    submitted = 0
    for start in range(0, len(payloads), 2 * block_size):
        chunk = payloads[start : start + 2 * block_size]
        bodies = [submit_batch_body(start + i, chunk[i : i + BATCH]) for i in range(0, len(chunk), BATCH)]
        started = (time.thread_time(), time.process_time(), time.perf_counter())
        answers = await _submit_round(dispatcher, service, bodies)
        loop_cpu += time.thread_time() - started[0]
        process_cpu += time.process_time() - started[1]
        wall += time.perf_counter() - started[2]
        assert all(b'"error"' not in answer for answer in answers), answers[0][:300]
        submitted += len(chunk)
        while len(runtime.mempool):
            node.block([p.txn for p in runtime.mempool.take_block(block_size)])
    assert submitted == txns
    return {
        "event loop CPU": 1e6 * loop_cpu / txns,
        "process CPU while submitting": 1e6 * process_cpu / txns,
        "wall while submitting": 1e6 * wall / txns,
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_workload(argv, __doc__.splitlines()[0])
    results = run(args.txns, args.accounts, args.block)
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores shared; CPU time per thread / process)")
    for name, micros in results.items():
        print(f"{name:45s} {micros:8.1f} µs/payment")
    print(f"the event loop admits about {1e6 / results['event loop CPU']:,.0f} payments/s (no HTTP transport)")


if __name__ == "__main__":
    main()
