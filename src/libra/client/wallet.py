"""Wallet operations: amounts, recipients, payments, balances, history, incoming payments.

Used by ``libra wallet`` (``libra.cli.wallet``); keeps no state but the keystore.

* Amounts are integers of micro-units (1 XUS = 1_000_000). Text is parsed with string
  arithmetic: ``"12.5"`` is exactly 12_500_000; more than 6 decimals, signs, zero,
  exponents and anything but digits and one ``.`` are refused.
* A recipient is a DIP-5 account identifier (``tdm1...``, subaddress kept), a
  ``diem://`` intent URI (identifier, and optionally currency and amount), a Diem ID
  ``user@domain`` or a 32-hex address. The identifier's network prefix must be the
  one of the node's chain id.
* A Diem ID's domain is looked up in the TC account's ``diemiddomain`` events
  (latest event per domain wins) and the payment goes to that parent VASP. The user
  part is **not** sent on chain: Diem resolves it off chain between VASPs, which a
  one-person wallet does not run, so it is checked (syntax) and shown, then ignored.
* A payment is ``peer_to_peer_with_metadata`` with ``GeneralMetadata`` (V0,
  ``to_subaddress``) when the recipient has a subaddress, else empty metadata;
  chain id from ``get_metadata``; expiry now + 30 s; committed when
  ``get_account_transaction`` shows it (hash checked, ``executed`` required).

Errors are :class:`WalletError` subclasses carrying the CLI exit code:
0 ok, 1 payment or network failure, 2 bad input, 3 not found.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from libra.client import builders
from libra.client.identifiers import (
    AccountIdentifier,
    AccountIdentifierError,
    DiemIdError,
    IntentError,
    decode_account_identifier,
    decode_intent,
    encode_account_identifier,
    encode_intent,
    hrp_for_chain_id,
    parse_diem_id,
)
from libra.client.wallet_rpc import NodeUnreachable, RpcError, WalletRpc
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.types.metadata import GeneralMetadataV0, try_decode_metadata
from libra.types.move import AccountAddress

MICRO_DIGITS = 6
MICRO = 1_000_000
U64_MAX = (1 << 64) - 1
DEFAULT_CURRENCY = "XUS"
EXPIRATION_SECS = 30
POLL_SECS = 0.1
MAINNET_CHAIN_ID = 1
_AMOUNT = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_CURRENCY = re.compile(r"^[A-Za-z0-9]{1,16}$")
_HEX_ADDRESS = re.compile(r"^(0x)?[0-9a-fA-F]{32}$")


# --- errors ----------------------------------------------------------------------------------


class WalletError(Exception):
    """A failure the user must hear about; ``exit_code`` is what the CLI exits with."""

    exit_code = 1
    kind = "failed"


class BadInput(WalletError):
    exit_code = 2
    kind = "bad_input"


class NotFound(WalletError):
    exit_code = 3
    kind = "not_found"


class NetworkFailure(WalletError):
    exit_code = 1
    kind = "network"


class PaymentFailed(WalletError):
    exit_code = 1
    kind = "payment_failed"


# --- amounts ---------------------------------------------------------------------------------


def parse_amount(text: str) -> int:
    """``"12.5"`` -> 12_500_000 micro-units, exactly; a clear :class:`BadInput` otherwise."""
    value = text.strip()
    if not value:
        raise BadInput("the amount is empty")
    if value.startswith("-"):
        raise BadInput(f"the amount must be positive, got {text!r}")
    if not _AMOUNT.match(value):
        raise BadInput(f"the amount {text!r} is not a number: write digits with at most one '.', like 12.5")
    whole, _, fraction = value.partition(".")
    if len(fraction) > MICRO_DIGITS:
        raise BadInput(f"the amount {text!r} has more than {MICRO_DIGITS} decimals (the smallest unit is 0.000001)")
    micro = int(whole) * MICRO + int(fraction.ljust(MICRO_DIGITS, "0") or "0")
    if micro == 0:
        raise BadInput("the amount must be more than zero")
    if micro > U64_MAX:
        raise BadInput(f"the amount {text!r} is too large")
    return micro


def format_amount(micro: int, currency: str | None = None) -> str:
    """12_500_000 -> ``"12.50"`` (at least 2 decimals, at most 6, no float)."""
    sign = "-" if micro < 0 else ""
    whole, fraction = divmod(abs(micro), MICRO)
    digits = f"{fraction:06d}".rstrip("0").ljust(2, "0")
    text = f"{sign}{whole:,}.{digits}"
    return f"{text} {currency}" if currency else text


def check_currency(text: str) -> str:
    if not _CURRENCY.match(text):
        raise BadInput(f"{text!r} is not a currency code (letters and digits, like XUS)")
    return text.upper()


# --- network helpers -------------------------------------------------------------------------


def _rpc(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except NodeUnreachable as exc:
        raise NetworkFailure(str(exc)) from None
    except RpcError as exc:
        raise NetworkFailure(f"the node refused {exc.method}: {exc.message}") from None


@dataclass(frozen=True, slots=True)
class Network:
    chain_id: int
    hrp: str
    version: int
    timestamp_usecs: int


def network_of(rpc: WalletRpc) -> Network:
    metadata = _rpc(rpc.get_metadata)
    chain_id = int(metadata["chain_id"])
    try:
        hrp = hrp_for_chain_id(chain_id)
    except AccountIdentifierError:
        hrp = "tdm"
    return Network(chain_id, hrp, int(metadata["version"]), int(metadata["timestamp"]))


def currencies_of(rpc: WalletRpc) -> list[str]:
    return [str(c["code"]) for c in _rpc(rpc.get_currencies)]


def check_known_currency(rpc: WalletRpc, currency: str) -> str:
    currency = check_currency(currency)
    known = currencies_of(rpc)
    if currency not in known:
        raise BadInput(f"currency {currency} is not on this network (it has {', '.join(known)})")
    return currency


# --- recipients ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where a payment goes, and what the recipient's text asked for."""

    address: bytes
    subaddress: bytes | None
    text: str
    kind: str  # "identifier", "intent", "diem_id", "address"
    currency: str | None = None
    amount: int | None = None
    diem_id: str | None = None

    def identifier(self, hrp: str) -> str:
        return encode_account_identifier(self.address, self.subaddress, hrp)


def _identifier_error(text: str, hrp: str, exc: Exception) -> BadInput:
    lowered = text.lower()
    separator = lowered.rfind("1")
    prefix = lowered[:separator] if separator > 0 else ""
    if prefix and prefix != hrp and prefix.isalpha():
        return BadInput(
            f"{text!r} is an account identifier for network prefix {prefix!r}, but this network uses {hrp!r}"
        )
    return BadInput(f"{text!r} is not a valid account identifier: {exc}")


def resolve_recipient(text: str, hrp: str, rpc: WalletRpc | None) -> Recipient:
    """Parse ``text`` (identifier, intent URI, Diem ID or hex address); Diem IDs need ``rpc``."""
    value = text.strip()
    if not value:
        raise BadInput("the recipient is empty")
    if value.lower().startswith("diem:"):
        try:
            intent = decode_intent(value, hrp)
        except IntentError as exc:
            inner = value.split("://", 1)[-1].split("?", 1)[0].lower()
            prefix = inner[: inner.rfind("1")] if inner.rfind("1") > 0 else ""
            if prefix.isalpha() and prefix != hrp:
                raise BadInput(
                    f"the payment link is for network prefix {prefix!r}, but this network uses {hrp!r}"
                ) from None
            raise BadInput(f"not a valid payment link: {exc}") from None
        return Recipient(
            intent.account.address, intent.account.subaddress, value, "intent", intent.currency, intent.amount
        )
    if "@" in value:
        try:
            diem_id = parse_diem_id(value)
        except DiemIdError as exc:
            raise BadInput(f"{value!r} is not a valid Diem ID: {exc}") from None
        if rpc is None:
            raise BadInput("a Diem ID needs the network to be resolved")
        domains = _rpc(rpc.diem_id_domains)
        address = domains.get(diem_id.domain)
        if address is None:
            raise NotFound(f"unknown recipient: no account holds the Diem ID domain {diem_id.domain!r}")
        return Recipient(address, None, value, "diem_id", diem_id=str(diem_id))
    if _HEX_ADDRESS.match(value):
        return Recipient(AccountAddress.from_hex(value).value, None, value, "address")
    try:
        account = decode_account_identifier(value, hrp)
    except AccountIdentifierError as exc:
        if "1" not in value:
            raise BadInput(
                f"{value!r} is not a recipient: give an account identifier ({hrp}1...), a Diem ID "
                "(user@domain), a diem:// payment link or a 32-hex-digit address"
            ) from None
        raise _identifier_error(value, hrp, exc) from None
    return Recipient(account.address, account.subaddress, value, "identifier")


# --- accounts --------------------------------------------------------------------------------


def balances_of(account: dict[str, Any]) -> dict[str, int]:
    return {str(b["currency"]): int(b["amount"]) for b in account.get("balances") or []}


def require_account(rpc: WalletRpc, address: bytes, what: str) -> dict[str, Any]:
    account = _rpc(lambda: rpc.get_account(address))
    if account is None:
        raise NotFound(f"{what} {address.hex()} does not exist on this network")
    assert isinstance(account, dict)
    return account


# --- payments --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentPlan:
    """A checked payment, ready to sign."""

    sender: bytes
    recipient: Recipient
    amount: int
    currency: str
    metadata: bytes
    network: Network
    sequence_number: int


@dataclass(frozen=True, slots=True)
class PaymentResult:
    plan: PaymentPlan
    version: int
    hash: str
    gas_used: int
    events: list[dict[str, Any]] = field(default_factory=list)


def plan_payment(
    rpc: WalletRpc, sender: bytes, to: str, amount_text: str | None, currency_text: str | None
) -> PaymentPlan:
    """Validate everything that can be checked before signing; nothing is sent."""
    amount = parse_amount(amount_text) if amount_text is not None else None
    currency = check_currency(currency_text) if currency_text is not None else None
    network = network_of(rpc)
    recipient = resolve_recipient(to, network.hrp, rpc)
    if recipient.amount is not None:
        if amount is not None and amount != recipient.amount:
            raise BadInput(
                f"the payment link asks for {format_amount(recipient.amount)} but the amount given is "
                f"{format_amount(amount)}; leave the amount out to pay what the link asks"
            )
        amount = recipient.amount
    if recipient.currency is not None:
        link_currency = check_currency(recipient.currency)
        if currency is not None and currency != link_currency:
            raise BadInput(f"the payment link asks for {link_currency} but the currency given is {currency}")
        currency = link_currency
    if amount is None:
        raise BadInput("give an amount (the recipient does not ask for one)")
    currency = currency or DEFAULT_CURRENCY
    known = currencies_of(rpc)
    if currency not in known:
        raise BadInput(f"currency {currency} is not on this network (it has {', '.join(known)})")
    if recipient.address == sender:
        raise BadInput("the recipient is this wallet's own account")
    sender_account = require_account(rpc, sender, "this wallet's account")
    if sender_account.get("is_frozen"):
        raise PaymentFailed("this wallet's account is frozen: it cannot send payments")
    balance = balances_of(sender_account).get(currency)
    if balance is None:
        raise PaymentFailed(f"this wallet's account does not hold {currency}")
    if balance < amount:
        raise PaymentFailed(
            f"insufficient balance: {format_amount(amount, currency)} asked, "
            f"{format_amount(balance, currency)} available"
        )
    receiver_account = _rpc(lambda: rpc.get_account(recipient.address))
    if receiver_account is None:
        raise NotFound(f"unknown recipient: no account {recipient.address.hex()} on this network")
    if receiver_account.get("is_frozen"):
        raise PaymentFailed("the recipient's account is frozen: it cannot receive payments")
    if currency not in balances_of(receiver_account):
        raise PaymentFailed(f"the recipient's account does not accept {currency}")
    metadata = GeneralMetadataV0(to_subaddress=recipient.subaddress).to_bcs() if recipient.subaddress else b""
    return PaymentPlan(
        sender, recipient, amount, currency, metadata, network, int(sender_account["sequence_number"])
    )


_VALIDATION_MESSAGES = {
    "SENDING_ACCOUNT_FROZEN": "this wallet's account is frozen: it cannot send payments",
    "SEQUENCE_NUMBER_TOO_OLD": "another payment from this wallet was just sent; try again",
    "INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE": "insufficient balance for the transaction fee",
    "TRANSACTION_EXPIRED": "the payment expired before the node took it (is this computer's clock right?)",
    "BAD_CHAIN_ID": "the payment was signed for another network",
    "SENDING_ACCOUNT_DOES_NOT_EXIST": "this wallet's account does not exist on this network",
    "INVALID_AUTH_KEY": "this wallet's key no longer controls its account (the key was rotated)",
}

_ABORT_MESSAGES = {
    "EINSUFFICIENT_BALANCE": "insufficient balance",
    "EPAYEE_CANT_ACCEPT_CURRENCY_TYPE": "the recipient's account does not accept this currency",
    "EPAYER_DOESNT_HOLD_CURRENCY": "this wallet's account does not hold this currency",
    "EACCOUNT_FROZEN": "an account in this payment is frozen",
    "EPAYEE_DOES_NOT_EXIST": "the recipient's account does not exist",
    "EMALFORMED_METADATA_SIGNATURE": "the payment needs a travel-rule signature (amount above the limit)",
    "EINVALID_METADATA_SIGNATURE": "the payment needs a travel-rule signature (amount above the limit)",
}


def _submit_error(exc: RpcError) -> PaymentFailed:
    for status, message in _VALIDATION_MESSAGES.items():
        if status in exc.message:
            return PaymentFailed(message)
    return PaymentFailed(f"the node refused the payment: {exc.message}")


def _vm_status_error(vm_status: dict[str, Any]) -> PaymentFailed:
    kind = vm_status.get("type")
    if kind == "move_abort":
        reason = (vm_status.get("explanation") or {}).get("reason") or ""
        message = _ABORT_MESSAGES.get(reason)
        if message:
            return PaymentFailed(f"the payment failed on chain: {message}")
        return PaymentFailed(f"the payment failed on chain: {reason or 'abort ' + str(vm_status.get('abort_code'))}")
    return PaymentFailed(f"the payment failed on chain: {kind}")


def execute_payment(
    rpc: WalletRpc, key: Ed25519PrivateKey, plan: PaymentPlan, *, now: Callable[[], float] = time.time
) -> PaymentResult:
    """Sign, submit and wait for the commit of ``plan``."""
    payload = builders.peer_to_peer_with_metadata(
        plan.currency, AccountAddress(plan.recipient.address), plan.amount, plan.metadata
    )
    expiration = int(now()) + EXPIRATION_SECS
    submission = builders.sign_transaction(
        key,
        AccountAddress(plan.sender),
        plan.sequence_number,
        payload,
        chain_id=plan.network.chain_id,
        expiration_timestamp_secs=expiration,
        gas_currency_code=plan.currency,
    )
    try:
        rpc.submit(submission.bcs)
    except RpcError as exc:
        raise _submit_error(exc) from None
    except NodeUnreachable as exc:
        raise NetworkFailure(f"{exc}; the payment may or may not have been sent — check `history`") from None
    txn = wait_for_transaction(rpc, plan.sender, plan.sequence_number, expiration)
    if txn["hash"] != submission.hash.hex():
        raise PaymentFailed(
            f"another transaction with sequence number {plan.sequence_number} was committed instead of this payment"
        )
    vm_status = txn.get("vm_status") or {}
    if vm_status.get("type") != "executed":
        raise _vm_status_error(vm_status)
    return PaymentResult(plan, int(txn["version"]), str(txn["hash"]), int(txn.get("gas_used") or 0), txn.get("events") or [])


def wait_for_transaction(rpc: WalletRpc, sender: bytes, seq: int, expiration_secs: int) -> dict[str, Any]:
    """The committed transaction ``seq`` of ``sender``; fails once the chain is past its expiry.

    If the chain stops moving, gives up ``EXPIRATION_SECS`` after the expiry by this
    computer's clock: then nobody can tell yet whether the payment will commit.
    """
    give_up = time.monotonic() + max(0.0, expiration_secs - time.time()) + EXPIRATION_SECS
    while True:
        txn = _rpc(lambda: rpc.get_account_transaction(sender, seq, True))
        if txn is not None:
            assert isinstance(txn, dict)
            return txn
        if rpc.ledger_timestamp_usecs >= expiration_secs * 1_000_000:
            raise PaymentFailed("the payment expired without being committed; nothing was paid")
        if time.monotonic() > give_up:
            raise NetworkFailure(
                "the node stopped committing blocks; the payment may still commit — check `history` later"
            )
        time.sleep(POLL_SECS)


# --- history ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    version: int
    direction: str  # "sent" or "received"
    counterparty: bytes
    amount: int
    currency: str
    metadata: str
    to_subaddress: bytes | None
    from_subaddress: bytes | None

    def to_json(self, hrp: str) -> dict[str, Any]:
        subaddress = self.from_subaddress if self.direction == "received" else self.to_subaddress
        return {
            "version": self.version,
            "direction": self.direction,
            "counterparty": self.counterparty.hex(),
            "counterparty_identifier": encode_account_identifier(self.counterparty, subaddress, hrp),
            "amount": self.amount,
            "amount_text": format_amount(self.amount),
            "currency": self.currency,
            "metadata": self.metadata,
            "to_subaddress": self.to_subaddress.hex() if self.to_subaddress else None,
            "from_subaddress": self.from_subaddress.hex() if self.from_subaddress else None,
        }


def history_entry(event: dict[str, Any]) -> HistoryEntry | None:
    """A payment event (``sentpayment``/``receivedpayment``) as a history entry, else None."""
    data = event.get("data") or {}
    kind = data.get("type")
    if kind not in ("sentpayment", "receivedpayment"):
        return None
    metadata_hex = str(data.get("metadata") or "")
    to_sub = from_sub = None
    try:
        metadata = try_decode_metadata(bytes.fromhex(metadata_hex))
    except ValueError:
        metadata = None
    if isinstance(metadata, GeneralMetadataV0):
        to_sub, from_sub = metadata.to_subaddress, metadata.from_subaddress
        to_sub = to_sub if to_sub is not None and len(to_sub) == 8 else None
        from_sub = from_sub if from_sub is not None and len(from_sub) == 8 else None
    direction = "sent" if kind == "sentpayment" else "received"
    counterparty = data["receiver"] if direction == "sent" else data["sender"]
    return HistoryEntry(
        int(event["transaction_version"]),
        direction,
        bytes.fromhex(counterparty),
        int(data["amount"]["amount"]),
        str(data["amount"]["currency"]),
        metadata_hex,
        to_sub,
        from_sub,
    )


def history(rpc: WalletRpc, address: bytes, limit: int | None = None) -> list[HistoryEntry]:
    """Payments sent and received by ``address``, oldest first (the last ``limit`` if given)."""
    account = require_account(rpc, address, "this wallet's account")
    entries: list[HistoryEntry] = []
    for key in (str(account["sent_events_key"]), str(account["received_events_key"])):
        events: list[dict[str, Any]] = _rpc(functools.partial(rpc.get_all_events, key))
        for event in events:
            entry = history_entry(event)
            if entry is not None:
                entries.append(entry)
    entries.sort(key=lambda e: (e.version, e.direction != "sent"))
    return entries[-limit:] if limit else entries


# --- incoming payments -----------------------------------------------------------------------


def watch_payments(
    rpc: WalletRpc,
    address: bytes,
    since_version: int,
    *,
    include_sent: bool = False,
    deadline: float | None = None,
    on_ready: Callable[[int], None] | None = None,
) -> Iterator[HistoryEntry]:
    """Payments to (and with ``include_sent`` from) ``address`` after ``since_version``, live.

    Reads the node's push stream; reconnects from the last block seen if the stream
    drops; stops at ``deadline`` (a ``time.monotonic()`` value).
    """
    last = since_version
    ready_sent = False
    failures = 0
    seen: set[tuple[str, int]] = set()
    while deadline is None or time.monotonic() < deadline:
        remaining = 30.0 if deadline is None else max(0.1, deadline - time.monotonic())
        try:
            for message in rpc.stream(addresses=[address], since_version=last, timeout=min(remaining, 30.0)):
                failures = 0
                if not ready_sent and on_ready is not None:
                    on_ready(last)
                    ready_sent = True
                if message.event == "ledger":
                    last = max(last, int(message.data["version"]))
                elif message.event == "event":
                    identity = (str(message.data.get("key")), int(message.data.get("sequence_number", -1)))
                    if identity in seen:
                        continue
                    seen.add(identity)
                    entry = history_entry(message.data)
                    if entry is not None and (entry.direction == "received" or include_sent):
                        yield entry
                if deadline is not None and time.monotonic() >= deadline:
                    return
        except NodeUnreachable as exc:
            if deadline is not None and time.monotonic() >= deadline:
                return
            failures += 1
            if failures > 5:
                raise NetworkFailure(str(exc)) from None
            time.sleep(min(2.0, 0.2 * failures))


def request_uri(address: bytes, subaddress: bytes | None, hrp: str, currency: str, amount: int) -> str:
    return encode_intent(AccountIdentifier(address, subaddress, hrp).encode(), currency, amount)
