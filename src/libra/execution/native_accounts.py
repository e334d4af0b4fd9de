"""Decoded accounts kept from block to block when the native core executes payments.

The native core keeps its own decoded accounts (``libra._core.AccountCache``, found by
address and exact blob). A node keeps one :class:`NativeDecodedAccounts`: the framework's
:class:`DecodedAccounts` (read by the Python transactions of a block, by state sync and by
mempool admission) backed by that native cache, so an account a native block wrote is found
by its blob there too, made on first use from the native cache's resources instead of
decoding the blob again. Any other ``DecodedAccounts`` given to ``execute_block`` gets a
native cache of its own, and the accounts each block wrote are added to it as the Python
path adds them.
"""

from __future__ import annotations

import weakref
from types import ModuleType
from typing import Any

from libra import native
from libra.framework.state import DecodedAccounts, account_of_resources, decode_account_blob

CORE = native.CORE
NATIVE_CAPACITY = 50_000


class NativeDecodedAccounts(DecodedAccounts):
    """A :class:`DecodedAccounts` that also finds the accounts native blocks left (see the
    module docstring); ``native`` is the core's cache the ledger's blocks share."""

    def __init__(self, capacity: int = 10_000, native_capacity: int = NATIVE_CAPACITY) -> None:
        super().__init__(capacity)
        assert CORE is not None, "the native core is off (LIBRA_CORE=python)"
        self.native: Any = CORE.AccountCache(native_capacity)

    def get(self, blob: bytes) -> Any:
        account = super().get(blob)
        if account is None:
            found = self.native.find_blob(blob)
            if found is not None:
                address, resources = found
                account = account_of_resources(dict(resources))
                self.put(address, blob, account)
        return account


def new_decoded_accounts() -> DecodedAccounts:
    """The decoded-accounts cache a node keeps: native-backed when the core is on."""
    return NativeDecodedAccounts() if CORE is not None else DecodedAccounts()


_SIDE_CACHES: weakref.WeakKeyDictionary[DecodedAccounts, Any] = weakref.WeakKeyDictionary()


def native_cache_of(cache: DecodedAccounts | None, core: ModuleType) -> Any:
    """The native account cache to execute a block with: ``cache``'s own, one kept beside
    ``cache`` for its lifetime, or a fresh one for this block alone (no cache)."""
    if isinstance(cache, NativeDecodedAccounts):
        return cache.native
    if cache is None:
        return core.AccountCache(NATIVE_CAPACITY)
    side = _SIDE_CACHES.get(cache)
    if side is None:
        side = _SIDE_CACHES[cache] = core.AccountCache(NATIVE_CAPACITY)
    return side


def remember_changed(cache: DecodedAccounts | None, addresses: list[bytes], blobs: list[bytes | None]) -> None:
    """Add the accounts a block wrote (``addresses[i]`` now has ``blobs[i]``) to a plain
    ``cache`` (a :class:`NativeDecodedAccounts` finds them in its native cache when asked)."""
    if cache is None or isinstance(cache, NativeDecodedAccounts):
        return
    for address, blob in zip(addresses, blobs, strict=True):
        if blob is not None:
            cache.put(address, blob, account_of_resources(decode_account_blob(blob)))
