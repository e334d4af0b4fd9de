"""Frames and message bodies: limits are checked on the header, decoding is strict."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libra.network.wire import (
    DirectSend,
    Hello,
    Ping,
    Pong,
    Protocol,
    WireError,
    decode_message,
    encode_direct_send,
    encode_hello,
    encode_ping,
    encode_pong,
    frame,
    parse_header,
)


def test_frame_is_big_endian_length_then_body() -> None:
    assert frame(b"abc") == b"\x00\x00\x00\x03abc"


def test_empty_frame_is_refused_both_ways() -> None:
    with pytest.raises(ValueError):
        frame(b"")
    with pytest.raises(WireError, match="empty"):
        parse_header(b"\x00\x00\x00\x00", 100)


def test_header_over_the_limit_is_refused_before_reading() -> None:
    assert parse_header(b"\x00\x00\x00\x64", 100) == 100
    with pytest.raises(WireError, match="exceeds max_frame_bytes 100"):
        parse_header(b"\x00\x00\x00\x65", 100)
    with pytest.raises(WireError, match="4294967295"):
        parse_header(b"\xff\xff\xff\xff", 8 * 1024 * 1024)


def test_control_messages_round_trip() -> None:
    assert decode_message(encode_hello()) == Hello(1)
    assert decode_message(encode_ping(2**64 - 1)) == Ping(2**64 - 1)
    assert decode_message(encode_pong(7)) == Pong(7)
    assert encode_ping(1) == b"\x01" + (1).to_bytes(8, "little")


def test_direct_send_layout() -> None:
    body = encode_direct_send(Protocol.MEMPOOL, b"payload")
    assert body == b"\x03\x01payload"
    assert decode_message(body) == DirectSend(1, b"payload")
    assert decode_message(encode_direct_send(Protocol.CONSENSUS, b"")) == DirectSend(0, b"")


def test_unknown_protocol_id_decodes_for_the_caller_to_drop() -> None:
    assert decode_message(b"\x03\x80\x01x") == DirectSend(128, b"x")


@pytest.mark.parametrize(
    "body",
    [
        b"\x09",  # unknown kind
        b"\x00",  # Hello without version
        b"\x00\x01\x00",  # Hello with a trailing byte
        b"\x01\x00\x00",  # short Ping
        b"\x80\x00",  # non-canonical ULEB128 kind
        b"\x03",  # DirectSend without protocol
    ],
)
def test_malformed_bodies_are_wire_errors(body: bytes) -> None:
    with pytest.raises(WireError):
        decode_message(body)


@given(st.binary(max_size=64))
def test_any_bytes_decode_or_raise_wire_error(body: bytes) -> None:
    with contextlib.suppress(WireError):
        decode_message(body)


@given(st.sampled_from(list(Protocol)), st.binary(max_size=256))
def test_direct_send_round_trips(protocol: Protocol, payload: bytes) -> None:
    assert decode_message(encode_direct_send(protocol, payload)) == DirectSend(protocol, payload)
