"""Domain-separated SHA3-256 hashing, Diem's one hashing entry point.

Every hashed value is ``sha3_256(seed(TypeName) || bytes)`` where
``seed(TypeName) = sha3_256(b"DIEM::" + TypeName)`` (diem-protocol.md §7).
Never hash ad-hoc encodings: hash the canonical BCS bytes of a wire type under
the salt named after that type.
"""

from __future__ import annotations

import hashlib
from functools import cache

HASH_LENGTH = 32
ZERO_HASH = bytes(HASH_LENGTH)
HASH_SALT_PREFIX = b"DIEM::"


@cache
def hash_seed(type_name: str) -> bytes:
    """The 32-byte salt for values of ``type_name``."""
    return hashlib.sha3_256(HASH_SALT_PREFIX + type_name.encode("ascii")).digest()


def hash_with_salt(type_name: str, data: bytes) -> bytes:
    """SHA3-256 of ``data`` under the domain-separation salt of ``type_name``."""
    hasher = hashlib.sha3_256(hash_seed(type_name))
    hasher.update(data)
    return hasher.digest()


def sha3_256(data: bytes) -> bytes:
    """Plain SHA3-256, used where Diem hashes without a salt (auth keys, script code)."""
    return hashlib.sha3_256(data).digest()


def signing_message(raw_transaction_bcs: bytes) -> bytes:
    """What an Ed25519 key signs for a transaction: seed("RawTransaction") ‖ BCS(raw)."""
    return hash_seed("RawTransaction") + raw_transaction_bcs


def transaction_hash(transaction_bcs: bytes) -> bytes:
    """Hash of a ledger ``Transaction`` (user transactions: ``00`` ‖ signed-txn bytes)."""
    return hash_with_salt("Transaction", transaction_bcs)


def user_transaction_hash(signed_transaction_bcs: bytes) -> bytes:
    """Hash of ``Transaction::UserTransaction(signed)``, the ``hash`` wallets wait for."""
    return hash_with_salt("Transaction", b"\x00" + signed_transaction_bcs)
