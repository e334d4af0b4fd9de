"""The sender's signature on a transaction, shared by mempool admission and execution.

The key signs ``seed("RawTransaction") ‖ BCS(raw)``; an Ed25519 or MultiEd25519 sender is
checked (multi-agent is not supported: false). On the native path both schemes run in the
core with exactly the reference's answers (``tests/unit/native/test_ed25519_verify.py``);
with ``LIBRA_CORE=python`` the reference below (PyNaCl) answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from libra.crypto.ed25519 import verify_signature
from libra.crypto.hashing import hash_seed, signing_message
from libra.crypto.multi_ed25519 import MultiEd25519PublicKey, MultiEd25519Signature
from libra.native import CORE
from libra.types.transaction import Ed25519Authenticator, MultiEd25519Authenticator, SignedTransaction

RAW_TRANSACTION_SEED = hash_seed("RawTransaction")

_ED25519 = 0
_MULTI_ED25519 = 1


def verify_transaction_signature_reference(txn: SignedTransaction, raw_bytes: bytes) -> bool:
    """The rule, over the Python types (PyNaCl through ``verify_signature`` on the reference path)."""
    auth = txn.authenticator
    message = signing_message(raw_bytes)
    if isinstance(auth, Ed25519Authenticator):
        return verify_signature(auth.public_key, message, auth.signature)
    if isinstance(auth, MultiEd25519Authenticator):
        try:
            key = MultiEd25519PublicKey.from_bytes(auth.public_key)
            signature = MultiEd25519Signature.from_bytes(auth.signature)
        except ValueError:
            return False
        return key.verify(message, signature)
    return False


def _verify_native(txn: SignedTransaction, raw_bytes: bytes) -> bool:
    auth = txn.authenticator
    assert CORE is not None
    if isinstance(auth, Ed25519Authenticator):
        return CORE.ed25519_verify(auth.public_key, RAW_TRANSACTION_SEED + raw_bytes, auth.signature)  # type: ignore[no-any-return]
    if isinstance(auth, MultiEd25519Authenticator):
        return CORE.multi_ed25519_verify(auth.public_key, RAW_TRANSACTION_SEED + raw_bytes, auth.signature)  # type: ignore[no-any-return]
    return False


verify_transaction_signature = verify_transaction_signature_reference if CORE is None else _verify_native
"""``verify_transaction_signature(txn, raw_bytes)``: the sender's signature over ``raw_bytes``
(the BCS of ``txn.raw_txn``). One check, on the calling thread, GIL held."""


def verify_transaction_signatures(transactions: Sequence[SignedTransaction], raw_bytes: Sequence[bytes]) -> list[bool]:
    """:func:`verify_transaction_signature` of each pair, in order. Natively one call for the
    whole list: the GIL is released and the checks spread over the cores."""
    if len(transactions) != len(raw_bytes):
        raise ValueError("one raw transaction per transaction is needed")
    if CORE is None:
        return [verify_transaction_signature_reference(t, r) for t, r in zip(transactions, raw_bytes, strict=True)]
    items = []
    positions = []  # where each native item's answer goes; other authenticators are false
    for index, (txn, raw) in enumerate(zip(transactions, raw_bytes, strict=True)):
        auth = txn.authenticator
        if isinstance(auth, Ed25519Authenticator):
            items.append((_ED25519, auth.public_key, raw, auth.signature))
        elif isinstance(auth, MultiEd25519Authenticator):
            items.append((_MULTI_ED25519, auth.public_key, raw, auth.signature))
        else:
            continue
        positions.append(index)
    answers = [False] * len(transactions)
    for index, valid in zip(positions, CORE.verify_signatures(items, RAW_TRANSACTION_SEED), strict=True):
        answers[index] = valid
    return answers
