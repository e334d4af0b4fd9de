"""Aggregation: one vote per author, QC on a quorum of one ledger info, TC with the highest QC."""

from __future__ import annotations

from consensus_helpers import Committee

from libra.consensus.pending_votes import PendingVotes
from libra.consensus.verification import CertificateChecker, timeout_message
from libra.types.consensus import TwoChainTimeout


def test_votes_aggregate_into_a_qc_once(committee: Committee) -> None:
    blocks, _ = committee.chain([1])
    rules = [committee.safety_rules(i) for i in range(4)]
    votes = [r.construct_and_sign_vote(blocks[0], committee.executed(blocks[0])) for r in rules]
    checker = CertificateChecker(1, committee.verifier)
    pending = PendingVotes(checker, 1)
    assert pending.insert_vote(votes[0]).qc is None
    assert pending.insert_vote(votes[0]).qc is None  # a repeat counts once
    assert pending.insert_vote(votes[1]).qc is None
    qc = pending.insert_vote(votes[2]).qc
    assert qc is not None and len(qc.signed_ledger_info.signatures) == 3
    checker.verify_qc(qc)
    assert pending.insert_vote(votes[3]).qc is None  # formed already


def test_a_second_different_vote_is_equivocation(committee: Committee) -> None:
    blocks, qcs = committee.chain([1, 2])
    other = committee.block(2, qcs[0], payload=(b"other",))
    voter = committee.safety_rules(1, unsafe_skip_round_check=True)
    first = voter.construct_and_sign_vote(blocks[1], committee.executed(blocks[1]))
    second = voter.construct_and_sign_vote(other, committee.executed(other))
    pending = PendingVotes(CertificateChecker(1, committee.verifier), 2)
    assert not pending.insert_vote(first).equivocation
    outcome = pending.insert_vote(second)
    assert outcome.equivocation and outcome.qc is None


def test_timeouts_form_a_tc_carrying_the_highest_qc(committee: Committee) -> None:
    _, qcs = committee.chain([1, 2, 3])
    checker = CertificateChecker(1, committee.verifier)
    pending = PendingVotes(checker, 4)
    tc = None
    for index, qc in enumerate(qcs):
        timeout = TwoChainTimeout(1, 4, qc)
        signature = committee.keys[index].sign(timeout_message(timeout.signing_repr())).to_bytes()
        tc = pending.insert_timeout(committee.authors[index], timeout, signature)
        assert (tc is None) == (index < 2)
        assert pending.timeout_power() == index + 1
    assert tc is not None and tc.highest_hqc_round == 3
    checker.verify_tc(tc)
