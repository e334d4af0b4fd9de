"""Catching up: SyncInfo processing, block retrieval and fast-forward sync.

Rules (Diem ``block_storage/sync_manager.rs``), applied when a peer's SyncInfo
holds anything newer than ours (only then is it verified):

1. If its commit cert commits above our root and certifies a block we lack, fetch
   blocks back from that block; if they connect to our tree, insert them, else
   *fast-forward*: the fetched blocks must hold the certified block B1 and its
   parent B0 (the committed block); B0, B1 and their QCs are stored, then the ledger
   syncs to the commit cert's ledger info (state sync), leader election learns the
   synced blocks from the ledger, and the tree restarts with B0 as root (a crash in
   between recovers from either root). An answer that arrives
   after the root moved past its commit cert (another fetch, a commit) is ignored.
2. If its highest QC certifies a block we lack, fetch back from it and insert.
3. Insert the commit cert and highest QC (committing what they commit), keep a
   higher TC, and enter the round after the highest certificate.

Fetches are asynchronous: the message that needed them is kept as a *retry* and
handled again once the response arrives; a retry never triggers another fetch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from libra.consensus.actions import Action, EpochChange, FetchBlocks, SyncedTo
from libra.consensus.block_tree import BlockTree, ExecutedBlock
from libra.consensus.errors import VerificationError
from libra.consensus.leader_election import commit_record
from libra.consensus.verification import compute_block_id
from libra.types.consensus import (
    BLOCK_GENESIS,
    RETRIEVAL_ID_NOT_FOUND,
    RETRIEVAL_NOT_ENOUGH_BLOCKS,
    RETRIEVAL_SUCCEEDED,
    Block,
    BlockRetrievalRequest,
    BlockRetrievalResponse,
    QuorumCert,
    SyncInfo,
)
from libra.types.move import AccountAddress

if TYPE_CHECKING:
    from libra.consensus.round_manager import RoundManager


Retry = Callable[[int], list[Action]]


@dataclass(slots=True)
class PendingFetch:
    commit_cert: QuorumCert | None
    retries: list[Retry] = field(default_factory=list)


class BlockSync:
    """The catching-up half of a :class:`RoundManager`."""

    def __init__(self, manager: RoundManager) -> None:
        self.manager = manager
        self._pending: dict[bytes, PendingFetch] = {}
        self._retrying = False

    # ----------------------------------------------------------------------- sync info

    def sync_up(
        self, peer: AccountAddress, sync_info: SyncInfo, now_usecs: int, retry: Retry | None
    ) -> tuple[bool, list[Action]]:
        """Apply a peer's SyncInfo; False (with fetches) if blocks must arrive first."""
        manager, tree = self.manager, self.manager.tree
        if not _is_newer(sync_info, tree):
            return True, []
        manager.checker.verify_sync_info(sync_info)
        commit_cert, hqc = sync_info.commit_cert, sync_info.highest_quorum_cert
        if commit_cert.commit_info.round > tree.root.round and not tree.contains(
            commit_cert.certified_block.id
        ):
            return False, self.fetch(
                peer, commit_cert.certified_block.id, commit_cert.round, commit_cert, retry
            )
        if hqc.round > tree.root.round and not tree.contains(hqc.certified_block.id):
            return False, self.fetch(peer, hqc.certified_block.id, hqc.round, None, retry)
        actions: list[Action] = []
        for qc in (commit_cert, hqc):
            if manager.ended is None and manager.tree.contains(qc.certified_block.id):
                actions += manager.insert_qc(qc)
        tc = sync_info.highest_timeout_cert
        if tc is not None and manager.ended is None:
            actions += manager.add_tc(tc, now_usecs)
        return True, actions + manager.process_certificates(now_usecs)

    # ----------------------------------------------------------------------- retrieval

    def fetch(
        self,
        peer: AccountAddress,
        block_id: bytes,
        target_round: int,
        commit_cert: QuorumCert | None,
        retry: Retry | None,
    ) -> list[Action]:
        """Ask ``peer`` for the blocks back from ``block_id``; ``retry`` runs when they arrive."""
        if self._retrying:
            return []
        pending = self._pending.get(block_id)
        if pending is not None:
            if retry is not None and len(pending.retries) < self.manager.config.max_pending_fetches:
                pending.retries.append(retry)
            return []
        if len(self._pending) >= self.manager.config.max_pending_fetches:
            return []
        self._pending[block_id] = PendingFetch(commit_cert, [] if retry is None else [retry])
        span = target_round - self.manager.tree.root.round
        return [FetchBlocks(peer, block_id, max(1, min(self.manager.config.max_fetch_blocks, span)))]

    def serve(self, request: BlockRetrievalRequest) -> BlockRetrievalResponse:
        """Blocks from ``block_id`` back through parents, newest first (never genesis)."""
        limit = min(request.num_blocks, self.manager.config.max_fetch_blocks)
        blocks: list[Block] = []
        current = self.manager.tree.get(request.block_id)
        while current is not None and len(blocks) < limit and current.block.block_data.kind != BLOCK_GENESIS:
            blocks.append(current.block)
            current = self.manager.tree.get(current.parent_id)
        if not blocks:
            return BlockRetrievalResponse(RETRIEVAL_ID_NOT_FOUND)
        status = RETRIEVAL_SUCCEEDED if len(blocks) == limit else RETRIEVAL_NOT_ENOUGH_BLOCKS
        return BlockRetrievalResponse(status, tuple(blocks))

    def on_response(
        self,
        peer: AccountAddress,
        request: BlockRetrievalRequest,
        response: BlockRetrievalResponse,
        now_usecs: int,
    ) -> list[Action]:
        """Verify and insert fetched blocks (or fast-forward), then run the waiting retries."""
        pending = self._pending.pop(request.block_id, None)
        if pending is None:
            return []
        actions: list[Action] = []
        if response.blocks:
            ids = self._verify_chain(request.block_id, response.blocks)
            if (
                not self._insert_chain(response.blocks, ids, actions, now_usecs)
                and pending.commit_cert is not None
            ):
                actions += self._fast_forward(pending.commit_cert, response.blocks, ids, now_usecs)
        self._retrying = True
        try:
            for retry in pending.retries:
                if self.manager.ended is not None:
                    break
                actions += retry(now_usecs)
        finally:
            self._retrying = False
        return actions

    def _verify_chain(self, first_id: bytes, blocks: tuple[Block, ...]) -> list[bytes]:
        """Each block valid, the first the one asked for, each next the previous one's parent."""
        ids = [compute_block_id(block.block_data) for block in blocks]
        if ids[0] != first_id:
            raise VerificationError("retrieved blocks do not start at the requested block")
        for index, block in enumerate(blocks):
            self.manager.checker.verify_block(block)
            if index + 1 < len(blocks) and block.parent_id != ids[index + 1]:
                raise VerificationError("retrieved blocks do not form a chain")
        return ids

    def _insert_chain(
        self, blocks: tuple[Block, ...], ids: list[bytes], actions: list[Action], now_usecs: int
    ) -> bool:
        """Insert the part of the chain that hangs below a block of the tree; False if none does."""
        tree = self.manager.tree
        start = next((i for i in range(len(blocks) - 1, -1, -1) if tree.contains(blocks[i].parent_id)), None)
        if start is None:
            return False
        for index in range(start, -1, -1):
            if self.manager.ended is not None or not self.manager.tree.contains(blocks[index].parent_id):
                break
            self.manager.insert_block(blocks[index])
            actions += self.manager.insert_qc(blocks[index].quorum_cert)
            actions += self.manager.adopt_orphan_qc(ids[index], now_usecs)
        return True

    def _fast_forward(
        self, commit_cert: QuorumCert, blocks: tuple[Block, ...], ids: list[bytes], now_usecs: int
    ) -> list[Action]:
        """Sync the ledger to ``commit_cert`` and restart the tree at the block it commits."""
        manager = self.manager
        if commit_cert.commit_info.round <= manager.tree.root.round:
            return []  # a late answer: the root moved past it meanwhile (another fetch, a commit)
        pairs = [i for i in range(len(blocks) - 1) if ids[i] == commit_cert.certified_block.id]
        if not pairs or ids[pairs[0] + 1] != commit_cert.commit_info.id:
            return []
        index = pairs[0]
        certified, committed = blocks[index], blocks[index + 1]
        # Stored before the ledger moves (Diem's fast_forward_sync): a crash once the ledger
        # has the new root must find that root and its certificates here on restart.
        manager.store.save_tree([committed, certified], [certified.quorum_cert, commit_cert])
        manager.state_computer.sync_to(commit_cert.signed_ledger_info)
        old = manager.tree
        root = ExecutedBlock(committed, ids[index + 1], commit_cert.commit_info)
        highest_tc = (
            old.highest_tc if old.highest_tc is not None and old.highest_tc.round > root.round else None
        )
        manager.tree = BlockTree(root, certified.quorum_cert, commit_cert, highest_tc)
        keep = {ids[index], ids[index + 1]}
        manager.store.prune_tree([b for b in (old.root.id, *(block.id for block in old.blocks())) if b not in keep])
        # The blocks between the old root and the new one were synced, not committed here:
        # without them in its history, leader reputation here would pick other leaders
        # than the validators that committed them (rule 5 of leader_election only rotates
        # after a stall).
        for record in manager.state_computer.committed_history(commit_cert.commit_info.epoch):
            manager.leader_election.on_commit(record)
        manager.leader_election.on_commit(commit_record(committed))
        ledger_info = commit_cert.signed_ledger_info
        actions: list[Action] = [SyncedTo(ledger_info)]
        if commit_cert.commit_info.next_epoch_state is not None:
            manager.ended = ledger_info
            return [*actions, EpochChange(ledger_info)]
        manager.insert_block(certified)
        actions += manager.insert_qc(commit_cert)
        actions += manager.adopt_orphan_qc(ids[index], now_usecs)
        self._insert_chain(blocks[:index], ids[:index], actions, now_usecs)
        return actions + manager.process_certificates(now_usecs)


def _is_newer(sync_info: SyncInfo, tree: BlockTree) -> bool:
    """Whether a SyncInfo carries any certificate above ours (only then is it worth verifying)."""
    tc_round = 0 if tree.highest_tc is None else tree.highest_tc.round
    return (
        sync_info.hqc_round > tree.highest_qc.round
        or sync_info.commit_cert.commit_info.round > tree.highest_commit_cert.commit_info.round
        or sync_info.htc_round > tc_round
    )
