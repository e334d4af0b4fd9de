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


# --- fast exact decoding for applying peers' outputs (state sync) -------------------------
#
# Both functions below accept and refuse exactly the bytes the full decoders accept and
# refuse (``BcsError``): a fast path reads the common layouts directly and hands anything
# else (multi-byte lengths, unknown type tags, malformed input) to the full decoder.

# A write: (address bytes, resource path, new value or None for a deletion).
RawWrite = tuple[bytes, bytes, bytes | None]


def write_set_entries(data: bytes) -> list[RawWrite]:
    """The writes of a ``WriteSet``'s BCS bytes, in order; ``BcsError`` exactly where
    ``WriteSet.from_bcs`` raises it."""
    try:
        entries = _write_set_entries_fast(data)
    except IndexError:
        entries = None
    if entries is None:
        return raw_writes(WriteSet.from_bcs(data))
    return entries


def raw_writes(write_set: WriteSet) -> list[RawWrite]:
    """The writes of a decoded ``WriteSet``, in order, as :func:`write_set_entries` gives them."""
    return [(access_path.address.value, access_path.path, op.value) for access_path, op in write_set.entries]


def _write_set_entries_fast(data: bytes) -> list[RawWrite] | None:
    """None unless ``data`` is a canonical write set whose lengths are single ULEB128 bytes
    (values: up to two); IndexError on short input."""
    count = data[0]
    if count >= 0x80:
        return None
    pos = 1
    entries: list[RawWrite] = []
    append = entries.append
    for _ in range(count):
        address = data[pos : pos + 16]
        size = data[pos + 16]
        if size >= 0x80:
            return None
        pos += 17
        path = data[pos : pos + size]
        pos += size
        kind = data[pos]
        pos += 1
        if kind == 0:
            append((address, path, None))
            continue
        if kind != 1:
            return None
        size = data[pos]
        pos += 1
        if size >= 0x80:
            high = data[pos]
            if high == 0 or high >= 0x80:
                return None
            size = (size & 0x7F) | high << 7
            pos += 1
        append((address, path, data[pos : pos + size]))
        pos += size
    # a slice cut short by the end of input leaves ``pos`` past the end: refused here
    return entries if pos == len(data) else None


# Encodings of type tags decoded whole from events before (all valid), bounded.
_EVENT_TAGS: dict[bytes, None] = {}
_EVENT_TAGS_CAP = 1024
# variant 0, key length 24, key, sequence number: the fixed-layout head of every event
_EVENT_HEAD = 2 + EVENT_KEY_LENGTH + 8


def _event_fast(data: bytes, pos: int) -> tuple[int, int] | None:
    """(end of the type tag, end of the event) of the event at ``data[pos:]`` when its tag is
    a non-generic struct tag whose encoding was decoded whole before (BCS is prefix-free: a
    valid encoding there is what the decoder reads) and its data length is one ULEB byte;
    None otherwise (the full decoder is then asked)."""
    try:
        head = pos + _EVENT_HEAD
        if data[pos] == 0 and data[pos + 1] == EVENT_KEY_LENGTH and data[head] == 7:
            module_end = head + 18 + data[head + 17]  # tag 7, address, module length, module
            end = module_end + 2 + data[module_end]  # name length, name, type parameter count
            if data[end - 1] == 0 and data[head:end] in _EVENT_TAGS and data[end] < 0x80:
                stop = end + 1 + data[end]
                if stop <= len(data):
                    return end, stop
    except IndexError:
        pass
    return None


def _learn_event_tag(event: ContractEvent) -> bytes:
    """The encoding of ``event``'s type tag (just decoded whole), remembered for the fast path."""
    serializer = Serializer()
    serialize_type_tag(serializer, event.type_tag)
    tag = serializer.output()
    if len(_EVENT_TAGS) < _EVENT_TAGS_CAP:
        _EVENT_TAGS[tag] = None
    return tag


def read_event_bytes(deserializer: Deserializer) -> bytes:
    """The bytes of the ``ContractEvent`` at the deserializer's position, checked as
    ``ContractEvent.deserialize`` checks them (``BcsError`` exactly where it raises)."""
    data, pos, _ = deserializer.view()
    fast = _event_fast(data, pos)
    if fast is not None:
        deserializer.skip_to(fast[1])
        return data[pos : fast[1]]
    _learn_event_tag(ContractEvent.deserialize(deserializer))
    return deserializer.consumed_since(pos)


def event_head(data: bytes) -> tuple[bytes, int, bytes]:
    """(key, sequence number, type tag encoding) of a ``ContractEvent``'s BCS bytes;
    ``BcsError`` exactly where ``ContractEvent.from_bcs`` raises it (see :func:`_event_fast`)."""
    fast = _event_fast(data, 0)
    if fast is not None and fast[1] == len(data):
        return data[2:26], int.from_bytes(data[26:_EVENT_HEAD], "little"), data[_EVENT_HEAD : fast[0]]
    event = ContractEvent.from_bcs(data)
    return event.key.value, event.sequence_number, _learn_event_tag(event)
