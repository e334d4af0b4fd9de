from __future__ import annotations

import contextlib

import pytest

from libra.storage.kv import MemoryStore, RocksStore


@pytest.fixture(params=["memory", "rocksdb"])
def kv_factory(request, tmp_path):
    """Makes fresh (or re-opened, for RocksDB) key-value stores of one kind."""
    opened = []

    def make(name: str = "db"):
        store = MemoryStore() if request.param == "memory" else RocksStore(tmp_path / name)
        opened.append(store)
        return store

    make.kind = request.param
    yield make
    for store in opened:
        with contextlib.suppress(Exception):
            store.close()
