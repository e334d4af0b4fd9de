"""ConsensusDB over the storage layer's key-value interface (RocksDB in production).

Key layout (one-byte table prefix, like :mod:`libra.storage.schema`)::

    b"cB" ‖ block_id (32)            -> BCS(Block)        uncommitted blocks
    b"cQ" ‖ certified block_id (32)  -> BCS(QuorumCert)   their QCs
    b"cT"                            -> BCS(TwoChainTimeoutCertificate)  highest TC

Every call is one atomic write batch with ``sync=True``: durable when it returns,
as Diem's schemadb writes are. Give it a key-value store of its own (e.g. a
``RocksStore`` at ``<data>/consensusdb``) so that its keys never meet the ledger's.
"""

from __future__ import annotations

from collections.abc import Sequence

from libra.consensus.interfaces import ConsensusData
from libra.consensus.verification import compute_block_id
from libra.storage.kv import KeyValueStore, WriteBatch, iterate_prefix
from libra.types.consensus import Block, QuorumCert, TwoChainTimeoutCertificate

_BLOCK = b"cB"
_QC = b"cQ"
_TC = b"cT"


class KvConsensusStore:
    """A :class:`~libra.consensus.interfaces.ConsensusStore` on a ``KeyValueStore``."""

    def __init__(self, kv: KeyValueStore) -> None:
        self.kv = kv

    def save_tree(self, blocks: Sequence[Block], quorum_certs: Sequence[QuorumCert]) -> None:
        batch = WriteBatch()
        for block in blocks:
            batch.put(_BLOCK + compute_block_id(block.block_data), block.to_bcs())
        for qc in quorum_certs:
            batch.put(_QC + qc.certified_block.id, qc.to_bcs())
        if len(batch):
            self.kv.write(batch, sync=True)

    def prune_tree(self, block_ids: Sequence[bytes]) -> None:
        batch = WriteBatch()
        for block_id in block_ids:
            batch.delete(_BLOCK + block_id)
            batch.delete(_QC + block_id)
        if len(batch):
            self.kv.write(batch, sync=True)

    def save_highest_timeout_cert(self, tc: TwoChainTimeoutCertificate) -> None:
        batch = WriteBatch()
        batch.put(_TC, tc.to_bcs())
        self.kv.write(batch, sync=True)

    def load(self) -> ConsensusData:
        blocks = [Block.from_bcs(value) for _, value in iterate_prefix(self.kv, _BLOCK)]
        qcs = [QuorumCert.from_bcs(value) for _, value in iterate_prefix(self.kv, _QC)]
        raw_tc = self.kv.get(_TC)
        tc = None if raw_tc is None else TwoChainTimeoutCertificate.from_bcs(raw_tc)
        return ConsensusData(blocks, qcs, tc)
