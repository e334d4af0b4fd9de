"""The validator transport: authenticated connections to known peers, over asyncio.

Peer ids: a peer is named by an :class:`~libra.types.move.AccountAddress` (16 bytes).
A validator's peer id is its account address in the on-chain validator set; a full node
without an account uses :func:`peer_id_for_key` (the last 16 bytes of its network key,
as Diem derives a ``PeerId`` from an identity key).

Rules:

* **Who may connect.** The allowed set maps peer id → (network key, optional address).
  After the TLS handshake the peer certificate's key must be in the set (inbound), and
  must be exactly the key expected for the address we dialed (outbound); otherwise the
  connection is closed, logged and counted in ``handshakes_refused``. Both sides then
  exchange a Hello, so neither side counts a connection the other one refused.
* **One connection per pair.** When a second connection to the same peer is established:
  if both have the same origin the newer wins (the peer restarted); otherwise the one
  dialed by the **greater peer id** wins (Diem's simultaneous-dial rule). Both ends apply
  the same rule, so they keep the same connection.
* **Who dials.** Every peer with an address is dialed while it is not connected, but the
  smaller id first waits for the greater id to dial it, so that simultaneous dials, and
  the loss of frames on the connection that loses the tie-break, stay rare: after a
  disconnection (both ends notice it at once) for ``handshake_timeout`` (×1–1.5), at start
  or for a new peer only ``START_YIELD_SECS`` (×1–1.5; a peer starting at the same time
  dials in that time). Peers that knew a restarted node are backing off from its
  downtime: a restarted validator with the smallest id that waited out the long delay
  was connected 4-9 s after its start on a localnet, unable to vote meanwhile.
* **Reconnect.** Failed
  attempts back off exponentially from ``backoff_initial`` to ``backoff_max`` with jitter
  (a random delay in ``[d/2, d]``); a connection that lived at least ``backoff_max`` resets
  the backoff, a shorter one does not (so a peer that accepts and drops is not hammered).
* **Epoch changes.** :meth:`Network.update_peers` replaces the allowed set: peers that left
  are disconnected and forgotten, peers whose key changed are reconnected, new ones dialed.
* **Guests** (a public full node only: ``guest_protocols`` given). An inbound key outside
  the allowed set is still accepted, named by :func:`peer_id_for_key`, and only frames
  of ``guest_protocols`` (state sync, mempool) are delivered from it; at most
  ``max_guests`` at once. Guests are never dialed and survive :meth:`update_peers`
  unless the set now names their key. A validator never takes guests: consensus stays
  between pinned keys.
* **Dial overrides.** ``dial_addresses`` (peer id → "host:port", from the node's config)
  replaces the address a peer is dialed at, whatever the allowed set says (on-chain
  addresses a node cannot reach directly: port forwarding, a proxy between validators).
  Keys are pinned as before: an override never changes who a peer must prove to be.
* **Sending** never blocks: frames wait in a bounded per-peer queue (kept while the peer
  is disconnected) and are written by the connection's write loop. Delivery is best
  effort, as Diem's direct-send: frames already handed to a connection that then breaks
  (or loses a simultaneous-dial tie-break) can be lost; upper layers retry or sync.
* **Receiving.** Payloads are opaque bytes for a :class:`~libra.network.wire.Protocol`;
  the handler registered for it is called as ``handler(peer_id, payload)`` (a plain function
  or a coroutine function) in the order the peer sent them. Handlers must be quick: a slow
  handler holds back that peer's reads. A handler that raises is logged and counted; the
  connection stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import inspect
import logging
import random
import socket
import ssl
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace

from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.network.config import NetworkConfig
from libra.network.connection import Connection, Origin, OutboundQueue, short
from libra.network.metrics import NetworkMetrics
from libra.network.tls import PeerCertificateError, TlsIdentity, peer_public_key
from libra.network.wire import (
    FRAME_HEADER_LENGTH,
    PROTOCOL_VERSION,
    Hello,
    Protocol,
    WireError,
    decode_message,
    encode_direct_send,
    encode_hello,
    frame,
    parse_header,
)
from libra.types.move import ADDRESS_LENGTH, AccountAddress
from libra.types.network_address import NETWORK_KEY_LENGTH, ValidatorEndpoint

log = logging.getLogger("libra.network")

Handler = Callable[[AccountAddress, bytes], Awaitable[None] | None]
_HELLO_MAX_BYTES = 64
START_YIELD_SECS = 0.5
"""How long the smaller id lets the greater dial first at start (×1–1.5): see "Who dials"."""
_QUIET_REFUSALS = frozenset({"tls", "too_many_pending", "not_started"})
"""Refusals any scanner causes are logged at INFO; key mismatches at WARNING."""


def peer_id_for_key(public_key: bytes) -> AccountAddress:
    """The peer id of a node without an account: the last 16 bytes of its network key."""
    return AccountAddress(bytes(public_key[-ADDRESS_LENGTH:]))


async def _listen(host: str, port: int) -> list[socket.socket]:
    """Non-blocking TCP sockets listening on every address ``host`` resolves to, as
    ``asyncio.start_server`` does ("" : every IPv4 and IPv6 interface; a name: each of its
    addresses). Port 0 picks one free port, which the other addresses then share. A family
    this machine has no sockets for (IPv6 switched off) is skipped; any other error closes
    what was opened and is raised."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    listeners: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            try:
                sock = socket.socket(family, kind, proto)
            except OSError:
                continue
            listeners.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:  # "::" must not also claim the IPv4 port bound beside it
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if len(listeners) > 1:
                address = (address[0], listeners[0].getsockname()[1], *address[2:])
            sock.bind(address)
            sock.listen(128)
            sock.setblocking(False)
    except OSError:
        for sock in listeners:
            sock.close()
        raise
    if not listeners:
        raise OSError(f"no address to listen on for host {host!r}")
    return listeners


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """A peer we allow: its id, its network key and, if we should dial it, "host:port"."""

    peer_id: AccountAddress
    public_key: bytes
    address: str | None = None

    def __post_init__(self) -> None:
        if len(self.public_key) != NETWORK_KEY_LENGTH:
            raise ValueError(f"network public key must be {NETWORK_KEY_LENGTH} bytes")
        if self.address is not None:
            ValidatorEndpoint(self.address, self.public_key)  # validates HOST:PORT

    @classmethod
    def from_endpoint(cls, peer_id: AccountAddress, endpoint: ValidatorEndpoint) -> PeerInfo:
        """A validator from its on-chain endpoint."""
        return cls(peer_id, endpoint.network_public_key, endpoint.address)


class HandshakeRefused(Exception):
    """A connection that did not become a peer connection; ``reason`` is the metric label."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(slots=True)
class _Peer:
    info: PeerInfo
    queue: OutboundQueue
    connection: Connection | None = None
    dialer: asyncio.Task[None] | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    yielded: bool = False  # the smaller id let the greater one dial first (once per disconnection)
    dropped: bool = False  # the last connection was lost (not a start): the long yield applies


class Network:
    """Connections of one node (``peer_id``, ``network_key``) to its allowed peers."""

    def __init__(
        self,
        peer_id: AccountAddress,
        network_key: Ed25519PrivateKey,
        config: NetworkConfig | None = None,
        *,
        guest_protocols: Iterable[Protocol] = (),
        max_guests: int = 32,
        dial_addresses: Mapping[AccountAddress, str] | None = None,
    ) -> None:
        self.peer_id = peer_id
        self._guest_protocols = frozenset(guest_protocols)
        self._max_guests = max_guests
        self._guests: set[AccountAddress] = set()
        self.public_key = network_key.public_key().to_bytes()
        self.config = config or NetworkConfig()
        self.metrics = NetworkMetrics()
        self._key = network_key
        self._validity = datetime.timedelta(seconds=self.config.certificate_validity)
        self._identity: TlsIdentity | None = None
        self._peers: dict[AccountAddress, _Peer] = {}
        self._by_key: dict[bytes, AccountAddress] = {}
        self._handlers: dict[int, Handler] = {}
        self._listeners: list[socket.socket] = []
        self._accepted: set[socket.socket] = set()  # accepted sockets no transport owns yet
        self._running = False
        self._pending_handshakes = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self.port: int | None = None
        self._dial_addresses = dict(dial_addresses or {})
        for address in self._dial_addresses.values():
            ValidatorEndpoint(address, bytes(NETWORK_KEY_LENGTH))  # validates HOST:PORT

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self, listen_host: str, port: int) -> int:
        """Listen on ``listen_host:port`` (0 picks a free port) and dial known peers.

        Returns the bound port. After :meth:`close`, ``start`` may be called again.
        """
        if self._running:
            raise RuntimeError("network already started")
        self._tls()
        self._listeners = await _listen(listen_host, port)
        self.port = int(self._listeners[0].getsockname()[1])
        self._running = True
        for listener in self._listeners:
            self._spawn(self._accept_loop(listener), "net-accept")
        for peer in self._peers.values():
            peer.yielded = peer.dropped = False  # a start: the short yield (see "Who dials")
            self._start_dialer(peer)
        log.info("network %s listening on %s:%d", short(self.peer_id), listen_host, self.port)
        return self.port

    async def close(self) -> None:
        """Stop listening and dialing, close every connection and wait for all tasks."""
        self._running = False
        connections = [p.connection for p in self._peers.values() if p.connection is not None]
        for peer in self._peers.values():
            if peer.dialer is not None:
                peer.dialer.cancel()
                self._tasks.add(peer.dialer)
                peer.dialer = None
        for task in self._tasks:
            task.cancel()
        for connection in connections:
            connection.close("closing")
        await asyncio.gather(*self._tasks, *(c.wait_closed() for c in connections), return_exceptions=True)
        self._tasks.clear()
        for sock in self._accepted:  # their handshake tasks were cancelled before they started
            sock.close()
        self._accepted.clear()
        for listener in self._listeners:
            listener.close()  # after the accept loops are done with them
        self._listeners = []

    def _tls(self) -> TlsIdentity:
        """The current TLS identity, renewed when half of its validity has passed."""
        if self._identity is None or self._identity.needs_renewal(self._validity):
            self._identity = TlsIdentity.create(self._key, validity=self._validity)
        return self._identity

    def _spawn(self, coroutine: Awaitable[None], name: str) -> asyncio.Task[None]:
        """A tracked background task, cancelled by :meth:`close`."""
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- the allowed set -----------------------------------------------------------------

    def add_peer(
        self, peer_id: AccountAddress, endpoint: str | ValidatorEndpoint | None, public_key: bytes
    ) -> None:
        """Allow one peer (replacing its entry); dial it at ``endpoint`` ("host:port") if given.

        A :class:`ValidatorEndpoint` must carry the same key as ``public_key``.
        """
        if isinstance(endpoint, ValidatorEndpoint):
            if endpoint.network_public_key != public_key:
                raise ValueError("endpoint's network key differs from public_key")
            endpoint = endpoint.address
        infos = {pid: p.info for pid, p in self._peers.items()}
        infos[peer_id] = PeerInfo(peer_id, bytes(public_key), endpoint)
        self.update_peers(infos.values())

    def remove_peer(self, peer_id: AccountAddress) -> None:
        """Disallow one peer and disconnect it."""
        self.update_peers(p.info for pid, p in self._peers.items() if pid != peer_id)

    def update_peers(self, peers: Iterable[PeerInfo]) -> None:
        """Replace the allowed set (epoch change). Our own id is ignored; keys must be unique.

        Peers that left are disconnected and forgotten; a changed key reconnects the peer;
        a changed address is used from the next dial on. A peer in ``dial_addresses`` is
        dialed at that address instead of the one given.
        """
        wanted = {
            info.peer_id: replace(info, address=self._dial_addresses.get(info.peer_id, info.address))
            for info in peers
            if info.peer_id != self.peer_id
        }
        by_key: dict[bytes, AccountAddress] = {}
        for info in wanted.values():
            if by_key.setdefault(info.public_key, info.peer_id) != info.peer_id:
                raise ValueError(f"network key shared by two peers: {info.public_key.hex()}")
        for peer_id in list(self._guests):
            guest = self._peers.get(peer_id)
            if peer_id in wanted or guest is None or guest.info.public_key in by_key:
                self._guests.discard(peer_id)  # now a member of the set (or gone): no longer a guest
            else:
                wanted[peer_id] = guest.info
                by_key[guest.info.public_key] = peer_id
        for peer_id in [pid for pid in self._peers if pid not in wanted]:
            self._forget(self._peers.pop(peer_id), "peer_removed")
        self._by_key = by_key
        for info in wanted.values():
            current = self._peers.get(info.peer_id)
            if current is not None and current.info.public_key != info.public_key:
                self._forget(self._peers.pop(info.peer_id), "peer_removed")
                current = None
            if current is None:
                current = self._peers[info.peer_id] = _Peer(
                    info, OutboundQueue(self.config.outbound_queue_size, self.config.drop_oldest)
                )
            current.info = info
            if self._running:
                self._start_dialer(current)
        self._notify()

    def _forget(self, peer: _Peer, reason: str) -> None:
        """Stop dialing a peer, drop its queue and close its connection."""
        if peer.dialer is not None:
            peer.dialer.cancel()
            peer.dialer = None
        peer.queue.clear()
        if peer.connection is not None:
            log.info("peer %s removed from the allowed set; disconnecting", short(peer.info.peer_id))
            connection, peer.connection = peer.connection, None
            connection.close(reason)
            self._spawn(connection.wait_closed(), f"net-closing-{short(peer.info.peer_id)}")

    # --- accepting -----------------------------------------------------------------------

    async def _accept_loop(self, listener: socket.socket) -> None:
        """Accept TCP connections until closed; each is authenticated by its own task."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                sock, _ = await loop.sock_accept(listener)
            except OSError as exc:  # out of file descriptors, a reset before accept: go on
                log.warning("network %s: accept failed: %s", short(self.peer_id), exc)
                await asyncio.sleep(0.1)
                continue
            self._accepted.add(sock)
            self._spawn(self._on_accept(sock), "net-accept-handshake")

    async def _on_accept(self, sock: socket.socket) -> None:
        """Authenticate an inbound connection; never raises.

        The TLS layer is the first to read from the socket (``connect_accepted_socket``):
        upgrading a plain stream with ``start_tls`` loses a ClientHello that the plain stream
        read first, which uvloop does before the accepting task runs.
        """
        self._accepted.discard(sock)  # closed below, or owned by its transport from here on
        try:
            peer: object = sock.getpeername()
        except OSError:  # reset already
            peer = None
        if not self._running or self._pending_handshakes >= self.config.max_pending_handshakes:
            self._count_refusal("too_many_pending" if self._running else "not_started", "inbound", peer)
            sock.close()
            return
        self._pending_handshakes += 1
        writer: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout(self.config.handshake_timeout):
                reader, writer = await self._tls_accept(sock)
            peer_id = self._authenticate_inbound(writer)
            await self._hello(reader, writer)
        except HandshakeRefused as exc:
            assert writer is not None
            self._refused(exc.reason, str(exc), writer)
            return
        except (TimeoutError, ssl.SSLError, ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
            self._refused_any("tls", f"{type(exc).__name__}: {exc}", writer, peer)
            return
        except asyncio.CancelledError:
            if writer is not None:
                writer.transport.abort()
            raise
        except Exception as exc:  # a bug must cost one connection, never the node
            log.exception("unexpected error while accepting a connection")
            self._refused_any("error", repr(exc), writer, peer)
            return
        finally:
            self._pending_handshakes -= 1
        if peer_id not in self._peers and not self._add_guest(peer_id, writer):
            return
        self._register(peer_id, Origin.INBOUND, reader, writer)

    async def _tls_accept(self, sock: socket.socket) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """TLS handshake as server on an accepted socket; streams as ``start_server`` gives them."""
        loop = asyncio.get_running_loop()
        try:
            context = self._tls().server
            reader = asyncio.StreamReader()
            protocol = asyncio.StreamReaderProtocol(reader)
        except BaseException:
            sock.close()  # nothing owns it yet
            raise
        # from here on the transport owns the socket, and closes it if the handshake fails
        transport, _ = await loop.connect_accepted_socket(
            lambda: protocol, sock, ssl=context, ssl_handshake_timeout=self.config.handshake_timeout
        )
        return reader, asyncio.StreamWriter(transport, protocol, reader, loop)

    def _authenticate_inbound(self, writer: asyncio.StreamWriter) -> AccountAddress:
        """Pin the client's key (after the TLS handshake) to an allowed peer."""
        key = self._peer_key(writer)
        peer_id = self._by_key.get(key)
        if peer_id is None and self._guest_protocols:
            return self._guest_id(key)
        if peer_id is None:
            raise HandshakeRefused("unknown_key", f"inbound key {key.hex()} is not in the allowed set")
        return peer_id

    def _guest_id(self, key: bytes) -> AccountAddress:
        """The peer id of an unknown key that may become a guest (see the module docstring)."""
        peer_id = peer_id_for_key(key)
        if peer_id in self._peers and peer_id not in self._guests:
            raise HandshakeRefused("unknown_key", f"guest key {key.hex()} collides with peer {short(peer_id)}")
        if peer_id not in self._guests and len(self._guests) >= self._max_guests:
            raise HandshakeRefused("too_many_guests", f"{self._max_guests} guests are connected already")
        return peer_id

    def _add_guest(self, peer_id: AccountAddress, writer: asyncio.StreamWriter) -> bool:
        """Allow a guest once its handshake is complete (a half-done handshake holds no slot)."""
        try:
            key = self._peer_key(writer)
            if self._by_key.get(key, peer_id) != peer_id:
                raise HandshakeRefused("unknown_key", f"guest key {key.hex()} belongs to another peer now")
            self._guest_id(key)  # checked again: other guests may have arrived meanwhile
        except HandshakeRefused as exc:
            self._refused(exc.reason, str(exc), writer)
            return False
        self._peers[peer_id] = _Peer(
            PeerInfo(peer_id, key), OutboundQueue(self.config.outbound_queue_size, self.config.drop_oldest)
        )
        self._by_key[key] = peer_id
        self._guests.add(peer_id)
        log.info("network %s accepted guest %s", short(self.peer_id), short(peer_id))
        return True

    def _peer_key(self, writer: asyncio.StreamWriter) -> bytes:
        try:
            return peer_public_key(writer.get_extra_info("ssl_object"))
        except PeerCertificateError as exc:
            raise HandshakeRefused("tls", str(exc)) from None

    def _refused(self, reason: str, detail: str, writer: asyncio.StreamWriter) -> None:
        """Count, log and drop a connection that did not authenticate."""
        self._count_refusal(reason, detail, writer.get_extra_info("peername"))
        writer.transport.abort()

    def _refused_any(self, reason: str, detail: str, writer: asyncio.StreamWriter | None, peer: object) -> None:
        """Refuse an inbound connection: through its transport once there is one; before, the
        failed handshake has closed the socket already, so only count."""
        if writer is not None:
            self._refused(reason, detail, writer)
        else:
            self._count_refusal(reason, detail, peer)

    def _count_refusal(self, reason: str, detail: str, peer: object) -> None:
        self.metrics.handshakes_refused[reason] += 1
        level = logging.INFO if reason in _QUIET_REFUSALS else logging.WARNING
        log.log(level, "network %s refused connection with %s: %s", short(self.peer_id), peer, detail)

    async def _hello(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Send our Hello and read the peer's, both within the handshake timeout."""
        writer.write(frame(encode_hello()))

        async def receive() -> None:
            header = await reader.readexactly(FRAME_HEADER_LENGTH)
            try:
                message = decode_message(await reader.readexactly(parse_header(header, _HELLO_MAX_BYTES)))
            except WireError as exc:
                raise HandshakeRefused("hello", str(exc)) from None
            if not isinstance(message, Hello) or message.version != PROTOCOL_VERSION:
                raise HandshakeRefused("hello", f"expected Hello version {PROTOCOL_VERSION}, got {message}")

        try:
            async with asyncio.timeout(self.config.handshake_timeout):
                await receive()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, OSError) as exc:
            raise HandshakeRefused("hello", f"no Hello from peer ({type(exc).__name__})") from None

    # --- dialing -------------------------------------------------------------------------

    def _start_dialer(self, peer: _Peer) -> None:
        if peer.info.address is None or (peer.dialer is not None and not peer.dialer.done()):
            return
        peer.dialer = asyncio.create_task(self._dial_loop(peer), name=f"net-dial-{short(peer.info.peer_id)}")

    async def _dial_loop(self, peer: _Peer) -> None:
        """Keep ``peer`` connected while it is allowed: dial, back off, wait for a drop."""
        attempt = 0
        await asyncio.sleep(random.uniform(0, self.config.backoff_initial))
        while self._running and self._peers.get(peer.info.peer_id) is peer and peer.info.address:
            connection = peer.connection
            if connection is not None:
                peer.wake.clear()
                await peer.wake.wait()
                lived = asyncio.get_running_loop().time() - connection.opened_at
                attempt = 0 if lived >= self.config.backoff_max else attempt + 1
            elif attempt == 0 and self.peer_id < peer.info.peer_id and not peer.yielded:
                peer.yielded = True  # let the greater id dial first, once per disconnection
                wait = self.config.handshake_timeout
                if not peer.dropped:  # a start or a new peer: a peer starting too dials at once
                    wait = min(START_YIELD_SECS, wait)
                await asyncio.sleep(wait * random.uniform(1.0, 1.5))
                continue
            elif not await self._dial(peer):
                attempt += 1
            else:
                continue
            if attempt and peer.connection is None:
                delay = min(self.config.backoff_max, self.config.backoff_initial * 2 ** min(attempt - 1, 30))
                await asyncio.sleep(random.uniform(delay / 2, delay))

    async def _dial(self, peer: _Peer) -> bool:
        """One connection attempt; True if it became the peer's connection."""
        info = peer.info
        if info.address is None:
            return False
        host, _, port = info.address.rpartition(":")
        timeout = self.config.handshake_timeout
        try:
            async with asyncio.timeout(timeout):  # not wait_for: it can leak a connection on cancel
                reader, writer = await asyncio.open_connection(
                    host.strip("[]"),
                    int(port),
                    ssl=self._tls().client,
                    server_hostname="",
                    ssl_handshake_timeout=timeout,
                )
        except (TimeoutError, ssl.SSLError, ConnectionError, OSError) as exc:
            log.debug("dial %s at %s failed: %s", short(info.peer_id), info.address, exc)
            return False
        try:
            key = self._peer_key(writer)
            if key != info.public_key:
                raise HandshakeRefused(
                    "wrong_key", f"{info.address} showed key {key.hex()}, expected {info.public_key.hex()}"
                )
            await self._hello(reader, writer)
        except HandshakeRefused as exc:
            self._refused(exc.reason, str(exc), writer)
            return False
        except asyncio.CancelledError:
            writer.transport.abort()
            raise
        if self._peers.get(info.peer_id) is not peer or not self._running:
            writer.transport.abort()
            return False
        return self._register(info.peer_id, Origin.OUTBOUND, reader, writer)

    # --- connections ---------------------------------------------------------------------

    def _register(
        self,
        peer_id: AccountAddress,
        origin: Origin,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Make an authenticated stream the peer's connection, or drop it by the tie-break rule."""
        peer = self._peers.get(peer_id)
        if peer is None or not self._running:
            writer.transport.abort()
            return False
        connection = Connection(
            peer_id,
            origin,
            reader,
            writer,
            config=self.config,
            metrics=self.metrics,
            queue=peer.queue,
            deliver=self._deliver,
            lost=self._lost,
        )
        existing = peer.connection
        if existing is not None and not self._new_wins(existing.origin, origin, peer_id):
            connection.close("duplicate")
            return False
        peer.connection = connection
        if existing is not None:
            existing.close("replaced")
            self._spawn(existing.wait_closed(), f"net-replaced-{short(peer_id)}")
        self.metrics.connections_established += 1
        self._update_gauge()
        connection.start()
        log.info("network %s connected to %s (%s)", short(self.peer_id), short(peer_id), origin.value)
        return True

    def _new_wins(self, existing: Origin, new: Origin, peer_id: AccountAddress) -> bool:
        """Same origin: the newer wins. Otherwise the connection dialed by the greater id wins."""
        if existing == new:
            return True
        new_dialer = self.peer_id if new is Origin.OUTBOUND else peer_id
        return new_dialer == max(self.peer_id, peer_id)

    def _lost(self, connection: Connection, reason: str) -> None:
        """A connection ended: if it was the peer's current one, mark the peer disconnected."""
        peer = self._peers.get(connection.peer_id)
        if peer is None or peer.connection is not connection:
            return
        peer.connection = None
        peer.yielded = False
        peer.dropped = True
        peer.wake.set()
        if connection.peer_id in self._guests:  # a guest is forgotten when it leaves
            self._guests.discard(connection.peer_id)
            self._by_key.pop(peer.info.public_key, None)
            del self._peers[connection.peer_id]
            peer.queue.clear()
        self._update_gauge()
        log.info("network %s lost %s (%s)", short(self.peer_id), short(connection.peer_id), reason)

    def _update_gauge(self) -> None:
        self.metrics.connected_peers = sum(1 for p in self._peers.values() if p.connection is not None)
        self._notify()

    def _notify(self) -> None:
        """Wake :meth:`wait_for_peers` callers."""
        self._changed.set()
        self._changed = asyncio.Event()

    # --- messages ------------------------------------------------------------------------

    def register(self, protocol: Protocol, handler: Handler) -> None:
        """Route payloads of ``protocol`` to ``handler(peer_id, payload)`` (one handler per protocol)."""
        if protocol in self._handlers:
            raise ValueError(f"a handler for {protocol.label} is already registered")
        self._handlers[protocol] = handler

    def unregister(self, protocol: Protocol) -> None:
        """Stop routing ``protocol`` (its frames count as ``no_handler`` until registered again)."""
        self._handlers.pop(protocol, None)

    def send(self, peer_id: AccountAddress, protocol: Protocol, payload: bytes) -> bool:
        """Queue ``payload`` for one peer without blocking; False if it was refused.

        Raises ValueError if the frame would exceed ``max_frame_bytes``.
        """
        peer = self._peers.get(peer_id)
        if peer is None:
            self.metrics.dropped["unknown_peer"] += 1
            return False
        return self._enqueue(peer, protocol, self._frame(protocol, payload))

    def broadcast(self, protocol: Protocol, payload: bytes, only: Collection[AccountAddress] | None = None) -> int:
        """Queue ``payload`` for every allowed peer (of those, only the ones in ``only`` if
        given); returns how many queues accepted it. The frame is built once for all."""
        data = self._frame(protocol, payload)
        guests_too = protocol in self._guest_protocols
        return sum(
            self._enqueue(peer, protocol, data)
            for peer_id, peer in self._peers.items()
            if (guests_too or peer_id not in self._guests) and (only is None or peer_id in only)
        )

    def _frame(self, protocol: Protocol, payload: bytes) -> bytes:
        body = encode_direct_send(protocol, payload)
        if len(body) > self.config.max_frame_bytes:
            raise ValueError(
                f"message of {len(body)} bytes exceeds max_frame_bytes {self.config.max_frame_bytes}"
            )
        return frame(body)

    def _enqueue(self, peer: _Peer, protocol: Protocol, data: bytes) -> bool:
        accepted, dropped = peer.queue.put(protocol.label, data)
        if dropped:
            self.metrics.dropped["queue_full"] += 1
        return accepted

    async def _deliver(
        self, connection: Connection, protocol_id: int, payload: bytes, wire_bytes: int
    ) -> None:
        """Count an inbound payload (bytes as framed on the wire) and hand it to its protocol's handler."""
        try:
            protocol = Protocol(protocol_id)
        except ValueError:
            self.metrics.dropped["unknown_protocol"] += 1
            return
        if connection.peer_id in self._guests and protocol not in self._guest_protocols:
            self.metrics.dropped["guest_protocol"] += 1
            return
        self.metrics.messages_in[protocol.label] += 1
        self.metrics.bytes_in[protocol.label] += wire_bytes
        handler = self._handlers.get(protocol)
        if handler is None:
            self.metrics.dropped["no_handler"] += 1
            return
        try:
            result = handler(connection.peer_id, payload)
            if inspect.isawaitable(result):
                await result
        except Exception:
            self.metrics.dropped["handler_error"] += 1
            log.exception("%s handler failed on a message from %s", protocol.label, short(connection.peer_id))

    # --- queries -------------------------------------------------------------------------

    def connected_peers(self) -> frozenset[AccountAddress]:
        """Peers with a live connection now."""
        return frozenset(pid for pid, p in self._peers.items() if p.connection is not None)

    def allowed_peers(self) -> frozenset[AccountAddress]:
        return frozenset(self._peers)

    def guests(self) -> frozenset[AccountAddress]:
        """Connected guests (peers outside the allowed set; see the module docstring)."""
        return frozenset(self._guests)

    async def wait_for_peers(self, peer_ids: Iterable[AccountAddress], timeout: float) -> bool:
        """Wait until all of ``peer_ids`` are connected; False if ``timeout`` passes first."""
        wanted = frozenset(peer_ids)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not wanted <= self.connected_peers():
                    await self._changed.wait()
                return True
        return wanted <= self.connected_peers()
