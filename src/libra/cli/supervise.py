"""``libra supervise``: the supervisor's view of a node in the terminal (read-only).

It reads the node's ``/supervisor/data`` (the same data as the ``/supervisor`` page),
waiting until the node's event index has caught up with its ledger, and prints alerts,
supply against attested reserve, travel-rule coverage, large transfers, frozen accounts,
lawful orders and refused payments; ``--json`` prints the data itself. Alert rules can be
tuned with ``--rule NAME=VALUE`` (e.g. ``--rule structuring_count=4``).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from libra.cli.issuer import data_option, format_amount, format_time, node_url, url_option

POLL_SECS = 0.5


def data_url(json_rpc_url: str, rules: dict[str, str]) -> str:
    parts = urllib.parse.urlsplit(json_rpc_url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/supervisor/data", urllib.parse.urlencode(rules), ""))


def fetch(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            data = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise click.ClickException(f"the node answered {exc.code}: {exc.read().decode(errors='replace').strip()}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read {url}: {exc}") from None
    if not isinstance(data, dict):
        raise click.ClickException(f"{url} did not answer the supervisor's data")
    return data


def _short(address: str | None) -> str:
    return "—" if not address else f"{address[:8]}…{address[-6:]}"


def show(data: dict[str, Any]) -> None:
    node = data["node"]
    click.echo(f"index at version {node['indexed_through']} of {node['ledger_version']}"
               f"; travel-rule limit {format_amount(int(data['travel_rule_limit']), 'XDX')}")
    click.echo(f"\nalerts ({len(data['alerts'])})")
    for alert in data["alerts"]:
        click.echo(f"  {alert['kind'].upper():<20} {alert['account']}  {alert['summary']}"
                   f"  (versions {alert['first_version']}–{alert['last_version']})")
    click.echo("\nsupply against attested reserve")
    for r in data["reserves"]:
        coverage = f"{r['coverage_percent']} %" if r["coverage_percent"] is not None else "no supply"
        reserve = int(r["reserve"]) if r["reserve"] is not None else None
        click.echo(f"  {r['currency']}  supply {format_amount(int(r['supply']), r['currency'])}"
                   f"  reserve {format_amount(reserve, r['currency'])}  coverage {coverage}"
                   f"  as of {format_time(r['as_of_usecs'])}{'' if r['covered'] else '  UNDER-COLLATERALISED'}")
        history = data["supply_history"].get(r["currency"], [])
        click.echo(f"    {len(history)} points of history from version {history[0]['version'] if history else '—'}")
    t = data["travel_rule"]
    click.echo(f"\ntravel rule: {t['large']} of {t['transfers']} transfers at or over the limit, {t['attested']} attested"
               f" (coverage {t['coverage_percent'] or '—'} %); required {t['required']}, attested {t['required_attested']}")
    sections: tuple[tuple[str, str, Callable[[dict[str, Any]], str]], ...] = (
        ("large transfers", "large_transfers", lambda r: f"v{r['version']}  {_short(r['sender'])} → {_short(r['receiver'])}  "
         f"{format_amount(int(r['amount']), r['currency'])}  {'attested' if r['attested'] else ('MISSING' if r['required'] else 'not required')}"),
        ("frozen accounts", "frozen", lambda r: f"{r['address']}  since version {r['version']} ({format_time(r['time'])})"),
        ("lawful orders", "seizures", lambda r: f"v{r['version']}  order {r['order_hash'][:16]}…  {_short(r['target'])} "
         f"{'burned' if r['burned'] else '→ ' + _short(r['destination'])}  {format_amount(int(r['amount']), r['currency'])}"),
        ("refused payments", "refused", lambda r: f"{'v' + str(r['version']) if r['version'] is not None else 'admission'}  "
         f"{_short(r['sender'])} → {_short(r['receiver'])}  {r['reason']}"),
    )
    for title, key, line in sections:
        rows = data[key]
        click.echo(f"\n{title} ({len(rows)}{'+' if len(rows) >= 100 else ''})")
        for row in rows[:10]:
            click.echo(f"  {line(row)}")


@click.command()
@data_option
@url_option
@click.option("--json", "as_json", is_flag=True, help="Print the data as JSON.")
@click.option("--wait", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="Seconds to wait for the node's index to catch up (it starts at the first request).")
@click.option("--rule", "rules", multiple=True, help="An alert rule NAME=VALUE (see libra.api.supervision.Rules).")
def supervise(data_dir: Path, url: str | None, as_json: bool, wait: float, rules: tuple[str, ...]) -> None:
    """The supervisor's view of a node: alerts, reserves, large transfers, frozen accounts, orders."""
    overrides = {}
    for rule in rules:
        name, sep, value = rule.partition("=")
        if not sep:
            raise click.BadParameter(f"{rule!r} is not NAME=VALUE", param_hint="--rule")
        overrides[name] = value
    source = data_url(node_url(data_dir, url), overrides)
    deadline = time.monotonic() + wait
    data = fetch(source)
    while not data["node"]["caught_up"] and data["node"]["failure"] is None and time.monotonic() < deadline:
        time.sleep(POLL_SECS)
        data = fetch(source)
    if not data["node"]["caught_up"]:
        click.echo(f"note: the index is still catching up (version {data['node']['indexed_through']} "
                   f"of {data['node']['ledger_version']})", err=True)
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        show(data)
