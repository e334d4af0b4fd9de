"""Speculative blocks: chains and forks prepared on uncommitted parents give the roots of sequential commits."""

from __future__ import annotations

import random

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libra.cli.main import cli
from libra.client.verifier import verify_account_state
from libra.storage.errors import StorageError
from libra.storage.kv import WriteBatch
from libra.storage.libradb import LibraDB, PreparedBlock, TransactionToCommit
from libra.storage.testing import ChainBuilder, Validators
from libra.storage.verify import verify_store

Block = list[TransactionToCommit]


@pytest.fixture
def chain():
    rng = random.Random(11)
    return ChainBuilder(rng, Validators.generate(4, rng))


def sequential(blocks: list[Block]) -> list[PreparedBlock]:
    """What committing ``blocks`` one by one on a fresh store gives, block by block."""
    db = LibraDB.in_memory()
    results = []
    for block in blocks:
        prepared = db.prepare_block(block, db.next_version)
        db.commit_prepared(prepared)
        results.append(prepared)
    return results


def summary(block: PreparedBlock) -> tuple[object, ...]:
    return block.first_version, block.next_version, block.transaction_infos, block.root, block.state_root


def check_every_version(db: LibraDB, chain: ChainBuilder) -> None:
    """Every readable version's state root matches its info and its accounts prove against the latest ledger info."""
    li = db.get_latest_ledger_info().ledger_info
    for version in range(db.oldest_state_version, db.next_version):
        assert db.get_state_root(version) == db.get_transaction_info(version).state_root_hash
        address = chain.accounts[version % len(chain.accounts)]
        proof = db.get_account_state_with_proof(address, version, li.version)
        assert verify_account_state(li, address, proof) == db.get_account_blob(address, version)
    assert all(f.ok for f in verify_store(db))


def contents(block: PreparedBlock) -> tuple[dict, dict]:
    """A copy of a prepared block's nodes and puts (Python dicts, or the native core's)."""
    nodes = dict(block.nodes) if isinstance(block.nodes, dict) else dict(block.nodes.items())
    puts = dict(block.batch.ops) if isinstance(block.batch, WriteBatch) else dict(block.batch.items())
    return nodes, puts


def commit(db: LibraDB, chain: ChainBuilder, block: PreparedBlock) -> None:
    db.commit_prepared(block, chain.ledger_info(block.next_version - 1, block.root))


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_chain_roots_equal_sequential_commits(kv_factory, chain, depth):
    db = LibraDB(kv_factory())
    history = [chain.block(4)]
    commit(db, chain, db.prepare_block(history[0], 0))
    blocks = [chain.block(size) for size in (5, 1, 8)[:depth]]
    prepared: list[PreparedBlock] = []
    for block in blocks:
        parent = prepared[-1] if prepared else None
        prepared.append(db.prepare_block(block, parent.next_version if parent else db.next_version, parent))
    expected = sequential(history + blocks)[1:]
    assert [summary(p) for p in prepared] == [summary(e) for e in expected]
    assert db.next_version == 4  # nothing prepared is visible to reads
    with pytest.raises(StorageError, match="not committed"):
        db.get_transaction_info(4)
    for block in prepared:
        commit(db, chain, block)
    assert db.next_version == prepared[-1].next_version
    assert db.get_accumulator_root(db.latest_version) == expected[-1].root
    check_every_version(db, chain)


def test_reads_see_committed_state_only(chain):
    db = LibraDB.in_memory()
    commit(db, chain, db.prepare_block(chain.block(3), 0))
    before = {address: db.get_account_blob(address) for address in chain.accounts}
    root = db.get_state_root(db.latest_version)
    first = db.prepare_block(chain.block(6, new_account_rate=0.0), db.next_version)
    second = db.prepare_block(chain.block(6, new_account_rate=0.0), first.next_version, first)
    assert first.state_root != root and second.state_root != first.state_root
    assert {address: db.get_account_blob(address) for address in chain.accounts} == before
    assert db.get_state_root(db.latest_version) == root and db.next_version == 3


def test_commit_chain_in_one_batch(kv_factory, chain):
    db = LibraDB(kv_factory())
    blocks = [chain.block(size) for size in (3, 4, 2)]
    first = db.prepare_block(blocks[0], 0)
    second = db.prepare_block(blocks[1], first.next_version, first)
    third = db.prepare_block(blocks[2], second.next_version, second)
    with pytest.raises(StorageError, match="ledger info is for version 6"):
        db.commit_prepared(third, chain.ledger_info(6, second.root))
    commit(db, chain, third)  # commits first and second too
    assert first.committed and second.committed and third.committed
    assert db.next_version == 9 and db.get_accumulator_root(8) == sequential(blocks)[-1].root
    with pytest.raises(StorageError, match="already committed"):
        db.commit_prepared(second)
    check_every_version(db, chain)


def test_forks_and_stale_blocks(kv_factory, chain):
    db = LibraDB(kv_factory())
    history = [chain.block(3)]
    commit(db, chain, db.prepare_block(history[0], 0))
    parent_block = chain.block(4)
    parent = db.prepare_block(parent_block, 3)
    left_block, right_block = chain.block(5), chain.block(2)
    before = contents(parent)
    left = db.prepare_block(left_block, parent.next_version, parent)
    right = db.prepare_block(right_block, parent.next_version, parent)
    assert contents(parent) == before  # preparing never mutates the parent
    left_child_block = chain.block(3)
    left_child = db.prepare_block(left_child_block, left.next_version, left)
    right_child = db.prepare_block(chain.block(1), right.next_version, right)
    assert summary(left) == summary(sequential(history + [parent_block, left_block])[-1])
    assert summary(right) == summary(sequential(history + [parent_block, right_block])[-1])
    assert summary(left_child) == summary(sequential(history + [parent_block, left_block, left_child_block])[-1])
    # a competing block on the committed tip, prepared before anything commits
    rival = db.prepare_block(chain.block(2), 3)
    with pytest.raises(StorageError, match="expected 7"):
        db.prepare_block(chain.block(1), 3, parent)  # a child starts at its parent's next version
    commit(db, chain, parent)
    with pytest.raises(StorageError, match="stale"):
        db.commit_prepared(rival)
    with pytest.raises(StorageError, match="stale"):
        db.prepare_block(chain.block(1), rival.next_version, rival)
    commit(db, chain, left)
    for stale in (right, right_child):
        with pytest.raises(StorageError, match="stale"):
            db.commit_prepared(stale)
    with pytest.raises(StorageError, match="stale"):
        db.prepare_block(chain.block(1), right.next_version, right)
    with pytest.raises(StorageError, match="stale"):
        db.prepare_block(chain.block(1), parent.next_version, parent)  # parent is committed but no longer the tip
    # the child prepared before its parent committed is still good
    commit(db, chain, left_child)
    assert db.get_accumulator_root(db.latest_version) == left_child.root
    # a committed tip can still be a parent
    after = db.prepare_block(chain.block(2), left_child.next_version, left_child)
    commit(db, chain, after)
    check_every_version(db, chain)


def test_empty_blocks(chain):
    db = LibraDB.in_memory()
    first = db.prepare_block(chain.block(3), 0)
    empty = db.prepare_block([], 3, first)
    assert empty.root == first.root and empty.state_root == first.state_root and empty.transaction_infos == ()
    child = db.prepare_block(chain.block(2), 3, empty)
    commit(db, chain, first)
    db.commit_prepared(empty)  # nothing to write, but it becomes the tip
    commit(db, chain, child)
    assert db.next_version == 5
    check_every_version(db, chain)
    on_tip = db.prepare_block([], 5)
    assert on_tip.state_root == db.get_state_root(4) and on_tip.root == child.root


def test_reopen_after_part_of_a_chain(tmp_path, chain):
    db = LibraDB.open(tmp_path / "db", prune_window=6)
    blocks = [chain.block(size) for size in (4, 3, 5, 2)]
    prepared: list[PreparedBlock] = []
    for block in blocks:
        parent = prepared[-1] if prepared else None
        prepared.append(db.prepare_block(block, parent.next_version if parent else 0, parent))
    commit(db, chain, prepared[0])
    commit(db, chain, prepared[1])
    db.close()
    again = LibraDB.open(tmp_path / "db", prune_window=6)
    assert again.next_version == prepared[1].next_version
    assert again.get_state_root(again.latest_version) == prepared[1].state_root
    check_every_version(again, chain)
    # the rest of the chain, prepared again on the reopened store, gives the same blocks
    third = again.prepare_block(blocks[2], again.next_version)
    fourth = again.prepare_block(blocks[3], third.next_version, third)
    assert summary(third) == summary(prepared[2]) and summary(fourth) == summary(prepared[3])
    commit(again, chain, fourth)
    check_every_version(again, chain)
    again.close()
    result = CliRunner().invoke(cli, ["db", "verify", "--data", str(tmp_path / "db")])
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------- property test

actions = st.lists(
    st.tuples(st.sampled_from(["prepare", "prepare", "prepare", "commit"]), st.integers(0, 10**6), st.integers(0, 4)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions, st.integers(0, 2**32))
def test_random_chains_and_forks(steps, seed):
    rng = random.Random(seed)
    chain = ChainBuilder(rng, Validators.generate(1, rng))
    db = LibraDB.in_memory(prune_window=rng.choice([None, 3, 50]))
    blocks: dict[object, Block] = {}  # token -> transactions (tokens tell equal blocks apart)
    committed: tuple[object, ...] = ()  # tokens of the committed blocks, oldest first
    paths: dict[int, tuple[object, ...]] = {}  # id(prepared) -> tokens from the first block
    every: list[PreparedBlock] = []

    def extends_tip(path: tuple[object, ...]) -> bool:
        return path[: len(committed)] == committed

    for kind, pick, size in steps:
        if kind == "prepare":
            parent = [None, *every][pick % (len(every) + 1)]
            transactions = chain.block(size, new_account_rate=0.3)
            parent_path = committed if parent is None else paths[id(parent)]
            first = db.next_version if parent is None else parent.next_version
            if not (extends_tip(parent_path) and len(parent_path) >= len(committed)):
                with pytest.raises(StorageError, match="stale"):
                    db.prepare_block(transactions, first, parent)
                continue
            prepared = db.prepare_block(transactions, first, parent)
            token = object()
            blocks[token] = transactions
            paths[id(prepared)] = (*parent_path, token)
            assert summary(prepared) == summary(sequential([blocks[t] for t in paths[id(prepared)]])[-1])
            every.append(prepared)
        elif every:
            target = every[pick % len(every)]
            path = paths[id(target)]
            if target.committed:
                with pytest.raises(StorageError, match="already committed"):
                    db.commit_prepared(target)
            elif not (extends_tip(path) and len(path) > len(committed)):
                with pytest.raises(StorageError, match="stale"):
                    db.commit_prepared(target)
            else:
                li = chain.ledger_info(target.next_version - 1, target.root) if target.next_version else None
                db.commit_prepared(target, li)
                committed = path
                assert db.next_version == target.next_version
    if db.next_version:
        reference = sequential([blocks[t] for t in committed])[-1]
        assert db.get_accumulator_root(db.latest_version) == reference.root
        assert db.get_state_root(db.latest_version) == reference.state_root
        assert all(f.ok for f in verify_store(db))
