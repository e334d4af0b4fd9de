"""Submissions of one JSON-RPC batch are signature-checked together: one pool job per worker
with PyNaCl, one job for the batch with the native core (which spreads it over the cores)."""

from __future__ import annotations

import asyncio
import dataclasses
from concurrent.futures import ThreadPoolExecutor

import pytest

from libra.api.preverify import SubmissionVerifier
from libra.client import builders
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.mempool import admission
from libra.native import CORE
from libra.types.move import AccountAddress


class CountingPool(ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(2)
        self.jobs = 0

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        self.jobs += 1
        return super().submit(fn, *args, **kwargs)


def _signed(seq: int, forge: bool = False) -> bytes:
    key = Ed25519PrivateKey.generate()
    txn = builders.sign_transaction(
        key, AccountAddress(bytes(16)), seq,
        builders.peer_to_peer_with_metadata("XUS", AccountAddress(bytes(15) + b"\x01"), 5),
        chain_id=2, expiration_timestamp_secs=10**9,
    ).transaction
    if forge:
        auth = txn.authenticator
        txn = dataclasses.replace(
            txn, authenticator=dataclasses.replace(auth, signature=bytes([auth.signature[0] ^ 1]) + auth.signature[1:])
        )
    return txn.to_bcs()


def test_one_batch_is_checked_in_one_job_per_worker_or_one_native_job_with_each_result_kept():
    datas = [_signed(seq, forge=seq % 5 == 0) for seq in range(20)]
    with CountingPool() as pool:
        verifier = SubmissionVerifier(pool)

        async def submit_all() -> None:
            await asyncio.gather(*(verifier.verify(data) for data in datas))

        asyncio.run(submit_all())
    assert pool.jobs == (2 if CORE is None else 1)
    assert [admission._VERIFIED.pop(data)[0] for data in datas] == [seq % 5 != 0 for seq in range(20)]


def test_a_failing_job_fails_the_waiting_submissions():
    class BrokenPool(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
            return super().submit(lambda: (_ for _ in ()).throw(RuntimeError("worker died")))

    with BrokenPool(1) as pool:
        verifier = SubmissionVerifier(pool)
        with pytest.raises(RuntimeError, match="worker died"):
            asyncio.run(verifier.verify(_signed(1)))
