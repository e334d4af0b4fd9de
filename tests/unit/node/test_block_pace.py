"""A leader proposes what its recent blocks say fits in the time budget."""

from __future__ import annotations

import pytest

from libra.node.block_pace import MIN_SAMPLE_TXNS, BlockPace


def test_the_limit_follows_measured_execution_and_commit_time():
    pace = BlockPace(0.3, floor=20, ceiling=5000, weight=1.0)
    pace.executed(500, 0.5)  # 1 ms per transaction
    assert pace.block_limit() == 300
    pace.committed(500, 0.25)  # and 0.5 ms more to commit it
    assert pace.block_limit() == 200


def test_a_slower_machine_shrinks_blocks_and_a_faster_one_grows_them():
    pace = BlockPace(0.3, weight=0.5)
    pace.executed(100, 0.1)
    before = pace.block_limit()
    for _ in range(10):
        pace.executed(200, 0.8)  # contention: 4 ms per transaction
    slow = pace.block_limit()
    assert slow < before
    assert slow == pytest.approx(0.3 / 0.004, rel=0.05)
    for _ in range(20):
        pace.executed(200, 0.04)  # quiet: 0.2 ms per transaction
    assert pace.block_limit() == pytest.approx(1500, rel=0.05)


def test_small_blocks_teach_nothing():
    pace = BlockPace(0.3, initial_secs_per_txn=0.001, weight=1.0)
    pace.executed(MIN_SAMPLE_TXNS - 1, 5.0)  # a small block is mostly fixed cost: it must not shrink proposals
    pace.committed(1, 5.0)
    assert pace.block_limit() == 300


def test_the_limit_stays_within_floor_and_ceiling():
    pace = BlockPace(0.3, floor=25, ceiling=1000, weight=1.0)
    pace.executed(100, 100.0)
    assert pace.block_limit() == 25
    pace.executed(100, 0.000001)
    assert pace.block_limit() == 1000


@pytest.mark.parametrize(
    "kwargs", [{"budget_secs": 0}, {"budget_secs": 0.3, "weight": 0}, {"budget_secs": 0.3, "floor": 0},
               {"budget_secs": 0.3, "floor": 50, "ceiling": 10}]
)
def test_nonsense_settings_are_refused(kwargs):
    budget = kwargs.pop("budget_secs")
    with pytest.raises(ValueError, match="BlockPace needs"):
        BlockPace(budget, **kwargs)
