"""What travels inside the TLS stream: length-prefixed frames carrying typed messages.

Frame::

    Frame = length: u32 big-endian (1 ..= max_frame_bytes) ‖ body: [u8; length]

The length is checked against ``max_frame_bytes`` **before** the body is read, so a
header claiming 4 GiB costs four bytes and a closed connection, never an allocation.

Body: a ULEB128 message-kind tag, then the kind's fields in BCS::

    kind 0  Hello       = version: u8                         (first frame, both ways)
    kind 1  Ping        = nonce: u64 (little endian, BCS)
    kind 2  Pong        = nonce: u64
    kind 3  DirectSend  = protocol: ULEB128 ‖ payload: the rest of the frame (opaque bytes)

``payload`` is not length-prefixed: the frame length already bounds it, and it is the
upper layer's own BCS encoding. Unknown kinds, a wrong Hello version and trailing or
missing bytes in control messages are protocol violations (the connection is closed);
an unknown protocol id in a DirectSend is dropped and counted, so new protocols can be
added without breaking older peers.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from libra.bcs import BcsError, Deserializer, Serializer, encode_uleb128

FRAME_HEADER = struct.Struct(">I")
FRAME_HEADER_LENGTH = FRAME_HEADER.size
PROTOCOL_VERSION = 1


class Protocol(enum.IntEnum):
    """Upper-layer protocols multiplexed over one connection (ids are wire values)."""

    CONSENSUS = 0
    MEMPOOL = 1
    STATE_SYNC = 2

    @property
    def label(self) -> str:
        """Lower-case name used in metrics and logs."""
        return _LABELS[self]


_LABELS = {protocol: protocol.name.lower() for protocol in Protocol}


class MessageKind(enum.IntEnum):
    HELLO = 0
    PING = 1
    PONG = 2
    DIRECT_SEND = 3


class WireError(ValueError):
    """Bytes from a peer that break the wire format (a protocol violation)."""


@dataclass(frozen=True, slots=True)
class Hello:
    version: int


@dataclass(frozen=True, slots=True)
class Ping:
    nonce: int


@dataclass(frozen=True, slots=True)
class Pong:
    nonce: int


@dataclass(frozen=True, slots=True)
class DirectSend:
    """A payload for ``protocol``; ``protocol`` is a raw id, possibly unknown to us."""

    protocol: int
    payload: bytes


Message = Hello | Ping | Pong | DirectSend


def frame(body: bytes) -> bytes:
    """Header and body of one frame; an empty body is not a frame."""
    if not body:
        raise ValueError("a frame body cannot be empty")
    return FRAME_HEADER.pack(len(body)) + body


def parse_header(header: bytes, max_frame_bytes: int) -> int:
    """The body length announced by a 4-byte header; raise WireError if 0 or above the limit."""
    (length,) = FRAME_HEADER.unpack(header)
    if length == 0:
        raise WireError("empty frame")
    if length > max_frame_bytes:
        raise WireError(f"frame of {length} bytes exceeds max_frame_bytes {max_frame_bytes}")
    return int(length)


def _kind(kind: MessageKind) -> Serializer:
    """A serializer that already holds the message-kind tag."""
    serializer = Serializer()
    serializer.uleb128(kind)
    return serializer


def encode_hello(version: int = PROTOCOL_VERSION) -> bytes:
    serializer = _kind(MessageKind.HELLO)
    serializer.u8(version)
    return serializer.output()


def encode_ping(nonce: int) -> bytes:
    serializer = _kind(MessageKind.PING)
    serializer.u64(nonce)
    return serializer.output()


def encode_pong(nonce: int) -> bytes:
    serializer = _kind(MessageKind.PONG)
    serializer.u64(nonce)
    return serializer.output()


def encode_direct_send(protocol: Protocol | int, payload: bytes) -> bytes:
    """Body of a DirectSend: the payload bytes are carried as they are."""
    return encode_uleb128(MessageKind.DIRECT_SEND) + encode_uleb128(int(protocol)) + payload


def decode_message(body: bytes) -> Message:
    """Decode one frame body strictly; raise WireError for anything malformed."""
    deserializer = Deserializer(body)
    try:
        kind = deserializer.uleb128(expected="message kind")
        if kind == MessageKind.DIRECT_SEND:
            protocol = deserializer.uleb128(expected="protocol id")
            return DirectSend(protocol, body[deserializer.offset :])
        message: Message
        if kind == MessageKind.HELLO:
            message = Hello(deserializer.u8())
        elif kind == MessageKind.PING:
            message = Ping(deserializer.u64())
        elif kind == MessageKind.PONG:
            message = Pong(deserializer.u64())
        else:
            raise WireError(f"unknown message kind {kind}")
        deserializer.finish()
        return message
    except BcsError as exc:
        raise WireError(f"malformed message: {exc}") from None
