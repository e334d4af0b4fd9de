"""Inputs for the fuzz run: mutations of valid encodings, and random bytes.

A mutant is a seed with 1-8 edits, each chosen among the ways encodings go wrong: a bit
flipped, a byte set to a boundary value, bytes inserted, deleted or duplicated, a cut, a
length prefix or a u64 overwritten with an extreme value (the ULEB128 and little-endian
forms BCS reads), or the tail of another seed spliced on. About one input in sixteen is
plain random bytes. Everything comes from the ``random.Random`` given, so an input is
reproduced from its run seed, target and index.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

INTERESTING_BYTES = (0x00, 0x01, 0x02, 0x7F, 0x80, 0x81, 0xFE, 0xFF, 0x20, 0x40)
INTERESTING_INTS = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 2**31 - 1, 2**31, 2**32 - 1, 2**32,
                    2**63 - 1, 2**63, 2**64 - 1)
RANDOM_SHARE = 16  # one input in this many is random bytes
MAX_RANDOM_BYTES = 300


def uleb128(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def random_bytes(rng: random.Random) -> bytes:
    size = rng.choice((0, 1, 2, 4, 8, 16, 32, 64, rng.randrange(MAX_RANDOM_BYTES)))
    return rng.randbytes(size)


def _edit(rng: random.Random, buf: bytearray, seeds: Sequence[bytes]) -> None:
    size = len(buf)
    op = rng.randrange(11)
    if op == 0 and size:  # flip one bit
        buf[rng.randrange(size)] ^= 1 << rng.randrange(8)
    elif op == 1 and size:  # a boundary byte
        buf[rng.randrange(size)] = rng.choice(INTERESTING_BYTES)
    elif op == 2 and size:  # any byte
        buf[rng.randrange(size)] = rng.randrange(256)
    elif op == 3:  # insert a few bytes
        at = rng.randrange(size + 1)
        buf[at:at] = rng.randbytes(rng.choice((1, 1, 2, 4, 8)))
    elif op == 4 and size:  # delete a range
        at = rng.randrange(size)
        del buf[at : at + rng.choice((1, 1, 2, 4, 8, 32))]
    elif op == 5:  # cut
        del buf[rng.randrange(size + 1) :]
    elif op == 6 and size:  # duplicate a slice somewhere
        at, length = rng.randrange(size), rng.choice((1, 2, 4, 8, 32, 64))
        piece = buf[at : at + length]
        to = rng.randrange(size + 1)
        buf[to:to] = piece
    elif op == 7:  # an extreme length prefix or enum tag (ULEB128)
        at = rng.randrange(size + 1)
        width = rng.choice((0, 1, 1, 2))
        buf[at : at + width] = uleb128(rng.choice(INTERESTING_INTS))
    elif op == 8 and size >= 8:  # an extreme u64 (or u32) in place
        width = rng.choice((8, 8, 4))
        at = rng.randrange(size - width + 1)
        value = rng.choice(INTERESTING_INTS) & ((1 << (8 * width)) - 1)
        buf[at : at + width] = value.to_bytes(width, "little")
    elif op == 9 and seeds:  # splice another seed's tail
        other = seeds[rng.randrange(len(seeds))]
        buf[rng.randrange(size + 1) :] = other[rng.randrange(len(other) + 1) :]
    else:  # append a few random bytes
        buf += rng.randbytes(rng.choice((1, 2, 8)))


def mutant(rng: random.Random, seeds: Sequence[bytes]) -> bytes:
    """One fuzz input from ``seeds`` (random bytes one time in ``RANDOM_SHARE``)."""
    if not seeds or rng.randrange(RANDOM_SHARE) == 0:
        return random_bytes(rng)
    buf = bytearray(seeds[rng.randrange(len(seeds))])
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4, 8))):
        _edit(rng, buf, seeds)
    return bytes(buf)
