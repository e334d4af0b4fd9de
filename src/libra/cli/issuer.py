"""What ``libra reserve`` and ``libra order`` share: the network to talk to, keys, amounts.

A command finds its node from ``--url`` or the localnet in ``--data`` (``localnet.json``),
its keys from ``--key`` or the localnet's ``keys/``, and submits through the
validator CLI's :class:`~libra.cli.validator.Governor` (one transaction at a time, each
waited for; a failure names the step and the on-chain abort).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from libra.cli.validator import GovernanceError, Governor
from libra.client.identifiers import decode_account_identifier
from libra.client.wallet_rpc import NodeUnreachable, RpcError, WalletRpc
from libra.crypto.ed25519 import Ed25519PrivateKey, KeyFileError, load_private_key
from libra.types.move import AccountAddress

DEFAULT_DATA = Path(".libra/localnet")
DEFAULT_URL = "http://127.0.0.1:8080/v1"
MICRO_UNITS = 1_000_000  # XUS and XDX have a scaling factor of 10^6
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

data_option = click.option(
    "--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DATA,
    show_default=True, help="A localnet's folder: its node URL, genesis and keys are used when not given.",
)
url_option = click.option("--url", default=None, help="JSON-RPC URL of any node (default: the localnet's, else 127.0.0.1:8080).")


def localnet_info(data_dir: Path) -> dict[str, Any] | None:
    for name in ("localnet.json", "localnet.stopped.json"):
        path = data_dir / name
        if path.exists():
            try:
                info = json.loads(path.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise click.ClickException(f"{path} is not valid JSON: {exc}") from None
            return info if isinstance(info, dict) else None
    return None


def node_url(data_dir: Path, url: str | None) -> str:
    if url is not None:
        return url
    info = localnet_info(data_dir)
    return str(info["json_rpc"]) if info and "json_rpc" in info else DEFAULT_URL


def connect(data_dir: Path, url: str | None) -> WalletRpc:
    try:
        return WalletRpc(node_url(data_dir, url))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--url") from None


def governor(data_dir: Path, url: str | None) -> Governor:
    rpc = connect(data_dir, url)
    try:
        rpc.get_metadata()
    except (RpcError, NodeUnreachable) as exc:
        raise GovernanceError(str(exc)) from None
    assert rpc.chain_id is not None
    return Governor(rpc, rpc.chain_id)


def load_key(key_file: Path | None, data_dir: Path, localnet_key: str) -> Ed25519PrivateKey:
    """``--key`` or the localnet's ``keys/<localnet_key>.key``."""
    path = key_file if key_file is not None else data_dir / "keys" / f"{localnet_key}.key"
    try:
        return load_private_key(path)
    except (KeyFileError, OSError) as exc:
        hint = "" if key_file is not None else f" (give --key, or --data for a localnet holding keys/{localnet_key}.key)"
        raise click.ClickException(f"cannot load the key {path}: {exc}{hint}") from None


def parse_amount(text: str, param: str) -> int:
    """Currency units with up to six decimals ("12.5") → micro-units."""
    try:
        value = Decimal(text.replace(",", "").replace("_", ""))
    except InvalidOperation:
        raise click.BadParameter(f"{text!r} is not an amount", param_hint=param) from None
    micro = value * MICRO_UNITS
    if micro != micro.to_integral_value() or micro < 0 or micro >= 1 << 64:
        raise click.BadParameter(f"{text!r}: at most 6 decimals, from 0 to {((1 << 64) - 1) / MICRO_UNITS:,.0f}", param_hint=param)
    return int(micro)


def format_amount(micro: int | None, code: str, scaling_factor: int = MICRO_UNITS) -> str:
    if micro is None:
        return "—"
    whole, fraction = divmod(micro, scaling_factor)
    digits = len(str(scaling_factor)) - 1
    return f"{whole:,}.{fraction:0{digits}d} {code}"


def format_time(usecs: int | None) -> str:
    if usecs is None:
        return "—"
    moment = dt.datetime.fromtimestamp(usecs / 1_000_000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def parse_time(text: str) -> int:
    """An ISO 8601 date or time (UTC unless it names a zone) → microseconds since the epoch."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 date or time", param_hint="--as-of") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return (moment - EPOCH) // dt.timedelta(microseconds=1)


def parse_address(text: str, param: str) -> AccountAddress:
    """32 hex digits (``0x`` optional) or a ``tdm1…``/``dm1…`` account identifier."""
    value = text.strip()
    try:
        if value.startswith(("tdm1", "dm1", "pdm1")):
            return AccountAddress(decode_account_identifier(value, value.split("1", 1)[0]).address)
        return AccountAddress.from_hex(value.removeprefix("0x").rjust(32, "0"))
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not an account address: {exc}", param_hint=param) from None
