"""Fixtures of the network tests: real sockets on 127.0.0.1, several nodes in one loop.

pytest runs with ``--import-mode=importlib``; the test modules share ``net_helpers.py``,
so this folder goes on ``sys.path``.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import uvloop

sys.path.insert(0, str(Path(__file__).parent))

from net_helpers import FAST, Cluster  # noqa: E402


def pytest_asyncio_loop_factories(config: Any, item: Any) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Every network test runs on both loops a node may use (see libra.node.event_loop)."""
    return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    """Four validators plus an allowed, accept-only identity ``cluster.evil`` for raw clients."""
    nodes = Cluster(4, FAST)
    await nodes.start()
    assert await nodes.all_connected(5.0)
    try:
        yield nodes
    finally:
        await nodes.close()
