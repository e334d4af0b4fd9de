"""Plain counters of the network layer; the node exports them (Prometheus) later.

Rules: counters only grow; labels are short lower-case words (protocol labels from
:class:`~libra.network.wire.Protocol`, reasons as below); ``connected_peers`` is a gauge.

Reasons used in ``handshakes_refused``: ``tls`` (handshake failed: garbage, no or bad
certificate, timeout), ``unknown_key``, ``wrong_key`` (dialed peer showed another key),
``hello`` (no or bad Hello), ``too_many_pending``, ``not_started``, ``error`` (a bug; logged).
Reasons used in ``dropped``: ``queue_full``, ``unknown_peer``, ``rate_limited``,
``unknown_protocol``, ``no_handler``, ``handler_error``, ``guest_protocol`` (a guest sent a
protocol guests may not use). ``too_many_guests`` is a refusal reason too.
Reasons used in ``disconnects``: ``eof``, ``oversize_frame``, ``slow_frame``,
``protocol_violation``, ``ping_timeout``, ``write_timeout``, ``rate_abuse``, ``replaced``,
``duplicate``, ``peer_removed``, ``closing``, ``error``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class NetworkMetrics:
    connected_peers: int = 0
    messages_in: Counter[str] = field(default_factory=Counter)
    messages_out: Counter[str] = field(default_factory=Counter)
    bytes_in: Counter[str] = field(default_factory=Counter)
    bytes_out: Counter[str] = field(default_factory=Counter)
    handshakes_refused: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    disconnects: Counter[str] = field(default_factory=Counter)
    connections_established: int = 0

    def snapshot(self) -> dict[str, object]:
        """A plain, JSON-friendly copy of every counter."""
        return {
            "connected_peers": self.connected_peers,
            "connections_established": self.connections_established,
            "messages_in": dict(self.messages_in),
            "messages_out": dict(self.messages_out),
            "bytes_in": dict(self.bytes_in),
            "bytes_out": dict(self.bytes_out),
            "handshakes_refused": dict(self.handshakes_refused),
            "dropped": dict(self.dropped),
            "disconnects": dict(self.disconnects),
        }
