"""Signed transactions whose signatures this node has already checked, by their exact bytes.

A signature's validity is a pure function of the signed transaction's bytes, so bytes
that passed once (at admission, from a client or a peer) pass again: a proposal that
carries them needs neither a second decode nor a second signature check. Validity
never depends on this cache; a miss only costs the check. Shared between the event
loop (admission) and the consensus thread (execution), hence the lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from libra.types.transaction import SignedTransaction

DEFAULT_CAPACITY = 40_000  # decoded transactions are ~2 KB each: tens of MB at most


class VerifiedTransactions:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self._capacity = capacity
        self._items: OrderedDict[bytes, SignedTransaction] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def remember(self, data: bytes, txn: SignedTransaction) -> None:
        """Record that ``data`` (decoded as ``txn``) carries a valid signature; oldest entries go first."""
        with self._lock:
            self._items[data] = txn
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def lookup(self, data: bytes) -> SignedTransaction | None:
        """The decoded transaction if ``data`` was verified here, else None."""
        with self._lock:
            return self._items.get(data)
