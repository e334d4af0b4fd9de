"""Four validators on 127.0.0.1: connection, delivery, restart, epoch change, pinning."""

from __future__ import annotations

import asyncio
import dataclasses
import socket

import pytest
from net_helpers import FAST, Cluster, address, eventually, tls_connect

from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.network import Network, PeerInfo, Protocol, peer_id_for_key
from libra.network.tls import TlsIdentity
from libra.types.move import AccountAddress

pytestmark = pytest.mark.timeout(30)


async def test_all_connect_once_and_broadcast_reaches_everyone(cluster: Cluster) -> None:
    for node in cluster.nodes:
        assert node.network.connected_peers() == {n.peer_id for n in cluster.nodes} - {node.peer_id}
        assert node.network.metrics.connected_peers == 3
    for node in cluster.nodes:
        assert node.network.broadcast(Protocol.CONSENSUS, b"proposal from " + node.peer_id.value) == 4
    assert await eventually(lambda: all(len(n.received(Protocol.CONSENSUS)) == 3 for n in cluster.nodes), 3.0)
    for node in cluster.nodes:
        senders = {peer for _, peer, _ in node.inbox}
        assert senders == {n.peer_id for n in cluster.nodes} - {node.peer_id}
        assert all(payload == b"proposal from " + peer.value for _, peer, payload in node.inbox)
    metrics = cluster.nodes[0].network.metrics
    assert metrics.messages_out["consensus"] == 3 and metrics.messages_in["consensus"] == 3
    assert metrics.bytes_in["consensus"] == 3 * (4 + 2 + len(b"proposal from ") + 16)


async def test_both_ends_keep_the_same_single_connection(cluster: Cluster) -> None:
    def agreed() -> bool:
        for a in cluster.nodes:
            for b in cluster.nodes:
                if a is b:
                    continue
                mine = a.network._peers[b.peer_id].connection
                theirs = b.network._peers[a.peer_id].connection
                if mine is None or theirs is None or mine.local_address != theirs.remote_address:
                    return False
        return True

    assert await eventually(agreed, 3.0)


async def test_send_reaches_only_its_peer_in_order(cluster: Cluster) -> None:
    first, second = cluster.nodes[0], cluster.nodes[1]
    for i in range(50):
        assert first.network.send(second.peer_id, Protocol.MEMPOOL, i.to_bytes(2, "big"))
    assert await eventually(lambda: len(second.received(Protocol.MEMPOOL)) == 50, 3.0)
    assert second.received(Protocol.MEMPOOL) == [i.to_bytes(2, "big") for i in range(50)]
    assert all(not n.received(Protocol.MEMPOOL) for n in cluster.nodes[2:])
    assert not first.network.send(address(99), Protocol.MEMPOOL, b"x")
    assert first.network.metrics.dropped["unknown_peer"] == 1
    with pytest.raises(ValueError, match="max_frame_bytes"):
        first.network.send(second.peer_id, Protocol.MEMPOOL, bytes(FAST.max_frame_bytes))


async def test_restarted_peer_is_reconnected_automatically() -> None:
    cluster = Cluster(3, FAST)
    await cluster.start()
    try:
        assert await cluster.all_connected(5.0)
        old = cluster.nodes[2]
        await old.network.close()
        assert await eventually(lambda: old.peer_id not in cluster.nodes[0].network.connected_peers(), 3.0)
        await asyncio.sleep(0.3)  # the others are now backing off
        fresh = await cluster.start_fresh(2)
        assert await cluster.all_connected(3.0)
        await cluster.assert_alive()
        # The same object closed and started again also comes back.
        await fresh.network.close()
        await fresh.network.start("127.0.0.1", fresh.port)
        assert await cluster.all_connected(3.0)
        await cluster.assert_alive()
    finally:
        await cluster.close()


async def test_a_restarted_peer_with_the_smallest_id_does_not_wait_for_its_peers() -> None:
    """After a disconnection the smaller id lets the greater one dial first for
    ``handshake_timeout`` (x1-1.5); a node that starts waits only a moment, since peers that
    knew it are backing off from its downtime. A restarted validator with the smallest id
    waited out the long delay and their backoff, was connected to its peers 4-9 s after its
    start on a localnet, and could not vote meanwhile (the next kill stalled commits)."""
    slow = dataclasses.replace(FAST, handshake_timeout=3.0, backoff_max=5.0)
    cluster = Cluster(3, slow)
    await cluster.start()
    try:
        assert await cluster.all_connected(10.0)
        old = cluster.nodes[0]  # the smallest id
        await old.network.close()
        assert await eventually(lambda: old.peer_id not in cluster.nodes[1].network.connected_peers(), 3.0)
        await asyncio.sleep(4.0)  # the others fail their dials and back off, by now 1.6-5 s
        await cluster.start_fresh(0)
        assert await cluster.all_connected(1.5)
        await cluster.assert_alive()
    finally:
        await cluster.close()


async def test_unknown_key_is_refused_right_after_the_handshake(cluster: Cluster) -> None:
    target = cluster.nodes[0]
    stranger_key = Ed25519PrivateKey(bytes([0x55]) * 32)
    stranger = Network(address(55), stranger_key, FAST)
    await stranger.start("127.0.0.1", 0)
    try:
        stranger.update_peers([target.info()])
        refused = target.network.metrics.handshakes_refused
        assert await eventually(lambda: refused["unknown_key"] >= 2, 3.0)
        assert stranger.connected_peers() == frozenset()
        assert address(55) not in target.network.connected_peers()
        assert stranger.metrics.handshakes_refused["hello"] >= 1  # it saw the refusal
    finally:
        await stranger.close()
    await cluster.assert_alive()


async def test_dialer_refuses_an_address_that_shows_another_key(cluster: Cluster) -> None:
    dialer = cluster.nodes[0].network
    impostor_key = Ed25519PrivateKey(bytes([0x66]) * 32).public_key().to_bytes()
    # We expect peer 66 at node 1's address, but node 1 shows its own key there.
    dialer.add_peer(address(66), f"127.0.0.1:{cluster.nodes[1].port}", impostor_key)
    assert await eventually(lambda: dialer.metrics.handshakes_refused["wrong_key"] >= 1, 3.0)
    assert address(66) not in dialer.connected_peers()
    dialer.remove_peer(address(66))
    await cluster.assert_alive()


async def test_epoch_change_drops_the_validator_that_left(cluster: Cluster) -> None:
    leaving = cluster.nodes[3]
    remaining = cluster.nodes[:3]
    for node in remaining:
        node.network.update_peers(n.info() for n in remaining)
    assert await eventually(
        lambda: all(leaving.peer_id not in n.network.connected_peers() for n in remaining), 3.0
    )
    for node in remaining:
        assert node.network.metrics.disconnects["peer_removed"] >= 1
        assert node.network.allowed_peers() == {n.peer_id for n in remaining} - {node.peer_id}
    # The removed validator keeps dialing and is refused after the handshake.
    assert await eventually(lambda: leaving.network.connected_peers() == frozenset(), 3.0)
    await asyncio.sleep(0.3)
    assert leaving.network.connected_peers() == frozenset()
    assert sum(n.network.metrics.handshakes_refused["unknown_key"] for n in remaining) >= 1
    assert not remaining[0].network.send(leaving.peer_id, Protocol.CONSENSUS, b"x")
    cluster.nodes = remaining
    await cluster.assert_alive()
    cluster.nodes.append(leaving)  # closed by the fixture


async def test_full_node_with_a_derived_peer_id_dials_in() -> None:
    cluster = Cluster(2, FAST)
    await cluster.start()
    full_key = Ed25519PrivateKey(bytes([0x77]) * 32)
    full_id = peer_id_for_key(full_key.public_key().to_bytes())
    full = Network(full_id, full_key, FAST)
    try:
        await full.start("127.0.0.1", 0)
        validator = cluster.nodes[0]
        validator.network.add_peer(full_id, None, full_key.public_key().to_bytes())  # accept only
        full.update_peers([validator.info()])
        assert await full.wait_for_peers([validator.peer_id], 3.0)
        assert await eventually(lambda: full_id in validator.network.connected_peers(), 3.0)
        got: list[bytes] = []
        full.register(Protocol.STATE_SYNC, lambda peer, payload: got.append(payload))
        validator.network.send(full_id, Protocol.STATE_SYNC, b"chunk")
        assert await eventually(lambda: got == [b"chunk"], 3.0)
    finally:
        await full.close()
        await cluster.close()


async def test_messages_sent_before_connecting_are_delivered_after() -> None:
    cluster = Cluster(2, FAST)
    first, second = cluster.nodes
    first.network.update_peers([PeerInfo(second.peer_id, second.public_key)])
    assert first.network.send(second.peer_id, Protocol.CONSENSUS, b"early")
    await cluster.start()
    try:
        assert await eventually(lambda: second.received() == [b"early"], 3.0)
    finally:
        await cluster.close()


async def test_a_failing_handler_is_counted_and_the_connection_stays(cluster: Cluster) -> None:
    receiver = cluster.nodes[1]
    receiver.network._handlers.pop(Protocol.CONSENSUS)

    def boom(peer: object, payload: bytes) -> None:
        raise RuntimeError("handler bug")

    receiver.network.register(Protocol.CONSENSUS, boom)
    cluster.nodes[0].network.send(receiver.peer_id, Protocol.CONSENSUS, b"x")
    assert await eventually(lambda: receiver.network.metrics.dropped["handler_error"] == 1, 3.0)
    assert cluster.nodes[0].peer_id in receiver.network.connected_peers()
    with pytest.raises(ValueError, match="already registered"):
        receiver.network.register(Protocol.CONSENSUS, boom)
    await cluster.assert_alive()


async def test_peer_whose_address_is_withdrawn_is_no_longer_dialed(cluster: Cluster) -> None:
    first, last = cluster.nodes[0], cluster.nodes[3]
    first.network.add_peer(last.peer_id, None, last.public_key)  # accept only from now on
    await last.network.close()
    assert await eventually(lambda: last.peer_id not in first.network.connected_peers(), 3.0)
    dialer = first.network._peers[last.peer_id].dialer
    assert dialer is not None
    assert await eventually(dialer.done, 3.0)
    await last.network.start("127.0.0.1", last.port)  # it dials in again by itself
    assert await cluster.all_connected(3.0)


async def test_a_public_node_takes_guests_for_state_sync_only_and_keeps_them_across_epochs() -> None:
    public_key = Ed25519PrivateKey(bytes([0x31]) * 32)
    public = Network(address(31), public_key, FAST, guest_protocols=(Protocol.STATE_SYNC,), max_guests=1)
    inbox: list[tuple[AccountAddress, bytes]] = []
    public.register(Protocol.STATE_SYNC, lambda peer, payload: inbox.append((peer, payload)))
    public.register(Protocol.CONSENSUS, lambda peer, payload: inbox.append((peer, b"consensus " + payload)))
    port = await public.start("127.0.0.1", 0)
    guest_key = Ed25519PrivateKey(bytes([0x32]) * 32)
    guest = Network(address(32), guest_key, FAST)
    second = Network(address(33), Ed25519PrivateKey(bytes([0x33]) * 32), FAST)
    try:
        # a stranger that completes TLS but never says Hello takes no guest slot
        _, writer = await tls_connect(port, TlsIdentity.create(Ed25519PrivateKey(bytes([0x34]) * 32)).client)
        writer.close()
        assert await eventually(lambda: public.metrics.handshakes_refused["hello"] >= 1, 3.0)
        assert public.guests() == frozenset() and public.allowed_peers() == frozenset()
        await guest.start("127.0.0.1", 0)
        guest.update_peers([PeerInfo(address(31), public_key.public_key().to_bytes(), f"127.0.0.1:{port}")])
        assert await guest.wait_for_peers([address(31)], 3.0)
        guest_id = peer_id_for_key(guest_key.public_key().to_bytes())
        assert public.guests() == {guest_id}
        guest.send(address(31), Protocol.CONSENSUS, b"vote")
        guest.send(address(31), Protocol.STATE_SYNC, b"chunk request")
        assert await eventually(lambda: len(inbox) == 1, 3.0)
        assert inbox == [(guest_id, b"chunk request")]  # the consensus frame was not delivered
        assert public.metrics.dropped["guest_protocol"] == 1
        # an epoch change on the public node keeps the guest connected
        public.update_peers([PeerInfo(address(40), Ed25519PrivateKey(bytes([0x40]) * 32).public_key().to_bytes())])
        assert public.guests() == {guest_id} and guest_id in public.connected_peers()
        assert public.send(guest_id, Protocol.STATE_SYNC, b"chunk")
        # the guest limit holds: a second stranger is refused
        await second.start("127.0.0.1", 0)
        second.update_peers([PeerInfo(address(31), public_key.public_key().to_bytes(), f"127.0.0.1:{port}")])
        assert await eventually(lambda: public.metrics.handshakes_refused["too_many_guests"] >= 1, 3.0)
        assert second.connected_peers() == frozenset()
        # a guest that leaves is forgotten
        await guest.close()
        assert await eventually(lambda: public.guests() == frozenset(), 3.0)
        assert guest_id not in public.allowed_peers()
    finally:
        await asyncio.gather(public.close(), guest.close(), second.close())



async def test_an_empty_listen_host_accepts_on_every_family() -> None:
    """Like ``asyncio.start_server``: "" listens on IPv4 and IPv6 (where the machine has it),
    on one port, so a peer dialing either loopback address reaches the node."""
    loopbacks = {socket.AF_INET: "127.0.0.1", socket.AF_INET6: "::1"}
    families = {info[0] for info in socket.getaddrinfo(None, 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)}
    node = Cluster(1, FAST).nodes[0]
    port = await node.network.start("", 0)
    try:
        for family in families & loopbacks.keys():
            _, writer = await asyncio.wait_for(asyncio.open_connection(loopbacks[family], port), 5.0)
            writer.close()
    finally:
        await node.network.close()
    assert families & loopbacks.keys()
