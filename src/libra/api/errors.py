"""JSON-RPC error codes and messages: the one place that maps failures to the wire.

Codes and message formats follow Diem's `json-rpc/types/src/errors.rs` and the
behaviour its unit tests pin down (docs/diem-protocol.md §2):

| code   | meaning                              | message                                              |
|--------|--------------------------------------|------------------------------------------------------|
| -32700 | body is not JSON                     | ``Parse error``                                      |
| -32600 | invalid request (jsonrpc != "2.0",   | ``Invalid Request`` / ``Invalid Request: <why>``     |
|        | batch/page size over limit, …)       |                                                      |
| -32601 | method missing or unknown            | ``Method not found``                                 |
| -32602 | params do not fit the method         | ``Invalid params for method '<m>': <param>: <why>``  |
|        | version newer than the ledger        | ``Invalid param <name> should be <= known latest…``  |
| -32604 | request is not an object, id missing | ``Invalid request format``                           |
|        | or not a u64/string                  |                                                      |
| -32000 | any other server failure             | ``Server error: <what>``                             |
| -32001…-32006 | VM status at submission, by status type | ``Server error: VM <Type> error: <STATUS>``   |
| -32007…-32012 | mempool rejection, by mempool status    | ``Server error: Mempool submission error: "<msg>"`` |

The backend raises these through the constructor helpers below; it never builds
codes by hand.
"""

from __future__ import annotations

import enum
import json
from typing import Any


class ErrorCode(enum.IntEnum):
    """Every JSON-RPC error code the API emits."""

    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INVALID_FORMAT = -32604

    DEFAULT_SERVER_ERROR = -32000
    VM_VALIDATION_ERROR = -32001
    VM_VERIFICATION_ERROR = -32002
    VM_INVARIANT_VIOLATION_ERROR = -32003
    VM_DESERIALIZATION_ERROR = -32004
    VM_EXECUTION_ERROR = -32005
    VM_UNKNOWN_ERROR = -32006
    MEMPOOL_INVALID_SEQ_NUMBER = -32007
    MEMPOOL_IS_FULL = -32008
    MEMPOOL_TOO_MANY_TRANSACTIONS = -32009
    MEMPOOL_INVALID_UPDATE = -32010
    MEMPOOL_VM_ERROR = -32011
    MEMPOOL_UNKNOWN_ERROR = -32012


#: Codes that mean "the server failed", not "the client asked wrongly" (Diem's
#: INTERNAL_ERRORS); the server logs them at error level.
INTERNAL_ERROR_CODES = frozenset(
    {
        ErrorCode.DEFAULT_SERVER_ERROR,
        ErrorCode.VM_INVARIANT_VIOLATION_ERROR,
        ErrorCode.VM_EXECUTION_ERROR,
        ErrorCode.VM_UNKNOWN_ERROR,
        ErrorCode.MEMPOOL_IS_FULL,
        ErrorCode.MEMPOOL_TOO_MANY_TRANSACTIONS,
        ErrorCode.MEMPOOL_UNKNOWN_ERROR,
    }
)


class JsonRpcError(Exception):
    """An error answered to the client as ``{"code", "message", "data"}``."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = int(code)
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        """The JSON error object; ``data`` is always present (null when unset), as in Diem."""
        return {"code": self.code, "message": self.message, "data": self.data}

    def is_internal(self) -> bool:
        """True when the code blames the server rather than the request."""
        return self.code in INTERNAL_ERROR_CODES

    def __repr__(self) -> str:
        return f"JsonRpcError(code={self.code}, message={self.message!r}, data={self.data!r})"


# --- protocol errors (raised by the dispatcher) --------------------------------------------


def parse_error() -> JsonRpcError:
    """The body is not valid JSON (UTF-8, no NaN/Infinity)."""
    return JsonRpcError(ErrorCode.PARSE_ERROR, "Parse error")


def invalid_request(reason: str | None = None) -> JsonRpcError:
    """Diem: ``Invalid Request`` alone, or ``Invalid Request: <reason>``."""
    message = "Invalid Request" if reason is None else f"Invalid Request: {reason}"
    return JsonRpcError(ErrorCode.INVALID_REQUEST, message)


def invalid_format() -> JsonRpcError:
    """The request is not an object, or its id is missing or not a u64/string."""
    return JsonRpcError(ErrorCode.INVALID_FORMAT, "Invalid request format")


def method_not_found() -> JsonRpcError:
    """The method is missing, not a string, or not one we serve."""
    return JsonRpcError(ErrorCode.METHOD_NOT_FOUND, "Method not found")


def invalid_params(method: str, detail: str | None = None) -> JsonRpcError:
    """Diem's ``Invalid params for method '<method>'``, plus which param failed and why."""
    message = f"Invalid params for method '{method}'"
    if detail:
        message = f"{message}: {detail}"
    return JsonRpcError(ErrorCode.INVALID_PARAMS, message)


def invalid_param(message: str) -> JsonRpcError:
    """Diem's ``Invalid param <message>`` for a well-typed param with a bad value."""
    return JsonRpcError(ErrorCode.INVALID_PARAMS, f"Invalid param {message}")


def version_too_new(name: str, latest_version: int) -> JsonRpcError:
    """A requested version beyond the ledger this request is served from."""
    return invalid_param(f"{name} should be <= known latest version {latest_version}")


def page_size_exceeded(size: int, limit: int) -> JsonRpcError:
    """A list method's ``limit`` over the page size limit (Diem: -32600, not -32602)."""
    return invalid_request(f"page size = {size}, exceed limit {limit}")


def batch_size_exceeded(size: int, limit: int) -> JsonRpcError:
    """A batch with more requests than allowed."""
    return invalid_request(f"batch size = {size}, exceed limit {limit}")


def body_too_large(limit: int) -> JsonRpcError:
    """The HTTP body is over the configured size (sent with HTTP 413, as Diem's server does)."""
    return invalid_request(f"request body exceeds {limit} bytes")


# --- server errors (raised by the backend) ------------------------------------------------


def internal_error(message: str) -> JsonRpcError:
    """Diem's default server error: ``Server error: <message>``."""
    return JsonRpcError(ErrorCode.DEFAULT_SERVER_ERROR, f"Server error: {message}")


class VmStatusType(enum.Enum):
    """Diem's VM status types; the value is the ``Display`` text used in messages."""

    VALIDATION = "Validation"
    VERIFICATION = "Verification"
    INVARIANT_VIOLATION = "Invariant violation"
    DESERIALIZATION = "Deserialization"
    EXECUTION = "Execution"
    UNKNOWN = "Unknown"


_VM_CODES = {
    VmStatusType.VALIDATION: ErrorCode.VM_VALIDATION_ERROR,
    VmStatusType.VERIFICATION: ErrorCode.VM_VERIFICATION_ERROR,
    VmStatusType.INVARIANT_VIOLATION: ErrorCode.VM_INVARIANT_VIOLATION_ERROR,
    VmStatusType.DESERIALIZATION: ErrorCode.VM_DESERIALIZATION_ERROR,
    VmStatusType.EXECUTION: ErrorCode.VM_EXECUTION_ERROR,
    VmStatusType.UNKNOWN: ErrorCode.VM_UNKNOWN_ERROR,
}

#: Diem's major status ranges (vm_status.rs): 0-999 validation, 1000-1999 verification,
#: 2000-2999 invariant violation, 3000-3999 deserialization, 4000-4999 execution.
_VM_RANGES = (
    (0, 999, VmStatusType.VALIDATION),
    (1000, 1999, VmStatusType.VERIFICATION),
    (2000, 2999, VmStatusType.INVARIANT_VIOLATION),
    (3000, 3999, VmStatusType.DESERIALIZATION),
    (4000, 4999, VmStatusType.EXECUTION),
)


def vm_status_type(status_code: int) -> VmStatusType:
    """The status type of a numeric Diem ``StatusCode`` (anything outside the ranges is Unknown)."""
    for low, high, status_type in _VM_RANGES:
        if low <= status_code <= high:
            return status_type
    return VmStatusType.UNKNOWN


def vm_error(
    status: str, status_code: int | None = None, status_type: VmStatusType | None = None
) -> JsonRpcError:
    """A VM status that stopped a submission: ``Server error: VM <Type> error: <STATUS>``.

    ``status`` is the status name (``SEQUENCE_NUMBER_TOO_OLD``). The type comes from
    ``status_type``, else from ``status_code``'s range, else Validation. With a code,
    ``data`` is ``{"StatusCode": <code>}`` as Diem serialises it.
    """
    if status_type is None:
        status_type = VmStatusType.VALIDATION if status_code is None else vm_status_type(status_code)
    data = None if status_code is None else {"StatusCode": status_code}
    message = f"Server error: VM {status_type.value} error: {status}"
    return JsonRpcError(_VM_CODES[status_type], message, data)


def vm_validation_error(status: str, status_code: int | None = None) -> JsonRpcError:
    """-32001, the usual submission failure (bad signature, stale sequence number, …)."""
    return vm_error(status, status_code, VmStatusType.VALIDATION)


class MempoolStatus(enum.Enum):
    """Diem's ``MempoolStatusCode`` values other than Accepted."""

    INVALID_SEQ_NUMBER = 1
    MEMPOOL_IS_FULL = 2
    TOO_MANY_TRANSACTIONS = 3
    INVALID_UPDATE = 4
    VM_ERROR = 5
    UNKNOWN_STATUS = 6


_MEMPOOL_CODES = {
    MempoolStatus.INVALID_SEQ_NUMBER: ErrorCode.MEMPOOL_INVALID_SEQ_NUMBER,
    MempoolStatus.MEMPOOL_IS_FULL: ErrorCode.MEMPOOL_IS_FULL,
    MempoolStatus.TOO_MANY_TRANSACTIONS: ErrorCode.MEMPOOL_TOO_MANY_TRANSACTIONS,
    MempoolStatus.INVALID_UPDATE: ErrorCode.MEMPOOL_INVALID_UPDATE,
    MempoolStatus.VM_ERROR: ErrorCode.MEMPOOL_VM_ERROR,
    MempoolStatus.UNKNOWN_STATUS: ErrorCode.MEMPOOL_UNKNOWN_ERROR,
}


def _rust_debug_str(text: str) -> str:
    """``format!("{:?}", string)``: the string in double quotes with escapes."""
    return json.dumps(text, ensure_ascii=False)


def mempool_error(status: MempoolStatus, message: str = "") -> JsonRpcError:
    """A mempool rejection: ``Server error: Mempool submission error: "<message>"``."""
    text = f"Server error: Mempool submission error: {_rust_debug_str(message)}"
    return JsonRpcError(_MEMPOOL_CODES[status], text)


def mempool_invalid_seq_number(message: str = "") -> JsonRpcError:
    """-32007: the sequence number cannot enter mempool."""
    return mempool_error(MempoolStatus.INVALID_SEQ_NUMBER, message)


def mempool_is_full(message: str = "") -> JsonRpcError:
    """-32008: mempool reached its global capacity."""
    return mempool_error(MempoolStatus.MEMPOOL_IS_FULL, message)


def mempool_too_many_transactions(message: str = "") -> JsonRpcError:
    """-32009: the account reached its per-account capacity."""
    return mempool_error(MempoolStatus.TOO_MANY_TRANSACTIONS, message)


def mempool_invalid_update(message: str = "") -> JsonRpcError:
    """-32010: same sender and sequence number without a higher gas price.

    Diem's message for a duplicate is ``Failed to update gas price to <price>``.
    """
    return mempool_error(MempoolStatus.INVALID_UPDATE, message)


def mempool_vm_error(message: str = "") -> JsonRpcError:
    """-32011: mempool's own VM validation failed."""
    return mempool_error(MempoolStatus.VM_ERROR, message)


def mempool_unknown_error(message: str = "") -> JsonRpcError:
    """-32012: any other mempool rejection."""
    return mempool_error(MempoolStatus.UNKNOWN_STATUS, message)
