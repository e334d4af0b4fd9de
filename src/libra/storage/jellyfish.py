"""Versioned sparse Merkle state tree, Jellyfish style.

The tree is the 256-bit sparse Merkle tree of Diem (see :mod:`libra.crypto.merkle`)
stored as 16-ary nodes, one nibble of the key per level:

* a node is written once, under ``N | version u64be | depth u8 | nibbles``, where
  ``version`` is when it was written and the nibbles are the first ``depth`` of any
  key below it; every version has its root at ``depth 0``;
* an internal node records, per non-empty child nibble, the child's version,
  hash and whether it is a leaf, so it can be hashed without reading children;
  its hash is the 4-level binary reduction of its 16 slots where an empty slot is
  the placeholder and a half holding a single leaf *is* that leaf;
* a subtree with one leaf is stored as that leaf, as high as it can go, and a
  deleted key makes a lone sibling leaf move up, so stored hashes always equal the
  semantic sparse Merkle root;
* a node replaced at version ``v`` is indexed as stale since ``v`` (one entry
  ``S | v`` per version listing the node keys, see :mod:`libra.storage.schema`)
  so the pruner can delete it once ``v`` leaves the window;
* leaves are stored for every version, internal nodes only for the versions that
  end a block (its *checkpoint*, :meth:`TreeUpdater.checkpoint`): an internal node
  that a later version of the same block replaces is never stored, nor indexed as
  stale. So the whole tree of a version is in the store at checkpoints only; a
  version in between is read by replaying its block's leaves (``LibraDB``).

Node values::

    internal  00 | existence bitmap u16be | leaf bitmap u16be | (child version u64be | hash 32)*
    leaf      01 | key 32 | value hash 32 | account blob
    null      02                                   (the root of an empty tree)

In memory an internal node is an :class:`InternalNode` (a children dict) that keeps
its 31-slot binary hash heap once computed, so a node derived from it by changing
a few children re-hashes only the 4 slots above each changed child instead of all 15.

Readers: :class:`NodeReader` reads committed nodes (a locked LRU of decoded internal
nodes over the store; safe to share between threads); :class:`OverlayReader` reads a
speculative state: the block's own nodes, then those of its uncommitted ancestors,
then the committed reader.
"""

from __future__ import annotations

import hashlib
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, Union

from libra.crypto.hashing import hash_seed
from libra.crypto.merkle import (
    SPARSE_MERKLE_INTERNAL,
    SPARSE_MERKLE_LEAF,
    SPARSE_MERKLE_PLACEHOLDER_HASH,
    hash_account_blob,
    hash_internal,
    smt_leaf_hash,
)
from libra.storage import schema
from libra.storage.errors import StorageError
from libra.storage.kv import WriteBatch

Child = tuple[int, bytes, bool]  # (version, hash, is_leaf)
Children = dict[int, Child]
Leaf = tuple[bytes, bytes, bytes]  # (key, value hash, blob)
Node = Union[Children, Leaf, None]  # noqa: UP007 - a runtime alias
Slot = tuple[bytes, bool] | None  # (hash, is a lone leaf) of a binary subtree inside a node

_INTERNAL, _LEAF, _NULL = 0, 1, 2
_U64 = struct.Struct(">Q")
_HEADER = struct.Struct(">BHH")
_U16 = struct.Struct(">H")
_CHILD = struct.Struct(">Q32s")
# Whole internal node with n children: header, then (version, hash) per child.
_INTERNAL_LAYOUT = [struct.Struct(">BHH" + "Q32s" * count) for count in range(17)]
_sha3 = hashlib.sha3_256
_NODE = schema.NODE
_ACCOUNT_BLOB = hash_seed("AccountStateBlob")  # hash_account_blob's salt
# Per child nibble, the 4 heap levels above it: (sibling slot, parent slot, the sibling is on the left).
_CLIMB = [
    tuple(((16 + index >> level) ^ 1, 16 + index >> level + 1, bool(16 + index >> level & 1)) for level in range(4))
    for index in range(16)
]
_MISSING: object = object()


class InternalNode(dict[int, Child]):
    """The children of an internal node, plus its binary hash heap once computed.

    ``heap()[1]`` is the node's root slot; slot ``j`` has children ``2j`` and ``2j+1``;
    slot ``16 + nibble`` is the child at ``nibble``. A node is never mutated once
    it is in a reader, an overlay or a cache, and such a node always has ``_raw``.
    """

    __slots__ = ("_heap", "_raw")  # unset until known (no __init__: copying stays a C call)
    _heap: list[Slot]
    _raw: bytes  # the stored encoding

    def heap(self) -> list[Slot]:
        try:
            return self._heap
        except AttributeError:
            heap = self._heap = _full_heap(self)
            return heap


# --------------------------------------------------------------------------- pure helpers


_DEPTH_BYTE = [bytes([depth]) for depth in range(65)]
_HIGH_NIBBLE = [bytes([byte & 0xF0]) for byte in range(256)]  # a byte with its second nibble cleared


def node_key(version: int, key: bytes, depth: int) -> bytes:
    """Storage key of the node at ``depth`` nibbles on the path of ``key``, written at ``version``."""
    half = depth >> 1
    if depth & 1:
        return schema.NODE + _U64.pack(version) + _DEPTH_BYTE[depth] + key[:half] + _HIGH_NIBBLE[key[half]]
    return schema.NODE + _U64.pack(version) + _DEPTH_BYTE[depth] + key[:half]


def nibble(key: bytes, depth: int) -> int:
    byte = key[depth >> 1]
    return byte & 0x0F if depth & 1 else byte >> 4


def encode_internal(children: Children) -> bytes:
    existence = leaves = 0
    fields: list[int | bytes] = []
    for index in sorted(children):
        version, child_hash, is_leaf = children[index]
        if len(child_hash) != 32:
            raise StorageError("a child hash must be 32 bytes")
        bit = 1 << index
        existence |= bit
        if is_leaf:
            leaves |= bit
        fields += (version, child_hash)
    return _INTERNAL_LAYOUT[len(children)].pack(_INTERNAL, existence, leaves, *fields)


def encode_leaf(key: bytes, value_hash: bytes, blob: bytes) -> bytes:
    return bytes([_LEAF]) + key + value_hash + blob


NULL_NODE = bytes([_NULL])


def decode_node(data: bytes) -> Node:
    """Children dict, ``(key, value_hash, blob)`` or None for the null node."""
    kind = data[0]
    if kind == _LEAF:
        return data[1:33], data[33:65], data[65:]
    if kind == _NULL:
        return None
    if kind != _INTERNAL:
        raise StorageError(f"corrupt state tree node (kind {kind})")
    _, existence, leaves = _HEADER.unpack_from(data)
    count = existence.bit_count()
    if len(data) != 5 + 40 * count:
        raise StorageError("corrupt state tree node (length)")
    fields = _INTERNAL_LAYOUT[count].unpack(data)
    children = InternalNode()
    children._raw = data
    position = 3
    for index in range(16):
        if existence >> index & 1:
            children[index] = (fields[position], fields[position + 1], bool(leaves >> index & 1))
            position += 2
    return children


def _combine(left: Slot, right: Slot) -> Slot:
    """A binary slot from its two halves: empty, a lone leaf floating up, or a hash."""
    if left is None:
        if right is None or right[1]:
            return right
        return _sha3(SPARSE_MERKLE_INTERNAL + SPARSE_MERKLE_PLACEHOLDER_HASH + right[0]).digest(), False
    if right is None:
        if left[1]:
            return left
        return _sha3(SPARSE_MERKLE_INTERNAL + left[0] + SPARSE_MERKLE_PLACEHOLDER_HASH).digest(), False
    return _sha3(SPARSE_MERKLE_INTERNAL + left[0] + right[0]).digest(), False


def _full_heap(children: Children) -> list[Slot]:
    heap: list[Slot] = [None] * 32
    for index, (_, child_hash, is_leaf) in children.items():
        heap[16 + index] = (child_hash, is_leaf)
    for slot in range(15, 0, -1):
        left, right = heap[2 * slot], heap[2 * slot + 1]
        if left is not None or right is not None:
            heap[slot] = _combine(left, right)
    return heap


def _updated_heap(heap: list[Slot], changed: Iterable[int], children: Children) -> list[Slot]:
    """``heap`` of a node whose children at ``changed`` nibbles are now those of ``children``."""
    heap = heap.copy()
    dirty = set()
    for index in changed:
        child = children.get(index)
        heap[16 + index] = None if child is None else (child[1], child[2])
        dirty.add((16 + index) >> 1)
    if len(dirty) == 1:  # the common case: one path of 4 slots
        (slot,) = dirty
        while slot:
            left, right = heap[2 * slot], heap[2 * slot + 1]
            if left is not None and right is not None:
                heap[slot] = _sha3(SPARSE_MERKLE_INTERNAL + left[0] + right[0]).digest(), False
            else:
                heap[slot] = _combine(left, right)
            slot >>= 1
        return heap
    # Several paths: level by level up to the root, each dirty slot once (sorted, so equal parents are adjacent).
    slots = sorted(dirty)
    while True:
        above: list[int] = []
        for slot in slots:
            left, right = heap[2 * slot], heap[2 * slot + 1]
            if left is not None and right is not None:
                heap[slot] = _sha3(SPARSE_MERKLE_INTERNAL + left[0] + right[0]).digest(), False
            else:
                heap[slot] = _combine(left, right)
            if not above or above[-1] != slot >> 1:
                above.append(slot >> 1)
        if above[0] == 0:
            return heap
        slots = above


def _spliced(base: InternalNode, placed: Children, changed: Iterable[int]) -> bytes | None:
    """``placed``'s encoding from ``base``'s when only children present in both changed (else None)."""
    try:
        raw = base._raw
    except AttributeError:
        return None
    _, existence, leaves = _HEADER.unpack_from(raw)
    buffer = None
    for index in changed:
        child = placed.get(index)
        bit = 1 << index
        if child is None or not existence & bit or len(child[1]) != 32:
            return None
        if buffer is None:
            buffer = bytearray(raw)
        _CHILD.pack_into(buffer, 5 + 40 * (existence & (bit - 1)).bit_count(), child[0], child[1])
        leaves = leaves | bit if child[2] else leaves & ~bit
    if buffer is None:
        return None
    _U16.pack_into(buffer, 3, leaves)
    return bytes(buffer)


def _heap_of(children: Children) -> list[Slot]:
    return children.heap() if isinstance(children, InternalNode) else _full_heap(children)


def _heap_hash(heap: list[Slot]) -> bytes:
    root = heap[1]
    return root[0] if root is not None else SPARSE_MERKLE_PLACEHOLDER_HASH


def reduce_levels(children: Children) -> list[list[Slot]]:
    """The binary levels of an internal node: 16 slots, then 8, 4, 2 and 1."""
    level: list[Slot] = [None] * 16
    for index, (_, child_hash, is_leaf) in children.items():
        level[index] = (child_hash, is_leaf)
    levels = [level]
    while len(level) > 1:
        parent: list[Slot] = []
        for left, right in zip(level[::2], level[1::2], strict=True):
            if left is None and right is None:
                parent.append(None)
            elif right is None and left is not None and left[1]:
                parent.append(left)
            elif left is None and right is not None and right[1]:
                parent.append(right)
            else:
                parent.append(
                    (
                        hash_internal(
                            SPARSE_MERKLE_INTERNAL,
                            left[0] if left else SPARSE_MERKLE_PLACEHOLDER_HASH,
                            right[0] if right else SPARSE_MERKLE_PLACEHOLDER_HASH,
                        ),
                        False,
                    )
                )
        level = parent
        levels.append(level)
    return levels


def internal_hash(children: Children) -> bytes:
    return _heap_hash(_heap_of(children))


def node_hash(node: Node) -> bytes:
    if node is None:
        return SPARSE_MERKLE_PLACEHOLDER_HASH
    if isinstance(node, tuple):
        return smt_leaf_hash(node[0], node[1])
    return internal_hash(node)


# --------------------------------------------------------------------------- reading


class NodeSource(Protocol):
    """What :class:`TreeUpdater` reads through and writes its new nodes into (``overlay``)."""

    overlay: dict[bytes, Node]

    def read(self, key: bytes) -> Node: ...

    def raw(self, key: bytes) -> bytes: ...


class NodeReader:
    """Reads nodes through an overlay, bounded LRUs of decoded nodes, then the store.

    Internal nodes and leaves have LRUs of their own, so that leaves (cheap to miss:
    one read, no hashing) never push out internal nodes (a miss re-hashes the whole
    node). The LRUs are guarded by a lock: any number of threads may read while one
    thread publishes or forgets. The ``overlay`` is for a single writer driving a
    :class:`TreeUpdater` straight on this reader (as the tree tests do);
    ``LibraDB`` leaves it empty and writes through :class:`OverlayReader` instances.
    """

    def __init__(
        self, get: Callable[[bytes], bytes | None], cache_size: int = 65536, leaf_cache_size: int = 16384
    ) -> None:
        self._get = get
        self._cache: OrderedDict[bytes, Node] = OrderedDict()
        self._cache_size = cache_size
        # Leaves of recently written or read accounts: a payment's next block reads them again.
        self._leaves: OrderedDict[bytes, Leaf] = OrderedDict()
        self._leaf_cache_size = leaf_cache_size
        self._lock = threading.Lock()
        self.overlay: dict[bytes, Node] = {}

    def read(self, key: bytes) -> Node:
        overlay = self.overlay
        if overlay:
            node = overlay.get(key, _MISSING)
            if node is not _MISSING:
                return node  # type: ignore[return-value]
        return self.read_stored(key)

    def read_stored(self, key: bytes) -> Node:
        """A node of the store (through the LRU), ignoring the overlay."""
        cache, leaves = self._cache, self._leaves
        with self._lock:
            node = cache.get(key, _MISSING)
            if node is not _MISSING:
                cache.move_to_end(key)
                return node  # type: ignore[return-value]
            leaf = leaves.get(key)
            if leaf is not None:
                leaves.move_to_end(key)
                return leaf
        data = self._get(key)
        if data is None:
            raise StorageError(f"missing state tree node {key[1:].hex()} (pruned or corrupt store)")
        node = decode_node(data)
        with self._lock:
            if isinstance(node, tuple):
                leaves[key] = node
                if len(leaves) > self._leaf_cache_size:
                    leaves.popitem(last=False)
            else:
                cache[key] = node
                if len(cache) > self._cache_size:
                    cache.popitem(last=False)
        return node

    def raw(self, key: bytes) -> bytes:
        """The encoded node (for copying a root)."""
        return encode_node(self.read(key))

    def publish(self, nodes: Mapping[bytes, Node]) -> None:
        """Cache ``nodes`` (call only once they are in the store)."""
        cache, leaves = self._cache, self._leaves
        with self._lock:
            for key, node in nodes.items():
                if isinstance(node, tuple):
                    leaves[key] = node
                else:
                    cache[key] = node
            while len(cache) > self._cache_size:
                cache.popitem(last=False)
            while len(leaves) > self._leaf_cache_size:
                leaves.popitem(last=False)

    def publish_overlay(self) -> None:
        """After a successful commit: move the nodes written by it into the caches."""
        self.publish(self.overlay)
        self.overlay = {}

    def discard_overlay(self) -> None:
        self.overlay = {}

    def forget(self, key: bytes) -> None:
        with self._lock:
            self._cache.pop(key, None)
            self._leaves.pop(key, None)

    def forget_all(self, keys: Iterable[bytes]) -> None:
        """:meth:`forget` of each of ``keys``, under one lock (the pruner drops thousands)."""
        with self._lock:
            cache, leaves = self._cache, self._leaves
            if not cache and not leaves:
                return
            for key in keys:
                cache.pop(key, None)
                leaves.pop(key, None)


class OverlayReader:
    """A speculative state: ``overlay`` (this block's new nodes), then ``ancestors``' overlays
    (nearest first), then the committed nodes of ``base``. Never writes to the ancestors."""

    __slots__ = ("overlay", "_chain", "_base")

    def __init__(self, base: NodeReader, ancestors: Sequence[dict[bytes, Node]] = ()) -> None:
        self.overlay: dict[bytes, Node] = {}
        self._chain = (self.overlay, *ancestors)
        self._base = base

    def read(self, key: bytes) -> Node:
        for overlay in self._chain:
            node = overlay.get(key, _MISSING)
            if node is not _MISSING:
                return node  # type: ignore[return-value]
        return self._base.read_stored(key)

    def raw(self, key: bytes) -> bytes:
        return encode_node(self.read(key))


def encode_node(node: Node) -> bytes:
    if node is None:
        return NULL_NODE
    if isinstance(node, tuple):
        return encode_leaf(*node)
    return encode_internal(node)


def get_with_proof(reader: NodeSource, version: int, key: bytes) -> tuple[bytes | None, Leaf | None, list[bytes]]:
    """``(blob or None, leaf met or None, siblings bottom-up)`` for ``key`` at ``version``."""
    siblings: list[bytes] = []
    current = node_key(version, key, 0)
    depth = 0
    while True:
        node = reader.read(current)
        if node is None:
            break
        if isinstance(node, tuple):
            siblings.reverse()
            return (node[2] if node[0] == key else None), node, siblings
        heap = _heap_of(node)
        index = nibble(key, depth)
        child: Child | None = None
        for height in (3, 2, 1, 0):
            position = index >> height
            first = 16 >> height
            sibling = heap[first + (position ^ 1)]
            siblings.append(sibling[0] if sibling else SPARSE_MERKLE_PLACEHOLDER_HASH)
            mine = heap[first + position]
            if mine is None:
                break
            if height == 0 or mine[1]:
                only = index if height == 0 else _only_child(node, position, height)
                child = node[only]
                index = only
                break
        if child is None:
            break
        depth += 1
        current = node_key(child[0], key if index == nibble(key, depth - 1) else _with_nibble(key, depth - 1, index), depth)
    siblings.reverse()
    return None, None, siblings


def _only_child(children: Children, position: int, height: int) -> int:
    low = position << height
    for index in range(low, low + (1 << height)):
        if index in children:
            return index
    raise StorageError("corrupt state tree node (lone leaf not found)")


def _with_nibble(key: bytes, depth: int, value: int) -> bytes:
    """``key`` with nibble ``depth`` replaced (to address a leaf met off the key's path)."""
    data = bytearray(key)
    byte = data[depth >> 1]
    data[depth >> 1] = (byte & 0xF0) | value if depth & 1 else (byte & 0x0F) | (value << 4)
    return bytes(data)


def get_blob(reader: NodeSource, version: int, key: bytes) -> bytes | None:
    """The blob of ``key`` at ``version`` (no proof): follow the key's nibbles."""
    current = node_key(version, key, 0)
    depth = 0
    while True:
        node = reader.read(current)
        if node is None:
            return None
        if isinstance(node, tuple):
            return node[2] if node[0] == key else None
        child = node.get(nibble(key, depth))
        if child is None:
            return None
        depth += 1
        current = node_key(child[0], key, depth)


def root_hash(reader: NodeSource, version: int) -> bytes:
    return node_hash(reader.read(node_key(version, bytes(32), 0)))


# --------------------------------------------------------------------------- writing


class _Pending:
    """A leaf that will end up somewhere in the new tree; written once its depth is known."""

    __slots__ = ("key", "hash", "value", "old_key", "old_version", "old_depth")

    def __init__(
        self, key: bytes, value: bytes | None, old_key: bytes | None = None, old_version: int = 0, old_depth: int = -1
    ) -> None:
        self.key = key
        self.value = value  # encoded leaf node, or None to be loaded from old_key
        self.old_key = old_key
        self.old_version = old_version
        self.old_depth = old_depth
        self.hash = b""


_Result = Union[_Pending, bytes, None]  # noqa: UP007 - pending leaf, internal node hash, or empty


class TreeUpdater:
    """Applies one version's account changes on top of the previous version's tree.

    New nodes go to ``reader.overlay``, and new leaves to ``batch`` too; a node of the
    overlay that a later version replaces is dropped from the overlay again, so the
    overlay ends up holding the nodes of the last version's tree only, which is all a
    child block reads and all :meth:`checkpoint` writes of the internal nodes. (A
    replaced leaf may still be read while its version is applied, when it moves down
    next to a new one, so the dropping happens at the end of :meth:`apply`.)

    A version that only gives existing keys new blobs (a payment) takes
    :meth:`_overwrite`, which writes the same bytes as the general path with less work.
    The native core's ``core/engine/src/storage/tree.rs`` ports the general path call
    for call (the stale-index lists depend on the order of the calls): change both.
    """

    def __init__(self, reader: NodeSource, batch: WriteBatch, *, fast_path: bool = True) -> None:
        self.reader = reader
        self.batch = batch
        self.version = 0
        self._replaced: list[bytes] = []
        self._fast_path = fast_path  # False: every version takes the general path (tests compare both)

    def apply(self, version: int, base_version: int | None, changes: Mapping[bytes, bytes | None]) -> bytes:
        """Write version ``version``'s tree (``changes``: state key -> blob or None) and return its root."""
        stale: list[bytes] = []
        try:
            root = self._apply(version, base_version, changes)
        finally:
            # A replaced internal node this updater wrote never reaches the store, so it is not stale either.
            overlay = self.reader.overlay
            for key in self._replaced:
                node = overlay.pop(key, _MISSING)
                if node is _MISSING or type(node) is tuple:
                    stale.append(key)
            self._replaced.clear()
        if stale:  # one stale-index entry per version: fewer, larger puts than one per node
            self.batch.put(schema.stale_key(version), b"".join(stale))
        return root

    def checkpoint(self) -> None:
        """The block's end: write the internal and null nodes of the last version's tree, in key order."""
        overlay, put = self.reader.overlay, self.batch.put
        for key in sorted(overlay):
            node = overlay[key]
            if type(node) is not tuple:  # an InternalNode in an overlay always has its encoding
                put(key, NULL_NODE if node is None else node._raw)  # type: ignore[union-attr]

    def _apply(self, version: int, base_version: int | None, changes: Mapping[bytes, bytes | None]) -> bytes:
        self.version = version
        if self._fast_path and base_version is not None and changes:
            overwritten = self._overwrite(base_version, changes)
            if overwritten is not None:
                return overwritten
        updates: list[tuple[bytes, _Pending | None]] = []
        for key in sorted(changes):
            blob = changes[key]
            if blob is None:
                updates.append((key, None))
            else:
                pending = _Pending(key, encode_leaf(key, hash_account_blob(blob), blob))
                pending.hash = smt_leaf_hash(key, pending.value[33:65])  # type: ignore[index]
                updates.append((key, pending))
        if base_version is None:
            result = self._build([(k, p) for k, p in updates if p is not None], 0)
        elif not updates:
            return self._copy_root(base_version)
        else:
            root_key = node_key(base_version, bytes(32), 0)
            root = self.reader.read(root_key)
            self._mark_stale(root_key)
            result = self._update(root_key, base_version, root, 0, updates)
        return self._write_root(result)

    def _overwrite(self, base_version: int, changes: Mapping[bytes, bytes | None]) -> bytes | None:
        """Fast path for a version whose every change gives an *existing* key a new blob.

        The tree keeps its shape, so the new nodes are the old ones on the changed
        paths with new child hashes. Writes exactly what the general path writes
        (same nodes, same stale entries). Returns the new root hash, or None, having
        written nothing, when a key is new or deleted (the general path then runs).

        First pass: walk every changed key's path (keys ascending), noting each internal
        node met once as ``[stored key, node, parent entry, nibble in parent, {nibble: new
        child hash}]`` and each replaced node's key in the general path's order (pre-order).
        Second pass, children before parents: each node's changed children re-hash its heap
        and are spliced into its stored bytes (a child keeps its leaf flag, so the header stays).
        """
        read = self.reader.read
        prefix = _NODE + _U64.pack(base_version)
        root_key = prefix + b"\x00"  # node_key(base_version, any key, 0)
        root = read(root_key)
        if type(root) is not InternalNode:
            return None
        # [stored key, node, parent entry, nibble in the parent, {nibble: new child hash}]
        root_entry: list[Any] = [root_key, root, None, 0, {}]
        touched = {root_key: root_entry}
        order = [root_entry]
        leaves = []
        stale = [root_key]
        for key in sorted(changes):
            blob = changes[key]
            if blob is None:
                return None
            entry = root_entry
            node: Any = root  # an InternalNode (checked by type: a C-level test)
            depth = 0
            while True:
                byte = key[depth >> 1]
                index = byte & 0x0F if depth & 1 else byte >> 4  # nibble(key, depth), inlined
                child = node.get(index)
                if child is None:
                    return None
                depth += 1
                half = depth >> 1  # node_key(child[0], key, depth), inlined
                if depth & 1:
                    child_key = _NODE + _U64.pack(child[0]) + _DEPTH_BYTE[depth] + key[:half] + _HIGH_NIBBLE[key[half]]
                else:
                    child_key = _NODE + _U64.pack(child[0]) + _DEPTH_BYTE[depth] + key[:half]
                if child[2]:
                    leaf = read(child_key)
                    if type(leaf) is not tuple or leaf[0] != key:
                        return None
                    leaves.append((key, blob, child_key, entry, index))
                    stale.append(child_key)
                    break
                below = touched.get(child_key)
                if below is None:
                    node = read(child_key)
                    if type(node) is not InternalNode:
                        return None
                    below = touched[child_key] = [child_key, node, entry, index, {}]
                    order.append(below)
                    stale.append(child_key)
                else:
                    node = below[1]
                entry = below

        version = self.version
        prefix = _NODE + _U64.pack(version)
        ops, overlay = self.batch.ops, self.reader.overlay  # what _put does, inlined
        self._replaced.extend(stale)  # what _mark_stale does, in the same order
        for key, blob, leaf_key, parent, index in leaves:
            value_hash = _sha3(_ACCOUNT_BLOB + blob).digest()  # hash_account_blob
            new_key = prefix + leaf_key[9:]
            ops[new_key] = b"\x01" + key + value_hash + blob  # encode_leaf
            overlay[new_key] = (key, value_hash, blob)
            parent[4][index] = _sha3(SPARSE_MERKLE_LEAF + key + value_hash).digest()
        new_hash = b""
        internal, placeholder = SPARSE_MERKLE_INTERNAL, SPARSE_MERKLE_PLACEHOLDER_HASH
        # A node is found after its parent, so the reverse of discovery puts children first.
        for node_key_, node, parent, parent_index, changed in reversed(order):
            placed = InternalNode(node)
            raw = node._raw
            existence = raw[1] << 8 | raw[2]
            if len(changed) == 1:  # the common case: one path of 4 heap slots, one splice
                ((index, new_hash),) = changed.items()
                is_leaf = node[index][2]
                placed[index] = (version, new_hash, is_leaf)
                try:
                    heap = node._heap.copy()
                except AttributeError:
                    heap = node.heap().copy()
                slot = heap[16 + index] = (new_hash, is_leaf)
                for sibling_at, position, sibling_left in _CLIMB[index]:  # _rehashed, unrolled for a present child
                    sibling = heap[sibling_at]
                    if sibling is not None:
                        if sibling_left:
                            slot = _sha3(internal + sibling[0] + slot[0]).digest(), False
                        else:
                            slot = _sha3(internal + slot[0] + sibling[0]).digest(), False
                    elif not slot[1]:  # (a lone leaf floats up unhashed)
                        if sibling_left:
                            slot = _sha3(internal + placeholder + slot[0]).digest(), False
                        else:
                            slot = _sha3(internal + slot[0] + placeholder).digest(), False
                    heap[position] = slot
                offset = 5 + 40 * (existence & ((1 << index) - 1)).bit_count()
                raw = raw[:offset] + _CHILD.pack(version, new_hash) + raw[offset + 40 :]
            else:
                for index, child_hash in changed.items():
                    placed[index] = (version, child_hash, node[index][2])
                heap = _updated_heap(node.heap(), changed, placed)
                parts: list[bytes] = []
                start = 0
                for index in sorted(changed):
                    offset = 5 + 40 * (existence & ((1 << index) - 1)).bit_count()
                    parts += (raw[start:offset], _CHILD.pack(version, changed[index]))
                    start = offset + 40
                parts.append(raw[start:])
                raw = b"".join(parts)
            placed._heap = heap
            placed._raw = raw
            overlay[prefix + node_key_[9:]] = placed  # (written by checkpoint())
            new_hash = heap[1][0]  # a node on a changed path is never empty
            if parent is not None:
                parent[4][parent_index] = new_hash
        return new_hash

    def _copy_root(self, base_version: int) -> bytes:
        """An unchanged state: the new version's root is a copy of the old one."""
        old_key = node_key(base_version, bytes(32), 0)
        root = self.reader.read(old_key)
        value = self.reader.raw(old_key)
        self._mark_stale(old_key)
        self._put(node_key(self.version, bytes(32), 0), value, root)
        return node_hash(root)

    def _write_root(self, result: _Result) -> bytes:
        key = node_key(self.version, bytes(32), 0)
        if result is None:
            self._put(key, NULL_NODE, None)
            return SPARSE_MERKLE_PLACEHOLDER_HASH
        if isinstance(result, _Pending):
            self._place(result, result.key, 0)
            return result.hash
        return result

    def _put(self, key: bytes, value: bytes, node: Node) -> None:
        """Keep ``node`` for later reads and, a leaf, write it (``value``) at once; see :meth:`checkpoint`."""
        if type(node) is tuple:
            self.batch.put(key, value)
        self.reader.overlay[key] = node

    def _mark_stale(self, key: bytes) -> None:
        """``key``'s node is not part of this version's tree (indexed as stale by :meth:`apply`)."""
        self._replaced.append(key)

    def _place(self, leaf: _Pending, path_key: bytes, depth: int) -> Child:
        """Write ``leaf`` at ``depth`` on its path unless it already sits there (below the root)."""
        if leaf.old_key is not None and leaf.old_depth == depth and depth > 0:
            return (leaf.old_version, leaf.hash, True)
        value = leaf.value
        if value is None:
            assert leaf.old_key is not None
            value = self._load_leaf_value(leaf.old_key)
        if leaf.old_key is not None and leaf.old_key[1:9] != _U64.pack(self.version):
            self._mark_stale(leaf.old_key)
        key = node_key(self.version, path_key, depth)
        self._put(key, value, (value[1:33], value[33:65], value[65:]))
        return (self.version, leaf.hash, True)

    def _load_leaf_value(self, key: bytes) -> bytes:
        node = self.reader.read(key)
        if not isinstance(node, tuple):
            raise StorageError("corrupt state tree: expected a leaf")
        return encode_leaf(*node)

    def _write_internal(
        self,
        children: dict[int, Child | _Pending],
        path_key: bytes,
        depth: int,
        base: Children | None = None,
        changed: Iterable[int] = (),
    ) -> bytes:
        """Write an internal node; with ``base`` (the node it replaces) only ``changed`` slots are re-hashed."""
        placed = InternalNode()
        for index, child in children.items():
            if isinstance(child, _Pending):
                placed[index] = self._place(child, child.key, depth + 1)
            else:
                placed[index] = child
        if isinstance(base, InternalNode):
            heap = _updated_heap(base.heap(), changed, placed)
        else:
            heap = _full_heap(placed)
        placed._heap = heap
        raw = placed._raw = encode_internal(placed)
        self._put(node_key(self.version, path_key, depth), raw, placed)
        return _heap_hash(heap)

    def _write_updated(
        self, base: InternalNode, base_key: bytes, depth: int, changes: dict[int, Child | _Pending | None]
    ) -> bytes:
        """Write ``base`` (stored at ``base_key``) with ``changes`` applied; at least two children remain."""
        placed = InternalNode(base)
        for index, child in changes.items():
            if child is None:
                placed.pop(index, None)
            elif isinstance(child, _Pending):
                placed[index] = self._place(child, child.key, depth + 1)
            else:
                placed[index] = child
        heap = placed._heap = _updated_heap(base.heap(), changes, placed)
        raw = _spliced(base, placed, changes)
        if raw is None:
            raw = encode_internal(placed)
        placed._raw = raw
        self._put(schema.NODE + _U64.pack(self.version) + base_key[9:], raw, placed)
        return _heap_hash(heap)

    def _build(self, items: list[tuple[bytes, _Pending]], depth: int) -> _Result:
        """A fresh subtree holding exactly ``items`` (sorted, all below the same ``depth`` prefix)."""
        if not items:
            return None
        if len(items) == 1:
            return items[0][1]
        if depth >= 64:
            raise StorageError("duplicate state keys")
        children: dict[int, Child | _Pending] = {}
        for index, group in _group(items, depth):
            result = self._build(group, depth + 1)
            assert result is not None
            children[index] = result if isinstance(result, _Pending) else (self.version, result, False)
        return self._write_internal(children, items[0][0], depth)

    def _update(
        self,
        key: bytes,
        version: int,
        node: Node,
        depth: int,
        updates: list[tuple[bytes, _Pending | None]],
    ) -> _Result:
        """The new subtree for the existing ``node`` (stored at ``key``) after ``updates``."""
        if node is None:
            return self._build([(k, p) for k, p in updates if p is not None], depth)
        if isinstance(node, tuple):
            return self._update_leaf(key, version, node, depth, updates)
        if not updates:
            return None  # unreachable: callers only descend with updates
        changes: dict[int, Child | _Pending | None] = {}
        size = len(node)
        for index, group in _group(updates, depth):
            existing = node.get(index)
            if existing is None:
                result = self._build([(k, p) for k, p in group if p is not None], depth + 1)
                if result is not None:
                    size += 1
            else:
                child_key = node_key(existing[0], group[0][0], depth + 1)
                child = self.reader.read(child_key)
                if not existing[2]:
                    self._mark_stale(child_key)
                result = self._update(child_key, existing[0], child, depth + 1, group)
                if result is None:
                    size -= 1
            changes[index] = (self.version, result, False) if isinstance(result, bytes) else result
        if size >= 2 and isinstance(node, InternalNode):
            return self._write_updated(node, key, depth, changes)
        children: dict[int, Child | _Pending] = dict(node)
        for index, change in changes.items():
            if change is None:
                children.pop(index, None)
            else:
                children[index] = change
        return self._collapse_or_write(children, key, depth, updates[0][0], node, changes)

    def _update_leaf(
        self, key: bytes, version: int, leaf: Leaf, depth: int, updates: list[tuple[bytes, _Pending | None]]
    ) -> _Result:
        existing_key = leaf[0]
        if any(k == existing_key for k, _ in updates):
            if depth > 0:
                self._mark_stale(key)
            items = [(k, p) for k, p in updates if p is not None]
        else:
            pending = _Pending(existing_key, None, key, version, depth)
            pending.hash = smt_leaf_hash(existing_key, leaf[1])
            items = sorted([(k, p) for k, p in updates if p is not None] + [(existing_key, pending)])
        return self._build(items, depth)

    def _collapse_or_write(
        self,
        children: dict[int, Child | _Pending],
        key: bytes,
        depth: int,
        path_key: bytes,
        base: Children | None = None,
        changed: Iterable[int] = (),
    ) -> _Result:
        if not children:
            return None
        if len(children) == 1:
            ((index, child),) = children.items()
            if isinstance(child, _Pending):
                return child
            if child[2]:
                leaf_key = node_key(child[0], _with_nibble(path_key, depth, index), depth + 1)
                leaf = self.reader.read(leaf_key)
                assert isinstance(leaf, tuple)
                pending = _Pending(leaf[0], None, leaf_key, child[0], depth + 1)
                pending.hash = child[1]
                return pending
        return self._write_internal(children, path_key, depth, base, changed)


def _group(items: list[tuple[bytes, _Pending | None]] | list[tuple[bytes, _Pending]], depth: int):  # type: ignore[no-untyped-def]
    """Split sorted ``items`` into runs that share nibble ``depth``: yields ``(nibble, run)``."""
    start = 0
    while start < len(items):
        index = nibble(items[start][0], depth)
        end = start + 1
        while end < len(items) and nibble(items[end][0], depth) == index:
            end += 1
        yield index, items[start:end]
        start = end
