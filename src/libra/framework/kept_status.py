"""Kept VM statuses: the framework's view (with explanations) and the stored form.

``KeptVMStatus`` (in ``TransactionInfo``) stores only a location and an abort code;
the framework's ``MoveAbortStatus`` adds the reason (name, category, description)
that Diem's JSON shows. These two functions convert between them, so execution
output goes into the store and comes back out as the same JSON.
"""

from __future__ import annotations

from libra.framework import aborts
from libra.framework.errors import (
    AbortReason,
    Executed,
    ExecutionFailure,
    KeptStatus,
    MiscellaneousError,
    MoveAbortStatus,
    OutOfGas,
)
from libra.types.ledger import (
    KEPT_EXECUTED,
    KEPT_EXECUTION_FAILURE,
    KEPT_MISCELLANEOUS_ERROR,
    KEPT_MOVE_ABORT,
    KEPT_OUT_OF_GAS,
    AbortLocation,
    KeptVMStatus,
)
from libra.types.move import CORE_CODE_ADDRESS, AccountAddress, ModuleId


def _index_abort_reasons() -> dict[tuple[str, int], AbortReason]:
    index: dict[tuple[str, int], AbortReason] = {}
    for table in vars(aborts).values():
        if not isinstance(table, type):
            continue
        for value in vars(table).values():
            if isinstance(value, AbortReason):
                index.setdefault((value.module, value.code), value)
    return index


_ABORT_REASONS = _index_abort_reasons()


def abort_reason(module: str, abort_code: int) -> AbortReason | None:
    """The framework's explanation of ``abort_code`` raised in ``0x1::module``, if it has one."""
    return _ABORT_REASONS.get((module, abort_code))


def location_text(location: AbortLocation) -> str:
    """Diem's ``AbortLocation`` display: ``<ADDRESS>::<Module>`` (address as 32 upper-case hex) or ``Script``."""
    if location.module is None:
        return "Script"
    return f"{location.module.address.hex().upper()}::{location.module.name}"


def kept_status(status: KeptVMStatus) -> KeptStatus:
    """The framework status of a stored ``KeptVMStatus`` (aborts in 0x1 get their explanation)."""
    if status.kind == KEPT_EXECUTED:
        return Executed()
    if status.kind == KEPT_OUT_OF_GAS:
        return OutOfGas()
    if status.kind == KEPT_MOVE_ABORT:
        assert status.location is not None
        module = status.location.module
        reason = None
        if module is not None and module.address == CORE_CODE_ADDRESS:
            reason = abort_reason(module.name, status.abort_code)
        return MoveAbortStatus(location_text(status.location), status.abort_code, reason)
    if status.kind == KEPT_EXECUTION_FAILURE:
        assert status.location is not None
        return ExecutionFailure(location_text(status.location), status.function, status.code_offset)
    return MiscellaneousError()



def _abort_location(location: str) -> AbortLocation:
    """``"<32 hex>::Module"`` names a module; anything else (``"Script"``) the script."""
    address, sep, module = location.partition("::")
    if not sep:
        return AbortLocation(None)
    return AbortLocation(ModuleId(AccountAddress.from_hex(address), module))


_KEPT_EXECUTED = KeptVMStatus(KEPT_EXECUTED)  # frozen: one instance serves every transaction
_KEPT_OUT_OF_GAS = KeptVMStatus(KEPT_OUT_OF_GAS)


def kept_vm_status(status: KeptStatus) -> KeptVMStatus:
    """The stored (TransactionInfo) form of a kept status."""
    if isinstance(status, Executed):
        return _KEPT_EXECUTED
    if isinstance(status, OutOfGas):
        return _KEPT_OUT_OF_GAS
    if isinstance(status, MoveAbortStatus):
        return KeptVMStatus(KEPT_MOVE_ABORT, _abort_location(status.location), abort_code=status.abort_code)
    if isinstance(status, ExecutionFailure):
        return KeptVMStatus(
            KEPT_EXECUTION_FAILURE,
            _abort_location(status.location),
            function=status.function_index,
            code_offset=status.code_offset,
        )
    return KeptVMStatus(KEPT_MISCELLANEOUS_ERROR)


