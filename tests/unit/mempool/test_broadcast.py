"""Handing accepted transactions on until each peer took them: acks, retries, timeouts, reconnects."""

from __future__ import annotations

import pytest

from libra.bcs import BcsError
from libra.mempool.broadcast import (
    MAX_BATCH_RECEIVED,
    Ack,
    Broadcast,
    BroadcastConfig,
    BroadcastTracker,
    decode_message,
    encode_message,
)

CONFIG = BroadcastConfig(max_batch=3, max_in_flight=2, ack_timeout_secs=5.0, retry_secs=1.0)


def _tracker(count: int, alive: set[bytes] | None = None) -> tuple[BroadcastTracker[str], set[bytes]]:
    pool = alive if alive is not None else set()
    tracker: BroadcastTracker[str] = BroadcastTracker(pool.__contains__, CONFIG)
    for i in range(count):
        txn_hash = b"h%d" % i
        pool.add(txn_hash)
        tracker.add(txn_hash, b"t%d" % i)
    return tracker, pool


def test_messages_round_trip_and_junk_is_refused() -> None:
    for message in (Broadcast(7, (b"a", b"")), Broadcast(0, ()), Ack(2**64 - 1, (0, 5)), Ack(3, ())):
        assert decode_message(encode_message(message)) == message
    with pytest.raises(BcsError):
        decode_message(b"\x02" + bytes(8))  # unknown variant
    with pytest.raises(BcsError):
        decode_message(encode_message(Ack(1, ())) + b"\x00")  # trailing bytes
    with pytest.raises(ValueError):
        BroadcastConfig(max_batch=MAX_BATCH_RECEIVED + 1)


def test_each_peer_gets_every_transaction_in_batches_bounded_in_flight() -> None:
    tracker, _ = _tracker(8)
    tracker.set_peers(["a", "b"])
    first = tracker.due(0.0)
    # two batches of three in flight per peer, no more until acknowledged
    assert sorted((p, tuple(batch)) for p, _, batch in first) == [
        ("a", (b"t0", b"t1", b"t2")), ("a", (b"t3", b"t4", b"t5")),
        ("b", (b"t0", b"t1", b"t2")), ("b", (b"t3", b"t4", b"t5")),
    ]
    assert tracker.due(0.1) == []
    for peer, request_id, _ in first:
        tracker.ack(peer, request_id, [], 0.2)
    rest = tracker.due(0.3)
    assert sorted((p, tuple(batch)) for p, _, batch in rest) == [("a", (b"t6", b"t7")), ("b", (b"t6", b"t7"))]
    for peer, request_id, _ in rest:
        tracker.ack(peer, request_id, [], 0.4)
    assert tracker.due(100.0) == []  # everything taken: nothing is sent again, ever
    assert tracker.unacknowledged("a") == tracker.unacknowledged("b") == 0


def test_what_a_full_peer_refused_is_sent_again_after_the_retry_delay() -> None:
    tracker, _ = _tracker(3)
    tracker.set_peers(["v"])
    ((_, request_id, batch),) = tracker.due(0.0)
    assert batch == [b"t0", b"t1", b"t2"]
    tracker.ack("v", request_id, [1, 2, 7], 0.5)  # t1, t2 refused for now (7: out of range, ignored)
    assert tracker.unacknowledged("v") == 2
    assert tracker.due(1.4) == []  # not before retry_secs after the ack
    ((_, again, batch),) = tracker.due(1.5)
    assert batch == [b"t1", b"t2"]
    tracker.ack("v", again, [], 1.6)
    assert tracker.due(10.0) == [] and tracker.unacknowledged("v") == 0


def test_an_unacknowledged_batch_is_sent_again_after_the_ack_timeout() -> None:
    tracker, _ = _tracker(2)
    tracker.set_peers(["v"])
    ((_, lost, batch),) = tracker.due(0.0)  # this frame never arrives
    assert tracker.due(4.9) == []
    ((_, again, batch_again),) = tracker.due(5.0)
    assert batch_again == batch and again != lost
    tracker.ack("v", lost, [0, 1], 5.1)  # a late ack of the first send changes nothing
    tracker.ack("v", again, [], 5.2)
    assert tracker.due(60.0) == [] and tracker.unacknowledged("v") == 0


def test_transactions_that_left_the_pool_are_not_offered() -> None:
    tracker, pool = _tracker(4)
    tracker.set_peers(["v"])
    (_, first, _), (_, second, _) = tracker.due(0.0)
    tracker.ack("v", first, [0, 1, 2], 0.0)  # all refused for now
    tracker.ack("v", second, [0], 0.0)
    pool.discard(b"h0")  # committed meanwhile
    pool.discard(b"h3")
    sent = [batch for _, _, batch in tracker.due(2.0)]
    assert sent == [[b"t1", b"t2"]]


def test_a_peer_that_reconnects_is_offered_everything_still_pooled() -> None:
    tracker, pool = _tracker(2)
    tracker.set_peers(["v"])
    ((_, request_id, _),) = tracker.due(0.0)
    tracker.ack("v", request_id, [], 0.1)
    tracker.set_peers([])  # disconnected (it may restart with an empty pool)
    assert tracker.due(0.2) == []
    pool.discard(b"h0")
    tracker.set_peers(["v"])
    assert [batch for _, _, batch in tracker.due(0.3)] == [[b"t1"]]
    tracker.set_peers(["v", "w"])  # a peer still connected is not offered it again
    assert [(p, batch) for p, _, batch in tracker.due(0.4)] == [("w", [b"t1"])]


def test_the_timeline_forgets_what_left_the_pool() -> None:
    pool: set[bytes] = set()
    tracker: BroadcastTracker[str] = BroadcastTracker(pool.__contains__, CONFIG)
    for i in range(10_000):  # every one committed before the next arrives
        tracker.add(b"%d" % i, b"x")
    assert len(tracker._ids) < 2048 and len(tracker) < 2048


def test_idle_means_due_gives_nothing_whatever_the_peers() -> None:
    tracker, pool = _tracker(0)
    assert tracker.idle  # a validator that no client sent anything: its broadcast loop skips the tick
    tracker.set_peers(["a"])
    assert tracker.idle and tracker.due(0.0) == []
    tracker.add(b"h0", b"t0")
    pool.add(b"h0")
    assert not tracker.idle
    ((_, request_id, _),) = tracker.due(0.1)
    tracker.ack("a", request_id, [0], 0.2)  # "not now": waits to be sent again
    pool.discard(b"h0")  # then committed
    assert not tracker.idle
    assert tracker.due(5.0) == []  # the retry finds it gone; so does the timeline
    assert tracker.idle
    tracker.set_peers(["b"])  # a peer set that changed while idle: what comes next goes to it
    tracker.add(b"h1", b"t1")
    pool.add(b"h1")
    assert [(p, batch) for p, _, batch in tracker.due(5.1)] == [("b", [b"t1"])]
