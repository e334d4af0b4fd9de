"""The fast exact decoders state sync applies outputs with: the same answers as the full
decoders on valid bytes, and refusal (``BcsError``) exactly where they refuse."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from libra.bcs import BcsError, Deserializer, encode_uleb128
from libra.framework.events import NewEpochEvent
from libra.framework.resources import DIEM_ACCOUNT, PARENT_VASP, balance_kind
from libra.framework.state import BlockState, DecodedAccounts, decode_account_blob, encode_account_blob
from libra.node.ledger import LedgerError
from libra.node.state_sync import decode_message, split_blocks
from libra.types import proof as proof_module
from libra.types.ledger import TransactionInfo
from libra.types.move import AccountAddress, StructTag, TypeTag
from libra.types.transaction import deserialize_transaction, transaction_from_bcs
from libra.types.write_set import (
    AccessPath,
    ContractEvent,
    EventKey,
    WriteOp,
    WriteSet,
    event_head,
    write_set_entries,
)

from .test_state_sync_outputs import _chunk, _NoNetwork, ledgers  # noqa: F401  (fixture)


def _full_writes(data: bytes) -> Any:
    try:
        return [(p.address.value, p.path, op.value) for p, op in WriteSet.from_bcs(data).entries]
    except BcsError:
        return BcsError


def _fast_writes(data: bytes) -> Any:
    try:
        return write_set_entries(data)
    except BcsError:
        return BcsError


def _full_head(data: bytes) -> Any:
    try:
        event = ContractEvent.from_bcs(data)
    except BcsError:
        return BcsError
    return event.key.value, event.sequence_number, _tag_bytes(event.type_tag)


def _tag_bytes(tag: TypeTag) -> bytes:
    return ContractEvent(EventKey(bytes(24)), 0, tag, b"").to_bcs()[34:-1]


def _fast_head(data: bytes) -> Any:
    try:
        return event_head(data)
    except BcsError:
        return BcsError


def _mutations(data: bytes) -> Iterator[bytes]:
    """Every byte replaced by a few values, every truncation, and some extensions."""
    for i in range(len(data)):
        for value in {data[i] ^ 1, 0x00, 0x01, 0x7F, 0x80, 0xFF, data[i] + 1 & 0xFF, data[i] - 1 & 0xFF}:
            if value != data[i]:
                yield data[:i] + bytes([value]) + data[i + 1 :]
    for size in range(len(data)):
        yield data[:size]
    for extra in (b"\x00", b"\x01", b"\x80", b"\x00" * 40):
        yield data + extra


def _check_same(data: bytes, full: Callable[[bytes], Any], fast: Callable[[bytes], Any]) -> None:
    assert fast(data) == full(data), data.hex()


def _address(n: int) -> AccountAddress:
    return AccountAddress(n.to_bytes(16, "big"))


SYNTHETIC_WRITE_SETS = [
    WriteSet(()),
    WriteSet(((AccessPath(_address(1), b"\x01" + b"p" * 40), WriteOp(None)),)),
    WriteSet(tuple(
        (AccessPath(_address(i), bytes([i]) * (i * 9)), WriteOp(bytes([i]) * size))
        for i, size in enumerate((0, 1, 127, 128, 300, 16383, 16384, 70_000))
    )),
    WriteSet(tuple((AccessPath(_address(i), b"x" * 130), WriteOp(b"v")) for i in range(3))),  # long path
    WriteSet(tuple((AccessPath(_address(i % 3), b"k"), WriteOp(b"v" * i)) for i in range(200))),  # long list
]


def _struct(name: str, params: tuple[TypeTag, ...] = ()) -> TypeTag:
    return StructTag(AccountAddress(bytes(15) + b"\x01"), "DiemAccount", name, params)  # type: ignore[return-value]


SYNTHETIC_EVENTS = [
    ContractEvent(EventKey(bytes(range(24))), 7, _struct("SentPaymentEvent"), b"d" * 60),
    ContractEvent(EventKey(bytes(24)), (1 << 64) - 1, _struct("ReceivedPaymentEvent"), b""),
    ContractEvent(EventKey(bytes(24)), 0, _struct("SentPaymentEvent"), b"d" * 127),
    ContractEvent(EventKey(bytes(24)), 0, _struct("SentPaymentEvent"), b"d" * 128),
    ContractEvent(EventKey(bytes(24)), 3, _struct("Generic", (_struct("XUS"),)), b"g"),
    ContractEvent(EventKey(bytes(24)), 3, NewEpochEvent.TYPE_TAG, (5).to_bytes(8, "little")),
]


def test_synthetic_write_sets_decode_as_the_full_decoder_does() -> None:
    for write_set in SYNTHETIC_WRITE_SETS:
        data = write_set.to_bcs()
        assert write_set_entries(data) == _full_writes(data)
    for data in (SYNTHETIC_WRITE_SETS[1].to_bcs(), SYNTHETIC_WRITE_SETS[3].to_bcs()):
        for mutated in _mutations(data):
            _check_same(mutated, _full_writes, _fast_writes)


def test_synthetic_events_decode_as_the_full_decoder_does() -> None:
    for event in SYNTHETIC_EVENTS * 2:  # twice: the second time with the tags known
        data = event.to_bcs()
        assert event_head(data) == (event.key.value, event.sequence_number, _tag_bytes(event.type_tag))
    for event in SYNTHETIC_EVENTS:
        for mutated in _mutations(event.to_bcs()):
            _check_same(mutated, _full_head, _fast_head)


def test_a_known_tag_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    data = SYNTHETIC_EVENTS[0].to_bcs()
    event_head(data)  # learns the tag

    def refuse(*args: object) -> object:
        raise AssertionError("decoded whole")

    monkeypatch.setattr(ContractEvent, "from_bcs", refuse)
    assert event_head(data)[1] == 7
    with pytest.raises(AssertionError):  # not the fast layout (data of 128 bytes): decoded whole
        event_head(SYNTHETIC_EVENTS[3].to_bcs())


def test_real_outputs_and_their_mutations_decode_as_the_full_decoder_does(ledgers) -> None:  # noqa: F811
    source, follower = ledgers
    response = _chunk(source, follower.db.next_version)
    assert response.listing.events is not None
    events = [data for listed in response.listing.events for data in listed]
    assert events and response.write_sets
    for data in events * 2:
        _check_same(data, _full_head, _fast_head)
    for data in response.write_sets:
        _check_same(data, _full_writes, _fast_writes)
    for data in events[:3]:
        for mutated in _mutations(data):
            _check_same(mutated, _full_head, _fast_head)
    for mutated in _mutations(response.write_sets[-1]):
        _check_same(mutated, _full_writes, _fast_writes)


def _apply_first_block(follower: Any, response: Any, events: Any = None, write_sets: Any = None) -> Any:
    listing = response.listing
    starts = [i for i, data in enumerate(listing.transactions) if data[0] != 0]  # not user transactions
    end = starts[1] if len(starts) > 1 else len(listing.transactions)
    return follower.apply_outputs(
        follower.db.next_version, listing.transactions[:end], listing.proof.transaction_infos[:end],
        (write_sets or response.write_sets)[:end], (events or listing.events)[:end],
    )


def test_mutated_events_and_write_sets_given_to_the_ledger_are_refused(ledgers) -> None:  # noqa: F811
    """Past the chunk's proof check: the ledger itself refuses outputs that do not give the proven infos."""
    source, follower = ledgers
    start = follower.db.next_version
    response = _chunk(source, start)
    listing = response.listing
    index = next(i for i, listed in enumerate(listing.events) if listed)
    original = listing.events[index][0]
    forged_events = []
    for mutated in [*list(_mutations(original))[::7], original[:34], original + b"\x00"]:
        events = [list(e) for e in listing.events]
        events[index][0] = mutated
        forged_events.append(tuple(tuple(e) for e in events))
    for events in forged_events:
        with pytest.raises(LedgerError):
            _apply_first_block(follower, response, events=events)
    forged_write_sets = []
    for mutated in list(_mutations(response.write_sets[index]))[::11]:
        write_sets = list(response.write_sets)
        write_sets[index] = mutated
        forged_write_sets.append(tuple(write_sets))
    for write_sets in forged_write_sets:
        with pytest.raises(LedgerError):
            _apply_first_block(follower, response, write_sets=write_sets)
    assert follower.db.next_version == start
    follower.commit(_apply_first_block(follower, response), None)  # the honest outputs still apply
    assert follower.db.next_version > start


def test_a_new_epoch_event_is_recognised_by_its_head() -> None:
    event = dataclasses.replace(SYNTHETIC_EVENTS[0], type_tag=NewEpochEvent.TYPE_TAG)
    for _ in range(2):
        assert event_head(event.to_bcs())[2] == _tag_bytes(NewEpochEvent.TYPE_TAG)


def _check_remembered(cache: DecodedAccounts) -> None:
    """Every account in a ledger's DecodedAccounts is what decoding its blob gives."""
    for blob, account in cache._accounts.items():
        assert account.shared
        assert account.resources == decode_account_blob(blob)
        assert account.encode() == blob == encode_account_blob(account.resources)
        if account.order is not None:
            assert account.order == sorted(account.resources, key=lambda path: encode_uleb128(len(path)) + path)
        for path, value in account.decoded.items():  # resources decoded so far: their bytes
            assert (value.to_bcs() if value is not None else None) == account.resources.get(path)


def _read_through_the_cache(ledger: Any, addresses: list[AccountAddress]) -> None:
    """Read the accounts as admission and execution do (through the ledger's DecodedAccounts,
    which keeps what they decode) and check the answers against decoding the stored blobs."""
    cached, plain = BlockState(ledger.state_view(), cache=ledger._decoded), BlockState(ledger.state_view())
    for address in addresses:
        for kind in (DIEM_ACCOUNT, balance_kind("XUS"), PARENT_VASP):
            assert cached.read(address, kind) == plain.read(address, kind)
        assert cached.raw_account(address) == plain.raw_account(address)


def test_blobs_remembered_across_blocks_give_the_same_ledger(ledgers) -> None:  # noqa: F811
    """The second block starts from the accounts the first one left in the ledger's
    DecodedAccounts (found again by their blob bytes, not decoded, after readers decoded
    resources of them): the same ledger as the source's; a refused block leaves nothing
    behind and changes nothing remembered."""
    source, follower = ledgers
    cache = follower._decoded
    follower.commit(_apply_first_block(follower, _chunk(source, follower.db.next_version)), None)
    _check_remembered(cache)
    first = [AccountAddress(address) for address in cache._latest]
    assert first
    _read_through_the_cache(follower, first)

    response = _chunk(source, follower.db.next_version)  # payments to the account the first block created
    index = next(i for i, data in enumerate(response.listing.transactions) if data[0] == 0)
    write_sets = list(response.write_sets)
    write_sets[index] = write_sets[index][:-1] + bytes([write_sets[index][-1] ^ 1])  # a forged value
    remembered = {blob: (account, dict(account.resources)) for blob, account in cache._accounts.items()}
    with pytest.raises(LedgerError):
        _apply_first_block(follower, response, write_sets=write_sets)
    assert {blob: (account, dict(account.resources)) for blob, account in cache._accounts.items()} == remembered
    _check_remembered(cache)

    found = []
    get = cache.get

    def counting_get(blob: bytes) -> Any:
        found.append(get(blob))
        return found[-1]

    cache.get = counting_get  # type: ignore[method-assign]
    follower.commit(_apply_first_block(follower, response), None)
    del cache.get
    assert any(account is not None for account in found)  # the second block started from remembered accounts
    tip = source.db.next_version - 1
    assert follower.db.next_version == tip + 1
    assert follower.db.get_state_root(tip) == source.db.get_state_root(tip)
    assert follower.db.get_accumulator_root(tip) == source.db.get_accumulator_root(tip)
    _check_remembered(cache)
    latest = [AccountAddress(address) for address in cache._latest]
    assert all(cache.get(follower.db.get_account_blob(a.value, tip)) is not None for a in latest)  # type: ignore[arg-type]
    _read_through_the_cache(follower, latest)


# --- reading a chunk message: transactions, events and infos found in a larger buffer -----


def _read_with(read: Callable[[Deserializer], Any], buffer: bytes) -> Any:
    deserializer = Deserializer(buffer)
    try:
        value = read(deserializer)
    except BcsError:
        return BcsError
    return value, deserializer.offset


def _reference_event(deserializer: Deserializer) -> bytes:
    start = deserializer.offset
    ContractEvent.deserialize(deserializer)
    return deserializer.consumed_since(start)


def _reference_transaction(deserializer: Deserializer) -> bytes:
    start = deserializer.offset
    deserialize_transaction(deserializer)
    return deserializer.consumed_since(start)


def test_chunk_readers_agree_with_the_full_decoders_on_valid_and_mutated_bytes(ledgers) -> None:  # noqa: F811
    source, follower = ledgers
    response = _chunk(source, follower.db.next_version)
    listing = response.listing
    assert listing.events is not None
    events = [data for listed in listing.events for data in listed]
    infos = [info.to_bcs() for info in listing.proof.transaction_infos]
    for data in events * 2:
        for tail in (b"", b"\x00\x01"):  # alone and followed by more of the message
            assert _read_with(proof_module._read_event, data + tail) == _read_with(_reference_event, data + tail)
    for data in infos:
        assert _read_with(proof_module._read_transaction_info, data + b"\x07") == _read_with(
            TransactionInfo.deserialize_general, data + b"\x07"
        )
    for data in listing.transactions:
        assert _read_with(proof_module._read_transaction, data + b"\x00") == _read_with(
            _reference_transaction, data + b"\x00"
        )
        assert proof_module.take_decoded_transaction(data) == transaction_from_bcs(data)
    mutated_inputs = [
        (proof_module._read_event, _reference_event, events[0]),
        (proof_module._read_transaction_info, TransactionInfo.deserialize_general, infos[-1]),
        (proof_module._read_transaction, _reference_transaction, listing.transactions[-1]),
    ]
    for fast, reference, data in mutated_inputs:
        for mutated in _mutations(data):
            for tail in (b"", b"\x00"):
                assert _read_with(fast, mutated + tail) == _read_with(reference, mutated + tail), mutated.hex()


def test_a_decoded_chunk_gives_its_transactions_to_split_blocks_once(ledgers) -> None:  # noqa: F811
    source, follower = ledgers
    response = _chunk(source, follower.db.next_version)  # decoded from its bytes in _chunk
    first = response.listing.transactions[0]
    decoded = decode_message(response.to_bcs())
    assert decoded == response
    blocks = split_blocks(follower.db.next_version, response.listing.transactions)
    assert blocks[0].metadata == transaction_from_bcs(first)
    assert proof_module.take_decoded_transaction(first) is None  # taken
    # without the decoded copies split_blocks decodes the bytes itself, to the same blocks
    assert split_blocks(follower.db.next_version, response.listing.transactions) == blocks
