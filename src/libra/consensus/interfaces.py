"""Boundaries of the consensus core, each a ``Protocol`` with an in-memory twin.

* :class:`PayloadSource` – the mempool: transactions for a new proposal;
* :class:`StateComputer` – execution: speculative execution, commit, sync to a ledger info;
* :class:`ConsensusStore` – ConsensusDB: uncommitted blocks, their QCs, the highest TC.

Safety storage is in :mod:`libra.consensus.safety_storage`. The in-memory twins live in
:mod:`libra.consensus.memory`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from libra.consensus.leader_election import CommittedBlockRecord
from libra.types.consensus import Block, QuorumCert, TwoChainTimeoutCertificate
from libra.types.ledger import EpochState, LedgerInfoWithSignatures

if TYPE_CHECKING:
    from libra.consensus.block_tree import ExecutedBlock


@dataclass(frozen=True, slots=True)
class StateComputeResult:
    """What executing a block yields: the accumulator root after it, the version of its
    last transaction, and the next validator set if the block ends the epoch."""

    executed_state_id: bytes
    version: int
    next_epoch_state: EpochState | None = None


class PayloadSource(Protocol):
    """Where a leader gets transactions (the mempool in production)."""

    def pull(self, max_items: int, exclude: Sequence[tuple[bytes, ...]]) -> tuple[bytes, ...]:
        """Up to ``max_items`` transactions not in the ``exclude`` payloads (pending blocks)."""
        ...


class StateComputer(Protocol):
    """Execution and the ledger, as consensus sees them."""

    def compute(self, block: Block, block_id: bytes, parent_id: bytes) -> StateComputeResult:
        """Execute ``block`` speculatively on top of the executed state of ``parent_id``."""
        ...

    def commit(self, blocks: Sequence[ExecutedBlock], ledger_info: LedgerInfoWithSignatures) -> None:
        """Durably commit ``blocks`` (oldest first); ``ledger_info`` certifies the last one."""
        ...

    def sync_to(self, ledger_info: LedgerInfoWithSignatures) -> None:
        """Catch the ledger up to ``ledger_info`` from peers (state sync), durably."""
        ...

    def committed_history(self, epoch: int) -> Sequence[CommittedBlockRecord]:
        """The newest committed blocks of ``epoch`` in the ledger, oldest first, as leader
        reputation sees them. After a sync these include the blocks the core never saw;
        every validator's ledger holds the same ones, so leaders stay agreed."""
        ...


@dataclass(slots=True)
class ConsensusData:
    """What a consensus store holds: uncommitted blocks, their QCs and the highest TC."""

    blocks: list[Block] = field(default_factory=list)
    quorum_certs: list[QuorumCert] = field(default_factory=list)
    highest_timeout_cert: TwoChainTimeoutCertificate | None = None


class ConsensusStore(Protocol):
    """ConsensusDB; every write is durable when the call returns."""

    def save_tree(self, blocks: Sequence[Block], quorum_certs: Sequence[QuorumCert]) -> None: ...

    def prune_tree(self, block_ids: Sequence[bytes]) -> None:
        """Delete these blocks and the QCs certifying them."""
        ...

    def save_highest_timeout_cert(self, tc: TwoChainTimeoutCertificate) -> None: ...

    def load(self) -> ConsensusData: ...
