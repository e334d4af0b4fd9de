"""Authentication keys, addresses, event keys and the travel-rule signing message.

Rules (diem-protocol.md §7, §11):

* authentication key = ``sha3_256(public_key_bytes || scheme)`` with scheme
  ``00`` for Ed25519 and ``01`` for MultiEd25519 (whose key bytes are
  ``pk_1 || ... || pk_n || threshold``);
* account address = the last 16 bytes of the authentication key;
  authentication key prefix = the first 16 bytes;
* event key = creation number (u64 little-endian) || owning address (24 bytes);
* dual-attestation (travel rule) message = ``metadata || payer address (16) ||
  amount (u64 LE) || b"@@$$DIEM_ATTEST$$@@"``, signed with Ed25519 by the
  payee's compliance key.

Addresses are plain 16-byte ``bytes`` here, so this module stands below the
wire types that wrap them.
"""

from __future__ import annotations

from libra.crypto.ed25519 import Ed25519PrivateKey, Ed25519PublicKey, Ed25519Signature, verify_signature
from libra.crypto.hashing import sha3_256
from libra.crypto.multi_ed25519 import MultiEd25519PublicKey

ED25519_SCHEME = 0
MULTI_ED25519_SCHEME = 1
AUTH_KEY_LENGTH = 32
ADDRESS_LENGTH = 16
AUTH_KEY_PREFIX_LENGTH = AUTH_KEY_LENGTH - ADDRESS_LENGTH
EVENT_KEY_LENGTH = 8 + ADDRESS_LENGTH
U64_MAX = (1 << 64) - 1
TRAVEL_RULE_DOMAIN_SEPARATOR = b"@@$$DIEM_ATTEST$$@@"


class AuthKeyError(ValueError):
    """A wrong-sized authentication key, address or event key, or an out-of-range number."""


def _check_length(data: bytes, length: int, what: str) -> None:
    if len(data) != length:
        raise AuthKeyError(f"{what} must be {length} bytes, got {len(data)}")


def _check_u64(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= U64_MAX:
        raise AuthKeyError(f"{what} must be an integer in 0..2^64-1, got {value!r}")


def compute_auth_key(public_key: Ed25519PublicKey | MultiEd25519PublicKey) -> bytes:
    """``sha3_256(key bytes || scheme byte)`` for either key kind."""
    if isinstance(public_key, Ed25519PublicKey):
        return sha3_256(public_key.data + bytes([ED25519_SCHEME]))
    return sha3_256(public_key.to_bytes() + bytes([MULTI_ED25519_SCHEME]))


def compute_address(auth_key: bytes) -> bytes:
    """The account address: last 16 bytes of a 32-byte authentication key."""
    _check_length(auth_key, AUTH_KEY_LENGTH, "authentication key")
    return auth_key[AUTH_KEY_PREFIX_LENGTH:]


def compute_auth_key_prefix(auth_key: bytes) -> bytes:
    """The prefix given at account creation: first 16 bytes of the authentication key."""
    _check_length(auth_key, AUTH_KEY_LENGTH, "authentication key")
    return auth_key[:AUTH_KEY_PREFIX_LENGTH]


def compute_address_of_key(public_key: Ed25519PublicKey | MultiEd25519PublicKey) -> bytes:
    """The address an account created for ``public_key`` gets."""
    return compute_address(compute_auth_key(public_key))


def join_auth_key(prefix: bytes, address: bytes) -> bytes:
    """``prefix || address``: the authentication key stored when an account is created."""
    _check_length(prefix, AUTH_KEY_PREFIX_LENGTH, "authentication key prefix")
    _check_length(address, ADDRESS_LENGTH, "account address")
    return prefix + address


def compute_event_key(creation_number: int, address: bytes) -> bytes:
    """``creation_number`` (u64 LE) || ``address``: the key of an account's event stream."""
    _check_u64(creation_number, "event creation number")
    _check_length(address, ADDRESS_LENGTH, "account address")
    return creation_number.to_bytes(8, "little") + address


def split_event_key(event_key: bytes) -> tuple[int, bytes]:
    """The (creation number, address) an event key is made of."""
    _check_length(event_key, EVENT_KEY_LENGTH, "event key")
    return int.from_bytes(event_key[:8], "little"), event_key[8:]


def compute_travel_rule_message(metadata: bytes, payer_address: bytes, amount: int) -> bytes:
    """The bytes the payee's compliance key signs for a dual-attested payment."""
    _check_length(payer_address, ADDRESS_LENGTH, "payer address")
    _check_u64(amount, "amount")
    return metadata + payer_address + amount.to_bytes(8, "little") + TRAVEL_RULE_DOMAIN_SEPARATOR


def sign_travel_rule(
    compliance_key: Ed25519PrivateKey, metadata: bytes, payer_address: bytes, amount: int
) -> Ed25519Signature:
    """The payee's signature over :func:`compute_travel_rule_message`."""
    return compliance_key.sign(compute_travel_rule_message(metadata, payer_address, amount))


def is_travel_rule_signature_valid(
    compliance_key: Ed25519PublicKey, signature: bytes, metadata: bytes, payer_address: bytes, amount: int
) -> bool:
    """True iff ``signature`` (64 raw bytes) attests this payment under ``compliance_key``."""
    message = compute_travel_rule_message(metadata, payer_address, amount)
    return verify_signature(compliance_key.data, message, signature)
