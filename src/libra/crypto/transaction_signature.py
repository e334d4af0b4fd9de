"""The sender's signature on a transaction, shared by mempool admission and execution."""

from __future__ import annotations

from libra.crypto.ed25519 import verify_signature
from libra.crypto.hashing import signing_message
from libra.crypto.multi_ed25519 import MultiEd25519PublicKey, MultiEd25519Signature
from libra.types.transaction import Ed25519Authenticator, MultiEd25519Authenticator, SignedTransaction


def verify_transaction_signature(txn: SignedTransaction, raw_bytes: bytes) -> bool:
    """The sender's signature over ``seed(RawTransaction) ‖ raw``; multi-agent is not supported."""
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
