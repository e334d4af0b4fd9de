"""Event payloads, each mirroring the Move event struct Diem emits (diem-protocol.md §4).

A ``ContractEvent`` carries the struct's type tag (``0x1::DiemAccount::SentPaymentEvent``)
and the BCS of the struct. :func:`decode_event_data` turns stored events back
into these classes for the JSON-RPC layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from libra.bcs import BcsError, encode_uleb128
from libra.framework.codec import ADDRESS, BOOL, BYTES, U64, U128, MoveStruct, vector_of
from libra.types.direct_init import direct_init
from libra.types.move import CORE_CODE_ADDRESS, AccountAddress, StructTag, TypeTag


def _tag(module: str, name: str) -> StructTag:
    return StructTag(CORE_CODE_ADDRESS, module, name, ())


def _payment_event_bcs(amount: int, code: bytes, address: AccountAddress, metadata: bytes) -> bytes:
    """amount u64 ‖ currency_code bytes ‖ address ‖ metadata bytes (hot path of every payment)."""
    return b"".join(
        (
            amount.to_bytes(8, "little"),
            encode_uleb128(len(code)),
            code,
            address.value,
            encode_uleb128(len(metadata)),
            metadata,
        )
    )


class EventData(MoveStruct):
    __slots__ = ()
    TYPE_TAG: ClassVar[StructTag]


@direct_init
@dataclass(frozen=True, slots=True)
class SentPaymentEvent(EventData):
    amount: int
    currency_code: bytes
    payee: AccountAddress
    metadata: bytes
    LAYOUT: ClassVar = (U64, BYTES, ADDRESS, BYTES)
    TYPE_TAG: ClassVar = _tag("DiemAccount", "SentPaymentEvent")

    def to_bcs(self) -> bytes:
        return _payment_event_bcs(self.amount, self.currency_code, self.payee, self.metadata)


@direct_init
@dataclass(frozen=True, slots=True)
class ReceivedPaymentEvent(EventData):
    amount: int
    currency_code: bytes
    payer: AccountAddress
    metadata: bytes
    LAYOUT: ClassVar = (U64, BYTES, ADDRESS, BYTES)
    TYPE_TAG: ClassVar = _tag("DiemAccount", "ReceivedPaymentEvent")

    def to_bcs(self) -> bytes:
        return _payment_event_bcs(self.amount, self.currency_code, self.payer, self.metadata)


@dataclass(frozen=True, slots=True)
class CreateAccountEvent(EventData):
    created: AccountAddress
    role_id: int
    LAYOUT: ClassVar = (ADDRESS, U64)
    TYPE_TAG: ClassVar = _tag("DiemAccount", "CreateAccountEvent")


@dataclass(frozen=True, slots=True)
class AdminTransactionEvent(EventData):
    committed_timestamp_secs: int
    LAYOUT: ClassVar = (U64,)
    TYPE_TAG: ClassVar = _tag("DiemAccount", "AdminTransactionEvent")


@dataclass(frozen=True, slots=True)
class MintEvent(EventData):
    amount: int
    currency_code: bytes
    LAYOUT: ClassVar = (U64, BYTES)
    TYPE_TAG: ClassVar = _tag("Diem", "MintEvent")


@dataclass(frozen=True, slots=True)
class BurnEvent(EventData):
    amount: int
    currency_code: bytes
    preburn_address: AccountAddress
    LAYOUT: ClassVar = (U64, BYTES, ADDRESS)
    TYPE_TAG: ClassVar = _tag("Diem", "BurnEvent")


@dataclass(frozen=True, slots=True)
class PreburnEvent(EventData):
    amount: int
    currency_code: bytes
    preburn_address: AccountAddress
    LAYOUT: ClassVar = (U64, BYTES, ADDRESS)
    TYPE_TAG: ClassVar = _tag("Diem", "PreburnEvent")


@dataclass(frozen=True, slots=True)
class CancelBurnEvent(EventData):
    amount: int
    currency_code: bytes
    preburn_address: AccountAddress
    LAYOUT: ClassVar = (U64, BYTES, ADDRESS)
    TYPE_TAG: ClassVar = _tag("Diem", "CancelBurnEvent")


@dataclass(frozen=True, slots=True)
class ToXDXExchangeRateUpdateEvent(EventData):
    currency_code: bytes
    new_to_xdx_exchange_rate: int
    LAYOUT: ClassVar = (BYTES, U64)
    TYPE_TAG: ClassVar = _tag("Diem", "ToXDXExchangeRateUpdateEvent")


@dataclass(frozen=True, slots=True)
class ReceivedMintEvent(EventData):
    currency_code: bytes
    destination_address: AccountAddress
    amount: int
    LAYOUT: ClassVar = (BYTES, ADDRESS, U64)
    TYPE_TAG: ClassVar = _tag("DesignatedDealer", "ReceivedMintEvent")


@dataclass(frozen=True, slots=True)
class ComplianceKeyRotationEvent(EventData):
    new_compliance_public_key: bytes
    time_rotated_seconds: int
    LAYOUT: ClassVar = (BYTES, U64)
    TYPE_TAG: ClassVar = _tag("DualAttestation", "ComplianceKeyRotationEvent")


@dataclass(frozen=True, slots=True)
class BaseUrlRotationEvent(EventData):
    new_base_url: bytes
    time_rotated_seconds: int
    LAYOUT: ClassVar = (BYTES, U64)
    TYPE_TAG: ClassVar = _tag("DualAttestation", "BaseUrlRotationEvent")


@dataclass(frozen=True, slots=True)
class DiemIdDomainEvent(EventData):
    """``removed`` ‖ ``DiemIdDomain { domain }`` ‖ ``address``."""

    removed: bool
    domain: bytes
    address: AccountAddress
    LAYOUT: ClassVar = (BOOL, BYTES, ADDRESS)
    TYPE_TAG: ClassVar = _tag("DiemId", "DiemIdDomainEvent")


@dataclass(frozen=True, slots=True)
class NewBlockEvent(EventData):
    round: int
    proposer: AccountAddress
    previous_block_votes: tuple[AccountAddress, ...]
    time_microseconds: int
    LAYOUT: ClassVar = (U64, ADDRESS, vector_of(ADDRESS), U64)
    TYPE_TAG: ClassVar = _tag("DiemBlock", "NewBlockEvent")


@dataclass(frozen=True, slots=True)
class NewEpochEvent(EventData):
    epoch: int
    LAYOUT: ClassVar = (U64,)
    TYPE_TAG: ClassVar = _tag("DiemConfig", "NewEpochEvent")


@dataclass(frozen=True, slots=True)
class FreezeAccountEvent(EventData):
    initiator_address: AccountAddress
    frozen_address: AccountAddress
    LAYOUT: ClassVar = (ADDRESS, ADDRESS)
    TYPE_TAG: ClassVar = _tag("AccountFreezing", "FreezeAccountEvent")


@dataclass(frozen=True, slots=True)
class UnfreezeAccountEvent(EventData):
    initiator_address: AccountAddress
    unfrozen_address: AccountAddress
    LAYOUT: ClassVar = (ADDRESS, ADDRESS)
    TYPE_TAG: ClassVar = _tag("AccountFreezing", "UnfreezeAccountEvent")


@dataclass(frozen=True, slots=True)
class ReserveAttestationEvent(EventData):
    """A reserve attestation was recorded: the new figures and the supply they cover."""

    currency_code: bytes
    reserve: int
    as_of_usecs: int
    report_hash: bytes
    attester: AccountAddress
    total_value: int
    LAYOUT: ClassVar = (BYTES, U64, U64, BYTES, ADDRESS, U128)
    TYPE_TAG: ClassVar = _tag("Reserve", "ReserveAttestationEvent")


@dataclass(frozen=True, slots=True)
class FundsSeizedEvent(EventData):
    """A lawful order was executed on a frozen account's funds.

    Only the order's reference hash is on chain (no names or case details); ``destination``
    is the receiving account, or ``0x0`` when the funds were burned.
    """

    order_hash: bytes
    target: AccountAddress
    destination: AccountAddress
    currency_code: bytes
    amount: int
    burned: bool
    LAYOUT: ClassVar = (BYTES, ADDRESS, ADDRESS, BYTES, U64, BOOL)
    TYPE_TAG: ClassVar = _tag("LawfulOrder", "FundsSeizedEvent")


EVENT_TYPES: dict[StructTag, type[EventData]] = {
    cls.TYPE_TAG: cls
    for cls in (
        SentPaymentEvent, ReceivedPaymentEvent, CreateAccountEvent, AdminTransactionEvent, MintEvent,
        BurnEvent, PreburnEvent, CancelBurnEvent, ToXDXExchangeRateUpdateEvent, ReceivedMintEvent,
        ComplianceKeyRotationEvent, BaseUrlRotationEvent, DiemIdDomainEvent, NewBlockEvent,
        NewEpochEvent, FreezeAccountEvent, UnfreezeAccountEvent, ReserveAttestationEvent, FundsSeizedEvent,
    )
}


def decode_event_data(type_tag: TypeTag, data: bytes) -> EventData | None:
    """The typed payload of a stored event, or None for unknown types or malformed bytes."""
    cls = EVENT_TYPES.get(type_tag) if isinstance(type_tag, StructTag) else None
    if cls is None:
        return None
    try:
        return cls.from_bcs(data)
    except (BcsError, ValueError):
        return None


def event_data_fields(event: EventData) -> dict[str, Any]:
    """Field name → value, for views that render events."""
    names: tuple[str, ...] = getattr(event, "__slots__")  # noqa: B009 - the dataclass's field names
    return {name: getattr(event, name) for name in names}
