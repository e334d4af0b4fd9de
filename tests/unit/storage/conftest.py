from __future__ import annotations

import contextlib

import pytest

from libra.storage.kv import MemoryStore, RocksStore

# Prefixes the suite's keys use, each in a column family of its own for the "rocksdb-tables" kind
# (the ledger's layout); other keys stay in the default family.
TABLES = (b"a", b"\x01", b"d", b"k")


@pytest.fixture(params=["memory", "rocksdb", "rocksdb-tables"])
def kv_factory(request, tmp_path):
    """Makes fresh (or re-opened, for RocksDB) key-value stores of one kind."""
    opened = []

    def make(name: str = "db"):
        if request.param == "memory":
            store = MemoryStore()
        else:
            store = RocksStore(tmp_path / name, tables=TABLES if request.param == "rocksdb-tables" else ())
        opened.append(store)
        return store

    make.kind = request.param
    yield make
    for store in opened:
        with contextlib.suppress(Exception):
            store.close()
