import pytest
from hypothesis import given
from hypothesis import strategies as st

from libra import bcs
from libra.bcs import BcsError, Deserializer, Serializer


def encode(fn, *args):
    s = Serializer()
    getattr(s, fn)(*args)
    return s.output()


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, "00"), (1, "01"), (127, "7f"), (128, "8001"), (16384, "808001"), (2**31 - 1, "ffffffff07")],
)
def test_uleb128_vectors(value, encoded):
    assert bcs.encode_uleb128(value).hex() == encoded
    assert Deserializer(bytes.fromhex(encoded)).uleb128() == value


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_uleb128_roundtrip(value):
    assert bcs.decode_with(lambda d: d.uleb128(), bcs.encode_uleb128(value)) == value


@pytest.mark.parametrize("encoded", ["8000", "ff00", "80808000"])
def test_non_canonical_uleb128_rejected(encoded):
    with pytest.raises(BcsError, match="non-canonical"):
        Deserializer(bytes.fromhex(encoded)).uleb128()


def test_trailing_bytes_rejected():
    with pytest.raises(BcsError, match="trailing") as info:
        bcs.decode_with(lambda d: d.u8(), b"\x01\x02")
    assert info.value.offset == 1


def test_bad_bool_rejected():
    with pytest.raises(BcsError, match="invalid bool"):
        Deserializer(b"\x02").bool()


def test_bad_option_tag_rejected():
    with pytest.raises(BcsError, match="option tag"):
        Deserializer(b"\x02").option(lambda d: d.u8())


def test_length_over_input_rejected_before_allocation():
    with pytest.raises(BcsError, match="exceeds"):
        Deserializer(bytes.fromhex("ffffffff07") + b"ab").bytes()


def test_over_long_sequence_rejected():
    with pytest.raises(BcsError):
        Deserializer(bytes.fromhex("8080808010")).bytes()


def test_truncated_integer_reports_offset_and_type():
    with pytest.raises(BcsError) as info:
        Deserializer(b"\x00\x01").u64()
    assert info.value.offset == 0
    assert info.value.expected == "u64"


def test_unknown_variant_rejected():
    with pytest.raises(BcsError, match="unknown Payload variant 9"):
        Deserializer(b"\x09").variant(4, "Payload")


def test_invalid_utf8_rejected():
    with pytest.raises(BcsError, match="invalid UTF-8"):
        bcs.decode_with(lambda d: d.str(), b"\x01\xff")


def test_map_sorted_by_encoded_key_and_strict_on_decode():
    s = Serializer()
    s.map([(b"b", 2), (b"a", 1)], Serializer.bytes, Serializer.u8)
    assert s.output().hex() == "02" + "0161" + "01" + "0162" + "02"
    unsorted = bytes.fromhex("02" + "0162" + "02" + "0161" + "01")
    with pytest.raises(BcsError, match="increasing"):
        Deserializer(unsorted).map(lambda d: d.bytes(), lambda d: d.u8())


@given(st.lists(st.binary(max_size=40), max_size=20), st.one_of(st.none(), st.integers(0, 2**64 - 1)))
def test_sequence_and_option_roundtrip(items, maybe):
    s = Serializer()
    s.sequence(items, Serializer.bytes)
    s.option(maybe, Serializer.u64)
    d = Deserializer(s.output())
    assert d.sequence(lambda x: x.bytes()) == items
    assert d.option(lambda x: x.u64()) == maybe
    d.finish()


def test_out_of_range_integers_refused_on_encode():
    with pytest.raises(BcsError):
        Serializer().u8(256)
    with pytest.raises(BcsError):
        Serializer().u64(-1)


def test_excessive_nesting_refused():
    data = b"\x01" * 200 + b"\x00"

    def nested(d):
        return d.option(nested)

    with pytest.raises(BcsError, match="nested too deeply"):
        bcs.decode_with(nested, data)


def _uleb128_reference(value: int) -> bytes:
    """Seven bits at a time, low group first, high bit set on all but the last byte."""
    out = []
    while True:
        out.append((value & 0x7F) | (0x80 if value >> 7 else 0))
        value >>= 7
        if not value:
            return bytes(out)


@given(st.one_of(st.integers(0, 0x4100), st.integers(0, 2**64 - 1)))
def test_uleb128_short_forms_match_the_general_encoding(value):
    assert bcs.encode_uleb128(value) == _uleb128_reference(value)


@pytest.mark.parametrize("value", [-1, 2**64, True, 1.0, None, "1"])
def test_uleb128_refuses_what_is_not_a_u64(value):
    if value is True:  # bool is an int: encoded as 1, as before the short forms
        assert bcs.encode_uleb128(value) == b"\x01"
        return
    with pytest.raises((BcsError, TypeError)):
        bcs.encode_uleb128(value)


def _generic_bytes_sequence(data: bytes):
    """What ``Deserializer.sequence(lambda d: d.bytes("item"), "seq")`` answers: values or the error."""
    d = Deserializer(data)
    try:
        values = d.sequence(lambda x: x.bytes("item"), "seq")
    except BcsError as exc:
        return ("error", str(exc), exc.offset, exc.expected)
    return ("ok", values, d.offset)


def _fast_bytes_sequence(data: bytes):
    d = Deserializer(data)
    try:
        values = d.bytes_sequence("item", "seq")
    except BcsError as exc:
        return ("error", str(exc), exc.offset, exc.expected)
    return ("ok", values, d.offset)


_LONG = st.builds(lambda size, byte: bytes([byte]) * size, st.integers(16380, 16390), st.integers(0, 255))
_ITEMS = st.lists(st.one_of(st.binary(max_size=300), _LONG), max_size=5)  # one-, two- and three-byte lengths


@given(_ITEMS, st.binary(max_size=4))
def test_bytes_sequence_is_the_generic_sequence_of_bytes(items, tail):
    generic = Serializer()
    generic.sequence(items, Serializer.bytes)
    fast = Serializer()
    fast.bytes_sequence(items)
    assert fast.output() == generic.output()
    encoded = fast.output() + tail
    assert _fast_bytes_sequence(encoded) == _generic_bytes_sequence(encoded) == ("ok", items, len(fast.output()))


@given(_ITEMS, st.data())
def test_bytes_sequence_fails_as_the_generic_sequence_does(items, data):
    """Truncated, corrupted or non-canonical input: the same error, offset and expectation."""
    s = Serializer()
    s.sequence(items, Serializer.bytes)
    encoded = bytearray(s.output())
    cut = data.draw(st.integers(0, len(encoded)))
    for _ in range(data.draw(st.integers(0, 3))):
        if encoded:
            encoded[data.draw(st.integers(0, len(encoded) - 1))] = data.draw(st.sampled_from([0x00, 0x7F, 0x80, 0xFF, 0x01]))
    for candidate in (bytes(encoded[:cut]), bytes(encoded), bytes.fromhex("02" "8000") + bytes(200)):
        assert _fast_bytes_sequence(candidate) == _generic_bytes_sequence(candidate)
