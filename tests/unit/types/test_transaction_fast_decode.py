"""The fast decoder of signed transactions gives exactly what the reference decoder gives.

``decode_signed_transaction_fast`` may decline (None) any input; when it answers, the
reference decoder (``SignedTransaction.deserialize`` through a ``Deserializer``) must
decode the same bytes to an equal object of the same types, ending at the same offset.
And the whole-value entry points (``SignedTransaction.from_bcs``, ``transaction_from_bcs``)
must answer exactly as the reference does, errors included.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libra.bcs import BcsError, Deserializer, Serializer
from libra.client import builders
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.types import transaction as transaction_module
from libra.types.move import AccountAddress, PrimitiveTag, StructTag, VectorTag
from libra.types.transaction import (
    BlockMetadata,
    GenesisTransaction,
    SignedTransaction,
    decode_signed_transaction_fast,
    deserialize_signed_transaction_reference,
    deserialize_write_set_payload,
    transaction_from_bcs,
)

U64 = st.integers(min_value=0, max_value=2**64 - 1)
ADDRESSES = st.one_of(
    st.sampled_from([bytes(15) + b"\x01", bytes(16), b"\xdd" * 16]), st.binary(min_size=16, max_size=16)
)
# valid and invalid Move identifiers (the reference refuses the invalid ones)
NAMES = st.one_of(
    st.sampled_from(["DiemAccount", "peer_to_peer_with_metadata", "XUS", "XDX", "_a", "a", "Z9_"]),
    st.sampled_from(["", "_", "1abc", "ab-c", "abc\n", "é", "a b", "x" * 130]),
    st.text(min_size=0, max_size=12),
)


def _ascii_or_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(["XUS", "XDX", "", "é€", "x" * 200]), st.text(max_size=8))


def _type_tag(depth: int = 0) -> st.SearchStrategy[tuple]:
    leaf = st.integers(min_value=0, max_value=5).map(lambda i: ("prim", i))
    if depth >= 2:
        return leaf
    return st.one_of(
        leaf,
        st.tuples(st.just("struct"), ADDRESSES, NAMES, NAMES, st.lists(_type_tag(depth + 1), max_size=2)),
        st.tuples(st.just("vector"), _type_tag(depth + 1)),
        st.integers(min_value=8, max_value=300).map(lambda i: ("bad", i)),
    )


def _encode_tag(s: Serializer, tag: tuple) -> None:
    kind = tag[0]
    if kind == "prim" or kind == "bad":
        s.uleb128(tag[1])
    elif kind == "vector":
        s.uleb128(6)
        _encode_tag(s, tag[1])
    else:
        _, address, module, name, params = tag
        s.uleb128(7)
        s.raw(address)
        s.str(module)
        s.str(name)
        s.length(len(params))
        for param in params:
            _encode_tag(s, param)


ARG_BYTES = st.one_of(
    st.binary(max_size=140),
    st.integers(min_value=120, max_value=400).map(lambda n: bytes(n)),
    st.sampled_from([bytes(16384), bytes(20000)]),
)

PAYLOADS = st.one_of(
    st.tuples(
        st.just(3), ADDRESSES, NAMES, NAMES, st.lists(_type_tag(), max_size=3), st.lists(ARG_BYTES, max_size=5)
    ),
    st.tuples(st.just(1), st.binary(max_size=40)),  # a script (code, no ty_args, no args)
    st.tuples(st.just(2), st.binary(max_size=40)),  # a module
)

AUTHENTICATORS = st.one_of(
    st.tuples(st.just(0), st.binary(min_size=32, max_size=32), st.binary(min_size=64, max_size=64)),
    st.tuples(st.just(0), st.binary(max_size=40), st.binary(max_size=70)),  # wrong sizes
    st.tuples(st.just(1), st.binary(max_size=70), st.binary(max_size=70)),  # MultiEd25519
)


def _encode(sender: bytes, seq: int, payload: tuple, gas: tuple[int, int, int], currency: str, chain: int, auth: tuple) -> bytes:
    s = Serializer()
    s.raw(sender)
    s.u64(seq)
    s.uleb128(payload[0])
    if payload[0] == 3:
        _, address, module, function, ty_args, args = payload
        s.raw(address)
        s.str(module)
        s.str(function)
        s.length(len(ty_args))
        for tag in ty_args:
            _encode_tag(s, tag)
        s.length(len(args))
        for arg in args:
            s.bytes(arg)
    elif payload[0] == 1:
        s.bytes(payload[1])
        s.length(0)
        s.length(0)
    else:
        s.bytes(payload[1])
    s.u64(gas[0])
    s.u64(gas[1])
    s.str(currency)
    s.u64(gas[2])
    s.u8(chain)
    s.uleb128(auth[0])
    s.bytes(auth[1])
    s.bytes(auth[2])
    return s.output()


ENCODED = st.builds(
    _encode,
    ADDRESSES,
    U64,
    PAYLOADS,
    st.tuples(U64, U64, U64),
    _ascii_or_text(),
    st.integers(min_value=0, max_value=255),
    AUTHENTICATORS,
)


def _reference(data: bytes, pos: int = 0) -> tuple[SignedTransaction, int]:
    deserializer = Deserializer(data)
    if pos:
        deserializer.raw(pos)
    txn = deserialize_signed_transaction_reference(deserializer)
    return txn, deserializer.offset


def _outcome(decode, data: bytes):  # type: ignore[no-untyped-def]
    """(True, value, repr) or (False, error class, message) of one decode."""
    try:
        value = decode(data)
    except (BcsError, ValueError) as exc:
        return False, type(exc), str(exc)
    return True, value, repr(value)


def _reference_whole(data: bytes) -> SignedTransaction:
    deserializer = Deserializer(data)
    txn = deserialize_signed_transaction_reference(deserializer)
    deserializer.finish()
    return txn


def _reference_transaction(data: bytes):  # type: ignore[no-untyped-def]
    """``deserialize_transaction`` without any fast path."""
    deserializer = Deserializer(data)
    index = deserializer.variant(3, "Transaction")
    if index == 0:
        txn = deserialize_signed_transaction_reference(deserializer)
    elif index == 1:
        txn = GenesisTransaction(deserialize_write_set_payload(deserializer))
    else:
        txn = BlockMetadata.deserialize(deserializer)
    deserializer.finish()
    return txn


def _streamed(decode_signed):  # type: ignore[no-untyped-def]
    """Decode a transaction then one more byte through one Deserializer, as proofs and chunks
    read them: (transaction, offset after it) or the error."""

    def decode(data: bytes):  # type: ignore[no-untyped-def]
        deserializer = Deserializer(data + b"\x07")
        if deserializer.variant(3, "Transaction") != 0:
            raise BcsError("not a user transaction")
        txn = decode_signed(deserializer)
        return txn, deserializer.offset, deserializer.raw(1)

    return decode


def check_same(data: bytes) -> bool:
    """Assert fast and reference agree on ``data`` (and as a Transaction); True if fast answered."""
    fast = decode_signed_transaction_fast(data, 0)
    if fast is not None:
        reference = _reference(data)
        assert fast[1] == reference[1]
        assert fast[0] == reference[0]
        assert repr(fast[0]) == repr(reference[0])  # same classes all the way down (enums, bytes)
    assert _outcome(SignedTransaction.from_bcs, data) == _outcome(_reference_whole, data)
    wrapped = b"\x00" + data
    reference = _outcome(_reference_transaction, wrapped)
    assert _outcome(transaction_from_bcs, wrapped) == reference
    assert _outcome(_streamed(SignedTransaction.deserialize), wrapped) == _outcome(
        _streamed(deserialize_signed_transaction_reference), wrapped
    )
    return fast is not None


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ENCODED)
def test_fast_decode_equals_reference_on_random_transactions(data: bytes) -> None:
    check_same(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ENCODED, st.data())
def test_fast_decode_equals_reference_on_mutated_bytes(data: bytes, draw: st.DataObject) -> None:
    mutated = bytearray(data)
    for _ in range(draw.draw(st.integers(min_value=1, max_value=3))):
        action = draw.draw(st.sampled_from(["flip", "truncate", "insert", "append", "delete"]))
        if action == "flip" and mutated:
            mutated[draw.draw(st.integers(0, len(mutated) - 1))] = draw.draw(st.integers(0, 255))
        elif action == "truncate":
            del mutated[draw.draw(st.integers(0, len(mutated))) :]
        elif action == "insert":
            mutated.insert(draw.draw(st.integers(0, len(mutated))), draw.draw(st.integers(0, 255)))
        elif action == "append":
            mutated += draw.draw(st.binary(min_size=1, max_size=3))
        elif mutated:
            del mutated[draw.draw(st.integers(0, len(mutated) - 1))]
    check_same(bytes(mutated))


def _payments() -> list[bytes]:
    key = Ed25519PrivateKey.generate()
    payee = AccountAddress(bytes(15) + b"\x02")
    out = []
    for seq in range(12):
        metadata = bytes(range(seq * 15))  # up to 165 bytes: one- and two-byte lengths
        out.append(
            builders.sign_transaction(
                key, AccountAddress(bytes(15) + b"\x01"), seq,
                builders.peer_to_peer_with_metadata("XUS", payee, 5 + seq, metadata=metadata),
                chain_id=2, expiration_timestamp_secs=10**9,
            ).transaction.to_bcs()
        )
    return out


def test_payments_take_the_fast_path_and_decode_the_same() -> None:
    for data in _payments():
        assert check_same(data)  # the fast path answered, and agreed


def test_every_single_byte_change_of_a_payment_decodes_the_same() -> None:
    """Every position, a few values each: decoders agree on what is valid and what it means."""
    data = _payments()[11]
    rng = random.Random(7)
    answered = 0
    for index in range(len(data)):
        for value in {0, 1, 0x7F, 0x80, 0xFF, data[index] ^ 1, rng.randrange(256)}:
            mutated = bytearray(data)
            mutated[index] = value
            answered += check_same(bytes(mutated))
    assert answered > len(data)  # many mutants are still valid payments (amounts, keys, …)


def test_caches_are_bounded_and_keep_answers(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(transaction_module, "_FAST_CACHE_CAP", 3)
    rng = random.Random(3)
    for _ in range(50):
        sender = rng.randbytes(16)
        module = "M" + str(rng.randrange(10**6))
        data = _encode(
            sender, 1, (3, rng.randbytes(16), module, "f", [("struct", rng.randbytes(16), module, "T", [])], [b"x"]),
            (1, 2, 3), "XUS" + str(rng.randrange(10)), 2, (0, bytes(32), bytes(64)),
        )
        assert check_same(data)
    assert len(transaction_module._ADDRESSES) <= 3
    assert len(transaction_module._MODULE_IDS) <= 3
    assert len(transaction_module._STRUCT_TAGS) <= 3


def test_declines_what_it_does_not_handle() -> None:
    nested = _encode(
        bytes(16), 0, (3, bytes(16), "M", "f", [("vector", ("prim", 1))], []), (1, 2, 3), "XUS", 2, (0, bytes(32), bytes(64))
    )
    assert decode_signed_transaction_fast(nested, 0) is None
    assert check_same(nested) is False
    script = _encode(bytes(16), 0, (1, b"code"), (1, 2, 3), "XUS", 2, (0, bytes(32), bytes(64)))
    assert decode_signed_transaction_fast(script, 0) is None
    txn = SignedTransaction.from_bcs(script)
    assert txn.raw_txn.payload.code == b"code"  # type: ignore[union-attr]
    assert isinstance(StructTag, type) and isinstance(VectorTag, type) and PrimitiveTag.U8 == 1


def test_streaming_decode_keeps_the_depth_limit() -> None:
    """Deep inside other containers the fast path steps aside, so the depth error stays."""
    data = _encode(
        bytes(16), 0, (3, bytes(16), "M", "f", [("struct", bytes(16), "XUS", "XUS", [])], [b"x"]),
        (1, 2, 3), "XUS", 2, (0, bytes(32), bytes(64)),
    )

    def at_depth(levels: int, decode):  # type: ignore[no-untyped-def]
        deserializer = Deserializer(data)

        def step(d: Deserializer, left: int):  # type: ignore[no-untyped-def]
            return decode(d) if left == 0 else d.nested(lambda inner: step(inner, left - 1))

        return _outcome(lambda _: step(deserializer, levels), data)

    for levels in (0, 100, 124, 125, 126, 127, 128):
        fast = at_depth(levels, SignedTransaction.deserialize)
        reference = at_depth(levels, deserialize_signed_transaction_reference)
        assert fast == reference, levels
    assert at_depth(125, SignedTransaction.deserialize)[0] is True
    assert at_depth(126, SignedTransaction.deserialize)[0] is False


def test_every_truncation_and_extension_of_a_payment_decodes_the_same() -> None:
    for data in _payments()[10:]:
        for end in range(len(data) + 1):
            check_same(data[:end])
        for extra in (b"\x00", b"\xff", b"\x00" * 5):
            assert check_same(data + extra) is True  # the value is there; from_bcs refuses the rest
