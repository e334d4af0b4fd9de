"""Sizes of verified transactions are computed without encoding them, and match their BCS."""

from __future__ import annotations

import os

from libra.client import builders
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.execution.executor import raw_transaction_size
from libra.types.move import AccountAddress


def test_raw_transaction_size_matches_bcs() -> None:
    key = Ed25519PrivateKey.generate()
    payee = AccountAddress(os.urandom(16))
    payloads = [
        builders.peer_to_peer_with_metadata("XUS", payee, 5),
        builders.peer_to_peer_with_metadata("XUS", payee, 2**64 - 1, b"m" * 300, b"s" * 64),
        builders.create_child_vasp_account("XDX", payee, b"a" * 16, True, 10**18),
        builders.add_diem_id_domain(payee, b"example"),
        builders.rotate_authentication_key(b"k" * 32),
    ]
    for payload in payloads:
        for seq in (0, 2**63):
            signed = builders.sign_transaction(
                key, AccountAddress(os.urandom(16)), seq, payload, chain_id=2, expiration_timestamp_secs=2**40
            ).transaction
            assert raw_transaction_size(signed.raw_txn) == len(signed.raw_txn.to_bcs())
