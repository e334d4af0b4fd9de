"""Payment metadata: the BCS enum ``Metadata`` carried by peer-to-peer payments (DIP-4).

Layout (diem-protocol.md §12); every variant but ``Undefined`` and
``UnstructuredBytesMetadata`` wraps a version enum whose only variant is V0,
so on the wire a V0 value is ``variant index || 00 || fields``:

====  ===========================  =================================================================
 idx  variant                      fields (in order)
====  ===========================  =================================================================
  0   Undefined                    --
  1   GeneralMetadata V0           to_subaddress: Option<bytes>, from_subaddress: Option<bytes>,
                                   referenced_event: Option<u64>   (``to`` comes before ``from``)
  2   TravelRuleMetadata V0        off_chain_reference_id: Option<String>
  3   UnstructuredBytesMetadata    metadata: Option<bytes>          (no version enum)
  4   RefundMetadata V0            transaction_version: u64, reason: RefundReason
  5   CoinTradeMetadata V0         trade_ids: Vec<String>
  6   PaymentMetadata V0           reference_id: [u8; 16]           (raw UUID bytes, no length)
====  ===========================  =================================================================

Here each V0 struct is itself the ``Metadata`` variant class (``GeneralMetadataV0``
encodes as ``01 00 ...``), so callers handle one flat family of frozen types.
The chain never parses metadata: the suites send arbitrary bytes, and
subaddresses of any length are representable. Decoding is strict (trailing
bytes, unknown variants or versions raise :class:`libra.bcs.BcsError`);
:func:`try_decode_metadata` is the lenient reader for wallets.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Self

from libra.bcs import U64_MAX, BcsError, BcsType, Deserializer, Serializer

REFERENCE_ID_LENGTH = 16


class MetadataError(ValueError):
    """A metadata value that cannot be encoded (a field of the wrong type, size or range)."""


def _check_u64(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= U64_MAX:
        raise MetadataError(f"{what} must be an integer in 0..2^64-1, got {value!r}")


def _check_optional_bytes(value: bytes | None, what: str) -> None:
    if value is not None and not isinstance(value, bytes):
        raise MetadataError(f"{what} must be bytes or None, got {type(value).__name__}")


class Metadata(BcsType):
    """Base of the metadata variants; ``Metadata.from_bcs`` decodes any of them."""

    __slots__ = ()
    VARIANT_INDEX: ClassVar[int]
    VERSION_INDEX: ClassVar[int | None] = 0  # None for variants without a version enum

    def serialize(self, serializer: Serializer) -> None:
        serializer.variant(self.VARIANT_INDEX)
        if self.VERSION_INDEX is not None:
            serializer.variant(self.VERSION_INDEX)
        self.serialize_fields(serializer)

    def serialize_fields(self, serializer: Serializer) -> None:
        """Write the variant's fields (after the variant and version indices)."""

    @classmethod
    def deserialize_fields(cls, deserializer: Deserializer) -> Metadata:
        """Read the variant's fields (after the variant and version indices)."""
        raise NotImplementedError

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> Self:
        start = deserializer.offset
        index = deserializer.variant(len(_VARIANTS), "Metadata")
        variant = _VARIANTS[index]
        if variant.VERSION_INDEX is not None:
            name = variant.__name__.removesuffix("V0")
            deserializer.variant(variant.VERSION_INDEX + 1, f"{name} version")
        value = variant.deserialize_fields(deserializer)
        if not isinstance(value, cls):
            raise BcsError(f"decoded {type(value).__name__}, not {cls.__name__}", start, cls.__name__)
        return value


@dataclass(frozen=True, slots=True)
class UndefinedMetadata(Metadata):
    """Variant 0: metadata with no content."""

    VARIANT_INDEX: ClassVar[int] = 0
    VERSION_INDEX: ClassVar[int | None] = None

    @classmethod
    def deserialize_fields(cls, deserializer: Deserializer) -> Metadata:
        return cls()


@dataclass(frozen=True, slots=True)
class GeneralMetadataV0(Metadata):
    """Variant 1, version 0: subaddresses of payee and payer, and the event being answered."""

    VARIANT_INDEX: ClassVar[int] = 1

    to_subaddress: bytes | None = None
    from_subaddress: bytes | None = None
    referenced_event: int | None = None

    def __post_init__(self) -> None:
        _check_optional_bytes(self.to_subaddress, "to_subaddress")
        _check_optional_bytes(self.from_subaddress, "from_subaddress")
        if self.referenced_event is not None:
            _check_u64(self.referenced_event, "referenced_event")

    def serialize_fields(self, serializer: Serializer) -> None:
        serializer.option(self.to_subaddress, Serializer.bytes)
        serializer.option(self.from_subaddress, Serializer.bytes)
        serializer.option(self.referenced_event, Serializer.u64)

    @classmethod
    def deserialize_fields(cls, deserializer: Deserializer) -> Metadata:
        to_subaddress = deserializer.option(Deserializer.bytes, "to_subaddress")
        from_subaddress = deserializer.option(Deserializer.bytes, "from_subaddress")
        referenced_event = deserializer.option(Deserializer.u64, "referenced_event")
        return cls(to_subaddress, from_subaddress, referenced_event)


@dataclass(frozen=True, slots=True)
class TravelRuleMetadataV0(Metadata):
    """Variant 2, version 0: the off-chain reference id of a dual-attested payment."""

    VARIANT_INDEX: ClassVar[int] = 2

    off_chain_reference_id: str | None = None

    def __post_init__(self) -> None:
        if self.off_chain_reference_id is not None and not isinstance(self.off_chain_reference_id, str):
            raise MetadataError(
                f"off_chain_reference_id must be str or None, got {type(self.off_chain_reference_id).__name__}"
            )

    def serialize_fields(self, serializer: Serializer) -> None:
        serializer.option(self.off_chain_reference_id, Serializer.str)

    @classmethod
    def deserialize_fields(cls, deserializer: Deserializer) -> Metadata:
        return cls(deserializer.option(Deserializer.str, "off_chain_reference_id"))


@dataclass(frozen=True, slots=True)
class UnstructuredBytesMetadata(Metadata):
    """Variant 3 (no version enum): opaque bytes."""

    VARIANT_INDEX: ClassVar[int] = 3
    VERSION_INDEX: ClassVar[int | None] = None

    metadata: bytes | None = None

    def __post_init__(self) -> None:
        _check_optional_bytes(self.metadata, "metadata")

    def serialize_fields(self, serializer: Serializer) -> None:
        serializer.option(self.metadata, Serializer.bytes)

    @classmethod
    def deserialize_fields(cls, deserializer: Deserializer) -> Metadata:
        return cls(deserializer.option(Deserializer.bytes, "metadata"))


class RefundReason(IntEnum):
    """Why a payment is refunded; encoded as a BCS enum of unit variants."""

    OTHER_REASON = 0
    INVALID_SUBADDRESS = 1
    USER_INITIATED_PARTIAL_REFUND = 2
    USER_INITIATED_FULL_REFUND = 3
    INVALID_REFERENCE_ID = 4


@dataclass(frozen=True, slots=True)
class RefundMetadataV0(Metadata):
    """Variant 4, version 0: refund of the payment committed at ``transaction_version``."""

    VARIANT_INDEX: ClassVar[int] = 4

    transaction_version: int
    reason: RefundReason

    def __post_init__(self) -> None:
        _check_u64(self.transaction_version, "transaction_version")
        if not isinstance(self.reason, RefundReason):
            raise MetadataError(f"reason must be a RefundReason, got {self.reason!r}")

    def serialize_fields(self, serializer: Serializer) -> None:
        serializer.u64(self.transaction_version)
        serializer.variant(int(self.reason))

    @classmethod
    def deserialize_fields(cls, deserializer: Deserializer) -> Metadata:
        version = deserializer.u64()
        reason = deserializer.variant(len(RefundReason), "RefundReason")
        return cls(version, RefundReason(reason))


@dataclass(frozen=True, slots=True)
class CoinTradeMetadataV0(Metadata):
    """Variant 5, version 0: ids of the coin trades a payment settles."""

    VARIANT_INDEX: ClassVar[int] = 5

    trade_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.trade_ids, tuple) or not all(isinstance(item, str) for item in self.trade_ids):
            raise MetadataError(f"trade_ids must be a tuple of str, got {self.trade_ids!r}")

    def serialize_fields(self, serializer: Serializer) -> None:
        serializer.sequence(self.trade_ids, Serializer.str)

    @classmethod
    def deserialize_fields(cls, deserializer: Deserializer) -> Metadata:
        return cls(tuple(deserializer.sequence(Deserializer.str, "trade_ids")))


@dataclass(frozen=True, slots=True)
class PaymentMetadataV0(Metadata):
    """Variant 6, version 0: a 16-byte reference id (UUID bytes), written without a length."""

    VARIANT_INDEX: ClassVar[int] = 6

    reference_id: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.reference_id, bytes) or len(self.reference_id) != REFERENCE_ID_LENGTH:
            size = len(self.reference_id) if isinstance(self.reference_id, bytes) else "non-bytes"
            raise MetadataError(f"reference_id must be {REFERENCE_ID_LENGTH} bytes, got {size}")

    @classmethod
    def from_uuid(cls, reference_id: str | uuid.UUID) -> Self:
        """From a UUID or its text form."""
        if isinstance(reference_id, str):
            try:
                reference_id = uuid.UUID(reference_id)
            except ValueError:
                raise MetadataError(f"reference_id is not a UUID: {reference_id!r}") from None
        return cls(reference_id.bytes)

    def reference_uuid(self) -> uuid.UUID:
        return uuid.UUID(bytes=self.reference_id)

    def serialize_fields(self, serializer: Serializer) -> None:
        serializer.raw(self.reference_id)

    @classmethod
    def deserialize_fields(cls, deserializer: Deserializer) -> Metadata:
        return cls(deserializer.raw(REFERENCE_ID_LENGTH, "reference_id"))


_VARIANTS: tuple[type[Metadata], ...] = (
    UndefinedMetadata,
    GeneralMetadataV0,
    TravelRuleMetadataV0,
    UnstructuredBytesMetadata,
    RefundMetadataV0,
    CoinTradeMetadataV0,
    PaymentMetadataV0,
)


def try_decode_metadata(data: bytes) -> Metadata | None:
    """The metadata in ``data``, or None when it is empty or not canonical BCS ``Metadata``."""
    if not data:
        return None
    try:
        return Metadata.from_bcs(data)
    except BcsError:
        return None
