"""Signature checks of submissions, batched onto the node's verify pool.

Submissions that arrive in the same turn of the event loop (the calls of one JSON-RPC
batch start together) are checked together, off the event loop, and the loop wakes once
per job:

* native core: one job for all of them, whose single call into the core decodes, hashes
  and checks every signature with the GIL released, over both cores;
* ``LIBRA_CORE=python``: one job per worker, each checking its share with PyNaCl
  (which releases the GIL during each check).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from concurrent.futures import Executor

from libra.mempool.admission import preverify_all
from libra.native import CORE

WORKERS = 2


class SubmissionVerifier:
    def __init__(self, pool: Executor, workers: int = WORKERS) -> None:
        self._pool = pool
        self._jobs = 1 if CORE is not None else workers  # the core spreads one job over the cores
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
        size = -(-len(pending) // self._jobs)
        for start in range(0, len(pending), size):
            chunk = pending[start : start + size]
            job = asyncio.wrap_future(self._pool.submit(_check, [data for data, _ in chunk]))
            job.add_done_callback(functools.partial(_settle, chunk=chunk))


def _check(datas: Sequence[bytes]) -> None:
    preverify_all(datas)


def _settle(job: asyncio.Future[None], chunk: list[tuple[bytes, asyncio.Future[None]]]) -> None:
    error = job.exception() if not job.cancelled() else asyncio.CancelledError()
    for _, done in chunk:
        if done.done():
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
