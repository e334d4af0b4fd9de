"""``libra order``: Treasury Compliance executes lawful orders.

* ``freeze`` / ``unfreeze`` an account (it sends nothing while frozen);
* ``seize`` funds of a frozen account into the account the order designates;
* ``burn`` funds of a frozen account (balance and supply drop).

The order's reference (``--order-ref``, e.g. the court's case number) never leaves this
machine: only its SHA3-256 goes on chain, in the ``FundsSeizedEvent``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from libra.cli.issuer import (
    data_option,
    format_amount,
    governor,
    load_key,
    parse_address,
    parse_amount,
    url_option,
)
from libra.client import builders
from libra.crypto.hashing import sha3_256
from libra.types.move import TREASURY_COMPLIANCE_ADDRESS, AccountAddress
from libra.types.transaction import ScriptFunction

key_option = click.option("--key", "key_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                          help="Treasury Compliance's key (default: the localnet's).")
currency_option = click.option("--currency", default="XUS", show_default=True)
order_option = click.option("--order-ref", "order_ref", required=True,
                            help="The order's reference; only its SHA3-256 goes on chain.")


@click.group()
def order() -> None:
    """Lawful orders (Treasury Compliance): freeze, seize, burn."""


@order.command()
@data_option
@url_option
@key_option
@click.argument("address")
def freeze(data_dir: Path, url: str | None, key_file: Path | None, address: str) -> None:
    """Freeze the account at ADDRESS."""
    _send_about(data_dir, url, key_file, address, "freeze", builders.freeze_account)


@order.command()
@data_option
@url_option
@key_option
@click.argument("address")
def unfreeze(data_dir: Path, url: str | None, key_file: Path | None, address: str) -> None:
    """Unfreeze the account at ADDRESS."""
    _send_about(data_dir, url, key_file, address, "unfreeze", builders.unfreeze_account)


def _send_about(data_dir: Path, url: str | None, key_file: Path | None, address: str, what: str,
                build: Callable[[int, AccountAddress], ScriptFunction]) -> None:
    """Treasury Compliance sends ``build(0, the account at ADDRESS)``, logged as ``what``."""
    target = parse_address(address, "ADDRESS")
    governor(data_dir, url).send(f"{what} {target.hex()}", load_key(key_file, data_dir, "treasury_compliance"),
                                 TREASURY_COMPLIANCE_ADDRESS, build(0, target))


@order.command()
@data_option
@url_option
@key_option
@currency_option
@order_option
@click.option("--to", "destination", required=True, help="The account the order designates.")
@click.option("--amount", required=True, help="In currency units.")
@click.argument("address")
def seize(data_dir: Path, url: str | None, key_file: Path | None, currency: str, order_ref: str,
          destination: str, amount: str, address: str) -> None:
    """Move AMOUNT from the frozen account at ADDRESS to --to."""
    target, to = parse_address(address, "ADDRESS"), parse_address(destination, "--to")
    micro, digest = parse_amount(amount, "--amount"), sha3_256(order_ref.encode())
    click.echo(f"order {digest.hex()}: seize {format_amount(micro, currency)} from {target.hex()} into {to.hex()}")
    governor(data_dir, url).send("seize", load_key(key_file, data_dir, "treasury_compliance"), TREASURY_COMPLIANCE_ADDRESS,
                                 builders.seize_frozen_funds(currency, 0, target, to, micro, digest))


@order.command()
@data_option
@url_option
@key_option
@currency_option
@order_option
@click.option("--amount", required=True, help="In currency units.")
@click.argument("address")
def burn(data_dir: Path, url: str | None, key_file: Path | None, currency: str, order_ref: str, amount: str, address: str) -> None:
    """Burn AMOUNT held by the frozen account at ADDRESS (supply drops by as much)."""
    target = parse_address(address, "ADDRESS")
    micro, digest = parse_amount(amount, "--amount"), sha3_256(order_ref.encode())
    click.echo(f"order {digest.hex()}: burn {format_amount(micro, currency)} held by {target.hex()}")
    governor(data_dir, url).send("burn", load_key(key_file, data_dir, "treasury_compliance"), TREASURY_COMPLIANCE_ADDRESS,
                                 builders.burn_frozen_funds(currency, 0, target, micro, digest))
