"""BCS layouts of consensus messages, and the stateless checks of certificates."""

from __future__ import annotations

import dataclasses

import pytest
from consensus_helpers import Committee

from libra.bcs import BcsError
from libra.consensus.errors import VerificationError
from libra.consensus.verification import (
    CertificateChecker,
    compute_block_id,
    verify_quorum_cert,
    verify_timeout_cert,
)
from libra.types.consensus import (
    RETRIEVAL_SUCCEEDED,
    BlockRetrievalRequest,
    BlockRetrievalResponse,
    EpochChangeProof,
    EpochRetrievalRequest,
    ProposalMsg,
    SafetyData,
    SyncInfo,
    TimeoutMsg,
    TwoChainTimeout,
    Vote,
    VoteMsg,
    decode_consensus_msg,
    encode_consensus_msg,
)
from libra.types.ledger import LedgerInfoWithSignatures


def _messages(committee: Committee) -> list[object]:
    blocks, qcs = committee.chain([1, 2, 3])
    tc = committee.tc(5, {0: qcs[2], 1: qcs[1], 2: qcs[0]})
    sync_info = SyncInfo(qcs[2], qcs[1], tc)
    rules = committee.safety_rules(0)
    vote = rules.construct_and_sign_vote(blocks[0], committee.executed(blocks[0]))
    timeout = TwoChainTimeout(1, 4, qcs[2])
    return [
        ProposalMsg(blocks[2], sync_info),
        VoteMsg(vote, SyncInfo(qcs[0])),
        TimeoutMsg(timeout, committee.authors[1], b"\x01" * 64, sync_info),
        sync_info,
        BlockRetrievalRequest(compute_block_id(blocks[2].block_data), 3),
        BlockRetrievalResponse(RETRIEVAL_SUCCEEDED, tuple(reversed(blocks))),
        EpochRetrievalRequest(1, 2),
        EpochChangeProof((qcs[0].signed_ledger_info,), more=False),
    ]


def test_every_message_round_trips_through_bcs_and_the_envelope(committee: Committee) -> None:
    for message in _messages(committee):
        encoded = message.to_bcs()  # type: ignore[attr-defined]
        assert type(message).from_bcs(encoded) == message  # type: ignore[attr-defined]
        assert decode_consensus_msg(encode_consensus_msg(message)) == message  # type: ignore[arg-type]


def test_decoding_is_strict(committee: Committee) -> None:
    message = _messages(committee)[0]
    encoded = encode_consensus_msg(message)  # type: ignore[arg-type]
    with pytest.raises(BcsError):
        decode_consensus_msg(encoded + b"\x00")
    with pytest.raises(BcsError):
        decode_consensus_msg(b"\x09" + encoded[1:])
    with pytest.raises(BcsError):
        decode_consensus_msg(encoded[:-1])


def test_block_id_is_salted_hash_of_block_data_and_ignores_signature(committee: Committee) -> None:
    block = committee.chain([1])[0][0]
    unsigned = dataclasses.replace(block, signature=None)
    assert compute_block_id(block.block_data) == compute_block_id(unsigned.block_data)
    assert len(compute_block_id(block.block_data)) == 32


def test_safety_data_round_trips(committee: Committee) -> None:
    rules = committee.safety_rules(1)
    block = committee.chain([1])[0][0]
    rules.construct_and_sign_vote(block, committee.executed(block))
    data = rules.consensus_state()
    assert isinstance(data.last_vote, Vote)
    assert SafetyData.from_bcs(data.to_bcs()) == data


# --------------------------------------------------------------------------- verification


def test_quorum_cert_needs_more_than_two_thirds(committee: Committee) -> None:
    block = committee.chain([1])[0][0]
    verify_quorum_cert(committee.qc(block, range(3)), committee.verifier, 1)
    with pytest.raises(VerificationError, match="2/3"):
        verify_quorum_cert(committee.qc(block, range(2)), committee.verifier, 1)


def test_quorum_cert_rejects_bad_signature_and_hash_mismatch(committee: Committee) -> None:
    block = committee.chain([1])[0][0]
    qc = committee.qc(block)
    signatures = list(qc.signed_ledger_info.signatures)
    signatures[0] = (signatures[0][0], signatures[1][1])
    forged = dataclasses.replace(
        qc, signed_ledger_info=LedgerInfoWithSignatures(qc.ledger_info, tuple(signatures))
    )
    with pytest.raises(VerificationError, match="bad signature"):
        verify_quorum_cert(forged, committee.verifier, 1)
    other = committee.qc(committee.block(1, committee.genesis_qc, payload=(b"other",)))
    mixed = dataclasses.replace(qc, vote_data=other.vote_data)
    with pytest.raises(VerificationError, match="hash mismatch"):
        verify_quorum_cert(mixed, committee.verifier, 1)


def test_genesis_qc_verifies_without_signatures(committee: Committee) -> None:
    verify_quorum_cert(committee.genesis_qc, committee.verifier, 1)


def test_timeout_certificate_checks(committee: Committee) -> None:
    _, qcs = committee.chain([1, 2, 3])
    tc = committee.tc(4, {0: qcs[0], 1: qcs[1], 2: qcs[2]})
    verify_timeout_cert(tc, committee.verifier)
    assert tc.highest_hqc_round == 3
    too_few = dataclasses.replace(tc, signatures=tc.signatures[:2])
    with pytest.raises(VerificationError):
        verify_timeout_cert(too_few, committee.verifier)
    lower_qc = dataclasses.replace(tc, timeout=TwoChainTimeout(1, 4, qcs[1]))
    with pytest.raises(VerificationError, match="highest signed"):
        verify_timeout_cert(lower_qc, committee.verifier)
    stale = dataclasses.replace(tc, timeout=TwoChainTimeout(1, 3, qcs[2]))
    with pytest.raises(VerificationError):
        verify_timeout_cert(stale, committee.verifier)


def test_sync_info_commit_cert_cannot_exceed_highest_qc(committee: Committee) -> None:
    _, qcs = committee.chain([1, 2, 3])
    checker = CertificateChecker(1, committee.verifier)
    checker.verify_sync_info(SyncInfo(qcs[2], qcs[1]))
    with pytest.raises(VerificationError):
        checker.verify_sync_info(SyncInfo(qcs[1], qcs[2]))


def test_proposal_must_extend_the_sync_info_hqc_and_follow_its_round(committee: Committee) -> None:
    blocks, qcs = committee.chain([1, 2])
    checker = CertificateChecker(1, committee.verifier)
    proposal = committee.block(3, qcs[1], author=3)
    checker.verify_proposal_msg(ProposalMsg(proposal, SyncInfo(qcs[1])))
    with pytest.raises(VerificationError, match="HQC"):
        checker.verify_proposal_msg(ProposalMsg(proposal, SyncInfo(qcs[0])))
    skipping = committee.block(5, qcs[1], author=1)
    with pytest.raises(VerificationError, match="round"):
        checker.verify_proposal_msg(ProposalMsg(skipping, SyncInfo(qcs[1])))
    tc = committee.tc(4, {0: qcs[1], 1: qcs[1], 2: qcs[1]})
    checker.verify_proposal_msg(ProposalMsg(skipping, SyncInfo(qcs[1], None, tc)))
    resigned = dataclasses.replace(proposal, signature=blocks[0].signature)
    with pytest.raises(VerificationError, match="bad signature"):
        checker.verify_proposal_msg(ProposalMsg(resigned, SyncInfo(qcs[1])))


def test_block_data_encodes_once_and_a_changed_copy_encodes_afresh(committee: Committee) -> None:
    """The BCS a block's data keeps is the BCS of its fields: a decoded copy equals it (the
    cache takes no part in equality), and a copy with another payload has its own encoding."""
    data = committee.chain([1, 2])[0][1].block_data
    first = data.to_bcs()
    assert data.to_bcs() is first  # encoded once
    decoded = type(data).from_bcs(first)
    assert decoded == data and decoded.to_bcs() == first
    changed = dataclasses.replace(data, payload=(b"\x01\x02",))
    assert changed != data
    assert changed.to_bcs() != first
    assert type(data).from_bcs(changed.to_bcs()).payload == (b"\x01\x02",)
    assert compute_block_id(changed) != compute_block_id(data)
    assert compute_block_id(data) is compute_block_id(data)  # hashed once
    assert compute_block_id(decoded) == compute_block_id(data)
