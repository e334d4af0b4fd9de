"""Token buckets, the abuse rule, outbound queues and config validation."""

from __future__ import annotations

import pytest

from libra.network.config import NetworkConfig
from libra.network.connection import OutboundQueue
from libra.network.ratelimit import InboundLimiter, TokenBucket


def test_bucket_starts_full_and_refills_at_its_rate_up_to_capacity() -> None:
    bucket = TokenBucket(rate=10, capacity=5, updated=0.0)
    for _ in range(5):
        assert bucket.can_take(1, 0.0)
        bucket.take(1)
    assert not bucket.can_take(1, 0.0)
    assert bucket.can_take(1, 0.1)  # 0.1 s at 10/s = 1 token
    assert not bucket.can_take(2, 0.1)
    assert bucket.can_take(5, 100.0) and not bucket.can_take(5.5, 100.0)


def test_bucket_ignores_time_going_backwards() -> None:
    bucket = TokenBucket(rate=10, capacity=5, updated=10.0)
    bucket.take(5)
    assert not bucket.can_take(1, 5.0)
    assert bucket.tokens == 0


def _limiter(now: float = 0.0) -> InboundLimiter:
    return InboundLimiter.create(
        messages_per_sec=10,
        burst_messages=10,
        bytes_per_sec=1000,
        burst_bytes=1000,
        abuse_limit=3,
        abuse_window=10.0,
        now=now,
    )


def test_message_must_fit_both_buckets_and_charges_both() -> None:
    limiter = _limiter()
    assert limiter.admit(900, 0.0)
    assert not limiter.admit(200, 0.0)  # bytes bucket short
    assert limiter.messages.tokens == 9  # a refused message charges nothing
    for _ in range(9):
        assert limiter.admit(1, 0.0)
    assert not limiter.admit(1, 0.0)  # messages bucket empty


def test_abuse_means_more_drops_than_the_limit_within_one_window() -> None:
    limiter = _limiter()
    for _ in range(10):
        limiter.admit(1, 0.0)
    for _ in range(3):
        assert not limiter.admit(100_000, 0.0)
    assert not limiter.abusive
    assert not limiter.admit(100_000, 1.0)
    assert limiter.abusive
    assert not limiter.admit(100_000, 20.0)  # a new window starts over
    assert not limiter.abusive


async def test_queue_drops_oldest_when_full() -> None:
    queue = OutboundQueue(2, drop_oldest=True)
    assert queue.put("consensus", b"1") == (True, False)
    assert queue.put("consensus", b"2") == (True, False)
    assert queue.put("consensus", b"3") == (True, True)
    assert [await queue.get(), await queue.get()] == [("consensus", b"2"), ("consensus", b"3")]


async def test_queue_refuses_when_full_without_drop_oldest() -> None:
    queue = OutboundQueue(1, drop_oldest=False)
    assert queue.put("mempool", b"1") == (True, False)
    assert queue.put("mempool", b"2") == (False, True)
    assert len(queue) == 1 and await queue.get() == ("mempool", b"1")


@pytest.mark.parametrize(
    "changes",
    [{"max_frame_bytes": 0}, {"ping_timeout": -1.0}, {"max_frame_bytes": 2**32}, {"backoff_max": 0.01}],
)
def test_config_refuses_non_positive_or_inconsistent_limits(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        NetworkConfig(**changes)  # type: ignore[arg-type]


def test_byte_burst_always_admits_one_max_size_frame() -> None:
    config = NetworkConfig(max_frame_bytes=1 << 20, rate_bytes_per_sec=1000, rate_burst_seconds=1)
    assert config.burst_bytes == 1 << 20
