"""The supervisor's view: ``GET /supervisor`` (the page) and ``GET /supervisor/data`` (JSON).

Read-only, over the node's event index (``node/event_index.py``); the first request starts
the index if the node kept none yet (it then catches up from the store, and ``node.caught_up``
says when it has). Query parameters of ``/supervisor/data`` (and of the page, which passes
them on) override the alert rules (``supervision.Rules``: ``structuring_count``, ...).

The JSON (amounts are decimal strings of micro-units; times are chain microseconds)::

    node            ledger_version, indexed_through, caught_up, failure
    travel_rule_limit   micro-XDX, in force now
    reserves        per currency: supply, preburn, reserve, as_of_usecs, report_hash,
                    attester, coverage_percent, covered, index_agrees (the index's
                    sum of mint and burn events equals the chain's supply)
    supply_history  per currency: [{version, time, supply, reserve}] (at most 400 points from
                    the index, then the chain's figures at the ledger version)
    alerts          [{kind, account, summary, count, first/last_version, first/last_time, versions}]
    travel_rule     counts over large transfers and coverage_percent
    large_transfers, frozen, seizures, refused, attestations   (newest first, at most 100)
    rules           the alert rules applied
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from aiohttp import web

from libra.api.supervision import Rules, frozen_alerts, reserve_alerts, structuring_alerts, velocity_alerts
from libra.api.supervisor_page import PAGE
from libra.framework.views import get_chain_view, get_reserve_views
from libra.node import event_index as ix
from libra.node.runtime import NodeRuntime

PAGE_PATH = "/supervisor"
DATA_PATH = "/supervisor/data"


def _percent(part: int, whole: int) -> str | None:
    if whole == 0:
        return None
    basis_points = part * 10_000 // whole
    return f"{basis_points // 100}.{basis_points % 100:02d}"


class SupervisorView:
    def __init__(self, runtime: NodeRuntime) -> None:
        self._runtime = runtime

    def overview(self, rules: Rules) -> dict[str, Any]:
        """Everything the page shows (blocking: run it in a worker thread)."""
        index = self._runtime.event_index
        assert index is not None
        snapshot = self._runtime.ledger.snapshot()
        ledger_version = snapshot.version
        view = self._runtime.ledger.state_view(ledger_version)
        limit = get_chain_view(view).dual_attestation_limit
        reserves = get_reserve_views(view)
        with index.reader() as connection:
            meta = ix.query_meta(connection)
            history = ix.query_supply_history(connection)
            since = max(0, int(meta.get("time", "0")) - rules.lookback_secs * 1_000_000)
            near = ix.query_near_limit(connection, rules.structuring_margin_percent, since)
            busy = ix.query_busy_senders(
                connection, rules.velocity_window_secs * 1_000_000, rules.velocity_count, rules.velocity_value_limits * limit, since
            )
            refused = ix.query_latest(connection, "refused", 1000)
            shortfalls = ix.query_latest(connection, "shortfalls", 100)
            travel = ix.query_travel_rule(connection)
            tables = {
                "large_transfers": ix.query_large_transfers(connection),
                "frozen": ix.query_frozen(connection),
                "seizures": ix.query_latest(connection, "seizures"),
                "attestations": ix.query_latest(connection, "attestations"),
            }
        indexed = int(meta.get("indexed_through", "-1"))
        caught_up = indexed >= ledger_version
        latest = {currency: rows[-1] for currency, rows in history.items() if rows}
        for r in reserves:  # the chart ends with the chain's figures now
            history.setdefault(r.code, []).append({
                "version": ledger_version, "time": snapshot.timestamp_usecs, "supply": str(r.total_value),
                "reserve": str(r.reserve) if r.reserve is not None else None,
            })
        alerts = [
            *reserve_alerts(shortfalls, latest),
            *structuring_alerts(near, rules),
            *velocity_alerts(busy, rules, limit),
            *frozen_alerts(refused),
        ]
        alerts.sort(key=lambda a: (a.last_time or 0, a.last_version or 0), reverse=True)
        return {
            "node": {"ledger_version": ledger_version, "indexed_through": indexed, "caught_up": caught_up, "failure": index.failure},
            "travel_rule_limit": str(limit),
            "reserves": [
                {
                    "currency": r.code, "supply": str(r.total_value), "preburn": str(r.preburn_value),
                    "reserve": str(r.reserve) if r.reserve is not None else None, "as_of_usecs": r.as_of_usecs,
                    "report_hash": r.report_hash.hex() if r.report_hash is not None else None,
                    "attester": r.attester.hex() if r.attester is not None else None,
                    "coverage_percent": _percent(r.reserve or 0, r.total_value), "covered": r.is_covered,
                    # only meaningful once caught up: the index's running sum against the chain's figure
                    "index_agrees": caught_up and latest.get(r.code, {}).get("supply") == str(r.total_value),
                }
                for r in reserves
            ],
            "supply_history": history,
            "alerts": [a.to_json() for a in alerts],
            "travel_rule": {**travel, "coverage_percent": _percent(travel["attested"], travel["large"])},
            **tables,
            "refused": refused[:100],
            "rules": asdict(rules),
        }

    async def data(self, request: web.Request) -> web.Response:
        index = self._runtime.event_index
        if index is None:
            return web.Response(status=503, text="this node keeps no supervisor index (its API is disabled)\n")
        try:
            rules = Rules.from_query(request.query)
        except ValueError as exc:
            return web.Response(status=400, text=f"{exc}\n")
        if not index.running:
            await asyncio.to_thread(index.start)
        return web.json_response(await asyncio.to_thread(self.overview, rules), headers={"Cache-Control": "no-store"})

    async def page(self, _request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-store"})

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PAGE_PATH, self.page, allow_head=False), web.get(DATA_PATH, self.data, allow_head=False)]
