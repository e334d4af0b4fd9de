"""Move-level names: account addresses, identifiers, type tags and module ids.

Layouts (diem-protocol.md §5)::

    AccountAddress = 16 raw bytes
    Identifier     = String matching [A-Za-z_][A-Za-z0-9_]* (or a lone "_"-led name)
    StructTag      = address ‖ module: Identifier ‖ name: Identifier ‖ type_params: Vec<TypeTag>
    TypeTag        = enum { 0 Bool, 1 U8, 2 U64, 3 U128, 4 Address, 5 Signer,
                            6 Vector(TypeTag), 7 Struct(StructTag) }
    ModuleId       = address ‖ name: Identifier
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from libra.bcs import BcsError, BcsType, Deserializer, Serializer
from libra.types.direct_init import direct_init

ADDRESS_LENGTH = 16
_IDENTIFIER_RE = re.compile(r"(?:[A-Za-z][A-Za-z0-9_]*|_[A-Za-z0-9_]+)")


_INTERNED: dict[bytes, AccountAddress] = {}
_INTERNED_CAP = 65_536


@direct_init
@dataclass(frozen=True, slots=True, order=True)
class AccountAddress(BcsType):
    """A 16-byte account address; shown as 32 lowercase hex characters."""

    value: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.value, bytes) or len(self.value) != ADDRESS_LENGTH:
            raise ValueError(f"account address must be {ADDRESS_LENGTH} bytes, got {self.value!r}")

    @classmethod
    def from_hex(cls, text: str) -> AccountAddress:
        """Parse exactly 32 hex characters, with or without a ``0x`` prefix."""
        digits = text[2:] if text[:2] in ("0x", "0X") else text
        if len(digits) != 2 * ADDRESS_LENGTH:
            raise ValueError(f"account address must be 32 hex characters, got {len(digits)}: {text!r}")
        try:
            return cls(bytes.fromhex(digits))
        except ValueError:
            raise ValueError(f"account address is not hex: {text!r}") from None

    @classmethod
    def from_literal(cls, text: str) -> AccountAddress:
        """Parse a Move literal such as ``0x1`` or ``0xA550C18`` (left-padded with zeros)."""
        if not text.startswith("0x") or not 2 < len(text) <= 2 + 2 * ADDRESS_LENGTH:
            raise ValueError(f"not an address literal: {text!r}")
        return cls.from_hex(text[2:].rjust(2 * ADDRESS_LENGTH, "0"))

    @classmethod
    def interned(cls, value: bytes) -> AccountAddress:
        """``AccountAddress(value)``, made once for the addresses that blocks and submissions
        name again and again (the per-payment paths build one per sender and payee)."""
        address = _INTERNED.get(value)
        if address is None:
            if len(_INTERNED) >= _INTERNED_CAP:
                _INTERNED.clear()  # a miss only builds it again
            address = _INTERNED[value] = cls(value)
        return address

    def hex(self) -> str:
        return self.value.hex()

    def __str__(self) -> str:
        return self.value.hex()

    def serialize(self, serializer: Serializer) -> None:
        serializer.raw(self.value)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> AccountAddress:
        return cls(deserializer.raw(ADDRESS_LENGTH, "AccountAddress (16 bytes)"))


CORE_CODE_ADDRESS = AccountAddress.from_literal("0x1")
DIEM_ROOT_ADDRESS = AccountAddress.from_literal("0xA550C18")
TREASURY_COMPLIANCE_ADDRESS = AccountAddress.from_literal("0xB1E55ED")
TESTNET_DD_ADDRESS = AccountAddress.from_literal("0xDD")
ZERO_ADDRESS = AccountAddress(bytes(ADDRESS_LENGTH))


def is_valid_identifier(name: str) -> bool:
    """Move's identifier rule; the whole name must match (``$`` would let a trailing newline through)."""
    return _IDENTIFIER_RE.fullmatch(name) is not None


def serialize_identifier(serializer: Serializer, name: str) -> None:
    if not is_valid_identifier(name):
        raise BcsError(f"invalid Move identifier {name!r}")
    serializer.str(name)


def deserialize_identifier(deserializer: Deserializer) -> str:
    offset = deserializer.offset
    name = deserializer.str("Identifier")
    if not is_valid_identifier(name):
        raise BcsError(f"invalid Move identifier {name!r}", offset, "Identifier")
    return name


class PrimitiveTag(enum.IntEnum):
    """The TypeTag variants that carry no data; the value is the BCS variant index."""

    BOOL = 0
    U8 = 1
    U64 = 2
    U128 = 3
    ADDRESS = 4
    SIGNER = 5

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class VectorTag:
    element: TypeTag

    def __str__(self) -> str:
        return f"vector<{self.element}>"


@dataclass(frozen=True, slots=True)
class StructTag(BcsType):
    address: AccountAddress
    module: str
    name: str
    type_params: tuple[TypeTag, ...] = ()

    def serialize(self, serializer: Serializer) -> None:
        self.address.serialize(serializer)
        serialize_identifier(serializer, self.module)
        serialize_identifier(serializer, self.name)
        serializer.sequence(self.type_params, serialize_type_tag)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> StructTag:
        return cls(
            AccountAddress.deserialize(deserializer),
            deserialize_identifier(deserializer),
            deserialize_identifier(deserializer),
            tuple(deserializer.sequence(deserialize_type_tag, "type parameters")),
        )

    def __str__(self) -> str:
        params = f"<{', '.join(str(p) for p in self.type_params)}>" if self.type_params else ""
        return f"0x{self.address.hex().lstrip('0') or '0'}::{self.module}::{self.name}{params}"


TypeTag = PrimitiveTag | VectorTag | StructTag
_VECTOR_INDEX = 6
_STRUCT_INDEX = 7


def serialize_type_tag(serializer: Serializer, tag: TypeTag) -> None:
    if isinstance(tag, PrimitiveTag):
        serializer.variant(int(tag))
    elif isinstance(tag, VectorTag):
        serializer.variant(_VECTOR_INDEX)
        serialize_type_tag(serializer, tag.element)
    else:
        serializer.variant(_STRUCT_INDEX)
        tag.serialize(serializer)


def deserialize_type_tag(deserializer: Deserializer) -> TypeTag:
    index = deserializer.variant(8, "TypeTag")
    if index == _VECTOR_INDEX:
        return VectorTag(deserializer.nested(deserialize_type_tag))
    if index == _STRUCT_INDEX:
        return deserializer.nested(StructTag.deserialize)
    return PrimitiveTag(index)


def currency_type_tag(code: str) -> StructTag:
    """``0x1::XUS::XUS``: Diem currencies are a struct named after their module."""
    return StructTag(CORE_CODE_ADDRESS, code, code, ())


def currency_code_of(tag: TypeTag) -> str | None:
    """The currency code named by a type tag, or None when it is not a currency-shaped tag."""
    if (
        isinstance(tag, StructTag)
        and tag.address == CORE_CODE_ADDRESS
        and tag.module == tag.name
        and not tag.type_params
    ):
        return tag.name
    return None


@dataclass(frozen=True, slots=True)
class ModuleId(BcsType):
    address: AccountAddress
    name: str

    def serialize(self, serializer: Serializer) -> None:
        self.address.serialize(serializer)
        serialize_identifier(serializer, self.name)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> ModuleId:
        return cls(AccountAddress.deserialize(deserializer), deserialize_identifier(deserializer))

    def __str__(self) -> str:
        return f"{self.address.hex()}::{self.name}"
