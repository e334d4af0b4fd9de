"""Account blobs: the one-pass codec is byte-identical to the generic BCS map and as strict."""

from __future__ import annotations

import random

import pytest

from libra.bcs import BcsError, Serializer
from libra.framework.state import _decode_account_blob_strict, decode_account_blob, encode_account_blob


def _reference(resources: dict[bytes, bytes]) -> bytes:
    serializer = Serializer()
    serializer.map(resources.items(), Serializer.bytes, Serializer.bytes)
    return serializer.output()


def _outcome(decode, blob: bytes):  # type: ignore[no-untyped-def]
    try:
        return decode(blob), None
    except BcsError as exc:
        return None, str(exc)


def _random_resources(rng: random.Random) -> dict[bytes, bytes]:
    sizes = (0, 1, 31, 127, 128, 200, 16383, 16384, 20000)
    return {
        rng.randbytes(rng.choice((0, 1, 5, 40, 127, 128, 200))): rng.randbytes(rng.choice(sizes))
        for _ in range(rng.randrange(0, 14))
    }


def test_round_trip_matches_generic_bcs() -> None:
    rng = random.Random(7)
    for _ in range(400):
        resources = _random_resources(rng)
        blob = _reference(resources)
        assert encode_account_blob(resources) == blob
        decoded = decode_account_blob(blob)
        assert decoded == resources
        assert list(decoded) == list(_decode_account_blob_strict(blob))


def test_malformed_blobs_fail_exactly_as_the_strict_decoder() -> None:
    rng = random.Random(11)
    for _ in range(400):
        blob = _reference(_random_resources(rng))
        if not blob:
            continue
        mutated = bytearray(blob)
        mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        for candidate in (bytes(mutated), blob[: rng.randrange(len(blob))], blob + b"\x00"):
            assert _outcome(decode_account_blob, candidate) == _outcome(_decode_account_blob_strict, candidate)


@pytest.mark.parametrize(
    "blob",
    [
        bytes.fromhex("02" "0161" "0100" "0161" "0100"),  # duplicate key
        bytes.fromhex("02" "0162" "0100" "0161" "0100"),  # keys out of order
        bytes.fromhex("01" "0161" "8000"),  # non-canonical ULEB128 length
        bytes.fromhex("01" "0161" "05" "00"),  # value longer than the input
    ],
)
def test_non_canonical_blobs_are_refused(blob: bytes) -> None:
    with pytest.raises(BcsError):
        decode_account_blob(blob)
