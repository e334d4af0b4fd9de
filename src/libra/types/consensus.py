"""Consensus wire types of DiemBFT v4 (2-chain), with their BCS layouts.

Layouts follow Diem's ``consensus/consensus-types`` (``block_data.rs``, ``block.rs``,
``vote_data.rs``, ``vote.rs``, ``quorum_cert.rs``, ``timeout_2chain.rs``,
``sync_info.rs``, ``proposal_msg.rs``, ``block_retrieval.rs``, ``safety_data.rs``)::

    BlockData      = epoch u64 ‖ round u64 ‖ timestamp_usecs u64 ‖ quorum_cert: QuorumCert
                     ‖ block_type: enum { 0 Proposal { payload, author }, 1 NilBlock, 2 Genesis }
    Block          = block_data ‖ signature: Option<Ed25519Signature>   (id = hash(block_data), not sent)
    VoteData       = proposed: BlockInfo ‖ parent: BlockInfo
    QuorumCert     = vote_data ‖ signed_ledger_info: LedgerInfoWithSignatures
    Vote           = vote_data ‖ author ‖ ledger_info ‖ signature
                     ‖ two_chain_timeout: Option<(TwoChainTimeout, Ed25519Signature)>
    TwoChainTimeout            = epoch u64 ‖ round u64 ‖ quorum_cert (the signer's highest QC)
    TimeoutSigningRepr         = epoch u64 ‖ round u64 ‖ hqc_round u64   (what a timeout signs)
    TwoChainTimeoutCertificate = timeout ‖ signatures: BTreeMap<Author, (u64 hqc_round, Ed25519Signature)>
    SyncInfo       = highest_quorum_cert ‖ highest_commit_cert: Option<QuorumCert>
                     ‖ highest_timeout_cert: Option<TwoChainTimeoutCertificate>

Deviation, recorded on purpose: Diem's payload is ``Vec<SignedTransaction>`` written
inline; ours is ``Vec<bytes>`` (each transaction's BCS bytes length-prefixed) so that
consensus stays opaque to transaction contents. Consensus messages travel only
between our validators; no Diem SDK reads them.

``types`` imports no crypto: block ids, signing messages and signature checks live in
:mod:`libra.consensus.verification`. Signatures are kept as raw 64-byte ``bytes``,
as in :class:`~libra.types.ledger.LedgerInfoWithSignatures`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from libra.bcs import BcsError, BcsType, Deserializer, Serializer
from libra.types.ledger import (
    SIGNATURE_LENGTH,
    BlockInfo,
    LedgerInfo,
    LedgerInfoWithSignatures,
    deserialize_hash,
    serialize_hash,
)
from libra.types.move import AccountAddress

BLOCK_PROPOSAL = 0
BLOCK_NIL = 1
BLOCK_GENESIS = 2


def serialize_signature(serializer: Serializer, signature: bytes) -> None:
    """An ``Ed25519Signature``: length-prefixed, exactly 64 bytes."""
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_LENGTH:
        raise BcsError(f"Ed25519 signature must be {SIGNATURE_LENGTH} bytes")
    serializer.bytes(signature)


def deserialize_signature(deserializer: Deserializer) -> bytes:
    offset = deserializer.offset
    value = deserializer.bytes("Ed25519Signature")
    if len(value) != SIGNATURE_LENGTH:
        raise BcsError(f"signature of {len(value)} bytes", offset, "Ed25519Signature (64 bytes)")
    return value


def _serialize_bcs(serializer: Serializer, value: BcsType) -> None:
    value.serialize(serializer)


# --------------------------------------------------------------------------- votes and QCs


@dataclass(frozen=True, slots=True)
class VoteData(BcsType):
    """What a vote is about: the proposed block and its parent, both as executed."""

    proposed: BlockInfo
    parent: BlockInfo

    def serialize(self, serializer: Serializer) -> None:
        self.proposed.serialize(serializer)
        self.parent.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> VoteData:
        return cls(BlockInfo.deserialize(deserializer), BlockInfo.deserialize(deserializer))


@dataclass(frozen=True, slots=True)
class QuorumCert(BcsType):
    """Votes of more than 2/3 of the voting power on one ``VoteData`` (and one LedgerInfo)."""

    vote_data: VoteData
    signed_ledger_info: LedgerInfoWithSignatures

    @property
    def certified_block(self) -> BlockInfo:
        return self.vote_data.proposed

    @property
    def parent_block(self) -> BlockInfo:
        return self.vote_data.parent

    @property
    def commit_info(self) -> BlockInfo:
        return self.signed_ledger_info.ledger_info.commit_info

    @property
    def ledger_info(self) -> LedgerInfo:
        return self.signed_ledger_info.ledger_info

    @property
    def round(self) -> int:
        return self.vote_data.proposed.round

    @property
    def ends_epoch(self) -> bool:
        return self.signed_ledger_info.ledger_info.ends_epoch

    def serialize(self, serializer: Serializer) -> None:
        self.vote_data.serialize(serializer)
        self.signed_ledger_info.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> QuorumCert:
        return cls(VoteData.deserialize(deserializer), LedgerInfoWithSignatures.deserialize(deserializer))


@dataclass(frozen=True, slots=True)
class TwoChainTimeout(BcsType):
    """A validator's wish to leave ``round``, carrying its highest QC."""

    epoch: int
    round: int
    quorum_cert: QuorumCert

    @property
    def hqc_round(self) -> int:
        return self.quorum_cert.round

    def signing_repr(self) -> TimeoutSigningRepr:
        return TimeoutSigningRepr(self.epoch, self.round, self.hqc_round)

    def serialize(self, serializer: Serializer) -> None:
        serializer.u64(self.epoch)
        serializer.u64(self.round)
        self.quorum_cert.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> TwoChainTimeout:
        return cls(deserializer.u64(), deserializer.u64(), QuorumCert.deserialize(deserializer))


@dataclass(frozen=True, slots=True)
class TimeoutSigningRepr(BcsType):
    """The form a timeout is signed in: the QC abbreviated to its round."""

    epoch: int
    round: int
    hqc_round: int

    def serialize(self, serializer: Serializer) -> None:
        serializer.u64(self.epoch)
        serializer.u64(self.round)
        serializer.u64(self.hqc_round)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> TimeoutSigningRepr:
        return cls(deserializer.u64(), deserializer.u64(), deserializer.u64())


def _serialize_round_signature(serializer: Serializer, value: tuple[int, bytes]) -> None:
    serializer.u64(value[0])
    serialize_signature(serializer, value[1])


def _deserialize_round_signature(deserializer: Deserializer) -> tuple[int, bytes]:
    return deserializer.u64(), deserialize_signature(deserializer)


def _serialize_address(serializer: Serializer, address: AccountAddress) -> None:
    address.serialize(serializer)


@dataclass(frozen=True, slots=True)
class TwoChainTimeoutCertificate(BcsType):
    """2f+1 timeouts for one (epoch, round): the timeout with the highest QC, plus each
    signer's ``(hqc_round, signature)`` sorted by signer address."""

    timeout: TwoChainTimeout
    signatures: tuple[tuple[AccountAddress, tuple[int, bytes]], ...]

    def __post_init__(self) -> None:
        keys = [address.value for address, _ in self.signatures]
        if keys != sorted(set(keys)):
            raise BcsError("timeout signatures must be sorted by address without duplicates")

    @property
    def epoch(self) -> int:
        return self.timeout.epoch

    @property
    def round(self) -> int:
        return self.timeout.round

    @property
    def highest_hqc_round(self) -> int:
        return self.timeout.hqc_round

    def signers(self) -> list[AccountAddress]:
        return [address for address, _ in self.signatures]

    def serialize(self, serializer: Serializer) -> None:
        self.timeout.serialize(serializer)
        serializer.map(self.signatures, _serialize_address, _serialize_round_signature)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> TwoChainTimeoutCertificate:
        timeout = TwoChainTimeout.deserialize(deserializer)
        entries = deserializer.map(AccountAddress.deserialize, _deserialize_round_signature, "signatures")
        return cls(timeout, tuple(entries))


@dataclass(frozen=True, slots=True)
class Vote(BcsType):
    """A signed vote: ``signature`` signs ``ledger_info`` whose ``consensus_data_hash`` is
    ``hash(vote_data)`` and whose ``commit_info`` is what the 2-chain rule commits (or empty)."""

    vote_data: VoteData
    author: AccountAddress
    ledger_info: LedgerInfo
    signature: bytes
    two_chain_timeout: tuple[TwoChainTimeout, bytes] | None = None

    @property
    def round(self) -> int:
        return self.vote_data.proposed.round

    @property
    def epoch(self) -> int:
        return self.vote_data.proposed.epoch

    def serialize(self, serializer: Serializer) -> None:
        self.vote_data.serialize(serializer)
        self.author.serialize(serializer)
        self.ledger_info.serialize(serializer)
        serialize_signature(serializer, self.signature)
        serializer.option(self.two_chain_timeout, _serialize_timeout_pair)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> Vote:
        return cls(
            VoteData.deserialize(deserializer),
            AccountAddress.deserialize(deserializer),
            LedgerInfo.deserialize(deserializer),
            deserialize_signature(deserializer),
            deserializer.option(_deserialize_timeout_pair, "two_chain_timeout"),
        )


def _serialize_timeout_pair(serializer: Serializer, value: tuple[TwoChainTimeout, bytes]) -> None:
    value[0].serialize(serializer)
    serialize_signature(serializer, value[1])


def _deserialize_timeout_pair(deserializer: Deserializer) -> tuple[TwoChainTimeout, bytes]:
    return TwoChainTimeout.deserialize(deserializer), deserialize_signature(deserializer)


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True, slots=True)
class BlockData(BcsType):
    """The hashed content of a block. ``kind`` is the ``BlockType`` variant; ``payload``
    and ``author`` belong to proposals only."""

    epoch: int
    round: int
    timestamp_usecs: int
    quorum_cert: QuorumCert
    kind: int = BLOCK_PROPOSAL
    payload: tuple[bytes, ...] = ()
    author: AccountAddress | None = None
    # Its BCS once computed: a block is hashed for its id, for the author's signature, for
    # the safety rules and for the consensus store, and a proposal's payload is most of it.
    _encoded: bytes | None = field(default=None, init=False, repr=False, compare=False, hash=False)
    _id: bytes | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    def cached_id(self, compute: Callable[[BlockData], bytes]) -> bytes:
        """``compute(self)`` (the block id), computed once."""
        found = self._id
        if found is None:
            found = compute(self)
            object.__setattr__(self, "_id", found)
        return found

    def __post_init__(self) -> None:
        is_proposal = self.kind == BLOCK_PROPOSAL
        if self.kind not in (BLOCK_PROPOSAL, BLOCK_NIL, BLOCK_GENESIS):
            raise BcsError(f"unknown block type {self.kind}")
        if is_proposal != (self.author is not None) or (not is_proposal and self.payload):
            raise BcsError("only proposals carry an author and a payload")

    @property
    def parent_id(self) -> bytes:
        return self.quorum_cert.certified_block.id

    @property
    def is_genesis(self) -> bool:
        return self.kind == BLOCK_GENESIS

    def serialize(self, serializer: Serializer) -> None:
        serializer.raw(self.to_bcs())

    def to_bcs(self) -> bytes:
        """The block data's BCS, encoded once (the fields are immutable, so it cannot change)."""
        encoded = self._encoded
        if encoded is None:
            serializer = Serializer()
            serializer.u64(self.epoch)
            serializer.u64(self.round)
            serializer.u64(self.timestamp_usecs)
            self.quorum_cert.serialize(serializer)
            serializer.variant(self.kind)
            if self.kind == BLOCK_PROPOSAL:
                assert self.author is not None
                serializer.bytes_sequence(self.payload)
                self.author.serialize(serializer)
            encoded = serializer.output()
            object.__setattr__(self, "_encoded", encoded)
        return encoded

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> BlockData:
        epoch, round_, timestamp = deserializer.u64(), deserializer.u64(), deserializer.u64()
        quorum_cert = QuorumCert.deserialize(deserializer)
        kind = deserializer.variant(3, "BlockType")
        if kind != BLOCK_PROPOSAL:
            return cls(epoch, round_, timestamp, quorum_cert, kind)
        payload = tuple(deserializer.bytes_sequence("transaction", "payload"))
        return cls(
            epoch, round_, timestamp, quorum_cert, kind, payload, AccountAddress.deserialize(deserializer)
        )


@dataclass(frozen=True, slots=True)
class Block(BcsType):
    """A block as sent: its data and the author's signature (None for genesis and NIL)."""

    block_data: BlockData
    signature: bytes | None = None

    @property
    def epoch(self) -> int:
        return self.block_data.epoch

    @property
    def round(self) -> int:
        return self.block_data.round

    @property
    def author(self) -> AccountAddress | None:
        return self.block_data.author

    @property
    def payload(self) -> tuple[bytes, ...]:
        return self.block_data.payload

    @property
    def quorum_cert(self) -> QuorumCert:
        return self.block_data.quorum_cert

    @property
    def parent_id(self) -> bytes:
        return self.block_data.parent_id

    @property
    def timestamp_usecs(self) -> int:
        return self.block_data.timestamp_usecs

    def serialize(self, serializer: Serializer) -> None:
        self.block_data.serialize(serializer)
        serializer.option(self.signature, serialize_signature)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> Block:
        return cls(
            BlockData.deserialize(deserializer), deserializer.option(deserialize_signature, "signature")
        )


# --------------------------------------------------------------------------- sync and messages


@dataclass(frozen=True, slots=True)
class SyncInfo(BcsType):
    """The sender's highest certificates, attached to every message so peers catch up.
    ``highest_commit_cert`` is None when it is the highest QC itself."""

    highest_quorum_cert: QuorumCert
    highest_commit_cert: QuorumCert | None = None
    highest_timeout_cert: TwoChainTimeoutCertificate | None = None

    @property
    def commit_cert(self) -> QuorumCert:
        return self.highest_commit_cert or self.highest_quorum_cert

    @property
    def hqc_round(self) -> int:
        return self.highest_quorum_cert.round

    @property
    def htc_round(self) -> int:
        return 0 if self.highest_timeout_cert is None else self.highest_timeout_cert.round

    @property
    def highest_round(self) -> int:
        return max(self.hqc_round, self.htc_round)

    @property
    def epoch(self) -> int:
        return self.highest_quorum_cert.certified_block.epoch

    def serialize(self, serializer: Serializer) -> None:
        self.highest_quorum_cert.serialize(serializer)
        serializer.option(self.highest_commit_cert, _serialize_bcs)
        serializer.option(self.highest_timeout_cert, _serialize_bcs)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> SyncInfo:
        return cls(
            QuorumCert.deserialize(deserializer),
            deserializer.option(QuorumCert.deserialize, "highest_commit_cert"),
            deserializer.option(TwoChainTimeoutCertificate.deserialize, "highest_timeout_cert"),
        )


@dataclass(frozen=True, slots=True)
class ProposalMsg(BcsType):
    proposal: Block
    sync_info: SyncInfo

    def serialize(self, serializer: Serializer) -> None:
        self.proposal.serialize(serializer)
        self.sync_info.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> ProposalMsg:
        return cls(Block.deserialize(deserializer), SyncInfo.deserialize(deserializer))


@dataclass(frozen=True, slots=True)
class VoteMsg(BcsType):
    vote: Vote
    sync_info: SyncInfo

    def serialize(self, serializer: Serializer) -> None:
        self.vote.serialize(serializer)
        self.sync_info.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> VoteMsg:
        return cls(Vote.deserialize(deserializer), SyncInfo.deserialize(deserializer))


@dataclass(frozen=True, slots=True)
class TimeoutMsg(BcsType):
    """A signed ``TwoChainTimeout`` (DiemBFT v4 timeout message) with the sender's SyncInfo."""

    timeout: TwoChainTimeout
    author: AccountAddress
    signature: bytes
    sync_info: SyncInfo

    def serialize(self, serializer: Serializer) -> None:
        self.timeout.serialize(serializer)
        self.author.serialize(serializer)
        serialize_signature(serializer, self.signature)
        self.sync_info.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> TimeoutMsg:
        return cls(
            TwoChainTimeout.deserialize(deserializer),
            AccountAddress.deserialize(deserializer),
            deserialize_signature(deserializer),
            SyncInfo.deserialize(deserializer),
        )


@dataclass(frozen=True, slots=True)
class BlockRetrievalRequest(BcsType):
    """Ask for ``num_blocks`` blocks going back from ``block_id`` (inclusive) through parents."""

    block_id: bytes
    num_blocks: int

    def serialize(self, serializer: Serializer) -> None:
        serialize_hash(serializer, self.block_id)
        serializer.u64(self.num_blocks)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> BlockRetrievalRequest:
        return cls(deserialize_hash(deserializer), deserializer.u64())


RETRIEVAL_SUCCEEDED = 0
RETRIEVAL_ID_NOT_FOUND = 1
RETRIEVAL_NOT_ENOUGH_BLOCKS = 2


@dataclass(frozen=True, slots=True)
class BlockRetrievalResponse(BcsType):
    """``status`` (0 Succeeded, 1 IdNotFound, 2 NotEnoughBlocks) and the blocks, newest first."""

    status: int
    blocks: tuple[Block, ...] = ()

    def serialize(self, serializer: Serializer) -> None:
        serializer.variant(self.status)
        serializer.sequence(self.blocks, _serialize_bcs)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> BlockRetrievalResponse:
        status = deserializer.variant(3, "BlockRetrievalStatus")
        return cls(status, tuple(deserializer.sequence(Block.deserialize, "blocks")))


# --------------------------------------------------------------------------- safety data


@dataclass(frozen=True, slots=True)
class SafetyData(BcsType):
    """What safety rules persist before any signature leaves them (Diem ``safety_data.rs``)."""

    epoch: int
    last_voted_round: int = 0
    preferred_round: int = 0
    one_chain_round: int = 0
    last_vote: Vote | None = None
    highest_timeout_round: int = 0

    def serialize(self, serializer: Serializer) -> None:
        serializer.u64(self.epoch)
        serializer.u64(self.last_voted_round)
        serializer.u64(self.preferred_round)
        serializer.option(self.last_vote, _serialize_bcs)
        serializer.u64(self.one_chain_round)
        serializer.u64(self.highest_timeout_round)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> SafetyData:
        epoch, last_voted, preferred = deserializer.u64(), deserializer.u64(), deserializer.u64()
        last_vote = deserializer.option(Vote.deserialize, "last_vote")
        one_chain, highest_timeout = deserializer.u64(), deserializer.u64()
        return cls(epoch, last_voted, preferred, one_chain, last_vote, highest_timeout)


# --------------------------------------------------------------------------- epochs


@dataclass(frozen=True, slots=True)
class EpochRetrievalRequest(BcsType):
    """Ask a peer for the ledger infos that end epochs ``start_epoch`` .. ``end_epoch - 1``."""

    start_epoch: int
    end_epoch: int

    def serialize(self, serializer: Serializer) -> None:
        serializer.u64(self.start_epoch)
        serializer.u64(self.end_epoch)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> EpochRetrievalRequest:
        return cls(deserializer.u64(), deserializer.u64())


@dataclass(frozen=True, slots=True)
class EpochChangeProof(BcsType):
    """Epoch-ending ledger infos, oldest first; ``more`` if the chain continues beyond them."""

    ledger_infos: tuple[LedgerInfoWithSignatures, ...]
    more: bool = False

    def serialize(self, serializer: Serializer) -> None:
        serializer.sequence(self.ledger_infos, _serialize_bcs)
        serializer.bool(self.more)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> EpochChangeProof:
        infos = deserializer.sequence(LedgerInfoWithSignatures.deserialize, "ledger_infos")
        return cls(tuple(infos), deserializer.bool())


# --------------------------------------------------------------------------- envelope

ConsensusMsg = (
    BlockRetrievalRequest
    | BlockRetrievalResponse
    | EpochRetrievalRequest
    | ProposalMsg
    | SyncInfo
    | EpochChangeProof
    | VoteMsg
    | TimeoutMsg
)

# Diem's ConsensusMsg variant order, with our TimeoutMsg appended.
_MESSAGE_TYPES: tuple[type[BcsType], ...] = (
    BlockRetrievalRequest,
    BlockRetrievalResponse,
    EpochRetrievalRequest,
    ProposalMsg,
    SyncInfo,
    EpochChangeProof,
    VoteMsg,
    TimeoutMsg,
)


def encode_consensus_msg(message: ConsensusMsg) -> bytes:
    """``enum ConsensusMsg``: variant index then the message."""
    serializer = Serializer()
    serializer.variant(_MESSAGE_TYPES.index(type(message)))
    message.serialize(serializer)
    return serializer.output()


def decode_consensus_msg(data: bytes) -> ConsensusMsg:
    """Strictly decode one consensus message (trailing bytes are an error)."""
    deserializer = Deserializer(data)
    kind = _MESSAGE_TYPES[deserializer.variant(len(_MESSAGE_TYPES), "ConsensusMsg")]
    message = kind.deserialize(deserializer)
    deserializer.finish()
    return message  # type: ignore[return-value]
