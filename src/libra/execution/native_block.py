"""Blocks whose common payments run in the native core, the rest in the framework.

The common payment is ``0x1::PaymentScripts::peer_to_peer_with_metadata<C>`` as a script
function or as the equivalent Move script, signed by one Ed25519 key. The native core
(``libra._core.NativeBlock``, ``core/engine/src/execution/``) runs those exactly as the
framework does (prologue, payload, epilogue; write set, events, gas, status, each version's
blobs) and declines, transaction by transaction, whatever it does not port: the travel rule
and metadata signatures, resources that do not decode, overflows. Every other transaction,
every declined payment and the block prologue run in the framework's ``BlockState``, in
order, on the same state:

* the native block holds the block's accounts; the framework's state reads them through it
  (:class:`_NativeOverlay`), so it sees every native write made before it first reads an
  account, and is handed the native writes to accounts it already read before each of its
  transactions (``take_sync``);
* what a framework transaction wrote is handed to the native block as the blobs of its
  output (``import_blobs``).

Runs of native transactions release the GIL. The outputs are byte-identical to the
framework's (``tests/unit/native/test_execution_diff.py``); native outputs carry their
write set and events as BCS, decoded only if read (:class:`TransactionOutput`).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from libra import native as native_switch
from libra.execution.native_accounts import native_cache_of, remember_changed
from libra.execution.outputs import (
    RETRY,
    BlockOutput,
    Discarded,
    TransactionOutput,
    TransactionStatus,
    is_reconfiguration,
    to_output,
)
from libra.framework import vm
from libra.framework.aborts import AccountFreezingAborts, DiemAborts, DiemAccountAborts
from libra.framework.errors import (
    EXECUTED,
    AbortReason,
    MiscellaneousError,
    MoveAbortStatus,
    OutOfGas,
    StatusCode,
)
from libra.framework.scripts import script_name
from libra.framework.state import BlockState, DecodedAccounts, StateView
from libra.framework.vm import execute_block_metadata, execute_user_transaction
from libra.types.move import CORE_CODE_ADDRESS, AccountAddress
from libra.types.transaction import (
    BlockMetadata,
    Ed25519Authenticator,
    Script,
    ScriptFunction,
    SignedTransaction,
)
from libra.types.write_set import WriteSet

CORE = native_switch.CORE
PAYMENT_FUNCTION = "peer_to_peer_with_metadata"
EMPTY_WRITE_SET = WriteSet(())

# The framework's reason for each abort the native payment can give (by the constant's name).
NATIVE_ABORTS: dict[str, AbortReason] = {
    "EWITHDRAW_CAPABILITY_ALREADY_EXTRACTED": DiemAccountAborts.EWITHDRAW_CAPABILITY_ALREADY_EXTRACTED,
    "EPAYER_DOESNT_HOLD_CURRENCY": DiemAccountAborts.EPAYER_DOESNT_HOLD_CURRENCY,
    "ECURRENCY_INFO": DiemAborts.ECURRENCY_INFO,
    "EACCOUNT_FROZEN": AccountFreezingAborts.EACCOUNT_FROZEN,
    "EINSUFFICIENT_BALANCE": DiemAccountAborts.EINSUFFICIENT_BALANCE,
    "ECOIN_DEPOSIT_IS_ZERO": DiemAccountAborts.ECOIN_DEPOSIT_IS_ZERO,
    "EPAYEE_DOES_NOT_EXIST": DiemAccountAborts.EPAYEE_DOES_NOT_EXIST,
    "EPAYEE_CANT_ACCEPT_CURRENCY_TYPE": DiemAccountAborts.EPAYEE_CANT_ACCEPT_CURRENCY_TYPE,
    "ECOIN_LIMIT": DiemAborts.ECOIN_LIMIT,
    "PROLOGUE_ECANT_PAY_GAS_DEPOSIT": vm.ECANT_PAY_GAS_DEPOSIT,
}


class NativeMismatch(RuntimeError):
    """The native core's table of statuses does not match the framework's (a build of the
    core from other sources): the native path must not run."""


def _status_object(kind: str, name: str, module: str, code: int) -> TransactionStatus:
    if kind == "executed":
        return EXECUTED
    if kind == "out_of_gas":
        return OutOfGas()
    if kind == "miscellaneous_error":
        return MiscellaneousError(StatusCode(name).value)
    if kind == "discarded":
        return Discarded(StatusCode(name).value)
    reason = NATIVE_ABORTS.get(name)
    if kind != "move_abort" or reason is None or (reason.module, reason.code) != (module, code):
        raise NativeMismatch(f"native status {kind} {module}::{name} ({code}) is not the framework's")
    return MoveAbortStatus(f"{CORE_CODE_ADDRESS.hex()}::{reason.module}", reason.code, reason)


_STATUSES: dict[int, tuple[TransactionStatus, ...]] = {}


def statuses(core: ModuleType) -> tuple[TransactionStatus, ...]:
    """The framework's status for each native status index of ``core``."""
    known = _STATUSES.get(id(core))
    if known is None:
        known = _STATUSES[id(core)] = tuple(_status_object(*entry) for entry in core.execution_statuses())
    return known


def core_for(native: bool | None) -> ModuleType | None:
    """The native core to execute with: the process's choice (``LIBRA_CORE``) for None, none
    for False, and for True the core even when ``LIBRA_CORE=python`` (a differential test)."""
    if native is None or CORE is not None:
        return CORE if native is not False else None
    if not native:
        return None
    from libra import _core

    return _core


def is_common_payment(txn: SignedTransaction) -> bool:
    """Whether the native core may run ``txn`` (it decides for good from the bytes)."""
    if type(txn.authenticator) is not Ed25519Authenticator:
        return False
    payload = txn.raw_txn.payload
    kind = type(payload)
    if kind is ScriptFunction:
        return payload.function == PAYMENT_FUNCTION  # type: ignore[union-attr]
    if kind is Script:
        return script_name(payload.code) == PAYMENT_FUNCTION  # type: ignore[union-attr]
    return False


def payment_encodings(
    transactions: Sequence[SignedTransaction], encodings: Sequence[bytes | None] | None
) -> list[bytes | None] | None:
    """The signed BCS of each common payment (``encodings[i]`` when given, else encoded) and
    None for every other transaction; None when the block has no common payment."""
    out: list[bytes | None] = []
    found = False
    for index, txn in enumerate(transactions):
        if not is_common_payment(txn):
            out.append(None)
            continue
        data = encodings[index] if encodings is not None else None
        out.append(data if data is not None else txn.to_bcs())
        found = True
    return out if found else None


address_of = AccountAddress.interned


def _read_blobs(state_view: StateView, addresses: list[bytes]) -> list[bytes | None]:
    """The committed blob of each address: in one call when the view offers
    ``get_account_blobs`` (the ledger's does), else one by one."""
    read_many = getattr(state_view, "get_account_blobs", None)
    if read_many is not None:
        return read_many(addresses)  # type: ignore[no-any-return]
    return [state_view.get_account_blob(address_of(address)) for address in addresses]


class _NativeOverlay:
    """The state view of the framework's ``BlockState`` inside a mixed block: an account the
    native block holds is read from it (as it is now), any other from the committed view."""

    def __init__(self, base: StateView, block: Any) -> None:
        self._base = base
        self._current = block.current_blob

    def get_account_blob(self, address: AccountAddress) -> bytes | None:
        known, blob = self._current(address.value)
        return blob if known else self._base.get_account_blob(address)


def _discarded_output(status: TransactionStatus) -> TransactionOutput:
    return TransactionOutput(EMPTY_WRITE_SET, (), 0, status)


def execute_mixed(
    state_view: StateView,
    block_metadata: BlockMetadata | None,
    transactions: Sequence[SignedTransaction],
    payments: Sequence[bytes | None],
    valid: Sequence[bool],
    sizes: Sequence[int],
    *,
    chain_id: int,
    cache: DecodedAccounts | None,
    core: ModuleType,
) -> BlockOutput:
    """``execute_block`` for a block with common payments (``payments[i]``: the signed BCS of
    transaction ``i`` if it is one), given each signature's validity and each BCS size, with
    the native ``core``."""
    native_statuses = statuses(core)
    block = core.NativeBlock(native_cache_of(cache, core), chain_id)
    needed = block.add_transactions(list(payments), list(valid), list(sizes))
    block.load(list(zip(needed, _read_blobs(state_view, needed), strict=True)))
    state = BlockState(_NativeOverlay(state_view, block), cache=cache)
    metadata_output = None
    reconfigured = False
    if block_metadata is not None:
        metadata_output = to_output(execute_block_metadata(state, block_metadata), state)
        block.import_blobs(metadata_output.account_blobs)
        reconfigured = is_reconfiguration(metadata_output.events)
    count = len(transactions)
    outputs: list[TransactionOutput] = []
    index = 0
    while index < count:
        if reconfigured:
            outputs.extend(TransactionOutput(EMPTY_WRITE_SET, (), 0, Discarded(RETRY)) for _ in range(index, count))
            break
        stop = block.run(index)
        outputs += block.take_outputs(index, stop, native_statuses, TransactionOutput.from_native, _discarded_output)
        if stop == count:
            break
        if not valid[stop]:
            output = TransactionOutput(EMPTY_WRITE_SET, (), 0, Discarded(StatusCode.INVALID_SIGNATURE.value))
        else:
            writes = block.take_sync()
            if writes:
                state.apply_raw(writes)
            output = to_output(execute_user_transaction(state, transactions[stop], chain_id, sizes[stop]), state)
            if output.account_blobs:
                block.import_blobs(output.account_blobs)
            reconfigured = is_reconfiguration(output.events)
        outputs.append(output)
        index = stop + 1
    addresses, blobs = block.finish()
    remember_changed(cache, addresses, blobs)
    return BlockOutput(metadata_output, tuple(outputs), dict(zip(map(address_of, addresses), blobs, strict=True)), reconfigured)
