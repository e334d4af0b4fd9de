"""Account state: blobs, the per-block decoded cache and the per-transaction overlay.

Layout of one account (Diem's ``AccountStateBlob``)::

    blob = BCS( map<bytes, bytes> )          entries sorted by encoded key
           key   = 0x01 ‖ BCS(StructTag)     (resource path)
           value = BCS(resource struct)

Reading works in three layers:

* :class:`StateView` — the committed blobs (storage, or :class:`InMemoryStateView`);
* :class:`BlockState` — each account's blob decoded once per block into
  ``path -> bytes``, each resource decoded once into its dataclass; committed
  transactions of the block are merged here;
* :class:`TxnState` — one transaction's writes and events. :meth:`BlockState.commit`
  merges it (encoding each changed resource once, producing the sorted write
  set); an aborted transaction's overlay is simply dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TypeVar

from libra.bcs import Deserializer, encode_uleb128
from libra.framework.codec import EventHandle, MoveStruct
from libra.framework.events import EventData
from libra.framework.resources import ResourceKind
from libra.types.move import AccountAddress
from libra.types.write_set import AccessPath, ContractEvent, EventKey, WriteOp, WriteSet

R = TypeVar("R", bound=MoveStruct)


class StateView(Protocol):
    """Read access to committed account blobs."""

    def get_account_blob(self, address: AccountAddress) -> bytes | None: ...


class InMemoryStateView:
    """A dict of blobs: the in-memory twin of storage for tests, genesis and tools."""

    def __init__(self, blobs: Mapping[AccountAddress, bytes] | None = None) -> None:
        self.blobs: dict[AccountAddress, bytes] = dict(blobs or {})

    def get_account_blob(self, address: AccountAddress) -> bytes | None:
        return self.blobs.get(address)

    def apply(self, changed: Mapping[AccountAddress, bytes | None]) -> None:
        """Install a block's changed blobs (None deletes the account's state)."""
        for address, blob in changed.items():
            if blob is None:
                self.blobs.pop(address, None)
            else:
                self.blobs[address] = blob

    def copy(self) -> InMemoryStateView:
        return InMemoryStateView(self.blobs)


_ULEB_SMALL = tuple(bytes((n,)) for n in range(0x80))


def _uleb(value: int) -> bytes:
    """ULEB128 of a length (one byte below 128, the usual case)."""
    return _ULEB_SMALL[value] if value < 0x80 else encode_uleb128(value)


def encode_account_blob(resources: Mapping[bytes, bytes]) -> bytes:
    """BCS ``map<bytes, bytes>``: keys in the order of their encodings.

    Byte-identical to ``Serializer.map(..., Serializer.bytes, Serializer.bytes)``, built
    with one join (distinct keys have distinct encodings, so no duplicate check is needed).
    """
    encoded = sorted([(_uleb(len(key)) + key, value) for key, value in resources.items()])
    parts = [_uleb(len(encoded))]
    for key, value in encoded:
        parts += (key, _uleb(len(value)), value)
    return b"".join(parts)


def _decode_account_blob_strict(blob: bytes) -> dict[bytes, bytes]:
    deserializer = Deserializer(blob)
    entries = deserializer.map(lambda d: d.bytes(), lambda d: d.bytes(), "account state")
    deserializer.finish()
    return dict(entries)


def _decode_account_blob_fast(blob: bytes) -> dict[bytes, bytes] | None:
    """The common shape (fewer than 128 entries, keys under 128 bytes, values under
    16 KiB), canonical and in key order; None for anything else, which the strict
    decoder then accepts or refuses with its precise error."""
    end = len(blob)
    if not end or blob[0] >= 0x80:
        return None
    out: dict[bytes, bytes] = {}
    previous = b""
    pos = 1
    for _ in range(blob[0]):
        if pos >= end or blob[pos] >= 0x80:
            return None
        key_end = pos + 1 + blob[pos]
        encoded_key = blob[pos:key_end]
        if key_end >= end or encoded_key <= previous:
            return None
        previous = encoded_key
        first = blob[key_end]
        if first < 0x80:
            start = key_end + 1
            size = first
        else:
            if key_end + 1 >= end:
                return None
            second = blob[key_end + 1]
            if second == 0 or second >= 0x80:
                return None
            start = key_end + 2
            size = (first & 0x7F) | (second << 7)
        pos = start + size
        if pos > end:
            return None
        out[encoded_key[1:]] = blob[start:pos]
    return out if pos == end else None


def decode_account_blob(blob: bytes) -> dict[bytes, bytes]:
    """``path -> bytes`` of an account blob; strict BCS (``BcsError`` on anything non-canonical)."""
    fast = _decode_account_blob_fast(blob)
    return fast if fast is not None else _decode_account_blob_strict(blob)


# A pending write: (address, resource path, new value or None for a deletion), keyed by
# ``address bytes ‖ path`` so that sorting the keys gives Diem's (address, path) order.
_Write = tuple[AccountAddress, bytes, MoveStruct | None]


class BlockState:
    """Decoded state of the accounts a block touches, with committed transactions merged in."""

    def __init__(self, view: StateView, *, keep_initial: bool = False) -> None:
        self._view = view
        self._raw: dict[AccountAddress, dict[bytes, bytes]] = {}
        # with keep_initial: each account's resources as first read, before the block changed them
        self._initial: dict[AccountAddress, dict[bytes, bytes]] | None = {} if keep_initial else None
        self._decoded: dict[bytes, MoveStruct | None] = {}  # key: address bytes ‖ path
        self._dirty: set[AccountAddress] = set()

    def account_count(self) -> int:
        """How many accounts were read (or written) so far."""
        return len(self._raw)

    def raw_account(self, address: AccountAddress) -> dict[bytes, bytes]:
        """``path -> bytes`` of an account (empty when it has no state)."""
        raw = self._raw.get(address)
        if raw is None:
            blob = self._view.get_account_blob(address)
            raw = decode_account_blob(blob) if blob is not None else {}
            self._raw[address] = raw
            if self._initial is not None:
                self._initial[address] = dict(raw)
        return raw

    def initial_accounts(self) -> dict[AccountAddress, dict[bytes, bytes]]:
        """Resources of every account read, as they were before this block (``keep_initial`` only)."""
        return dict(self._initial) if self._initial is not None else {}

    def read(self, address: AccountAddress, kind: ResourceKind[R]) -> R | None:
        key = address.value + kind.path
        try:
            return self._decoded[key]  # type: ignore[return-value]
        except KeyError:
            data = self.raw_account(address).get(kind.path)
            value = kind.decode(data) if data is not None else None
            self._decoded[key] = value
            return value

    def commit(self, txn: TxnState) -> WriteSet:
        """Merge a finished transaction; returns its write set in (address, path) order."""
        entries = []
        for _key, (address, path, value) in sorted(txn.writes.items()):
            raw = self.raw_account(address)
            if value is None:
                raw.pop(path, None)
                op = WriteOp(None)
            else:
                data = value.to_bcs()
                raw[path] = data
                op = WriteOp(data)
            self._decoded[_key] = value
            self._dirty.add(address)
            entries.append((AccessPath(address, path), op))
        return WriteSet(tuple(entries))

    def changed_blobs(self) -> dict[AccountAddress, bytes | None]:
        """New blob of every account written in this block (None: no resources left)."""
        out: dict[AccountAddress, bytes | None] = {}
        for address in sorted(self._dirty):
            raw = self._raw[address]
            out[address] = encode_account_blob(raw) if raw else None
        return out


class TxnState:
    """One transaction's view: reads fall through to the block, writes and events stay here."""

    __slots__ = ("block", "writes", "events")

    def __init__(self, block: BlockState) -> None:
        self.block = block
        self.writes: dict[bytes, _Write] = {}
        self.events: list[ContractEvent] = []

    def get(self, address: AccountAddress, kind: ResourceKind[R]) -> R | None:
        write = self.writes.get(address.value + kind.path)
        if write is not None:
            return write[2]  # type: ignore[return-value]
        return self.block.read(address, kind)

    def exists(self, address: AccountAddress, kind: ResourceKind[Any]) -> bool:
        return self.get(address, kind) is not None

    def put(self, address: AccountAddress, kind: ResourceKind[R], value: R) -> None:
        self.writes[address.value + kind.path] = (address, kind.path, value)

    def remove(self, address: AccountAddress, kind: ResourceKind[Any]) -> None:
        self.writes[address.value + kind.path] = (address, kind.path, None)

    def emit(self, handle: EventHandle, data: EventData) -> EventHandle:
        """Append an event on ``handle``; returns the handle with its counter advanced."""
        self.events.append(ContractEvent(EventKey(handle.guid), handle.counter, data.TYPE_TAG, data.to_bcs()))
        return EventHandle(handle.counter + 1, handle.guid)

    def written_addresses(self) -> Iterable[AccountAddress]:
        return {address for address, _, _ in self.writes.values()}
