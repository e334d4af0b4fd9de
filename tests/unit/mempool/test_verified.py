"""The verified-signature cache and the proposal decoding that uses it."""

from __future__ import annotations

import pytest

from libra.client import builders
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.mempool.verified import VerifiedTransactions
from libra.node.validator import decode_payload
from libra.types.move import AccountAddress
from libra.types.transaction import SignedTransaction


def _signed(seq: int) -> tuple[bytes, SignedTransaction]:
    key = Ed25519PrivateKey.generate()
    sender = AccountAddress(bytes(15) + b"\x01")
    built = builders.sign_transaction(
        key, sender, seq, builders.peer_to_peer_with_metadata("XUS", AccountAddress(bytes(15) + b"\x02"), 5),
        chain_id=2, expiration_timestamp_secs=10**9,
    )
    data = built.transaction.to_bcs()
    return data, SignedTransaction.from_bcs(data)


def test_lookup_by_exact_bytes_and_oldest_first_eviction():
    cache = VerifiedTransactions(capacity=2)
    items = [_signed(seq) for seq in range(3)]
    for data, txn in items:
        cache.remember(data, txn)
    assert len(cache) == 2
    assert cache.lookup(items[0][0]) is None  # evicted first
    assert cache.lookup(items[2][0]) is items[2][1]
    assert cache.lookup(items[2][0] + b"\x00") is None
    with pytest.raises(ValueError):
        VerifiedTransactions(capacity=0)


def test_decode_payload_reuses_checked_transactions_and_decodes_the_rest():
    cache = VerifiedTransactions()
    (known_bytes, known), (other_bytes, other) = _signed(0), _signed(1)
    cache.remember(known_bytes, known)
    transactions, prechecked = decode_payload([known_bytes, b"\x01garbage", other_bytes], cache)
    assert transactions[0] is known and transactions[1] == other
    assert prechecked == [True, False]
    assert decode_payload([known_bytes], None) == ([known], [False])
