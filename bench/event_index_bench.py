"""CPU cost of the supervisor's event index (node/event_index.py) per committed payment.

Run: ``.venv/bin/python -m bench.event_index_bench [--txns N] [--accounts K] [--block 500]``.

Builds a store (RocksDB, temporary folder) with N payments between K child VASPs (as
``bench.node_path_bench`` does), then indexes it from version 0 (``EventIndex.catch_up``:
the same code that follows commits) and reports CPU µs per payment and versions/s. A node
pays this only once a supervisor asked for the index (``/supervisor``).
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.node_path_bench import CHAIN_ID, Chain, fund, parse_workload
from libra.client.loadgen import PaymentSigner, Sender, payment_plan
from libra.node.event_index import EventIndex
from libra.types.transaction import SignedTransaction


def run(txns: int, accounts: int, block_size: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="event-index-") as tmp, ThreadPoolExecutor(2) as pool:
        chain = Chain(Path(tmp), pool)
        senders = [Sender.generate() for _ in range(accounts)]
        fund(chain, senders)
        signer = PaymentSigner(CHAIN_ID, int(time.time()) + 3600)
        seqs = [0] * accounts
        payments = []
        for s, p in payment_plan(accounts, txns):
            payments.append(SignedTransaction.from_bcs(signer.sign(senders[s], seqs[s], senders[p].address)[0]))
            seqs[s] += 1
        for start in range(0, len(payments), block_size):
            block = chain.block(payments[start : start + block_size])
            assert all(t.status == "executed" for t in block.transactions)
        versions = chain.db.next_version
        index = EventIndex(chain.db, Path(tmp) / "supervisor.sqlite3", chain.ledger.state_view)
        cpu, wall = time.process_time(), time.perf_counter()
        index.catch_up()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        transfers = len(index.tables()["transfers"])
        index.close()
        chain.db.close()
    return {"payments": txns, "transfers indexed": transfers, "versions": versions,
            "cpu µs/payment": 1e6 * cpu / txns, "versions/s (wall)": versions / wall}


def main(argv: list[str] | None = None) -> None:
    args = parse_workload(argv, __doc__.splitlines()[0])
    for name, value in run(args.txns, args.accounts, args.block).items():
        print(f"{name:25s} {value:12,.1f}")


if __name__ == "__main__":
    main()
