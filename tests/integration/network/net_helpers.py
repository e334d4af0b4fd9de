"""A small cluster of :class:`Network` instances and raw clients that misbehave."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.network import Network, NetworkConfig, PeerInfo, Protocol
from libra.network.tls import TlsIdentity
from libra.network.wire import FRAME_HEADER_LENGTH, encode_hello, frame, parse_header
from libra.types.move import AccountAddress

FAST = NetworkConfig(
    max_frame_bytes=64 * 1024,
    handshake_timeout=1.0,
    frame_timeout=0.5,
    write_timeout=1.0,
    ping_interval=0.2,
    ping_timeout=1.0,
    backoff_initial=0.05,
    backoff_max=0.5,
)


def address(index: int) -> AccountAddress:
    return AccountAddress(bytes([index + 1]) * 16)


@dataclass
class Node:
    peer_id: AccountAddress
    key: Ed25519PrivateKey
    network: Network
    port: int = 0
    inbox: list[tuple[Protocol, AccountAddress, bytes]] = field(default_factory=list)

    @property
    def public_key(self) -> bytes:
        return self.key.public_key().to_bytes()

    def info(self) -> PeerInfo:
        return PeerInfo(self.peer_id, self.public_key, f"127.0.0.1:{self.port}")

    def received(self, protocol: Protocol | None = None) -> list[bytes]:
        return [payload for p, _, payload in self.inbox if protocol in (None, p)]

    def listen(self) -> None:
        """Record every protocol's payloads in ``inbox`` (plain and coroutine handlers)."""
        for protocol in Protocol:
            if protocol is Protocol.MEMPOOL:

                async def record_async(peer: AccountAddress, payload: bytes, p: Protocol = protocol) -> None:
                    self.inbox.append((p, peer, payload))

                self.network.register(protocol, record_async)
            else:

                def record(peer: AccountAddress, payload: bytes, p: Protocol = protocol) -> None:
                    self.inbox.append((p, peer, payload))

                self.network.register(protocol, record)


class Cluster:
    """``size`` validators that all know each other, plus an allowed accept-only key ``evil``."""

    def __init__(self, size: int, config: NetworkConfig) -> None:
        self.config = config
        self.nodes = [self.make_node(i) for i in range(size)]
        self.evil_key = Ed25519PrivateKey(bytes([0xEE]) * 32)
        self.evil = PeerInfo(AccountAddress(bytes([0xEE]) * 16), self.evil_key.public_key().to_bytes())

    def make_node(self, index: int, key: Ed25519PrivateKey | None = None) -> Node:
        key = key or Ed25519PrivateKey(bytes([index + 1]) * 32)
        node = Node(address(index), key, Network(address(index), key, self.config))
        node.listen()
        return node

    async def start(self) -> None:
        for node in self.nodes:
            node.port = await node.network.start("127.0.0.1", 0)
        for node in self.nodes:
            node.network.update_peers(self.infos())

    def infos(self) -> list[PeerInfo]:
        return [node.info() for node in self.nodes] + [self.evil]

    async def all_connected(self, timeout: float) -> bool:
        ids = {node.peer_id for node in self.nodes}
        results = await asyncio.gather(
            *(node.network.wait_for_peers(ids - {node.peer_id}, timeout) for node in self.nodes)
        )
        return all(results)

    async def close(self) -> None:
        await asyncio.gather(*(node.network.close() for node in self.nodes))

    async def start_fresh(self, index: int) -> Node:
        """Node ``index`` as a new process: the same key and port, a fresh Network object."""
        old = self.nodes[index]
        fresh = self.make_node(index, old.key)
        fresh.port = await fresh.network.start("127.0.0.1", old.port)
        self.nodes[index] = fresh
        fresh.network.update_peers(self.infos())
        return fresh

    async def assert_alive(self, timeout: float = 3.0) -> None:
        """Every node still reaches every other: a fresh broadcast from each arrives everywhere.

        Broadcasts are at most once: a frame written to a connection that is being replaced
        (just after a heal, say) is lost with it. So each second brings a fresh round, and
        one round arriving in full within ``timeout`` is what passes.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            stamp = str(time.monotonic_ns()).encode()
            for node in self.nodes:
                node.network.broadcast(Protocol.STATE_SYNC, b"alive " + node.peer_id.value + stamp)

            def done(stamp: bytes = stamp) -> bool:
                return all(
                    sum(1 for payload in node.received(Protocol.STATE_SYNC) if payload.endswith(stamp))
                    == len(self.nodes) - 1
                    for node in self.nodes
                )

            left = deadline - loop.time()
            if await eventually(done, min(1.0, max(left, 0.0))):
                return
            assert loop.time() < deadline, "a node stopped delivering messages"


async def eventually(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll ``predicate`` every 20 ms until it holds or ``timeout`` passes."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def tls_connect(
    port: int, context: ssl.SSLContext
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    async with asyncio.timeout(5.0):
        return await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="")


async def raw_peer(port: int, key: Ed25519PrivateKey) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """An authenticated connection driven by hand: TLS with ``key``, Hello both ways."""
    reader, writer = await tls_connect(port, TlsIdentity.create(key).client)
    writer.write(frame(encode_hello()))
    async with asyncio.timeout(5.0):
        header = await reader.readexactly(FRAME_HEADER_LENGTH)
        await reader.readexactly(parse_header(header, 64))
    return reader, writer


async def closed_by_peer(reader: asyncio.StreamReader, timeout: float) -> bool:
    """True once the other side has closed the stream (EOF or reset) within ``timeout``."""
    try:
        async with asyncio.timeout(timeout):
            while await reader.read(65536):
                pass
    except TimeoutError:
        return False
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    return True
