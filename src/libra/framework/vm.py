"""One transaction through the rules: prologue, payload, epilogue (diem-protocol.md §8.1, §9).

A user transaction ends in one of three ways:

* **discarded** — a prologue check failed (a Diem ``StatusCode`` name); nothing changes,
  not even the sequence number;
* **kept, failed** — the payload aborted, ran out of gas or had unusable arguments; only
  the epilogue's writes remain (sequence number + 1, fee charged);
* **kept, executed** — payload and epilogue writes are committed with the payload's events.

Prologue order (first failure wins): size and gas bounds (VM), gas currency, payload kind,
then Move's ``prologue_common``: chain id, sender exists, not frozen, auth key, fee
overflow, fee currency and balance, expiration, sequence number (too big/old/new).

Gas: ``gas_used`` is a fixed number of units per script (:attr:`ScriptEntry.gas_units`);
the fee ``gas_unit_price × gas_used`` is taken from the sender's balance in the gas
currency and added to Treasury Compliance's fee pool (price 0 charges nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

from libra.crypto.hashing import sha3_256
from libra.framework import treasury
from libra.framework.aborts import _r
from libra.framework.errors import (
    EXECUTED,
    Category,
    KeptStatus,
    MiscellaneousError,
    MoveAbort,
    MoveAbortStatus,
    OutOfGas,
    StatusCode,
    status_of_abort,
)
from libra.framework.payments import is_frozen
from libra.framework.resources import (
    CHAIN_ID,
    CURRENT_TIME,
    DIEM_ACCOUNT,
    Balance,
    DiemAccount,
    balance_kind,
    currency_info_kind,
    transaction_fee_kind,
)
from libra.framework.scripts import PayloadError, ScriptEntry, find_entry, run_payload
from libra.framework.state import BlockState, StateView, TxnState
from libra.framework.system import apply_block_prologue
from libra.types.direct_init import direct_init
from libra.types.move import (
    CORE_CODE_ADDRESS,
    DIEM_ROOT_ADDRESS,
    TREASURY_COMPLIANCE_ADDRESS,
    is_valid_identifier,
)
from libra.types.transaction import (
    BlockMetadata,
    Ed25519Authenticator,
    Module,
    MultiAgentAuthenticator,
    MultiEd25519Authenticator,
    Script,
    ScriptFunction,
    SignedTransaction,
    WriteSetTxnPayload,
)
from libra.types.write_set import ContractEvent, WriteSet

MAX_TRANSACTION_SIZE_IN_BYTES = 4096
MAX_GAS_UNITS = 4_000_000
MIN_TRANSACTION_GAS_UNITS = 1
MIN_PRICE_PER_GAS_UNIT = 0
MAX_PRICE_PER_GAS_UNIT = 10_000
U64_MAX = (1 << 64) - 1
MICROS_PER_SECOND = 1_000_000
ED25519_SCHEME = b"\x00"
MULTI_ED25519_SCHEME = b"\x01"
ECANT_PAY_GAS_DEPOSIT = _r(
    "DiemAccount", "PROLOGUE_ECANT_PAY_GAS_DEPOSIT", 1005, Category.LIMIT_EXCEEDED, "Cannot pay the transaction fee"
)


@direct_init
@dataclass(frozen=True, slots=True)
class TransactionOutcome:
    """What one transaction did: ``status`` is a kept VM status or the discard StatusCode."""

    status: KeptStatus | StatusCode
    write_set: WriteSet
    events: tuple[ContractEvent, ...]
    gas_used: int

    @property
    def is_discarded(self) -> bool:
        return isinstance(self.status, StatusCode)


EMPTY_WRITE_SET = WriteSet(())


def discarded(status: StatusCode) -> TransactionOutcome:
    return TransactionOutcome(status, EMPTY_WRITE_SET, (), 0)


# --- prologue ------------------------------------------------------------------------------


def compute_authentication_key(txn: SignedTransaction) -> bytes | None:
    """sha3_256(public key ‖ scheme) of the sender's authenticator (None for multi-agent)."""
    auth = txn.authenticator
    if isinstance(auth, Ed25519Authenticator):
        return _sha3_remembered(auth.public_key + ED25519_SCHEME)
    if isinstance(auth, MultiEd25519Authenticator):
        return _sha3_remembered(auth.public_key + MULTI_ED25519_SCHEME)
    return None


# senders send again and again: their keys' hashes are remembered (bounded, cleared when full)
_AUTH_KEYS: dict[bytes, bytes] = {}


def _sha3_remembered(data: bytes) -> bytes:
    digest = _AUTH_KEYS.get(data)
    if digest is None:
        if len(_AUTH_KEYS) >= 100_000:
            _AUTH_KEYS.clear()
        digest = _AUTH_KEYS[data] = sha3_256(data)
    return digest


def check_payload_kind(txn: SignedTransaction) -> tuple[StatusCode | None, ScriptEntry | None]:
    """Only known scripts and 0x1 script functions run; write sets and modules are refused."""
    payload = txn.raw_txn.payload
    if isinstance(payload, WriteSetTxnPayload):
        return StatusCode.REJECTED_WRITE_SET, None
    if isinstance(payload, Module):
        return StatusCode.INVALID_MODULE_PUBLISHER, None
    entry = find_entry(payload)
    if entry is None:
        missing = StatusCode.UNKNOWN_SCRIPT if isinstance(payload, Script) else StatusCode.FUNCTION_RESOLUTION_FAILURE
        return missing, None
    return None, entry


def check_gas_bounds(txn: SignedTransaction, size: int) -> StatusCode | None:
    raw = txn.raw_txn
    if size > MAX_TRANSACTION_SIZE_IN_BYTES:
        return StatusCode.EXCEEDED_MAX_TRANSACTION_SIZE
    if raw.max_gas_amount > MAX_GAS_UNITS:
        return StatusCode.MAX_GAS_UNITS_EXCEEDS_MAX_GAS_UNITS_BOUND
    if raw.max_gas_amount < MIN_TRANSACTION_GAS_UNITS:
        return StatusCode.MAX_GAS_UNITS_BELOW_MIN_TRANSACTION_GAS_UNITS
    if raw.gas_unit_price < MIN_PRICE_PER_GAS_UNIT:
        return StatusCode.GAS_UNIT_PRICE_BELOW_MIN_BOUND
    if raw.gas_unit_price > MAX_PRICE_PER_GAS_UNIT:
        return StatusCode.GAS_UNIT_PRICE_ABOVE_MAX_BOUND
    return None


def check_sender(
    state: TxnState, txn: SignedTransaction, chain_id: int, now_usecs: int
) -> StatusCode | None:
    """Move's ``prologue_common`` in Diem's order."""
    raw = txn.raw_txn
    code = raw.gas_currency_code
    if not is_valid_identifier(code):
        return StatusCode.INVALID_GAS_SPECIFIER
    if not state.exists(DIEM_ROOT_ADDRESS, currency_info_kind(code)):
        return StatusCode.BAD_TRANSACTION_FEE_CURRENCY
    if raw.chain_id != chain_id:
        return StatusCode.BAD_CHAIN_ID
    account = state.get(raw.sender, DIEM_ACCOUNT)
    if account is None:
        return StatusCode.SENDING_ACCOUNT_DOES_NOT_EXIST
    if is_frozen(state, raw.sender):
        return StatusCode.SENDING_ACCOUNT_FROZEN
    if compute_authentication_key(txn) != account.authentication_key:
        return StatusCode.INVALID_AUTH_KEY
    max_fee = raw.gas_unit_price * raw.max_gas_amount
    if max_fee > U64_MAX:
        return StatusCode.INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE
    if max_fee > 0:
        if not state.exists(TREASURY_COMPLIANCE_ADDRESS, transaction_fee_kind(code)):
            return StatusCode.BAD_TRANSACTION_FEE_CURRENCY
        balance = state.get(raw.sender, balance_kind(code))
        if balance is None or balance.coin < max_fee:
            return StatusCode.INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE
    if now_usecs // MICROS_PER_SECOND >= raw.expiration_timestamp_secs:
        return StatusCode.TRANSACTION_EXPIRED
    if raw.sequence_number >= U64_MAX:
        return StatusCode.SEQUENCE_NUMBER_TOO_BIG
    if raw.sequence_number < account.sequence_number:
        return StatusCode.SEQUENCE_NUMBER_TOO_OLD
    if raw.sequence_number > account.sequence_number:
        return StatusCode.SEQUENCE_NUMBER_TOO_NEW
    return None


def check_prologue_in(
    state: TxnState, txn: SignedTransaction, chain_id: int, now_usecs: int, size: int | None = None
) -> tuple[StatusCode | None, ScriptEntry | None]:
    """All prologue checks against a transaction overlay; returns (failure, script entry)."""
    if isinstance(txn.authenticator, MultiAgentAuthenticator):
        return StatusCode.FEATURE_UNDER_GATING, None
    failure = check_gas_bounds(txn, size if size is not None else len(txn.to_bcs()))
    if failure is not None:
        return failure, None
    failure, entry = check_payload_kind(txn)
    if failure is not None:
        return failure, None
    return check_sender(state, txn, chain_id, now_usecs), entry


def check_prologue(
    state_view: StateView, signed_txn: SignedTransaction, chain_id: int, block_time_usecs: int
) -> str | None:
    """Mempool's admission check: the Diem status name that would discard the transaction, or None.

    Signature validity (``INVALID_SIGNATURE``) is checked by the caller, as in execution.
    """
    state = TxnState(BlockState(state_view))
    failure, _ = check_prologue_in(state, signed_txn, chain_id, block_time_usecs)
    return failure.value if failure is not None else None


def check_admission(
    block: BlockState, signed_txn: SignedTransaction, chain_id: int, block_time_usecs: int, size: int
) -> tuple[str | None, int | None]:
    """:func:`check_prologue` for mempool admission, given the signed transaction's BCS size:
    (the failing status name or None, the sender's account sequence number or None if the
    sender has no account). Reads go through ``block``, which callers may share between
    checks against the same committed state (nothing is written to it)."""
    state = TxnState(block)
    failure, _ = check_prologue_in(state, signed_txn, chain_id, block_time_usecs, size)
    account = state.get(signed_txn.raw_txn.sender, DIEM_ACCOUNT)
    return (failure.value if failure is not None else None), (account.sequence_number if account is not None else None)


# --- execution -----------------------------------------------------------------------------


def get_on_chain_time(block: BlockState) -> int:
    clock = block.read(DIEM_ROOT_ADDRESS, CURRENT_TIME)
    return clock.microseconds if clock is not None else 0


def get_chain_id(block: BlockState) -> int | None:
    chain = block.read(DIEM_ROOT_ADDRESS, CHAIN_ID)
    return chain.id if chain is not None else None


def apply_epilogue(state: TxnState, txn: SignedTransaction, gas_used: int) -> bool:
    """Bump the sequence number and charge ``price × gas_used``; False if the fee cannot be paid."""
    raw = txn.raw_txn
    fee = raw.gas_unit_price * gas_used
    if fee > 0:
        kind = balance_kind(raw.gas_currency_code)
        balance = state.get(raw.sender, kind)
        if balance is None or balance.coin < fee:
            return False
        state.put(raw.sender, kind, Balance(balance.coin - fee))
        treasury.apply_pay_fee(state, raw.gas_currency_code, fee)
    account = state.get(raw.sender, DIEM_ACCOUNT)
    assert account is not None
    state.put(
        raw.sender,
        DIEM_ACCOUNT,
        DiemAccount(
            account.authentication_key,
            account.withdraw_capability,
            account.key_rotation_capability,
            account.received_events,
            account.sent_events,
            raw.sequence_number + 1,
        ),
    )
    return True


def _run_payload(state: TxnState, txn: SignedTransaction, entry: ScriptEntry) -> KeptStatus:
    payload = txn.raw_txn.payload
    assert isinstance(payload, Script | ScriptFunction)
    try:
        run_payload(state, txn.raw_txn.sender, payload, entry)
    except MoveAbort as exc:
        return status_of_abort(exc)
    except PayloadError as exc:
        return MiscellaneousError(exc.status.value)
    return EXECUTED


def execute_user_transaction(
    block: BlockState, txn: SignedTransaction, chain_id: int, size: int | None = None
) -> TransactionOutcome:
    """Prologue, payload and epilogue of a transaction whose signature was already verified."""
    state = TxnState(block)
    failure, entry = check_prologue_in(state, txn, chain_id, get_on_chain_time(block), size)
    if failure is not None:
        return discarded(failure)
    assert entry is not None
    max_gas = txn.raw_txn.max_gas_amount
    status: KeptStatus
    if entry.gas_units > max_gas:
        status, gas_used = OutOfGas(), max_gas
    else:
        status, gas_used = _run_payload(state, txn, entry), entry.gas_units
    if status is not EXECUTED:
        state = TxnState(block)
    if not apply_epilogue(state, txn, gas_used):
        # The payload spent what the fee needed: keep the transaction, drop the payload and
        # charge the full deposit the prologue reserved (Diem's failed-epilogue cleanup).
        state = TxnState(block)
        location = f"{CORE_CODE_ADDRESS.hex()}::DiemAccount"
        status = MoveAbortStatus(location, ECANT_PAY_GAS_DEPOSIT.code, ECANT_PAY_GAS_DEPOSIT)
        gas_used = max_gas
        charged = apply_epilogue(state, txn, gas_used)
        assert charged, "the prologue checked the balance covers max_gas_amount"
    events = tuple(state.events) if status is EXECUTED else ()
    write_set = block.commit(state)
    return TransactionOutcome(status, write_set, events, gas_used)


def execute_block_metadata(block: BlockState, metadata: BlockMetadata) -> TransactionOutcome:
    """The block prologue: new time, height + 1, ``NewBlockEvent``. A failure is discarded."""
    state = TxnState(block)
    try:
        apply_block_prologue(
            state, metadata.round, metadata.timestamp_usecs, metadata.previous_block_votes, metadata.proposer
        )
    except MoveAbort:
        return discarded(StatusCode.UNKNOWN_VALIDATION_STATUS)
    events = tuple(state.events)
    return TransactionOutcome(EXECUTED, block.commit(state), events, 0)
