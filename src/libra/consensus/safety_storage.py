"""Durable storage of :class:`~libra.types.consensus.SafetyData`, the safety rules' only state.

A ``SafetyStorage`` must make ``store`` durable before it returns: safety rules
call it before a vote or timeout signature leaves them, so that a crash at any
instant can never let the node sign a second, different vote for a round.

:class:`FileSafetyStorage` writes ``path.tmp``, flushes, fsyncs the file, renames
it over ``path`` (atomic on POSIX) and fsyncs the directory, so the file always
holds either the old or the new data, never a torn mix. :class:`InMemorySafetyStorage`
is its twin for simulations; a "crash" there is simply keeping the object.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from libra.bcs import BcsError
from libra.consensus.errors import StorageError
from libra.types.consensus import SafetyData


class SafetyStorage(Protocol):
    """Where safety rules keep their data; ``store`` is durable when it returns."""

    def load(self) -> SafetyData | None:
        """The last stored data, or None if nothing was ever stored."""
        ...

    def store(self, data: SafetyData) -> None:
        """Replace the stored data durably."""
        ...


class InMemorySafetyStorage:
    """Safety data kept in memory (tests and the Twins simulator)."""

    def __init__(self, data: SafetyData | None = None) -> None:
        self._data = data
        self.writes = 0

    def load(self) -> SafetyData | None:
        return self._data

    def store(self, data: SafetyData) -> None:
        self._data = data
        self.writes += 1


class FileSafetyStorage:
    """Safety data in one file, replaced atomically and fsync'd (file and directory)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._temporary = self.path.with_name(self.path.name + ".tmp")

    def load(self) -> SafetyData | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"cannot read safety data {self.path}: {exc.strerror}") from None
        try:
            return SafetyData.from_bcs(raw)
        except BcsError as exc:
            raise StorageError(f"safety data {self.path} is corrupt: {exc}") from None

    def store(self, data: SafetyData) -> None:
        payload = data.to_bcs()
        try:
            with open(self._temporary, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(self._temporary, self.path)
            _fsync_directory(self.path.parent)
        except OSError as exc:
            raise StorageError(f"cannot write safety data {self.path}: {exc.strerror}") from None


def _fsync_directory(directory: Path) -> None:
    """Make a rename inside ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
