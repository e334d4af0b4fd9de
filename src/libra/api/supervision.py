"""Supervisory alerts: pure rules over rows of the node's event index (``node/event_index.py``).

* **structuring**: one sender makes at least ``structuring_count`` transfers each just
  under the travel-rule limit (within ``structuring_margin_percent`` of it) inside any
  ``structuring_window_secs`` of chain time (a sliding window);
* **velocity**: one sender makes at least ``velocity_count`` transfers, or moves at least
  ``velocity_value_limits`` times the travel-rule limit, inside one fixed window of
  ``velocity_window_secs`` of chain time;
* **frozen**: payments refused because an account was frozen (the payee, on chain; the
  sender, at this node's admission), one alert per frozen account;
* **reserve shortfall**: an attestation refused on chain because the reported reserve was
  below the supply; **under-collateralised**: supply above the attested reserve (the rules
  prevent it; the check does not rely on them).

Structuring and velocity look at the last ``lookback_secs`` of chain time (a week), so that
a supervisor's page stays quick on a long chain. Times are chain time in microseconds; every
alert names the versions it rests on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from itertools import groupby
from typing import Any

MICROS = 1_000_000


@dataclass(frozen=True, slots=True)
class Rules:
    structuring_count: int = 3
    structuring_margin_percent: int = 10
    structuring_window_secs: int = 86_400
    velocity_count: int = 20
    velocity_window_secs: int = 3_600
    velocity_value_limits: int = 10
    lookback_secs: int = 7 * 86_400  # structuring and velocity look at this much recent chain time

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Rules:
        """Overrides from query parameters of the same names (positive integers); ValueError names a bad one."""
        values: dict[str, int] = {}
        for name in cls.__dataclass_fields__:
            text = query.get(name)
            if text is None:
                continue
            if not text.isdigit() or int(text) <= 0 or int(text) >= 1 << 62:
                raise ValueError(f"{name} must be a positive whole number, got {text!r}")
            values[name] = int(text)
        if values.get("structuring_margin_percent", 1) > 100:
            raise ValueError("structuring_margin_percent must be at most 100")
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Alert:
    kind: str
    account: str
    summary: str
    count: int
    first_version: int | None
    last_version: int | None
    first_time: int | None
    last_time: int | None
    versions: tuple[int, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["versions"] = list(self.versions)
        return data


def structuring_alerts(near_limit: Iterable[Mapping[str, Any]], rules: Rules) -> list[Alert]:
    """``near_limit``: transfers just under the limit, ordered by sender then time.

    Per sender, the largest set of such transfers inside one window (two pointers over
    its times); an alert when it holds ``structuring_count`` or more.
    """
    window = rules.structuring_window_secs * MICROS
    alerts = []
    for sender, group in groupby(near_limit, key=lambda row: row["sender"]):
        rows = list(group)
        best: tuple[int, int] = (0, 0)
        start = 0
        for end in range(len(rows)):
            while rows[end]["time"] - rows[start]["time"] > window:
                start += 1
            if end - start + 1 > best[1] - best[0]:
                best = (start, end + 1)
        cluster = rows[best[0]:best[1]]
        if len(cluster) >= rules.structuring_count:
            hours = (cluster[-1]["time"] - cluster[0]["time"]) / 3600 / MICROS
            alerts.append(Alert(
                "structuring", sender,
                f"{len(cluster)} transfers just under the travel-rule limit (within {rules.structuring_margin_percent} %) "
                f"in {hours:.1f} h",
                len(cluster), cluster[0]["version"], cluster[-1]["version"], cluster[0]["time"], cluster[-1]["time"],
                tuple(row["version"] for row in cluster),
            ))
    return alerts


def velocity_alerts(busy: Iterable[Mapping[str, Any]], rules: Rules, limit_micro_xdx: int) -> list[Alert]:
    """``busy``: per sender and window, rows with ``transfers`` and ``value`` (index query)."""
    value_threshold = rules.velocity_value_limits * limit_micro_xdx
    alerts = []
    for row in busy:
        reasons = []
        if row["transfers"] >= rules.velocity_count:
            reasons.append(f"{row['transfers']} transfers")
        if row["value"] >= value_threshold:
            reasons.append(f"{row['value'] / MICROS:,.0f} XDX")
        if reasons:
            alerts.append(Alert(
                "velocity", row["sender"], " and ".join(reasons) + f" within {rules.velocity_window_secs // 60} min",
                row["transfers"], row["first_version"], row["last_version"], row["first_time"], row["last_time"],
            ))
    return alerts


def frozen_alerts(refused: Iterable[Mapping[str, Any]]) -> list[Alert]:
    """One alert per frozen account that payments were refused to or from."""
    by_account: dict[str, list[Mapping[str, Any]]] = {}
    for row in refused:
        account = row["sender"] if row["source"] == "admission" else row["receiver"]
        by_account.setdefault(account, []).append(row)
    alerts = []
    for account, rows in by_account.items():
        rows.sort(key=lambda r: r["time"])
        outgoing = sum(1 for r in rows if r["source"] == "admission")
        incoming = len(rows) - outgoing
        parts = [f"{n} {what}" for n, what in ((incoming, "to it"), (outgoing, "from it")) if n]
        versions = tuple(r["version"] for r in rows if r["version"] is not None)
        alerts.append(Alert(
            "frozen", account, f"payments refused while frozen: {', '.join(parts)}", len(rows),
            min(versions, default=None), max(versions, default=None), rows[0]["time"], rows[-1]["time"], versions,
        ))
    return alerts


def reserve_alerts(shortfalls: Iterable[Mapping[str, Any]], latest_supply: Mapping[str, Mapping[str, Any]]) -> list[Alert]:
    """Refused attestations (a reported shortfall) and any supply above its attested reserve."""
    alerts = [
        Alert("reserve_shortfall", row["attester"],
              f"attestation of {int(row['reserve']) / MICROS:,.2f} {row['currency']} refused: below the supply",
              1, row["version"], row["version"], row["time"], row["time"], (row["version"],))
        for row in shortfalls
    ]
    for currency, row in latest_supply.items():
        if row["reserve"] is None or int(row["supply"]) > int(row["reserve"]):
            alerts.append(Alert("under_collateralised", currency, f"{currency} supply exceeds its attested reserve",
                                1, row["version"], row["version"], row["time"], row["time"], (row["version"],)))
    return alerts
