"""Reading the state tree at a version that does not end a block.

The store keeps every version's leaves but whole trees only at checkpoints, the last
version of each block (see :mod:`libra.storage.jellyfish`). The tree of a version ``v``
in between is rebuilt from the checkpoint ``c`` before it:

* the leaves stored at versions ``c+1 .. v`` are the keys each version wrote (a key
  given a new blob, or an untouched leaf that moved to another depth: the same blob
  again, which changes nothing); internal nodes stored at those versions belong to the
  block's checkpoint tree and are skipped;
* a key deleted at ``u`` is one whose leaf is listed in the stale index ``S | u`` while
  no leaf of that key was stored at ``u``;
* replaying those changes version by version on the tree at ``c`` gives the tree at
  ``v``, and its root must equal the ``state_root_hash`` the ``TransactionInfo`` of ``v``
  recorded when the block was executed (otherwise the store is corrupt).

The replayed nodes live in an :class:`OverlayReader` over the committed reader and are
never written. Replays are cached per version (a few), since a client that asks for one
old version usually asks for several accounts at it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from libra.storage import schema
from libra.storage.errors import StorageError
from libra.storage.jellyfish import NodeReader, OverlayReader, TreeUpdater, decode_node, node_key, root_hash
from libra.storage.kv import KeyValueStore, WriteBatch

_PROBE_CHUNK = 512  # root keys read per multi_get while looking back for a checkpoint
_ROOT_PATH = bytes(32)


def is_checkpoint(store: KeyValueStore, version: int) -> bool:
    """Whether the whole tree of ``version`` is stored (its root node exists)."""
    return store.get(node_key(version, _ROOT_PATH, 0)) is not None


def previous_checkpoint(store: KeyValueStore, version: int, oldest: int) -> int | None:
    """The latest checkpoint before ``version`` and not before ``oldest``; None if there is none.

    Raises :class:`StorageError` if versions before ``oldest`` (pruned) would be needed.
    """
    high = version - 1
    while high >= oldest:
        low = max(oldest, high - _PROBE_CHUNK + 1)
        candidates = list(range(high, low - 1, -1))
        found = store.multi_get([node_key(candidate, _ROOT_PATH, 0) for candidate in candidates])
        for candidate, value in zip(candidates, found, strict=True):
            if value is not None:
                return candidate
        high = low - 1
    if oldest > 0:
        raise StorageError(f"state at version {version} is pruned; oldest is {oldest}")
    return None  # the store's first block: replay from the empty tree


def _version_of(key: bytes) -> int:
    return schema.read_u64(key, 1)


def replay_changes(store: KeyValueStore, checkpoint: int | None, version: int) -> list[dict[bytes, bytes | None]]:
    """Per version from ``checkpoint + 1`` to ``version``: the state changes to replay."""
    first = 0 if checkpoint is None else checkpoint + 1
    stored: dict[bytes, tuple[bytes, bytes]] = {}  # node key -> (state key, blob), every leaf in the range
    written: list[dict[bytes, bytes | None]] = [{} for _ in range(first, version + 1)]
    for key, value in store.iterate(schema.version_key(schema.NODE, first), schema.version_key(schema.NODE, version + 1)):
        node = decode_node(value)
        if not isinstance(node, tuple):
            continue  # an internal node of the block's checkpoint tree, not written by its own version
        stored[key] = (node[0], node[2])
        written[_version_of(key) - first][node[0]] = node[2]
    stale = list(store.iterate(schema.version_key(schema.STALE, first), schema.version_key(schema.STALE, version + 1)))
    older = sorted({node for entry in stale for node in schema.stale_node_keys(*entry) if node not in stored})
    for node_key_, data in zip(older, store.multi_get(older), strict=True):
        if data is None:
            raise StorageError(f"state tree node {node_key_[1:].hex()} listed as stale is missing (pruned or corrupt)")
        node = decode_node(data)
        if isinstance(node, tuple):
            stored[node_key_] = (node[0], node[2])
    for entry_key, entry in stale:
        changes = written[_version_of(entry_key) - first]
        for replaced in schema.stale_node_keys(entry_key, entry):
            leaf = stored.get(replaced)
            if leaf is not None and leaf[0] not in changes:
                changes[leaf[0]] = None  # its leaf left the tree and no leaf of the key replaced it
    return written


def replay(
    store: KeyValueStore, reader: NodeReader, checkpoint: int | None, version: int, expected_root: bytes
) -> OverlayReader:
    """The tree at ``version``, rebuilt on the one at ``checkpoint`` (None: the empty tree)."""
    first = 0 if checkpoint is None else checkpoint + 1
    overlay = OverlayReader(reader)
    updater = TreeUpdater(overlay, WriteBatch())
    base = checkpoint
    for offset, changes in enumerate(replay_changes(store, checkpoint, version)):
        updater.apply(first + offset, base, changes)
        base = first + offset
    if root_hash(overlay, version) != expected_root:
        raise StorageError(f"corrupt store: the replayed state root of version {version} differs from its info's")
    return overlay


class ReplayCache:
    """The last few replayed versions, so that many reads at one old version replay once."""

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._entries: OrderedDict[int, OverlayReader] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version: int) -> OverlayReader | None:
        with self._lock:
            reader = self._entries.get(version)
            if reader is not None:
                self._entries.move_to_end(version)
            return reader

    def put(self, version: int, reader: OverlayReader) -> None:
        with self._lock:
            self._entries[version] = reader
            self._entries.move_to_end(version)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def forget_before(self, oldest: int) -> None:
        """Drop replays of versions before ``oldest`` (pruned: their base nodes may be gone)."""
        with self._lock:
            for version in [v for v in self._entries if v < oldest]:
                del self._entries[version]
