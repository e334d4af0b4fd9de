"""The two Ed25519 natives the framework calls (Move's ``Signature`` module), over
``libra.crypto.ed25519_strict`` so that the framework and the rest of the node apply
exactly the same strictness.

* ``ed25519_validate_pubkey``: a strict public key (see ``check_public_key_bytes``);
* ``ed25519_verify``: a valid key, a canonical signature and libsodium's verification.
"""

from __future__ import annotations

from functools import lru_cache

from libra.crypto.ed25519_strict import Ed25519Error, check_public_key_bytes, verify_signature


@lru_cache(maxsize=4096)
def ed25519_validate_pubkey(key: bytes) -> bool:
    """True iff ``key`` is a strict Ed25519 public key."""
    try:
        check_public_key_bytes(key)
    except Ed25519Error:
        return False
    return True


def ed25519_verify(signature: bytes, public_key: bytes, message: bytes) -> bool:
    """True iff ``signature`` is a valid strict signature of ``message`` under ``public_key``."""
    return ed25519_validate_pubkey(public_key) and verify_signature(public_key, message, signature)
