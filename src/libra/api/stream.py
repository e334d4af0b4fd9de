"""Push stream of committed events: server-sent events at ``GET /v1/stream``.

Query parameters (each may repeat, at most 16 in all):

* ``address=<32 hex>``: every event whose key belongs to that account (payments
  sent and received, and the account's other event streams);
* ``event_key=<48 hex>``: one event stream;
* ``since_version=<u64>``: first replay what committed after that version (at most
  ``max_replay_versions`` back; older gaps are announced, see ``gap``). The standard
  ``Last-Event-ID`` header (sent by a reconnecting ``EventSource``) does the same.

Messages (``text/event-stream``, ``data`` is one line of JSON)::

    event: event          an event as JSON-RPC get_events shows it (``key``,
    data: {...}           ``sequence_number``, ``transaction_version``, ``data``)

    id: 1234              after each committed block (including empty ones, so it
    event: ledger         doubles as a heartbeat): the block's last version and
    data: {"version": 1234, "timestamp_usecs": ...}   timestamp; events of a block
                          come before its ``ledger`` message, so a client that
                          saw ``ledger`` V has every event up to version V

    event: gap            the replay was cut: versions ``from``..``to`` were not
    data: {"from": a, "to": b}   replayed; read them with get_events

    event: overflow       this client fell too far behind (its queue of
    data: {"version": V}  ``queue_size`` blocks is full); the stream ends,
                          reconnect with since_version=V

Fed by ``NodeRuntime.add_commit_listener``: the listener only records block
ranges; one pump task reads the blocks' events off the event loop (in a thread),
renders them once and hands each connection its own matching slice through a
bounded queue. Connections are capped at ``max_connections`` (503 beyond).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from libra.api.views import event_json
from libra.node.ledger import CommittedBlock
from libra.node.runtime import NodeRuntime

log = logging.getLogger("libra.api.stream")

STREAM_PATH = "/v1/stream"
MAX_FILTERS = 16
STOP_CHECK_SECS = 0.5
KEEPALIVE_SECS = 15.0
_ADDRESS = re.compile(r"^(0x)?[0-9a-fA-F]{32}$")
_EVENT_KEY = re.compile(r"^[0-9a-fA-F]{48}$")
_U64_MAX = (1 << 64) - 1


def _sse(event: str, data: Any, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


@dataclass(eq=False)
class _Subscriber:
    addresses: frozenset[str]
    keys: frozenset[str]
    queue: asyncio.Queue[bytes | None]
    overflowed: bool = False
    last_version: int = 0

    def wants(self, key: str) -> bool:
        return key in self.keys or key[16:] in self.addresses


@dataclass
class _Block:
    first_version: int
    last_version: int
    timestamp_usecs: int
    events: list[dict[str, Any]] = field(default_factory=list)


class StreamError(ValueError):
    """A query the stream cannot serve; the message says which parameter."""


def parse_stream_query(query: Any, last_event_id: str | None) -> tuple[frozenset[str], frozenset[str], int | None]:
    addresses = query.getall("address", [])
    keys = query.getall("event_key", [])
    if len(addresses) + len(keys) > MAX_FILTERS:
        raise StreamError(f"at most {MAX_FILTERS} address/event_key parameters per stream")
    for address in addresses:
        if not _ADDRESS.match(address):
            raise StreamError(f"address must be 32 hex characters, got {address!r}")
    for key in keys:
        if not _EVENT_KEY.match(key):
            raise StreamError(f"event_key must be 48 hex characters, got {key!r}")
    since_text = last_event_id or query.get("since_version")  # a reconnect knows better
    since: int | None = None
    if since_text is not None and since_text != "":
        if not since_text.isdigit() or int(since_text) > _U64_MAX:
            raise StreamError(f"since_version must be a version number, got {since_text!r}")
        since = int(since_text)
    normalized = frozenset(a.lower().removeprefix("0x") for a in addresses)
    return normalized, frozenset(k.lower() for k in keys), since


class EventStream:
    def __init__(
        self,
        runtime: NodeRuntime,
        *,
        queue_size: int = 64,
        max_connections: int = 256,
        max_replay_versions: int = 2000,
    ) -> None:
        self._runtime = runtime
        self._queue_size = queue_size
        self._max_connections = max_connections
        self._max_replay_versions = max_replay_versions
        self._subscribers: set[_Subscriber] = set()
        self._pending: deque[CommittedBlock] = deque()
        self._wakeup: asyncio.Event | None = None
        self._pump: asyncio.Task[None] | None = None
        runtime.add_commit_listener(self._on_commit)

    # --- commit side ----------------------------------------------------------------------

    def _on_commit(self, block: CommittedBlock) -> None:
        if not self._subscribers:
            return
        self._pending.append(block)
        if self._wakeup is not None:
            self._wakeup.set()

    def _ensure_pump(self) -> None:
        if self._pump is None or self._pump.done():
            self._wakeup = asyncio.Event()
            self._pump = asyncio.create_task(self._run_pump(), name="event-stream-pump")

    async def _run_pump(self) -> None:
        assert self._wakeup is not None
        while self._subscribers or self._pending:
            if not self._pending:
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), 5.0)
                continue
            committed = self._pending.popleft()
            try:
                block = await asyncio.to_thread(
                    self._read_block, committed.first_version, committed.last_version, committed.timestamp_usecs
                )
            except Exception:
                log.exception("cannot read events of versions %d..%d", committed.first_version, committed.last_version)
                continue
            self._deliver(block)

    def _read_block(self, first: int, last: int, timestamp_usecs: int) -> _Block:
        ledger = self._runtime.ledger
        block = _Block(first, last, timestamp_usecs)
        for version in range(first, last + 1):
            block.events.extend(event_json(e) for e in ledger.db.get_events_by_version(version))
        return block

    def _deliver(self, block: _Block) -> None:
        tick = _sse("ledger", {"version": block.last_version, "timestamp_usecs": block.timestamp_usecs}, block.last_version)
        for subscriber in list(self._subscribers):
            if block.last_version <= subscriber.last_version:
                continue  # already covered by this subscriber's replay
            chunk = b"".join(_sse("event", e) for e in block.events if subscriber.wants(e["key"])) + tick
            self._offer(subscriber, chunk, block.last_version)

    def _offer(self, subscriber: _Subscriber, chunk: bytes, version: int) -> None:
        """Queue ``chunk``, or end a subscriber whose ``queue_size`` blocks are still unsent.

        The queue has two spare places for the end: ``overflow`` names the last version
        the client will have received in full, then None closes the stream.
        """
        if subscriber.overflowed:
            return
        if subscriber.queue.qsize() >= self._queue_size:
            subscriber.overflowed = True
            subscriber.queue.put_nowait(_sse("overflow", {"version": subscriber.last_version}))
            subscriber.queue.put_nowait(None)
            return
        subscriber.queue.put_nowait(chunk)
        subscriber.last_version = version

    # --- replay ---------------------------------------------------------------------------

    def _replay(self, subscriber: _Subscriber, since: int, upto: int) -> list[bytes]:
        chunks: list[bytes] = []
        start = since + 1
        if upto - since > self._max_replay_versions:
            start = upto - self._max_replay_versions + 1
            chunks.append(_sse("gap", {"from": since + 1, "to": start - 1}))
        if start > upto:
            return chunks
        ledger = self._runtime.ledger
        selected: list[bytes] = []
        for version in range(start, upto + 1):
            for stored in ledger.db.get_events_by_version(version):
                view = event_json(stored)
                if subscriber.wants(view["key"]):
                    selected.append(_sse("event", view))
        chunks.extend(selected)
        return chunks

    # --- HTTP side ------------------------------------------------------------------------

    def _stopping(self) -> bool:
        # NodeRuntime.stop() runs before the HTTP server shuts down; end streams then so
        # that shutdown does not wait for them.
        return self._runtime.stopping

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            addresses, keys, since = parse_stream_query(request.query, request.headers.get("Last-Event-ID"))
        except StreamError as exc:
            raise web.HTTPBadRequest(text=f"{exc}\n") from None
        if len(self._subscribers) >= self._max_connections:
            raise web.HTTPServiceUnavailable(text="too many open streams; try again later\n")
        subscriber = _Subscriber(addresses, keys, asyncio.Queue(self._queue_size + 2))
        snapshot = self._runtime.ledger.snapshot()
        subscriber.last_version = snapshot.version
        self._subscribers.add(subscriber)  # before the replay: nothing after the snapshot is missed
        self._ensure_pump()
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
                "Access-Control-Allow-Origin": "*",
            }
        )
        try:
            await response.prepare(request)
            opening = b": libra event stream\nretry: 1000\n\n"
            if since is not None and since < snapshot.version:
                replayed = await asyncio.to_thread(self._replay, subscriber, since, snapshot.version)
                opening += b"".join(replayed)
            opening += _sse(
                "ledger", {"version": snapshot.version, "timestamp_usecs": snapshot.timestamp_usecs}, snapshot.version
            )
            await response.write(opening)
            await self._pump_to_client(subscriber, response)
        except ConnectionError:
            pass  # the client went away
        finally:
            self._subscribers.discard(subscriber)
        return response

    async def _pump_to_client(self, subscriber: _Subscriber, response: web.StreamResponse) -> None:
        getter: asyncio.Task[bytes | None] | None = None
        idle = 0.0
        try:
            while not self._stopping():
                if getter is None:
                    getter = asyncio.ensure_future(subscriber.queue.get())
                done, _ = await asyncio.wait({getter}, timeout=STOP_CHECK_SECS)
                if not done:
                    idle += STOP_CHECK_SECS
                    if idle >= KEEPALIVE_SECS:
                        idle = 0.0
                        await response.write(b": keep-alive\n\n")
                    continue
                chunk, getter, idle = getter.result(), None, 0.0
                if chunk is None:
                    return
                await response.write(chunk)
        finally:
            if getter is not None:
                getter.cancel()

    def routes(self) -> list[web.RouteDef]:
        return [web.get(STREAM_PATH, self.handle, allow_head=False)]
