"""One suite for both key-value implementations."""

from __future__ import annotations

import pytest
import rocksdict
from hypothesis import given, settings
from hypothesis import strategies as st

from libra.storage.errors import StorageError
from libra.storage.kv import MemoryStore, RocksStore, WriteBatch, iterate_prefix, prefix_end


def test_put_get_delete_multi_get(kv_factory):
    store = kv_factory()
    batch = WriteBatch()
    batch.put(b"a1", b"x")
    batch.put(b"a2", b"y")
    batch.put(b"b1", b"z")
    store.write(batch)
    assert store.get(b"a1") == b"x"
    assert store.get(b"zz") is None
    assert store.multi_get([b"a2", b"q", b"b1"]) == [b"y", None, b"z"]
    batch = WriteBatch()
    batch.delete(b"a1")
    batch.put(b"a3", b"w")
    store.write(batch, sync=False)
    assert store.get(b"a1") is None
    assert list(iterate_prefix(store, b"a")) == [(b"a2", b"y"), (b"a3", b"w")]


def test_last_operation_in_a_batch_wins(kv_factory):
    store = kv_factory()
    batch = WriteBatch()
    batch.put(b"k", b"1")
    batch.delete(b"k")
    batch.put(b"j", b"1")
    batch.put(b"j", b"2")
    store.write(batch)
    assert store.get(b"k") is None
    assert store.get(b"j") == b"2"


def test_range_iteration_bounds(kv_factory):
    store = kv_factory()
    batch = WriteBatch()
    for i in range(50):
        batch.put(bytes([1, i]), bytes([i]))
    batch.put(b"\x01\xff\xff", b"end")
    batch.put(b"\x02", b"next")
    store.write(batch)
    assert [v for _, v in store.iterate(bytes([1, 10]), bytes([1, 13]))] == [b"\x0a", b"\x0b", b"\x0c"]
    assert len(list(iterate_prefix(store, b"\x01"))) == 51
    assert prefix_end(b"\x01\xff") == b"\x02"
    assert prefix_end(b"\xff\xff") is None


def test_rocksdb_survives_reopen(kv_factory):
    store = kv_factory("reopen")
    batch = WriteBatch()
    batch.put(b"durable", b"yes")
    store.write(batch, sync=True)
    store.close()
    again = kv_factory("reopen")
    expected = None if kv_factory.kind == "memory" else b"yes"
    assert again.get(b"durable") == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=1, max_size=4), st.one_of(st.none(), st.binary(max_size=4))), max_size=40))
def test_memory_store_matches_a_dict(ops):
    store, model = MemoryStore(), {}
    for key, value in ops:
        batch = WriteBatch()
        _put_or_delete(batch, model, key, value)
        store.write(batch)
    assert list(store.iterate(b"")) == sorted(model.items())



def test_rocks_store_reopens_an_older_store_with_its_own_options(tmp_path):
    """A folder written with other options (here: uncompressed, 1 MiB memtable, as an older
    build might have) opens, reads back its tables and WAL tail, and runs on RocksStore's options."""
    import rocksdict

    from libra.storage.kv import RocksStore

    path = tmp_path / "old"
    options = rocksdict.Options(raw_mode=True)
    options.create_if_missing(True)
    options.set_compression_type(rocksdict.DBCompressionType.none())
    options.set_write_buffer_size(1 << 20)
    db = rocksdict.Rdict(str(path), options)
    for i in range(2000):
        db[b"\x01" + i.to_bytes(4, "big")] = bytes(range(256)) * 2
    db.flush()
    db[b"\x02tail"] = b"only in the write-ahead log"
    db.close()

    store = RocksStore(path)
    batch = WriteBatch()
    batch.put(b"\x03new", b"after reopening")
    store.write(batch, sync=True)
    store.close()
    again = RocksStore(path)
    try:
        assert again.get(b"\x02tail") == b"only in the write-ahead log"
        assert again.get(b"\x03new") == b"after reopening"
        assert [v for _, v in iterate_prefix(again, b"\x01")] == [bytes(range(256)) * 2] * 2000
    finally:
        again.close()
    latest = max(path.glob("OPTIONS-*"), key=lambda f: int(f.name.split("-")[1])).read_text()
    assert "write_buffer_size=67108864" in latest  # RocksStore's, not the folder's saved 1 MiB
    assert "  compression=kSnappyCompression" in latest


def _put_or_delete(batch: WriteBatch, model: dict[bytes, bytes], key: bytes, value: bytes | None) -> None:
    """The operation in ``batch`` and its effect on the dict ``model`` (None: a delete)."""
    if value is None:
        batch.delete(key)
        model.pop(key, None)
    else:
        batch.put(key, value)
        model[key] = value


class _Prepared:
    """Puts handed over whole, as the native block batch does."""

    def __init__(self, puts: list[tuple[bytes, bytes]]) -> None:
        self._puts = puts

    def __len__(self) -> int:
        return len(self._puts)

    def items(self) -> list[tuple[bytes, bytes]]:
        return list(self._puts)

    def fill(self, put, families) -> None:
        for key, value in self._puts:
            put(key, value, families[key[0]])


_KEYS = st.binary(min_size=1, max_size=3).map(lambda key: b"akq"[key[0] % 3 : key[0] % 3 + 1] + key[1:])


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.tuples(_KEYS, st.binary(max_size=3)), max_size=4),
            st.lists(st.tuples(_KEYS, st.one_of(st.none(), st.binary(max_size=3))), max_size=6),
        ),
        max_size=8,
    ),
    st.tuples(_KEYS, st.one_of(st.none(), _KEYS)),
)
def test_a_store_with_table_families_answers_like_a_dict(tmp_path_factory, batches, bounds):
    """Families per table change where keys live, not what any read answers: gets, multi-gets
    across tables, and ranges within and across families (``q`` keys stay in the default)."""
    store = RocksStore(tmp_path_factory.mktemp("tables"), tables=(b"a", b"k"))
    model: dict[bytes, bytes] = {}
    try:
        for prepared, ops in batches:
            batch = WriteBatch()
            batch.prepared.append(_Prepared(prepared))
            model.update(prepared)
            for key, value in ops:
                _put_or_delete(batch, model, key, value)
            store.write(batch, sync=False)
        assert store.tables == b"ak"
        assert list(store.iterate(b"")) == sorted(model.items())
        start, end = bounds
        expected = [(k, v) for k, v in sorted(model.items()) if k >= start and (end is None or k < end)]
        assert list(store.iterate(start, end)) == expected
        keys = sorted(model)[:5] + [b"a-missing", b"q-missing"]
        assert store.multi_get(keys) == [model.get(key) for key in keys]
    finally:
        store.close()


def test_the_layout_belongs_to_the_store_not_to_the_opener(tmp_path):
    """A store keeps the families it was created with whatever a later open asks for; a store
    of the single-family layout (created before tables had families) opens as it is."""
    with_tables = RocksStore(tmp_path / "tables", tables=(b"T", b"N"))
    batch = WriteBatch()
    batch.put(b"T\x00", b"txn")
    batch.put(b"N\x00", b"node")
    batch.put(b"M\x00", b"meta")
    with_tables.write(batch)
    with_tables.close()
    assert sorted(rocksdict.Rdict.list_cf(str(tmp_path / "tables"), rocksdict.Options(raw_mode=True))) == [
        "default", "table-4e", "table-54",
    ]
    for tables in ((), (b"T",), (b"T", b"N", b"Q")):
        again = RocksStore(tmp_path / "tables", tables=tables)
        try:
            assert again.tables == b"NT"
            assert again.multi_get([b"T\x00", b"N\x00", b"M\x00"]) == [b"txn", b"node", b"meta"]
        finally:
            again.close()

    single = RocksStore(tmp_path / "single")
    batch = WriteBatch()
    batch.put(b"T\x00", b"old layout")
    single.write(batch)
    single.close()
    reopened = RocksStore(tmp_path / "single", tables=(b"T", b"N"))
    try:
        assert reopened.tables == b""
        assert reopened.get(b"T\x00") == b"old layout"
    finally:
        reopened.close()


def test_a_table_prefix_is_one_byte(tmp_path):
    with pytest.raises(StorageError, match="one byte"):
        RocksStore(tmp_path / "bad", tables=(b"TX",))
