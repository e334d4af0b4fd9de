"""ConsensusStore implementations: one suite over every backend, and recovery from RocksDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from consensus_helpers import Committee

from libra.consensus.interfaces import ConsensusStore
from libra.consensus.kv_store import KvConsensusStore
from libra.consensus.memory import InMemoryConsensusStore
from libra.consensus.round_manager import RoundManager
from libra.consensus.safety_rules import SafetyRules
from libra.consensus.twins import Scenario, Simulation
from libra.consensus.verification import compute_block_id
from libra.storage.kv import MemoryStore, RocksStore


@pytest.fixture(params=["memory", "kv-memory", "kv-rocksdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConsensusStore]:
    if request.param == "memory":
        yield InMemoryConsensusStore()
    elif request.param == "kv-memory":
        yield KvConsensusStore(MemoryStore())
    else:
        kv = RocksStore(tmp_path / "consensusdb")
        yield KvConsensusStore(kv)
        kv.close()


def test_save_prune_and_load(committee: Committee, store: ConsensusStore) -> None:
    blocks, qcs = committee.chain([1, 2, 3])
    store.save_tree(blocks, qcs)
    tc = committee.tc(4, {0: qcs[2], 1: qcs[1], 2: qcs[0]})
    store.save_highest_timeout_cert(tc)
    store.prune_tree([compute_block_id(blocks[0].block_data)])
    data = store.load()
    assert sorted(b.round for b in data.blocks) == [2, 3]
    assert sorted(qc.round for qc in data.quorum_certs) == [2, 3]
    assert data.highest_timeout_cert == tc


def test_recovery_from_rocksdb_after_reopening(tmp_path: Path) -> None:
    full = tuple((frozenset(range(4)),) for _ in range(8))
    paths = [tmp_path / f"consensusdb-{slot}" for slot in range(4)]
    kvs = [RocksStore(path) for path in paths]
    simulation = Simulation(
        Scenario(4, (), (1, 2, 3, 0) * 2, full, seed=6),
        store_factory=lambda slot: KvConsensusStore(kvs[slot]),
    )
    assert simulation.run().ok
    old = simulation.managers[1]
    kvs[1].close()
    reopened = RocksStore(paths[1])
    recovered = RoundManager.recover(
        author=old.author,
        ledger_root=simulation.computers[1].ledger_infos[-1],
        store=KvConsensusStore(reopened),
        safety_rules=SafetyRules(old.author, simulation.keys[1], simulation.safety[1]),
        state_computer=simulation.computers[1],
        payload_source=simulation.payloads[1],
        epoch_state=old.epoch_state,
    )
    assert recovered.tree.root.id == old.tree.root.id
    assert recovered.tree.highest_qc == old.tree.highest_qc
    reopened.close()
    for kv in kvs:
        if kv is not kvs[1]:
            kv.close()
