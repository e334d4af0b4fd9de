"""``libra wallet``: keys in an encrypted keystore; pay, request, fund, balance, history, watch.

Every command takes ``--url`` (the node's JSON-RPC URL; env ``LIBRA_URL``; default
``http://127.0.0.1:8080/v1``, the localnet's), ``--faucet`` (env ``LIBRA_FAUCET_URL``;
default ``/mint`` on the same host) and ``--json`` (one JSON document on stdout, or
one JSON line per payment for ``watch``; errors as ``{"ok": false, "error": {...}}``).

Passphrases are prompted, or read from ``LIBRA_WALLET_PASSPHRASE`` for scripts.
Wallets live in ``$LIBRA_WALLET_HOME`` (default ``~/.config/libra/wallets``).

Exit codes:

==  ==========================================================================
 0  success
 1  payment or network failure (refused or failed on chain, insufficient
    balance, frozen account, node or faucet unreachable, timed out)
 2  bad input (usage, amount, currency, recipient syntax, wrong network
    prefix, wrong passphrase, existing wallet name)
 3  not found (no such wallet, unknown recipient or Diem ID domain, account
    not on chain yet)
==  ==========================================================================
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import segno
from rich.console import Console
from rich.table import Table

from libra.client.identifiers import (
    KNOWN_HRPS,
    encode_account_identifier,
    generate_subaddress,
)
from libra.client.wallet import (
    DEFAULT_CURRENCY,
    MAINNET_CHAIN_ID,
    BadInput,
    NetworkFailure,
    NotFound,
    WalletError,
    balances_of,
    check_currency,
    check_known_currency,
    execute_payment,
    format_amount,
    history,
    network_of,
    parse_amount,
    plan_payment,
    request_uri,
    watch_payments,
)
from libra.client.wallet_keystore import (
    Keystore,
    KeystoreError,
    KeystoreInputError,
    WalletEntry,
    check_name,
    check_new_passphrase,
    parse_private_key_hex,
    unseal,
)
from libra.client.wallet_rpc import NodeUnreachable, RpcError, WalletRpc
from libra.crypto.ed25519 import KeyFileError, load_private_key

DEFAULT_URL = "http://127.0.0.1:8080/v1"
PASSPHRASE_ENV = "LIBRA_WALLET_PASSPHRASE"
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_NOT_FOUND = 0, 1, 2, 3

F = TypeVar("F", bound=Callable[..., Any])
#: "-5" is an amount to refuse with a sentence, not an unknown option.
AMOUNT_ARGS = {"ignore_unknown_options": True}


class Context:
    def __init__(self, url: str, faucet: str | None, as_json: bool) -> None:
        self.url = url
        self.faucet = faucet
        self.as_json = as_json
        self.out = Console(highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self.keystore = Keystore()
        self._rpc: WalletRpc | None = None

    @property
    def rpc(self) -> WalletRpc:
        if self._rpc is None:
            try:
                self._rpc = WalletRpc(self.url, faucet_url=self.faucet)
            except ValueError as exc:
                raise BadInput(str(exc)) from None
        return self._rpc

    def emit(self, document: dict[str, Any], human: Callable[[], None]) -> None:
        if self.as_json:
            click.echo(json.dumps({"ok": True, **document}))
        else:
            human()

    def status(self, message: str) -> Any:
        """A spinner on stderr while waiting (nothing in --json mode)."""
        if self.as_json:
            import contextlib

            return contextlib.nullcontext()
        return self.err.status(message, spinner="dots")


def _fail(ctx: Context, kind: str, message: str, code: int) -> None:
    if ctx.as_json:
        click.echo(json.dumps({"ok": False, "error": {"kind": kind, "message": message, "exit_code": code}}))
    else:
        ctx.err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    sys.exit(code)


def common(command: F) -> F:
    """``--url``, ``--faucet`` and ``--json`` on a command, and the error-to-exit-code mapping."""

    @click.option("--url", envvar="LIBRA_URL", default=DEFAULT_URL, show_default=True,
                  help="The node's JSON-RPC URL (env LIBRA_URL).")
    @click.option("--faucet", envvar="LIBRA_FAUCET_URL", default=None,
                  help="Faucet URL (env LIBRA_FAUCET_URL; default: /mint on the node's host).")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
    @functools.wraps(command)
    def wrapper(url: str, faucet: str | None, as_json: bool, **kwargs: Any) -> Any:
        ctx = Context(url, faucet, as_json)
        try:
            return command(ctx, **kwargs)
        except WalletError as exc:
            _fail(ctx, exc.kind, str(exc), exc.exit_code)
        except KeystoreError as exc:
            kind = {2: "bad_input", 3: "not_found"}.get(exc.exit_code, "failed")
            _fail(ctx, kind, str(exc), exc.exit_code)
        except (NodeUnreachable, RpcError) as exc:
            _fail(ctx, "network", str(exc), EXIT_FAILED)
        except KeyboardInterrupt:
            _fail(ctx, "interrupted", "interrupted", 130)

    return wrapper  # type: ignore[return-value]


def _passphrase(ctx: Context, *, new: bool) -> str:
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env is not None:
        return from_env
    if not sys.stdin.isatty():
        raise BadInput(f"no passphrase: run in a terminal or set {PASSPHRASE_ENV}")
    value = click.prompt(
        "New passphrase" if new else "Passphrase", hide_input=True, confirmation_prompt=new, err=True
    )
    return str(value)


def _entry(ctx: Context, name: str) -> WalletEntry:
    check_name(name)
    return ctx.keystore.get(name)


def _amount_and_currency(amount: str, currency: str | None) -> tuple[int, str]:
    return parse_amount(amount), check_currency(currency or DEFAULT_CURRENCY)


@click.group()
def wallet() -> None:
    """Wallets: an encrypted keystore, payments to identifiers, Diem IDs and links, requests, history.

    \b
    Exit codes: 0 ok; 1 payment or network failure; 2 bad input; 3 not found
    (no such wallet, unknown recipient or Diem ID domain, account not on chain).
    Passphrase: prompted, or LIBRA_WALLET_PASSPHRASE. Keystore: LIBRA_WALLET_HOME
    (default ~/.config/libra/wallets).
    """


# --- keys ----------------------------------------------------------------------------------


@wallet.command()
@click.argument("name")
@common
def new(ctx: Context, name: str) -> None:
    """Create wallet NAME with a new Ed25519 key (passphrase-encrypted)."""
    check_name(name)
    if (ctx.keystore.home / f"{name}.json").exists():
        raise KeystoreInputError(f"a wallet named {name!r} already exists")
    passphrase = _passphrase(ctx, new=True)
    entry = ctx.keystore.create(name, passphrase)
    _show_created(ctx, entry, "created")


def _show_created(ctx: Context, entry: WalletEntry, verb: str) -> None:
    document = {
        "name": entry.name,
        "address": entry.address.hex(),
        "auth_key": entry.auth_key.hex(),
        "public_key": entry.public_key.hex(),
        "path": str(entry.path),
    }

    def human() -> None:
        ctx.out.print(f"Wallet [bold]{entry.name}[/] {verb}.")
        ctx.out.print(f"  address   {entry.address.hex()}")
        ctx.out.print(f"  keystore  {entry.path}")
        ctx.out.print(f"Next: libra wallet fund {entry.name} 100   (test networks)")

    ctx.emit(document, human)


@wallet.command(name="import")
@click.argument("name")
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="A libra key file (hex private key, mode 0600).")
@click.option("--key-stdin", is_flag=True, help="Read the hex private key from standard input.")
@click.option("--wallet-file", type=click.Path(dir_okay=False, path_type=Path),
              help="A wallet file exported by the web wallet (or another keystore); same passphrase.")
@common
def import_(ctx: Context, name: str, key_file: Path | None, key_stdin: bool, wallet_file: Path | None) -> None:
    """Import an existing private key as wallet NAME (prompted unless --key-file/--key-stdin/--wallet-file)."""
    check_name(name)
    if sum(x is not None and x is not False for x in (key_file, key_stdin, wallet_file)) > 1:
        raise BadInput("give only one of --key-file, --key-stdin and --wallet-file")
    if wallet_file is not None:
        try:
            document = json.loads(wallet_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BadInput(f"cannot read wallet file {wallet_file}: {exc}") from None
        if not isinstance(document, dict) or document.get("format") != "libra-wallet/1":
            raise BadInput(f"{wallet_file} is not a libra wallet file")
        if (ctx.keystore.home / f"{name}.json").exists():
            raise KeystoreInputError(f"a wallet named {name!r} already exists")
        passphrase = _passphrase(ctx, new=False)
        try:
            key = unseal(document, passphrase)
        except (KeyError, ValueError, TypeError) as exc:
            raise BadInput(f"{wallet_file} is damaged: {exc}") from None
        entry = ctx.keystore.create(name, passphrase, key)
        _show_created(ctx, entry, "imported")
        return
    if key_file is not None:
        try:
            key = load_private_key(key_file)
        except KeyFileError as exc:
            raise BadInput(str(exc)) from None
    elif key_stdin:
        key = parse_private_key_hex(sys.stdin.readline())
    else:
        if not sys.stdin.isatty():
            raise BadInput("no key: use --key-file, --key-stdin or run in a terminal")
        key = parse_private_key_hex(str(click.prompt("Private key (64 hex)", hide_input=True, err=True)))
    if (ctx.keystore.home / f"{name}.json").exists():
        raise KeystoreInputError(f"a wallet named {name!r} already exists")
    passphrase = _passphrase(ctx, new=True)
    check_new_passphrase(passphrase)
    entry = ctx.keystore.create(name, passphrase, key)
    _show_created(ctx, entry, "imported")


@wallet.command(name="list")
@common
def list_(ctx: Context) -> None:
    """List the wallets in the keystore (offline)."""
    entries = ctx.keystore.list()

    def human() -> None:
        if not entries:
            ctx.out.print(f"No wallets in {ctx.keystore.home}. Create one: libra wallet new NAME")
            return
        table = Table(show_header=True, header_style="bold")
        table.add_column("name")
        table.add_column("address")
        table.add_column("created")
        for entry in entries:
            table.add_row(entry.name, entry.address.hex(), entry.created)
        ctx.out.print(table)

    ctx.emit(
        {"wallets": [{"name": e.name, "address": e.address.hex(), "created": e.created} for e in entries],
         "home": str(ctx.keystore.home)},
        human,
    )


# --- chain ---------------------------------------------------------------------------------


@wallet.command(context_settings=AMOUNT_ARGS)
@click.argument("name")
@click.argument("amount")
@click.argument("currency", required=False)
@click.option("--domain", help="Also register this Diem ID domain for the wallet's account.")
@common
def fund(ctx: Context, name: str, amount: str, currency: str | None, domain: str | None) -> None:
    """Get AMOUNT [CURRENCY] from the faucet (test networks); creates the account if needed."""
    entry = _entry(ctx, name)
    micro, code = _amount_and_currency(amount, currency)
    if domain is not None:
        from libra.client.identifiers import DiemId, DiemIdError

        try:
            DiemId("user", domain)
        except DiemIdError as exc:
            raise BadInput(str(exc).replace("Diem ID domain", "the domain")) from None
    network = network_of(ctx.rpc)
    if network.chain_id == MAINNET_CHAIN_ID:
        raise BadInput("there is no faucet on mainnet")
    code = check_known_currency(ctx.rpc, code)
    with ctx.status(f"Asking the faucet for {format_amount(micro, code)}…"):
        try:
            ctx.rpc.mint(entry.auth_key, micro, code, domain)
        except NodeUnreachable as exc:
            raise NetworkFailure(str(exc)) from None
    account = ctx.rpc.get_account(entry.address) or {}
    balance = balances_of(account).get(code, 0)
    ctx.emit(
        {"name": name, "address": entry.address.hex(), "funded": micro, "currency": code, "balance": balance,
         "domain": domain},
        lambda: ctx.out.print(
            f"Funded [bold]{name}[/] with {format_amount(micro, code)}; balance {format_amount(balance, code)}."
            + (f" Domain {domain} registered." if domain else "")
        ),
    )


@wallet.command()
@click.argument("name")
@common
def balance(ctx: Context, name: str) -> None:
    """Balances, identifier and state of wallet NAME's account."""
    entry = _entry(ctx, name)
    network = network_of(ctx.rpc)
    account = ctx.rpc.get_account(entry.address)
    if account is None:
        raise NotFound(f"wallet {name}'s account {entry.address.hex()} is not on chain yet; fund it first")
    balances = balances_of(account)
    identifier = encode_account_identifier(entry.address, None, network.hrp)
    domains = list((account.get("role") or {}).get("diem_id_domains") or [])

    def human() -> None:
        ctx.out.print(f"[bold]{name}[/]  {identifier}")
        ctx.out.print(f"  address  {entry.address.hex()}")
        for code, amount in sorted(balances.items()):
            ctx.out.print(f"  {format_amount(amount):>20} {code}")
        if domains:
            ctx.out.print(f"  Diem ID domains: {', '.join(domains)}")
        if account.get("is_frozen"):
            ctx.out.print("  [bold red]frozen[/]: this account cannot send payments")
        ctx.out.print(f"  sequence number {account['sequence_number']}, ledger version {network.version}")

    ctx.emit(
        {
            "name": name,
            "address": entry.address.hex(),
            "identifier": identifier,
            "balances": balances,
            "balances_text": {c: format_amount(a) for c, a in balances.items()},
            "sequence_number": int(account["sequence_number"]),
            "frozen": bool(account.get("is_frozen")),
            "diem_id_domains": domains,
            "version": network.version,
        },
        human,
    )


@wallet.command(context_settings=AMOUNT_ARGS)
@click.argument("name")
@click.argument("to")
@click.argument("amount", required=False)
@click.argument("currency", required=False)
@common
def pay(ctx: Context, name: str, to: str, amount: str | None, currency: str | None) -> None:
    """Pay AMOUNT [CURRENCY] from wallet NAME to TO.

    TO is an account identifier (tdm1...), a Diem ID (user@domain), a diem:// payment
    link (its amount and currency are used when given) or a 32-hex address.
    """
    entry = _entry(ctx, name)
    with ctx.status("Checking the payment…"):
        plan = plan_payment(ctx.rpc, entry.address, to, amount, currency)
    key = ctx.keystore.unlock(name, _passphrase(ctx, new=False))
    started = time.monotonic()
    with ctx.status(f"Paying {format_amount(plan.amount, plan.currency)}; waiting for commit…"):
        result = execute_payment(ctx.rpc, key, plan)
    elapsed = time.monotonic() - started
    recipient = plan.recipient
    target = recipient.diem_id or recipient.identifier(plan.network.hrp)
    ctx.emit(
        {
            "name": name,
            "from": entry.address.hex(),
            "to": recipient.address.hex(),
            "to_subaddress": recipient.subaddress.hex() if recipient.subaddress else None,
            "to_identifier": recipient.identifier(plan.network.hrp),
            "diem_id": recipient.diem_id,
            "recipient_kind": recipient.kind,
            "amount": plan.amount,
            "amount_text": format_amount(plan.amount),
            "currency": plan.currency,
            "metadata": plan.metadata.hex(),
            "sequence_number": plan.sequence_number,
            "version": result.version,
            "hash": result.hash,
            "seconds": round(elapsed, 3),
        },
        lambda: ctx.out.print(
            f"Paid {format_amount(plan.amount, plan.currency)} to {target} "
            f"(version {result.version}, {elapsed:.1f} s)."
        ),
    )


@wallet.command(context_settings=AMOUNT_ARGS)
@click.argument("name")
@click.argument("amount")
@click.argument("currency", required=False)
@click.option("--subaddress/--no-subaddress", default=True, show_default=True,
              help="Put a fresh subaddress in the link, so this payment can be told apart.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the QR code to this .png or .svg file.")
@click.option("--network-prefix", type=click.Choice(sorted(KNOWN_HRPS)),
              help="Identifier prefix to use without asking the node (offline).")
@common
def request(
    ctx: Context, name: str, amount: str, currency: str | None, subaddress: bool, out_path: Path | None,
    network_prefix: str | None,
) -> None:
    """Print a diem:// payment link for AMOUNT [CURRENCY] to wallet NAME, and its QR code."""
    entry = _entry(ctx, name)
    micro, code = _amount_and_currency(amount, currency)
    if out_path is not None and out_path.suffix.lower() not in (".png", ".svg"):
        raise BadInput(f"--out must end in .png or .svg, got {out_path.name!r}")
    if network_prefix is None:
        hrp = network_of(ctx.rpc).hrp
        code = check_known_currency(ctx.rpc, code)
    else:
        hrp = network_prefix
    sub = generate_subaddress() if subaddress else None
    uri = request_uri(entry.address, sub, hrp, code, micro)
    qr = segno.make(uri, error="m")
    if out_path is not None:
        try:
            qr.save(str(out_path), scale=8, border=4)
        except OSError as exc:
            raise WalletError(f"cannot write {out_path}: {exc.strerror}") from None

    def human() -> None:
        ctx.out.print(f"Pay {format_amount(micro, code)} to [bold]{name}[/]:")
        click.echo(uri)
        qr.terminal(out=sys.stdout, compact=True, border=2)
        if out_path is not None:
            ctx.out.print(f"QR code written to {out_path}")

    ctx.emit(
        {"name": name, "uri": uri, "address": entry.address.hex(), "subaddress": sub.hex() if sub else None,
         "amount": micro, "currency": code, "qr_file": str(out_path) if out_path else None},
        human,
    )


@wallet.command(name="history")
@click.argument("name")
@click.option("--limit", type=click.IntRange(1, 100_000), help="Only the last N payments.")
@common
def history_(ctx: Context, name: str, limit: int | None) -> None:
    """Payments sent and received by wallet NAME, oldest first."""
    entry = _entry(ctx, name)
    network = network_of(ctx.rpc)
    entries = history(ctx.rpc, entry.address, limit)

    def human() -> None:
        if not entries:
            ctx.out.print("No payments yet.")
            return
        table = Table(show_header=True, header_style="bold")
        table.add_column("version", justify="right")
        table.add_column("")
        table.add_column("amount", justify="right")
        table.add_column("counterparty", overflow="fold")
        for item in entries:
            sign = "-" if item.direction == "sent" else "+"
            counterparty = item.to_json(network.hrp)["counterparty_identifier"]
            table.add_row(
                str(item.version), item.direction, f"{sign}{format_amount(item.amount)} {item.currency}", counterparty
            )
        ctx.out.print(table)

    ctx.emit({"name": name, "address": entry.address.hex(), "payments": [e.to_json(network.hrp) for e in entries]},
             human)


@wallet.command()
@click.argument("name")
@click.option("--count", type=click.IntRange(1), help="Stop after N payments (exit 1 if the timeout comes first).")
@click.option("--timeout", "timeout_secs", type=click.FloatRange(0.1), help="Stop after this many seconds.")
@click.option("--since-version", type=click.IntRange(0), help="Also show payments after this ledger version.")
@click.option("--sent", "include_sent", is_flag=True, help="Show payments sent by the wallet too.")
@common
def watch(
    ctx: Context, name: str, count: int | None, timeout_secs: float | None, since_version: int | None,
    include_sent: bool,
) -> None:
    """Show incoming payments to wallet NAME as they commit (push stream, no polling)."""
    entry = _entry(ctx, name)
    network = network_of(ctx.rpc)
    start = network.version if since_version is None else since_version
    deadline = None if timeout_secs is None else time.monotonic() + timeout_secs
    seen = 0

    def ready(version: int) -> None:
        if ctx.as_json:
            click.echo(json.dumps({"watching": entry.address.hex(), "name": name, "since_version": version}), nl=True)
            sys.stdout.flush()
        else:
            ctx.err.print(f"Watching {name} ({encode_account_identifier(entry.address, None, network.hrp)}); "
                          "Ctrl-C to stop.")

    for item in watch_payments(ctx.rpc, entry.address, start, include_sent=include_sent, deadline=deadline,
                               on_ready=ready):
        seen += 1
        document = item.to_json(network.hrp)
        if ctx.as_json:
            click.echo(json.dumps(document))
            sys.stdout.flush()
        else:
            sign = "+" if item.direction == "received" else "-"
            who = "from" if item.direction == "received" else "to"
            sub = document["to_subaddress"] if item.direction == "received" else None
            ctx.out.print(
                f"{sign}{format_amount(item.amount, item.currency)} {who} {document['counterparty_identifier']}"
                + (f" (for subaddress {sub})" if sub else "")
                + f"  version {item.version}"
            )
        if count is not None and seen >= count:
            return
    if count is not None and seen < count:
        raise WalletError(f"timed out after {seen} of {count} payments")
