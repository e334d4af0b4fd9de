"""A 4-validator committee that builds signed blocks, QCs and TCs for consensus tests.

Imported by the tests as ``consensus_helpers`` (conftest.py puts this folder on ``sys.path``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from libra.consensus.genesis import genesis_for
from libra.consensus.memory import CountingPayloadSource, HashChainStateComputer, InMemoryConsensusStore
from libra.consensus.round_manager import RoundManager
from libra.consensus.safety_rules import SafetyRules
from libra.consensus.safety_storage import InMemorySafetyStorage, SafetyStorage
from libra.consensus.verification import (
    ACCUMULATOR_PLACEHOLDER_HASH,
    EMPTY_BLOCK_INFO,
    ZERO_HASH,
    block_data_message,
    compute_block_id,
    compute_vote_data_hash,
    ledger_info_message,
    timeout_message,
)
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.crypto.hashing import hash_with_salt
from libra.types.consensus import (
    BLOCK_PROPOSAL,
    Block,
    BlockData,
    QuorumCert,
    TwoChainTimeout,
    TwoChainTimeoutCertificate,
    VoteData,
)
from libra.types.ledger import (
    BlockInfo,
    EpochState,
    LedgerInfo,
    LedgerInfoWithSignatures,
    ValidatorConsensusInfo,
    ValidatorVerifier,
)
from libra.types.move import AccountAddress


@dataclass
class Committee:
    """Validators 0..n-1 with deterministic keys, and builders of signed consensus values."""

    size: int = 4
    keys: list[Ed25519PrivateKey] = field(init=False)
    authors: list[AccountAddress] = field(init=False)
    verifier: ValidatorVerifier = field(init=False)

    def __post_init__(self) -> None:
        self.keys = [Ed25519PrivateKey(bytes([i + 1]) * 32) for i in range(self.size)]
        self.authors = [AccountAddress(bytes(15) + bytes([i + 1])) for i in range(self.size)]
        infos = {
            a: ValidatorConsensusInfo(k.public_key().to_bytes(), 1)
            for a, k in zip(self.authors, self.keys, strict=False)
        }
        self.verifier = ValidatorVerifier.from_validators(infos)
        self.epoch_state = EpochState(1, self.verifier)
        info = BlockInfo(0, 0, ZERO_HASH, ACCUMULATOR_PLACEHOLDER_HASH, 0, 0, self.epoch_state)
        self.genesis_li = LedgerInfoWithSignatures(LedgerInfo(info, ZERO_HASH))
        self.genesis, self.genesis_id, self.genesis_qc = genesis_for(self.genesis_li.ledger_info)

    def safety_rules(self, index: int, storage: SafetyStorage | None = None, **kwargs: bool) -> SafetyRules:
        rules = SafetyRules(
            self.authors[index], self.keys[index], storage or InMemorySafetyStorage(), **kwargs
        )
        rules.initialize(self.epoch_state)
        return rules

    def block(
        self,
        round_: int,
        qc: QuorumCert,
        author: int = 0,
        payload: tuple[bytes, ...] = (b"tx",),
        timestamp: int = 0,
    ) -> Block:
        ts = timestamp or qc.certified_block.timestamp_usecs + 1_000 * (round_ - qc.round)
        data = BlockData(1, round_, ts, qc, BLOCK_PROPOSAL, payload, self.authors[author])
        return Block(data, self.keys[author].sign(block_data_message(data)).to_bytes())

    @staticmethod
    def executed(block: Block) -> BlockInfo:
        """A deterministic fake execution result for ``block``."""
        block_id = compute_block_id(block.block_data)
        parent = block.quorum_cert.certified_block
        state = hash_with_salt("TestState", parent.executed_state_id + block_id)
        return BlockInfo(
            1, block.round, block_id, state, parent.version + len(block.payload), block.timestamp_usecs
        )

    def qc(self, block: Block, signers: range | list[int] | None = None) -> QuorumCert:
        """A QC on ``block`` signed by ``signers`` (default: a quorum), with the 2-chain commit info."""
        proposed, parent = self.executed(block), block.quorum_cert.certified_block
        vote_data = VoteData(proposed, parent)
        commit = parent if parent.round + 1 == block.round else EMPTY_BLOCK_INFO
        ledger_info = LedgerInfo(commit, compute_vote_data_hash(vote_data))
        message = ledger_info_message(ledger_info)
        chosen = range(3) if signers is None else signers
        signatures = {self.authors[i]: self.keys[i].sign(message).to_bytes() for i in chosen}
        return QuorumCert(vote_data, LedgerInfoWithSignatures.create(ledger_info, signatures))

    def tc(self, round_: int, qcs: dict[int, QuorumCert]) -> TwoChainTimeoutCertificate:
        """A TC for ``round_`` from validator index -> that validator's highest QC."""
        highest = max(qcs.values(), key=lambda qc: qc.round)
        entries = []
        for index, qc in qcs.items():
            timeout = TwoChainTimeout(1, round_, qc)
            signature = self.keys[index].sign(timeout_message(timeout.signing_repr())).to_bytes()
            entries.append((self.authors[index], (qc.round, signature)))
        entries.sort(key=lambda item: item[0].value)
        return TwoChainTimeoutCertificate(TwoChainTimeout(1, round_, highest), tuple(entries))

    def chain(self, rounds: list[int]) -> tuple[list[Block], list[QuorumCert]]:
        """Blocks at ``rounds`` each extending the previous one's QC (from genesis)."""
        blocks, qcs = [], []
        qc = self.genesis_qc
        for round_ in rounds:
            block = self.block(round_, qc, author=round_ % self.size)
            qc = self.qc(block)
            blocks.append(block)
            qcs.append(qc)
        return blocks, qcs


def make_node(committee: Committee, index: int) -> RoundManager:
    """A core for validator ``index`` with in-memory boundaries, started at genesis."""
    return RoundManager.recover(
        author=committee.authors[index],
        ledger_root=committee.genesis_li,
        store=InMemoryConsensusStore(),
        safety_rules=SafetyRules(committee.authors[index], committee.keys[index], InMemorySafetyStorage()),
        state_computer=HashChainStateComputer(ZERO_HASH, ACCUMULATOR_PLACEHOLDER_HASH, 0),
        payload_source=CountingPayloadSource(f"n{index}"),
    )
