"""DIP-5 account identifiers, subaddresses, ``diem://`` intent URIs and Diem IDs.

Rules (diem-protocol.md §13):

* A subaddress is 8 bytes; "no subaddress" is written as 8 zero bytes and
  read back as None.
* An account identifier is Bech32 (BIP-173 checksum, not bech32m) with a
  network HRP, the version character ``p`` (1) and the 5-bit regrouping of
  ``address (16) || subaddress (8)``: ``len(hrp) + 47`` characters (50 for
  ``tdm``, 49 for ``dm``). Mixed case is refused; all upper case is read like
  lower case; the HRP must be exactly the expected one; padding bits must be 0.
* HRPs: ``dm`` mainnet (chain 1), ``tdm`` testnet, devnet and testing (2, 3,
  4), ``pdm`` premainnet (5), ``ddm`` dry-run mainnet (no chain id).
* An intent URI is ``diem://<account identifier>`` with optional query
  parameters ``c=<currency>`` and ``am=<amount>``; ``am`` is written only for
  an amount above 0, and read only as a positive u64. Unknown parameters are
  ignored (as the reference SDK does); repeated ones are refused.
* A Diem ID is ``user@domain``: user 1..64 and domain 1..63 characters, ASCII
  letters, digits and ``.`` only.

Addresses are plain 16-byte ``bytes``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import parse_qsl

import bech32

ADDRESS_LENGTH = 16
SUBADDRESS_LENGTH = 8
ZERO_SUBADDRESS = bytes(SUBADDRESS_LENGTH)
IDENTIFIER_VERSION = 1
U64_MAX = (1 << 64) - 1

MAINNET_HRP = "dm"
TESTNET_HRP = "tdm"
PREMAINNET_HRP = "pdm"
DRY_RUN_MAINNET_HRP = "ddm"
KNOWN_HRPS = frozenset({MAINNET_HRP, TESTNET_HRP, PREMAINNET_HRP, DRY_RUN_MAINNET_HRP})
CHAIN_ID_HRPS: dict[int, str] = {
    1: MAINNET_HRP,
    2: TESTNET_HRP,
    3: TESTNET_HRP,
    4: TESTNET_HRP,
    5: PREMAINNET_HRP,
}

INTENT_SCHEME = "diem"
DIEM_ID_USER_MAX_LENGTH = 64
DIEM_ID_DOMAIN_MAX_LENGTH = 63
_CHECKSUM_LENGTH = 6
_DATA_CHARS = 39  # ceil(24 bytes * 8 / 5)
_DIEM_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.")


class SubaddressError(ValueError):
    """A subaddress that is not 8 bytes."""


class AccountIdentifierError(ValueError):
    """A string that is not a valid DIP-5 account identifier for the expected network."""


class IntentError(ValueError):
    """A string that is not a valid ``diem://`` intent URI, or values that cannot make one."""


class DiemIdError(ValueError):
    """A string that is not a valid ``user@domain`` Diem ID."""


# --- subaddresses ----------------------------------------------------------------------------


def generate_subaddress() -> bytes:
    """A random non-zero subaddress."""
    while True:
        subaddress = secrets.token_bytes(SUBADDRESS_LENGTH)
        if subaddress != ZERO_SUBADDRESS:
            return subaddress


def check_subaddress(subaddress: bytes) -> None:
    """Raise :class:`SubaddressError` unless ``subaddress`` is 8 bytes."""
    if not isinstance(subaddress, bytes) or len(subaddress) != SUBADDRESS_LENGTH:
        size = len(subaddress) if isinstance(subaddress, bytes) else type(subaddress).__name__
        raise SubaddressError(f"subaddress must be {SUBADDRESS_LENGTH} bytes, got {size}")


def subaddress_to_wire(subaddress: bytes | None) -> bytes:
    """None becomes 8 zero bytes; anything else must already be 8 bytes."""
    if subaddress is None:
        return ZERO_SUBADDRESS
    check_subaddress(subaddress)
    return subaddress


def subaddress_from_wire(subaddress: bytes) -> bytes | None:
    """8 zero bytes become None."""
    check_subaddress(subaddress)
    return None if subaddress == ZERO_SUBADDRESS else subaddress


# --- account identifiers ---------------------------------------------------------------------


def hrp_for_chain_id(chain_id: int) -> str:
    """The HRP identifiers use on the chain with ``chain_id``."""
    try:
        return CHAIN_ID_HRPS[chain_id]
    except KeyError:
        known = ", ".join(str(key) for key in sorted(CHAIN_ID_HRPS))
        raise AccountIdentifierError(
            f"no account identifier HRP for chain id {chain_id!r} (known: {known})"
        ) from None


def _check_hrp(hrp: str) -> None:
    if hrp not in KNOWN_HRPS:
        known = ", ".join(sorted(KNOWN_HRPS))
        raise AccountIdentifierError(f"unknown HRP {hrp!r}; expected one of {known}")


@dataclass(frozen=True, slots=True)
class AccountIdentifier:
    """An on-chain address, an optional subaddress and the network HRP they are written for."""

    address: bytes
    subaddress: bytes | None
    hrp: str

    def __post_init__(self) -> None:
        if not isinstance(self.address, bytes) or len(self.address) != ADDRESS_LENGTH:
            size = len(self.address) if isinstance(self.address, bytes) else type(self.address).__name__
            raise AccountIdentifierError(f"account address must be {ADDRESS_LENGTH} bytes, got {size}")
        if self.subaddress is not None:
            check_subaddress(self.subaddress)
            if self.subaddress == ZERO_SUBADDRESS:
                object.__setattr__(self, "subaddress", None)  # one representation of "none"
        _check_hrp(self.hrp)

    def encode(self) -> str:
        return encode_account_identifier(self.address, self.subaddress, self.hrp)

    def __str__(self) -> str:
        return self.encode()


def encode_account_identifier(address: bytes, subaddress: bytes | None, hrp: str) -> str:
    """Bech32 of version 1 and ``address || subaddress`` (zero subaddress for None)."""
    if not isinstance(address, bytes) or len(address) != ADDRESS_LENGTH:
        size = len(address) if isinstance(address, bytes) else type(address).__name__
        raise AccountIdentifierError(f"account address must be {ADDRESS_LENGTH} bytes, got {size}")
    _check_hrp(hrp)
    payload = address + subaddress_to_wire(subaddress)
    five_bit = bech32.convertbits(payload, 8, 5, True)
    assert five_bit is not None  # bytes are always 8-bit values
    return bech32.bech32_encode(hrp, [IDENTIFIER_VERSION, *five_bit])


def decode_account_identifier(text: str, hrp: str) -> AccountIdentifier:
    """Parse ``text``, which must be an identifier for the network of ``hrp``."""
    _check_hrp(hrp)
    if text != text.lower() and text != text.upper():
        raise AccountIdentifierError(f"account identifier mixes upper and lower case: {text!r}")
    lowered = text.lower()
    separator = lowered.rfind("1")
    if separator < 1:
        raise AccountIdentifierError(f"account identifier has no HRP and '1' separator: {text!r}")
    if lowered[:separator] != hrp:
        raise AccountIdentifierError(
            f"account identifier is for HRP {lowered[:separator]!r}, expected {hrp!r}: {text!r}"
        )
    data_part = lowered[separator + 1 :]
    expected_chars = 1 + _DATA_CHARS + _CHECKSUM_LENGTH
    if len(data_part) != expected_chars:
        raise AccountIdentifierError(
            f"account identifier must be {len(hrp) + 1 + expected_chars} characters, got {len(text)}: {text!r}"
        )
    values = []
    for position, char in enumerate(data_part, start=separator + 1):
        value = bech32.CHARSET.find(char)
        if value < 0:
            raise AccountIdentifierError(
                f"invalid Bech32 character {char!r} at position {position}: {text!r}"
            )
        values.append(value)
    if not bech32.bech32_verify_checksum(hrp, values):
        raise AccountIdentifierError(f"account identifier checksum is wrong: {text!r}")
    if values[0] != IDENTIFIER_VERSION:
        raise AccountIdentifierError(
            f"account identifier version is {values[0]}, expected {IDENTIFIER_VERSION} ('p'): {text!r}"
        )
    payload = bech32.convertbits(values[1:-_CHECKSUM_LENGTH], 5, 8, False)
    if payload is None:
        raise AccountIdentifierError(f"account identifier has non-zero padding bits: {text!r}")
    return AccountIdentifier(bytes(payload[:ADDRESS_LENGTH]), bytes(payload[ADDRESS_LENGTH:]), hrp)


# --- intent URIs -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Intent:
    """A payment request: who is paid, and optionally in which currency and how much."""

    account: AccountIdentifier
    currency: str | None = None
    amount: int | None = None

    def __post_init__(self) -> None:
        if self.currency is not None:
            _check_currency(self.currency)
        if self.amount is not None:
            _check_amount(self.amount)

    def encode(self) -> str:
        return encode_intent(self.account.encode(), self.currency, self.amount)


def _check_currency(currency: str) -> None:
    if not isinstance(currency, str) or not currency.isascii() or not currency.isalnum():
        raise IntentError(f"currency code must be ASCII letters and digits, got {currency!r}")


def _check_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= U64_MAX:
        raise IntentError(f"amount must be an integer in 1..2^64-1, got {amount!r}")


def encode_intent(account_identifier: str, currency: str | None = None, amount: int | None = None) -> str:
    """``diem://<id>[?c=<currency>][&am=<amount>]``; an amount of 0 or None is left out."""
    if not account_identifier or not account_identifier.isascii() or not account_identifier.isalnum():
        raise IntentError(f"not an encoded account identifier: {account_identifier!r}")
    params = []
    if currency is not None:
        _check_currency(currency)
        params.append(f"c={currency}")
    if amount is not None and amount != 0:
        _check_amount(amount)
        params.append(f"am={amount}")
    query = "?" + "&".join(params) if params else ""
    return f"{INTENT_SCHEME}://{account_identifier}{query}"


def decode_intent(uri: str, hrp: str) -> Intent:
    """Parse a ``diem://`` URI whose account identifier is for the network of ``hrp``."""
    scheme, separator, rest = uri.partition("://")
    if not separator or scheme.lower() != INTENT_SCHEME:
        raise IntentError(f"intent URI must start with '{INTENT_SCHEME}://': {uri!r}")
    if "#" in rest:
        raise IntentError(f"intent URI must not have a fragment: {uri!r}")
    identifier, _, query = rest.partition("?")
    if "/" in identifier:
        raise IntentError(f"intent URI must not have a path after the account identifier: {uri!r}")
    try:
        account = decode_account_identifier(identifier, hrp)
    except AccountIdentifierError as exc:
        raise IntentError(f"intent URI has an invalid account identifier: {exc}") from None
    params = _parse_query(query, uri)
    currency = params.get("c")
    amount_text = params.get("am")
    amount = None if amount_text is None else _parse_amount(amount_text, uri)
    if currency is not None:
        _check_currency(currency)
    return Intent(account, currency, amount)


def _parse_query(query: str, uri: str) -> dict[str, str]:
    """Query parameters as a dict; a repeated name is an error."""
    if not query:
        return {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise IntentError(f"intent URI has a malformed query: {uri!r}") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise IntentError(f"intent URI repeats parameter {name!r}: {uri!r}")
        params[name] = value
    return params


def _parse_amount(text: str, uri: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise IntentError(f"intent URI amount must be a decimal integer, got {text!r}: {uri!r}")
    amount = int(text)
    if not 0 < amount <= U64_MAX:
        raise IntentError(f"intent URI amount must be in 1..2^64-1, got {text}: {uri!r}")
    return amount


# --- Diem IDs --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiemId:
    """``user@domain``; the domain names a VASP registered on chain."""

    user: str
    domain: str

    def __post_init__(self) -> None:
        _check_diem_id_part(self.user, "user", DIEM_ID_USER_MAX_LENGTH)
        _check_diem_id_part(self.domain, "domain", DIEM_ID_DOMAIN_MAX_LENGTH)

    def __str__(self) -> str:
        return f"{self.user}@{self.domain}"


def _check_diem_id_part(part: str, what: str, max_length: int) -> None:
    if not part:
        raise DiemIdError(f"Diem ID {what} is empty")
    if len(part) > max_length:
        raise DiemIdError(f"Diem ID {what} is {len(part)} characters, at most {max_length} allowed")
    bad = sorted(set(part) - _DIEM_ID_CHARS)
    if bad:
        raise DiemIdError(f"Diem ID {what} may hold only ASCII letters, digits and '.', found {bad[0]!r}")


def parse_diem_id(text: str) -> DiemId:
    """Split ``user@domain`` and check both parts."""
    user, separator, domain = text.partition("@")
    if not separator:
        raise DiemIdError(f"Diem ID must look like user@domain, got {text!r}")
    return DiemId(user, domain)


def is_diem_id(text: str) -> bool:
    """True iff ``text`` parses as a Diem ID."""
    try:
        parse_diem_id(text)
    except DiemIdError:
        return False
    return True
