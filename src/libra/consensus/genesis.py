"""The deterministic genesis block and genesis QC that open an epoch.

Every validator builds the same genesis from the epoch-ending ledger info of the
previous epoch (Diem ``BlockData::new_genesis_from_ledger_info`` and
``QuorumCert::certificate_for_genesis_from_ledger_info``): round 0, the ledger
info's timestamp, no author, no signature; its QC has no signatures and certifies
(and commits) the genesis block itself.
"""

from __future__ import annotations

from libra.consensus.verification import ZERO_HASH, compute_block_id, compute_vote_data_hash
from libra.types.consensus import BLOCK_GENESIS, Block, BlockData, QuorumCert, VoteData
from libra.types.ledger import BlockInfo, LedgerInfo, LedgerInfoWithSignatures


def genesis_block(ledger_info: LedgerInfo) -> Block:
    """The genesis block of the epoch that ``ledger_info`` (which ends an epoch) starts."""
    if not ledger_info.ends_epoch:
        raise ValueError("a genesis block needs an epoch-ending ledger info")
    ancestor = BlockInfo(
        ledger_info.epoch,
        0,
        ZERO_HASH,
        ledger_info.transaction_accumulator_hash,
        ledger_info.version,
        ledger_info.timestamp_usecs,
        None,
    )
    placeholder_qc = QuorumCert(
        VoteData(ancestor, ancestor),
        LedgerInfoWithSignatures(LedgerInfo(ancestor, ZERO_HASH)),
    )
    data = BlockData(ledger_info.epoch + 1, 0, ledger_info.timestamp_usecs, placeholder_qc, BLOCK_GENESIS)
    return Block(data)


def genesis_block_info(ledger_info: LedgerInfo, genesis_id: bytes) -> BlockInfo:
    """The executed ``BlockInfo`` of the genesis block: the previous epoch's final state."""
    return BlockInfo(
        ledger_info.epoch + 1,
        0,
        genesis_id,
        ledger_info.transaction_accumulator_hash,
        ledger_info.version,
        ledger_info.timestamp_usecs,
        None,
    )


def genesis_quorum_cert(ledger_info: LedgerInfo, genesis_id: bytes) -> QuorumCert:
    """The signature-less QC certifying the genesis block; round-1 proposals extend it."""
    info = genesis_block_info(ledger_info, genesis_id)
    vote_data = VoteData(info, info)
    signed = LedgerInfoWithSignatures(LedgerInfo(info, compute_vote_data_hash(vote_data)))
    return QuorumCert(vote_data, signed)


def genesis_for(ledger_info: LedgerInfo) -> tuple[Block, bytes, QuorumCert]:
    """Genesis block, its id and its QC for the epoch that ``ledger_info`` opens."""
    block = genesis_block(ledger_info)
    block_id = compute_block_id(block.block_data)
    return block, block_id, genesis_quorum_cert(ledger_info, block_id)
