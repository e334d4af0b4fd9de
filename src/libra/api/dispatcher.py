"""JSON-RPC 2.0 dispatch: decoded request JSON in, encoded Diem response JSON out.

One call goes through these checks, in Diem's order, each with its error:

1. the request is an object whose ``id`` is a u64 or a string  → -32604 (id null);
2. ``jsonrpc`` is ``"2.0"``                                     → -32600;
3. ``method`` names a method we serve                           → -32601;
4. ``params`` fit the method (``params.py``)                    → -32602;
5. method rules needing the ledger snapshot: versions not newer than the snapshot
   (-32602), ``limit`` within the page size (-32600), cross-param order (-32600);
6. the backend call; a ``JsonRpcError`` passes through, anything else is logged
   with its traceback and answered ``-32000 Server error: …``.

Every response carries the envelope ``id, jsonrpc, diem_chain_id,
diem_ledger_version, diem_ledger_timestampusec`` from one :class:`LedgerState`
read per HTTP request, then ``result`` (present even when null) or ``error``.
A batch is a non-empty array of at most ``max_batch_size`` requests answered by an
array in the same order; an oversized or empty batch gets one error object.

A batch of ``submit`` calls only (what wallets and load generators send), to a backend that
offers ``submit``'s steps (:class:`SubmitSteps`), is answered without a task per call: each
call's checks 1-4 and the capacity refusal in order, then one signature job for the batch,
then each admission in order; the answers, errors, metrics and log lines are those the calls
run one by one would give.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import orjson

from libra.api import errors
from libra.api.backend import ApiBackend, JsonText, JsonValue, LedgerState
from libra.api.errors import JsonRpcError
from libra.api.metrics import ApiMetrics
from libra.api.params import (
    U64_MAX,
    Param,
    ParamError,
    bind_params,
    optional,
    parse_address,
    parse_bool,
    parse_event_key,
    parse_signed_transaction,
    parse_u64,
    required,
)

DEFAULT_MAX_BATCH_SIZE = 20
DEFAULT_PAGE_SIZE_LIMIT = 1000

log = logging.getLogger("libra.api.requests")

Invoke = Callable[[ApiBackend, LedgerState, list[Any], int], Any]


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """A JSON-RPC method: its params and how to call the backend (backend, ledger, args, page limit)."""

    name: str
    params: tuple[Param, ...]
    invoke: Invoke


@runtime_checkable
class SubmitSteps(Protocol):
    """``backend.submit`` in three steps: refused before any work, the signature checks of
    several submissions at once, then admission; the first and last give the call's error."""

    def refuse_submission(self, signed_txn: bytes) -> JsonRpcError | None: ...

    async def verify_submissions(self, signed_txns: Sequence[bytes]) -> None: ...

    def admit_submission(self, signed_txn: bytes) -> JsonRpcError | None: ...


# --- method rules that need the ledger snapshot ---------------------------------------------


def check_version(version: int | None, name: str, ledger: LedgerState) -> int:
    """An explicit version must not be newer than the snapshot; returns it or the snapshot's."""
    if version is None:
        return ledger.version
    if version > ledger.version:
        raise errors.version_too_new(name, ledger.version)
    return version


def check_page_size(limit: int, page_size_limit: int) -> None:
    """A list ``limit`` must be within the page size limit."""
    if limit > page_size_limit:
        raise errors.page_size_exceeded(limit, page_size_limit)


def _get_metadata(backend: ApiBackend, ledger: LedgerState, args: list[Any], _page: int) -> Any:
    check_version(args[0], "version", ledger)
    return backend.get_metadata(args[0])


def _get_currencies(backend: ApiBackend, _ledger: LedgerState, _args: list[Any], _page: int) -> Any:
    return backend.get_currencies()


def _get_account(backend: ApiBackend, ledger: LedgerState, args: list[Any], _page: int) -> Any:
    address, version = args
    check_version(version, "version", ledger)
    return backend.get_account(address, version)


def _get_account_transaction(backend: ApiBackend, _ledger: LedgerState, args: list[Any], _page: int) -> Any:
    address, seq, include_events = args
    return backend.get_account_transaction(address, seq, include_events)


def _get_account_transactions(backend: ApiBackend, _ledger: LedgerState, args: list[Any], page: int) -> Any:
    address, start, limit, include_events = args
    check_page_size(limit, page)
    return backend.get_account_transactions(address, start, limit, include_events)


def _get_transactions(backend: ApiBackend, _ledger: LedgerState, args: list[Any], page: int) -> Any:
    start_version, limit, include_events = args
    check_page_size(limit, page)
    return backend.get_transactions(start_version, limit, include_events)


def _get_events(backend: ApiBackend, _ledger: LedgerState, args: list[Any], page: int) -> Any:
    key, start, limit = args
    check_page_size(limit, page)
    return backend.get_events(key, start, limit)


def _submit(backend: ApiBackend, _ledger: LedgerState, args: list[Any], _page: int) -> Any:
    return backend.submit(args[0])


def _get_state_proof(backend: ApiBackend, ledger: LedgerState, args: list[Any], _page: int) -> Any:
    return backend.get_state_proof(check_version(args[0], "version", ledger))


def _get_account_state_with_proof(backend: ApiBackend, ledger: LedgerState, args: list[Any], _page: int) -> Any:
    """Diem order: ``version`` vs latest, ``ledger_version`` vs latest, then version <= ledger_version."""
    address, version, ledger_version = args
    resolved_version = check_version(version, "version", ledger)
    resolved_ledger = check_version(ledger_version, "ledger_version", ledger)
    if resolved_version > resolved_ledger:
        raise errors.invalid_request(
            f"version({resolved_version}) should <= ledger version({resolved_ledger})"
        )
    return backend.get_account_state_with_proof(address, version, ledger_version)


def _get_transactions_with_proofs(backend: ApiBackend, _ledger: LedgerState, args: list[Any], page: int) -> Any:
    start_version, limit, include_events = args
    check_page_size(limit, page)
    return backend.get_transactions_with_proofs(start_version, limit, include_events)


def _get_account_transactions_with_proofs(
    backend: ApiBackend, ledger: LedgerState, args: list[Any], page: int
) -> Any:
    address, start, limit, include_events, ledger_version = args
    check_version(ledger_version, "ledger_version", ledger)
    check_page_size(limit, page)
    return backend.get_account_transactions_with_proofs(address, start, limit, include_events, ledger_version)


def _get_events_with_proofs(backend: ApiBackend, _ledger: LedgerState, args: list[Any], page: int) -> Any:
    key, start, limit = args
    check_page_size(limit, page)
    return backend.get_events_with_proofs(key, start, limit)


def _get_event_by_version_with_proof(backend: ApiBackend, ledger: LedgerState, args: list[Any], _page: int) -> Any:
    key, version = args
    check_version(version, "version", ledger)
    return backend.get_event_by_version_with_proof(key, version)


def _get_accumulator_consistency_proof(
    backend: ApiBackend, ledger: LedgerState, args: list[Any], _page: int
) -> Any:
    """Diem order: ``ledger_version`` vs latest, then client_known_version <= ledger_version."""
    client_known_version, ledger_version = args
    resolved_ledger = check_version(ledger_version, "ledger_version", ledger)
    if client_known_version is not None and client_known_version > resolved_ledger:
        raise errors.invalid_request(
            f"client_known_version({client_known_version}) should be <= ledger_version({resolved_ledger})"
        )
    return backend.get_accumulator_consistency_proof(client_known_version, ledger_version)


def _get_network_status(backend: ApiBackend, _ledger: LedgerState, _args: list[Any], _page: int) -> Any:
    return backend.get_network_status()


_ACCOUNT = required("account", parse_address)
_KEY = required("key", parse_event_key)
_START = required("start", parse_u64)
_LIMIT = required("limit", parse_u64)
_INCLUDE_EVENTS = required("include_events", parse_bool)

#: Diem v1 methods with Diem's param names (named params use these keys).
METHODS: dict[str, MethodSpec] = {
    spec.name: spec
    for spec in (
        MethodSpec("submit", (required("data", parse_signed_transaction),), _submit),
        MethodSpec("get_metadata", (optional("version", parse_u64),), _get_metadata),
        MethodSpec("get_currencies", (), _get_currencies),
        MethodSpec("get_account", (_ACCOUNT, optional("version", parse_u64)), _get_account),
        MethodSpec(
            "get_account_transaction",
            (_ACCOUNT, required("sequence_number", parse_u64), _INCLUDE_EVENTS),
            _get_account_transaction,
        ),
        MethodSpec(
            "get_account_transactions", (_ACCOUNT, _START, _LIMIT, _INCLUDE_EVENTS), _get_account_transactions
        ),
        MethodSpec(
            "get_transactions",
            (required("start_version", parse_u64), _LIMIT, _INCLUDE_EVENTS),
            _get_transactions,
        ),
        MethodSpec("get_events", (_KEY, _START, _LIMIT), _get_events),
        MethodSpec("get_network_status", (), _get_network_status),
        MethodSpec("get_state_proof", (required("version", parse_u64),), _get_state_proof),
        MethodSpec(
            "get_accumulator_consistency_proof",
            (optional("client_known_version", parse_u64), optional("ledger_version", parse_u64)),
            _get_accumulator_consistency_proof,
        ),
        MethodSpec(
            "get_account_state_with_proof",
            (_ACCOUNT, optional("version", parse_u64), optional("ledger_version", parse_u64)),
            _get_account_state_with_proof,
        ),
        MethodSpec(
            "get_transactions_with_proofs",
            (required("start_version", parse_u64), _LIMIT, _INCLUDE_EVENTS),
            _get_transactions_with_proofs,
        ),
        MethodSpec(
            "get_account_transactions_with_proofs",
            (_ACCOUNT, _START, _LIMIT, _INCLUDE_EVENTS, optional("ledger_version", parse_u64)),
            _get_account_transactions_with_proofs,
        ),
        MethodSpec("get_events_with_proofs", (_KEY, _START, _LIMIT), _get_events_with_proofs),
        MethodSpec(
            "get_event_by_version_with_proof",
            (_KEY, optional("version", parse_u64)),
            _get_event_by_version_with_proof,
        ),
    )
}


# --- envelope ------------------------------------------------------------------------------


_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
"""Dataclasses and datetimes are not JSON values for json.dumps either: both refuse them."""


def _reference_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_json(value: Any) -> str:
    """Compact JSON, exactly the text of ``json.dumps(value, separators=(",", ":"),
    ensure_ascii=False, allow_nan=False)``, written by orjson (10-15 times faster).

    What orjson refuses goes to ``json.dumps``, which writes it or raises as before:
    integers outside [-2^63, 2^64) (u64 values above 2^53 orjson writes exactly), keys that
    are not strings, lone surrogates, sets and other non-JSON objects. Floats orjson writes
    unlike Python's ``repr`` (6e-05 as 0.00006, 1e-07 as 1e-7: magnitudes 1e-9 .. 1e-4) are
    caught on the text: any ``e-`` or ``0.0000`` in it (in a string too, rarely) and
    ``json.dumps`` writes the value instead. One difference is left: NaN and infinities,
    which the API never holds, come out as null instead of raising ``ValueError``.
    """
    if type(value) is JsonText:
        return value.text
    try:
        text = orjson.dumps(value, option=_ORJSON_OPTIONS)
    except TypeError:
        return _reference_json(value)
    if (b"-" in text and b"e-" in text) or (b"." in text and b"0.0000" in text):  # memchr first: cheap
        return _reference_json(value)
    return text.decode()


def _envelope(ledger: LedgerState, request_id: Any) -> dict[str, Any]:
    return {
        "id": request_id,
        "jsonrpc": "2.0",
        "diem_chain_id": ledger.chain_id,
        "diem_ledger_version": ledger.version,
        "diem_ledger_timestampusec": ledger.timestamp_usecs,
    }


def encode_error(ledger: LedgerState, request_id: Any, error: JsonRpcError) -> str:
    """A response carrying ``error`` (no ``result`` key)."""
    response = _envelope(ledger, request_id)
    response["error"] = error.to_json()
    return encode_json(response)


_ENVELOPE_TAILS: dict[tuple[int, int, int], str] = {}


def _envelope_tail(ledger: LedgerState) -> str:
    """The envelope's keys after ``id``, encoded once per ledger state (every call of an
    HTTP request, and of requests at the same version, shares them)."""
    key = (ledger.chain_id, ledger.version, ledger.timestamp_usecs)
    tail = _ENVELOPE_TAILS.get(key)
    if tail is None:
        if len(_ENVELOPE_TAILS) >= 64:
            _ENVELOPE_TAILS.clear()
        envelope = _envelope(ledger, None)
        del envelope["id"]
        tail = _ENVELOPE_TAILS[key] = "," + encode_json(envelope)[1:-1] + ',"result":'
    return tail


def encode_result(ledger: LedgerState, request_id: Any, result: JsonValue) -> str:
    """A response carrying ``result``, present even when it is null.

    The text is what ``encode_json`` gives for the envelope dict with ``result`` last,
    assembled from the cached envelope instead of a new dict per call.
    """
    return (
        '{"id":'
        + encode_json(request_id)
        + _envelope_tail(ledger)
        + ("null" if result is None else encode_json(result))
        + "}"
    )


# --- request checks ------------------------------------------------------------------------


def is_valid_id(value: Any) -> bool:
    """Diem ids are u64 numbers or strings."""
    if isinstance(value, str):
        return True
    return type(value) is int and 0 <= value <= U64_MAX


def request_id_of(request: Any) -> Any:
    """Step 1: the id of a request object; not an object or a bad id is ``Invalid request format``."""
    if not isinstance(request, dict) or not is_valid_id(request.get("id")):
        raise errors.invalid_format()
    return request["id"]


def method_of(request: dict[str, Any]) -> MethodSpec:
    """Steps 2-3: ``jsonrpc`` must be "2.0" and ``method`` one we serve."""
    if request.get("jsonrpc") != "2.0":
        raise errors.invalid_request()
    method = request.get("method")
    spec = METHODS.get(method) if isinstance(method, str) else None
    if spec is None:
        raise errors.method_not_found()
    return spec


def internal_error_of(exc: Exception) -> JsonRpcError:
    """A backend crash as ``-32000 Server error: <Type>: <text>`` (no traceback)."""
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return errors.internal_error(detail)


async def _resolve(value: Any) -> Any:
    """Await the backend's answer when its method is async."""
    if inspect.isawaitable(value):
        return await value
    return value


class Dispatcher:
    """Answers decoded JSON-RPC payloads (single or batch) from one backend."""

    def __init__(
        self,
        backend: ApiBackend,
        metrics: ApiMetrics,
        *,
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
        page_size_limit: int = DEFAULT_PAGE_SIZE_LIMIT,
    ) -> None:
        self.backend = backend
        self.metrics = metrics
        self.max_batch_size = max_batch_size
        self.page_size_limit = page_size_limit

    async def handle_payload(self, payload: Any, ledger: LedgerState) -> str:
        """The encoded response to a decoded body: an object, or an array for a batch."""
        if isinstance(payload, list):
            self.metrics.observe_http("batch")
            return await self.handle_batch(payload, ledger)
        self.metrics.observe_http("single")
        return await self.handle_one(payload, ledger)

    async def handle_batch(self, requests: Sequence[Any], ledger: LedgerState) -> str:
        """Run a batch concurrently, answering in request order; refuse empty or oversized ones."""
        if not requests:
            return encode_error(ledger, None, errors.invalid_request("empty batch"))
        if len(requests) > self.max_batch_size:
            return encode_error(ledger, None, errors.batch_size_exceeded(len(requests), self.max_batch_size))
        if self._submits_only(requests):
            parts = await self._handle_submits(requests, ledger)
        else:
            parts = await asyncio.gather(*(self.handle_one(request, ledger) for request in requests))
        return "[" + ",".join(parts) + "]"

    def _submits_only(self, requests: Sequence[Any]) -> bool:
        return isinstance(self.backend, SubmitSteps) and all(
            type(request) is dict and request.get("method") == "submit" for request in requests
        )

    async def _handle_submits(self, requests: Sequence[Any], ledger: LedgerState) -> list[str]:
        """A batch of ``submit`` calls, answered as :meth:`handle_one` answers each (see the
        module docstring): the calls are taken in order up to their signature check, the
        checks run as one job, then each call is admitted and answered in order."""
        backend = self.backend
        assert isinstance(backend, SubmitSteps)
        parts: list[str] = [""] * len(requests)
        waiting: list[tuple[int, float, Any, bytes]] = []  # (index, started, id, signed bytes)
        for index, request in enumerate(requests):
            started = time.perf_counter()
            request_id, error, crash = None, None, None
            try:
                request_id = request_id_of(request)
                spec = method_of(request)
                try:
                    args = bind_params(spec.params, request.get("params"))
                except ParamError as exc:
                    raise errors.invalid_params(spec.name, str(exc)) from None
                error = backend.refuse_submission(args[0])
            except JsonRpcError as exc:
                error = exc
            except Exception as exc:
                error, crash = internal_error_of(exc), exc
            if error is None:
                waiting.append((index, started, request_id, args[0]))
                continue
            parts[index] = encode_error(ledger, request_id, error)
            self._record("submit", request_id, error, time.perf_counter() - started, crash)
        failed: Exception | None = None
        if waiting:
            try:
                await backend.verify_submissions([data for _, _, _, data in waiting])
            except Exception as exc:
                failed = exc
        for index, started, request_id, data in waiting:
            error, crash = None, None
            if failed is not None:
                error, crash = internal_error_of(failed), failed
            else:
                try:
                    error = backend.admit_submission(data)
                except Exception as exc:
                    error, crash = internal_error_of(exc), exc
            if error is None:
                try:
                    parts[index] = encode_result(ledger, request_id, None)
                except (TypeError, ValueError) as exc:
                    error = errors.internal_error(f"submit returned a value that is not JSON: {exc}")
            if error is not None:
                parts[index] = encode_error(ledger, request_id, error)
            self._record("submit", request_id, error, time.perf_counter() - started, crash)
        return parts

    async def handle_one(self, request: Any, ledger: LedgerState) -> str:
        """One call, never raising: the encoded result or error, with metrics and a log line."""
        started = time.perf_counter()
        method = request.get("method") if isinstance(request, dict) else None
        request_id, error, crash = None, None, None
        try:
            request_id = request_id_of(request)
            spec = method_of(request)
            text = await self._call(spec, request.get("params"), ledger, request_id)
        except JsonRpcError as exc:
            error = exc
        except Exception as exc:
            error, crash = internal_error_of(exc), exc
        if error is not None:
            text = encode_error(ledger, request_id, error)
        self._record(method, request_id, error, time.perf_counter() - started, crash)
        return text

    async def _call(self, spec: MethodSpec, raw_params: Any, ledger: LedgerState, request_id: Any) -> str:
        """Steps 4-6: bind params, apply the method's rules, call the backend, encode its result."""
        try:
            args = bind_params(spec.params, raw_params)
        except ParamError as exc:
            raise errors.invalid_params(spec.name, str(exc)) from None
        result = await _resolve(spec.invoke(self.backend, ledger, args, self.page_size_limit))
        try:
            return encode_result(ledger, request_id, result)
        except (TypeError, ValueError) as exc:
            raise errors.internal_error(f"{spec.name} returned a value that is not JSON: {exc}") from None

    def _record(
        self,
        method: Any,
        request_id: Any,
        error: JsonRpcError | None,
        seconds: float,
        crash: BaseException | None = None,
    ) -> None:
        """Metrics for every call; one structured log line: debug if ok, info if the client
        erred, error (with the traceback of a crash, server side only) if the server did."""
        code = None if error is None else error.code
        self.metrics.observe_call(method, code, seconds)
        if error is None:
            level = logging.DEBUG
        elif error.is_internal():
            level = logging.ERROR
        else:
            level = logging.INFO
        if log.isEnabledFor(level):
            log.log(level, encode_json(self._log_record(method, request_id, error, seconds)), exc_info=crash)

    def _log_record(
        self, method: Any, request_id: Any, error: JsonRpcError | None, seconds: float
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "event": "jsonrpc_call",
            "method": self.metrics.method_label(method),
            "id": request_id if isinstance(request_id, int) else str(request_id)[:64],
            "latency_ms": round(seconds * 1000, 3),
        }
        if error is not None:
            record["error_code"] = error.code
            record["error"] = error.message[:200]
        return record
