"""One suite for both key-value implementations."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from libra.storage.kv import MemoryStore, WriteBatch, iterate_prefix, prefix_end


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
        if value is None:
            batch.delete(key)
            model.pop(key, None)
        else:
            batch.put(key, value)
            model[key] = value
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
