"""CPU cost of one payment along the node's path, by component, without HTTP.

Run: ``.venv/bin/python -m bench.node_path_bench [--txns N] [--accounts K] [--block 500]``.

Builds a store (RocksDB, temporary folder) from a genesis with K funded child VASPs,
then for N pre-signed payments measures CPU time (``time.process_time``, so other jobs
on the machine inflate it less than wall time) of:

* API param decode + admission (``parse_signed_transaction`` + ``admit``), the event loop's part,
* the signature checks of those submissions (``preverify_all``, one call per chunk as the API's
  ``SubmissionVerifier`` makes per JSON-RPC batch: on the verify pool, natively with the GIL
  released over both cores; ``admit`` then finds the answers),
* block execution (``execute_block``), the ledger's commit entries (``_entries``:
  per-version blobs, hashes), storage ``prepare_block`` and ``commit_prepared``,
* mempool bookkeeping (``take_block``, ``commit``),
* RocksDB's own threads (flushes, compactions; counted from ``/proc/self/task``), which a
  short run barely wakes: ``--txns 60000`` shows what a node pays once the store grows.

Figures are microseconds of CPU per payment, and what one core could sustain.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from libra.api.params import parse_signed_transaction
from libra.client import builders
from libra.client.loadgen import PaymentSigner, Sender, payment_plan
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.crypto.hashing import hash_with_salt
from libra.mempool import admission as admission_module
from libra.mempool.pool import Mempool
from libra.node import ledger as ledger_module
from libra.node.gc_tuning import tune_garbage_collector
from libra.node.genesis import ValidatorIdentity, write_genesis
from libra.node.ledger import Ledger
from libra.storage.libradb import LibraDB
from libra.types.ledger import LedgerInfo, LedgerInfoWithSignatures
from libra.types.move import TESTNET_DD_ADDRESS, TREASURY_COMPLIANCE_ADDRESS, AccountAddress
from libra.types.transaction import BlockMetadata

CHAIN_ID = 2


class Meter:
    """CPU seconds accumulated per label by wrapped functions."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.cpu[label] += time.process_time() - started

        return timed


def rocksdb_thread_cpu() -> float:
    """CPU seconds so far of this process's RocksDB background threads (Linux; 0 elsewhere)."""
    total = 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 0.0
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/stat") as stat:
                text = stat.read()
        except OSError:
            continue  # the thread ended
        if "rocksdb" in text[text.index("(") : text.rindex(")")]:
            fields = text[text.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def _unsigned(ledger_info: LedgerInfo) -> LedgerInfoWithSignatures:
    return LedgerInfoWithSignatures(ledger_info, ())


class Chain:
    def __init__(self, folder: Path, pool: ThreadPoolExecutor) -> None:
        keys = {name: Ed25519PrivateKey.generate() for name in ("root", "tc", "dd", "validator")}
        self.keys = keys
        identity = ValidatorIdentity("v0", keys["validator"].public_key().to_bytes(), bytes(32), "127.0.0.1:1")
        self.proposer = identity.account_address
        genesis = write_genesis(
            folder / "genesis.bcs", chain_id=CHAIN_ID,
            diem_root_public_key=keys["root"].public_key().to_bytes(),
            treasury_compliance_public_key=keys["tc"].public_key().to_bytes(),
            designated_dealer_public_key=keys["dd"].public_key().to_bytes(),
            validators=[identity],
        )
        self.db = LibraDB.open(folder / "db")
        self.ledger = Ledger(self.db, CHAIN_ID, pool)
        self.ledger.bootstrap(genesis)
        self.round = 1
        self.timestamp = time.time_ns() // 1000

    def block(self, txns: list[Any]) -> Any:
        self.timestamp += 1000
        metadata = BlockMetadata(
            hash_with_salt("BlockData", self.round.to_bytes(8, "little")), self.round, self.timestamp, (), self.proposer
        )
        self.round += 1
        return self.ledger.execute_and_commit(metadata, txns, _unsigned, verified=True)


def open_senders(
    block: Callable[[list[Any]], Any], tc: Ed25519PrivateKey, dd: Ed25519PrivateKey, chain_id: int,
    senders: list[Sender],
) -> None:
    """TC opens parent VASPs, DD funds them, each parent opens up to 200 senders as child VASPs;
    ``block`` executes and commits a list of signed transactions (the benches' own chains)."""
    expiration = int(time.time()) + 3600
    groups = [senders[i : i + 200] for i in range(0, len(senders), 200)]
    parents = [Sender.generate() for _ in groups]
    steps = []
    for i, parent in enumerate(parents):
        steps.append(builders.sign_transaction(
            tc, TREASURY_COMPLIANCE_ADDRESS, i,
            builders.create_parent_vasp_account("XUS", 0, parent.address, parent.auth_key[:16], b"bench"),
            chain_id=chain_id, expiration_timestamp_secs=expiration,
        ))
        steps.append(builders.sign_transaction(
            dd, TESTNET_DD_ADDRESS, i, builders.peer_to_peer_with_metadata("XUS", parent.address, 10**13),
            chain_id=chain_id, expiration_timestamp_secs=expiration,
        ))
    block([s.transaction for s in steps])
    children = [
        builders.sign_transaction(
            parent.key, parent.address, seq,
            builders.create_child_vasp_account("XUS", child.address, child.auth_key[:16], False, 10**9),
            chain_id=chain_id, expiration_timestamp_secs=expiration,
        ).transaction
        for parent, group in zip(parents, groups, strict=True)
        for seq, child in enumerate(group)
    ]
    for start in range(0, len(children), 500):
        committed = block(children[start : start + 500])
        assert all(t.status == "executed" for t in committed.transactions), "opening senders failed"


def fund(chain: Chain, senders: list[Sender]) -> None:
    open_senders(chain.block, chain.keys["tc"], chain.keys["dd"], CHAIN_ID, senders)


def run(txns: int, accounts: int, block_size: int) -> dict[str, float]:
    meter = Meter()
    with tempfile.TemporaryDirectory(prefix="node-path-") as tmp, ThreadPoolExecutor(2) as pool:
        chain = Chain(Path(tmp), pool)
        senders = [Sender.generate() for _ in range(accounts)]
        fund(chain, senders)
        signer = PaymentSigner(CHAIN_ID, int(time.time()) + 3600)
        seqs = [0] * accounts
        payloads = []
        for s, p in payment_plan(accounts, txns):
            payloads.append(signer.sign(senders[s], seqs[s], senders[p].address)[0].hex())
            seqs[s] += 1
        # wrap the pieces (module attributes the node resolves at call time)
        ledger_module.execute_block = meter.wrap("execution", ledger_module.execute_block)  # type: ignore[attr-defined]
        chain.ledger._entries = meter.wrap("ledger entries (blob tracking, hashes)", chain.ledger._entries)  # type: ignore[method-assign]
        chain.db.prepare_block = meter.wrap("storage prepare_block", chain.db.prepare_block)  # type: ignore[method-assign]
        chain.db.commit_prepared = meter.wrap("storage commit_prepared", chain.db.commit_prepared)  # type: ignore[method-assign]
        mempool = Mempool()
        tune_garbage_collector()  # as a node process runs (libra node run)
        wall = time.perf_counter()
        total_cpu = time.process_time()
        background = rocksdb_thread_cpu()
        committed = 0
        pending = list(payloads)
        while pending or len(mempool):
            chunk, pending = pending[: block_size * 2], pending[block_size * 2 :]
            started = time.process_time()
            snapshot = chain.ledger.snapshot()
            view = chain.ledger.state_view(snapshot.version)
            datas = [parse_signed_transaction(text) for text in chunk]
            meter.cpu["API decode + admission"] += time.process_time() - started
            started = time.process_time()
            admission_module.preverify_all(datas)
            meter.cpu["signature checks (verify pool)"] += time.process_time() - started
            started = time.process_time()
            for data in datas:
                result = admission_module.admit(
                    mempool, view, data, chain_id=CHAIN_ID, ledger_time_usecs=snapshot.timestamp_usecs,
                    now=time.monotonic(),
                )
                assert result.accepted, result
            meter.cpu["API decode + admission"] += time.process_time() - started
            for _ in range(2):
                started = time.process_time()
                batch = mempool.take_block(block_size)
                meter.cpu["mempool"] += time.process_time() - started
                if not batch:
                    break
                started = time.process_time()
                block = chain.block([p.txn for p in batch])
                meter.cpu["block (all)"] += time.process_time() - started
                started = time.process_time()
                kept: dict[AccountAddress, int] = {}
                for result in block.transactions:
                    raw = result.txn.raw_txn
                    assert result.version is not None, result.status
                    kept[raw.sender] = max(kept.get(raw.sender, 0), raw.sequence_number + 1)
                mempool.commit(kept.items())
                meter.cpu["mempool"] += time.process_time() - started
                committed += len(block.transactions)
        total_cpu = time.process_time() - total_cpu
        wall = time.perf_counter() - wall
        meter.cpu["storage background (RocksDB threads)"] = rocksdb_thread_cpu() - background
        chain.db.close()
    assert committed == txns
    block_total = meter.cpu.pop("block (all)")
    inner = sum(v for k, v in meter.cpu.items() if k in (
        "execution", "ledger entries (blob tracking, hashes)", "storage prepare_block", "storage commit_prepared"))
    meter.cpu["block other (metadata, snapshot, signing)"] = block_total - inner
    out = {k: 1e6 * v / txns for k, v in meter.cpu.items()}
    out["total CPU"] = 1e6 * total_cpu / txns
    out["wall"] = 1e6 * wall / txns
    return out


def parse_workload(argv: list[str] | None, description: str) -> argparse.Namespace:
    """``--txns``, ``--accounts`` and ``--block`` of a per-payment CPU bench."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--txns", type=int, default=5000)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--block", type=int, default=500)
    return parser.parse_args(argv)


def print_per_payment(results: dict[str, float]) -> None:
    """The machine's load, then each component's CPU µs per payment, largest first."""
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores shared; CPU time is per process)")
    for name, micros in sorted(results.items(), key=lambda kv: -kv[1]):
        print(f"{name:45s} {micros:8.1f} µs/payment")


def main(argv: list[str] | None = None) -> None:
    args = parse_workload(argv, __doc__.splitlines()[0])
    results = run(args.txns, args.accounts, args.block)
    print_per_payment(results)
    print(f"one core sustains about {1e6 / results['total CPU']:,.0f} payments/s on this path (no HTTP)")


if __name__ == "__main__":
    main()
