"""The storage layer's one error type."""

from __future__ import annotations


class StorageError(Exception):
    """A read or write the store cannot serve, or a store that fails its integrity checks."""
