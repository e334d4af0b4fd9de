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

After each commit, :meth:`BlockState.account_blobs` gives the new blob of every account
the transaction wrote (the state its version commits), built from the encoded entries
each account keeps. :meth:`BlockState.apply_raw` merges a version's writes given as
bytes instead (state sync applying a peer's outputs, genesis) and gives the same blobs. :class:`DecodedAccounts` carries decoded accounts from one block to
the next, found by their blob's bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import islice
from typing import Any, Protocol, TypeVar

from libra.bcs import Deserializer, encode_uleb128
from libra.framework.codec import EventHandle, MoveStruct
from libra.framework.events import EventData
from libra.framework.resources import ResourceKind
from libra.types.move import AccountAddress
from libra.types.write_set import AccessPath, ContractEvent, EventKey, RawWrite, WriteOp, WriteSet

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


# encoded keys of the few resource paths there are (bounded in case of odd paths)
_ENCODED_KEYS: dict[bytes, bytes] = {}


def _encoded_key(path: bytes) -> bytes:
    """A resource path as its map key is encoded: ULEB128 length ‖ path."""
    encoded = _ENCODED_KEYS.get(path)
    if encoded is None:
        encoded = _uleb(len(path)) + path
        if len(_ENCODED_KEYS) < 4096:
            _ENCODED_KEYS[path] = encoded
    return encoded


def _map_entry(path: bytes, data: bytes) -> bytes:
    """One ``path -> bytes`` entry of the blob map, as encoded."""
    return b"".join((_encoded_key(path), _uleb(len(data)), data))


_NOT_ENCODED: Any = object()
_UNREAD: Any = object()


class _Account:
    """One account inside a block: its resources and what was derived from them.

    ``resources`` is the truth (``path -> bytes``). The rest is derived and kept in step:
    ``decoded`` holds each resource read or written with its value (None: absent; a raw
    write drops the resource from it, to be decoded when read), ``entries`` each
    resource's encoded map entry, ``order`` the paths in encoded-key order (None after a
    resource is added or removed), ``blob`` the encoding of ``resources`` once computed.
    A ``shared`` account (remembered by :class:`DecodedAccounts`) is never written: a
    block writes to its own copy.
    """

    __slots__ = ("resources", "decoded", "entries", "order", "blob", "shared")

    def __init__(
        self,
        resources: dict[bytes, bytes],
        decoded: dict[bytes, MoveStruct | None] | None = None,
        entries: dict[bytes, bytes] | None = None,
        order: list[bytes] | None = None,
    ) -> None:
        self.resources = resources
        self.decoded: dict[bytes, MoveStruct | None] = decoded if decoded is not None else {}
        self.entries = entries
        self.order = order
        self.blob: bytes | None = _NOT_ENCODED
        self.shared = False

    def copy(self) -> _Account:
        """An independent, unshared copy (decoded resources are frozen and stay shared, and so
        does ``order``: it is replaced, never changed in place)."""
        copy = _Account.__new__(_Account)
        copy.resources = dict(self.resources)
        copy.decoded = dict(self.decoded)
        entries = self.entries
        copy.entries = dict(entries) if entries is not None else None
        copy.order = self.order
        copy.blob = self.blob
        copy.shared = False
        return copy

    def write(self, path: bytes, data: bytes | None, value: MoveStruct | None = _UNREAD) -> None:
        """Set (or, with ``data`` None, delete) one resource. ``value`` is ``data`` decoded;
        without it (a raw write) the resource is decoded when it is first read."""
        assert not self.shared, "a shared account is copied before it is written"
        resources, entries = self.resources, self.entries
        if data is None:
            if resources.pop(path, None) is not None:
                self.order = None
            if entries is not None:
                entries.pop(path, None)
            self.decoded[path] = None
        else:
            if path not in resources:
                self.order = None
            resources[path] = data
            if entries is not None:
                entries[path] = _map_entry(path, data)
            if value is _UNREAD:
                self.decoded.pop(path, None)  # what was decoded before is stale
            else:
                self.decoded[path] = value
        self.blob = _NOT_ENCODED

    def encode(self) -> bytes | None:
        """The account blob of ``resources`` (None when there are none); equal to
        :func:`encode_account_blob` of them, built from the entries kept so far."""
        blob = self.blob
        if blob is _NOT_ENCODED:
            resources = self.resources
            if not resources:
                blob = None
            else:
                entries = self.entries
                if entries is None:
                    entries = self.entries = {path: _map_entry(path, data) for path, data in resources.items()}
                order = self.order
                if order is None:
                    order = self.order = sorted(resources, key=_encoded_key)
                blob = _uleb(len(order)) + b"".join(map(entries.__getitem__, order))
            self.blob = blob
        return blob


def account_of_resources(resources: dict[bytes, bytes]) -> _Account:
    """The account of ``resources`` (``path -> bytes``, e.g. read from a blob), as
    :class:`BlockState` holds one: for caches of decoded accounts filled from elsewhere."""
    return _Account(resources)


class DecodedAccounts:
    """Accounts decoded in earlier blocks, found again by their blob's bytes.

    Decoding is a pure function of the bytes, so an account found here is exactly what
    decoding its blob (and each resource read from it) would give; resources are frozen
    and the accounts ``shared``: a block copies one before writing to it. A block adds the
    final state of each account it wrote (:meth:`BlockState.changed_blobs`), in place of the
    state it added before for the same address: the next block reads those very blobs and
    decodes nothing. Blocks executed and blocks applied from raw writes (state sync,
    :meth:`BlockState.apply_raw`) add the same kind of account; a node keeps one instance
    (its ledger's). Beyond ``capacity`` accounts the oldest go (about 4 KB each).
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._accounts: dict[bytes, _Account] = {}  # blob -> account
        self._latest: dict[bytes, bytes] = {}  # address -> the blob last added for it

    def __len__(self) -> int:
        return len(self._accounts)

    def get(self, blob: bytes) -> _Account | None:
        """The (shared) account decoded from ``blob``, or None if not remembered."""
        return self._accounts.get(blob)

    def put(self, address: bytes, blob: bytes, account: _Account) -> None:
        """Remember ``account`` of ``address``, whose resources encode to ``blob``; it becomes shared."""
        account.shared = True
        accounts, latest = self._accounts, self._latest
        previous = latest.pop(address, None)
        if previous is not None:
            accounts.pop(previous, None)
        accounts.pop(blob, None)
        accounts[blob] = account
        latest[address] = blob
        if len(accounts) > self.capacity:  # drop the oldest quarter at once (dicts keep insertion order)
            for oldest in list(islice(accounts, len(accounts) - self.capacity * 3 // 4)):
                accounts.pop(oldest, None)
            for stale in list(islice(latest, len(latest) - self.capacity * 3 // 4)):
                latest.pop(stale, None)


# AccessPath values are immutable: the few paths of busy accounts are made once (by key
# ``address bytes ‖ path``), not again in every write set. Cleared when it grows too large.
_ACCESS_PATHS: dict[bytes, AccessPath] = {}
_ACCESS_PATHS_CAP = 65_536


def _access_path(key: bytes, address: AccountAddress, path: bytes) -> AccessPath:
    access_path = _ACCESS_PATHS.get(key)
    if access_path is None:
        if len(_ACCESS_PATHS) >= _ACCESS_PATHS_CAP:
            _ACCESS_PATHS.clear()
        access_path = _ACCESS_PATHS[key] = AccessPath(address, path)
    return access_path


class BlockState:
    """Decoded state of the accounts a block touches, with committed transactions merged in.

    ``cache``, when given, supplies accounts decoded by earlier blocks and receives the
    accounts this block wrote (see :class:`DecodedAccounts`).
    """

    def __init__(self, view: StateView, *, cache: DecodedAccounts | None = None) -> None:
        self._view = view
        self._cache = cache
        self._accounts: dict[bytes, _Account] = {}  # key: address bytes
        self._dirty: dict[bytes, AccountAddress] = {}

    def account_count(self) -> int:
        """How many accounts were read (or written) so far."""
        return len(self._accounts)

    def _account(self, address: AccountAddress) -> _Account:
        account = self._accounts.get(address.value)
        if account is None:
            account = self._load(address)
        return account

    def _writable(self, address: AccountAddress) -> _Account:
        account = self._account(address)
        if account.shared:
            account = self._accounts[address.value] = account.copy()
        return account

    def _load(self, address: AccountAddress) -> _Account:
        blob = self._view.get_account_blob(address)
        account = None
        if blob is None:
            account = _Account({})
        elif self._cache is not None:
            account = self._cache.get(blob)
        if account is None:
            account = _Account(decode_account_blob(blob))  # type: ignore[arg-type]
        self._accounts[address.value] = account
        return account

    def raw_account(self, address: AccountAddress) -> dict[bytes, bytes]:
        """``path -> bytes`` of an account (empty when it has no state); read only."""
        return self._account(address).resources

    def read(self, address: AccountAddress, kind: ResourceKind[R]) -> R | None:
        account = self._accounts.get(address.value) or self._load(address)
        path = kind.path
        try:
            return account.decoded[path]  # type: ignore[return-value]
        except KeyError:
            data = account.resources.get(path)
            value = kind.decode(data) if data is not None else None
            account.decoded[path] = value
            return value

    def commit(self, txn: TxnState) -> WriteSet:
        """Merge a finished transaction; returns its write set in (address, path) order."""
        entries = []
        dirty = self._dirty
        for key, (address, path, value) in sorted(txn.writes.items()):
            data = value.to_bcs() if value is not None else None
            self._writable(address).write(path, data, value)
            dirty[address.value] = address
            entries.append((_access_path(key, address, path), WriteOp(data)))
        return WriteSet(tuple(entries))

    def apply_raw(self, writes: Iterable[RawWrite]) -> dict[bytes, bytes | None]:
        """Merge one version's writes as bytes, not executed here (state sync applies a peer's
        proven outputs, genesis its write set): (address bytes, path, value or None), each
        value decoded only if it is read. Returns the blob, as of now, of each account they
        touch (None when it has no resources left), in address order, as
        :meth:`account_blobs` does for a committed transaction."""
        dirty = self._dirty
        touched: dict[bytes, _Account] = {}
        for address, path, data in writes:
            account = touched.get(address)
            if account is None:
                key = dirty.get(address) or AccountAddress(address)
                account = touched[address] = self._writable(key)
                dirty[address] = key
            account.write(path, data)
        return {address: touched[address].encode() for address in sorted(touched)}

    def account_blobs(self, write_set: WriteSet) -> dict[bytes, bytes | None]:
        """The blob, as of now, of each account ``write_set`` touched (address bytes -> blob,
        None when it has no resources left), in address order: a version's changed blobs."""
        out: dict[bytes, bytes | None] = {}
        for access_path, _ in write_set.entries:
            address = access_path.address.value
            if address not in out:
                out[address] = self._accounts[address].encode()
        return out

    def changed_blobs(self) -> dict[AccountAddress, bytes | None]:
        """New blob of every account written in this block (None: no resources left)."""
        out: dict[AccountAddress, bytes | None] = {}
        accounts, dirty = self._accounts, self._dirty
        put = self._cache.put if self._cache is not None else None
        for key in sorted(dirty):
            account = accounts[key]
            blob = account.encode()
            out[dirty[key]] = blob
            if put is not None and blob is not None:
                put(key, blob, account)
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
        # BlockState.read, without a second call for resources already decoded
        block = self.block
        account = block._accounts.get(address.value)
        if account is not None:
            decoded = account.decoded.get(kind.path, _UNREAD)
            if decoded is not _UNREAD:
                return decoded  # type: ignore[no-any-return]
        return block.read(address, kind)

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
