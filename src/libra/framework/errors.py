"""Move aborts, VM statuses and their Diem JSON shapes (diem-protocol.md §4, §8.1, §9).

An abort code is ``category + (reason << 8)``. Every rule that can fail names
its failure as an :class:`AbortReason` (module, reason constant, category),
raised through :func:`ensure` / :func:`abort` as one exception type,
:class:`MoveAbort`. A transaction that aborts is still committed (sequence
number and gas only); a transaction refused by the prologue is *discarded* and
reported by a Diem ``StatusCode`` name such as ``SEQUENCE_NUMBER_TOO_OLD``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, NoReturn

from libra.types.move import CORE_CODE_ADDRESS


class Category(enum.IntEnum):
    """Diem's ``Errors`` categories (the low byte of an abort code)."""

    INVALID_STATE = 1
    REQUIRES_ADDRESS = 2
    REQUIRES_ROLE = 3
    REQUIRES_CAPABILITY = 4
    NOT_PUBLISHED = 5
    ALREADY_PUBLISHED = 6
    INVALID_ARGUMENT = 7
    LIMIT_EXCEEDED = 8
    INTERNAL = 10
    CUSTOM = 255


CATEGORY_DESCRIPTIONS = {
    Category.INVALID_STATE: "The system is in a state where the performed operation is not allowed.",
    Category.REQUIRES_ADDRESS: "The signer of a transaction does not have the expected address for this operation.",
    Category.REQUIRES_ROLE: "The signer of a transaction does not have the expected role for this operation.",
    Category.REQUIRES_CAPABILITY: "The signer of a transaction does not have a required capability.",
    Category.NOT_PUBLISHED: "A resource is required but not published.",
    Category.ALREADY_PUBLISHED: "Attempting to publish a resource that is already published.",
    Category.INVALID_ARGUMENT: "An argument provided to an operation is invalid.",
    Category.LIMIT_EXCEEDED: "A limit on an amount, e.g. a currency, is exceeded.",
    Category.INTERNAL: "An internal error (bug) has occurred.",
    Category.CUSTOM: "A custom error category for extension points.",
}


@dataclass(frozen=True, slots=True)
class AbortReason:
    """One ``assert`` of Diem's framework: where it lives, its constant and category."""

    module: str
    name: str
    reason: int
    category: Category
    description: str = ""

    @property
    def code(self) -> int:
        return int(self.category) + (self.reason << 8)


class MoveAbort(Exception):
    """A framework rule failed; the transaction keeps only its sequence bump and gas.

    ``reason`` is None for bare ``abort N`` / ``assert(cond, N)`` without an
    ``Errors`` category (e.g. the validator scripts' name check, code 0).
    """

    def __init__(self, module: str, code: int, reason: AbortReason | None = None) -> None:
        self.module = module
        self.code = code
        self.reason = reason
        name = reason.name if reason else "no explanation"
        super().__init__(f"0x1::{module} aborted with {code} ({name})")

    @property
    def location(self) -> str:
        return f"{CORE_CODE_ADDRESS.hex()}::{self.module}"


def abort(reason: AbortReason) -> NoReturn:
    """Abort the transaction with ``reason`` (Move's ``abort Errors::<category>(E...)``)."""
    raise MoveAbort(reason.module, reason.code, reason)


def ensure(condition: bool, reason: AbortReason) -> None:
    """Move's ``assert(condition, Errors::<category>(E...))``."""
    if not condition:
        raise MoveAbort(reason.module, reason.code, reason)


def ensure_raw(condition: bool, module: str, code: int) -> None:
    """Move's ``assert(condition, N)`` with a bare code and no explanation."""
    if not condition:
        raise MoveAbort(module, code, None)


# --- VM statuses ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Executed:
    """The transaction ran to completion."""


@dataclass(frozen=True, slots=True)
class MoveAbortStatus:
    location: str
    abort_code: int
    reason: AbortReason | None


@dataclass(frozen=True, slots=True)
class OutOfGas:
    """The payload needed more gas units than ``max_gas_amount``."""


@dataclass(frozen=True, slots=True)
class ExecutionFailure:
    location: str
    function_index: int
    code_offset: int


@dataclass(frozen=True, slots=True)
class MiscellaneousError:
    """A kept transaction that failed for a reason without a Move location."""

    status_name: str = ""


KeptStatus = Executed | MoveAbortStatus | OutOfGas | ExecutionFailure | MiscellaneousError
EXECUTED = Executed()


def status_of_abort(exc: MoveAbort) -> MoveAbortStatus:
    return MoveAbortStatus(exc.location, exc.code, exc.reason)


def vm_status_json(status: KeptStatus) -> dict[str, Any]:
    """The ``vm_status`` object of Diem's JSON-RPC ``Transaction`` view."""
    if isinstance(status, Executed):
        return {"type": "executed"}
    if isinstance(status, OutOfGas):
        return {"type": "out_of_gas"}
    if isinstance(status, MiscellaneousError):
        return {"type": "miscellaneous_error"}
    if isinstance(status, ExecutionFailure):
        return {
            "type": "execution_failure",
            "location": status.location,
            "function_index": status.function_index,
            "code_offset": status.code_offset,
        }
    explanation = None
    if status.reason is not None:
        explanation = {
            "category": status.reason.category.name,
            "category_description": CATEGORY_DESCRIPTIONS[status.reason.category],
            "reason": status.reason.name,
            "reason_description": status.reason.description,
        }
    return {
        "type": "move_abort",
        "location": status.location,
        "abort_code": status.abort_code,
        "explanation": explanation,
    }


class StatusCode(enum.StrEnum):
    """Diem ``StatusCode`` names for transactions that are discarded (never committed)."""

    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    INVALID_AUTH_KEY = "INVALID_AUTH_KEY"
    SEQUENCE_NUMBER_TOO_OLD = "SEQUENCE_NUMBER_TOO_OLD"
    SEQUENCE_NUMBER_TOO_NEW = "SEQUENCE_NUMBER_TOO_NEW"
    SEQUENCE_NUMBER_TOO_BIG = "SEQUENCE_NUMBER_TOO_BIG"
    INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE = "INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE"
    TRANSACTION_EXPIRED = "TRANSACTION_EXPIRED"
    SENDING_ACCOUNT_DOES_NOT_EXIST = "SENDING_ACCOUNT_DOES_NOT_EXIST"
    SENDING_ACCOUNT_FROZEN = "SENDING_ACCOUNT_FROZEN"
    BAD_CHAIN_ID = "BAD_CHAIN_ID"
    BAD_TRANSACTION_FEE_CURRENCY = "BAD_TRANSACTION_FEE_CURRENCY"
    CURRENCY_INFO_DOES_NOT_EXIST = "CURRENCY_INFO_DOES_NOT_EXIST"
    INVALID_GAS_SPECIFIER = "INVALID_GAS_SPECIFIER"
    EXCEEDED_MAX_TRANSACTION_SIZE = "EXCEEDED_MAX_TRANSACTION_SIZE"
    MAX_GAS_UNITS_EXCEEDS_MAX_GAS_UNITS_BOUND = "MAX_GAS_UNITS_EXCEEDS_MAX_GAS_UNITS_BOUND"
    MAX_GAS_UNITS_BELOW_MIN_TRANSACTION_GAS_UNITS = "MAX_GAS_UNITS_BELOW_MIN_TRANSACTION_GAS_UNITS"
    GAS_UNIT_PRICE_BELOW_MIN_BOUND = "GAS_UNIT_PRICE_BELOW_MIN_BOUND"
    GAS_UNIT_PRICE_ABOVE_MAX_BOUND = "GAS_UNIT_PRICE_ABOVE_MAX_BOUND"
    UNKNOWN_SCRIPT = "UNKNOWN_SCRIPT"
    FEATURE_UNDER_GATING = "FEATURE_UNDER_GATING"
    INVALID_MODULE_PUBLISHER = "INVALID_MODULE_PUBLISHER"
    REJECTED_WRITE_SET = "REJECTED_WRITE_SET"
    INVALID_WRITE_SET = "INVALID_WRITE_SET"
    FUNCTION_RESOLUTION_FAILURE = "FUNCTION_RESOLUTION_FAILURE"
    NUMBER_OF_TYPE_ARGUMENTS_MISMATCH = "NUMBER_OF_TYPE_ARGUMENTS_MISMATCH"
    NUMBER_OF_ARGUMENTS_MISMATCH = "NUMBER_OF_ARGUMENTS_MISMATCH"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    FAILED_TO_DESERIALIZE_ARGUMENT = "FAILED_TO_DESERIALIZE_ARGUMENT"
    SECONDARY_KEYS_ADDRESSES_COUNT_MISMATCH = "SECONDARY_KEYS_ADDRESSES_COUNT_MISMATCH"
    UNKNOWN_VALIDATION_STATUS = "UNKNOWN_VALIDATION_STATUS"


class TransactionRejected(Exception):
    """A transaction the VM refuses before running it; it is discarded, not committed."""

    def __init__(self, status: StatusCode) -> None:
        self.status = status
        super().__init__(status.value)
