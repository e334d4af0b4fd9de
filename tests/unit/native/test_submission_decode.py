"""Submissions built from the native decoder's fields (``mempool.decoding``) are exactly what
the reference decoder gives: equal, the same repr, hash and encoding, every field of the same
type; and built exactly when the Python fast decoder takes the whole of the bytes."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.types.test_transaction_fast_decode import ENCODED, _payments

from libra import _core
from libra.bcs import BcsError
from libra.mempool import decoding
from libra.types.transaction import SignedTransaction, decode_signed_transaction_fast


@pytest.fixture(autouse=True)
def _with_the_core() -> Iterator[None]:
    """The core's decoder, also under ``LIBRA_CORE=python``."""
    saved = decoding.CORE
    decoding.CORE = _core
    yield
    decoding.CORE = saved


def _fields(value: object) -> list[tuple[str, type]]:
    """Every field's type, recursively through the dataclasses and tuples of a transaction."""
    out: list[tuple[str, type]] = []
    for name in getattr(value, "__slots__", ()):
        item = getattr(value, name)
        out.append((name, type(item)))
        out += _fields(item)
        if isinstance(item, tuple):
            for element in item:
                out.append((name, type(element)))
                out += _fields(element)
    return out


def check(data: bytes) -> bool:
    built = decoding.decode_common(data)
    fast = decode_signed_transaction_fast(data, 0)
    taken = fast is not None and fast[1] == len(data)
    assert (built is not None) == taken, "built exactly when the fast decoder takes all of it"
    if built is None:
        return False
    reference = SignedTransaction.from_bcs(data)
    assert built == reference and repr(built) == repr(reference) and hash(built) == hash(reference)
    assert _fields(built) == _fields(reference)
    assert built.to_bcs() == data
    return True


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ENCODED, st.binary(max_size=2))
def test_random_transactions_build_as_the_reference_decodes(data: bytes, tail: bytes) -> None:
    check(data)
    check(data + tail)


def test_every_byte_change_and_truncation_of_a_payment() -> None:
    rng = random.Random(5)
    built = 0
    for data in _payments()[6:]:
        for end in range(len(data) + 1):
            check(data[:end])
        for index in range(len(data)):
            mutated = bytearray(data)
            mutated[index] = rng.choice((0, 0x7F, 0x80, 0xFF, data[index] ^ 1))
            built += check(bytes(mutated))
    assert built > 100


def test_what_is_not_built_is_the_reference_decoders_answer() -> None:
    from libra.mempool.admission import decode_signed

    data = _payments()[0]
    assert all(check(payment) for payment in _payments())
    with pytest.raises(BcsError) as native_path:
        decode_signed(data[:-1])
    with pytest.raises(BcsError) as reference:
        SignedTransaction.from_bcs(data[:-1])
    assert str(native_path.value) == str(reference.value)
