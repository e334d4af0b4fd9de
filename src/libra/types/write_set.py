"""Write sets, contract events and change sets.

Layouts::

    AccessPath    = address ‖ path: bytes
    WriteOp       = enum { 0 Deletion, 1 Value(bytes) }
    WriteSet      = Vec<(AccessPath, WriteOp)>
    EventKey      = bytes (24: creation number u64 LE ‖ address)
    ContractEvent = enum { 0 V0 { key: EventKey, sequence_number: u64,
                                  type_tag: TypeTag, event_data: bytes } }
    ChangeSet     = write_set: WriteSet ‖ events: Vec<ContractEvent>
"""

from __future__ import annotations

from dataclasses import dataclass

from libra.bcs import BcsError, BcsType, Deserializer, Serializer
from libra.types.direct_init import direct_init
from libra.types.move import AccountAddress, TypeTag, deserialize_type_tag, serialize_type_tag

EVENT_KEY_LENGTH = 24


@direct_init
@dataclass(frozen=True, slots=True, order=True)
class EventKey(BcsType):
    """Creation number (u64 LE) followed by the owning account's address."""

    value: bytes

    def __post_init__(self) -> None:
        if len(self.value) != EVENT_KEY_LENGTH:
            raise ValueError(f"event key must be {EVENT_KEY_LENGTH} bytes, got {len(self.value)}")

    @classmethod
    def create(cls, creation_number: int, address: AccountAddress) -> EventKey:
        return cls(creation_number.to_bytes(8, "little") + address.value)

    @classmethod
    def from_hex(cls, text: str) -> EventKey:
        try:
            return cls(bytes.fromhex(text))
        except ValueError:
            raise ValueError(f"event key must be {2 * EVENT_KEY_LENGTH} hex characters: {text!r}") from None

    @property
    def creation_number(self) -> int:
        return int.from_bytes(self.value[:8], "little")

    @property
    def address(self) -> AccountAddress:
        return AccountAddress(self.value[8:])

    def hex(self) -> str:
        return self.value.hex()

    def serialize(self, serializer: Serializer) -> None:
        serializer.bytes(self.value)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> EventKey:
        offset = deserializer.offset
        value = deserializer.bytes("EventKey")
        if len(value) != EVENT_KEY_LENGTH:
            raise BcsError(f"event key of {len(value)} bytes", offset, "EventKey (24 bytes)")
        return cls(value)


@direct_init
@dataclass(frozen=True, slots=True)
class ContractEvent(BcsType):
    key: EventKey
    sequence_number: int
    type_tag: TypeTag
    event_data: bytes

    def serialize(self, serializer: Serializer) -> None:
        serializer.variant(0)
        self.key.serialize(serializer)
        serializer.u64(self.sequence_number)
        serialize_type_tag(serializer, self.type_tag)
        serializer.bytes(self.event_data)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> ContractEvent:
        deserializer.variant(1, "ContractEvent")
        return cls(
            EventKey.deserialize(deserializer),
            deserializer.u64(),
            deserialize_type_tag(deserializer),
            deserializer.bytes("event data"),
        )


@direct_init
@dataclass(frozen=True, slots=True, order=True)
class AccessPath(BcsType):
    address: AccountAddress
    path: bytes

    def serialize(self, serializer: Serializer) -> None:
        self.address.serialize(serializer)
        serializer.bytes(self.path)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> AccessPath:
        return cls(AccountAddress.deserialize(deserializer), deserializer.bytes("access path"))


@direct_init
@dataclass(frozen=True, slots=True)
class WriteOp(BcsType):
    """``value`` None is a deletion; otherwise the new bytes at the access path."""

    value: bytes | None

    @property
    def is_deletion(self) -> bool:
        return self.value is None

    def serialize(self, serializer: Serializer) -> None:
        if self.value is None:
            serializer.variant(0)
        else:
            serializer.variant(1)
            serializer.bytes(self.value)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> WriteOp:
        if deserializer.variant(2, "WriteOp") == 0:
            return cls(None)
        return cls(deserializer.bytes("write value"))


@direct_init
@dataclass(frozen=True, slots=True)
class WriteSet(BcsType):
    entries: tuple[tuple[AccessPath, WriteOp], ...] = ()

    def serialize(self, serializer: Serializer) -> None:
        serializer.sequence(self.entries, _serialize_entry)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> WriteSet:
        return cls(tuple(deserializer.sequence(_deserialize_entry, "write set")))


def _serialize_entry(serializer: Serializer, entry: tuple[AccessPath, WriteOp]) -> None:
    entry[0].serialize(serializer)
    entry[1].serialize(serializer)


def _deserialize_entry(deserializer: Deserializer) -> tuple[AccessPath, WriteOp]:
    return AccessPath.deserialize(deserializer), WriteOp.deserialize(deserializer)


@dataclass(frozen=True, slots=True)
class ChangeSet(BcsType):
    write_set: WriteSet
    events: tuple[ContractEvent, ...] = ()

    def serialize(self, serializer: Serializer) -> None:
        self.write_set.serialize(serializer)
        serializer.sequence(self.events, lambda s, e: e.serialize(s))

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> ChangeSet:
        return cls(
            WriteSet.deserialize(deserializer),
            tuple(deserializer.sequence(ContractEvent.deserialize, "events")),
        )
