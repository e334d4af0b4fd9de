"""Aggregation of one round's votes into a QC and timeouts into a TC.

Rules:

1. One vote per author per round: a repeat of the same vote is ignored; a different
   vote by the same author in the same round is equivocation, reported and ignored.
   (A Twins pair shares one key, so its second vote counts as that duplicate.)
2. Votes are grouped by the exact ``LedgerInfo`` they sign; the first group whose
   signers reach the quorum forms the QC.
3. Timeouts for the round are collected per author; once their signers reach the
   quorum, the TC carries the timeout with the highest QC and each signer's
   ``(hqc_round, signature)``.

Inputs are verified already; this module only counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from libra.consensus.verification import CertificateChecker
from libra.types.consensus import QuorumCert, TwoChainTimeout, TwoChainTimeoutCertificate, Vote
from libra.types.ledger import LedgerInfo, LedgerInfoWithSignatures
from libra.types.move import AccountAddress


@dataclass(slots=True)
class VoteOutcome:
    """What inserting a vote produced: a new QC, an equivocation, or nothing."""

    qc: QuorumCert | None = None
    equivocation: bool = False


@dataclass(slots=True)
class PendingVotes:
    """Votes and timeouts of the current round."""

    checker: CertificateChecker
    round: int
    _by_author: dict[AccountAddress, Vote] = field(default_factory=dict)
    _by_ledger_info: dict[LedgerInfo, dict[AccountAddress, bytes]] = field(default_factory=dict)
    _qc_formed: bool = False
    _timeouts: dict[AccountAddress, tuple[TwoChainTimeout, bytes]] = field(default_factory=dict)
    _tc_formed: bool = False

    def insert_vote(self, vote: Vote) -> VoteOutcome:
        """Count ``vote``; return the QC the first time a ledger info reaches the quorum."""
        previous = self._by_author.get(vote.author)
        if previous is not None:
            return VoteOutcome(equivocation=previous.ledger_info != vote.ledger_info)
        self._by_author[vote.author] = vote
        signatures = self._by_ledger_info.setdefault(vote.ledger_info, {})
        signatures[vote.author] = vote.signature
        if self._qc_formed or not self.checker.has_quorum(signatures):
            return VoteOutcome()
        self._qc_formed = True
        signed = LedgerInfoWithSignatures.create(vote.ledger_info, signatures)
        return VoteOutcome(qc=QuorumCert(vote.vote_data, signed))

    def insert_timeout(
        self, author: AccountAddress, timeout: TwoChainTimeout, signature: bytes
    ) -> TwoChainTimeoutCertificate | None:
        """Count a timeout; return the TC the first time the signers reach the quorum."""
        if author in self._timeouts:
            return None
        self._timeouts[author] = (timeout, signature)
        if self._tc_formed or not self.checker.has_quorum(self._timeouts):
            return None
        self._tc_formed = True
        highest = max((t for t, _ in self._timeouts.values()), key=lambda t: t.hqc_round)
        signatures = sorted(
            ((a, (t.hqc_round, s)) for a, (t, s) in self._timeouts.items()), key=lambda item: item[0].value
        )
        return TwoChainTimeoutCertificate(highest, tuple(signatures))

    def timeout_power(self) -> int:
        """Voting power of the validators that timed out this round."""
        return self.checker.voting_power(self._timeouts)
