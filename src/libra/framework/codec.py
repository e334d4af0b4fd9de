"""BCS layouts of Move values, and the base class of on-chain resources.

A Move struct is encoded as its fields in declaration order; a struct without
fields carries Move's implicit ``dummy_field: bool``. Each resource class lists
one codec per field in ``LAYOUT`` (same order as its dataclass fields), so the
class body reads like the Move declaration it mirrors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Self, TypeVar

from libra.bcs import Deserializer, Serializer
from libra.types.direct_init import direct_init
from libra.types.move import AccountAddress

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Codec(Generic[T]):
    """How one Move value type is written and read."""

    encode: Callable[[Serializer, T], None]
    decode: Callable[[Deserializer], T]


U8: Codec[int] = Codec(Serializer.u8, Deserializer.u8)
U64: Codec[int] = Codec(Serializer.u64, Deserializer.u64)
U128: Codec[int] = Codec(Serializer.u128, Deserializer.u128)
BOOL: Codec[bool] = Codec(Serializer.bool, Deserializer.bool)
BYTES: Codec[bytes] = Codec(Serializer.bytes, lambda d: d.bytes())
ADDRESS: Codec[AccountAddress] = Codec(lambda s, a: s.raw(a.value), AccountAddress.deserialize)


def option_of(inner: Codec[T]) -> Codec[T | None]:
    return Codec(lambda s, v: s.option(v, inner.encode), lambda d: d.option(inner.decode))


def vector_of(inner: Codec[T]) -> Codec[tuple[T, ...]]:
    return Codec(lambda s, v: s.sequence(v, inner.encode), lambda d: tuple(d.sequence(inner.decode)))


class MoveStruct:
    """A frozen dataclass whose BCS layout is ``LAYOUT`` (one codec per field)."""

    __slots__ = ()
    LAYOUT: ClassVar[tuple[Codec[Any], ...]] = ()

    def serialize(self, serializer: Serializer) -> None:
        names: tuple[str, ...] = getattr(self, "__slots__")  # noqa: B009 - the dataclass's field names
        for codec, name in zip(self.LAYOUT, names, strict=True):
            codec.encode(serializer, getattr(self, name))

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> Self:
        return cls(*[codec.decode(deserializer) for codec in cls.LAYOUT])

    def to_bcs(self) -> bytes:
        serializer = Serializer()
        self.serialize(serializer)
        return serializer.output()

    @classmethod
    def from_bcs(cls, data: bytes) -> Self:
        deserializer = Deserializer(data)
        value = cls.deserialize(deserializer)
        deserializer.finish()
        return value

    @classmethod
    def codec(cls) -> Codec[Self]:
        return Codec(lambda s, v: v.serialize(s), cls.deserialize)


@direct_init
@dataclass(frozen=True, slots=True)
class EventHandle(MoveStruct):
    """``Event::EventHandle``: events emitted so far and the 24-byte key (``guid``)."""

    counter: int
    guid: bytes
    LAYOUT: ClassVar = (U64, BYTES)

    def bumped(self) -> EventHandle:
        return EventHandle(self.counter + 1, self.guid)


EVENT_HANDLE: Codec[EventHandle] = EventHandle.codec()
