"""The ledger store: one synced write batch per block, reads and proofs of everything committed.

Invariants:

* versions are dense from 0; ``commit_block`` appends versions ``first_version ..``
  where ``first_version`` is exactly the next version, and writes transactions,
  infos, write sets, events (by version and by key), the sender/sequence index,
  accumulator nodes, state tree nodes, the ledger info and the new ``next``
  pointer in ONE write batch, synced before it returns; a crash therefore leaves
  the store at a block boundary;
* each version has its own state root (the tree after that transaction) and its
  ``TransactionInfo`` is leaf ``version`` of the transaction accumulator;
* every version's new leaves are stored, but whole trees only at checkpoints, the last
  version of each block (:mod:`libra.storage.jellyfish`); the state of a version in
  between is replayed from the checkpoint before it (:mod:`libra.storage.replay`), so
  reads and proofs at every version work, the tip's at full speed;
* a ledger info is stored only if it names the last version of its block and the
  accumulator root the store computed; the last one of each epoch stays forever;
* on open, the tip is re-checked (state root, accumulator leaf and root, latest
  ledger info); a store that fails raises :class:`StorageError` saying what is wrong;
* with a prune window W, state-tree nodes no longer needed by the versions from the
  checkpoint at or before ``latest - W + 1`` are deleted (the versions after it replay
  on it), so at least the last W versions stay readable; transactions, infos, events
  and accumulator nodes are never pruned, so every transaction stays provable, and
  the latest state always is. The checkpoints are known from the blocks committed
  since the store was opened (and the tip at opening), so after a restart pruning
  resumes once the window has moved past the tip it opened at.

Speculative blocks (what consensus executes before a block is certified):

* ``prepare_block(txns, first_version, parent)`` computes a block on top of the
  committed tip (``parent`` None, or a parent that is the last committed block)
  or on top of an uncommitted :class:`PreparedBlock`; state-tree reads go through
  the block's own new nodes, then each uncommitted ancestor's, then the committed
  store. Preparing never changes the parent, so any number of children of one
  parent (forks) and chains of any depth can be prepared;
* ``commit_prepared(block)`` commits ``block`` *and every uncommitted ancestor of
  it*, oldest first, in one synced write batch (as DiemBFT commits a chain under
  one ledger info, which must name ``block``'s last version). Committing ancestors
  one by one, in order, works the same. A block whose chain does not extend the
  committed tip (a sibling, or a sibling of an ancestor, was committed) is stale:
  preparing on it or committing it raises :class:`StorageError`; abandoned forks
  are garbage once the caller drops them. A committed block stays usable as a
  parent while it is the last one committed; its children stay committable;
* only committed state is readable: reads never consult a prepared block.

Threads: ``prepare_block`` and ``commit_prepared`` (one writer thread, serialised by
``self._lock``) may run while other threads read. Reads take no lock of ours and
are safe because (1) everything they read is immutable once in the store: a
node, info or accumulator key is written once with one value, and speculative
nodes live only in the prepared blocks, never in the committed reader; (2) the
shared node LRU takes its own lock; (3) a commit writes the store first and only
then advances, each with one attribute assignment, the accumulator tip
``(count, frozen stack)``, ``next_version`` and the latest ledger info, so a
reader sees either the old or the new tip and every version it can name is in the
store. The one visible race is pruning: a read of the oldest version in the window
that loses the race against a commit pruning it gets a :class:`StorageError`
("pruned"), never wrong data.

Native path (``LIBRA_CORE=native``, or ``native_tree=True``): the state tree, the event
and transaction accumulators and the infos of a whole block are computed by one call
into ``libra._core`` (``core/engine/src/storage``), which writes exactly the bytes the
Python path writes (``tests/unit/native/test_storage_*.py``). It reads the block's
inputs holding the GIL, pins the base-tree nodes on the block's paths (one batched
``multi_get`` per tree level for what its cache lacks), then computes with the GIL
released. Committed nodes are cached natively (the shared cache takes its own lock,
held only for map operations) and the tree's reads (blobs, proofs, roots) go through
it; a block's nodes and puts stay native (``PreparedBlock.nodes`` is a
``BlockNodes``, its batch a ``BlockBatch`` that fills the RocksDB batch itself). Input
the native side does not take as given (a wrong length, another type) makes it decline,
and the Python path computes the block (and raises its error); such a block's nodes and
puts are then handed to the native side, so chains may mix both.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import struct
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Union

from libra import native
from libra.crypto.hashing import hash_seed
from libra.crypto.merkle import (
    EVENT_ACCUMULATOR,
    SPARSE_MERKLE_PLACEHOLDER_HASH,
    accumulator_root_of_leaves,
    hash_account_key,
    hash_event,
    hash_transaction,
)
from libra.storage import schema
from libra.storage.accumulator import Frozen, TransactionAccumulator
from libra.storage.errors import StorageError
from libra.storage.jellyfish import (
    Leaf,
    Node,
    NodeReader,
    NodeSource,
    OverlayReader,
    TreeUpdater,
    decode_node,
    encode_node,
    get_blob,
    get_with_proof,
    root_hash,
)
from libra.storage.kv import KeyValueStore, MemoryStore, PreparedPuts, RocksStore, WriteBatch, iterate_prefix
from libra.storage.proofs import ProofReads
from libra.storage.replay import ReplayCache, is_checkpoint, previous_checkpoint, replay
from libra.types.ledger import (
    EXECUTED,
    KEPT_EXECUTED,
    KeptVMStatus,
    LedgerInfoWithSignatures,
    TransactionInfo,
)

if TYPE_CHECKING:
    from libra import _core

EVENT_KEY_LENGTH = 24
LEAF_CACHE_SIZE = 16384  # leaves of recently touched accounts (as NodeReader's default)
ADDRESS_LENGTH = 16
_TRANSACTION_INFO_SEED = hash_seed("TransactionInfo")
_sha3 = hashlib.sha3_256


@dataclass(frozen=True, slots=True)
class EventToCommit:
    """One emitted event: its 24-byte key, sequence number and ``ContractEvent`` BCS."""

    key: bytes
    sequence_number: int
    event_bytes: bytes


@dataclass(frozen=True, slots=True)
class TransactionToCommit:
    """What execution hands the store for one version.

    ``account_blobs`` maps 16-byte addresses to the account's new blob (None:
    deleted); ``sender``/``sequence_number`` are set for user transactions and feed
    the (account, sequence) index. Hashes are computed by the store from the bytes.
    """

    transaction_bytes: bytes
    account_blobs: Mapping[bytes, bytes | None] = field(default_factory=dict)
    events: Sequence[EventToCommit] = ()
    gas_used: int = 0
    status: KeptVMStatus = EXECUTED
    sender: bytes | None = None
    sequence_number: int | None = None
    write_set_bytes: bytes = b""

    @property
    def transaction_hash(self) -> bytes:
        return hash_transaction(self.transaction_bytes)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as read back: where it was emitted and its BCS."""

    version: int
    index: int
    key: bytes
    sequence_number: int
    event_bytes: bytes


class PreparedBlock:
    """A block computed by :meth:`LibraDB.prepare_block`, not yet durable (read-only for callers).

    ``root`` is the transaction accumulator root after the block (what a validator
    votes on), ``state_root`` the state tree root at its last version (the
    parent's when the block is empty), ``transaction_infos`` one info per version.
    The other attributes belong to the store: the block's write batch, accumulator
    frozen stack, the nodes of its last version's tree it wrote, and commit bookkeeping.
    """

    __slots__ = (
        "first_version", "next_version", "root", "state_root", "parent", "batch", "frozen", "nodes",
        "base_commit", "committed_at", "changed_blobs", "_infos", "_info_hashes", "_info_transactions",
    )

    def __init__(
        self,
        first_version: int,
        next_version: int,
        transaction_infos: tuple[TransactionInfo, ...] | None,
        root: bytes,
        state_root: bytes,
        parent: PreparedBlock | None,
        batch: WriteBatch | PreparedPuts,
        frozen: Frozen,
        nodes: TreeNodes,
        base_commit: int,  # commits made when prepared (checked when parent is None)
        changed_blobs: dict[bytes, tuple[int, bytes | None]],
        *,
        info_hashes: bytes = b"",
        info_transactions: Sequence[TransactionToCommit] = (),
    ) -> None:
        self.first_version = first_version
        self.next_version = next_version
        self.root = root
        self.state_root = state_root
        self.parent = parent
        self.batch = batch
        self.frozen = frozen
        self.nodes = nodes
        self.base_commit = base_commit
        self.committed_at: int | None = None  # the store's commit count after committing it
        # address -> (version of its last change in this block, blob then): feeds the latest-blob cache
        self.changed_blobs = changed_blobs
        # Infos are built when first asked for (consensus only needs the root): from the
        # native core's 96 bytes per version (transaction hash, state root, event root)
        # and the gas and status of the transactions.
        self._infos = transaction_infos
        self._info_hashes = info_hashes
        self._info_transactions = info_transactions

    @property
    def transaction_infos(self) -> tuple[TransactionInfo, ...]:
        infos = self._infos
        if infos is None:
            hashes = self._info_hashes
            infos = self._infos = tuple(
                TransactionInfo(
                    hashes[at : at + 32], hashes[at + 32 : at + 64], hashes[at + 64 : at + 96], txn.gas_used, txn.status
                )
                for at, txn in zip(range(0, len(hashes), 96), self._info_transactions, strict=True)
            )
            self._info_hashes = b""
            self._info_transactions = ()
        return infos

    @property
    def committed(self) -> bool:
        return self.committed_at is not None

    def __repr__(self) -> str:
        return (
            f"PreparedBlock(first_version={self.first_version}, next_version={self.next_version}, "
            f"root={self.root.hex()}, state_root={self.state_root.hex()}, committed={self.committed})"
        )


TreeNodes = Union[dict[bytes, Node], "_core.BlockNodes"]  # noqa: UP007 - a runtime alias


class _NativeOverlay:
    """A natively prepared block's nodes, read as an overlay by the Python tree (a block the
    native core declined, prepared on a native parent)."""

    __slots__ = ("_nodes",)

    def __init__(self, nodes: _core.BlockNodes) -> None:
        self._nodes = nodes

    def get(self, key: bytes, default: object = None) -> object:
        data = self._nodes.encoded(key)
        return default if data is None else decode_node(data)


class LibraDB(ProofReads):
    """The authenticated ledger store over a :class:`KeyValueStore`."""

    def __init__(
        self,
        store: KeyValueStore,
        *,
        prune_window: int | None = None,
        node_cache_size: int = 20000,
        blob_cache_size: int = 100_000,
        native_tree: bool | None = None,
        leaf_cache_size: int = LEAF_CACHE_SIZE,
    ) -> None:
        """``native_tree`` chooses the native core for the state tree and block hashing
        (default: as ``LIBRA_CORE`` says); both paths write the same bytes."""
        if prune_window is not None and prune_window < 1:
            raise StorageError("prune window must be at least 1 version")
        self._store = store
        # Latest blobs of recently read or written accounts: address -> (version from which the
        # blob is current, blob). Entries change only under ``_blob_lock``, and a commit updates
        # them before the tip moves, so an entry read at a version >= its own is that version's blob.
        self._latest_blobs: OrderedDict[bytes, tuple[int, bytes | None]] = OrderedDict()
        self._blob_cache_size = blob_cache_size
        self._blob_lock = threading.Lock()
        self._prune_window = prune_window
        self._lock = threading.Lock()  # serialises prepare and commit (the writer side)
        self._commits = 0  # commits since open: identifies the committed tip for staleness checks
        self._reader = NodeReader(store.get, node_cache_size, leaf_cache_size)
        core = native.CORE if native_tree is None else (_native_core() if native_tree else None)
        # The native tree keeps its own cache of committed nodes; the Python reader then serves
        # only the deep verification and the blocks the native core declines.
        self._tree: _core.StateTree | None = None
        if core is not None:
            self._tree = core.StateTree(store.get, store.multi_get, node_cache_size, leaf_cache_size)
        self._next_version = self._read_meta_u64(schema.META_NEXT_VERSION, 0)
        self._pruned = self._read_meta_u64(schema.META_PRUNED, 0)
        # With pruning: the checkpoints (block ends) known since opening, ascending, from the
        # latest one the pruner could still stop at.
        self._checkpoints: list[int] = [self._next_version - 1] if self._next_version and prune_window else []
        self._replays = ReplayCache()
        latest = store.get(schema.META_LATEST_LEDGER_INFO)
        self._latest_li = LedgerInfoWithSignatures.from_bcs(latest) if latest is not None else None
        self._accumulator = TransactionAccumulator(self._get, self._next_version)
        from libra.storage.verify import check_tip

        check_tip(self)

    # ----------------------------------------------------------------- opening

    @classmethod
    def open(cls, path: str | Path, *, prune_window: int | None = None, create: bool = True) -> LibraDB:
        """Open (or create) the RocksDB store at ``path``, running the open-time checks."""
        store = RocksStore(path, create=create, tables=schema.TABLES)
        try:
            return cls(store, prune_window=prune_window)
        except StorageError:
            store.close()
            raise
        except Exception as exc:
            store.close()
            raise StorageError(f"store at {path} is corrupt: {exc}") from None

    @classmethod
    def in_memory(cls, *, prune_window: int | None = None) -> LibraDB:
        return cls(MemoryStore(), prune_window=prune_window)

    def close(self) -> None:
        self._store.close()

    def _read_meta_u64(self, key: bytes, default: int) -> int:
        value = self._store.get(key)
        return default if value is None else schema.read_u64(value)

    def _get(self, key: bytes) -> bytes | None:
        return self._store.get(key)

    # ----------------------------------------------------------------- writing

    def commit_block(
        self,
        transactions: Sequence[TransactionToCommit],
        first_version: int,
        ledger_info: LedgerInfoWithSignatures | None = None,
    ) -> bytes:
        """Append a block durably and return the accumulator root after it."""
        return self.commit_prepared(self.prepare_block(transactions, first_version), ledger_info)

    def prepare_block(
        self,
        transactions: Sequence[TransactionToCommit],
        first_version: int,
        parent: PreparedBlock | None = None,
    ) -> PreparedBlock:
        """Compute a block's infos and roots without writing anything durable.

        ``parent`` None builds on the committed tip, otherwise on ``parent``'s
        speculative state (``first_version`` must be ``parent.next_version``). Raises
        :class:`StorageError` if the parent is stale (its chain no longer extends
        the committed tip). See the module docstring for the rules.
        """
        with self._lock:
            if parent is None:
                ancestors: list[PreparedBlock] = []
                expected = self._next_version
                accumulator_base = self._accumulator.tip
                base_state_root = self._committed_state_root()
            else:
                if parent.committed_at is not None:
                    if parent.committed_at != self._commits:
                        raise StorageError("the parent block is stale (later blocks were committed)")
                    ancestors = []
                else:
                    ancestors = self._uncommitted_chain(parent)
                expected = parent.next_version
                accumulator_base = (parent.next_version, parent.frozen)
                base_state_root = parent.state_root
            if first_version != expected:
                raise StorageError(f"block starts at version {first_version}, expected {expected}")
            if self._tree is not None:
                prepared = self._prepare_native(
                    transactions, first_version, parent, ancestors, accumulator_base, base_state_root
                )
                if prepared is not None:
                    return prepared
            return self._prepare_python(
                transactions, first_version, parent, ancestors, accumulator_base, base_state_root
            )

    def _prepare_native(
        self,
        transactions: Sequence[TransactionToCommit],
        first_version: int,
        parent: PreparedBlock | None,
        ancestors: list[PreparedBlock],
        accumulator_base: tuple[int, Frozen],
        base_state_root: bytes,
    ) -> PreparedBlock | None:
        """The block computed by the native core, or None when it declines the input."""
        assert self._tree is not None
        overlays = [block.nodes for block in reversed(ancestors) if not isinstance(block.nodes, dict)]
        assert len(overlays) == len(ancestors), "a native store keeps every block's nodes natively"
        answer = self._tree.prepare_block(transactions, first_version, overlays, accumulator_base[1])
        if answer is None:
            return None
        nodes, batch, hashes, frozen, root, changed = answer
        return PreparedBlock(
            first_version,
            first_version + len(transactions),
            None,
            root,
            hashes[-64:-32] if hashes else base_state_root,  # the last version's state root
            parent,
            batch,
            frozen,
            nodes,
            self._commits,
            changed,
            info_hashes=hashes,
            info_transactions=transactions,
        )

    def _prepare_python(
        self,
        transactions: Sequence[TransactionToCommit],
        first_version: int,
        parent: PreparedBlock | None,
        ancestors: list[PreparedBlock],
        accumulator_base: tuple[int, Frozen],
        base_state_root: bytes,
    ) -> PreparedBlock:
        overlays = [block.nodes if isinstance(block.nodes, dict) else _NativeOverlay(block.nodes) for block in ancestors]
        reader = OverlayReader(self._reader, overlays[::-1])  # type: ignore[arg-type]
        batch = WriteBatch()
        infos, leaves = self._write_transactions(reader, batch, transactions, first_version)
        frozen, root = self._accumulator.append(batch, leaves, accumulator_base)
        changed: dict[bytes, tuple[int, bytes | None]] = {}
        for offset, txn in enumerate(transactions):
            for address, blob in txn.account_blobs.items():
                changed[address] = (first_version + offset, blob)
        nodes: TreeNodes = reader.overlay
        block_batch: WriteBatch | PreparedPuts = batch
        core = _native_core() if self._tree is not None else None
        if core is not None:  # a native store keeps every block's nodes and puts natively
            nodes = core.BlockNodes.from_encoded([(key, encode_node(node)) for key, node in reader.overlay.items()])
            block_batch = core.BlockBatch.from_items(list(batch.ops.items()))
        return PreparedBlock(
            first_version,
            first_version + len(transactions),
            tuple(infos),
            root,
            infos[-1].state_root_hash if infos else base_state_root,
            parent,
            block_batch,
            frozen,
            nodes,
            self._commits,
            changed,
        )

    def _committed_state_root(self) -> bytes:
        if self._next_version == 0:
            return SPARSE_MERKLE_PLACEHOLDER_HASH
        return self._root_hash(self._next_version - 1)

    # The state tree's reads, through the native cache when the native tree is on.

    def _root_hash(self, version: int) -> bytes:
        if self._tree is not None:
            return self._tree.root_hash(version)
        return root_hash(self._reader, version)

    def _get_blob(self, version: int, key: bytes) -> bytes | None:
        replayed = self._replayed(version)
        if replayed is not None:
            return get_blob(replayed, version, key)
        if self._tree is not None:
            return self._tree.get_blob(version, key)
        return get_blob(self._reader, version, key)

    def _get_with_proof(self, version: int, key: bytes) -> tuple[bytes | None, Leaf | None, list[bytes]]:
        replayed = self._replayed(version)
        if replayed is not None:
            return get_with_proof(replayed, version, key)
        if self._tree is not None:
            return self._tree.get_with_proof(version, key)
        return get_with_proof(self._reader, version, key)

    def _is_checkpoint(self, version: int) -> bool:
        return version == self._next_version - 1 or is_checkpoint(self._store, version)

    def _replayed(self, version: int) -> NodeSource | None:
        """None when the whole tree of committed ``version`` is stored, else the tree replayed
        from the checkpoint before it (checked against its info's state root)."""
        if self._is_checkpoint(version):
            return None
        replayed = self._replays.get(version)
        if replayed is None:
            checkpoint = previous_checkpoint(self._store, version, self._pruned)
            expected = self.get_transaction_info(version).state_root_hash
            replayed = replay(self._store, self._reader, checkpoint, version, expected)
            self._replays.put(version, replayed)
        return replayed

    def state_source(self, version: int) -> NodeSource:
        """The nodes of committed ``version``'s tree (for the deep verification)."""
        self._require_state_version(version)
        return self._replayed(version) or self._reader

    def _uncommitted_chain(self, block: PreparedBlock) -> list[PreparedBlock]:
        """``block`` and its uncommitted ancestors, oldest first; raises unless they extend the committed tip."""
        if block.committed_at is not None:
            raise StorageError("the block is already committed")
        chain = [block]
        while block.parent is not None and block.parent.committed_at is None:
            block = block.parent
            chain.append(block)
        base = block.parent.committed_at if block.parent is not None else block.base_commit
        if base != self._commits:
            raise StorageError(
                "the prepared block is stale (it does not extend the committed tip: another block was committed)"
            )
        chain.reverse()
        return chain

    def commit_prepared(self, prepared: PreparedBlock, ledger_info: LedgerInfoWithSignatures | None = None) -> bytes:
        """Make ``prepared`` and its uncommitted ancestors durable (one synced write batch) with ``ledger_info``.

        ``ledger_info``, if given, must name ``prepared``'s last version and root.
        Returns ``prepared.root``.
        """
        with self._lock:
            chain = self._uncommitted_chain(prepared)
            if prepared.next_version == chain[0].first_version and ledger_info is None:
                self._mark_committed(chain)
                return prepared.root
            batch = WriteBatch()
            for block in chain:  # copies: a failed write leaves the blocks committable
                if isinstance(block.batch, WriteBatch):
                    batch.ops.update(block.batch.ops)
                else:  # a native store's blocks all have native puts, so the order stays the blocks' order
                    batch.prepared.append(block.batch)
            if ledger_info is not None:
                self._write_ledger_info(batch, ledger_info, prepared.next_version, prepared.root)
            batch.put(schema.META_NEXT_VERSION, schema.u64_bytes(prepared.next_version))
            pruned_before = self._pruned
            if self._prune_window is not None:
                self._checkpoints += [b.next_version - 1 for b in chain if b.next_version > b.first_version]
            pruned_keys = self._prune_into(batch, prepared.next_version - 1)
            try:
                self._store.write(batch, sync=True)
            except BaseException:
                self._pruned = pruned_before
                while self._checkpoints and self._checkpoints[-1] >= self._next_version:
                    self._checkpoints.pop()  # the chain's block ends: not committed
                raise
            if self._pruned != pruned_before:
                self._replays.forget_before(self._pruned)
            tree = self._tree
            for block in chain:
                if isinstance(block.nodes, dict):
                    self._reader.publish(block.nodes)
                elif tree is not None:
                    tree.publish(block.nodes)
            self._reader.forget_all(pruned_keys)  # (the native cache lets them age out, see cache.rs)
            self._accumulator.adopt(prepared.frozen, prepared.next_version)
            with self._blob_lock:
                latest = self._latest_blobs
                for block in chain:  # what _cache_blob does per address, a block at a time
                    changed = block.changed_blobs
                    latest.update(changed)
                    move_to_end = latest.move_to_end
                    for address in changed:
                        move_to_end(address)
                while len(latest) > self._blob_cache_size:
                    latest.popitem(last=False)
                self._next_version = prepared.next_version
            if ledger_info is not None:
                self._latest_li = ledger_info
            self._mark_committed(chain)
            return prepared.root

    def _mark_committed(self, chain: list[PreparedBlock]) -> None:
        """Advance the tip past ``chain`` and let go of what the blocks no longer need."""
        for block in chain:
            self._commits += 1
            block.committed_at = self._commits
            block.parent = None
            block.nodes = {}
            block.batch = WriteBatch()
            block.changed_blobs = {}

    def _write_transactions(
        self, reader: NodeSource, batch: WriteBatch, transactions: Sequence[TransactionToCommit], first_version: int
    ) -> tuple[list[TransactionInfo], list[bytes]]:
        """Write the block's per-version data and tree nodes; return the infos and their accumulator leaves."""
        updater = TreeUpdater(reader, batch)
        base = first_version - 1 if first_version > 0 else None
        infos = []
        leaves = []
        ops = batch.ops  # WriteBatch.put, inlined: this runs for every version
        for offset, txn in enumerate(transactions):
            version = first_version + offset
            changes = {}
            for address, blob in txn.account_blobs.items():
                if len(address) != ADDRESS_LENGTH:
                    raise StorageError(f"account address must be {ADDRESS_LENGTH} bytes")
                changes[_state_key(address)] = blob
            state_root = updater.apply(version, base, changes)
            base = version
            event_root = self._write_events(batch, version, txn.events)
            info = TransactionInfo(hash_transaction(txn.transaction_bytes), state_root, event_root, txn.gas_used, txn.status)
            infos.append(info)
            info_bytes = encode_transaction_info(info)
            leaves.append(_sha3(_TRANSACTION_INFO_SEED + info_bytes).digest())
            packed = schema.u64_bytes(version)
            ops[schema.TRANSACTION + packed] = txn.transaction_bytes
            ops[schema.TRANSACTION_INFO + packed] = info_bytes
            if txn.write_set_bytes:
                ops[schema.WRITE_SET + packed] = txn.write_set_bytes
            if txn.sender is not None:
                if len(txn.sender) != ADDRESS_LENGTH or txn.sequence_number is None:
                    raise StorageError("a sender needs a 16-byte address and a sequence number")
                ops[schema.account_sequence_key(txn.sender, txn.sequence_number)] = packed
        updater.checkpoint()
        return infos, leaves

    @staticmethod
    def _write_events(batch: WriteBatch, version: int, events: Sequence[EventToCommit]) -> bytes:
        hashes = []
        ops = batch.ops  # WriteBatch.put, inlined: this runs for every event
        for index, event in enumerate(events):
            if len(event.key) != EVENT_KEY_LENGTH:
                raise StorageError(f"event key must be {EVENT_KEY_LENGTH} bytes")
            hashes.append(hash_event(event.event_bytes))
            position = schema.pack_version_index(version, index)  # the E key and the K value
            sequence = schema.u64_bytes(event.sequence_number)
            ops[schema.EVENT + position] = event.key + sequence + event.event_bytes
            ops[schema.EVENT_BY_KEY + event.key + sequence] = position
        return accumulator_root_of_leaves(EVENT_ACCUMULATOR, hashes)

    def _write_ledger_info(
        self, batch: WriteBatch, ledger_info: LedgerInfoWithSignatures, next_version: int, root: bytes
    ) -> None:
        info = ledger_info.ledger_info
        if info.version != next_version - 1:
            raise StorageError(f"ledger info is for version {info.version}, block ends at {next_version - 1}")
        if info.transaction_accumulator_hash != root:
            raise StorageError(
                f"ledger info root {info.transaction_accumulator_hash.hex()} differs from the store's {root.hex()}"
            )
        if self._latest_li is not None:
            latest = self._latest_li.ledger_info
            if info.epoch < latest.epoch or (latest.ends_epoch and info.epoch == latest.epoch):
                raise StorageError(f"ledger info of epoch {info.epoch} after epoch {latest.epoch}")
        encoded = ledger_info.to_bcs()
        batch.put(schema.META_LATEST_LEDGER_INFO, encoded)
        batch.put(schema.epoch_ledger_info_key(info.epoch), encoded)

    def _prune_into(self, batch: WriteBatch, latest_version: int) -> list[bytes]:
        """Delete state nodes not needed by versions from the latest checkpoint at or before
        ``latest - window + 1``; return their keys."""
        if self._prune_window is None:
            return []
        checkpoints = self._checkpoints
        position = bisect.bisect_right(checkpoints, latest_version - self._prune_window + 1)
        if position == 0:
            return []
        keep_from = checkpoints[position - 1]
        del checkpoints[: position - 1]  # later prunes start at keep_from or after it
        if keep_from <= self._pruned:
            return []
        start = schema.STALE + schema.u64_bytes(self._pruned)
        end = schema.STALE + schema.u64_bytes(keep_from + 1)
        deleted: list[bytes] = []
        entries = []
        for key, value in self._store.iterate(start, end):
            deleted += schema.stale_node_keys(key, value)
            entries.append(key)
        # batch.delete of each, in bulk (only deletes of keys no put of the batch touches, so
        # their order does not matter)
        batch.ops.update(dict.fromkeys(deleted))
        batch.ops.update(dict.fromkeys(entries))
        batch.put(schema.META_PRUNED, schema.u64_bytes(keep_from))
        self._pruned = keep_from
        return deleted

    # ----------------------------------------------------------------- simple reads

    @property
    def next_version(self) -> int:
        return self._next_version

    @property
    def latest_version(self) -> int | None:
        return self._next_version - 1 if self._next_version else None

    @property
    def oldest_state_version(self) -> int:
        """Oldest version whose state (and state proofs) can still be read."""
        return self._pruned

    def get_latest_ledger_info(self) -> LedgerInfoWithSignatures | None:
        return self._latest_li

    def _require_version(self, version: int, what: str = "version") -> None:
        if not 0 <= version < self._next_version:
            raise StorageError(f"{what} {version} is not committed (next version {self._next_version})")

    def _require_state_version(self, version: int) -> None:
        self._require_version(version)
        if version < self._pruned:
            raise StorageError(f"state at version {version} is pruned; oldest is {self._pruned}")

    def get_transaction(self, version: int) -> bytes:
        self._require_version(version)
        return self._must(schema.version_key(schema.TRANSACTION, version), f"transaction {version}")

    def get_transactions(self, start_version: int, limit: int) -> list[bytes]:
        """Up to ``limit`` transactions from ``start_version`` (empty past the tip)."""
        end = min(self._next_version, start_version + max(limit, 0))
        keys = [schema.version_key(schema.TRANSACTION, v) for v in range(start_version, end)]
        values = self._store.multi_get(keys)
        if any(value is None for value in values):
            raise StorageError(f"transactions {start_version}..{end} are incomplete")
        return [value for value in values if value is not None]

    def get_transactions_with_infos(self, start_version: int, limit: int) -> list[tuple[bytes, bytes]]:
        """Up to ``limit`` (transaction BCS, transaction info BCS) pairs from ``start_version``
        as stored (empty past the tip): what a JSON view of each needs, in two batched reads."""
        end = min(self._next_version, start_version + max(limit, 0))
        versions = range(start_version, end)
        data = self._store.multi_get([schema.version_key(schema.TRANSACTION, v) for v in versions])
        infos = self._store.multi_get([schema.version_key(schema.TRANSACTION_INFO, v) for v in versions])
        pairs = []
        for version, txn, info in zip(versions, data, infos, strict=True):
            if txn is None or info is None:
                raise StorageError(f"transaction {version} or its info is missing from the store")
            pairs.append((txn, info))
        return pairs

    def get_transaction_info(self, version: int) -> TransactionInfo:
        self._require_version(version)
        return TransactionInfo.from_bcs(
            self._must(schema.version_key(schema.TRANSACTION_INFO, version), f"transaction info {version}")
        )

    def get_write_set(self, version: int) -> bytes:
        self._require_version(version)
        return self._store.get(schema.version_key(schema.WRITE_SET, version)) or b""

    def get_transaction_version(self, address: bytes, sequence_number: int) -> int | None:
        """Version of the user transaction ``(sender, sequence_number)``, if committed.

        The index is on disk a moment before the tip moves, so an entry past the tip is not yet committed.
        """
        tip = self._next_version
        value = self._store.get(schema.account_sequence_key(address, sequence_number))
        if value is None:
            return None
        version = schema.read_u64(value)
        return version if version < tip else None

    def get_events_by_version(self, version: int) -> list[StoredEvent]:
        self._require_version(version)
        return [
            _decode_event(key, value) for key, value in iterate_prefix(self._store, schema.version_key(schema.EVENT, version))
        ]

    def get_events(self, event_key: bytes, start_sequence: int, limit: int) -> list[StoredEvent]:
        """Events of ``event_key`` with sequence numbers from ``start_sequence``, ascending, at most ``limit``."""
        if limit <= 0:
            return []
        tip = self._next_version  # entries at or past it are written but not yet committed
        index_keys = []
        start = schema.event_by_key_key(event_key, start_sequence)
        end = schema.EVENT_BY_KEY + event_key + b"\xff" * 8 + b"\x00"
        for _, value in self._store.iterate(start, end):
            if schema.unpack_version_index(value)[0] >= tip:
                break
            index_keys.append(schema.EVENT + value)
            if len(index_keys) >= limit:
                break
        values = self._store.multi_get(index_keys)
        events = []
        for event_key_bytes, stored in zip(index_keys, values, strict=True):
            if stored is None:
                raise StorageError(f"event index points to a missing event {event_key_bytes[1:].hex()}")
            events.append(_decode_event(event_key_bytes, stored))
        return events

    def get_account_blob(self, address: bytes, version: int | None = None) -> bytes | None:
        """The account's blob at ``version`` (default: latest); None if it has none."""
        if version is None:
            if self._next_version == 0:
                return None
            version = self._next_version - 1
        self._require_state_version(version)
        cached = self._latest_blobs.get(address)
        if cached is not None and cached[0] <= version:
            return cached[1]
        blob = self._get_blob(version, _state_key(address))
        with self._blob_lock:
            if address not in self._latest_blobs and version == self._next_version - 1:
                self._cache_blob(address, (version, blob))
        return blob

    def _cache_blob(self, address: bytes, entry: tuple[int, bytes | None]) -> None:
        """Record ``address``'s latest blob (callers hold ``_blob_lock``); the oldest entries make room."""
        self._latest_blobs[address] = entry
        self._latest_blobs.move_to_end(address)
        if len(self._latest_blobs) > self._blob_cache_size:
            self._latest_blobs.popitem(last=False)

    def get_state_root(self, version: int) -> bytes:
        self._require_state_version(version)
        if not self._is_checkpoint(version):  # (the replayed tree would give the same, see _replayed)
            return self.get_transaction_info(version).state_root_hash
        return self._root_hash(version)

    def get_accumulator_root(self, version: int) -> bytes:
        self._require_version(version)
        return self._accumulator.root(version + 1)

    def get_epoch_ending_ledger_info(self, epoch: int) -> LedgerInfoWithSignatures:
        value = self._store.get(schema.epoch_ledger_info_key(epoch))
        if value is None:
            raise StorageError(f"no ledger info for epoch {epoch}")
        li = LedgerInfoWithSignatures.from_bcs(value)
        if not li.ledger_info.ends_epoch:
            raise StorageError(f"epoch {epoch} has not ended")
        return li

    def _must(self, key: bytes, what: str) -> bytes:
        value = self._get(key)
        if value is None:
            raise StorageError(f"{what} is missing from the store")
        return value


_U64_LE = struct.Struct("<Q")


def _native_core() -> ModuleType:
    """The native core even when ``LIBRA_CORE`` does not choose it (a store asked for it)."""
    if native.CORE is not None:
        return native.CORE
    from libra import _core

    return _core

# The state-tree key of an address. Payments touch the same accounts block after block, so
# the hashes are worth keeping (a C-level LRU; ~100 bytes per entry, so ~6 MB when full).
_state_key = functools.lru_cache(maxsize=1 << 16)(hash_account_key)


def encode_transaction_info(info: TransactionInfo) -> bytes:
    """``info.to_bcs()`` without the generic serializer (one per version, so it is hot).

    Layout: variant 0, three ``HashValue`` (length byte 32 + 32 bytes), gas u64 LE, then the
    status, whose ``Executed`` is the single byte 0. Anything unusual goes through ``to_bcs``.
    """
    hashes = (info.transaction_hash, info.state_root_hash, info.event_root_hash)
    if any(len(value) != 32 for value in hashes) or not 0 <= info.gas_used < 1 << 64:
        return info.to_bcs()  # raises the serializer's error
    status = b"\x00" if info.status.kind == KEPT_EXECUTED else info.status.to_bcs()
    return b"".join((b"\x00\x20", hashes[0], b"\x20", hashes[1], b"\x20", hashes[2], _U64_LE.pack(info.gas_used), status))


def _decode_event(key: bytes, value: bytes) -> StoredEvent:
    version, index = schema.unpack_version_index(key[1:])
    return StoredEvent(version, index, value[:24], schema.read_u64(value, 24), value[32:])
