"""In-memory, deterministic twins of the consensus boundaries (tests and the Twins simulator).

* :class:`InMemoryConsensusStore` – ConsensusDB as dictionaries;
* :class:`CountingPayloadSource` – each pull yields fresh, unique transaction bytes;
* :class:`HashChainStateComputer` – "executes" a block by hashing its payload onto the
  parent's state: ``state = sha3(parent_state || tx_1 || ...)``, ``version += len(payload)``.
  A transaction equal to :data:`RECONFIGURE` ends the epoch with the configured next
  validator set, so epoch changes can be simulated. Its ``committed_history`` is what it
  committed, plus, after a sync, what ``chain_history`` says the synced ledger holds (the
  Twins simulator knows the committed chain; a real ledger reads its own events).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from libra.consensus.interfaces import ConsensusData, StateComputeResult
from libra.consensus.leader_election import CommittedBlockRecord, commit_record
from libra.crypto.hashing import hash_with_salt
from libra.types.consensus import Block, QuorumCert, TwoChainTimeoutCertificate
from libra.types.ledger import EpochState, LedgerInfoWithSignatures

if TYPE_CHECKING:
    from libra.consensus.block_tree import ExecutedBlock

RECONFIGURE = b"RECONFIGURE"


class InMemoryConsensusStore:
    """A ConsensusDB whose "disk" is this object; keep it across a simulated crash."""

    def __init__(self) -> None:
        self._blocks: dict[bytes, Block] = {}
        self._qcs: dict[bytes, QuorumCert] = {}
        self._tc: TwoChainTimeoutCertificate | None = None
        self._block_ids: dict[Block, bytes] = {}

    def save_tree(self, blocks: Sequence[Block], quorum_certs: Sequence[QuorumCert]) -> None:
        from libra.consensus.verification import compute_block_id

        for block in blocks:
            self._blocks[compute_block_id(block.block_data)] = block
        for qc in quorum_certs:
            self._qcs[qc.certified_block.id] = qc

    def prune_tree(self, block_ids: Sequence[bytes]) -> None:
        for block_id in block_ids:
            self._blocks.pop(block_id, None)
            self._qcs.pop(block_id, None)

    def save_highest_timeout_cert(self, tc: TwoChainTimeoutCertificate) -> None:
        self._tc = tc

    def load(self) -> ConsensusData:
        return ConsensusData(list(self._blocks.values()), list(self._qcs.values()), self._tc)


class CountingPayloadSource:
    """Deterministic fake mempool: ``tx:<name>:<n>`` for increasing n, up to ``per_block``."""

    def __init__(
        self, name: str, per_block: int = 2, extra: Callable[[int], tuple[bytes, ...]] | None = None
    ):
        self.name = name
        self.per_block = per_block
        self.extra = extra
        self._next = 0

    def pull(self, max_items: int, exclude: Sequence[tuple[bytes, ...]]) -> tuple[bytes, ...]:
        count = min(max_items, self.per_block)
        items = tuple(f"tx:{self.name}:{self._next + i}".encode() for i in range(count))
        self._next += count
        if self.extra is not None:
            items = self.extra(self._next) + items
        return items


class HashChainStateComputer:
    """Deterministic execution by hashing; commits and syncs are recorded for inspection."""

    def __init__(
        self,
        root_id: bytes,
        root_state: bytes,
        root_version: int,
        next_epoch_state: Callable[[int], EpochState] | None = None,
    ) -> None:
        self._states: dict[bytes, StateComputeResult] = {
            root_id: StateComputeResult(root_state, root_version)
        }
        self._next_epoch_state = next_epoch_state
        self.committed: list[ExecutedBlock] = []
        self.ledger_infos: list[LedgerInfoWithSignatures] = []
        self.synced_to: list[LedgerInfoWithSignatures] = []
        self.chain_history: Callable[[LedgerInfoWithSignatures], Sequence[CommittedBlockRecord]] | None = None
        self._history: list[tuple[int, CommittedBlockRecord]] = []  # (epoch, record), oldest first

    def _remember(self, epoch: int, record: CommittedBlockRecord) -> None:
        last = self._history[-1] if self._history else None
        if last is None or (epoch, record.round) > (last[0], last[1].round):
            self._history.append((epoch, record))

    def committed_history(self, epoch: int) -> Sequence[CommittedBlockRecord]:
        return [record for record_epoch, record in self._history if record_epoch == epoch]

    def add_root(self, root_id: bytes, result: StateComputeResult) -> None:
        """Register an executed state known from elsewhere (e.g. a new epoch's genesis)."""
        self._states[root_id] = result

    def compute(self, block: Block, block_id: bytes, parent_id: bytes) -> StateComputeResult:
        parent = self._states.get(parent_id)
        if parent is None:
            raise KeyError("parent state unknown to the state computer")
        if not block.payload:
            self._states[block_id] = StateComputeResult(parent.executed_state_id, parent.version)
            return self._states[block_id]
        state = hash_with_salt("FakeExecution", parent.executed_state_id + b"".join(block.payload))
        next_epoch = None
        if RECONFIGURE in block.payload and self._next_epoch_state is not None:
            next_epoch = self._next_epoch_state(block.epoch + 1)
        result = StateComputeResult(state, parent.version + len(block.payload), next_epoch)
        self._states[block_id] = result
        return result

    def commit(self, blocks: Sequence[ExecutedBlock], ledger_info: LedgerInfoWithSignatures) -> None:
        self.committed.extend(blocks)
        self.ledger_infos.append(ledger_info)
        for block in blocks:
            self._remember(block.info.epoch, commit_record(block.block))
        for block in blocks:  # suffix blocks of a reconfiguration were never computed here
            info = block.info
            self._states[block.id] = StateComputeResult(
                info.executed_state_id, info.version, info.next_epoch_state
            )

    def sync_to(self, ledger_info: LedgerInfoWithSignatures) -> None:
        info = ledger_info.ledger_info.commit_info
        self._states[info.id] = StateComputeResult(
            info.executed_state_id, info.version, info.next_epoch_state
        )
        self.synced_to.append(ledger_info)
        self.ledger_infos.append(ledger_info)
        if self.chain_history is not None:
            for record in self.chain_history(ledger_info):
                self._remember(info.epoch, record)
