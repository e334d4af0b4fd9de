"""Ledger store benchmark: commit throughput, proof rate and size, disk and memory per account.

Run: ``python -m bench.storage_bench --accounts 1000000 [--dir DIR]``.

Phases:
1. load: blocks of ``--load-txns`` transactions, each creating ``--accounts-per-txn``
   accounts (about 100-byte blobs), until ``--accounts`` exist; RSS is sampled
   at each quarter to show it stays flat as the state grows;
2. payments: blocks of ``--block-size`` transactions, each updating two random
   existing accounts and emitting one event (one synced commit per block); the
   time of ``prepare_block`` and of ``commit_prepared`` is reported apart; with
   ``--speculative`` each block is prepared on its uncommitted parent (as a
   validator executes block n+1 before block n commits), then the parent commits;
3. proofs: random ``get_account_state_with_proof`` at the latest version.
Addresses are derived from their index, so the benchmark itself keeps no state.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path

from libra.storage.libradb import EventToCommit, LibraDB, TransactionToCommit


def address_of(index: int) -> bytes:
    return hashlib.sha3_256(index.to_bytes(8, "little")).digest()[:16]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def load(db: LibraDB, accounts: int, per_txn: int, txns: int, rng: random.Random) -> None:
    created = 0
    start = time.perf_counter()
    marks = {accounts * q // 4 for q in (1, 2, 3, 4)}
    while created < accounts:
        block = []
        for _ in range(txns):
            if created >= accounts:
                break
            count = min(per_txn, accounts - created)
            blobs: dict[bytes, bytes | None] = {address_of(created + i): rng.randbytes(100) for i in range(count)}
            created += count
            block.append(TransactionToCommit(b"\x02" + rng.randbytes(60), blobs))
        db.commit_block(block, db.next_version)
        if any(created >= m > created - per_txn * txns for m in marks):
            elapsed = time.perf_counter() - start
            print(f"  loaded {created:>10,} accounts  {created / elapsed:>9,.0f} accounts/s  rss {current_rss_mb():7.1f} MB")


def payments(db: LibraDB, accounts: int, blocks: int, size: int, rng: random.Random, speculative: bool = False) -> None:
    start = time.perf_counter()
    prepare_time = commit_time = 0.0
    pending = None
    for _ in range(blocks):
        block = []
        for _ in range(size):
            a, b = address_of(rng.randrange(accounts)), address_of(rng.randrange(accounts))
            key = rng.randbytes(24)
            block.append(
                TransactionToCommit(
                    b"\x00" + rng.randbytes(300),
                    {a: rng.randbytes(100), b: rng.randbytes(100)},
                    [EventToCommit(key, 0, b"\x00" + key + rng.randbytes(40))],
                    gas_used=10,
                    sender=a,
                    sequence_number=rng.getrandbits(30),
                )
            )
        t0 = time.perf_counter()
        if speculative:
            prepared = db.prepare_block(block, pending.next_version if pending else db.next_version, pending)
        else:
            prepared = db.prepare_block(block, db.next_version)
        t1 = time.perf_counter()
        prepare_time += t1 - t0
        to_commit = pending if speculative else prepared
        if to_commit is not None:
            db.commit_prepared(to_commit)
        commit_time += time.perf_counter() - t1
        pending = prepared
    if speculative and pending is not None:
        t1 = time.perf_counter()
        db.commit_prepared(pending)
        commit_time += time.perf_counter() - t1
    elapsed = time.perf_counter() - start
    txns = blocks * size
    mode = "speculative (prepared on the uncommitted parent)" if speculative else "on the committed tip"
    print(
        f"payments, {mode}: {blocks} blocks of {size}: {txns / elapsed:,.0f} txn/s, "
        f"{2 * txns / elapsed:,.0f} accounts updated/s, {blocks / elapsed:.2f} commits/s; "
        f"prepare {prepare_time / blocks * 1000:,.0f} ms/block, commit {commit_time / blocks * 1000:,.0f} ms/block, "
        f"prepare+commit {txns / (prepare_time + commit_time):,.0f} txn/s"
    )


def proofs(db: LibraDB, accounts: int, count: int, rng: random.Random) -> None:
    start = time.perf_counter()
    size = 0
    for _ in range(count):
        size += len(db.get_account_state_with_proof(address_of(rng.randrange(accounts))).to_bcs())
    elapsed = time.perf_counter() - start
    print(f"proofs: {count / elapsed:,.0f} account proofs/s, mean size {size / count:,.0f} bytes (blob 100)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1_000_000, help="10000000 for the large run")
    parser.add_argument("--accounts-per-txn", type=int, default=100)
    parser.add_argument("--load-txns", type=int, default=100)
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--block-size", type=int, default=500)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--prune-window", type=int, default=10_000)
    parser.add_argument("--speculative", action="store_true", help="prepare each block on its uncommitted parent")
    parser.add_argument("--dir", type=Path, default=None, help="store directory (default: a temporary one)")
    args = parser.parse_args(argv)
    rng = random.Random(1)
    directory = args.dir or Path(tempfile.mkdtemp(prefix="libra-bench-"))
    db = LibraDB.open(directory / "db", prune_window=args.prune_window)
    try:
        print(f"load: {args.accounts:,} accounts, {args.accounts_per_txn} per txn, {args.load_txns} txns per block")
        start = time.perf_counter()
        load(db, args.accounts, args.accounts_per_txn, args.load_txns, rng)
        elapsed = time.perf_counter() - start
        print(f"load: {args.accounts / elapsed:,.0f} accounts/s overall ({elapsed:.1f} s)")
        payments(db, args.accounts, args.blocks, args.block_size, rng, args.speculative)
        proofs(db, args.accounts, args.proofs, rng)
        db.close()
        db = LibraDB.open(directory / "db", prune_window=args.prune_window)
        on_disk = dir_bytes(directory / "db")
        print(f"disk: {on_disk / 2**20:,.1f} MB, {on_disk / args.accounts:,.0f} bytes per account")
        print(f"peak RSS: {peak_rss_mb():,.1f} MB")
    finally:
        db.close()
        if args.dir is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
