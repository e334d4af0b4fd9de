"""The transaction accumulator, persisted node by node.

Only *frozen* nodes are stored: a node is frozen once every leaf below it exists,
and then it never changes. A node is addressed by ``(level, index in level)``::

    level 2            (2,0)
                     /       \\
    level 1      (1,0)        (1,1)
                 /   \\        /    \\
    level 0   (0,0) (0,1)  (0,2)  [PH]     <- 3 leaves: (1,1) is not frozen

Rules:

* appending leaf ``n`` stores ``(0, n)`` and every ancestor it completes; the stack
  of frozen subtree roots of the tip is kept in memory, so appends read nothing;
* the hash of any node at any leaf count ``N`` is: the stored hash if frozen
  within ``N``, the placeholder if no leaf of it is below ``N``, else the hash of
  its two children at ``N`` (only nodes on the right edge are computed);
* proofs list siblings bottom up to the root of depth ``ceil(log2 N)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from libra.crypto.merkle import (
    ACCUMULATOR_PLACEHOLDER_HASH,
    TRANSACTION_ACCUMULATOR,
    accumulator_root,
    append_leaves,
    consistency_subtree_levels,
    frozen_subtree_levels,
    hash_internal,
)
from libra.storage import schema
from libra.storage.errors import StorageError
from libra.storage.kv import WriteBatch


def frozen_positions(num_leaves: int) -> list[tuple[int, int]]:
    """``(level, index)`` of the frozen subtree roots of ``num_leaves``, left to right."""
    positions, start = [], 0
    for level in frozen_subtree_levels(num_leaves):
        positions.append((level, start >> level))
        start += 1 << level
    return positions


def tree_depth(num_leaves: int) -> int:
    """Levels above the leaves: ``ceil(log2 N)`` (0 for 0 or 1 leaf)."""
    return (num_leaves - 1).bit_length() if num_leaves > 1 else 0


Frozen = list[tuple[int, bytes]]  # the (level, hash) stack of frozen subtree roots, left to right


class TransactionAccumulator:
    """Reads and appends the accumulator through ``get`` (a key-value read).

    The committed tip ``(num_leaves, frozen stack)`` is one tuple replaced at once by
    :meth:`adopt`, so a reader on another thread never pairs a count with another
    count's stack.
    """

    def __init__(self, get: Callable[[bytes], bytes | None], num_leaves: int) -> None:
        self._get = get
        frozen: Frozen = [(level, self._read(level, index)) for level, index in frozen_positions(num_leaves)]
        self._tip: tuple[int, Frozen] = (num_leaves, frozen)

    @property
    def num_leaves(self) -> int:
        return self._tip[0]

    @property
    def tip(self) -> tuple[int, Frozen]:
        """``(num_leaves, frozen stack)`` of the committed accumulator (do not mutate the stack)."""
        return self._tip

    def _read(self, level: int, index: int) -> bytes:
        value = self._get(schema.accumulator_key(level, index))
        if value is None or len(value) != 32:
            raise StorageError(f"missing accumulator node (level {level}, index {index})")
        return value

    # ----------------------------------------------------------------- writing

    def append(
        self, batch: WriteBatch, leaves: Sequence[bytes], base: tuple[int, Frozen] | None = None
    ) -> tuple[Frozen, bytes]:
        """Write ``leaves`` into ``batch`` after ``base`` (default: the committed tip), a
        ``(num_leaves, frozen stack)`` pair; return the new frozen stack and root (not yet adopted)."""
        num_leaves, base_frozen = self._tip if base is None else base
        frozen = list(base_frozen)
        for level, index, node in append_leaves(TRANSACTION_ACCUMULATOR, frozen, leaves):
            batch.put(schema.accumulator_key(level, index), node)
        count = num_leaves + len(leaves)
        return frozen, accumulator_root(TRANSACTION_ACCUMULATOR, [node for _, node in frozen], count)

    def adopt(self, frozen: Frozen, num_leaves: int) -> None:
        """Make the stack returned by :meth:`append` current, once its batch is durable."""
        self._tip = (num_leaves, frozen)

    # ----------------------------------------------------------------- reading

    def node(self, level: int, index: int, num_leaves: int) -> bytes:
        first = index << level
        if first >= num_leaves:
            return ACCUMULATOR_PLACEHOLDER_HASH
        if (index + 1) << level <= num_leaves:
            return self._read(level, index)
        return hash_internal(
            TRANSACTION_ACCUMULATOR,
            self.node(level - 1, 2 * index, num_leaves),
            self.node(level - 1, 2 * index + 1, num_leaves),
        )

    def frozen_roots(self, num_leaves: int) -> list[bytes]:
        self._check_count(num_leaves)
        return [self._read(level, index) for level, index in frozen_positions(num_leaves)]

    def root(self, num_leaves: int) -> bytes:
        tip_leaves, frozen = self._tip
        if num_leaves == tip_leaves:
            return accumulator_root(TRANSACTION_ACCUMULATOR, [node for _, node in frozen], num_leaves)
        return accumulator_root(TRANSACTION_ACCUMULATOR, self.frozen_roots(num_leaves), num_leaves)

    def proof(self, leaf_index: int, num_leaves: int) -> list[bytes]:
        self._check_index(leaf_index, num_leaves)
        return [self.node(level, (leaf_index >> level) ^ 1, num_leaves) for level in range(tree_depth(num_leaves))]

    def range_proof(self, first: int, count: int, num_leaves: int) -> tuple[list[bytes], list[bytes]]:
        """Left siblings of the first leaf's path and right siblings of the last's, bottom up."""
        if count == 0:
            return [], []
        last = first + count - 1
        self._check_index(last, num_leaves)
        depth = tree_depth(num_leaves)
        left = [self.node(lv, (first >> lv) ^ 1, num_leaves) for lv in range(depth) if first >> lv & 1]
        right = [self.node(lv, (last >> lv) ^ 1, num_leaves) for lv in range(depth) if not last >> lv & 1]
        return left, right

    def consistency_proof(self, old_leaves: int, new_leaves: int) -> list[bytes]:
        """Subtrees that extend the accumulator of ``old_leaves`` to ``new_leaves``."""
        self._check_count(new_leaves)
        subtrees, start = [], old_leaves
        for level in consistency_subtree_levels(old_leaves, new_leaves):
            subtrees.append(self._read(level, start >> level))
            start += 1 << level
        return subtrees

    def _check_count(self, num_leaves: int) -> None:
        if not 0 <= num_leaves <= self.num_leaves:
            raise StorageError(f"accumulator has {self.num_leaves} leaves, asked about {num_leaves}")

    def _check_index(self, leaf_index: int, num_leaves: int) -> None:
        self._check_count(num_leaves)
        if not 0 <= leaf_index < num_leaves:
            raise StorageError(f"leaf {leaf_index} is not among {num_leaves} leaves")
