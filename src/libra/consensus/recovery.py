"""Rebuilding the block tree at start-up from the ledger root and the consensus store.

Ledger first (Diem ``persistent_liveness_storage.rs::start``):

1. If the ledger's latest ledger info ends an epoch, the root is the deterministic
   genesis block of the next epoch, certified by the signature-less genesis QC.
2. Otherwise the root is the stored block the ledger committed; its QC and a QC
   that commits it (the commit cert) must be stored too, else :class:`RecoveryError`
   (the driver must state-sync, then start again).
3. Stored blocks that descend from the root are re-executed and re-inserted, parents
   first, with their QCs; everything else (forks, stale blocks) is pruned from the store.
4. The stored highest TC is kept if it belongs to the root's epoch.
"""

from __future__ import annotations

from libra.consensus.block_tree import BlockTree, ExecutedBlock
from libra.consensus.errors import RecoveryError
from libra.consensus.genesis import genesis_block_info, genesis_for
from libra.consensus.interfaces import ConsensusStore, StateComputer, StateComputeResult
from libra.consensus.verification import compute_block_id
from libra.types.consensus import Block, QuorumCert
from libra.types.ledger import BlockInfo, LedgerInfoWithSignatures


def executed_info(block: Block, block_id: bytes, result: StateComputeResult) -> BlockInfo:
    """The ``BlockInfo`` of ``block`` after execution."""
    return BlockInfo(
        block.epoch,
        block.round,
        block_id,
        result.executed_state_id,
        result.version,
        block.timestamp_usecs,
        result.next_epoch_state,
    )


def execute_block(
    state_computer: StateComputer, block: Block, block_id: bytes, parent: ExecutedBlock
) -> ExecutedBlock:
    """Execute ``block`` on ``parent``; a block after an epoch-ending block keeps its state."""
    if parent.info.next_epoch_state is not None:
        info = parent.info
        result = StateComputeResult(info.executed_state_id, info.version, info.next_epoch_state)
    else:
        result = state_computer.compute(block, block_id, parent.id)
    return ExecutedBlock(block, block_id, executed_info(block, block_id, result))


def build_tree(
    ledger_root: LedgerInfoWithSignatures, store: ConsensusStore, state_computer: StateComputer
) -> BlockTree:
    """The block tree that the ledger root and the stored blocks describe (see module docstring)."""
    ledger_info = ledger_root.ledger_info
    data = store.load()
    blocks = {compute_block_id(block.block_data): block for block in data.blocks}
    qcs = {qc.certified_block.id: qc for qc in data.quorum_certs}
    if ledger_info.ends_epoch:
        genesis, genesis_id, genesis_qc = genesis_for(ledger_info)
        state_computer.compute(genesis, genesis_id, ledger_info.commit_info.id)
        root = ExecutedBlock(genesis, genesis_id, genesis_block_info(ledger_info, genesis_id))
        tree = BlockTree(root, genesis_qc, genesis_qc)
    else:
        root_id = ledger_info.commit_info.id
        root_block, root_qc = blocks.get(root_id), qcs.get(root_id)
        commit_cert = next((qc for qc in qcs.values() if qc.commit_info.id == root_id), None)
        if root_block is None or root_qc is None or commit_cert is None:
            raise RecoveryError("consensus store lacks the ledger's root block or its certificates")
        tree = BlockTree(ExecutedBlock(root_block, root_id, ledger_info.commit_info), root_qc, commit_cert)
    _reinsert(tree, blocks, qcs, state_computer)
    tc = data.highest_timeout_cert
    if tc is not None and tc.epoch == tree.root.info.epoch and tc.round > tree.root.round:
        tree.insert_tc(tc)
    stale = [block_id for block_id in blocks if not tree.contains(block_id)]
    if stale:
        store.prune_tree(stale)
    return tree


def _reinsert(
    tree: BlockTree, blocks: dict[bytes, Block], qcs: dict[bytes, QuorumCert], state_computer: StateComputer
) -> None:
    for block_id, block in sorted(blocks.items(), key=lambda item: item[1].round):
        parent = tree.get(block.parent_id)
        if parent is None or tree.contains(block_id) or block.round <= tree.root.round:
            continue
        tree.insert_block(execute_block(state_computer, block, block_id, parent))
    for block_id, qc in qcs.items():
        if tree.contains(block_id):
            tree.insert_qc(qc)
