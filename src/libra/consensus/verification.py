"""Hashes, signing messages and stateless checks of consensus wire types.

Every signed value is signed over ``hash_seed(TypeName) || BCS(value)`` (Diem's
``signing_message``): ``LedgerInfo`` for votes and QCs, ``TimeoutSigningRepr`` for
timeouts, ``BlockData`` for proposals. Ids are ``hash_with_salt(TypeName, BCS)``:
a block's id is the hash of its ``BlockData``; a ledger info's ``consensus_data_hash``
is the hash of the ``VoteData``.

:class:`CertificateChecker` binds the checks to one epoch's validator set and
remembers certificates it already verified, so a QC carried by many messages
costs its signature checks once. Every check raises
:class:`~libra.consensus.errors.VerificationError` and mutates nothing else (but the
caches of valid certificates and, if given, of valid signatures).
"""

from __future__ import annotations

from collections.abc import Iterable

from libra.consensus.errors import VerificationError
from libra.crypto.ed25519 import verify_signature
from libra.crypto.hashing import hash_seed, hash_with_salt
from libra.types.consensus import (
    BLOCK_GENESIS,
    BLOCK_NIL,
    Block,
    BlockData,
    ProposalMsg,
    QuorumCert,
    SyncInfo,
    TimeoutMsg,
    TimeoutSigningRepr,
    TwoChainTimeout,
    TwoChainTimeoutCertificate,
    Vote,
    VoteData,
    VoteMsg,
)
from libra.types.ledger import BlockInfo, LedgerInfo, ValidatorVerifier
from libra.types.move import AccountAddress

ZERO_HASH = bytes(32)
ACCUMULATOR_PLACEHOLDER_HASH = b"ACCUMULATOR_PLACEHOLDER_HASH".ljust(32, b"\x00")
EMPTY_BLOCK_INFO = BlockInfo(0, 0, ZERO_HASH, ACCUMULATOR_PLACEHOLDER_HASH, 0, 0, None)
MAX_TIMESTAMP_DRIFT_USECS = 5 * 60 * 1_000_000
_CACHE_LIMIT = 4096

# Signatures already found valid, as (public key, message, signature). Verification is a
# pure function, so nodes of one process (the Twins simulator) may share one cache.
SignatureCache = set[tuple[bytes, bytes, bytes]]


def compute_block_id(block_data: BlockData) -> bytes:
    """A block's id: ``hash_with_salt("BlockData", BCS(block_data))`` (kept by the block data,
    which is immutable: ids are asked for several times per block)."""
    return block_data.cached_id(_hash_block_data)


def _hash_block_data(block_data: BlockData) -> bytes:
    return hash_with_salt("BlockData", block_data.to_bcs())


def compute_vote_data_hash(vote_data: VoteData) -> bytes:
    return hash_with_salt("VoteData", vote_data.to_bcs())


def ledger_info_message(ledger_info: LedgerInfo) -> bytes:
    return hash_seed("LedgerInfo") + ledger_info.to_bcs()


def timeout_message(repr_: TimeoutSigningRepr) -> bytes:
    return hash_seed("TimeoutSigningRepr") + repr_.to_bcs()


def block_data_message(block_data: BlockData) -> bytes:
    return hash_seed("BlockData") + block_data.to_bcs()


def is_empty_commit(info: BlockInfo) -> bool:
    """True when a ledger info commits nothing (``BlockInfo::empty``)."""
    return info == EMPTY_BLOCK_INFO


def check(condition: bool, message: str) -> None:
    """Raise :class:`VerificationError` with ``message`` unless ``condition``."""
    if not condition:
        raise VerificationError(message)


def check_vote_data(vote_data: VoteData) -> None:
    """Parent and proposed are in one epoch, with rounds, times and versions in order."""
    proposed, parent = vote_data.proposed, vote_data.parent
    check(parent.epoch == proposed.epoch, "vote data: parent and proposed in different epochs")
    check(parent.round < proposed.round, "vote data: parent round not below proposed round")
    check(parent.timestamp_usecs <= proposed.timestamp_usecs, "vote data: parent timestamp after proposed")
    check(parent.version <= proposed.version, "vote data: parent version after proposed")


def check_block_well_formed(block: Block) -> None:
    """Checks of a block that need neither keys nor local state (Diem ``verify_well_formed``):

    1. a genesis block is never accepted from the network;
    2. same epoch as the parent (the QC's certified block), round above the parent's;
    3. a child of an epoch-ending block has an empty payload and the parent's timestamp;
    4. otherwise the timestamp is strictly above the parent's (NIL blocks keep it).
    """
    data = block.block_data
    parent = data.quorum_cert.certified_block
    check(data.kind != BLOCK_GENESIS, "genesis block from the network")
    check(data.epoch == parent.epoch, "block epoch differs from its parent's")
    check(data.round > parent.round, "block round not above its parent's")
    check(data.quorum_cert.commit_info.round <= parent.round, "QC commits a block above the one it certifies")
    if parent.next_epoch_state is not None or data.kind == BLOCK_NIL:
        check(not data.payload, "reconfiguration suffix block carries a payload")
        check(data.timestamp_usecs == parent.timestamp_usecs, "suffix block timestamp differs from parent")
    else:
        check(data.timestamp_usecs > parent.timestamp_usecs, "block timestamp not above its parent's")


class CertificateChecker:
    """Signature and voting-power checks against one epoch's validator set."""

    def __init__(
        self, epoch: int, verifier: ValidatorVerifier, signature_cache: SignatureCache | None = None
    ) -> None:
        self.epoch = epoch
        self._signature_cache = signature_cache
        self.verifier = verifier
        self._keys = {address: info.public_key for address, info in verifier.validators}
        self._power = {address: info.voting_power for address, info in verifier.validators}
        self._verified_qcs: set[QuorumCert] = set()
        self._verified_tcs: set[TwoChainTimeoutCertificate] = set()

    def is_validator(self, author: AccountAddress) -> bool:
        return author in self._keys

    def voting_power(self, authors: Iterable[AccountAddress]) -> int:
        return sum(self._power.get(author, 0) for author in set(authors))

    def has_quorum(self, authors: Iterable[AccountAddress]) -> bool:
        return self.voting_power(authors) >= self.verifier.quorum_voting_power

    def check_voting_power(self, authors: Iterable[AccountAddress]) -> None:
        """Every author is a validator and together they hold a quorum (> 2/3)."""
        authors = list(authors)
        for author in authors:
            check(author in self._keys, f"signer {author} is not a validator of epoch {self.epoch}")
        check(self.has_quorum(authors), "signers do not hold more than 2/3 of the voting power")

    def check_signature(self, author: AccountAddress, message: bytes, signature: bytes) -> None:
        key = self._keys.get(author)
        check(key is not None, f"{author} is not a validator of epoch {self.epoch}")
        assert key is not None
        cache, entry = self._signature_cache, (key, message, signature)
        if cache is not None and entry in cache:
            return
        check(verify_signature(key, message, signature), f"bad signature by {author}")
        if cache is not None:
            if len(cache) >= 16 * _CACHE_LIMIT:
                cache.clear()
            cache.add(entry)

    # ----------------------------------------------------------------------- certificates

    def verify_qc(self, qc: QuorumCert) -> None:
        """A QC: its ledger info binds its vote data; a genesis QC has no signatures and
        certifies itself; any other carries a quorum of valid signatures."""
        if qc in self._verified_qcs:
            return
        ledger_info = qc.ledger_info
        check(ledger_info.consensus_data_hash == compute_vote_data_hash(qc.vote_data), "QC hash mismatch")
        if qc.certified_block.round == 0:
            check(qc.parent_block == qc.certified_block, "genesis QC parent differs from certified block")
            check(qc.commit_info == qc.certified_block, "genesis QC commits another block")
            check(not qc.signed_ledger_info.signatures, "genesis QC carries signatures")
        else:
            check(qc.certified_block.epoch == self.epoch, "QC from another epoch")
            check_vote_data(qc.vote_data)
            signers = [author for author, _ in qc.signed_ledger_info.signatures]
            self.check_voting_power(signers)
            message = ledger_info_message(ledger_info)
            for author, signature in qc.signed_ledger_info.signatures:
                self.check_signature(author, message, signature)
        if len(self._verified_qcs) >= _CACHE_LIMIT:
            self._verified_qcs.clear()
        self._verified_qcs.add(qc)

    def verify_tc(self, tc: TwoChainTimeoutCertificate) -> None:
        """A TC (Diem ``TwoChainTimeoutCertificate::verify``):

        1. the carried highest QC is valid and below the timeout round;
        2. its signers hold a quorum, each signing (epoch, round, their hqc_round);
        3. the carried QC's round is the highest signed hqc_round.
        """
        if tc in self._verified_tcs:
            return
        check(tc.epoch == self.epoch, "TC from another epoch")
        check(tc.timeout.hqc_round < tc.round, "TC round not above its QC round")
        self.verify_qc(tc.timeout.quorum_cert)
        self.check_voting_power(tc.signers())
        highest = 0
        for author, (hqc_round, signature) in tc.signatures:
            message = timeout_message(TimeoutSigningRepr(tc.epoch, tc.round, hqc_round))
            self.check_signature(author, message, signature)
            highest = max(highest, hqc_round)
        check(highest == tc.highest_hqc_round, "TC QC round differs from the highest signed round")
        if len(self._verified_tcs) >= _CACHE_LIMIT:
            self._verified_tcs.clear()
        self._verified_tcs.add(tc)

    def verify_sync_info(self, sync_info: SyncInfo) -> None:
        """All certificates in this epoch, the commit cert not above the highest QC, all valid."""
        commit_cert = sync_info.commit_cert
        check(sync_info.epoch == self.epoch, "sync info from another epoch")
        check(commit_cert.certified_block.epoch == self.epoch, "commit cert from another epoch")
        check(sync_info.hqc_round >= commit_cert.round, "commit cert above the highest QC")
        check(not is_empty_commit(commit_cert.commit_info), "commit cert commits nothing")
        self.verify_qc(sync_info.highest_quorum_cert)
        self.verify_qc(commit_cert)
        if sync_info.highest_timeout_cert is not None:
            self.verify_tc(sync_info.highest_timeout_cert)

    # ----------------------------------------------------------------------- messages

    def verify_block(self, block: Block) -> None:
        """Well-formed, proposed by a validator who signed it, with a valid QC."""
        check_block_well_formed(block)
        check(block.epoch == self.epoch, "block from another epoch")
        author = block.author
        if block.block_data.kind != BLOCK_NIL:
            check(author is not None and block.signature is not None, "unsigned proposal")
            assert author is not None and block.signature is not None
            self.check_signature(author, block_data_message(block.block_data), block.signature)
        self.verify_qc(block.quorum_cert)

    def verify_vote(self, vote: Vote) -> None:
        """The ledger info binds the vote data, the author signed it, and any timeout too."""
        check(vote.epoch == self.epoch, "vote from another epoch")
        check(
            vote.ledger_info.consensus_data_hash == compute_vote_data_hash(vote.vote_data),
            "vote hash mismatch",
        )
        check_vote_data(vote.vote_data)
        self.check_signature(vote.author, ledger_info_message(vote.ledger_info), vote.signature)
        if vote.two_chain_timeout is not None:
            timeout, signature = vote.two_chain_timeout
            self.verify_timeout(vote.author, timeout, signature)

    def verify_timeout(self, author: AccountAddress, timeout: TwoChainTimeout, signature: bytes) -> None:
        check(timeout.epoch == self.epoch, "timeout from another epoch")
        check(timeout.hqc_round < timeout.round, "timeout round not above its QC round")
        self.check_signature(author, timeout_message(timeout.signing_repr()), signature)
        self.verify_qc(timeout.quorum_cert)

    def verify_proposal_msg(self, msg: ProposalMsg) -> None:
        """Diem ``ProposalMsg::verify``: the block extends the sync info's highest QC and its
        round follows the highest certified round (QC or TC) directly."""
        block = msg.proposal
        check(block.block_data.kind not in (BLOCK_NIL, BLOCK_GENESIS), "proposal is not a proposal block")
        check(
            block.parent_id == msg.sync_info.highest_quorum_cert.certified_block.id, "proposal not on the HQC"
        )
        highest_certified = max(block.quorum_cert.round, msg.sync_info.htc_round)
        check(block.round == highest_certified + 1, "proposal round does not follow the certified round")
        self.verify_block(block)
        self.verify_sync_info(msg.sync_info)

    def verify_vote_msg(self, msg: VoteMsg) -> None:
        self.verify_vote(msg.vote)
        self.verify_sync_info(msg.sync_info)

    def verify_timeout_msg(self, msg: TimeoutMsg) -> None:
        self.verify_timeout(msg.author, msg.timeout, msg.signature)
        self.verify_sync_info(msg.sync_info)


def verify_quorum_cert(qc: QuorumCert, verifier: ValidatorVerifier, epoch: int) -> None:
    """Stand-alone form of :meth:`CertificateChecker.verify_qc`."""
    CertificateChecker(epoch, verifier).verify_qc(qc)


def verify_timeout_cert(tc: TwoChainTimeoutCertificate, verifier: ValidatorVerifier) -> None:
    """Stand-alone form of :meth:`CertificateChecker.verify_tc`."""
    CertificateChecker(tc.epoch, verifier).verify_tc(tc)
