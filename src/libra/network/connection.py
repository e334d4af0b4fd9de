"""One authenticated connection to a peer: its read, write and keepalive loops.

Rules:

* A connection exists only after the TLS handshake, the key pin and the Hello exchange
  (see :mod:`libra.network.network`); this module runs it until it ends.
* Reading: a 4-byte header, checked against ``max_frame_bytes`` before the body is read;
  the body must then arrive within ``frame_timeout`` (checked by the keepalive watchdog
  every ``ping_interval``, so the cut comes up to one interval late); each frame is charged to the
  peer's token buckets first, and dropped (counted) if they cannot pay; persistent
  excess closes the connection.
* Writing: one loop drains the peer's bounded outbound queue, whole frames only (several
  small ones per write), and waits for the transport to drain; a peer that does not read for ``write_timeout``
  is disconnected. Pongs are written directly (they are small and answer rate-limited pings).
* Keepalive: a Ping every ``ping_interval``; if nothing at all was heard from the peer for
  ``ping_timeout``, the peer is considered dead and the connection closed.
* Nothing a peer sends raises out of these loops: every failure ends in :meth:`close`
  with a reason, which is counted and reported once to the owner.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import logging
import random
import ssl
from collections.abc import Callable, Coroutine
from typing import Any

from libra.network.config import NetworkConfig
from libra.network.metrics import NetworkMetrics
from libra.network.ratelimit import InboundLimiter
from libra.network.wire import (
    FRAME_HEADER_LENGTH,
    DirectSend,
    Hello,
    Ping,
    Pong,
    WireError,
    decode_message,
    encode_ping,
    encode_pong,
    frame,
    parse_header,
)
from libra.types.move import AccountAddress

log = logging.getLogger("libra.network")

CONTROL_LABEL = "control"
WRITE_BATCH_BYTES = 256 * 1024
"""Queued frames are written together up to this size (one frame may be larger)."""


class Origin(enum.Enum):
    """Who dialed: we (OUTBOUND) or the peer (INBOUND)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class OutboundQueue:
    """A peer's bounded queue of ready frames, kept across reconnections.

    When full, ``drop_oldest`` makes room by discarding the oldest frame; otherwise the
    new frame is refused. Either way the caller counts one dropped message.
    """

    def __init__(self, size: int, drop_oldest: bool) -> None:
        self._items: collections.deque[tuple[str, bytes]] = collections.deque()
        self._size = size
        self._drop_oldest = drop_oldest
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, label: str, data: bytes) -> tuple[bool, bool]:
        """Queue one frame; return (accepted, dropped_one)."""
        if len(self._items) >= self._size:
            if not self._drop_oldest:
                return False, True
            self._items.popleft()
            self._items.append((label, data))
            self._ready.set()
            return True, True
        self._items.append((label, data))
        self._ready.set()
        return True, False

    async def get(self) -> tuple[str, bytes]:
        """The oldest frame, waiting until there is one."""
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    async def get_batch(self, max_bytes: int) -> list[tuple[str, bytes]]:
        """The oldest frames in order, waiting for the first: at least one, and no more
        after ``max_bytes`` is reached (fewer TLS records and system calls per message)."""
        batch = [await self.get()]
        size = len(batch[0][1])
        while self._items and size + len(self._items[0][1]) <= max_bytes:
            item = self._items.popleft()
            batch.append(item)
            size += len(item[1])
        return batch

    def clear(self) -> None:
        self._items.clear()


Deliver = Callable[["Connection", int, bytes, int], Coroutine[Any, Any, None]]
"""(connection, protocol id, payload, bytes on the wire including the frame header)"""
Lost = Callable[["Connection", str], None]


def short(peer_id: AccountAddress) -> str:
    """Peer id as shown in logs: the first 8 hex digits."""
    return peer_id.hex()[:8]


class Connection:
    """A live, authenticated stream to ``peer_id``; started with :meth:`start`."""

    def __init__(
        self,
        peer_id: AccountAddress,
        origin: Origin,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        config: NetworkConfig,
        metrics: NetworkMetrics,
        queue: OutboundQueue,
        deliver: Deliver,
        lost: Lost,
    ) -> None:
        self.peer_id = peer_id
        self.origin = origin
        self._reader = reader
        self._writer = writer
        self._config = config
        self._metrics = metrics
        self._queue = queue
        self._deliver = deliver
        self._lost = lost
        self._loop = asyncio.get_running_loop()
        self.opened_at = self._loop.time()
        self._last_heard = self.opened_at
        self._frame_started: float | None = None
        self._limiter = InboundLimiter.create(
            messages_per_sec=config.rate_messages_per_sec,
            burst_messages=config.burst_messages,
            bytes_per_sec=config.rate_bytes_per_sec,
            burst_bytes=config.burst_bytes,
            abuse_limit=config.abuse_drop_limit,
            abuse_window=config.abuse_window,
            now=self.opened_at,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self.closed = False
        self.close_reason: str | None = None

    def __repr__(self) -> str:
        return f"Connection({short(self.peer_id)}, {self.origin.value})"

    @property
    def local_address(self) -> object:
        return self._writer.get_extra_info("sockname")

    @property
    def remote_address(self) -> object:
        return self._writer.get_extra_info("peername")

    def start(self) -> None:
        """Run the read, write and keepalive loops."""
        name = f"net-{short(self.peer_id)}"
        for loop in (self._read_loop, self._write_loop, self._ping_loop):
            self._tasks.append(asyncio.create_task(loop(), name=f"{name}-{loop.__name__}"))

    def close(self, reason: str) -> None:
        """End the connection at once (idempotent): count the reason, abort the transport,
        stop the loops, and tell the owner."""
        if self.closed:
            return
        self.closed, self.close_reason = True, reason
        self._metrics.disconnects[reason] += 1
        self._writer.transport.abort()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        self._lost(self, reason)

    async def wait_closed(self) -> None:
        """Wait for every loop to finish (after :meth:`close`)."""
        current = asyncio.current_task()
        await asyncio.gather(*(t for t in self._tasks if t is not current), return_exceptions=True)

    # --- reading -------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        """Read frames until the peer goes away or breaks a rule."""
        reason = "eof"
        try:
            while not self.closed:
                body = await self._read_frame()
                if body is None:
                    return
                await self._on_frame(body)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                log.info("peer %s disconnected in the middle of a frame", short(self.peer_id))
        except (ConnectionError, ssl.SSLError, OSError) as exc:
            log.info("peer %s connection error: %s", short(self.peer_id), exc)
            reason = "error"
        except Exception:  # a bug must cost one connection, never the node
            log.exception("peer %s: unexpected error while reading", short(self.peer_id))
            reason = "error"
        self.close(reason)

    async def _read_frame(self) -> bytes | None:
        """One frame body, or None after closing the connection for a framing violation."""
        header = await self._reader.readexactly(FRAME_HEADER_LENGTH)
        try:
            length = parse_header(header, self._config.max_frame_bytes)
        except WireError as exc:
            log.warning("peer %s: %s; closing connection", short(self.peer_id), exc)
            self.close("oversize_frame" if header != bytes(FRAME_HEADER_LENGTH) else "protocol_violation")
            return None
        self._frame_started = self._loop.time()  # the watchdog enforces frame_timeout
        body = await self._reader.readexactly(length)
        self._frame_started = None
        return body

    async def _on_frame(self, body: bytes) -> None:
        """Rate-limit, decode and act on one frame body."""
        now = self._loop.time()
        self._last_heard = now
        if not self._limiter.admit(len(body) + FRAME_HEADER_LENGTH, now):
            self._metrics.dropped["rate_limited"] += 1
            if self._limiter.abusive:
                log.warning("peer %s keeps exceeding its rate limit; disconnecting", short(self.peer_id))
                self.close("rate_abuse")
            return
        try:
            message = decode_message(body)
        except WireError as exc:
            log.warning("peer %s sent a malformed frame (%s); closing connection", short(self.peer_id), exc)
            self.close("protocol_violation")
            return
        if isinstance(message, DirectSend):
            await self._deliver(self, message.protocol, message.payload, len(body) + FRAME_HEADER_LENGTH)
            return
        self._metrics.messages_in[CONTROL_LABEL] += 1
        self._metrics.bytes_in[CONTROL_LABEL] += len(body) + FRAME_HEADER_LENGTH
        if isinstance(message, Ping):
            self._write_control(encode_pong(message.nonce))
        elif isinstance(message, Hello):
            log.warning("peer %s sent a second Hello; closing connection", short(self.peer_id))
            self.close("protocol_violation")
        else:
            assert isinstance(message, Pong)

    # --- writing -------------------------------------------------------------------------

    def _write_control(self, body: bytes) -> None:
        """Write a small control frame right away, unless the transport is closing."""
        if self._writer.is_closing():
            return
        data = frame(body)
        self._writer.write(data)
        self._metrics.messages_out[CONTROL_LABEL] += 1
        self._metrics.bytes_out[CONTROL_LABEL] += len(data)

    async def _write_loop(self) -> None:
        """Send queued frames in order; close if the peer stops reading."""
        try:
            while not self.closed:
                batch = await self._queue.get_batch(WRITE_BATCH_BYTES)
                self._writer.write(b"".join(data for _, data in batch) if len(batch) > 1 else batch[0][1])
                try:
                    async with asyncio.timeout(self._config.write_timeout):
                        await self._writer.drain()
                except TimeoutError:
                    log.warning("peer %s stopped reading; disconnecting", short(self.peer_id))
                    self.close("write_timeout")
                    return
                for label, data in batch:
                    self._metrics.messages_out[label] += 1
                    self._metrics.bytes_out[label] += len(data)
        except (ConnectionError, ssl.SSLError, OSError) as exc:
            log.info("peer %s write failed: %s", short(self.peer_id), exc)
            self.close("error")
        except Exception:
            log.exception("peer %s: unexpected error while writing", short(self.peer_id))
            self.close("error")

    async def _ping_loop(self) -> None:
        """Every ``ping_interval``: enforce the silence and slow-frame limits, then ping."""
        while not self.closed:
            await asyncio.sleep(self._config.ping_interval)
            if self._check_deadlines(self._loop.time()):
                return
            self._write_control(encode_ping(random.getrandbits(64)))

    def _check_deadlines(self, now: float) -> bool:
        """Close (and return True) if the peer was silent for ``ping_timeout`` or a started
        frame is older than ``frame_timeout``; one watchdog instead of a timer per frame."""
        started = self._frame_started
        if started is not None and now - started > self._config.frame_timeout:
            log.warning(
                "peer %s: frame not received within %.1fs; closing connection",
                short(self.peer_id),
                self._config.frame_timeout,
            )
            self.close("slow_frame")
            return True
        silent = now - self._last_heard
        if silent > self._config.ping_timeout:
            log.warning("peer %s silent for %.1fs; disconnecting", short(self.peer_id), silent)
            self.close("ping_timeout")
            return True
        return False
