"""Authenticated transport between validators and full nodes (DESIGN.md, "network").

Mutual TLS 1.3 with Ed25519 certificates pinned to the allowed peers' network keys,
length-prefixed typed frames, per-peer bounded queues, rate limits, keepalive and
reconnection with backoff. See :mod:`libra.network.network` for the rules.
"""

from libra.network.config import NetworkConfig
from libra.network.metrics import NetworkMetrics
from libra.network.network import Handler, HandshakeRefused, Network, PeerInfo, peer_id_for_key
from libra.network.wire import PROTOCOL_VERSION, Protocol

__all__ = [
    "PROTOCOL_VERSION",
    "Handler",
    "HandshakeRefused",
    "Network",
    "NetworkConfig",
    "NetworkMetrics",
    "PeerInfo",
    "Protocol",
    "peer_id_for_key",
]
