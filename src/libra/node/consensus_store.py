"""ConsensusDB on RocksDB: blocks and QCs not yet committed, and the highest TC.

Key layout (one RocksDB folder, ``<data_dir>/consensus``)::

    b"B" ‖ block id (32)  ->  BCS(Block)
    b"Q" ‖ block id (32)  ->  BCS(QuorumCert certifying that block)
    b"T"                  ->  BCS(TwoChainTimeoutCertificate)

Every write is one synced write batch, so a crash leaves either the old or the new
tree, never half of it; recovery rebuilds the block tree from it and the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from libra.consensus.interfaces import ConsensusData
from libra.consensus.verification import compute_block_id
from libra.storage.kv import RocksStore, WriteBatch, iterate_prefix
from libra.types.consensus import Block, QuorumCert, TwoChainTimeoutCertificate

_BLOCK = b"B"
_QC = b"Q"
_TC = b"T"


class RocksConsensusStore:
    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self._db = RocksStore(path, cache_bytes=8 << 20)

    def _write(self, batch: WriteBatch) -> None:
        self._db.write(batch, sync=True)

    def save_tree(self, blocks: Sequence[Block], quorum_certs: Sequence[QuorumCert]) -> None:
        batch = WriteBatch()
        for block in blocks:
            batch.put(_BLOCK + compute_block_id(block.block_data), block.to_bcs())
        for qc in quorum_certs:
            batch.put(_QC + qc.certified_block.id, qc.to_bcs())
        self._write(batch)

    def prune_tree(self, block_ids: Sequence[bytes]) -> None:
        batch = WriteBatch()
        for block_id in block_ids:
            batch.delete(_BLOCK + block_id)
            batch.delete(_QC + block_id)
        self._write(batch)

    def save_highest_timeout_cert(self, tc: TwoChainTimeoutCertificate) -> None:
        batch = WriteBatch()
        batch.put(_TC, tc.to_bcs())
        self._write(batch)

    def load(self) -> ConsensusData:
        data = ConsensusData()
        data.blocks.extend(Block.from_bcs(value) for _, value in iterate_prefix(self._db, _BLOCK))
        data.quorum_certs.extend(QuorumCert.from_bcs(value) for _, value in iterate_prefix(self._db, _QC))
        tc = self._db.get(_TC)
        if tc is not None:
            data.highest_timeout_cert = TwoChainTimeoutCertificate.from_bcs(tc)
        return data

    def close(self) -> None:
        self._db.close()
