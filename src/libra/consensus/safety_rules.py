"""Safety rules of DiemBFT v4 (2-chain): the only holder of the consensus private key.

Nothing else in the node signs votes, timeouts or proposals. The rules persist
:class:`~libra.types.consensus.SafetyData` through a :class:`SafetyStorage` *before*
a signature leaves this module, so that a crash at any point can never make the
validator sign two different votes for one round, even if every validator restarts
at once.

Voting (``construct_and_sign_vote``), in order:

1. The block is in the current epoch; its QC (and the TC, if any) verify.
2. If the stored last vote is for this block's round, return that very vote
   (idempotent re-delivery; never a second, different vote).
3. ``round > last_voted_round``; then ``last_voted_round = round``.
4. Safe to vote: ``round == qc.round + 1``, or
   ``round == tc.round + 1 and qc.round >= tc.highest_hqc_round``.
5. Observe the QC: ``one_chain_round = max(one_chain_round, qc.round)``,
   ``preferred_round = max(preferred_round, qc.parent.round)``.
6. The ledger info follows the 2-chain commit rule: it commits B0 (the block the QC
   certifies) iff ``round(B1) == round(B0) + 1`` for the voted block B1, else nothing.
7. Sign, store SafetyData with ``last_vote`` durably, return the vote.

Timing out (``sign_timeout``):

1. The timeout is in the current epoch; its QC (and the TC, if any) verify.
2. Safe to time out: ``round == qc.round + 1 or round == tc.round + 1``, and
   ``qc.round >= one_chain_round``.
3. ``round >= last_voted_round``; a higher round raises ``last_voted_round`` to it
   (so no vote for that round can follow) and is stored durably before signing.

Proposing (``sign_proposal``): the author is this validator, the epoch is current,
``round > last_voted_round`` and ``qc.round >= preferred_round``.

``unsafe_skip_round_check`` exists for tests only: it disables voting rules 2 and 3,
so the validator votes again in a round it already voted in. The Twins tests switch
it on to prove that the scenario generator finds the resulting safety violation.
"""

from __future__ import annotations

import dataclasses

from libra.consensus.errors import SafetyError, VerificationError
from libra.consensus.safety_storage import SafetyStorage
from libra.consensus.verification import (
    EMPTY_BLOCK_INFO,
    CertificateChecker,
    block_data_message,
    compute_block_id,
    compute_vote_data_hash,
    ledger_info_message,
    timeout_message,
)
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.types.consensus import (
    Block,
    BlockData,
    SafetyData,
    TwoChainTimeout,
    TwoChainTimeoutCertificate,
    Vote,
    VoteData,
)
from libra.types.ledger import BlockInfo, EpochState, LedgerInfo
from libra.types.move import AccountAddress


class SafetyRules:
    """Signs votes, timeouts and proposals only when the v4 rules allow it."""

    def __init__(
        self,
        author: AccountAddress,
        private_key: Ed25519PrivateKey,
        storage: SafetyStorage,
        *,
        unsafe_skip_round_check: bool = False,
    ) -> None:
        self.author = author
        self._key = private_key
        self._storage = storage
        self._checker: CertificateChecker | None = None
        self._unsafe_skip_round_check = unsafe_skip_round_check

    # ----------------------------------------------------------------------- state

    def initialize(self, epoch_state: EpochState) -> None:
        """Start (or resume) ``epoch_state.epoch``; data of an older epoch is reset.

        Raises SafetyError if the stored epoch is newer, or if this validator is not
        in the set with this key (it may still follow consensus without signing).
        """
        data = self._storage.load()
        if data is not None and data.epoch > epoch_state.epoch:
            raise SafetyError(f"stored safety data is for epoch {data.epoch} > {epoch_state.epoch}")
        if data is None or data.epoch < epoch_state.epoch:
            self._storage.store(SafetyData(epoch=epoch_state.epoch))
        self._checker = CertificateChecker(epoch_state.epoch, epoch_state.verifier)
        info = epoch_state.verifier.info_of(self.author)
        if info is None or info.public_key != self._key.public_key().to_bytes():
            self._checker = None
            raise SafetyError(f"{self.author} with this key is not a validator of epoch {epoch_state.epoch}")

    def consensus_state(self) -> SafetyData:
        """The persisted safety data (a copy; immutable)."""
        return self._load()

    def _load(self) -> SafetyData:
        data = self._storage.load()
        if data is None:
            raise SafetyError("safety rules are not initialized")
        return data

    def _ready(self) -> tuple[CertificateChecker, SafetyData]:
        if self._checker is None:
            raise SafetyError("safety rules are not initialized for an epoch they can sign in")
        return self._checker, self._load()

    def _verify(self, checker: CertificateChecker, epoch: int, data: SafetyData, *certs: object) -> None:
        """Epoch check and certificate verification (rule 1 of every operation)."""
        if epoch != data.epoch:
            raise SafetyError(f"epoch {epoch} is not the current epoch {data.epoch}")
        try:
            for cert in certs:
                if isinstance(cert, TwoChainTimeoutCertificate):
                    checker.verify_tc(cert)
                elif cert is not None:
                    checker.verify_qc(cert)  # type: ignore[arg-type]
        except VerificationError as exc:
            raise SafetyError(f"invalid certificate: {exc}") from None

    # ----------------------------------------------------------------------- voting

    def construct_and_sign_vote(
        self, block: Block, executed: BlockInfo, tc: TwoChainTimeoutCertificate | None = None
    ) -> Vote:
        """A vote for ``block`` as executed (``executed`` is its BlockInfo with the
        executed state id and version); see the voting rules in the module docstring."""
        checker, data = self._ready()
        self._verify(checker, block.epoch, data, block.quorum_cert, tc)
        self._check_executed(block, executed)
        round_ = block.round
        if not self._unsafe_skip_round_check:
            if data.last_vote is not None and data.last_vote.round == round_:
                return data.last_vote
            if round_ <= data.last_voted_round:
                raise SafetyError(f"round {round_} is not above last voted round {data.last_voted_round}")
        self._check_safe_to_vote(block, tc)
        qc = block.quorum_cert
        vote_data = VoteData(executed, qc.certified_block)
        ledger_info = LedgerInfo(self._commit_info_2chain(block), compute_vote_data_hash(vote_data))
        signature = self._key.sign(ledger_info_message(ledger_info)).to_bytes()
        vote = Vote(vote_data, self.author, ledger_info, signature)
        self._storage.store(
            dataclasses.replace(
                data,
                last_voted_round=max(data.last_voted_round, round_),
                one_chain_round=max(data.one_chain_round, qc.round),
                preferred_round=max(data.preferred_round, qc.parent_block.round),
                last_vote=vote,
            )
        )
        return vote

    @staticmethod
    def _check_executed(block: Block, executed: BlockInfo) -> None:
        """The executed BlockInfo describes this very block."""
        expected = (block.epoch, block.round, compute_block_id(block.block_data), block.timestamp_usecs)
        actual = (executed.epoch, executed.round, executed.id, executed.timestamp_usecs)
        if expected != actual:
            raise SafetyError("executed block info does not describe the proposed block")
        parent = block.quorum_cert.certified_block
        if executed.version < parent.version:
            raise SafetyError("executed version below the parent's")

    @staticmethod
    def _check_safe_to_vote(block: Block, tc: TwoChainTimeoutCertificate | None) -> None:
        """Rule 4: extend the QC of the previous round, or of a TC round without losing its highest QC."""
        round_, qc_round = block.round, block.quorum_cert.round
        tc_round = 0 if tc is None else tc.round
        hqc_round = 0 if tc is None else tc.highest_hqc_round
        if round_ == qc_round + 1 or (round_ == tc_round + 1 and qc_round >= hqc_round):
            return
        raise SafetyError(
            f"not safe to vote: round {round_}, qc {qc_round}, tc {tc_round}, tc hqc {hqc_round}"
        )

    @staticmethod
    def _commit_info_2chain(block: Block) -> BlockInfo:
        """Rule 6: the certified parent B0 commits iff the voted block B1 is in round(B0) + 1."""
        certified = block.quorum_cert.certified_block
        return certified if certified.round + 1 == block.round else EMPTY_BLOCK_INFO

    # ----------------------------------------------------------------------- timeouts

    def sign_timeout(self, timeout: TwoChainTimeout, tc: TwoChainTimeoutCertificate | None = None) -> bytes:
        """A signature on ``timeout``'s signing form; see the timeout rules above."""
        checker, data = self._ready()
        self._verify(checker, timeout.epoch, data, timeout.quorum_cert, tc)
        round_, qc_round = timeout.round, timeout.hqc_round
        tc_round = 0 if tc is None else tc.round
        if not ((round_ == qc_round + 1 or round_ == tc_round + 1) and qc_round >= data.one_chain_round):
            raise SafetyError(
                f"not safe to time out: round {round_}, qc {qc_round}, tc {tc_round}, "
                f"one-chain round {data.one_chain_round}"
            )
        if round_ < data.last_voted_round:
            raise SafetyError(f"timeout round {round_} below last voted round {data.last_voted_round}")
        if round_ > data.last_voted_round or round_ > data.highest_timeout_round:
            self._storage.store(
                dataclasses.replace(
                    data,
                    last_voted_round=max(data.last_voted_round, round_),
                    highest_timeout_round=max(data.highest_timeout_round, round_),
                )
            )
        return self._key.sign(timeout_message(timeout.signing_repr())).to_bytes()

    # ----------------------------------------------------------------------- proposals

    def sign_proposal(self, block_data: BlockData) -> bytes:
        """The author's signature on a new proposal of this validator."""
        checker, data = self._ready()
        if block_data.author != self.author:
            raise SafetyError("proposal author is not this validator")
        self._verify(checker, block_data.epoch, data, block_data.quorum_cert)
        if block_data.round <= data.last_voted_round:
            raise SafetyError(
                f"proposal round {block_data.round} not above last voted {data.last_voted_round}"
            )
        if block_data.quorum_cert.round < data.preferred_round:
            raise SafetyError(f"proposal QC round below preferred round {data.preferred_round}")
        return self._key.sign(block_data_message(block_data)).to_bytes()
