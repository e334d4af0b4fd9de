"""MultiEd25519: k-of-n threshold keys and signatures built from Ed25519.

Layouts (diem-protocol.md §5; Diem's ``crypto/src/multi_ed25519.rs``):

* public key = ``pk_1 || ... || pk_n || threshold`` with 1 <= n <= 32 keys of
  32 bytes and one threshold byte, 1 <= threshold <= n; every key is a strict
  Ed25519 public key (duplicates are allowed, as in Diem);
* signature = ``sig_a || sig_b || ...`` (64 bytes each, in increasing key
  index) ``|| bitmap`` (4 bytes); bit ``i`` counted from the most significant
  bit of byte 0 marks key ``i``. The number of set bits must equal the number
  of signatures, and each signature must have a canonical ``S``;
* verification: the highest set bit must name an existing key, at least
  ``threshold`` bits must be set, and every carried signature must verify
  under the key its bit names (extra signatures beyond the threshold are
  verified too, never skipped).

In BCS both are ``bytes`` (length-prefixed); decoding applies the same checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Self

from libra.bcs import BcsError, BcsType, Deserializer, Serializer
from libra.crypto.ed25519 import (
    PUBLIC_KEY_LENGTH,
    SIGNATURE_LENGTH,
    Ed25519Error,
    Ed25519PrivateKey,
    Ed25519PublicKey,
    Ed25519Signature,
    verify_signature,
)

MAX_NUM_OF_KEYS = 32
BITMAP_NUM_OF_BYTES = 4


class MultiEd25519Error(ValueError):
    """Bytes or parts that do not form a valid MultiEd25519 key or signature."""


@dataclass(frozen=True, slots=True)
class MultiEd25519PublicKey(BcsType):
    """``n`` Ed25519 keys (1..32) and a threshold ``k`` (1..n)."""

    public_keys: tuple[Ed25519PublicKey, ...]
    threshold: int

    def __post_init__(self) -> None:
        count = len(self.public_keys)
        if not 1 <= count <= MAX_NUM_OF_KEYS:
            raise MultiEd25519Error(f"MultiEd25519 needs 1 to {MAX_NUM_OF_KEYS} public keys, got {count}")
        if not 1 <= self.threshold <= count:
            raise MultiEd25519Error(
                f"MultiEd25519 threshold must be between 1 and {count}, got {self.threshold}"
            )

    @classmethod
    def from_keys(cls, public_keys: Iterable[Ed25519PublicKey], threshold: int) -> Self:
        return cls(tuple(public_keys), threshold)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Parse ``pk_1 || ... || pk_n || threshold``."""
        count, remainder = divmod(len(data), PUBLIC_KEY_LENGTH)
        if remainder != 1 or not 1 <= count <= MAX_NUM_OF_KEYS:
            raise MultiEd25519Error(
                f"MultiEd25519 public key must be 32*n + 1 bytes with 1 <= n <= {MAX_NUM_OF_KEYS}, "
                f"got {len(data)} bytes"
            )
        keys = []
        for index in range(count):
            chunk = data[index * PUBLIC_KEY_LENGTH : (index + 1) * PUBLIC_KEY_LENGTH]
            try:
                keys.append(Ed25519PublicKey(bytes(chunk)))
            except Ed25519Error as exc:
                raise MultiEd25519Error(f"MultiEd25519 public key {index}: {exc}") from None
        return cls(tuple(keys), data[-1])

    def to_bytes(self) -> bytes:
        return b"".join(key.data for key in self.public_keys) + bytes([self.threshold])

    def hex(self) -> str:
        return self.to_bytes().hex()

    def verify(self, message: bytes, signature: MultiEd25519Signature) -> bool:
        """True iff ``signature`` carries at least ``threshold`` valid signatures of ``message``."""
        indices = signature.signer_indices()
        if not indices or indices[-1] >= len(self.public_keys):
            return False
        if len(indices) < self.threshold:
            return False
        return all(
            verify_signature(self.public_keys[index].data, message, sig.data)
            for index, sig in zip(indices, signature.signatures, strict=True)
        )

    def serialize(self, serializer: Serializer) -> None:
        serializer.bytes(self.to_bytes())

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> Self:
        start = deserializer.offset
        data = deserializer.bytes("MultiEd25519PublicKey")
        try:
            return cls.from_bytes(data)
        except MultiEd25519Error as exc:
            raise BcsError(str(exc), start, "MultiEd25519PublicKey") from None


def _bit_is_set(bitmap: bytes | bytearray, index: int) -> bool:
    """Bit ``index`` counted from the most significant bit of byte 0."""
    return bool(bitmap[index // 8] & (0x80 >> (index % 8)))


@dataclass(frozen=True, slots=True)
class MultiEd25519Signature(BcsType):
    """Signatures in increasing key-index order and the 4-byte bitmap naming their keys."""

    signatures: tuple[Ed25519Signature, ...]
    bitmap: bytes

    def __post_init__(self) -> None:
        if len(self.bitmap) != BITMAP_NUM_OF_BYTES:
            raise MultiEd25519Error(
                f"MultiEd25519 bitmap must be {BITMAP_NUM_OF_BYTES} bytes, got {len(self.bitmap)}"
            )
        if len(self.signatures) > MAX_NUM_OF_KEYS:
            raise MultiEd25519Error(
                f"MultiEd25519 signature carries {len(self.signatures)} signatures, at most {MAX_NUM_OF_KEYS} allowed"
            )
        ones = sum(bin(byte).count("1") for byte in self.bitmap)
        if ones != len(self.signatures):
            raise MultiEd25519Error(
                f"MultiEd25519 bitmap marks {ones} keys but {len(self.signatures)} signatures are given"
            )

    @classmethod
    def from_signatures(cls, indexed: Iterable[tuple[int, Ed25519Signature]]) -> Self:
        """Build from ``(key_index, signature)`` pairs in any order; indices must be distinct."""
        pairs = sorted(indexed, key=lambda pair: pair[0])
        bitmap = bytearray(BITMAP_NUM_OF_BYTES)
        for index, _ in pairs:
            if not 0 <= index < MAX_NUM_OF_KEYS:
                raise MultiEd25519Error(
                    f"MultiEd25519 signer index {index} is outside 0..{MAX_NUM_OF_KEYS - 1}"
                )
            if _bit_is_set(bitmap, index):
                raise MultiEd25519Error(f"MultiEd25519 signer index {index} appears twice")
            bitmap[index // 8] |= 0x80 >> (index % 8)
        return cls(tuple(sig for _, sig in pairs), bytes(bitmap))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Parse ``sig_a || sig_b || ... || bitmap``."""
        body = len(data) - BITMAP_NUM_OF_BYTES
        count, remainder = divmod(body, SIGNATURE_LENGTH)
        if body < 0 or remainder != 0 or count > MAX_NUM_OF_KEYS:
            raise MultiEd25519Error(
                f"MultiEd25519 signature must be 64*k + 4 bytes with k <= {MAX_NUM_OF_KEYS}, got {len(data)} bytes"
            )
        signatures = []
        for index in range(count):
            chunk = data[index * SIGNATURE_LENGTH : (index + 1) * SIGNATURE_LENGTH]
            try:
                signatures.append(Ed25519Signature(bytes(chunk)))
            except Ed25519Error as exc:
                raise MultiEd25519Error(f"MultiEd25519 signature {index}: {exc}") from None
        return cls(tuple(signatures), bytes(data[body:]))

    def signer_indices(self) -> list[int]:
        """Key indices marked in the bitmap, increasing."""
        return [index for index in range(8 * BITMAP_NUM_OF_BYTES) if _bit_is_set(self.bitmap, index)]

    def to_bytes(self) -> bytes:
        return b"".join(sig.data for sig in self.signatures) + self.bitmap

    def hex(self) -> str:
        return self.to_bytes().hex()

    def serialize(self, serializer: Serializer) -> None:
        serializer.bytes(self.to_bytes())

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> Self:
        start = deserializer.offset
        data = deserializer.bytes("MultiEd25519Signature")
        try:
            return cls.from_bytes(data)
        except MultiEd25519Error as exc:
            raise BcsError(str(exc), start, "MultiEd25519Signature") from None


def sign_multi(message: bytes, signers: Sequence[tuple[int, Ed25519PrivateKey]]) -> MultiEd25519Signature:
    """Sign ``message`` with each ``(key_index, private_key)`` and assemble the multi-signature."""
    return MultiEd25519Signature.from_signatures((index, key.sign(message)) for index, key in signers)
