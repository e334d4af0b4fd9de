"""Validators dialing each other through the test proxy (``dial_addresses``): cut and heal."""

from __future__ import annotations

import asyncio

import pytest
from link_proxy import LinkProxy
from net_helpers import FAST, Cluster, eventually

from libra.network import Network

pytestmark = pytest.mark.timeout(60)


async def _proxied_cluster(proxy: LinkProxy, size: int) -> Cluster:
    """``size`` nodes where every node dials every other through its own proxy link."""
    cluster = Cluster(size, FAST)
    names = [f"n{i}" for i in range(size)]
    via = {(a, b): proxy.add_link(a, b) for a in names for b in names if a != b}
    for i, node in enumerate(cluster.nodes):
        dial = {other.peer_id: via[(names[i], names[j])] for j, other in enumerate(cluster.nodes) if j != i}
        node.network = Network(node.peer_id, node.key, FAST, dial_addresses=dial)
        node.listen()
        node.port = await node.network.start("127.0.0.1", 0)
    for i in range(size):
        for j, other in enumerate(cluster.nodes):
            if i != j:
                proxy.set_target(names[i], names[j], f"127.0.0.1:{other.port}")
    for node in cluster.nodes:
        node.network.update_peers(cluster.infos())
    return cluster


@pytest.mark.parametrize("mode", ["reset", "blackhole"])
async def test_a_cut_node_is_disconnected_and_rejoins_after_the_heal(mode: str) -> None:
    proxy = LinkProxy()
    cluster = await _proxied_cluster(proxy, 3)
    try:
        assert await cluster.all_connected(10.0)
        # every connection goes through the proxy: each pair's bytes crossed one of its two links
        for a, b in [("n0", "n1"), ("n0", "n2"), ("n1", "n2")]:
            assert proxy.bytes_forwarded((a, b)) + proxy.bytes_forwarded((b, a)) > 0, (a, b)
        victim = cluster.nodes[2]
        others = cluster.nodes[:2]
        proxy.cut(proxy.links_between(["n2"], ["n0", "n1"]), mode)
        # reset: at once; blackhole: when the keepalive gives up (FAST.ping_timeout)
        assert await eventually(lambda: not victim.network.connected_peers(), 10.0)
        assert await eventually(
            lambda: all(victim.peer_id not in n.network.connected_peers() for n in others), 10.0
        )
        assert others[1].peer_id in others[0].network.connected_peers()  # the rest is untouched
        await asyncio.sleep(1.0)  # several dial attempts meet the cut
        assert not victim.network.connected_peers()
        proxy.heal()
        assert await cluster.all_connected(15.0)
        await cluster.assert_alive(5.0)
    finally:
        await cluster.close()
        proxy.close()


async def test_dial_addresses_must_be_host_port() -> None:
    cluster = Cluster(1, FAST)
    node = cluster.nodes[0]
    with pytest.raises(ValueError, match="HOST:PORT"):
        Network(node.peer_id, node.key, FAST, dial_addresses={node.peer_id: "no-port"})
