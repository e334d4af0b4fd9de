"""Strict Ed25519 checks over raw bytes, as Diem applies them (no I/O, usable by the framework).

* a public key is 32 bytes, canonically encoded (``y < p``), a curve point, and not of
  small order (``[8]A != identity``); mixed-order points are accepted, as Diem does;
* a signature is 64 bytes with a canonical scalar ``S < L`` (no malleability);
* verification is libsodium's, which also refuses a small-order ``R``.

libsodium answers the common case (a prime-order point) at once; the curve arithmetic
below only runs to tell what is wrong with a key libsodium refused, and to accept the
mixed-order keys that libsodium's point check refuses but Diem allows.
"""

from __future__ import annotations

import nacl.bindings
import nacl.exceptions

PRIVATE_KEY_LENGTH = 32
PUBLIC_KEY_LENGTH = 32
SIGNATURE_LENGTH = 64

# Curve constants of edwards25519.
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


class Ed25519Error(ValueError):
    """Bytes that are not a valid Ed25519 key or signature."""


def _decompress(data: bytes) -> tuple[int, int] | None:
    """The affine point encoded by ``data`` (RFC 8032 §5.1.3), or None if there is none."""
    y = int.from_bytes(data, "little") & ((1 << 255) - 1)
    sign = data[31] >> 7
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x = (u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P)) % _P
    if (v * x * x - u) % _P != 0:
        x = (x * _SQRT_M1) % _P
        if (v * x * x - u) % _P != 0:
            return None
    if x == 0 and sign == 1:
        return None
    if x & 1 != sign:
        x = _P - x
    return x, y


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """Affine addition on -x^2 + y^2 = 1 + d x^2 y^2 (complete: d is not a square)."""
    (x1, y1), (x2, y2) = a, b
    t = _D * x1 * x2 * y1 * y2 % _P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, _P - 2, _P) % _P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, _P - 2, _P) % _P
    return x3, y3


def is_small_order(point: tuple[int, int]) -> bool:
    """A point is of small order iff ``[8]P`` is the identity (0, 1)."""
    for _ in range(3):
        point = _add(point, point)
    return point == (0, 1)


def check_public_key_bytes(data: bytes) -> None:
    """Raise :class:`Ed25519Error` unless ``data`` is a strict Ed25519 public key.

    Fast path: libsodium accepts canonical points of the prime-order subgroup,
    which every honestly generated key is. Anything else is examined in Python
    to say what is wrong, and points with a torsion component that are not of
    small order are accepted there, as Diem accepts them.
    """
    if len(data) != PUBLIC_KEY_LENGTH:
        raise Ed25519Error(f"Ed25519 public key must be {PUBLIC_KEY_LENGTH} bytes, got {len(data)}")
    if nacl.bindings.crypto_core_ed25519_is_valid_point(data):
        return
    if int.from_bytes(data, "little") & ((1 << 255) - 1) >= _P:
        raise Ed25519Error("Ed25519 public key is not canonically encoded (y >= p)")
    point = _decompress(data)
    if point is None:
        raise Ed25519Error("Ed25519 public key is not a point on the curve")
    if is_small_order(point):
        raise Ed25519Error("Ed25519 public key is a point of small order")


def check_signature_bytes(data: bytes) -> None:
    """Raise :class:`Ed25519Error` unless ``data`` is 64 bytes with a canonical ``S < L``."""
    if len(data) != SIGNATURE_LENGTH:
        raise Ed25519Error(f"Ed25519 signature must be {SIGNATURE_LENGTH} bytes, got {len(data)}")
    if int.from_bytes(data[32:], "little") >= _L:
        raise Ed25519Error("Ed25519 signature is malleable: S is not below the group order")


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Strict verification over raw bytes; False for any malformed or wrong input.

    As strict as the typed path: ``S < L`` is checked here, and libsodium
    refuses non-canonical or small-order public keys and a small-order ``R``.
    """
    if len(public_key) != PUBLIC_KEY_LENGTH or len(signature) != SIGNATURE_LENGTH:
        return False
    if int.from_bytes(signature[32:], "little") >= _L:
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except nacl.exceptions.BadSignatureError:
        return False
    return True
