"""The native decoder of the common signed transaction answers exactly when, and what, the
Python fast decoder answers (which the reference decoder's tests hold to the reference)."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.types.test_transaction_fast_decode import ENCODED, _payments

from libra import _core
from libra.crypto.hashing import user_transaction_hash
from libra.types.move import AccountAddress, ModuleId, PrimitiveTag, StructTag, TypeTag
from libra.types.transaction import (
    Ed25519Authenticator,
    RawTransaction,
    ScriptFunction,
    SignedTransaction,
    decode_signed_transaction_fast,
)


def _tag(fields: _core.TypeArgFields) -> TypeTag:
    if isinstance(fields, int):
        return PrimitiveTag(fields)
    address, module, name = fields
    return StructTag(AccountAddress(address), module, name, ())


def _native(data: bytes, pos: int) -> tuple[SignedTransaction, int, int, int] | None:
    fields = _core.decode_common_transaction(data, pos)
    if fields is None:
        return None
    (sender, seq, module_address, module, function, ty_args, args, max_gas, price, currency,
     expiration, chain_id, public_key, signature, raw_start, raw_end, end) = fields
    raw = RawTransaction(
        AccountAddress(sender), seq,
        ScriptFunction(ModuleId(AccountAddress(module_address), module), function,
                       tuple(_tag(t) for t in ty_args), tuple(args)),
        max_gas, price, currency, expiration, chain_id,
    )
    return SignedTransaction(raw, Ed25519Authenticator(public_key, signature)), raw_start, raw_end, end


def check_same(data: bytes, pos: int = 0) -> bool:
    fast = decode_signed_transaction_fast(data, pos)
    native = _native(data, pos)
    if fast is None:
        assert native is None, "native accepted what the Python decoder declines"
        return False
    assert native is not None, "native declined what the Python decoder accepts"
    txn, raw_start, raw_end, end = native
    assert (txn, end) == fast
    assert repr(txn) == repr(fast[0])
    assert data[raw_start:raw_end] == fast[0].raw_txn.to_bcs()  # what the key signed
    return True


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ENCODED)
def test_native_decode_equals_python_on_random_transactions(data: bytes) -> None:
    check_same(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ENCODED, st.binary(max_size=3), st.binary(max_size=3))
def test_native_decode_at_an_offset_with_bytes_around(data: bytes, before: bytes, after: bytes) -> None:
    check_same(before + data + after, len(before))


def test_every_single_byte_change_and_truncation_of_a_payment() -> None:
    rng = random.Random(11)
    answered = 0
    for data in _payments()[10:]:
        for end in range(len(data) + 1):
            check_same(data[:end])
        for index in range(len(data)):
            for value in {0, 1, 0x7F, 0x80, 0xFF, data[index] ^ 1, rng.randrange(256)}:
                mutated = bytearray(data)
                mutated[index] = value
                answered += check_same(bytes(mutated))
    assert answered > 100


def test_payments_decode_and_hash_as_python() -> None:
    for data in _payments():
        assert check_same(data)
        assert _core.user_transaction_hash(data) == user_transaction_hash(data)


def test_offsets_past_the_end_decline() -> None:
    data = _payments()[0]
    assert _core.decode_common_transaction(data, len(data)) is None
    assert _core.decode_common_transaction(data, len(data) + 5) is None
