"""Admission does each piece of work once: decode, raw bytes for the signature, pooled encodings."""

from __future__ import annotations

import os

from libra.client import builders
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.crypto.hashing import user_transaction_hash
from libra.mempool import admission
from libra.mempool.pool import AddStatus, Mempool, encoding_of
from libra.types.move import AccountAddress
from libra.types.transaction import Script


def _signed(seq: int = 0) -> builders.SignedSubmission:
    return builders.sign_transaction(
        Ed25519PrivateKey.generate(), AccountAddress(os.urandom(16)), seq,
        builders.peer_to_peer_with_metadata("XUS", AccountAddress(os.urandom(16)), 1),
        chain_id=2, expiration_timestamp_secs=2**40,
    )


def test_decoded_once_and_raw_bytes_are_a_slice() -> None:
    signed = _signed()
    first = admission.decode_submission(signed.bcs)
    assert admission.decode_submission(bytes(signed.bcs)) is first  # remembered for admit
    assert first == signed.transaction
    assert admission.raw_transaction_bytes(first, signed.bcs) == signed.transaction.raw_txn.to_bcs()


def test_pooled_encodings_live_as_long_as_the_transaction_is_pooled() -> None:
    pool = Mempool()
    signed = _signed(3)
    txn = signed.transaction
    assert encoding_of(txn) is None
    assert pool.add(txn, signed.bcs, signed.hash, 3, now=0.0) is AddStatus.ACCEPTED
    assert encoding_of(txn) == (signed.bcs, signed.hash)
    assert encoding_of(admission.decode_submission(signed.bcs)) is None  # another object: no match by id
    pool.commit([(txn.raw_txn.sender, 4)])
    assert encoding_of(txn) is None
    other = _signed(0)
    pool.add(other.transaction, other.bcs, other.hash, 0, now=0.0)
    pool.remove(other.hash)
    assert encoding_of(other.transaction) is None


def test_preverify_records_the_signature_check_and_hash_for_those_exact_bytes() -> None:
    signed = _signed()
    admission.preverify(signed.bcs)
    assert admission._VERIFIED.pop(signed.bcs) == (True, signed.hash)
    tampered = signed.bcs[:-1] + bytes([signed.bcs[-1] ^ 1])
    admission.preverify(tampered)
    assert admission._VERIFIED.pop(tampered) == (False, user_transaction_hash(tampered))
    admission.preverify(b"\x01\x02")  # undecodable: left to admit
    assert b"\x01\x02" not in admission._VERIFIED


def test_preverify_all_records_what_preverify_records_for_every_shape() -> None:
    good = _signed(1)
    tampered = good.bcs[:-1] + bytes([good.bcs[-1] ^ 1])
    script = builders.sign_transaction(  # not the common shape: the Python decoder answers
        Ed25519PrivateKey.generate(), AccountAddress(os.urandom(16)), 0, Script(b"\x00code", (), ()),
        chain_id=2, expiration_timestamp_secs=2**40,
    )
    datas = [good.bcs, tampered, script.bcs, b"\x01\x02", good.bcs + b"\x00"]
    expected = {}
    for data in datas:
        admission.preverify(data)
        expected[data] = admission._VERIFIED.pop(data, None)
    assert expected[good.bcs] == (True, good.hash) and expected[script.bcs] == (True, script.hash)
    assert expected[tampered] is not None and expected[tampered][0] is False
    assert expected[b"\x01\x02"] is None and expected[good.bcs + b"\x00"] is None  # left to admit
    admission.preverify_all(datas)
    assert {data: admission._VERIFIED.pop(data, None) for data in datas} == expected


def _admit(pool: Mempool, data: bytes, checked: admission.Checked | None = None) -> admission.Admission:
    from libra.framework.state import InMemoryStateView

    return admission.admit(
        pool, InMemoryStateView(), data, chain_id=2, ledger_time_usecs=10**15, now=0.0, checked=checked
    )


def test_check_signatures_gives_what_admit_would_find() -> None:
    good = _signed().bcs
    tampered = good[:-1] + bytes([good[-1] ^ 1])
    garbage = b"\x01\x02"
    checked = admission.check_signatures([good, tampered, garbage])
    assert checked[0] is not None
    assert checked[0] == (admission.SignedTransaction.from_bcs(good), True, user_transaction_hash(good))
    assert checked[1] is not None and checked[1][1] is False
    assert checked[2] is None
    for data, found in zip([good, tampered, garbage], checked, strict=True):
        with_check, without = _admit(Mempool(), data, found), _admit(Mempool(), data)
        assert (with_check.status, with_check.vm_status) == (without.status, without.vm_status)
    assert _admit(Mempool(), tampered, checked[1]).vm_status == "INVALID_SIGNATURE"
    assert _admit(Mempool(), garbage, None).vm_status == "DESERIALIZATION_ERROR"


def test_admit_takes_the_given_check_for_those_bytes() -> None:
    """``checked`` replaces the decode and the signature check (so callers must pass what
    check_signatures found for exactly these bytes)."""
    signed = _signed()
    txn = admission.SignedTransaction.from_bcs(signed.bcs)
    refused = _admit(Mempool(), signed.bcs, (txn, False, signed.hash))
    assert refused.vm_status == "INVALID_SIGNATURE" and refused.txn is txn
    pool = Mempool()
    pool.add(txn, signed.bcs, signed.hash, 0, now=0.0)
    assert _admit(pool, signed.bcs, (txn, True, signed.hash)).status is AddStatus.ALREADY_PRESENT
