"""Binary Canonical Serialization (BCS), Diem's wire encoding.

Encoding rules (diem-protocol.md §5):

* integers are little-endian, fixed width; ``bool`` is ``00`` or ``01``;
* sequences, byte strings and strings carry a ULEB128 length (at most 2^31 - 1);
* ``Option<T>`` is ``00`` (None) or ``01`` followed by T;
* enums are a ULEB128 variant index followed by the variant's fields;
* maps are sequences of (key, value) pairs sorted by the key's encoded bytes.

Decoding is strict: every deviation from the canonical form raises
:class:`BcsError` carrying the byte offset and what was expected, so that a
malformed transaction can be refused with a message that says what is wrong.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise
from typing import TypeVar

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

MAX_SEQUENCE_LENGTH = (1 << 31) - 1
# Diem allows 500; Python frames are costlier, and no wire type nests beyond a few levels.
MAX_CONTAINER_DEPTH = 128

U8_MAX = (1 << 8) - 1
U16_MAX = (1 << 16) - 1
U32_MAX = (1 << 32) - 1
U64_MAX = (1 << 64) - 1
U128_MAX = (1 << 128) - 1


class BcsError(ValueError):
    """Bytes that are not the canonical BCS encoding of the expected type."""

    def __init__(self, message: str, offset: int | None = None, expected: str | None = None):
        self.reason = message
        self.offset = offset
        self.expected = expected
        parts = []
        if offset is not None:
            parts.append(f"at byte {offset}")
        if expected:
            parts.append(f"expected {expected}")
        suffix = f" ({', '.join(parts)})" if parts else ""
        super().__init__(f"{message}{suffix}")


class Serializer:
    """Appends BCS encodings to an internal buffer."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def output(self) -> builtins.bytes:
        return b"".join(self._parts)

    def raw(self, data: builtins.bytes) -> None:
        """Fixed-size bytes written without a length (addresses, arrays)."""
        self._parts.append(bytes(data))

    def bool(self, value: builtins.bool) -> None:
        self._parts.append(b"\x01" if value else b"\x00")

    def _uint(self, value: int, width: int, limit: int, name: builtins.str) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= limit:
            raise BcsError(f"{name} out of range: {value!r}")
        self._parts.append(value.to_bytes(width, "little"))

    def u8(self, value: int) -> None:
        self._uint(value, 1, U8_MAX, "u8")

    def u16(self, value: int) -> None:
        self._uint(value, 2, U16_MAX, "u16")

    def u32(self, value: int) -> None:
        self._uint(value, 4, U32_MAX, "u32")

    def u64(self, value: int) -> None:
        self._uint(value, 8, U64_MAX, "u64")

    def u128(self, value: int) -> None:
        self._uint(value, 16, U128_MAX, "u128")

    def uleb128(self, value: int) -> None:
        self._parts.append(encode_uleb128(value))

    def length(self, value: int) -> None:
        if not 0 <= value <= MAX_SEQUENCE_LENGTH:
            raise BcsError(f"sequence length {value} exceeds {MAX_SEQUENCE_LENGTH}")
        self.uleb128(value)

    def variant(self, index: int) -> None:
        self.uleb128(index)

    def bytes(self, data: builtins.bytes) -> None:
        self.length(len(data))
        self._parts.append(bytes(data))

    def str(self, text: builtins.str) -> None:
        self.bytes(text.encode("utf-8"))

    def sequence(self, items: Sequence[T], encode_item: Callable[[Serializer, T], None]) -> None:
        self.length(len(items))
        for item in items:
            encode_item(self, item)

    def bytes_sequence(self, items: Sequence[builtins.bytes]) -> None:
        """``sequence(items, Serializer.bytes)`` in one loop: the same bytes, the same errors."""
        self.length(len(items))
        parts = self._parts
        append = parts.append
        for item in items:
            size = len(item)
            if size < 0x80:
                append(_ULEB128_ONE_BYTE[size])
            elif size < 0x4000:
                append(builtins.bytes((size & 0x7F | 0x80, size >> 7)))
            else:
                self.length(size)
            append(bytes(item))

    def option(self, value: T | None, encode_item: Callable[[Serializer, T], None]) -> None:
        if value is None:
            self._parts.append(b"\x00")
        else:
            self._parts.append(b"\x01")
            encode_item(self, value)

    def map(
        self,
        items: Iterable[tuple[K, V]],
        encode_key: Callable[[Serializer, K], None],
        encode_value: Callable[[Serializer, V], None],
    ) -> None:
        """A map, its entries sorted by the encoded key bytes (BCS canonical order)."""
        encoded = []
        for key, value in items:
            key_bytes = encode_with(encode_key, key)
            encoded.append((key_bytes, encode_with(encode_value, value)))
        encoded.sort(key=lambda pair: pair[0])
        for earlier, later in pairwise(encoded):
            if earlier[0] == later[0]:
                raise BcsError("duplicate map key")
        self.length(len(encoded))
        for key_bytes, value_bytes in encoded:
            self._parts.append(key_bytes)
            self._parts.append(value_bytes)


class Deserializer:
    """Reads BCS values from a byte string, refusing anything non-canonical."""

    __slots__ = ("_data", "_pos", "_depth")

    def __init__(self, data: builtins.bytes) -> None:
        self._data = bytes(data)
        self._pos = 0
        self._depth = 0

    @property
    def offset(self) -> int:
        return self._pos

    def remaining(self) -> int:
        return len(self._data) - self._pos

    def consumed_since(self, offset: int) -> builtins.bytes:
        """The input bytes from ``offset`` to the current position (what was decoded since)."""
        return self._data[offset : self._pos]

    def view(self) -> tuple[builtins.bytes, int, int]:
        """(input, offset, container depth), for a decoder that reads ahead on its own and
        then moves past what it read with :meth:`skip_to`."""
        return self._data, self._pos, self._depth

    def skip_to(self, offset: int) -> None:
        """Continue at ``offset`` (forward only, within the input)."""
        if not self._pos <= offset <= len(self._data):
            raise ValueError(f"cannot skip from offset {self._pos} to {offset}")
        self._pos = offset

    def finish(self) -> None:
        """Raise unless every byte was consumed."""
        if self._pos != len(self._data):
            raise BcsError(
                f"{len(self._data) - self._pos} trailing byte(s) after the value",
                self._pos,
                "end of input",
            )

    def raw(self, size: int, expected: builtins.str = "bytes") -> builtins.bytes:
        if size > len(self._data) - self._pos:
            raise BcsError(
                f"input ends after {len(self._data) - self._pos} byte(s), {size} needed",
                self._pos,
                expected,
            )
        start = self._pos
        self._pos += size
        return self._data[start : self._pos]

    def bool(self) -> builtins.bool:
        offset = self._pos
        byte = self.raw(1, "bool")[0]
        if byte > 1:
            raise BcsError(f"invalid bool byte 0x{byte:02x}", offset, "bool (00 or 01)")
        return byte == 1

    def u8(self) -> int:
        return self.raw(1, "u8")[0]

    def u16(self) -> int:
        return int.from_bytes(self.raw(2, "u16"), "little")

    def u32(self) -> int:
        return int.from_bytes(self.raw(4, "u32"), "little")

    def u64(self) -> int:
        return int.from_bytes(self.raw(8, "u64"), "little")

    def u128(self) -> int:
        return int.from_bytes(self.raw(16, "u128"), "little")

    def uleb128(self, limit: int = U32_MAX, expected: builtins.str = "ULEB128 integer") -> int:
        start = self._pos
        value = 0
        shift = 0
        while True:
            if self._pos >= len(self._data):
                raise BcsError("input ends inside a ULEB128 integer", start, expected)
            byte = self._data[self._pos]
            self._pos += 1
            value |= (byte & 0x7F) << shift
            if byte & 0x80 == 0:
                if byte == 0 and shift > 0:
                    raise BcsError("non-canonical ULEB128 (redundant zero group)", start, expected)
                break
            shift += 7
            if shift > 63:
                raise BcsError("ULEB128 integer too long", start, expected)
        if value > limit:
            raise BcsError(f"ULEB128 value {value} exceeds {limit}", start, expected)
        return value

    def length(self, expected: builtins.str = "sequence length") -> int:
        start = self._pos
        size = self.uleb128(MAX_SEQUENCE_LENGTH, expected)
        if size > len(self._data) - self._pos:
            # Every element takes at least one byte, so a length beyond the
            # remaining input can be refused before anything is allocated.
            raise BcsError(
                f"length {size} exceeds the {len(self._data) - self._pos} byte(s) left",
                start,
                expected,
            )
        return size

    def variant(self, count: int, type_name: builtins.str) -> int:
        start = self._pos
        index = self.uleb128(U32_MAX, f"{type_name} variant index")
        if index >= count:
            raise BcsError(f"unknown {type_name} variant {index}", start, f"{type_name} variant < {count}")
        return index

    def bytes(self, expected: builtins.str = "bytes") -> builtins.bytes:
        size = self.length(f"{expected} length")
        return self.raw(size, expected)

    def str(self, expected: builtins.str = "UTF-8 string") -> builtins.str:
        start = self._pos
        data = self.bytes(expected)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BcsError(f"invalid UTF-8: {exc.reason}", start, expected) from None

    def _enter(self) -> None:
        self._depth += 1
        if self._depth > MAX_CONTAINER_DEPTH:
            raise BcsError("containers nested too deeply", self._pos)

    def _leave(self) -> None:
        self._depth -= 1

    def nested(self, decode: Callable[[Deserializer], T]) -> T:
        """Decode a recursive value (e.g. a type tag inside a type tag) under the depth guard."""
        self._enter()
        try:
            return decode(self)
        finally:
            self._leave()

    def sequence(self, decode_item: Callable[[Deserializer], T], expected: builtins.str = "sequence") -> list[T]:
        size = self.length(f"{expected} length")
        self._enter()
        try:
            return [decode_item(self) for _ in range(size)]
        finally:
            self._leave()

    def bytes_sequence(self, item: builtins.str = "bytes", expected: builtins.str = "sequence") -> list[builtins.bytes]:
        """``sequence(lambda d: d.bytes(item), expected)`` in one loop: the same values, and the
        same errors (an item whose length is not a canonical one- or two-byte ULEB128 that fits
        in the input is read by :meth:`bytes` itself, which raises what it raises)."""
        size = self.length(f"{expected} length")
        self._enter()
        try:
            data = self._data
            end = len(data)
            pos = self._pos
            out: list[builtins.bytes] = []
            append = out.append
            for _ in range(size):
                first = data[pos] if pos < end else 0x80
                if first < 0x80:
                    start = pos + 1
                    stop = start + first
                elif pos + 1 < end and 0 < data[pos + 1] < 0x80:
                    start = pos + 2
                    stop = start + ((first & 0x7F) | (data[pos + 1] << 7))
                else:
                    stop = end + 1
                if stop > end:  # not the common case (or an error): read it the long way
                    self._pos = pos
                    append(self.bytes(item))
                    pos = self._pos
                    continue
                append(data[start:stop])
                pos = stop
            self._pos = pos
            return out
        finally:
            self._leave()

    def option(self, decode_item: Callable[[Deserializer], T], expected: builtins.str = "option") -> T | None:
        offset = self._pos
        tag = self.raw(1, f"{expected} tag")[0]
        if tag == 0:
            return None
        if tag != 1:
            raise BcsError(f"invalid option tag 0x{tag:02x}", offset, f"{expected} tag (00 or 01)")
        self._enter()
        try:
            return decode_item(self)
        finally:
            self._leave()

    def map(
        self,
        decode_key: Callable[[Deserializer], K],
        decode_value: Callable[[Deserializer], V],
        expected: builtins.str = "map",
    ) -> list[tuple[K, V]]:
        """Decode a map, insisting on strictly increasing encoded keys."""
        size = self.length(f"{expected} length")
        entries: list[tuple[K, V]] = []
        previous: builtins.bytes | None = None
        self._enter()
        try:
            for _ in range(size):
                start = self._pos
                key = decode_key(self)
                key_bytes = self._data[start : self._pos]
                if previous is not None and key_bytes <= previous:
                    raise BcsError("map keys not in strictly increasing order", start, expected)
                previous = key_bytes
                entries.append((key, decode_value(self)))
        finally:
            self._leave()
        return entries


_ULEB128_ONE_BYTE = tuple(builtins.bytes((n,)) for n in range(0x80))


def encode_uleb128(value: int) -> builtins.bytes:
    if value.__class__ is int and 0 <= value < 0x4000:  # the usual lengths and variants
        return _ULEB128_ONE_BYTE[value] if value < 0x80 else builtins.bytes((value & 0x7F | 0x80, value >> 7))
    if not isinstance(value, int) or not 0 <= value <= U64_MAX:
        raise BcsError(f"ULEB128 value out of range: {value!r}")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_with(encode: Callable[[Serializer, T], None], value: T) -> builtins.bytes:
    serializer = Serializer()
    encode(serializer, value)
    return serializer.output()


def decode_with(decode: Callable[[Deserializer], T], data: builtins.bytes) -> T:
    """Decode one value that must span ``data`` exactly."""
    deserializer = Deserializer(data)
    value = decode(deserializer)
    deserializer.finish()
    return value


Self = TypeVar("Self", bound="BcsType")


class BcsType:
    """Base of wire types: ``serialize``/``deserialize`` state the layout once.

    Subclasses are ``@dataclass(frozen=True, slots=True)`` and implement both
    methods; ``to_bcs``/``from_bcs`` are the whole-value entry points.
    """

    __slots__ = ()

    def serialize(self, serializer: Serializer) -> None:
        raise NotImplementedError

    @classmethod
    def deserialize(cls: type[Self], deserializer: Deserializer) -> Self:
        raise NotImplementedError

    def to_bcs(self) -> builtins.bytes:
        serializer = Serializer()
        self.serialize(serializer)
        return serializer.output()

    @classmethod
    def from_bcs(cls: type[Self], data: builtins.bytes) -> Self:
        deserializer = Deserializer(data)
        value = cls.deserialize(deserializer)
        deserializer.finish()
        return value
