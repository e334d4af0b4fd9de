"""``libra tx``: look inside transactions."""

from __future__ import annotations

import json
import sys

import click

from libra.api.transaction_views import decoded_transaction_view
from libra.bcs import BcsError
from libra.types.transaction import SignedTransaction

EXIT_BAD_INPUT = 2


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def parse_signed_transaction_hex(text: str) -> SignedTransaction:
    """Hex (optionally ``0x``-prefixed, surrounding whitespace ignored) of BCS(SignedTransaction)."""
    digits = text.strip()
    if digits[:2] in ("0x", "0X"):
        digits = digits[2:]
    if not digits:
        raise ValueError("empty input: expected the hex of a BCS-encoded SignedTransaction")
    if len(digits) % 2:
        raise ValueError(f"odd number of hex digits ({len(digits)})")
    try:
        data = bytes.fromhex(digits)
    except ValueError:
        bad = next(i for i, c in enumerate(digits) if c not in "0123456789abcdefABCDEF")
        raise ValueError(f"not hex: character {digits[bad]!r} at position {bad}") from None
    try:
        return SignedTransaction.from_bcs(data)
    except BcsError as exc:
        raise ValueError(f"not a SignedTransaction: {exc}") from None


@click.group()
def tx() -> None:
    """Transactions: decode and inspect."""


@tx.command()
@click.argument("hex_text", metavar="HEX")
def decode(hex_text: str) -> None:
    """Print the JSON view (as Diem's JSON-RPC shows it) of a signed transaction.

    HEX is the BCS of a SignedTransaction in hex, or - to read it from standard input.
    """
    if hex_text == "-":
        hex_text = sys.stdin.read()
    try:
        signed = parse_signed_transaction_hex(hex_text)
    except ValueError as exc:
        _fail(str(exc))
        return
    click.echo(json.dumps(decoded_transaction_view(signed), indent=2))
