"""Misbehaving peers: none of them crashes a node or holds back the others.

Each test attacks ``cluster.nodes[0]`` and then checks that every node still delivers
to every other (``assert_alive``) and that the attack was counted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import os
import random
import socket
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID
from net_helpers import FAST, Cluster, address, closed_by_peer, eventually, raw_peer, tls_connect

from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.network import Network, NetworkConfig, Protocol
from libra.network.tls import TlsIdentity
from libra.network.wire import encode_direct_send, encode_ping, frame

pytestmark = pytest.mark.timeout(30)


def self_signed_client_context(directory: Path) -> ssl.SSLContext:
    """A TLS 1.3 client showing a self-signed Ed25519 certificate (not from the null CA)."""
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mallory")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .sign(key, None)
    )
    path = directory / "mallory.pem"
    path.write_bytes(
        certificate.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(path)
    return context


async def raw_tcp(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def test_garbage_bytes_are_a_refused_handshake(cluster: Cluster) -> None:
    target = cluster.nodes[0]
    reader, writer = await raw_tcp(target.port)
    writer.write(os.urandom(4096))
    assert await closed_by_peer(reader, 3.0)
    writer.close()
    assert target.network.metrics.handshakes_refused["tls"] == 1
    await cluster.assert_alive()


async def test_client_without_certificate_is_refused(cluster: Cluster) -> None:
    target = cluster.nodes[0]
    context = TlsIdentity.create(Ed25519PrivateKey.generate(), with_certificate=False).client
    reader, writer = await tls_connect(target.port, context)  # TLS 1.3: the client finishes first
    assert await closed_by_peer(reader, 3.0)
    writer.close()
    assert await eventually(lambda: target.network.metrics.handshakes_refused["tls"] == 1, 3.0)
    await cluster.assert_alive()


async def test_self_signed_certificate_is_refused(cluster: Cluster, tmp_path: Path) -> None:
    target = cluster.nodes[0]
    reader, writer = await tls_connect(target.port, self_signed_client_context(tmp_path))
    assert await closed_by_peer(reader, 3.0)
    writer.close()
    assert await eventually(lambda: target.network.metrics.handshakes_refused["tls"] == 1, 3.0)
    await cluster.assert_alive()


async def test_certificate_with_an_unknown_key_is_refused_after_the_handshake(cluster: Cluster) -> None:
    target = cluster.nodes[0]
    reader, writer = await tls_connect(target.port, TlsIdentity.create(Ed25519PrivateKey.generate()).client)
    assert await closed_by_peer(reader, 3.0)  # no Hello: closed right after the handshake
    writer.close()
    assert target.network.metrics.handshakes_refused["unknown_key"] == 1
    await cluster.assert_alive()


async def test_slowloris_handshake_is_cut_at_the_handshake_timeout(cluster: Cluster) -> None:
    target = cluster.nodes[0]
    reader, writer = await raw_tcp(target.port)
    start = asyncio.get_running_loop().time()

    async def trickle() -> None:
        for byte in b"\x16\x03\x01\x02\x00\x01" * 10:
            if writer.is_closing():
                return
            writer.write(bytes([byte]))
            await asyncio.sleep(0.1)

    trickler = asyncio.create_task(trickle())
    await cluster.assert_alive()  # others are served while the slow client hangs on
    assert await closed_by_peer(reader, 3.0)
    assert asyncio.get_running_loop().time() - start < FAST.handshake_timeout + 1.0
    trickler.cancel()
    writer.close()
    assert target.network.metrics.handshakes_refused["tls"] == 1


async def test_too_many_pending_handshakes_are_closed_on_accept() -> None:
    config = NetworkConfig(max_pending_handshakes=2, handshake_timeout=1.0)
    network = Network(address(0), Ed25519PrivateKey.generate(), config)
    port = await network.start("127.0.0.1", 0)
    sockets = []
    try:
        for _ in range(4):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setblocking(False)
            sockets.append(sock)
        refused = network.metrics.handshakes_refused
        assert await eventually(lambda: refused["too_many_pending"] == 2, 3.0)
        assert await eventually(lambda: refused["tls"] == 2, 3.0)
    finally:
        for sock in sockets:
            sock.close()
        await network.close()


async def test_header_claiming_4_gib_closes_the_connection(cluster: Cluster) -> None:
    target = cluster.nodes[0]
    reader, writer = await raw_peer(target.port, cluster.evil_key)
    assert await eventually(lambda: cluster.evil.peer_id in target.network.connected_peers(), 3.0)
    writer.write(b"\xff\xff\xff\xff")
    assert await closed_by_peer(reader, 3.0)
    writer.close()
    assert target.network.metrics.disconnects["oversize_frame"] == 1
    assert cluster.evil.peer_id not in target.network.connected_peers()
    await cluster.assert_alive()


async def test_frame_limit_is_enforced_at_exactly_max_frame_bytes(cluster: Cluster) -> None:
    target = cluster.nodes[0]
    reader, writer = await raw_peer(target.port, cluster.evil_key)
    largest = encode_direct_send(Protocol.CONSENSUS, bytes(FAST.max_frame_bytes - 2))
    assert len(largest) == FAST.max_frame_bytes
    writer.write(frame(largest))
    assert await eventually(lambda: len(target.received(Protocol.CONSENSUS)) == 1, 3.0)
    writer.write(frame(largest + b"!"))
    assert await closed_by_peer(reader, 3.0)
    writer.close()
    assert target.network.metrics.disconnects["oversize_frame"] == 1
    await cluster.assert_alive()


async def test_slowloris_frame_is_cut_at_the_frame_timeout(cluster: Cluster) -> None:
    target = cluster.nodes[0]
    reader, writer = await raw_peer(target.port, cluster.evil_key)
    writer.write(b"\x00\x00\x03\xe8" + b"\x03\x00")  # 1000 bytes announced, 2 sent

    async def trickle() -> None:
        while not writer.is_closing():
            writer.write(b"\x00")
            await asyncio.sleep(0.1)

    trickler = asyncio.create_task(trickle())
    await cluster.assert_alive()
    assert await closed_by_peer(reader, 3.0)
    trickler.cancel()
    writer.close()
    assert target.network.metrics.disconnects["slow_frame"] == 1
    assert not target.received(Protocol.CONSENSUS)


async def test_peer_disconnecting_mid_frame_is_just_a_disconnect(cluster: Cluster) -> None:
    target = cluster.nodes[0]
    reader, writer = await raw_peer(target.port, cluster.evil_key)
    assert await eventually(lambda: cluster.evil.peer_id in target.network.connected_peers(), 3.0)
    writer.write(b"\x00\x00\x01\x00" + b"\x03\x00partial")
    await writer.drain()
    writer.transport.abort()
    assert await eventually(lambda: cluster.evil.peer_id not in target.network.connected_peers(), 3.0)
    assert target.network.metrics.disconnects["eof"] + target.network.metrics.disconnects["error"] == 1
    await cluster.assert_alive()


async def test_malformed_message_is_a_protocol_violation(cluster: Cluster) -> None:
    target = cluster.nodes[0]
    reader, writer = await raw_peer(target.port, cluster.evil_key)
    writer.write(frame(b"\x7f"))
    assert await closed_by_peer(reader, 3.0)
    writer.close()
    assert target.network.metrics.disconnects["protocol_violation"] == 1
    await cluster.assert_alive()


async def test_random_bytes_after_authentication_cost_only_that_connection(cluster: Cluster) -> None:
    target = cluster.nodes[0]
    for seed in range(5):
        reader, writer = await raw_peer(target.port, cluster.evil_key)
        writer.write(random.Random(seed).randbytes(2000))
        assert await closed_by_peer(reader, 3.0)
        writer.close()
    disconnects = target.network.metrics.disconnects
    assert disconnects["oversize_frame"] + disconnects["protocol_violation"] + disconnects["slow_frame"] == 5
    await cluster.assert_alive()


async def test_unknown_protocol_is_dropped_and_counted(cluster: Cluster) -> None:
    target = cluster.nodes[0]
    reader, writer = await raw_peer(target.port, cluster.evil_key)
    writer.write(frame(b"\x03\x63future protocol") + frame(encode_direct_send(Protocol.CONSENSUS, b"ok")))
    assert await eventually(lambda: target.received(Protocol.CONSENSUS) == [b"ok"], 3.0)
    assert target.network.metrics.dropped["unknown_protocol"] == 1
    writer.close()


async def test_silent_peer_is_dropped_by_the_keepalive(cluster: Cluster) -> None:
    target = cluster.nodes[0]
    reader, writer = await raw_peer(target.port, cluster.evil_key)
    assert await eventually(lambda: cluster.evil.peer_id in target.network.connected_peers(), 3.0)
    # Never answer pings (and never read them either).
    assert await eventually(lambda: target.network.metrics.disconnects["ping_timeout"] == 1, 3.0)
    assert cluster.evil.peer_id not in target.network.connected_peers()
    writer.close()
    await cluster.assert_alive()


async def test_peer_that_stops_reading_is_disconnected(cluster: Cluster) -> None:
    target = cluster.nodes[0]
    reader, writer = await raw_peer(target.port, cluster.evil_key)
    assert await eventually(lambda: cluster.evil.peer_id in target.network.connected_peers(), 3.0)
    payload = bytes(FAST.max_frame_bytes - 2)

    async def keep_pinging() -> None:  # stay "alive" without ever reading
        while not writer.is_closing():
            writer.write(frame(encode_ping(1)))
            await asyncio.sleep(0.1)

    pinger = asyncio.create_task(keep_pinging())
    for _ in range(600):  # ~38 MiB; kernel and TLS buffers fill long before
        target.network.send(cluster.evil.peer_id, Protocol.STATE_SYNC, payload)
    assert await eventually(lambda: target.network.metrics.disconnects["write_timeout"] == 1, 10.0)
    pinger.cancel()
    writer.transport.abort()
    await cluster.assert_alive()


async def test_rate_limit_drops_excess_and_disconnects_persistent_abuse() -> None:
    config = dataclasses.replace(
        FAST, rate_messages_per_sec=50.0, rate_burst_seconds=1.0, abuse_drop_limit=100
    )
    cluster = Cluster(2, config)
    await cluster.start()
    try:
        target = cluster.nodes[0]
        reader, writer = await raw_peer(target.port, cluster.evil_key)
        metrics = target.network.metrics
        writer.write(b"".join(frame(encode_direct_send(Protocol.CONSENSUS, b"m")) for _ in range(80)))
        assert await eventually(lambda: metrics.dropped["rate_limited"] >= 25, 3.0)
        assert 50 <= len(target.received(Protocol.CONSENSUS)) <= 56  # the burst, plus refill
        assert cluster.evil.peer_id in target.network.connected_peers()  # excess, not yet abuse
        writer.write(b"".join(frame(encode_direct_send(Protocol.CONSENSUS, b"m")) for _ in range(200)))
        assert await closed_by_peer(reader, 3.0)
        writer.close()
        assert metrics.disconnects["rate_abuse"] == 1
        await cluster.assert_alive()
    finally:
        await cluster.close()
