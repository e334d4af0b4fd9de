"""Edge vectors of strict Ed25519: keys and nonces with torsion, small-order and non-canonical
encodings, scalars at and past the group order, wrong lengths.

Built with plain curve arithmetic (``ed25519_strict``'s affine addition, libsodium's base-point
multiplication) so that signatures can be forged with any key or nonce, not only with the
prime-order ones an honest signer makes. Each vector is ``(label, public_key, message, signature)``;
what each one verifies to is left to the implementations under test.
"""

from __future__ import annotations

import hashlib
import random

import nacl.bindings

from libra.crypto import ed25519_strict

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
Point = tuple[int, int]
IDENTITY: Point = (0, 1)

# y of the points of order 8 (one of the two values; the other is p - y)
_Y8 = 2707385501144840649318225287225658788936804267575313519463743609750303402022


def encode(point: Point) -> bytes:
    x, y = point
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def decode(data: bytes) -> Point:
    point = ed25519_strict._decompress(data)
    assert point is not None, data.hex()
    return point


def add(a: Point, b: Point) -> Point:
    return ed25519_strict._add(a, b)


def small_multiple(point: Point, n: int) -> Point:
    out = IDENTITY
    for _ in range(n % 8):
        out = add(out, point)
    return out


def negate(point: Point) -> Point:
    return (-point[0]) % P, point[1]


def base_times(scalar: int) -> Point:
    """``[scalar]B`` for ``0 < scalar < L``."""
    return decode(nacl.bindings.crypto_scalarmult_ed25519_base_noclamp(scalar.to_bytes(32, "little")))


T8 = decode(_Y8.to_bytes(32, "little"))
TORSION: tuple[Point, ...] = tuple(small_multiple(T8, k) for k in range(8))
"""``[k]T8`` for k = 0..7: the identity, then points of order 8, 4, 8, 2, 8, 4, 8."""
assert small_multiple(T8, 4) != IDENTITY and add(small_multiple(T8, 4), small_multiple(T8, 4)) == IDENTITY


def challenge(r: bytes, key: bytes, message: bytes) -> int:
    return int.from_bytes(hashlib.sha512(r + key + message).digest(), "little") % L


def forge(a: int, key_torsion: int, r: int, r_torsion: int, message: bytes) -> tuple[bytes, bytes]:
    """A key ``[a]B + [key_torsion]T8`` and the signature with nonce point ``[r]B + [r_torsion]T8``
    and ``S = r + k·a`` (what a signer who knows ``a`` and ``r`` computes)."""
    key = encode(add(base_times(a), TORSION[key_torsion % 8]))
    big_r = encode(add(base_times(r), TORSION[r_torsion % 8]))
    s = (r + challenge(big_r, key, message) * a) % L
    return key, big_r + s.to_bytes(32, "little")


def _with_sign(data: bytes) -> bytes:
    return data[:31] + bytes([data[31] | 0x80])


def _y_bytes(y: int) -> bytes:
    return y.to_bytes(32, "little")


def small_order_encodings() -> list[bytes]:
    """Every encoding whose y is that of a small-order point, canonical or not (y ≥ p), with
    both sign bits (x = 0 with the sign bit set included)."""
    ys = [0, 1, P - 1, _Y8, P - _Y8, P, P + 1]
    out = [_y_bytes(y) for y in ys]
    return out + [_with_sign(e) for e in out]


def non_canonical_encodings() -> list[bytes]:
    """Every y in [p, 2^255), with both sign bits."""
    out = [_y_bytes(y) for y in range(P, 2**255)]
    return out + [_with_sign(e) for e in out]


def edge_vectors(seed: int = 5) -> list[tuple[str, bytes, bytes, bytes]]:
    rng = random.Random(seed)
    out: list[tuple[str, bytes, bytes, bytes]] = []
    message = b"edge"

    def scalar() -> int:
        return rng.randrange(1, L)

    # honest signatures, and the same with every part altered
    for _ in range(6):
        key, sig = forge(scalar(), 0, scalar(), 0, message)
        out.append(("honest", key, message, sig))
        out.append(("R sign bit flipped", key, message, bytes([*sig[:31], sig[31] ^ 0x80]) + sig[32:]))
        s = int.from_bytes(sig[32:], "little")
        out.append(("S + L", key, message, sig[:32] + (s + L).to_bytes(32, "little")))
        out.append(("S + 2^253", key, message, sig[:32] + (s + 2**253).to_bytes(32, "little")))
        out.append(("other message", key, message + b"!", sig))
        out.append(("key + torsion, same signature", encode(add(decode(key), T8)), message, sig))
    key, sig = forge(scalar(), 0, scalar(), 0, message)
    for s in (L, L - 1, 2**256 - 1, 2**255, 0):
        out.append((f"S = {s:#x}", key, message, sig[:32] + s.to_bytes(32, "little")))
    # mixed-order keys and nonces: every torsion component of the key and of R, several nonces
    # (valid exactly when the torsion left in [S]B - [k]A - R cancels)
    for key_torsion in range(8):
        for r_torsion in range(8):
            for _ in range(3):
                key, sig = forge(scalar(), key_torsion, scalar(), r_torsion, message)
                out.append((f"key torsion {key_torsion}, R torsion {r_torsion}", key, message, sig))
    # mixed-order keys whose signatures verify: grind the nonce until k·T cancels
    for key_torsion in (1, 2, 4, 6):
        a, found = scalar(), 0
        while found < 2:
            r = scalar()
            key, sig = forge(a, key_torsion, r, 0, message)
            if challenge(sig[:32], key, message) * key_torsion % 8 == 0:
                out.append((f"mixed key {key_torsion}, valid", key, message, sig))
                found += 1
    # mixed-order key and R whose torsion parts cancel: R = [r]B - [k]T for the k it yields
    for key_torsion in (1, 3):
        a, found = scalar(), 0
        while found < 2:
            r, target = scalar(), rng.randrange(1, 8)
            key = encode(add(base_times(a), TORSION[key_torsion]))
            big_r = encode(add(base_times(r), TORSION[(-target * key_torsion) % 8]))
            k = challenge(big_r, key, message)
            if k % 8 == target:
                s = (r + k * a) % L
                out.append((f"mixed key {key_torsion} and mixed R, valid", key, message, big_r + s.to_bytes(32, "little")))
                found += 1
    # small-order and non-canonical encodings as the key and as R
    honest_key, honest_sig = forge(scalar(), 0, scalar(), 0, message)
    for encoding in small_order_encodings() + non_canonical_encodings():
        out.append(("small-order/non-canonical key", encoding, message, honest_sig))
        out.append(("small-order/non-canonical R", honest_key, message, encoding + honest_sig[32:]))
    # small-order keys with signatures the equation alone accepts: [S]B = R + [k]A holds
    # whenever [k]A cancels, e.g. for the identity
    for encoding in small_order_encodings():
        r = scalar()
        big_r = encode(base_times(r))
        out.append(("equation holds for small-order key", encoding, message, big_r + r.to_bytes(32, "little")))
    # small-order R with a valid equation: R = T, S = k·a (prime-order key), in every encoding
    # of T (with the sign bit, and y + p where that fits: non-canonical R of the right point)
    a = scalar()
    key = encode(base_times(a))
    for t in range(8):
        big_r = encode(TORSION[t])
        encodings = {big_r, _with_sign(big_r)}
        if TORSION[t][1] + P < 2**255:
            encodings |= {_y_bytes(TORSION[t][1] + P), _with_sign(_y_bytes(TORSION[t][1] + P))}
        for r_bytes in sorted(encodings):
            k = challenge(r_bytes, key, message)
            out.append((f"R = torsion {t}, S = k·a", key, message, r_bytes + ((k * a) % L).to_bytes(32, "little")))
    # wrong lengths and random bytes
    for key_length, sig_length in [(0, 64), (31, 64), (33, 64), (32, 0), (32, 63), (32, 65), (64, 32)]:
        out.append(("wrong length", honest_key[:key_length].ljust(key_length, b"\x01"), message,
                    honest_sig[:sig_length].ljust(sig_length, b"\x02")))
    for _ in range(40):
        out.append(("random", rng.randbytes(32), rng.randbytes(rng.randrange(0, 80)), rng.randbytes(64)))
    return out
