"""The aiohttp application serving Diem's JSON-RPC API, metrics and health.

Routes:

* ``POST /`` and ``POST /v1``: JSON-RPC (single or batch, see ``dispatcher.py``).
  Every JSON-RPC outcome, errors included, is HTTP 200 ``application/json`` with
  Diem's envelope and the ``X-Diem-Chain-Id``, ``X-Diem-Ledger-Version``,
  ``X-Diem-Ledger-TimestampUsec`` headers. Two HTTP-level exceptions, as Diem's
  server: a body over ``max_body_bytes`` is refused with **413** (checked from
  Content-Length, else while streaming, so the body is never held whole), and
  ``GET`` is **405** with ``Allow: POST, OPTIONS``. A body that is not JSON is
  ``-32700 Parse error`` (HTTP 200). If the ledger state cannot be read the answer
  is 503 (no envelope can be built).
* ``GET /metrics``: Prometheus text of this app's registry (``metrics.py``).
* ``GET /-/healthy[?duration_secs=N]``: ``libra-node:ok``; with ``duration_secs``,
  503 unless the latest ledger timestamp is at most N seconds old (Diem's check).
* ``extra_routes``: anything the node adds (faucet ``/mint``, wallet files).

CORS on every route: ``Access-Control-Allow-Origin: *``; ``OPTIONS`` to any
served path (a CORS preflight or not) is answered 200 with the allowed methods and
headers before the route's handler runs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from libra.api import errors
from libra.api.backend import ApiBackend, LedgerState
from libra.api.dispatcher import (
    DEFAULT_MAX_BATCH_SIZE,
    DEFAULT_PAGE_SIZE_LIMIT,
    METHODS,
    Dispatcher,
    encode_error,
    encode_json,
)
from libra.api.metrics import ApiMetrics

#: Diem's default ``content_length_limit`` (32 KiB).
DEFAULT_MAX_BODY_BYTES = 32 * 1024
JSONRPC_PATHS = ("/", "/v1")
CORS_ALLOW_METHODS = "POST, GET, OPTIONS"
CORS_ALLOW_HEADERS = "Content-Type"
CORS_MAX_AGE_SECONDS = "86400"
_READ_CHUNK = 16 * 1024

BACKEND_KEY = web.AppKey("libra_api_backend", object)
METRICS_KEY = web.AppKey("libra_api_metrics", ApiMetrics)
DISPATCHER_KEY = web.AppKey("libra_api_dispatcher", Dispatcher)
MAX_BODY_KEY = web.AppKey("libra_api_max_body_bytes", int)

log = logging.getLogger("libra.api.server")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BodyTooLarge(Exception):
    """The request body is over the configured limit."""


# --- CORS ----------------------------------------------------------------------------------


def _is_preflight(request: web.Request) -> bool:
    """Any OPTIONS to a path we serve (a plain OPTIONS gets the same answer, plus ``Allow``)."""
    if request.method != "OPTIONS":
        return False
    return not isinstance(request.match_info.http_exception, web.HTTPNotFound)


def _preflight_response() -> web.Response:
    """200 to a CORS preflight: any origin, our methods, the Content-Type header."""
    return web.Response(
        status=200,
        headers={
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": CORS_ALLOW_METHODS,
            "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
            "Access-Control-Max-Age": CORS_MAX_AGE_SECONDS,
            "Allow": CORS_ALLOW_METHODS,
        },
    )


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer preflights before routing; add ``Access-Control-Allow-Origin: *`` to every answer."""
    if _is_preflight(request):
        return _preflight_response()
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers["Access-Control-Allow-Origin"] = "*"
        raise
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --- body and JSON ---------------------------------------------------------------------------


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body if it is at most ``limit`` bytes; never buffers more than that."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(_READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_json(body: bytes) -> Any:
    """Strict JSON (no NaN/Infinity); any failure is a JSON-RPC parse error."""
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise errors.parse_error() from None


# --- responses -----------------------------------------------------------------------------


def _ledger_headers(ledger: LedgerState) -> dict[str, str]:
    return {
        "X-Diem-Chain-Id": str(ledger.chain_id),
        "X-Diem-Ledger-Version": str(ledger.version),
        "X-Diem-Ledger-TimestampUsec": str(ledger.timestamp_usecs),
    }


def json_response(text: str, ledger: LedgerState | None, status: int = 200) -> web.Response:
    """``application/json`` (no charset parameter, as Diem) with the ledger headers."""
    headers = _ledger_headers(ledger) if ledger is not None else {}
    return web.Response(
        body=text.encode("utf-8"), status=status, content_type="application/json", headers=headers
    )


def _ledger_unavailable() -> web.Response:
    """503 when the backend cannot say where the ledger is: no envelope can be built."""
    error = errors.internal_error("ledger state unavailable")
    body = encode_json({"id": None, "jsonrpc": "2.0", "error": error.to_json()})
    return json_response(body, None, status=503)


def read_ledger(backend: ApiBackend) -> LedgerState | None:
    """The one ledger snapshot for this HTTP request, or None (logged) if the backend failed."""
    try:
        return backend.ledger_state()
    except Exception:
        log.exception("ledger_state() failed")
        return None


# --- handlers ------------------------------------------------------------------------------


async def handle_jsonrpc(request: web.Request) -> web.Response:
    """``POST /`` and ``/v1``: size check, one ledger snapshot, parse, dispatch."""
    app = request.app
    dispatcher = app[DISPATCHER_KEY]
    try:
        body = await read_body(request, app[MAX_BODY_KEY])
    except BodyTooLarge:
        return _too_large(dispatcher, app[MAX_BODY_KEY])
    ledger = read_ledger(dispatcher.backend)
    if ledger is None:
        return _ledger_unavailable()
    try:
        payload = decode_json(body)
    except errors.JsonRpcError as exc:
        dispatcher.metrics.observe_http("invalid")
        return json_response(encode_error(ledger, None, exc), ledger)
    return json_response(await dispatcher.handle_payload(payload, ledger), ledger)


def _too_large(dispatcher: Dispatcher, limit: int) -> web.Response:
    """HTTP 413 (Diem's status) with a JSON-RPC error body explaining the limit."""
    dispatcher.metrics.observe_http("invalid")
    ledger = read_ledger(dispatcher.backend)
    if ledger is None:
        return _ledger_unavailable()
    return json_response(encode_error(ledger, None, errors.body_too_large(limit)), ledger, status=413)


async def handle_jsonrpc_get(_request: web.Request) -> web.Response:
    """``GET /`` and ``/v1``: 405 like Diem, saying how to call the API."""
    return web.Response(
        status=405,
        text="JSON-RPC 2.0 endpoint: POST a request object or batch array with Content-Type application/json\n",
        headers={"Allow": "POST, OPTIONS"},
    )


async def handle_metrics(request: web.Request) -> web.Response:
    """``GET /metrics``: Prometheus exposition of this app's registry."""
    body, content_type = request.app[METRICS_KEY].exposition()
    response = web.Response(body=body)
    response.headers["Content-Type"] = content_type
    return response


async def handle_health(request: web.Request) -> web.Response:
    """``GET /-/healthy``: ok, or 503 if ``duration_secs`` is given and the ledger is older."""
    duration = request.query.get("duration_secs")
    if duration is None:
        return web.Response(text="libra-node:ok")
    if not duration.isdigit():
        return web.Response(status=400, text="duration_secs must be a non-negative integer\n")
    ledger = read_ledger(request.app[DISPATCHER_KEY].backend)
    if ledger is None or not is_fresh(ledger, int(duration), time.time()):
        return web.Response(status=503, text="libra-node:stale\n")
    return web.Response(text="libra-node:ok")


def is_fresh(ledger: LedgerState, duration_secs: int, now_secs: float) -> bool:
    """The latest ledger timestamp is no older than ``duration_secs`` before ``now_secs``."""
    return ledger.timestamp_usecs >= (now_secs - duration_secs) * 1_000_000


# --- app -----------------------------------------------------------------------------------


def create_app(
    service: ApiBackend,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    page_size_limit: int = DEFAULT_PAGE_SIZE_LIMIT,
    extra_routes: Iterable[web.AbstractRouteDef] = (),
    metrics: ApiMetrics | None = None,
) -> web.Application:
    """The API app over ``service``; ``app[METRICS_KEY].node`` holds the node's metric hooks."""
    metrics = metrics if metrics is not None else ApiMetrics(METHODS)
    dispatcher = Dispatcher(service, metrics, max_batch_size=max_batch_size, page_size_limit=page_size_limit)
    # client_max_size guards any extra route that reads its body the ordinary way.
    app = web.Application(middlewares=[cors_middleware], client_max_size=max_body_bytes)
    app[BACKEND_KEY] = service
    app[METRICS_KEY] = metrics
    app[DISPATCHER_KEY] = dispatcher
    app[MAX_BODY_KEY] = max_body_bytes
    for path in JSONRPC_PATHS:
        app.router.add_post(path, handle_jsonrpc)
        app.router.add_get(path, handle_jsonrpc_get, allow_head=False)
    app.router.add_get("/metrics", handle_metrics)
    app.router.add_get("/-/healthy", handle_health)
    app.add_routes(list(extra_routes))
    return app
