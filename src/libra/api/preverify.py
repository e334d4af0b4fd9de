"""Signature checks of submissions, batched onto the node's verify pool.

A JSON-RPC batch of 20 ``submit`` calls used to send 20 jobs to the pool, each
waking the event loop when done. Submissions that arrive in the same turn of the
loop (the calls of one batch start together) are instead checked in one job per
worker, so both cores verify and the loop wakes once per job. libsodium releases
the GIL, so the checks run beside the event loop and block execution.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from concurrent.futures import Executor

from libra.mempool.admission import preverify

WORKERS = 2


def _preverify_all(datas: Sequence[bytes]) -> None:
    for data in datas:
        preverify(data)


class SubmissionVerifier:
    def __init__(self, pool: Executor, workers: int = WORKERS) -> None:
        self._pool = pool
        self._workers = workers
        self._pending: list[tuple[bytes, asyncio.Future[None]]] = []

    async def verify(self, data: bytes) -> None:
        """Check ``data``'s signature ahead of admission (the result waits in ``preverify``'s cache)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((data, done))
        await done

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        size = -(-len(pending) // self._workers)
        for start in range(0, len(pending), size):
            chunk = pending[start : start + size]
            job = asyncio.wrap_future(self._pool.submit(_preverify_all, [data for data, _ in chunk]))
            job.add_done_callback(functools.partial(_settle, chunk=chunk))


def _settle(job: asyncio.Future[None], chunk: list[tuple[bytes, asyncio.Future[None]]]) -> None:
    error = job.exception() if not job.cancelled() else asyncio.CancelledError()
    for _, done in chunk:
        if done.done():
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
