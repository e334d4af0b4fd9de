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
    decode_account_blob,
    encode_account_blob,
)
from libra.types.move import AccountAddress
from libra.types.write_set import AccessPath, WriteOp, WriteSet

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
