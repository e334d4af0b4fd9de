"""Classes with ``direct_init`` build the very objects the dataclass ``__init__`` builds."""

from __future__ import annotations

import dataclasses
import os

import pytest

from libra.framework.codec import EventHandle
from libra.framework.errors import EXECUTED
from libra.framework.events import ReceivedPaymentEvent, SentPaymentEvent
from libra.framework.resources import (
    Balance,
    ChildVASP,
    DiemAccount,
    FreezingBit,
    KeyRotationCapability,
    WithdrawCapability,
)
from libra.framework.vm import TransactionOutcome
from libra.types.direct_init import direct_init
from libra.types.move import AccountAddress, StructTag
from libra.types.write_set import AccessPath, ContractEvent, EventKey, WriteOp, WriteSet

A = AccountAddress(os.urandom(16))
HANDLE = EventHandle(3, os.urandom(24))
EXAMPLES: list[tuple[type, tuple[object, ...]]] = [
    (AccountAddress, (os.urandom(16),)),
    (EventKey, (os.urandom(24),)),
    (AccessPath, (A, b"\x01path")),
    (WriteOp, (b"value",)),
    (WriteOp, (None,)),
    (WriteSet, (((AccessPath(A, b"\x01p"), WriteOp(None)),),)),
    (ContractEvent, (EventKey(os.urandom(24)), 7, StructTag(A, "M", "E", ()), b"data")),
    (EventHandle, (5, os.urandom(24))),
    (WithdrawCapability, (A,)),
    (KeyRotationCapability, (A,)),
    (DiemAccount, (os.urandom(32), WithdrawCapability(A), None, HANDLE, HANDLE, 9)),
    (Balance, (10**12,)),
    (FreezingBit, (True,)),
    (ChildVASP, (A,)),
    (SentPaymentEvent, (5, b"XUS", A, b"")),
    (ReceivedPaymentEvent, (5, b"XUS", A, b"m")),
    (TransactionOutcome, (EXECUTED, WriteSet(()), (), 12)),
]


@pytest.mark.parametrize(("cls", "args"), EXAMPLES, ids=lambda x: getattr(x, "__name__", ""))
def test_direct_init_builds_what_the_dataclass_init_builds(cls: type, args: tuple[object, ...]) -> None:
    fast = cls(*args)
    plain = object.__new__(cls)
    cls.__dataclass_init__(plain, *args)  # type: ignore[attr-defined]
    assert fast == plain and hash(fast) == hash(plain) and repr(fast) == repr(plain)
    for field, arg in zip(dataclasses.fields(cls), args, strict=True):
        assert getattr(fast, field.name) is arg
    keywords = cls(**{field.name: arg for field, arg in zip(dataclasses.fields(cls), args, strict=True)})
    assert keywords == plain
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(fast, dataclasses.fields(cls)[0].name, args[0])


@pytest.mark.parametrize(("cls", "bad"), [(AccountAddress, b"short"), (AccountAddress, "x" * 16), (EventKey, b"k" * 23)])
def test_validation_in_post_init_still_runs(cls: type, bad: object) -> None:
    with pytest.raises(ValueError):
        cls(bad)
    plain = object.__new__(cls)
    with pytest.raises(ValueError):
        cls.__dataclass_init__(plain, bad)  # type: ignore[attr-defined]


def test_defaults_and_unsupported_classes() -> None:
    @direct_init
    @dataclasses.dataclass(frozen=True, slots=True)
    class WithDefault:
        a: int
        b: int = 4

    assert WithDefault(1) == WithDefault(1, 4) and WithDefault(1, b=5).b == 5
    with pytest.raises(TypeError):
        direct_init(dataclasses.dataclass(slots=True)(type("NotFrozen", (), {"__annotations__": {"a": int}})))

    with pytest.raises(TypeError):

        @direct_init
        @dataclasses.dataclass(frozen=True, slots=True)
        class WithFactory:
            a: list[int] = dataclasses.field(default_factory=list)


def test_slot_constructor_builds_what_the_class_builds() -> None:
    from libra.storage.libradb import EventToCommit
    from libra.types.direct_init import slot_constructor

    make = slot_constructor(EventToCommit)
    fields = [f.name for f in dataclasses.fields(EventToCommit)]
    values = [bytes([i]) * 3 for i in range(len(fields))]
    built, reference = make(*values), EventToCommit(*values)
    assert built == reference and type(built) is EventToCommit
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.__setattr__(fields[0], b"x")


def test_slot_constructor_refuses_classes_whose_init_does_more() -> None:
    from libra.types.direct_init import slot_constructor
    from libra.types.move import AccountAddress

    with pytest.raises(TypeError, match="AccountAddress is not a frozen, slotted dataclass without __post_init__"):
        slot_constructor(AccountAddress)  # its __post_init__ checks the length
    with pytest.raises(TypeError, match="int is not"):
        slot_constructor(int)


def test_interned_addresses_are_checked_and_shared() -> None:
    from libra.types.move import AccountAddress

    raw = bytes(range(16))
    assert AccountAddress.interned(raw) is AccountAddress.interned(bytes(range(16)))
    assert AccountAddress.interned(raw) == AccountAddress(raw)
    with pytest.raises(ValueError, match="16 bytes"):
        AccountAddress.interned(b"short")
