"""Ed25519 verification: the native core against PyNaCl, per signature and per payment.

Run: ``.venv/bin/python -m bench.signature_bench [--count N]``.

For N honest signatures over payment-sized messages (and N signed payments) it prints wall
microseconds per signature (and CPU microseconds, all threads) of:

* PyNaCl one by one (``ed25519_strict.verify_signature``), and on two threads in chunks of
  64 (what ``verify_many`` with an executor did);
* the native core one by one (``_core.ed25519_verify``, GIL held);
* the native batch (``_core.verify_signatures``, GIL released) on one rayon thread and on
  two (each in a subprocess, since rayon's pool is sized once per process);
* per payment: PyNaCl's path (decode, hash, verify) against ``_core.check_signed_transactions``.

The machine's other jobs slow every line alike; compare lines of one run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from libra.client.loadgen import PaymentSigner, Sender
from libra.crypto import ed25519_strict
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.crypto.hashing import user_transaction_hash
from libra.crypto.transaction_signature import verify_transaction_signature_reference
from libra.mempool.admission import raw_transaction_bytes
from libra.types.transaction import SignedTransaction

Items = list[tuple[bytes, bytes, bytes]]


def signatures(count: int) -> Items:
    keys = [Ed25519PrivateKey.generate() for _ in range(min(count, 1000))]
    out = []
    for i in range(count):
        key = keys[i % len(keys)]
        message = os.urandom(200)
        out.append((key.public_key().data, message, key.sign(message).data))
    return out


def payments(count: int) -> list[bytes]:
    signer = PaymentSigner(2, int(time.time()) + 3600)
    senders = [Sender.generate() for _ in range(min(count, 1000))]
    return [signer.sign(senders[i % len(senders)], i, senders[(i + 1) % len(senders)].address)[0] for i in range(count)]


def measure(count: int, work: Callable[[], object], repeat: int = 3) -> tuple[float, float]:
    """Best wall and its CPU time (all threads) per item, in microseconds."""
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        best = min(best, (1e6 * wall / count, 1e6 * cpu / count))
    return best


def _pynacl_threads(items: Items) -> list[bool]:
    def chunk(part: Items) -> list[bool]:
        return [ed25519_strict.verify_signature(*item) for item in part]

    with ThreadPoolExecutor(2) as pool:
        parts = [items[i : i + 64] for i in range(0, len(items), 64)]
        return [ok for result in pool.map(chunk, parts) for ok in result]


def _python_payment_path(datas: list[bytes]) -> list[tuple[bytes, bool]]:
    out = []
    for data in datas:
        txn = SignedTransaction.from_bcs(data)
        out.append((user_transaction_hash(data), verify_transaction_signature_reference(txn, raw_transaction_bytes(txn, data))))
    return out


def _batch_in_subprocess(count: int, threads: int) -> tuple[float, float]:
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), LIBRA_CORE="native")
    result = subprocess.run(
        [sys.executable, "-m", "bench.signature_bench", "--batch-only", "--count", str(count)],
        env=env, capture_output=True, text=True, check=True, timeout=600, cwd=Path(__file__).resolve().parents[1],
    )
    wall, cpu = result.stdout.split()
    return float(wall), float(cpu)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=4000)
    parser.add_argument("--batch-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from libra import _core  # the bench compares against the core, whatever LIBRA_CORE says

    items = signatures(args.count)
    batch = [(0, key, message, signature) for key, message, signature in items]
    if args.batch_only:
        wall, cpu = measure(len(items), lambda: _core.verify_signatures(batch))
        print(wall, cpu)
        return
    rows: list[tuple[str, tuple[float, float]]] = [
        ("PyNaCl, one by one", measure(len(items), lambda: [ed25519_strict.verify_signature(*i) for i in items])),
        ("PyNaCl, 2 threads (chunks of 64)", measure(len(items), lambda: _pynacl_threads(items))),
        ("native, one by one (GIL held)", measure(len(items), lambda: [_core.ed25519_verify(*i) for i in items])),
        ("native batch, 1 rayon thread", _batch_in_subprocess(len(items), 1)),
        ("native batch, 2 rayon threads", _batch_in_subprocess(len(items), 2)),
    ]
    datas = payments(args.count)
    assert _core.check_signed_transactions(datas) == _python_payment_path(datas)
    rows += [
        ("payment: decode, hash, verify in Python/PyNaCl", measure(len(datas), lambda: _python_payment_path(datas))),
        ("payment: check_signed_transactions (2 threads)", measure(len(datas), lambda: _core.check_signed_transactions(datas))),
    ]
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores shared); {len(items)} signatures")
    print(f"{'':50s} {'wall µs':>9s} {'CPU µs':>9s}")
    for name, (wall, cpu) in rows:
        print(f"{name:50s} {wall:9.1f} {cpu:9.1f}")


if __name__ == "__main__":
    main()
