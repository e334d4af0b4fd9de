"""A caught-up follower's request for the server's latest is held until the server commits
more (or its time is up), then answered; other requests are answered at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

from libra.node.state_sync import LATEST, ChunkRequest, StateSync
from libra.types.move import AccountAddress

FOLLOWER = AccountAddress(b"\x02" * 16)


@dataclass
class Answer:
    request_id: int

    def to_bcs(self) -> bytes:
        return b"answer %d" % self.request_id


class Recorder:
    """The server's network: records what it sends."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.arrived = threading.Event()

    def register(self, protocol: object, handler: Callable[[AccountAddress, bytes], None]) -> None:
        self.handler = handler

    def send(self, peer: AccountAddress, protocol: object, payload: bytes) -> bool:
        assert peer == FOLLOWER
        self.sent.append(payload)
        self.arrived.set()
        return True


class Tip:
    """The server's ledger, reduced to its latest ledger info's version."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.db = SimpleNamespace(get_latest_ledger_info=self.latest)

    def latest(self) -> SimpleNamespace:
        return SimpleNamespace(ledger_info=SimpleNamespace(version=self.version))


def server(loop: asyncio.AbstractEventLoop, park_secs: float) -> tuple[StateSync, Recorder, Tip]:
    network, tip = Recorder(), Tip(10)
    sync = StateSync(tip, network, loop, park_secs=park_secs)  # type: ignore[arg-type]
    sync.serve = lambda request: Answer(request.request_id)  # type: ignore[method-assign,assignment,return-value]
    return sync, network, tip


def deliver(loop: asyncio.AbstractEventLoop, network: Recorder, request: ChunkRequest) -> None:
    """The request arrives on the server's event loop, as the network hands it over."""
    done = threading.Event()

    def arrive() -> None:
        network.handler(FOLLOWER, request.to_bcs())
        done.set()

    loop.call_soon_threadsafe(arrive)
    assert done.wait(5)


def test_a_caught_up_request_waits_for_the_next_commit(loop) -> None:
    _, network, tip = server(loop, park_secs=30)
    deliver(loop, network, ChunkRequest(1, 11, LATEST, 500))  # the follower has everything up to 10
    assert not network.arrived.wait(0.2)  # held: nothing new to say
    tip.version = 12  # the server commits versions 11 and 12
    assert network.arrived.wait(5)
    assert network.sent == [b"answer 1"]


def test_a_held_request_is_answered_when_its_time_is_up(loop) -> None:
    _, network, _ = server(loop, park_secs=0.2)
    deliver(loop, network, ChunkRequest(1, 11, LATEST, 500))
    assert network.arrived.wait(5)  # nothing was committed: answered anyway (with nothing new)
    assert network.sent == [b"answer 1"]


def test_requests_with_something_to_send_or_a_fixed_target_are_answered_at_once(loop) -> None:
    _, network, _ = server(loop, park_secs=30)
    deliver(loop, network, ChunkRequest(1, 5, LATEST, 500))  # behind: versions 5..10 to send
    deliver(loop, network, ChunkRequest(2, 11, 20, 500))  # a target the server lacks: not held either
    deliver(loop, network, ChunkRequest(3, 11, LATEST, 500))  # held
    assert network.sent == [b"answer 1", b"answer 2"]


def test_a_newer_request_of_the_same_peer_replaces_the_held_one(loop) -> None:
    _, network, tip = server(loop, park_secs=30)
    deliver(loop, network, ChunkRequest(1, 11, LATEST, 500))
    deliver(loop, network, ChunkRequest(2, 11, LATEST, 500))
    tip.version = 11
    assert network.arrived.wait(5)
    assert not _more_than_one(network)
    assert network.sent == [b"answer 2"]


def _more_than_one(network: Recorder) -> bool:
    network.arrived.clear()
    return network.arrived.wait(0.2)
