"""The two Ed25519 natives the framework calls (Move's ``Signature`` module).

* ``ed25519_validate_pubkey``: 32 bytes, canonical ``y < p``, a curve point,
  not of small order (Diem rejects small-subgroup keys);
* ``ed25519_verify``: a 64-byte signature with canonical ``S < L``, a valid
  public key as above, and libsodium's verification.

These live here rather than in ``libra.crypto.ed25519`` because that module
also handles key files and thread pools, which the framework may not import.
"""

from __future__ import annotations

from functools import lru_cache

import nacl.bindings
import nacl.exceptions

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _decompress(data: bytes) -> tuple[int, int] | None:
    y = int.from_bytes(data, "little") & ((1 << 255) - 1)
    if y >= _P:
        return None
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


def _double(point: tuple[int, int]) -> tuple[int, int]:
    x, y = point
    t = _D * x * x * y * y % _P
    return (2 * x * y * pow(1 + t, _P - 2, _P) % _P, (y * y + x * x) * pow(1 - t, _P - 2, _P) % _P)


@lru_cache(maxsize=4096)
def ed25519_validate_pubkey(key: bytes) -> bool:
    """True iff ``key`` is a strict Ed25519 public key."""
    if len(key) != 32:
        return False
    point = _decompress(key)
    if point is None:
        return False
    for _ in range(3):
        point = _double(point)
    return point != (0, 1)


def ed25519_verify(signature: bytes, public_key: bytes, message: bytes) -> bool:
    """True iff ``signature`` is a valid strict signature of ``message`` under ``public_key``."""
    if len(signature) != 64 or int.from_bytes(signature[32:], "little") >= _L:
        return False
    if not ed25519_validate_pubkey(public_key):
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except nacl.exceptions.BadSignatureError:
        return False
    return True
