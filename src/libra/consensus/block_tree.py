"""The tree of executed, uncommitted blocks above the committed root, with certificates.

Invariants:

* every block's parent is in the tree; the root is the last committed block;
* a QC is kept only for a block that is in the tree (``qcs[block_id]`` certifies it);
* ``highest_qc`` has the highest certified round; ``highest_commit_cert`` is the QC
  whose ledger info commits the highest round; ``highest_tc`` the highest-round TC;
* committing a block makes it the root and drops every block that does not
  descend from it (forks that can never commit).
"""

from __future__ import annotations

from dataclasses import dataclass

from libra.consensus.verification import is_empty_commit
from libra.types.consensus import Block, QuorumCert, SyncInfo, TwoChainTimeoutCertificate
from libra.types.ledger import BlockInfo


@dataclass(frozen=True, slots=True)
class ExecutedBlock:
    """A block with its id and its executed ``BlockInfo`` (state id, version, next epoch)."""

    block: Block
    id: bytes
    info: BlockInfo

    @property
    def round(self) -> int:
        return self.block.round

    @property
    def parent_id(self) -> bytes:
        return self.block.parent_id


class BlockTree:
    """Blocks and certificates not yet committed; pure in-memory bookkeeping."""

    def __init__(
        self,
        root: ExecutedBlock,
        root_qc: QuorumCert,
        commit_cert: QuorumCert,
        highest_tc: TwoChainTimeoutCertificate | None = None,
    ) -> None:
        self.root = root
        self._blocks: dict[bytes, ExecutedBlock] = {root.id: root}
        self._children: dict[bytes, list[bytes]] = {root.id: []}
        self._qcs: dict[bytes, QuorumCert] = {root.id: root_qc}
        self.highest_qc = root_qc
        self.highest_commit_cert = commit_cert
        self.highest_tc = highest_tc

    # ----------------------------------------------------------------------- reads

    def get(self, block_id: bytes) -> ExecutedBlock | None:
        return self._blocks.get(block_id)

    def contains(self, block_id: bytes) -> bool:
        return block_id in self._blocks

    def qc_for(self, block_id: bytes) -> QuorumCert | None:
        return self._qcs.get(block_id)

    def blocks(self) -> list[ExecutedBlock]:
        """Every block except the root, parents before children."""
        return sorted((b for b in self._blocks.values() if b.id != self.root.id), key=lambda b: b.round)

    def quorum_certs(self) -> list[QuorumCert]:
        return list(self._qcs.values())

    def path_from_root(self, block_id: bytes) -> list[ExecutedBlock] | None:
        """Blocks from the root's child down to ``block_id``; None if it does not descend from the root."""
        path: list[ExecutedBlock] = []
        current = self._blocks.get(block_id)
        while current is not None and current.id != self.root.id:
            path.append(current)
            current = self._blocks.get(current.parent_id)
        if current is None:
            return None
        path.reverse()
        return path

    def sync_info(self) -> SyncInfo:
        commit = self.highest_commit_cert
        return SyncInfo(
            self.highest_qc,
            None if commit == self.highest_qc else commit,
            self.highest_tc,
        )

    @property
    def highest_certified_round(self) -> int:
        tc_round = 0 if self.highest_tc is None else self.highest_tc.round
        return max(self.highest_qc.round, tc_round)

    # ----------------------------------------------------------------------- writes

    def insert_block(self, block: ExecutedBlock) -> bool:
        """Add a block whose parent is in the tree; False if it was already there."""
        if block.id in self._blocks:
            return False
        parent = self._blocks.get(block.parent_id)
        if parent is None:
            raise KeyError("parent of the block is not in the tree")
        if block.round <= parent.round:
            raise ValueError("block round not above its parent's")
        self._blocks[block.id] = block
        self._children[block.id] = []
        self._children[parent.id].append(block.id)
        return True

    def insert_qc(self, qc: QuorumCert) -> bool:
        """Record a QC for a block in the tree; True if it raised the highest QC or commit cert."""
        block_id = qc.certified_block.id
        if block_id not in self._blocks:
            raise KeyError("QC certifies a block that is not in the tree")
        self._qcs.setdefault(block_id, qc)
        raised = False
        if qc.round > self.highest_qc.round:
            self.highest_qc = qc
            raised = True
        commit = qc.commit_info
        if not is_empty_commit(commit) and commit.round > self.highest_commit_cert.commit_info.round:
            self.highest_commit_cert = qc
            raised = True
        return raised

    def insert_tc(self, tc: TwoChainTimeoutCertificate) -> bool:
        """Keep the TC if its round is the highest seen."""
        if self.highest_tc is None or tc.round > self.highest_tc.round:
            self.highest_tc = tc
            return True
        return False

    def commit(self, block_id: bytes) -> tuple[list[ExecutedBlock], list[bytes]]:
        """Make ``block_id`` the root; return the newly committed path and the pruned ids."""
        path = self.path_from_root(block_id)
        if not path:
            raise KeyError("commit target does not descend from the root")
        new_root = path[-1]
        keep = self._descendants(new_root.id)
        pruned = [bid for bid in self._blocks if bid not in keep]
        for bid in pruned:
            del self._blocks[bid]
            del self._children[bid]
            self._qcs.pop(bid, None)
        self.root = new_root
        return path, pruned

    def _descendants(self, block_id: bytes) -> set[bytes]:
        found = {block_id}
        stack = [block_id]
        while stack:
            for child in self._children[stack.pop()]:
                found.add(child)
                stack.append(child)
        return found
