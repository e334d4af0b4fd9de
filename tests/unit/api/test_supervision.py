"""The supervisor's alert rules (api/supervision.py) on hand-made rows: window edges, thresholds, grouping."""

from __future__ import annotations

import pytest

from libra.api.supervision import Rules, frozen_alerts, reserve_alerts, structuring_alerts, velocity_alerts

HOUR = 3_600 * 1_000_000


def near(sender: str, *times_hours: float) -> list[dict]:  # type: ignore[type-arg]
    return [{"sender": sender, "time": int(t * HOUR), "version": 10 + i} for i, t in enumerate(times_hours)]


def test_structuring_counts_the_densest_window_per_sender():
    rules = Rules(structuring_count=3, structuring_window_secs=3_600)
    rows = near("a", 0, 0.5, 1.0, 5) + near("b", 0, 2, 4, 6)
    (alert,) = structuring_alerts(rows, rules)
    assert (alert.account, alert.count, alert.versions) == ("a", 3, (10, 11, 12))  # 0 h and 1 h: exactly one window apart
    assert structuring_alerts(near("a", 0, 0.5, 1.01), rules) == []  # just over the window
    assert len(structuring_alerts(near("a", 0, 1, 2, 3, 4), Rules(structuring_count=5, structuring_window_secs=4 * 3_600))) == 1


def test_velocity_by_count_or_value():
    rules = Rules(velocity_count=3, velocity_value_limits=2)
    rows = [
        {"sender": "a", "transfers": 3, "value": 0.0, "first_version": 1, "last_version": 3, "first_time": 0, "last_time": 1},
        {"sender": "b", "transfers": 1, "value": 2_000.0, "first_version": 4, "last_version": 4, "first_time": 2, "last_time": 2},
        {"sender": "c", "transfers": 2, "value": 1_999.0, "first_version": 5, "last_version": 6, "first_time": 3, "last_time": 3},
    ]
    alerts = velocity_alerts(rows, rules, limit_micro_xdx=1_000)
    assert [(a.account, a.summary.split(" within")[0]) for a in alerts] == [("a", "3 transfers"), ("b", "0 XDX")]


def test_frozen_alerts_name_the_frozen_party():
    rows = [
        {"sender": "payer", "receiver": "frozen", "source": "chain", "time": 5, "version": 50},
        {"sender": "frozen", "receiver": "x", "source": "admission", "time": 7, "version": None},
        {"sender": "other-frozen", "receiver": None, "source": "admission", "time": 9, "version": None},
    ]
    alerts = {a.account: a for a in frozen_alerts(rows)}
    assert set(alerts) == {"frozen", "other-frozen"}
    assert alerts["frozen"].summary.endswith("1 to it, 1 from it") and alerts["frozen"].versions == (50,)


def test_reserve_alerts():
    shortfall = [{"attester": "tc", "reserve": "5000000", "currency": "XUS", "version": 9, "time": 1}]
    latest = {"XUS": {"supply": "10", "reserve": "9", "version": 8, "time": 1}, "ABC": {"supply": "1", "reserve": "1", "version": 8, "time": 1}}
    assert [(a.kind, a.account) for a in reserve_alerts(shortfall, latest)] == [("reserve_shortfall", "tc"), ("under_collateralised", "XUS")]


def test_rules_from_query():
    assert Rules.from_query({"structuring_count": "5", "other": "x"}) == Rules(structuring_count=5)
    for bad in ({"structuring_count": "0"}, {"velocity_count": "-1"}, {"structuring_margin_percent": "101"}, {"velocity_window_secs": "1e3"}):
        with pytest.raises(ValueError, match="must be"):
            Rules.from_query(bad)
