"""The push stream ``GET /v1/stream`` (server-sent events) on a real localnet."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from libra.api.stream import EventStream, _Subscriber
from libra.client.wallet_rpc import NodeUnreachable, StreamMessage, WalletRpc


def mint(rpc: WalletRpc, amount: int) -> bytes:
    auth_key = secrets.token_bytes(32)
    rpc.mint(auth_key, amount, "XUS")
    return auth_key[16:]


def http_status(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("address=zz", "address must be 32 hex"),
        ("event_key=1234", "event_key must be 48 hex"),
        ("address=" + "ab" * 16 + "&since_version=-1", "since_version must be a version"),
        ("&".join(["address=" + "ab" * 16] * 17), "at most 16"),
    ],
)
def test_bad_queries_are_refused_in_words(wallet_net: Any, query: str, words: str) -> None:
    status, text = http_status(f"{wallet_net.base}/v1/stream?{query}")
    assert status == 400 and words in text


def _collect(rpc: WalletRpc, address: bytes, since: int | None, until: Any, limit_secs: float = 10.0) -> list[StreamMessage]:
    seen: list[StreamMessage] = []
    deadline = time.monotonic() + limit_secs
    for message in rpc.stream(addresses=[address], since_version=since, timeout=5):
        seen.append(message)
        if until(seen) or time.monotonic() > deadline:
            break
    return seen


def test_replay_then_live_events(wallet_net: Any) -> None:
    rpc = WalletRpc(wallet_net.url)
    address = mint(rpc, 7_000_000)
    # replay: everything after version 0 for this address, then a ledger checkpoint
    replayed = _collect(rpc, address, 0, lambda seen: seen[-1].event == "ledger")
    payments = [m.data for m in replayed if m.event == "event" and m.data["data"]["type"] == "receivedpayment"]
    assert [(p["data"]["receiver"], p["data"]["amount"]["amount"]) for p in payments] == [(address.hex(), 7_000_000)]
    assert all(m.data["key"].endswith(address.hex()) for m in replayed if m.event == "event")
    checkpoint = int(replayed[-1].id or 0)
    assert checkpoint >= payments[0]["transaction_version"]

    # live: a payment committed while the stream is open arrives without polling
    received: list[StreamMessage] = []
    ready = threading.Event()

    def listen() -> None:
        def until(seen: list[StreamMessage]) -> bool:
            ready.set()
            return any(m.event == "event" and m.data["data"]["type"] == "receivedpayment" for m in seen)

        received.extend(_collect(rpc, address, None, until))

    listener = threading.Thread(target=listen)
    listener.start()
    assert ready.wait(10)
    started = time.monotonic()
    rpc.mint(b"\x00" * 16 + address, 1_000_000, "XUS")  # the faucet pays the existing account
    listener.join(15)
    payment = next(m.data for m in received if m.event == "event" and m.data["data"]["type"] == "receivedpayment")
    assert payment["data"]["amount"]["amount"] == 1_000_000 and payment["transaction_version"] > checkpoint
    assert time.monotonic() - started < 5
    # every block is announced, so the ledger messages double as a heartbeat
    versions = [int(m.data["version"]) for m in received if m.event == "ledger"]
    assert versions == sorted(versions)


def test_last_event_id_wins_over_since_version(wallet_net: Any) -> None:
    rpc = WalletRpc(wallet_net.url)
    address = mint(rpc, 3_000_000)
    tip = rpc.get_metadata()["version"]
    request = urllib.request.Request(
        f"{wallet_net.base}/v1/stream?address={address.hex()}&since_version=0",
        headers={"Last-Event-ID": str(tip)},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        head = b""
        while b"event: ledger" not in head:
            head += response.readline()
    assert b"event: event" not in head  # nothing replayed before the reconnecting client's checkpoint


def test_unreachable_stream_is_a_clear_error() -> None:
    with pytest.raises(NodeUnreachable, match="connection refused"):
        next(WalletRpc("http://127.0.0.1:9/v1").stream(addresses=[b"\x01" * 16]))


class _FakeRuntime:
    def add_commit_listener(self, _listener: Any) -> None:
        pass


def test_slow_client_queue_is_bounded() -> None:
    async def scenario() -> list[bytes | None]:
        stream = EventStream(_FakeRuntime(), queue_size=3)  # type: ignore[arg-type]
        subscriber = _Subscriber(frozenset(), frozenset(), asyncio.Queue(3 + 2))
        for version in range(1, 10):
            stream._offer(subscriber, f"block {version}\n".encode(), version)
        assert subscriber.overflowed and subscriber.queue.qsize() == 5
        return [subscriber.queue.get_nowait() for _ in range(5)]

    items = asyncio.run(scenario())
    assert items[:3] == [b"block 1\n", b"block 2\n", b"block 3\n"]
    assert items[3] is not None and b"event: overflow" in items[3] and b'"version":3' in items[3]
    assert items[4] is None  # end of stream
