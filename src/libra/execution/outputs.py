"""What executing a block gives: one output per transaction and the changed blobs.

The same classes carry the outputs of the Python framework and of the native core
(``libra.execution.native_block``), which give byte-identical results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from libra.framework.errors import KeptStatus, StatusCode, vm_status_json
from libra.framework.events import NewEpochEvent
from libra.framework.state import BlockState
from libra.framework.vm import TransactionOutcome
from libra.types.move import AccountAddress
from libra.types.write_set import ContractEvent, WriteSet

RETRY = "RETRY"


@dataclass(frozen=True, slots=True)
class Discarded:
    """Not committed: nothing changed, not even the sequence number."""

    status_code: str


TransactionStatus = KeptStatus | Discarded


class TransactionOutput:
    """What one transaction did: its write set, events, gas used and status, and
    ``account_blobs``, the blob of each account the write set touched after this transaction
    (address bytes -> blob, None when no resources are left; address order): the state this
    transaction's version commits. Read only.

    An output of the native core keeps the core's ``NativeOutput`` (``native``), which holds
    the write set and events as BCS (``write_set_bytes``; ``event_records``: ``(key,
    sequence number, ContractEvent BCS)`` each) for the ledger to store as they are;
    ``write_set``, ``events`` and ``account_blobs`` are made from it when first read.
    Outputs of the Python framework have ``native`` None.
    """

    __slots__ = ("_write_set", "_events", "gas_used", "status", "_account_blobs", "native")

    _write_set: WriteSet | None
    _events: tuple[ContractEvent, ...] | None
    gas_used: int
    status: TransactionStatus
    _account_blobs: Mapping[bytes, bytes | None] | None
    native: Any

    def __init__(
        self,
        write_set: WriteSet,
        events: tuple[ContractEvent, ...],
        gas_used: int,
        status: TransactionStatus,
        account_blobs: Mapping[bytes, bytes | None] | None = None,
    ) -> None:
        self._write_set = write_set
        self._events = events
        self.gas_used = gas_used
        self.status = status
        self._account_blobs = account_blobs if account_blobs is not None else {}
        self.native = None

    @classmethod
    def from_native(cls, native: Any, gas_used: int, status: TransactionStatus) -> TransactionOutput:
        """The output of a transaction the native core ran (``native``: its ``NativeOutput``)."""
        output = cls.__new__(cls)
        output._write_set = None
        output._events = None
        output.gas_used = gas_used
        output.status = status
        output._account_blobs = None
        output.native = native
        return output

    @property
    def account_blobs(self) -> Mapping[bytes, bytes | None]:
        blobs = self._account_blobs
        if blobs is None:
            blobs = self._account_blobs = self.native.blobs()
        return blobs

    @property
    def write_set_bytes(self) -> bytes | None:
        """The write set's BCS as the native core made it (None for the framework's outputs)."""
        native = self.native
        return native.write_set_bytes() if native is not None else None

    @property
    def event_records(self) -> tuple[tuple[bytes, int, bytes], ...] | None:
        """``(key, sequence number, ContractEvent BCS)`` of each event as the native core made
        them (None for the framework's outputs)."""
        native = self.native
        return native.events() if native is not None else None

    @property
    def write_set(self) -> WriteSet:
        write_set = self._write_set
        if write_set is None:
            write_set = self._write_set = WriteSet.from_bcs(self.native.write_set_bytes())
        return write_set

    @property
    def events(self) -> tuple[ContractEvent, ...]:
        events = self._events
        if events is None:
            events = self._events = tuple(ContractEvent.from_bcs(data) for _, _, data in self.native.events())
        return events

    @property
    def is_discarded(self) -> bool:
        return isinstance(self.status, Discarded)

    def vm_status_json(self) -> dict[str, Any]:
        """Diem's ``vm_status`` JSON (kept transactions only)."""
        if isinstance(self.status, Discarded):
            raise ValueError(f"discarded transaction has no VM status ({self.status.status_code})")
        return vm_status_json(self.status)

    def _fields(self) -> tuple[object, ...]:
        return (self.write_set, self.events, self.gas_used, self.status, dict(self.account_blobs))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TransactionOutput):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"TransactionOutput(write_set={self.write_set!r}, events={self.events!r}, gas_used={self.gas_used!r}, "
            f"status={self.status!r}, account_blobs={dict(self.account_blobs)!r})"
        )


@dataclass(frozen=True, slots=True)
class BlockOutput:
    """``metadata_output`` is None without block metadata; ``transaction_outputs`` match the input order."""

    metadata_output: TransactionOutput | None
    transaction_outputs: tuple[TransactionOutput, ...]
    changed_blobs: dict[AccountAddress, bytes | None]
    reconfiguration: bool


def to_output(outcome: TransactionOutcome, block: BlockState) -> TransactionOutput:
    """The output of a transaction ``block`` has just committed (its blobs are read from ``block``)."""
    if isinstance(outcome.status, StatusCode):
        return TransactionOutput(outcome.write_set, outcome.events, outcome.gas_used, Discarded(outcome.status.value))
    return TransactionOutput(
        outcome.write_set, outcome.events, outcome.gas_used, outcome.status, block.account_blobs(outcome.write_set)
    )


_NEW_EPOCH_NAME = NewEpochEvent.TYPE_TAG.name


def is_reconfiguration(events: tuple[ContractEvent, ...]) -> bool:
    """Whether a ``NewEpochEvent`` was emitted (its name is compared first, the whole tag if it matches)."""
    for event in events:
        tag = event.type_tag
        if getattr(tag, "name", None) == _NEW_EPOCH_NAME and tag == NewEpochEvent.TYPE_TAG:
            return True
    return False
