"""CPU cost per payment of a full node's state-sync apply path, by component.

Run: ``.venv/bin/python -m bench.state_sync_bench [--txns N] [--accounts K] [--block 500]``.

Builds a chain of blocks of payments on one ledger (RocksDB, temporary folder), then
applies the same blocks on a second ledger bootstrapped from the same genesis the way
a following full node does: each chunk as the first node serves it (``StateSync.serve``),
serialized and decoded as received (``decode_message``),
verified against its ledger info (``verify_transaction_list``), split into blocks and
applied from its outputs (``Ledger.apply_outputs``), then committed. Figures are CPU
microseconds per payment (``time.process_time``) of:

* decoding the chunk message as received (``decode_message``),
* verify (accumulator range proof, transaction and event hashes),
* split_blocks (decoding the transactions),
* apply_outputs without the store (decoding write sets and events, blob tracking, hashes),
* storage prepare_block (recomputing the infos) and commit_prepared;

and, apart, the serving validator's CPU per payment (``StateSync.serve`` and the response's
BCS), which is not in the follower's total.
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.node_path_bench import CHAIN_ID, Chain, Meter, fund, parse_workload, print_per_payment
from libra.client.loadgen import PaymentSigner, Sender, payment_plan
from libra.node import state_sync as state_sync_module
from libra.node.gc_tuning import tune_garbage_collector
from libra.node.ledger import Ledger
from libra.node.state_sync import LATEST, ChunkRequest, ChunkResponse, StateSync, decode_message
from libra.storage.libradb import LibraDB
from libra.types.transaction import SignedTransaction, transaction_from_bcs


class _NoNetwork:
    def register(self, *args: Any) -> None:
        pass


def run(txns: int, accounts: int, block_size: int) -> dict[str, float]:
    meter = Meter()
    with tempfile.TemporaryDirectory(prefix="state-sync-") as tmp, ThreadPoolExecutor(2) as pool:
        chain = Chain(Path(tmp), pool)
        senders = [Sender.generate() for _ in range(accounts)]
        fund(chain, senders)
        signer = PaymentSigner(CHAIN_ID, int(time.time()) + 3600)
        seqs = [0] * accounts
        payments = []
        for s, p in payment_plan(accounts, txns):
            payments.append(SignedTransaction.from_bcs(signer.sign(senders[s], seqs[s], senders[p].address)[0]))
            seqs[s] += 1
        first_payment = chain.ledger.db.next_version
        for start in range(0, len(payments), block_size):
            block = chain.block(payments[start : start + block_size])
            assert all(t.version is not None for t in block.transactions)
        server = StateSync(chain.ledger, _NoNetwork(), None)  # type: ignore[arg-type]

        follower_db = LibraDB.open(Path(tmp) / "follower")
        follower = Ledger(follower_db, CHAIN_ID, pool)
        follower.bootstrap(transaction_from_bcs((Path(tmp) / "genesis.bcs").read_bytes()))  # type: ignore[arg-type]
        client = StateSync(follower, _NoNetwork(), None)  # type: ignore[arg-type]
        # catch up to the first payment block untimed (funding blocks)
        while follower_db.next_version < first_payment:
            response = server.serve(
                ChunkRequest(1, follower_db.next_version, LATEST, first_payment - follower_db.next_version)
            )
            assert response is not None and response.ledger_info is not None
            client.apply(response, response.ledger_info)
        responses = []
        version = follower_db.next_version
        target = chain.ledger.db.next_version
        serve_cpu = time.process_time()
        while version < target:
            response = server.serve(ChunkRequest(1, version, LATEST, state_sync_module.CHUNK_LIMIT))
            assert response is not None
            responses.append(response.to_bcs())
            version += len(response.listing.transactions)
        serve_cpu = time.process_time() - serve_cpu

        state_sync_module.verify_transaction_list = meter.wrap("verify (proof, hashes)", state_sync_module.verify_transaction_list)  # type: ignore[attr-defined]
        state_sync_module.split_blocks = meter.wrap("split_blocks (decode transactions)", state_sync_module.split_blocks)  # type: ignore[attr-defined]
        follower.apply_outputs = meter.wrap("apply_outputs (all)", follower.apply_outputs)  # type: ignore[method-assign]
        follower_db.prepare_block = meter.wrap("storage prepare_block", follower_db.prepare_block)  # type: ignore[method-assign]
        follower_db.commit_prepared = meter.wrap("storage commit_prepared", follower_db.commit_prepared)  # type: ignore[method-assign]
        tune_garbage_collector()  # as a node process runs (libra node run)
        total_cpu = time.process_time()
        wall = time.perf_counter()
        for payload in responses:
            started = time.process_time()
            message = decode_message(payload)
            meter.cpu["decode chunk message"] += time.process_time() - started
            assert isinstance(message, ChunkResponse) and message.ledger_info is not None
            client.apply(message, message.ledger_info)
        total_cpu = time.process_time() - total_cpu
        wall = time.perf_counter() - wall
        assert follower_db.next_version == target
        assert follower_db.get_accumulator_root(target - 1) == chain.db.get_accumulator_root(target - 1)
        follower_db.close()
        chain.db.close()
    apply_all = meter.cpu.pop("apply_outputs (all)")
    meter.cpu["apply_outputs (decode, blobs, hashes)"] = apply_all - meter.cpu["storage prepare_block"]
    out = {k: 1e6 * v / txns for k, v in meter.cpu.items()}
    out["total CPU"] = 1e6 * total_cpu / txns
    out["wall"] = 1e6 * wall / txns
    out["serving the chunks (the validator's side; not in total)"] = 1e6 * serve_cpu / txns
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_workload(argv, __doc__.splitlines()[0])
    results = run(args.txns, args.accounts, args.block)
    print_per_payment(results)
    print(f"one core follows about {1e6 / results['total CPU']:,.0f} payments/s by state sync")


if __name__ == "__main__":
    main()
