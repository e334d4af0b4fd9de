"""The native state tree writes what the Python ``TreeUpdater`` writes.

Generated blocks of versions over raw state keys (some sharing 6 or 31 bytes, so chains of
one-child nodes form and collapse), with inserts, overwrites and deletes, prepared in chains
of uncommitted blocks and in forks, committed a few at a time. For every prepared block:
the same nodes under the same keys and the same stale-index entries (byte for byte), the
same root per version, the same nodes left for child blocks; after every commit the two
stores hold the same bytes, and blob, proof and root reads of every checkpoint (block end,
whose whole tree is stored; ``tests/unit/storage/test_replay.py`` reads the others) agree. The
native cache is kept tiny, so reads miss, are fetched from the store and evicted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.storage.test_jellyfish import KEYS

from libra import _core
from libra.storage.jellyfish import (
    NodeReader,
    OverlayReader,
    TreeUpdater,
    encode_node,
    get_blob,
    get_with_proof,
    node_key,
    root_hash,
)
from libra.storage.kv import MemoryStore, WriteBatch
from libra.storage.libradb import TransactionToCommit


def frozen_stack(leaves: int) -> list[tuple[int, bytes]]:
    """Some frozen stack describing ``leaves`` leaves (the tree does not read its hashes)."""
    return [(level, bytes([level]) * 32) for level in range(leaves.bit_length() - 1, -1, -1) if leaves >> level & 1]


@dataclass
class Prepared:
    first_version: int
    versions: list[dict[bytes, bytes | None]]
    python_ops: dict[bytes, bytes]
    python_overlay: dict
    native_nodes: _core.BlockNodes
    native_batch: _core.BlockBatch
    roots: list[bytes]


@dataclass
class Trees:
    """One committed store per side, and the chain of uncommitted blocks on top of it."""

    cache_size: int
    python_store: MemoryStore = field(default_factory=MemoryStore)
    native_store: MemoryStore = field(default_factory=MemoryStore)
    chain: list[Prepared] = field(default_factory=list)
    next_version: int = 0
    checkpoints: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reader = NodeReader(self.python_store.get, self.cache_size, self.cache_size)
        self.tree = _core.StateTree(
            self.native_store.get, self.native_store.multi_get, self.cache_size, self.cache_size
        )

    def prepare(self, versions: list[dict[bytes, bytes | None]], ancestors: list[Prepared]) -> Prepared:
        first = ancestors[-1].first_version + len(ancestors[-1].versions) if ancestors else self.next_version
        reader = OverlayReader(self.reader, [block.python_overlay for block in reversed(ancestors)])
        batch = WriteBatch()
        updater = TreeUpdater(reader, batch)
        roots = []
        base = first - 1 if first else None
        for offset, changes in enumerate(versions):
            roots.append(updater.apply(first + offset, base, changes))
            base = first + offset
        updater.checkpoint()
        answer = self.tree.prepare_block(
            [TransactionToCommit(b"", changes) for changes in versions],
            first,
            [block.native_nodes for block in reversed(ancestors)],
            frozen_stack(first),
            state_keys=True,
        )
        assert answer is not None
        nodes, native_batch, hashes, *_ = answer
        native_roots = [hashes[at + 32 : at + 64] for at in range(0, len(hashes), 96)]
        assert native_roots == roots
        native_tree_ops = [(key, value) for key, value in native_batch.items() if key[:1] in b"NS"]
        assert dict(native_tree_ops) == batch.ops
        assert len(native_tree_ops) == len(batch.ops)  # no key written twice
        assert dict(nodes.items()) == {key: encode_node(node) for key, node in reader.overlay.items()}
        return Prepared(first, versions, dict(batch.ops), reader.overlay, nodes, native_batch, roots)

    def commit(self, count: int) -> None:
        for block in self.chain[:count]:
            python_batch = WriteBatch()
            python_batch.ops.update(block.python_ops)
            self.python_store.write(python_batch)
            self.reader.publish(block.python_overlay)
            native_batch = WriteBatch()  # the infos and accumulator nodes too: the store reads around them
            native_batch.prepared.append(block.native_batch)
            self.native_store.write(native_batch)
            self.tree.publish(block.native_nodes)
            self.next_version = block.first_version + len(block.versions)
            if block.versions:
                self.checkpoints.append(self.next_version - 1)
        del self.chain[:count]
        native_tree_content = {key: value for key, value in self.native_store._data.items() if key[:1] in b"NS"}
        assert native_tree_content == self.python_store._data

    def check_reads(self) -> None:
        whole = []  # versions whose whole tree is stored: block ends, and a lone leaf (a tree by itself)
        for version in range(self.next_version):
            root = self.python_store.get(node_key(version, bytes(32), 0))
            assert root is not None or version not in self.checkpoints
            if root is not None:
                assert version in self.checkpoints or root[0] == 1
                whole.append(version)
        for version in whole:
            assert self.tree.root_hash(version) == root_hash(self.reader, version)
            for key in KEYS:
                assert self.tree.get_blob(version, key) == get_blob(self.reader, version, key)
                assert self.tree.get_with_proof(version, key) == get_with_proof(self.reader, version, key)


changes = st.dictionaries(st.sampled_from(KEYS), st.one_of(st.none(), st.binary(max_size=20)), max_size=6)
overwrites = st.dictionaries(st.sampled_from(KEYS[:10]), st.binary(min_size=1, max_size=20), min_size=1, max_size=3)
block = st.lists(st.one_of(changes, overwrites), max_size=5)
step = st.one_of(
    st.tuples(st.just("extend"), block),  # a child of the newest uncommitted block (or of the tip)
    st.tuples(st.just("fork"), block),  # a sibling of the newest uncommitted block, then dropped
    st.tuples(st.just("commit"), st.integers(1, 3)),  # the oldest uncommitted blocks
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=14), st.integers(1, 40))
def test_native_blocks_write_and_read_what_the_python_tree_does(steps, cache_size):
    trees = Trees(cache_size)
    trees.chain.append(trees.prepare([dict.fromkeys(KEYS[:10], b"first")], []))
    for kind, argument in steps:
        if kind == "extend":
            trees.chain.append(trees.prepare(argument, trees.chain))
        elif kind == "fork":
            trees.prepare(argument, trees.chain[:-1])
        else:
            trees.commit(argument)
            trees.check_reads()
    trees.commit(len(trees.chain))
    trees.check_reads()


def test_deleting_one_of_two_keys_sharing_31_bytes_collapses_the_chain_alike():
    """The deepest shapes: two leaves split at nibble 62, then one goes and the other moves up to the root's child."""
    deep = [KEYS[1], KEYS[-1], KEYS[-2]]
    trees = Trees(4)
    trees.chain.append(trees.prepare([{key: b"x" for key in deep}, {KEYS[0]: b"y"}], []))
    trees.chain.append(trees.prepare([{deep[1]: None}, {deep[2]: None}, {deep[0]: None}, {}], trees.chain))
    trees.chain.append(trees.prepare([{deep[0]: b"back"}, {KEYS[0]: None}, {}], trees.chain))
    trees.commit(3)
    trees.check_reads()
