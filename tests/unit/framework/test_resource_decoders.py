"""Hand-written decoders of hot resources agree with their LAYOUT decoder, on good and bad bytes."""

from __future__ import annotations

import random

from libra.bcs import BcsError, Deserializer
from libra.framework.codec import EventHandle
from libra.framework.resources import Balance, DiemAccount, KeyRotationCapability, WithdrawCapability
from libra.types.move import AccountAddress


def _layout(cls, data: bytes):  # type: ignore[no-untyped-def]
    try:
        deserializer = Deserializer(data)
        value = cls.deserialize(deserializer)
        deserializer.finish()
        return value, None
    except (BcsError, ValueError) as exc:
        return None, type(exc).__name__ + str(exc)


def _fast(cls, data: bytes):  # type: ignore[no-untyped-def]
    try:
        return cls.from_bcs(data), None
    except (BcsError, ValueError) as exc:
        return None, type(exc).__name__ + str(exc)


def _account(rng: random.Random) -> DiemAccount:
    def address() -> AccountAddress:
        return AccountAddress(rng.randbytes(16))

    return DiemAccount(
        rng.randbytes(rng.choice((0, 32, 127, 128, 200))),
        WithdrawCapability(address()) if rng.random() < 0.7 else None,
        KeyRotationCapability(address()) if rng.random() < 0.7 else None,
        EventHandle(rng.randrange(2**64), rng.randbytes(rng.choice((24, 0, 130)))),
        EventHandle(rng.randrange(2**64), rng.randbytes(24)),
        rng.randrange(2**64),
    )


def test_diem_account_and_balance_decoders_agree_with_the_layout() -> None:
    rng = random.Random(3)
    for _ in range(300):
        account = _account(rng)
        data = account.to_bcs()
        assert DiemAccount.from_bcs(data) == account
        candidates = [data, data + b"\x00", data[: rng.randrange(len(data))]]
        mutated = bytearray(data)
        mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        candidates.append(bytes(mutated))
        for candidate in candidates:
            assert _fast(DiemAccount, candidate) == _layout(DiemAccount, candidate)
    for data in (b"", b"\x01" * 7, (5).to_bytes(8, "little"), b"\x02" * 9):
        assert _fast(Balance, data) == _layout(Balance, data)
