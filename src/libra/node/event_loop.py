"""The event loop of node processes (``libra node run``) and of ``libra bench``.

uvloop (libuv) where it is installed, which it is on Linux and macOS as a pinned
dependency; the standard asyncio loop otherwise. ``LIBRA_EVENT_LOOP=asyncio`` picks the
standard loop anyway (to compare the two, or to rule the loop out when hunting a bug).

Why uvloop: a node's loop spends its time on TLS peer writes, HTTP responses and
wake-ups from its worker threads (the consensus thread, the verify pool and the
block thread hand results over with ``call_soon_threadsafe``). The standard loop
writes a byte to its self-pipe for every such hand-over; uvloop's ``uv_async_send``
coalesces them, and its transports and TLS layer are compiled: 2-4 times cheaper
per TLS frame and per hand-over. Per payment that is a small share: in six pairs of
4+1 localnets loaded at the same time, uvloop's used 3 % less CPU per payment on the
full node, 1-2 % on validators and 7 % in the bench's load generator
(bench/results/session4-uvloop/).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

ENV_VAR = "LIBRA_EVENT_LOOP"
CHOICES = ("uvloop", "asyncio")

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The factory of the chosen loop, or None for asyncio's default."""
    choice = os.environ.get(ENV_VAR, "uvloop").strip().lower() or "uvloop"
    if choice not in CHOICES:
        raise ValueError(f"{ENV_VAR} must be one of {', '.join(CHOICES)}, not {choice!r}")
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:  # not installed on this platform: the standard loop serves
        return None
    return uvloop.new_event_loop


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """``uvloop`` or ``asyncio``, as logged at start-up."""
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"


def run(
    main: Coroutine[Any, Any, T], factory: Callable[[], asyncio.AbstractEventLoop] | None = None
) -> T:
    """``asyncio.run(main)`` on the loop ``factory`` makes (by default the chosen loop: check
    the choice with :func:`loop_factory` first to report a bad ``LIBRA_EVENT_LOOP`` cleanly)."""
    with asyncio.Runner(loop_factory=factory or loop_factory()) as runner:
        return runner.run(main)
