"""Tunables of the network layer, with the defaults a validator runs with.

Rules: every limit is finite and positive; timeouts are seconds on the event loop's
monotonic clock. Defaults follow Diem's (``network/src/constants.rs``) where they fit a
small validator set: 8 MiB frames, 1024-message channels, a ping every second.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """Limits and timings of one :class:`~libra.network.Network`."""

    max_frame_bytes: int = 8 * 1024 * 1024
    """Largest frame body accepted or sent; a bigger header closes the connection."""
    outbound_queue_size: int = 1024
    """Messages waiting per peer; when full, ``send`` drops the oldest or refuses."""
    drop_oldest: bool = True
    """Full queue policy: True drops the oldest queued message, False refuses the new one."""
    handshake_timeout: float = 5.0
    """TLS handshake plus Hello exchange, both directions."""
    frame_timeout: float = 10.0
    """Once a frame header is in, its body must arrive within this time (slowloris)."""
    write_timeout: float = 10.0
    """A peer that does not read a frame for this long is disconnected."""
    ping_interval: float = 1.0
    ping_timeout: float = 10.0
    """No Pong for this long closes the connection (dead peer)."""
    backoff_initial: float = 0.1
    backoff_max: float = 10.0
    """Reconnect delay doubles from ``backoff_initial`` up to this cap, with full jitter."""
    rate_messages_per_sec: float = 5000.0
    rate_bytes_per_sec: float = 64.0 * 1024 * 1024
    rate_burst_seconds: float = 2.0
    """Token buckets hold this many seconds of rate (at least one max-size frame of bytes)."""
    abuse_drop_limit: int = 1000
    abuse_window: float = 10.0
    """More than ``abuse_drop_limit`` rate-limited messages within a window disconnects the peer."""
    max_pending_handshakes: int = 64
    """Unauthenticated inbound connections at once; more are closed on accept."""
    certificate_validity: float = 24 * 3600.0
    """Lifetime of the TLS certificate; it is renewed when half is left."""

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool):
                continue
            if not value > 0:
                raise ValueError(f"network config {item.name} must be positive, got {value!r}")
        if self.max_frame_bytes > 0xFFFF_FFFF:
            raise ValueError("max_frame_bytes must fit the u32 frame header")
        if self.backoff_max < self.backoff_initial:
            raise ValueError("backoff_max must be at least backoff_initial")

    @property
    def burst_messages(self) -> float:
        return self.rate_messages_per_sec * self.rate_burst_seconds

    @property
    def burst_bytes(self) -> float:
        return max(self.rate_bytes_per_sec * self.rate_burst_seconds, float(self.max_frame_bytes))
