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


def test_sizes_the_caller_knows_are_the_ones_checked() -> None:
    """Given sizes replace the computed ones: the same outputs when they are the BCS sizes,
    and a size over the limit is refused as such (so the given size is what is checked)."""
    from testchain import TestChain

    from libra.execution import execute_block
    from libra.execution.executor import signed_transaction_size

    chain = TestChain()
    alice = chain.new_parent_vasp("alice", fund=10**7)
    bob = chain.new_parent_vasp("bob")
    txns = [chain.p2p(alice, bob.address, 5), chain.p2p(alice, bob.address, 6, b"m" * 100)]
    assert [signed_transaction_size(t) for t in txns] == [len(t.to_bcs()) for t in txns]
    metadata = chain.metadata()
    for verify in (False, True):
        plain = execute_block(chain.view, metadata, txns, chain_id=2, verify=verify)
        given = execute_block(chain.view, metadata, txns, chain_id=2, verify=verify, sizes=[len(t.to_bcs()) for t in txns])
        assert given == plain
        half = execute_block(chain.view, metadata, txns, chain_id=2, verify=verify, sizes=[None, len(txns[1].to_bcs())])
        assert half == plain
        too_big = execute_block(chain.view, metadata, txns, chain_id=2, verify=verify, sizes=[4097, None])
        assert too_big.transaction_outputs[0].status.status_code == "EXCEEDED_MAX_TRANSACTION_SIZE"  # type: ignore[union-attr]
