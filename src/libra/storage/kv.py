"""A small ordered key-value interface with two implementations.

* :class:`RocksStore` (default): RocksDB through ``rocksdict`` in raw byte mode;
  one column family, tables are told apart by a one-byte key prefix (see
  :mod:`libra.storage.schema`); a :class:`WriteBatch` is applied atomically and,
  with ``sync=True``, only returns once the write-ahead log is on disk.
* :class:`MemoryStore`: a dict plus a sorted key list, for tests and simulation.

Rules: keys and values are ``bytes``; iteration is in ascending byte order over
``[start, end)``; a batch applies all of its operations or none; the last
operation on a key within one batch wins (its ``prepared`` puts count as coming first).
"""

from __future__ import annotations

import bisect
import heapq
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from libra.storage.errors import StorageError


class PreparedPuts(Protocol):
    """Puts computed elsewhere (the native core's block batch), handed over as a whole."""

    def __len__(self) -> int: ...

    def items(self) -> list[tuple[bytes, bytes]]: ...

    def fill(self, put: Callable[[bytes, bytes, Any], None], families: list[Any]) -> None:
        """Call ``put(key, value, families[key[0]])`` for every put, in order (``families``:
        one entry per value of a key's first byte)."""


class WriteBatch:
    """Ordered puts and deletes, applied atomically by :meth:`KeyValueStore.write`.

    ``prepared`` holds groups of puts applied, in order, before ``ops``. The batch
    doubles as an overlay: :meth:`lookup` answers reads of keys written in ``ops``,
    so a commit can read what it has written before the batch lands.
    """

    __slots__ = ("ops", "prepared")

    def __init__(self) -> None:
        self.ops: dict[bytes, bytes | None] = {}
        self.prepared: list[PreparedPuts] = []

    def put(self, key: bytes, value: bytes) -> None:
        self.ops[key] = value

    def delete(self, key: bytes) -> None:
        self.ops[key] = None

    def lookup(self, key: bytes) -> tuple[bool, bytes | None]:
        """``(True, value-or-None-if-deleted)`` when the batch touches ``key``."""
        if key in self.ops:
            return True, self.ops[key]
        return False, None

    def __len__(self) -> int:
        return len(self.ops) + sum(len(part) for part in self.prepared)


class KeyValueStore(Protocol):
    """What the ledger store needs from a key-value engine."""

    def get(self, key: bytes) -> bytes | None: ...

    def multi_get(self, keys: Sequence[bytes]) -> list[bytes | None]: ...

    def iterate(self, start: bytes, end: bytes | None = None) -> Iterator[tuple[bytes, bytes]]: ...

    def write(self, batch: WriteBatch, sync: bool = True) -> None: ...

    def close(self) -> None: ...


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key above every key that starts with ``prefix`` (None: no bound)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


def iterate_prefix(store: KeyValueStore, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
    return store.iterate(prefix, prefix_end(prefix))


class MemoryStore:
    """In-memory :class:`KeyValueStore`; ``sync`` is accepted and ignored.

    A write and each step of an iteration hold ``_lock``, so an iteration on another
    thread sees each key in its range once, in order (keys written meanwhile may or
    may not be seen, as with a RocksDB iterator's snapshot they would not).
    """

    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._keys: list[bytes] = []
        self._closed = False
        self._lock = threading.Lock()

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("store is closed")

    def get(self, key: bytes) -> bytes | None:
        self._check_open()
        return self._data.get(key)

    def multi_get(self, keys: Sequence[bytes]) -> list[bytes | None]:
        self._check_open()
        return [self._data.get(key) for key in keys]

    def iterate(self, start: bytes, end: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        self._check_open()
        keys, lock = self._keys, self._lock
        previous: bytes | None = None
        while True:
            with lock:  # writes shift the list: find the place and read the key in one step
                index = bisect.bisect_left(keys, start) if previous is None else bisect.bisect_right(keys, previous)
                if index >= len(keys):
                    return
                key = keys[index]
                value = self._data.get(key)
            if end is not None and key >= end:
                return
            if value is not None:
                yield key, value
            previous = key

    def write(self, batch: WriteBatch, sync: bool = True) -> None:
        self._check_open()
        with self._lock:
            self._write(batch)

    def _write(self, batch: WriteBatch) -> None:
        data, keys = self._data, self._keys
        for part in batch.prepared:
            for key, put in part.items():
                if key not in data:
                    bisect.insort(keys, key)
                data[key] = put
        for key, value in batch.ops.items():
            if value is None:
                if data.pop(key, None) is not None:
                    del keys[bisect.bisect_left(keys, key)]
            else:
                if key not in data:
                    bisect.insort(keys, key)
                data[key] = bytes(value)

    def close(self) -> None:
        self._closed = True


class StoreInUse(StorageError):
    """The store is open elsewhere: RocksDB lets one process at a time hold its LOCK file."""


def open_error(path: str | Path, text: str) -> StorageError:
    """RocksDB's open failure as a sentence: a held lock says who may hold it."""
    if "lock hold by current process" in text:
        return StoreInUse(f"the store at {path} is already open in this process")
    if "LOCK" in text and ("lock file" in text or "Resource temporarily unavailable" in text):
        return StoreInUse(
            f"the store at {path} is in use by another process, most likely the node running on it: "
            "stop the node first (or work on a copy of the folder)"
        )
    return StorageError(f"cannot open RocksDB at {path}: {text}")


class RocksStore:
    """RocksDB-backed :class:`KeyValueStore` (``rocksdict`` raw mode).

    ``tables``: one-byte key prefixes that each get a column family of their own (other keys
    go to the default family). Keys keep their prefix. Why: the ledger's big tables are keyed
    by version, so a table on its own only ever grows at its end and RocksDB moves its new
    files down the levels without rewriting them; mixed in one family, every flushed file
    spans all tables and each compaction rewrote the whole of the next level (measured in
    ``bench/results/session7``). ``tables`` applies when the store is created: an existing
    store is opened with the families it has (one created before this, only the default
    family, keeps every key there).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        create: bool = True,
        cache_bytes: int = 128 << 20,
        tables: Sequence[bytes] = (),
    ) -> None:
        import rocksdict

        self._rocksdict = rocksdict
        options = rocksdict.Options(raw_mode=True)
        options.create_if_missing(create)
        options.create_missing_column_families(True)
        options.set_max_background_jobs(2)
        options.set_write_buffer_size(64 << 20)
        # All families' memtables together; past it the largest is flushed.
        options.set_db_write_buffer_size(128 << 20)
        # A log file is deleted once every family has flushed what it holds; past this size
        # the families holding the oldest one are flushed (small tables otherwise keep it).
        options.set_max_total_wal_size(128 << 20)
        # Fresh data (L0, L1) is rewritten often and is mostly hashes: compressing it cost
        # more CPU than it saved disk. Older levels are compressed once they settle.
        none, lz4 = rocksdict.DBCompressionType.none(), rocksdict.DBCompressionType.lz4()
        options.set_compression_per_level([none, none, lz4, lz4, lz4, lz4, lz4])
        table = rocksdict.BlockBasedOptions()
        table.set_block_cache(rocksdict.Cache(cache_bytes))
        table.set_bloom_filter(10, False)
        # Index and filter blocks grow with the data; keeping them in the block cache bounds
        # memory by cache_bytes instead of by the number of accounts.
        table.set_cache_index_and_filter_blocks(True)
        table.set_pin_l0_filter_and_index_blocks_in_cache(True)
        options.set_block_based_table_factory(table)
        self._nosync = rocksdict.WriteOptions()
        exists = (Path(path) / "CURRENT").is_file()
        if not create and not exists:
            raise StorageError(f"no ledger store in {path} (a RocksDB store has a CURRENT file)")
        for prefix in tables:
            if len(prefix) != 1:
                raise StorageError(f"a table prefix is one byte, not {prefix!r}")
        try:
            if exists:  # the store's layout is its own: the families it was created with
                tables = [
                    bytes.fromhex(name.removeprefix(_FAMILY_PREFIX))
                    for name in rocksdict.Rdict.list_cf(str(path), options)
                    if name.startswith(_FAMILY_PREFIX)
                ]
            names = {prefix[0]: _family_name(prefix) for prefix in tables}
            # column_families names every family with these options: without it rocksdict
            # reopens an existing store with the options saved in its OPTIONS file, so changes
            # here would only ever reach stores created after them.
            families = {"default": options} | {name: options for name in names.values()}
            self._db = rocksdict.Rdict(str(path), options, column_families=families)
        except Exception as exc:  # rocksdict raises plain Exception subclasses
            raise open_error(path, str(exc)) from None
        # first byte -> the family as an Rdict, for reads; the default family reads the rest
        self._readers: dict[int, Any] = {first: self._db.get_column_family(name) for first, name in names.items()}
        # the handle batch writes take, by a key's first byte (all the default one's if no tables)
        self._default_handle: Any = self._db.get_column_family_handle("default")
        handles = {first: self._db.get_column_family_handle(name) for first, name in names.items()}
        self._by_first_byte: list[Any] = [handles.get(first, self._default_handle) for first in range(256)]
        self._tables = bytes(sorted(names))

    @property
    def tables(self) -> bytes:
        """The prefixes that have a family of their own (empty: the single-family layout)."""
        return self._tables

    def _reader(self, key: bytes) -> Any:
        return self._readers.get(key[0], self._db) if key else self._db

    def get(self, key: bytes) -> bytes | None:
        value: bytes | None = self._reader(key).get(key)
        return value

    def multi_get(self, keys: Sequence[bytes]) -> list[bytes | None]:
        if not keys:
            return []
        if len({key[:1] for key in keys}) == 1:  # one table: one read (the usual case)
            values = self._reader(keys[0]).get(list(keys))
            return list(values or [])
        return [self.get(key) for key in keys]

    def iterate(self, start: bytes, end: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        if not self._readers:
            yield from _iterate_family(self._db, start, end)
            return
        # Each family is ordered by itself; a range that may span families is their merge.
        parts = [
            _iterate_family(reader, start, end)
            for first, reader in self._readers.items()
            if (not start or first >= start[0]) and (end is None or bytes([first]) < end)
        ]
        parts.append(_iterate_family(self._db, start, end))
        if len(parts) == 1:
            yield from parts[0]
        else:
            yield from heapq.merge(*parts, key=lambda item: item[0])

    def write(self, batch: WriteBatch, sync: bool = True) -> None:
        rocks_batch = self._rocksdict.WriteBatch(raw_mode=True)
        put, delete = rocks_batch.put, rocks_batch.delete  # bound once: a block has thousands of operations
        by_first_byte, default = self._by_first_byte, self._default_handle
        for part in batch.prepared:
            part.fill(put, by_first_byte)
        for key, value in batch.ops.items():
            family = by_first_byte[key[0]] if key else default
            if value is None:
                delete(key, family)
            else:
                put(key, value, family)
        try:
            # rocksdict holds the GIL while it writes, and a synced write would hold it through
            # the fsync too, stalling every other thread of the node (measured: a Python thread
            # makes no progress during a 5 ms synced write). So the batch is written unsynced,
            # then FlushWAL with sync, which releases the GIL, puts the log on disk: the same
            # guarantee when this returns (every write so far is durable).
            self._db.write(rocks_batch, self._nosync)
            if sync:
                self._db.flush_wal(True)
        except Exception as exc:
            raise StorageError(f"RocksDB write failed: {exc}") from None

    def close(self) -> None:
        # The families' objects share the database: they are closed and dropped first, or
        # RocksDB's lock outlives the close.
        for reader in self._readers.values():
            reader.close()
        self._readers, self._default_handle, self._by_first_byte = {}, None, []
        self._db.close()


_FAMILY_PREFIX = "table-"


def _family_name(prefix: bytes) -> str:
    return f"{_FAMILY_PREFIX}{prefix.hex()}"


def _iterate_family(family: Any, start: bytes, end: bytes | None) -> Iterator[tuple[bytes, bytes]]:
    iterator = family.iter()
    iterator.seek(start)
    while iterator.valid():
        key = iterator.key()
        if end is not None and key >= end:
            return
        yield key, iterator.value()
        iterator.next()
