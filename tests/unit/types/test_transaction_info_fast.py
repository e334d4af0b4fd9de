"""TransactionInfo's one-piece encoding and direct decoding of an executed transaction's info
give exactly what the field-by-field reference gives (bytes, values, errors)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from libra.bcs import BcsError, Deserializer, Serializer
from libra.types.ledger import KeptVMStatus, TransactionInfo
from libra.types.move import AccountAddress, ModuleId

_HASH = st.binary(min_size=32, max_size=32)
_STATUS = st.one_of(
    st.just(KeptVMStatus()),
    st.integers(1, 4).filter(lambda k: k not in (2, 3)).map(KeptVMStatus),
    st.builds(
        lambda code: KeptVMStatus(2, _location(), abort_code=code), st.integers(0, 2**64 - 1)
    ),
)


def _location():  # type: ignore[no-untyped-def]
    from libra.types.ledger import AbortLocation

    return AbortLocation(ModuleId(AccountAddress(bytes(15) + b"\x01"), "DiemAccount"))


def _encode(info: TransactionInfo, general: bool) -> bytes | str:
    s = Serializer()
    try:
        (info.serialize_general if general else info.serialize)(s)
    except (BcsError, TypeError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return s.output()


def _decode(data: bytes, general: bool) -> object:
    d = Deserializer(data)
    try:
        value = (TransactionInfo.deserialize_general if general else TransactionInfo.deserialize)(d)
    except BcsError as exc:
        return ("error", str(exc), exc.offset, exc.expected)
    return ("ok", value, d.offset)


@given(_HASH, _HASH, _HASH, st.integers(0, 2**64 - 1), _STATUS)
def test_encoding_is_the_reference_encoding(transaction_hash, state_root, event_root, gas, status) -> None:
    info = TransactionInfo(transaction_hash, state_root, event_root, gas, status)
    encoded = _encode(info, general=False)
    assert encoded == _encode(info, general=True)
    assert isinstance(encoded, bytes)
    assert _decode(encoded + b"\x07", general=False) == _decode(encoded + b"\x07", general=True) == (
        "ok", info, len(encoded),
    )


@given(st.one_of(st.binary(max_size=40), st.just(bytes(32))), st.one_of(st.integers(-1, 2), st.just(2**64)))
def test_bad_fields_fail_as_the_reference_does(value, gas) -> None:
    info = TransactionInfo(value, bytes(32), bytes(32), gas)
    assert _encode(info, general=False) == _encode(info, general=True)


@given(_HASH, st.integers(0, 2**64 - 1), st.data())
def test_mutated_bytes_decode_as_the_reference_does(transaction_hash, gas, data) -> None:
    encoded = bytearray(TransactionInfo(transaction_hash, bytes(32), bytes(32), gas).to_bcs())
    for _ in range(data.draw(st.integers(1, 3))):
        encoded[data.draw(st.integers(0, len(encoded) - 1))] = data.draw(st.sampled_from([0, 1, 2, 0x1F, 0x20, 0x21, 0x80]))
    cut = data.draw(st.integers(0, len(encoded)))
    for candidate in (bytes(encoded), bytes(encoded[:cut])):
        assert _decode(candidate, general=False) == _decode(candidate, general=True)
