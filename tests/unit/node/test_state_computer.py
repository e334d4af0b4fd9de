"""The consensus driver's state computer at the end of an epoch.

Blocks that follow an epoch-ending block in the same epoch are never executed (they keep
its state and version). A certificate for one of them must still commit the epoch-ending
block, with that certificate; and a proof of the epoch's end for a block executed here
already commits it without asking peers.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from epoch_chain import Source, sign  # noqa: E402

from libra.consensus.leader_election import CommittedBlockRecord  # noqa: E402
from libra.crypto.hashing import ZERO_HASH  # noqa: E402
from libra.node.ledger import SpeculativeBlock  # noqa: E402
from libra.node.validator import LedgerStateComputer  # noqa: E402
from libra.types.ledger import LedgerInfo, LedgerInfoWithSignatures  # noqa: E402
from libra.types.transaction import BlockMetadata  # noqa: E402


@dataclass
class Certified:
    """What ``commit`` reads of a block of the commit path: its id."""

    id: bytes


def no_state_sync(ledger_info: LedgerInfoWithSignatures) -> None:
    raise AssertionError("state sync was asked although the block was executed here")


def epoch_ending(source: Source) -> tuple[LedgerStateComputer, SpeculativeBlock, LedgerInfo]:
    computer = LedgerStateComputer(source.ledger, no_state_sync)  # type: ignore[arg-type]
    root = source.ledger.snapshot().ledger_info.ledger_info.commit_info.id
    computer.mark_root(root)
    executed = source.ledger.execute(source.chain.metadata(), source.governance)
    assert executed.next_epoch_state is not None
    computer._blocks[executed.metadata.id] = executed  # as compute() leaves it
    info = LedgerInfo(source.ledger.block_info(executed, 1), ZERO_HASH)
    return computer, executed, info


def test_a_certificate_for_a_block_after_the_epoch_end_commits_the_epoch_ending_block() -> None:
    source = Source(reconfigure=False)
    computer, executed, info = epoch_ending(source)
    suffix_id = b"\x42" * 32  # a later block of the epoch: same version and state, its own id
    certificate = sign(
        replace(info, commit_info=replace(info.commit_info, id=suffix_id, round=info.commit_info.round + 2)),
        source.chain.validator_keys,
    )
    computer.commit([Certified(executed.metadata.id), Certified(suffix_id)], certificate)  # type: ignore[list-item]
    assert source.ledger.snapshot().ledger_info == certificate
    assert source.ledger.db.get_epoch_ending_ledger_info(1) == certificate
    assert [block.last_version for block in computer.committed] == [executed.version]
    assert computer.committed[0].reconfiguration


def test_an_epoch_change_proof_for_a_block_executed_here_commits_it_locally() -> None:
    source = Source(reconfigure=False)
    computer, executed, info = epoch_ending(source)
    proof = sign(info, source.chain.validator_keys)
    computer.sync_to(proof)  # no_state_sync fails the test if peers were asked
    assert source.ledger.snapshot().ledger_info == proof
    assert source.ledger.db.next_version == executed.version + 1
    computer.sync_to(proof)  # the same proof again: nothing to do
    assert source.ledger.db.next_version == executed.version + 1


def test_committed_history_is_read_from_the_ledger() -> None:
    """Leader reputation after a fast-forward: the blocks state sync wrote, from the ledger's
    NewBlockEvents (round, proposer, the voters of the QC the block carried)."""
    source = Source(reconfigure=False)
    computer = LedgerStateComputer(source.ledger, no_state_sync)  # type: ignore[arg-type]
    voters = tuple(key.address for key in source.chain.validator_keys)
    expected = []
    for round_ in (5, 6, 9):
        metadata = BlockMetadata(round_.to_bytes(32, "little"), round_, source.chain.now + round_, voters, voters[round_ % 2])
        executed = source.ledger.execute(metadata, [])
        source.ledger.commit(executed, sign(LedgerInfo(source.ledger.block_info(executed, 1), ZERO_HASH),
                                            source.chain.validator_keys))
        expected.append(CommittedBlockRecord(round_, voters[round_ % 2], voters))
    assert list(computer.committed_history(1))[-3:] == expected
