"""The native decoder of the common Move-script transaction (``decode_common_script``) answers
exactly for the transactions of its shape, and with what the reference decoder gives.

No Python fast decoder reads scripts, so the native one is held to the reference decoder
(``deserialize_signed_transaction_reference``): when it answers, the reference decodes the same
bytes to the same transaction ending at the same offset; when it declines, the reference
refuses the bytes or decodes a transaction of another shape (:func:`_is_common_script`).
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.native.execution_world import (
    PAYMENT_SCRIPT_CODE,
    address_of_key,
    key_of,
    payment_script,
    sign,
)
from tests.unit.types.test_transaction_fast_decode import (
    ADDRESSES,
    AUTHENTICATORS,
    U64,
    _encode_tag,
    _type_tag,
)

from libra import _core
from libra.bcs import BcsError, Deserializer, Serializer
from libra.types.move import AccountAddress, PrimitiveTag, StructTag, TypeTag
from libra.types.transaction import (
    AddressArg,
    BoolArg,
    Ed25519Authenticator,
    RawTransaction,
    Script,
    SignedTransaction,
    TransactionArgument,
    U8Arg,
    U8VectorArg,
    U64Arg,
    U128Arg,
    deserialize_signed_transaction_reference,
)

# (variant, raw value bytes) — valid arguments and odd ones (bad bool, unknown variant)
ARGUMENTS = st.one_of(
    st.tuples(st.just(0), st.binary(min_size=1, max_size=1)),
    st.tuples(st.just(1), st.binary(min_size=8, max_size=8)),
    st.tuples(st.just(2), st.binary(min_size=16, max_size=16)),
    st.tuples(st.just(3), st.binary(min_size=16, max_size=16)),
    st.tuples(st.just(4), st.one_of(st.binary(max_size=140), st.sampled_from([bytes(16383), bytes(16384)]))),
    st.tuples(st.just(5), st.sampled_from([b"\x00", b"\x01", b"\x02"])),
    st.tuples(st.integers(6, 200), st.binary(max_size=4)),
)
CODES = st.one_of(st.binary(max_size=200), st.just(PAYMENT_SCRIPT_CODE), st.sampled_from([bytes(16384), bytes(127), bytes(128)]))


def _encode_script(sender: bytes, seq: int, code: bytes, ty_args: list[tuple], args: list[tuple[int, bytes]],  # type: ignore[type-arg]
                   gas: tuple[int, int, int], currency: str, chain: int, auth: tuple) -> bytes:  # type: ignore[type-arg]
    s = Serializer()
    s.raw(sender)
    s.u64(seq)
    s.uleb128(1)
    s.bytes(code)
    s.length(len(ty_args))
    for tag in ty_args:
        _encode_tag(s, tag)
    s.length(len(args))
    for variant, value in args:
        s.uleb128(variant)
        if variant == 4:
            s.bytes(value)
        else:
            s.raw(value)
    s.u64(gas[0])
    s.u64(gas[1])
    s.str(currency)
    s.u64(gas[2])
    s.u8(chain)
    s.uleb128(auth[0])
    s.bytes(auth[1])
    s.bytes(auth[2])
    return s.output()


ENCODED_SCRIPTS = st.builds(
    _encode_script, ADDRESSES, U64, CODES, st.lists(_type_tag(), max_size=3), st.lists(ARGUMENTS, max_size=6),
    st.tuples(U64, U64, U64), st.one_of(st.sampled_from(["XUS", "", "é", "x" * 130]), st.text(max_size=6)),
    st.integers(0, 255), AUTHENTICATORS,
)


def _is_common_script(txn: SignedTransaction) -> bool:
    """The shape the native decoder reads (see ``decode_common_script``)."""
    payload = txn.raw_txn.payload
    if not isinstance(payload, Script) or not isinstance(txn.authenticator, Ed25519Authenticator):
        return False
    if len(payload.code) >= 1 << 14 or len(payload.ty_args) >= 0x80 or len(payload.args) >= 0x80:
        return False
    for tag in payload.ty_args:
        if isinstance(tag, StructTag):
            if tag.type_params or len(tag.module) >= 0x80 or len(tag.name) >= 0x80:
                return False
        elif not isinstance(tag, PrimitiveTag):
            return False
    if any(isinstance(arg, U8VectorArg) and len(arg.value) >= 1 << 14 for arg in payload.args):
        return False
    return len(txn.raw_txn.gas_currency_code.encode()) < 0x80


def _tag(fields: Any) -> TypeTag:
    if isinstance(fields, int):
        return PrimitiveTag(fields)
    address, module, name = fields
    return StructTag(AccountAddress(address), module, name, ())


_ARGS = {0: U8Arg, 1: U64Arg, 2: U128Arg, 4: U8VectorArg, 5: BoolArg}


def _arg(variant: int, value: Any) -> TransactionArgument:
    return AddressArg(AccountAddress(value)) if variant == 3 else _ARGS[variant](value)


def _native(data: bytes, pos: int) -> tuple[SignedTransaction, int, int, int] | None:
    fields = _core.decode_common_script_transaction(data, pos)
    if fields is None:
        return None
    (sender, seq, code, ty_args, args, max_gas, price, currency, expiration, chain_id, public_key, signature,
     raw_start, raw_end, end) = fields
    raw = RawTransaction(
        AccountAddress(sender), seq, Script(code, tuple(_tag(t) for t in ty_args), tuple(_arg(*a) for a in args)),
        max_gas, price, currency, expiration, chain_id,
    )
    return SignedTransaction(raw, Ed25519Authenticator(public_key, signature)), raw_start, raw_end, end


def check_same(data: bytes, pos: int = 0) -> bool:
    """Assert the native answer is the reference's; True if the native decoder answered."""
    native = _native(data, pos)
    deserializer = Deserializer(data)
    deserializer.raw(pos)
    try:
        reference = deserialize_signed_transaction_reference(deserializer)
    except (BcsError, ValueError):
        assert native is None, "native accepted what the reference refuses"
        return False
    if native is None:
        assert not _is_common_script(reference), "native declined a script of its shape"
        return False
    txn, raw_start, raw_end, end = native
    assert _is_common_script(reference)
    assert txn == reference and repr(txn) == repr(reference)
    assert end == deserializer.offset
    assert data[raw_start:raw_end] == reference.raw_txn.to_bcs()
    return True


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ENCODED_SCRIPTS)
def test_native_script_decode_equals_the_reference(data: bytes) -> None:
    check_same(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ENCODED_SCRIPTS, st.binary(max_size=3), st.binary(max_size=3))
def test_native_script_decode_at_an_offset(data: bytes, before: bytes, after: bytes) -> None:
    check_same(before + data + after, len(before))


def _script_payments() -> list[bytes]:
    key = key_of("script-decode")
    payee = AccountAddress(bytes(15) + b"\x02")
    return [
        sign(key, address_of_key(key), seq, payment_script(payee, 5 + seq, bytes(range(seq * 15)), b"s" * (seq % 2) * 64),
             expiration=10**9).to_bcs()
        for seq in range(10)
    ]


def test_script_payments_decode_and_every_byte_change_agrees() -> None:
    rng = random.Random(5)
    payments = _script_payments()
    assert all(check_same(data) for data in payments)
    answered = 0
    for data in payments[8:]:
        for end in range(len(data) + 1):
            check_same(data[:end])
        for index in range(len(data)):
            for value in {0, 1, 0x7F, 0x80, 0xFF, data[index] ^ 1, rng.randrange(256)}:
                mutated = bytearray(data)
                mutated[index] = value
                answered += check_same(bytes(mutated))
    assert answered > 100


def test_script_function_payments_are_not_scripts() -> None:
    from tests.unit.types.test_transaction_fast_decode import _payments

    for data in _payments():
        assert _core.decode_common_script_transaction(data, 0) is None
    data = _script_payments()[0]
    assert _core.decode_common_transaction(data, 0) is None
    assert _core.decode_common_script_transaction(data, len(data)) is None
    assert _core.decode_common_script_transaction(data, len(data) + 3) is None
