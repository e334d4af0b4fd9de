"""BlockState's derived data against the plain computation: per-version blobs, changed
blobs and accounts remembered across blocks (DecodedAccounts)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from libra.framework.resources import (
    DIEM_ACCOUNT,
    FREEZING_BIT,
    PARENT_VASP,
    Balance,
    FreezingBit,
    ParentVASP,
    balance_kind,
)
from libra.framework.state import (
    BlockState,
    DecodedAccounts,
    InMemoryStateView,
    TxnState,
    _encoded_key,
    _map_entry,
    decode_account_blob,
    encode_account_blob,
)
from libra.types.move import AccountAddress
from libra.types.write_set import AccessPath, WriteOp, WriteSet, raw_writes

ADDRESSES = [AccountAddress(bytes([i]) * 16) for i in range(3)]
KINDS = [balance_kind("XUS"), balance_kind("XDX"), FREEZING_BIT, PARENT_VASP]


def _value(kind_index: int, number: int):  # type: ignore[no-untyped-def]
    if kind_index < 2:
        return Balance(number)
    if kind_index == 2:
        return FreezingBit(number % 2 == 1)
    return ParentVASP(number)


# a write: (account, kind, new value number or None to delete)
WRITES = st.tuples(st.integers(0, 2), st.integers(0, 3), st.one_of(st.none(), st.integers(0, 2**64 - 1)))
TXNS = st.lists(st.lists(WRITES, min_size=0, max_size=5), min_size=1, max_size=8)


def _initial_view() -> InMemoryStateView:
    # account 0 starts with two resources, account 1 with one, account 2 with nothing
    return InMemoryStateView({
        ADDRESSES[0]: encode_account_blob({KINDS[0].path: Balance(5).to_bcs(), KINDS[2].path: FreezingBit(False).to_bcs()}),
        ADDRESSES[1]: encode_account_blob({KINDS[3].path: ParentVASP(1).to_bcs()}),
    })


def _model(view: InMemoryStateView) -> dict[AccountAddress, dict[bytes, bytes]]:
    return {address: decode_account_blob(blob) for address, blob in view.blobs.items()}


def _run(block: BlockState, txns: list[list[tuple[int, int, int | None]]], model: dict) -> list:  # type: ignore[type-arg]
    """Commit ``txns``; check each version's blobs against ``model`` updated write by write."""
    versions = []
    for writes in txns:
        txn = TxnState(block)
        pending: dict[tuple[int, int], object] = {}
        for account, kind_index, number in writes:
            address, kind = ADDRESSES[account], KINDS[kind_index]
            # read first, as the rules do: the transaction's own write, else the block's state
            data = model.get(address, {}).get(kind.path)
            expected = pending.get((account, kind_index), kind.decode(data) if data is not None else None)
            assert txn.get(address, kind) == expected
            if number is None:
                txn.remove(address, kind)
                pending[(account, kind_index)] = None
            else:
                txn.put(address, kind, _value(kind_index, number))
                pending[(account, kind_index)] = _value(kind_index, number)
        write_set = block.commit(txn)
        assert write_set == WriteSet(tuple(
            (AccessPath(address, path), WriteOp(value.to_bcs() if value is not None else None))
            for _key, (address, path, value) in sorted(txn.writes.items())
        ))
        for access_path, op in write_set.entries:
            resources = model.setdefault(access_path.address, {})
            if op.value is None:
                resources.pop(access_path.path, None)
            else:
                resources[access_path.path] = op.value
        blobs = block.account_blobs(write_set)
        touched = sorted({access_path.address for access_path, _ in write_set.entries})
        assert list(blobs) == [address.value for address in touched]
        for address in touched:
            expected = model[address]
            assert blobs[address.value] == (encode_account_blob(expected) if expected else None)
        versions.append(blobs)
    return versions


@settings(max_examples=60, deadline=None)
@given(TXNS)
def test_each_versions_blobs_and_the_changed_blobs_equal_the_plain_encoding(txns) -> None:  # type: ignore[no-untyped-def]
    view = _initial_view()
    model = _model(view)
    block = BlockState(view)
    _run(block, txns, model)
    changed = block.changed_blobs()
    written = {address for writes in txns for address in (ADDRESSES[w[0]] for w in writes)}
    assert set(changed) == written
    for address, blob in changed.items():
        assert blob == (encode_account_blob(model[address]) if model[address] else None)


@settings(max_examples=60, deadline=None)
@given(TXNS, TXNS)
def test_accounts_remembered_across_blocks_read_and_encode_as_decoding_would(first, second) -> None:  # type: ignore[no-untyped-def]
    cache = DecodedAccounts()
    hits = []
    original_get = cache.get

    def counting_get(blob: bytes):  # type: ignore[no-untyped-def]
        found = original_get(blob)
        hits.append(found is not None)
        return found

    cache.get = counting_get  # type: ignore[method-assign]
    plain_view, cached_view = _initial_view(), _initial_view()
    kept: list[bytes] = []
    for txns in (first, second):
        plain, cached = BlockState(plain_view), BlockState(cached_view, cache=cache)
        assert _run(plain, txns, _model(plain_view)) == _run(cached, txns, _model(cached_view))
        for address in ADDRESSES:  # every resource reads the same, cached or decoded
            for kind in (*KINDS, DIEM_ACCOUNT):
                assert plain.read(address, kind) == cached.read(address, kind)
            assert plain.raw_account(address) == cached.raw_account(address)
        changed = plain.changed_blobs()
        assert cached.changed_blobs() == changed
        plain_view.apply(changed)
        cached_view.apply(changed)
        if txns is first:
            kept = [blob for blob in changed.values() if blob is not None]
    if kept:  # an account the first block wrote (and left with resources) is found, not decoded
        assert any(hits)


def test_the_cache_keeps_the_latest_state_of_each_account_and_blocks_write_to_copies() -> None:
    cache = DecodedAccounts(capacity=4)
    blobs = []
    for n in range(3):
        view = InMemoryStateView({ADDRESSES[0]: encode_account_blob({KINDS[0].path: Balance(n).to_bcs()})})
        block = BlockState(view, cache=cache)
        txn = TxnState(block)
        txn.put(ADDRESSES[0], KINDS[0], Balance(100 + n))
        block.commit(txn)
        blobs.append(block.changed_blobs()[ADDRESSES[0]])
        assert cache.get(blobs[-1]) is not None
        txn = TxnState(block)  # the block goes on after handing its account over: it writes to a copy
        txn.put(ADDRESSES[0], KINDS[0], Balance(200 + n))
        block.commit(txn)
        latest = block.changed_blobs()[ADDRESSES[0]]
        assert latest != blobs[-1] and cache.get(latest) is not None
        assert cache.get(blobs[-1]) is None  # replaced by the account's newer state
    assert len(cache) == 1
    view = InMemoryStateView({ADDRESSES[0]: latest})
    block = BlockState(view, cache=cache)
    assert block.read(ADDRESSES[0], KINDS[0]) == Balance(202)
    txn = TxnState(block)
    txn.put(ADDRESSES[0], KINDS[0], Balance(7))
    block.commit(txn)
    remembered = cache.get(latest)  # the remembered account is as it was, until the block hands its own over
    assert remembered is not None and remembered.resources == decode_account_blob(latest)
    assert remembered.encode() == latest
    assert block.changed_blobs()[ADDRESSES[0]] == encode_account_blob({KINDS[0].path: Balance(7).to_bcs()})


def test_the_cache_is_bounded_oldest_first() -> None:
    cache = DecodedAccounts(capacity=4)
    addresses = [AccountAddress(bytes([9, n]) * 8) for n in range(6)]
    view = InMemoryStateView({})
    block = BlockState(view, cache=cache)
    txn = TxnState(block)
    for n, address in enumerate(addresses):
        txn.put(address, KINDS[0], Balance(n))
    block.commit(txn)
    changed = block.changed_blobs()
    assert len(cache) <= 4
    assert cache.get(changed[addresses[0]]) is None and cache.get(changed[addresses[5]]) is not None


# --- writes applied as bytes (state sync, genesis) -----------------------------------------

ODD_PATH = b"\x01" + b"odd" * 50  # a path no rule reads, with a two-byte ULEB128 length in the blob


def _raw_write(account: int, kind_index: int, number: int | None) -> tuple[bytes, bytes, bytes | None]:
    """A raw write of a framework resource, or of an odd path with a value of any size."""
    if kind_index < len(KINDS):
        path = KINDS[kind_index].path
        data = _value(kind_index, number).to_bcs() if number is not None else None
    else:
        path, data = ODD_PATH, bytes([number % 251]) * (number % 300) if number is not None else None
    return ADDRESSES[account].value, path, data


def check_remembered(cache: DecodedAccounts) -> None:
    """Every remembered account is what decoding its blob gives: resources, encoded entries
    and key order, and each resource decoded so far."""
    for blob, account in cache._accounts.items():
        assert account.shared
        assert account.resources == decode_account_blob(blob)
        assert account.encode() == blob == encode_account_blob(account.resources)
        if account.entries is not None:
            assert account.entries == {path: _map_entry(path, data) for path, data in account.resources.items()}
        if account.order is not None:
            assert account.order == sorted(account.resources, key=_encoded_key)
        for path, value in account.decoded.items():
            data = account.resources.get(path)
            assert (value.to_bcs() if value is not None else None) == data, path


# a version: executed (False) or applied from raw writes (True), and its writes
RAW_WRITES = st.tuples(st.integers(0, 2), st.integers(0, len(KINDS)), st.one_of(st.none(), st.integers(0, 2**64 - 1)))
VERSIONS = st.lists(st.tuples(st.booleans(), st.lists(RAW_WRITES, max_size=6)), min_size=1, max_size=6)


@settings(max_examples=80, deadline=None)
@given(st.lists(VERSIONS, min_size=1, max_size=3))
def test_raw_writes_give_the_blobs_and_reads_of_the_plain_computation(blocks) -> None:  # type: ignore[no-untyped-def]
    """Blocks mixing raw and executed versions, with and without accounts remembered across
    blocks: each version's blobs are the plain encoding, every read afterwards decodes the
    bytes written last (a raw write leaves no stale decoded value behind), the remembered
    accounts stay what their blobs decode to."""
    cache = DecodedAccounts()
    view = _initial_view()
    model = _model(view)
    for versions in blocks:
        for block in (BlockState(view), BlockState(view, cache=cache)):
            expected = {address: dict(resources) for address, resources in model.items()}
            for address in ADDRESSES:  # read everything first: the reads are remembered
                for kind in KINDS:
                    block.read(address, kind)
            for raw, writes in versions:
                if raw:
                    raw_writes = [_raw_write(*write) for write in writes]
                    for address, path, data in raw_writes:
                        resources = expected.setdefault(AccountAddress(address), {})
                        if data is None:
                            resources.pop(path, None)
                        else:
                            resources[path] = data
                    blobs = block.apply_raw(raw_writes)
                    touched = sorted({address for address, _, _ in raw_writes})
                    assert list(blobs) == touched
                    for address in touched:
                        resources = expected[AccountAddress(address)]
                        assert blobs[address] == (encode_account_blob(resources) if resources else None)
                else:
                    _run(block, [[w for w in writes if w[1] < len(KINDS)]], expected)
                for address in ADDRESSES:
                    for kind in KINDS:
                        data = expected.get(address, {}).get(kind.path)
                        assert block.read(address, kind) == (kind.decode(data) if data is not None else None)
                    assert block.raw_account(address) == expected.get(address, {})
            changed = block.changed_blobs()
            for address, blob in changed.items():
                resources = expected[address]
                assert blob == (encode_account_blob(resources) if resources else None)
            check_remembered(cache)
        model = expected
        view.apply(changed)


def test_a_write_set_applied_as_bytes_gives_each_version_its_blob() -> None:
    a, b = ADDRESSES[1], ADDRESSES[2]
    start_a = {b"\x01a": b"1", b"\x01b": b"2"}
    steps = [
        WriteSet(((AccessPath(a, b"\x01a"), WriteOp(b"3")), (AccessPath(b, b"\x01z"), WriteOp(b"9")))),
        WriteSet(((AccessPath(a, b"\x01c"), WriteOp(b"4")),)),  # a new resource: key order changes
        WriteSet(((AccessPath(a, b"\x01a"), WriteOp(None)), (AccessPath(b, b"\x01z"), WriteOp(None)))),
    ]
    cache = DecodedAccounts()
    for remembered in (False, True):  # a read from the view, or found in the cache
        view = InMemoryStateView({a: encode_account_blob(start_a)})
        if remembered:
            warm = BlockState(view, cache=cache)
            warm.apply_raw([(a.value, b"\x01a", b"0")])
            warm.apply_raw([(a.value, b"\x01a", b"1")])
            view.apply(warm.changed_blobs())
            assert cache.get(view.blobs[a]) is not None
        block = BlockState(view, cache=cache)
        expected_a, expected_b = dict(start_a), {}
        for write_set in steps:
            blobs = block.apply_raw(raw_writes(write_set))
            for path, op in write_set.entries:
                target = expected_a if path.address == a else expected_b
                if op.value is None:
                    target.pop(path.path, None)
                else:
                    target[path.path] = op.value
            assert list(blobs) == sorted({path.address.value for path, _ in write_set.entries})
            for address, expected in ((a, expected_a), (b, expected_b)):
                if address.value in blobs:
                    assert blobs[address.value] == (encode_account_blob(expected) if expected else None)
        check_remembered(cache)
        if remembered:  # the block wrote to its own copy of the remembered account
            found = cache.get(view.blobs[a])
            assert found is not None and found.resources == start_a
