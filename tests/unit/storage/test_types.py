"""Ledger and proof wire types: round trips, layouts, Diem vectors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libra.bcs import BcsError
from libra.crypto.merkle import (
    ACCUMULATOR_PLACEHOLDER_HASH,
    SPARSE_MERKLE_PLACEHOLDER_HASH,
    hash_account_key,
)
from libra.storage.libradb import encode_transaction_info
from libra.types.ledger import (
    KEPT_EXECUTION_FAILURE,
    KEPT_MOVE_ABORT,
    AbortLocation,
    BlockInfo,
    EpochState,
    KeptVMStatus,
    LedgerInfo,
    LedgerInfoWithSignatures,
    TransactionInfo,
    ValidatorConsensusInfo,
    ValidatorVerifier,
)
from libra.types.move import AccountAddress, ModuleId
from libra.types.proof import (
    AccountStateProof,
    AccountStateWithProof,
    AccumulatorConsistencyProof,
    AccumulatorProof,
    AccumulatorRangeProof,
    EpochChangeProof,
    SparseMerkleLeafNode,
    SparseMerkleProof,
    TransactionInfoWithProof,
    TransactionListProof,
)

hashes = st.binary(min_size=32, max_size=32)
addresses = st.binary(min_size=16, max_size=16).map(AccountAddress)
u64 = st.integers(min_value=0, max_value=2**64 - 1)
locations = st.one_of(st.just(AbortLocation(None)), addresses.map(lambda a: AbortLocation(ModuleId(a, "Mod"))))
statuses = st.one_of(
    st.integers(0, 1).map(KeptVMStatus),
    st.just(KeptVMStatus(4)),
    st.builds(lambda loc, code: KeptVMStatus(KEPT_MOVE_ABORT, loc, abort_code=code), locations, u64),
    st.builds(
        lambda loc, f, o: KeptVMStatus(KEPT_EXECUTION_FAILURE, loc, function=f, code_offset=o),
        locations,
        st.integers(0, 65535),
        st.integers(0, 65535),
    ),
)
infos = st.builds(TransactionInfo, hashes, hashes, hashes, u64, statuses)
verifiers = st.dictionaries(
    addresses, st.builds(ValidatorConsensusInfo, st.binary(min_size=32, max_size=32), st.integers(0, 100)), max_size=4
).map(ValidatorVerifier.from_validators)
epoch_states = st.builds(EpochState, u64, verifiers)
block_infos = st.builds(BlockInfo, u64, u64, hashes, hashes, u64, u64, st.one_of(st.none(), epoch_states))
ledger_infos = st.builds(LedgerInfo, block_infos, hashes)
signed = st.builds(
    LedgerInfoWithSignatures.create, ledger_infos, st.dictionaries(addresses, st.binary(min_size=64, max_size=64), max_size=3)
)
sibling_lists = st.lists(hashes, max_size=5).map(tuple)
smt_proofs = st.builds(SparseMerkleProof, st.one_of(st.none(), st.builds(SparseMerkleLeafNode, hashes, hashes)), sibling_lists)
txn_proofs = st.builds(TransactionInfoWithProof, sibling_lists.map(AccumulatorProof), infos)


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        infos,
        signed,
        smt_proofs,
        txn_proofs,
        st.builds(AccumulatorRangeProof, sibling_lists, sibling_lists),
        st.builds(AccumulatorConsistencyProof, sibling_lists),
        st.builds(AccountStateWithProof, u64, st.one_of(st.none(), st.binary(max_size=50)), st.builds(AccountStateProof, txn_proofs, smt_proofs)),
        st.builds(TransactionListProof, st.builds(AccumulatorRangeProof, sibling_lists, sibling_lists), st.lists(infos, max_size=3).map(tuple)),
        st.builds(EpochChangeProof, st.lists(signed, max_size=2).map(tuple), st.booleans()),
    )
)
def test_round_trip(value):
    encoded = value.to_bcs()
    assert type(value).from_bcs(encoded) == value
    with pytest.raises(BcsError):
        type(value).from_bcs(encoded + b"\x00")


def test_transaction_info_layout():
    info = TransactionInfo(b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, 7)
    expected = "00" + ("20" + "01" * 32) + ("20" + "02" * 32) + ("20" + "03" * 32) + "0700000000000000" + "00"
    assert info.to_bcs().hex() == expected


def test_diem_constants_and_vectors():
    assert ACCUMULATOR_PLACEHOLDER_HASH == b"ACCUMULATOR_PLACEHOLDER_HASH\x00\x00\x00\x00"
    assert SPARSE_MERKLE_PLACEHOLDER_HASH == b"SPARSE_MERKLE_PLACEHOLDER_HASH\x00\x00"
    # types/src/account_address.rs `address_hash` test vector.
    address = bytes.fromhex("ca843279e3427144cead5e4d5999a3d0")
    assert hash_account_key(address).hex() == "6403c4906e79cf4536edada922040805c6a8d0e735fa4516a9cc40038bd125c8"


def test_quorum_rule():
    infos = {AccountAddress(bytes([i]) * 16): ValidatorConsensusInfo(bytes(32), 1) for i in range(4)}
    verifier = ValidatorVerifier.from_validators(infos)
    assert (verifier.quorum_voting_power, verifier.total_voting_power) == (3, 4)
    assert [a for a, _ in verifier.validators] == sorted(infos, key=lambda a: a.value)


def test_bad_hash_length_refused():
    with pytest.raises(BcsError):
        TransactionInfo(b"\x01" * 31, b"\x02" * 32, b"\x03" * 32, 7).to_bcs()
    bad = "00" + "1f" + "01" * 31 + ("20" + "02" * 32) * 2 + "0700000000000000" + "00"
    with pytest.raises(BcsError):
        TransactionInfo.from_bcs(bytes.fromhex(bad))


@settings(max_examples=200)
@given(infos)
def test_store_encodes_transaction_infos_as_bcs(info):
    assert encode_transaction_info(info) == info.to_bcs()


def test_store_refuses_to_encode_a_bad_transaction_info():
    with pytest.raises(BcsError):
        encode_transaction_info(TransactionInfo(bytes(31), bytes(32), bytes(32), 0))
    with pytest.raises(BcsError):
        encode_transaction_info(TransactionInfo(bytes(32), bytes(32), bytes(32), 1 << 64))
