"""Safety rules: the v4 voting, timeout and commit rules, durability and crash-restarts.

Every rule test runs over both storages (in memory and file); crash tests re-open
the file storage between steps, and fail it between the write and the rename.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from consensus_helpers import Committee
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libra.consensus import safety_storage
from libra.consensus.errors import SafetyError, StorageError
from libra.consensus.safety_rules import SafetyRules
from libra.consensus.safety_storage import FileSafetyStorage, InMemorySafetyStorage, SafetyStorage
from libra.consensus.verification import EMPTY_BLOCK_INFO
from libra.types.consensus import TwoChainTimeout
from libra.types.ledger import EpochState

StorageFactory = Callable[[], SafetyStorage]


@pytest.fixture(params=["memory", "file"])
def make_storage(request: pytest.FixtureRequest, tmp_path: Path) -> StorageFactory:
    """A factory that re-opens the same storage each call (a restart for the file kind)."""
    if request.param == "memory":
        shared = InMemorySafetyStorage()
        return lambda: shared
    return lambda: FileSafetyStorage(tmp_path / "safety_data")


def test_votes_once_per_round_and_only_upward(committee: Committee, make_storage: StorageFactory) -> None:
    rules = committee.safety_rules(1, make_storage())
    blocks, qcs = committee.chain([1, 2, 3])
    vote2 = rules.construct_and_sign_vote(blocks[1], committee.executed(blocks[1]))
    assert rules.consensus_state().last_voted_round == 2
    with pytest.raises(SafetyError, match="not above last voted"):
        rules.construct_and_sign_vote(blocks[0], committee.executed(blocks[0]))
    other = committee.block(2, qcs[0], payload=(b"equivocation",))
    assert rules.construct_and_sign_vote(other, committee.executed(other)) == vote2
    assert rules.construct_and_sign_vote(blocks[1], committee.executed(blocks[1])) == vote2


def test_safe_to_vote_needs_consecutive_qc_or_tc(committee: Committee, make_storage: StorageFactory) -> None:
    rules = committee.safety_rules(1, make_storage())
    _, qcs = committee.chain([1, 2, 3])
    gap = committee.block(5, qcs[1])  # qc round 2, block round 5
    with pytest.raises(SafetyError, match="not safe to vote"):
        rules.construct_and_sign_vote(gap, committee.executed(gap))
    tc_high = committee.tc(4, {0: qcs[2], 1: qcs[1], 2: qcs[1]})  # highest hqc round 3 > 2
    with pytest.raises(SafetyError, match="not safe to vote"):
        rules.construct_and_sign_vote(gap, committee.executed(gap), tc_high)
    tc_ok = committee.tc(4, {0: qcs[1], 1: qcs[1], 2: qcs[0]})
    vote = rules.construct_and_sign_vote(gap, committee.executed(gap), tc_ok)
    assert vote.round == 5
    assert vote.ledger_info.commit_info == EMPTY_BLOCK_INFO


def test_two_chain_commit_rule(committee: Committee, make_storage: StorageFactory) -> None:
    rules = committee.safety_rules(2, make_storage())
    blocks, qcs = committee.chain([1, 2])
    consecutive = committee.block(3, qcs[1])
    vote = rules.construct_and_sign_vote(consecutive, committee.executed(consecutive))
    assert vote.ledger_info.commit_info == qcs[1].certified_block  # B0 = round 2 commits
    tc = committee.tc(4, {0: qcs[1], 1: qcs[1], 2: qcs[1]})
    skip = committee.block(5, qcs[1])
    vote = rules.construct_and_sign_vote(skip, committee.executed(skip), tc)
    assert vote.ledger_info.commit_info == EMPTY_BLOCK_INFO


def test_executed_info_must_describe_the_block(committee: Committee, make_storage: StorageFactory) -> None:
    rules = committee.safety_rules(1, make_storage())
    blocks, _ = committee.chain([1, 2])
    with pytest.raises(SafetyError, match="executed block info"):
        rules.construct_and_sign_vote(blocks[0], committee.executed(blocks[1]))


def test_timeout_rules(committee: Committee, make_storage: StorageFactory) -> None:
    rules = committee.safety_rules(1, make_storage())
    blocks, qcs = committee.chain([1, 2, 3])
    rules.sign_timeout(TwoChainTimeout(1, 3, qcs[1]))
    assert rules.consensus_state().last_voted_round == 3
    with pytest.raises(SafetyError, match="below last voted"):
        rules.sign_timeout(TwoChainTimeout(1, 2, qcs[0]))
    with pytest.raises(SafetyError, match="not above last voted"):  # no vote in a timed-out round
        rules.construct_and_sign_vote(blocks[2], committee.executed(blocks[2]))
    with pytest.raises(SafetyError, match="not safe to time out"):
        rules.sign_timeout(TwoChainTimeout(1, 5, qcs[2]))  # neither qc + 1 nor tc + 1
    rules.sign_timeout(TwoChainTimeout(1, 3, qcs[1]))  # the same round again is allowed
    tc = committee.tc(3, {0: qcs[1], 1: qcs[1], 2: qcs[0]})
    rules.sign_timeout(TwoChainTimeout(1, 4, qcs[1]), tc)  # tc + 1
    state = rules.consensus_state()
    assert (state.last_voted_round, state.highest_timeout_round) == (4, 4)


def test_timeout_needs_qc_at_least_one_chain_round(
    committee: Committee, make_storage: StorageFactory
) -> None:
    rules = committee.safety_rules(1, make_storage())
    blocks, qcs = committee.chain([1, 2, 3])
    rules.construct_and_sign_vote(blocks[2], committee.executed(blocks[2]))  # one-chain round 2
    tc = committee.tc(3, {0: qcs[0], 1: qcs[0], 2: qcs[0]})
    with pytest.raises(SafetyError, match="one-chain"):
        rules.sign_timeout(TwoChainTimeout(1, 4, qcs[0]), tc)


def test_sign_proposal_rules(committee: Committee, make_storage: StorageFactory) -> None:
    rules = committee.safety_rules(1, make_storage())
    blocks, qcs = committee.chain([1, 2, 3])
    assert len(rules.sign_proposal(committee.block(1, committee.genesis_qc, author=1).block_data)) == 64
    with pytest.raises(SafetyError, match="author"):
        rules.sign_proposal(committee.block(1, committee.genesis_qc, author=2).block_data)
    rules.construct_and_sign_vote(blocks[2], committee.executed(blocks[2]))
    with pytest.raises(SafetyError, match="not above last voted"):
        rules.sign_proposal(committee.block(3, qcs[1], author=1).block_data)


def test_epochs(committee: Committee, make_storage: StorageFactory) -> None:
    rules = committee.safety_rules(1, make_storage())
    blocks, _ = committee.chain([1])
    rules.construct_and_sign_vote(blocks[0], committee.executed(blocks[0]))
    rules.initialize(EpochState(2, committee.verifier))
    assert rules.consensus_state().epoch == 2 and rules.consensus_state().last_voted_round == 0
    with pytest.raises(SafetyError, match="epoch"):
        rules.construct_and_sign_vote(blocks[0], committee.executed(blocks[0]))
    with pytest.raises(SafetyError, match="epoch 2"):
        committee.safety_rules(1, make_storage())  # re-initialising at epoch 1 is refused


def test_key_outside_the_validator_set_cannot_sign(committee: Committee) -> None:
    rules = SafetyRules(committee.authors[0], committee.keys[1], InMemorySafetyStorage())
    with pytest.raises(SafetyError, match="not a validator"):
        rules.initialize(committee.epoch_state)
    with pytest.raises(SafetyError):
        rules.sign_timeout(TwoChainTimeout(1, 1, committee.genesis_qc))


def test_unsafe_flag_breaks_the_round_rule(committee: Committee) -> None:
    rules = committee.safety_rules(1, unsafe_skip_round_check=True)
    blocks, qcs = committee.chain([1, 2])
    first = rules.construct_and_sign_vote(blocks[1], committee.executed(blocks[1]))
    other = committee.block(2, qcs[0], payload=(b"equivocation",))
    second = rules.construct_and_sign_vote(other, committee.executed(other))
    assert first.round == second.round and first.vote_data != second.vote_data


# --------------------------------------------------------------------------- crashes


def test_restart_returns_the_same_vote_and_refuses_old_rounds(committee: Committee, tmp_path: Path) -> None:
    path = tmp_path / "safety_data"
    blocks, qcs = committee.chain([1, 2])
    vote = committee.safety_rules(3, FileSafetyStorage(path)).construct_and_sign_vote(
        blocks[1], committee.executed(blocks[1])
    )
    restarted = committee.safety_rules(3, FileSafetyStorage(path))
    other = committee.block(2, qcs[0], payload=(b"after restart",))
    assert restarted.construct_and_sign_vote(other, committee.executed(other)) == vote
    with pytest.raises(SafetyError):
        committee.safety_rules(3, FileSafetyStorage(path)).construct_and_sign_vote(
            blocks[0], committee.executed(blocks[0])
        )


def test_crash_between_write_and_rename_releases_nothing(
    committee: Committee, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "safety_data"
    blocks, qcs = committee.chain([1, 2])
    rules = committee.safety_rules(3, FileSafetyStorage(path))
    rules.construct_and_sign_vote(blocks[0], committee.executed(blocks[0]))

    def crash(src: object, dst: object) -> None:
        raise OSError(5, "simulated crash before rename")

    monkeypatch.setattr(safety_storage.os, "replace", crash)
    with pytest.raises(StorageError):
        rules.construct_and_sign_vote(blocks[1], committee.executed(blocks[1]))
    monkeypatch.undo()
    reopened = committee.safety_rules(3, FileSafetyStorage(path))
    assert reopened.consensus_state().last_voted_round == 1  # the round-2 vote never existed
    other = committee.block(2, qcs[0], payload=(b"other",))
    vote = reopened.construct_and_sign_vote(other, committee.executed(other))
    assert (
        committee.safety_rules(3, FileSafetyStorage(path)).construct_and_sign_vote(
            blocks[1], committee.executed(blocks[1])
        )
        == vote
    )


def test_file_storage_fsyncs_file_then_renames_then_fsyncs_folder(
    committee: Committee, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append("fsync-dir" if os.path.isdir(f"/proc/self/fd/{fd}") else "fsync-file")
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        calls.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(safety_storage.os, "fsync", fsync)
    monkeypatch.setattr(safety_storage.os, "replace", replace)
    committee.safety_rules(0, FileSafetyStorage(tmp_path / "safety_data"))
    assert calls == ["fsync-file", "rename", "fsync-dir"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["vote", "timeout", "restart"]), st.integers(1, 5), st.integers(0, 2)),
        max_size=25,
    )
)
def test_no_two_different_votes_for_a_round_across_restarts(
    committee: Committee, tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, int, int]]
) -> None:
    """Random votes (three variants per round), timeouts and restarts never yield two
    different signed votes for one round."""
    path = tmp_path_factory.mktemp("safety") / "safety_data"
    _, qcs = committee.chain([1, 2, 3, 4, 5])
    all_qcs = [committee.genesis_qc, *qcs]
    rules = committee.safety_rules(2, FileSafetyStorage(path))
    signed: dict[int, object] = {}
    for action, round_, variant in steps:
        if action == "restart":
            rules = committee.safety_rules(2, FileSafetyStorage(path))
            continue
        try:
            if action == "timeout":
                rules.sign_timeout(TwoChainTimeout(1, round_, all_qcs[round_ - 1]))
                continue
            block = committee.block(round_, all_qcs[round_ - 1], payload=(bytes([variant]),))
            vote = rules.construct_and_sign_vote(block, committee.executed(block))
        except SafetyError:
            continue
        assert signed.setdefault(vote.round, vote.vote_data) == vote.vote_data
