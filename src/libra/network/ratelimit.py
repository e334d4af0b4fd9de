"""Per-peer inbound rate limits: token buckets on messages/s and bytes/s.

Rules: a bucket starts full, refills continuously at ``rate`` up to ``capacity``, and a
message is admitted only if **both** buckets can pay for it (then both are charged).
A refused message is dropped and counted; more than ``abuse_limit`` drops within one
``abuse_window`` marks the peer as abusive and the connection is closed. Time is passed
in, so the rules are testable without a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    """``capacity`` tokens at most (full at ``updated``), refilled at ``rate`` tokens per second."""

    rate: float
    capacity: float
    updated: float
    tokens: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.capacity

    def can_take(self, amount: float, now: float) -> bool:
        """Refill for the time since the last call, then say whether ``amount`` is available."""
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        return self.tokens >= amount

    def take(self, amount: float) -> None:
        """Charge ``amount`` (call only after :meth:`can_take` returned True)."""
        self.tokens -= amount


@dataclass(slots=True)
class InboundLimiter:
    """The message and byte buckets of one connection, plus the abuse counter."""

    messages: TokenBucket
    bytes: TokenBucket
    abuse_limit: int
    abuse_window: float
    window_start: float = 0.0
    window_drops: int = 0

    @classmethod
    def create(
        cls,
        *,
        messages_per_sec: float,
        burst_messages: float,
        bytes_per_sec: float,
        burst_bytes: float,
        abuse_limit: int,
        abuse_window: float,
        now: float,
    ) -> InboundLimiter:
        return cls(
            TokenBucket(messages_per_sec, burst_messages, now),
            TokenBucket(bytes_per_sec, burst_bytes, now),
            abuse_limit,
            abuse_window,
            window_start=now,
        )

    def admit(self, size: int, now: float) -> bool:
        """True if a message of ``size`` bytes fits both buckets (and charge them); else count a drop."""
        if self.messages.can_take(1, now) and self.bytes.can_take(size, now):
            self.messages.take(1)
            self.bytes.take(size)
            return True
        if now - self.window_start >= self.abuse_window:
            self.window_start, self.window_drops = now, 0
        self.window_drops += 1
        return False

    @property
    def abusive(self) -> bool:
        """More drops in the current window than the abuse limit allows."""
        return self.window_drops > self.abuse_limit
