"""``libra reserve``: attest a currency's reserve, and prove or check it against the chain.

* ``report``: ask any node for proofs and print, per currency, supply, attested reserve,
  coverage, version and time, every figure proved against a quorum-signed ledger info
  reached from the genesis waypoint (``reserve_report.py``); ``--json FILE`` keeps the
  self-contained report;
* ``verify FILE``: check such a report offline, with no node;
* ``waypoint``: the genesis waypoint of a network, from its genesis file;
* ``attest``: Treasury Compliance or a Reserve Attester records the custodian's figures;
* ``add-attester``: Diem Root creates a Reserve Attester account for a key.

``report`` and ``verify`` exit 1 when a proof fails or a currency's supply exceeds its
attested reserve.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from libra.cli.issuer import (
    connect,
    data_option,
    format_amount,
    format_time,
    governor,
    load_key,
    parse_amount,
    parse_time,
    url_option,
)
from libra.cli.reserve_report import (
    ReportError,
    ReserveFigures,
    fetch_report,
    genesis_waypoint,
    render,
    verify_report,
)
from libra.cli.validator import address_of
from libra.client import builders
from libra.client.wallet_rpc import NodeUnreachable, RpcError
from libra.client.waypoint import Waypoint
from libra.crypto.auth import compute_auth_key
from libra.crypto.ed25519 import Ed25519PrivateKey, save_private_key
from libra.crypto.hashing import sha3_256
from libra.node.genesis import GenesisError
from libra.types.move import DIEM_ROOT_ADDRESS, TREASURY_COMPLIANCE_ADDRESS

waypoint_option = click.option("--waypoint", "waypoint_text", default=None, help="The trusted genesis waypoint VERSION:HASH.")
genesis_option = click.option(
    "--genesis", "genesis_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Derive the trusted waypoint from this genesis file (default: the localnet's genesis.bcs).",
)


def trusted_waypoint(waypoint_text: str | None, genesis_file: Path | None, data_dir: Path | None) -> Waypoint | None:
    """``--waypoint``, else the waypoint of ``--genesis`` (or of the localnet's genesis file)."""
    if waypoint_text is not None:
        try:
            return Waypoint.parse(waypoint_text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--waypoint") from None
    if genesis_file is None and data_dir is not None and (data_dir / "genesis.bcs").exists():
        genesis_file = data_dir / "genesis.bcs"
    if genesis_file is None:
        return None
    try:
        return genesis_waypoint(genesis_file)
    except GenesisError as exc:
        raise click.ClickException(str(exc)) from None


def show(figures: ReserveFigures, waypoint: Waypoint, source: str) -> None:
    click.echo(
        f"proof of reserve of chain {figures.chain_id} at version {figures.version} "
        f"({format_time(figures.timestamp_usecs)})"
    )
    click.echo(
        f"  signed ledger info: version {figures.ledger_version}, epoch {figures.epoch}, "
        f"{figures.signers} signature(s), {format_time(figures.ledger_timestamp_usecs)}"
    )
    click.echo(f"  reached from waypoint {waypoint} ({source})")
    for c in figures.currencies:
        coverage = f"{c.coverage_percent} %" if c.coverage_percent is not None else "no supply"
        click.echo(f"  {c.currency}")
        click.echo(f"    supply     {format_amount(c.supply, c.currency, c.scaling_factor)}"
                   f"  (of which awaiting redemption {format_amount(c.preburn, c.currency, c.scaling_factor)})")
        click.echo(f"    reserve    {format_amount(c.reserve, c.currency, c.scaling_factor)}"
                   f"  as of {format_time(c.as_of_usecs)}")
        click.echo(f"    coverage   {coverage}")
        click.echo(f"    report     sha3-256 {c.report_hash or '—'}  attested by {c.attester or '—'}")


def conclude(figures: ReserveFigures) -> None:
    """The verdict line; exit 1 when a currency is under-collateralised."""
    short = [c.currency for c in figures.currencies if not c.covered]
    if short:
        click.echo(f"UNDER-COLLATERALISED: {', '.join(short)} supply exceeds the attested reserve", err=True)
        sys.exit(1)
    click.echo("verified: every figure is proved by the signed ledger; each currency is fully backed")


@click.group()
def reserve() -> None:
    """Attested reserves: report (with proofs), verify a report offline, attest."""


@reserve.command()
@data_option
@url_option
@click.option("--version", type=click.IntRange(min=0), default=None, help="Report at this version (default: the latest signed one).")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the self-contained report (proofs and figures) to this file.")
@waypoint_option
@genesis_option
def report(data_dir: Path, url: str | None, version: int | None, json_file: Path | None,
           waypoint_text: str | None, genesis_file: Path | None) -> None:
    """Supply against attested reserve per currency, proved from the genesis waypoint.

    The node is not trusted: everything it sends is checked (signatures, epoch changes,
    accumulator and state-tree proofs). Exit 1 if a proof fails or a currency is short.
    """
    waypoint = trusted_waypoint(waypoint_text, genesis_file, data_dir)
    if waypoint is None:
        raise click.UsageError("no trusted waypoint: give --waypoint, --genesis, or --data of a localnet")
    rpc = connect(data_dir, url)
    try:
        built, figures = fetch_report(rpc, waypoint, version)
    except ReportError as exc:
        click.echo(f"FAILED: {exc}", err=True)
        sys.exit(1)
    except (RpcError, NodeUnreachable) as exc:
        raise click.ClickException(str(exc)) from None
    show(figures, waypoint, "trusted")
    if json_file is not None:
        json_file.write_bytes(render(built))
        click.echo(f"  report file {json_file} (check it with: libra reserve verify {json_file})")
    conclude(figures)


@reserve.command()
@click.argument("report_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@waypoint_option
@genesis_option
def verify(report_file: Path, waypoint_text: str | None, genesis_file: Path | None) -> None:
    """Check a report file offline: no node is asked anything.

    With --waypoint or --genesis the report must start from that waypoint; without, it is
    checked from its own (compare it with the one the network publishes).
    Exit 1 if the file was changed, a proof fails or a currency is short.
    """
    trusted = trusted_waypoint(waypoint_text, genesis_file, None)
    try:
        figures, waypoint = verify_report(report_file.read_bytes(), trusted)
    except ReportError as exc:
        click.echo(f"FAILED: {exc}", err=True)
        sys.exit(1)
    show(figures, waypoint, "trusted" if trusted is not None else "the report's own: compare it with your network's")
    conclude(figures)


@reserve.command()
@data_option
@genesis_option
def waypoint(data_dir: Path, genesis_file: Path | None) -> None:
    """Print the genesis waypoint (computed from the genesis file alone)."""
    found = trusted_waypoint(None, genesis_file, data_dir)
    if found is None:
        raise click.UsageError(f"no genesis file: give --genesis, or --data of a localnet (no {data_dir / 'genesis.bcs'})")
    click.echo(str(found))


@reserve.command()
@data_option
@url_option
@click.option("--currency", default="XUS", show_default=True)
@click.option("--amount", required=True, help="The reserve held, in currency units (e.g. 1000000.50).")
@click.option("--report", "report_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The custodian's report; only its SHA3-256 goes on chain.")
@click.option("--report-hash", default=None, help="The report's SHA3-256 (64 hex), instead of --report.")
@click.option("--as-of", "as_of", default=None, help="The report's as-of time, ISO 8601 (default: the chain's latest time).")
@click.option("--key", "key_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A Reserve Attester's key (default: the localnet's Treasury Compliance key).")
def attest(data_dir: Path, url: str | None, currency: str, amount: str, report_file: Path | None,
           report_hash: str | None, as_of: str | None, key_file: Path | None) -> None:
    """Record the custodian's reserve on chain (Treasury Compliance or a Reserve Attester).

    Refused on chain when the reserve is below the current supply, the report is older than
    the one attested, or its as-of time is after the chain's clock.
    """
    if (report_file is None) == (report_hash is None):
        raise click.UsageError("give the custodian's report as --report FILE or --report-hash HEX")
    if report_file is not None:
        digest = sha3_256(report_file.read_bytes())
    else:
        assert report_hash is not None
        try:
            digest = bytes.fromhex(report_hash)
        except ValueError:
            digest = b""
        if len(digest) != 32:
            raise click.BadParameter("64 hex digits (a SHA3-256)", param_hint="--report-hash")
    reserve_micro = parse_amount(amount, "--amount")
    key = load_key(key_file, data_dir, "treasury_compliance")
    sender = TREASURY_COMPLIANCE_ADDRESS if key_file is None else address_of(key)
    gov = governor(data_dir, url)
    as_of_usecs = parse_time(as_of) if as_of is not None else gov.rpc.ledger_timestamp_usecs
    click.echo(f"attesting {format_amount(reserve_micro, currency)} as of {format_time(as_of_usecs)} (report sha3-256 {digest.hex()})")
    gov.send("attest the reserve", key, sender, builders.attest_reserve(currency, 0, reserve_micro, as_of_usecs, digest))


@reserve.command("add-attester")
@data_option
@url_option
@click.option("--key", "key_file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The attester's key file (created if it does not exist).")
@click.option("--root-key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Diem Root's key (default: the localnet's).")
def add_attester(data_dir: Path, url: str | None, key_file: Path, root_key: Path | None) -> None:
    """Diem Root creates a Reserve Attester account for --key: it may attest, nothing else."""
    if not key_file.exists():
        save_private_key(key_file, Ed25519PrivateKey.generate())
        click.echo(f"new key {key_file}")
    key = load_key(key_file, data_dir, "")
    root = load_key(root_key, data_dir, "diem_root")
    address = address_of(key)
    prefix = compute_auth_key(key.public_key())[:16]
    gov = governor(data_dir, url)
    gov.send("create the attester account", root, DIEM_ROOT_ADDRESS, builders.create_reserve_attester_account(0, address, prefix))
    click.echo(f"reserve attester {address.hex()}: libra reserve attest --key {key_file} ...")
