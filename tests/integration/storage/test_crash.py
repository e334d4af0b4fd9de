"""Crash safety: a child commits blocks and is SIGKILLed at random moments.

After every kill the store must open (its tip checks pass), sit exactly at a
block boundary the child reached, hold every block the child saw committed, and
pass a sampled deep verification. ``LIBRA_CRASH_ITERATIONS`` raises the default
100 kills for a longer run.
"""

from __future__ import annotations

import os
import random
import signal
import time

import pytest

from libra.storage.libradb import LibraDB
from libra.storage.testing import ChainBuilder, Validators
from libra.storage.verify import verify_store

ITERATIONS = int(os.environ.get("LIBRA_CRASH_ITERATIONS", "100"))


def run_child(path: str, seed: int, write_fd: int) -> None:
    """Commit blocks forever, reporting each block before and after its commit."""
    rng = random.Random(seed)
    chain = ChainBuilder(rng, Validators.generate(4, random.Random(0)))
    db = LibraDB.open(path, prune_window=50)
    chain.epoch = db.get_latest_ledger_info().ledger_info.epoch if db.get_latest_ledger_info() else 1
    while True:
        size = rng.randint(1, 30)
        end = db.next_version + size
        os.write(write_fd, f"P {end}\n".encode())
        chain.commit(db, size, end_epoch=rng.random() < 0.05)
        os.write(write_fd, f"C {end}\n".encode())


def read_reports(read_fd: int) -> list[tuple[str, int]]:
    data = b""
    while chunk := os.read(read_fd, 65536):
        data += chunk
    return [(line.split()[0], int(line.split()[1])) for line in data.decode().splitlines() if line.count(" ") == 1]


@pytest.mark.slow
def test_sigkill_at_random_moments(tmp_path):
    path = str(tmp_path / "db")
    rng = random.Random(2024)
    committed = 0
    for iteration in range(ITERATIONS):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            os.close(read_fd)
            try:
                run_child(path, iteration, write_fd)
            finally:
                os._exit(0)
        os.close(write_fd)
        time.sleep(rng.uniform(0.0, 0.12))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        reports = read_reports(read_fd)
        os.close(read_fd)
        seen = [end for kind, end in reports if kind == "C"]
        in_flight = [end for kind, end in reports if kind == "P"]
        committed = max([committed, *seen])
        db = LibraDB.open(path, prune_window=50)
        try:
            allowed = {committed} | ({in_flight[-1]} if in_flight else set())
            assert db.next_version in allowed, (iteration, db.next_version, allowed)
            committed = db.next_version
            if committed:
                li = db.get_latest_ledger_info()
                assert li is not None and li.ledger_info.version == committed - 1
            if iteration % 10 == 0 or iteration == ITERATIONS - 1:
                findings = list(verify_store(db, sample=3))
                assert all(f.ok for f in findings), findings[-1]
        finally:
            db.close()
    assert committed > 0
