"""Signature checks of submissions, batched onto the node's verify pool.

Submissions that arrive in the same turn of the event loop (the calls of one JSON-RPC
batch start together) are checked together, off the event loop, and the loop wakes once
per job:

* native core: one job for all of them, whose single call into the core decodes, hashes
  and checks every signature with the GIL released, over both cores;
* ``LIBRA_CORE=python``: one job per worker, each checking its share with PyNaCl
  (which releases the GIL during each check).

Callers are woken in the order they asked, so the admissions that follow keep the order of
the calls (a later job finishing first does not let its submissions overtake).
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Executor

from libra.mempool.admission import preverify_all
from libra.native import CORE

WORKERS = 2


class SubmissionVerifier:
    def __init__(self, pool: Executor, workers: int = WORKERS) -> None:
        self._pool = pool
        self._jobs = 1 if CORE is not None else workers  # the core spreads one job over the cores
        # submissions waiting for the next flush: their bytes, and the future of the caller
        self._pending: list[tuple[Sequence[bytes], asyncio.Future[None]]] = []

    async def verify(self, data: bytes) -> None:
        """Check ``data``'s signature ahead of admission (the result waits in ``preverify``'s cache)."""
        await self.verify_all((data,))

    async def verify_all(self, datas: Sequence[bytes]) -> None:
        """:meth:`verify` of each of ``datas`` (a JSON-RPC batch's submissions), with one future."""
        if not datas:
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((datas, done))
        await done

    def _flush(self) -> None:
        """One job per worker over everything pending. Callers are settled in the order they
        came (so their admissions keep that order), each once the jobs holding its submissions
        are done, with the first failure among those jobs if any."""
        pending, self._pending = self._pending, []
        datas = [data for group, _ in pending for data in group]
        size = -(-len(datas) // self._jobs)
        jobs = [
            asyncio.wrap_future(self._pool.submit(_check, datas[start : start + size]))
            for start in range(0, len(datas), size)
        ]
        waiting: deque[tuple[list[asyncio.Future[None]], asyncio.Future[None]]] = deque()
        first = 0
        for group, done in pending:
            last = first + len(group) - 1  # the caller's submissions are datas[first..last]
            waiting.append((jobs[first // size : last // size + 1], done))
            first = last + 1
        for job in jobs:
            job.add_done_callback(functools.partial(_settle, waiting=waiting))


def _check(datas: Sequence[bytes]) -> None:
    preverify_all(datas)


def _settle(
    _job: asyncio.Future[None], waiting: deque[tuple[list[asyncio.Future[None]], asyncio.Future[None]]]
) -> None:
    """Settle the callers at the head of ``waiting`` whose jobs are all done."""
    while waiting and all(job.done() for job in waiting[0][0]):
        jobs, done = waiting.popleft()
        if done.done():
            continue
        error: BaseException | None = None
        for job in jobs:
            error = job.exception() if not job.cancelled() else asyncio.CancelledError()
            if error is not None:
                break
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
