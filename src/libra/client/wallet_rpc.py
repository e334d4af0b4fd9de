"""A small synchronous client for the wallet: Diem JSON-RPC, the testnet faucet and the push stream.

Plain ``urllib`` (no extra dependency, no event loop in a CLI). Failures become
:class:`RpcError` (the node answered with a JSON-RPC error) or
:class:`NodeUnreachable` (no usable answer: refused, timed out, not JSON, HTTP error).

URLs: the JSON-RPC URL is the node's ``.../v1``; the faucet is ``/mint`` and the
push stream ``/v1/stream`` on the same host unless given explicitly.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

USER_AGENT = "libra-wallet/0.1"
DEFAULT_TIMEOUT_SECS = 10.0
TC_ADDRESS_HEX = "0000000000000000000000000b1e55ed"
EVENTS_PAGE = 100


class RpcError(Exception):
    """The node answered the call with a JSON-RPC error object."""

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{method}: {message} (JSON-RPC error {code})")
        self.method = method
        self.code = code
        self.message = message
        self.data = data


class NodeUnreachable(Exception):
    """No usable answer from the node or the faucet; the message says what happened."""


@dataclass(frozen=True, slots=True)
class StreamMessage:
    """One server-sent event: its ``event`` name, decoded JSON ``data`` and ``id`` (if any)."""

    event: str
    data: Any
    id: str | None


def faucet_url_for(json_rpc_url: str) -> str:
    parts = urllib.parse.urlsplit(json_rpc_url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/mint", "", ""))


def stream_url_for(json_rpc_url: str) -> str:
    parts = urllib.parse.urlsplit(json_rpc_url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/v1/stream", "", ""))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        if isinstance(reason, ConnectionRefusedError):
            return "connection refused (is the node running?)"
        if isinstance(reason, socket.gaierror):
            return f"unknown host ({reason.strerror})"
        return str(getattr(reason, "strerror", None) or reason)
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    return str(exc) or type(exc).__name__


class WalletRpc:
    """JSON-RPC calls with the ledger envelope of the last answer kept in ``chain_id`` etc."""

    def __init__(self, url: str, *, faucet_url: str | None = None, timeout: float = DEFAULT_TIMEOUT_SECS) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"the node URL must be http(s)://host:port/v1, got {url!r}")
        self.url = url
        self.faucet_url = faucet_url or faucet_url_for(url)
        self.stream_url = stream_url_for(url)
        self.timeout = timeout
        self.chain_id: int | None = None
        self.ledger_version = 0
        self.ledger_timestamp_usecs = 0

    # --- transport ------------------------------------------------------------------------

    def call(self, method: str, *params: Any) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()  # Diem answers 413 etc. with an envelope; try to read it
            if not raw:
                raise NodeUnreachable(f"the node at {self.url} answered {_reason(exc)}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise NodeUnreachable(f"cannot reach the node at {self.url}: {_reason(exc)}") from None
        try:
            answer = json.loads(raw)
        except ValueError:
            raise NodeUnreachable(f"the node at {self.url} did not answer JSON-RPC (is the URL right?)") from None
        if not isinstance(answer, dict):
            raise NodeUnreachable(f"the node at {self.url} sent an unexpected answer")
        if isinstance(answer.get("diem_chain_id"), int):
            self.chain_id = answer["diem_chain_id"]
        self.ledger_version = max(self.ledger_version, int(answer.get("diem_ledger_version") or 0))
        self.ledger_timestamp_usecs = max(self.ledger_timestamp_usecs, int(answer.get("diem_ledger_timestampusec") or 0))
        error = answer.get("error")
        if error is not None:
            raise RpcError(method, int(error.get("code", 0)), str(error.get("message", "")), error.get("data"))
        if "result" not in answer:
            raise NodeUnreachable(f"the node at {self.url} sent neither a result nor an error")
        return answer["result"]

    # --- Diem methods ---------------------------------------------------------------------

    def get_metadata(self) -> dict[str, Any]:
        result = self.call("get_metadata")
        assert isinstance(result, dict)
        return result

    def get_currencies(self) -> list[dict[str, Any]]:
        return list(self.call("get_currencies") or [])

    def get_account(self, address: bytes) -> dict[str, Any] | None:
        result = self.call("get_account", address.hex())
        return result if isinstance(result, dict) else None

    def get_account_transaction(self, address: bytes, seq: int, include_events: bool = True) -> dict[str, Any] | None:
        result = self.call("get_account_transaction", address.hex(), seq, include_events)
        return result if isinstance(result, dict) else None

    def get_transactions(self, start_version: int, limit: int, include_events: bool = False) -> list[dict[str, Any]]:
        return list(self.call("get_transactions", start_version, limit, include_events) or [])

    def get_events(self, key_hex: str, start: int, limit: int = EVENTS_PAGE) -> list[dict[str, Any]]:
        return list(self.call("get_events", key_hex, start, limit) or [])

    def get_all_events(self, key_hex: str, page: int = EVENTS_PAGE) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        while True:
            chunk = self.get_events(key_hex, len(events), page)
            events.extend(chunk)
            if len(chunk) < page:
                return events

    def submit(self, signed_txn_bcs: bytes) -> None:
        self.call("submit", signed_txn_bcs.hex())

    def diem_id_domains(self) -> dict[str, bytes]:
        """Domain -> parent VASP address, from the TC account's ``diemiddomain`` events (latest wins)."""
        tc = self.get_account(bytes.fromhex(TC_ADDRESS_HEX))
        key = ((tc or {}).get("role") or {}).get("diem_id_domain_events_key")
        if not key:
            return {}
        domains: dict[str, bytes] = {}
        for event in self.get_all_events(key):
            data = event.get("data") or {}
            if data.get("type") != "diemiddomain":
                continue
            domain = str(data.get("domain", ""))
            if data.get("removed"):
                domains.pop(domain, None)
            else:
                domains[domain] = bytes.fromhex(data["address"])
        return domains

    # --- faucet ---------------------------------------------------------------------------

    def mint(self, auth_key: bytes, amount: int, currency: str, domain: str | None = None) -> str:
        """Ask the faucet for ``amount`` micro-units; returns its answer (hex of the transactions)."""
        query = {
            "amount": str(amount),
            "auth_key": auth_key.hex(),
            "currency_code": currency,
            "return_txns": "true",
            "is_designated_dealer": "false",
            "is_remove_domain": "false",
        }
        if domain is not None:
            query["diem_id_domain"] = domain
        url = f"{self.faucet_url}?{urllib.parse.urlencode(query)}"
        request = urllib.request.Request(url, data=b"", headers={"User-Agent": USER_AGENT}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=max(self.timeout, 40.0)) as response:
                return str(response.read().decode("ascii", "replace"))
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace").strip()
            if exc.code == 404:
                raise NodeUnreachable(f"no faucet at {self.faucet_url} (HTTP 404); is this a test network?") from None
            raise NodeUnreachable(f"the faucet refused: {text or _reason(exc)}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise NodeUnreachable(f"cannot reach the faucet at {self.faucet_url}: {_reason(exc)}") from None

    # --- push stream ----------------------------------------------------------------------

    def stream(
        self, *, addresses: list[bytes], since_version: int | None = None, timeout: float = 30.0
    ) -> Iterator[StreamMessage]:
        """Server-sent events of ``/v1/stream`` for ``addresses`` until the server closes it."""
        query: list[tuple[str, str]] = [("address", a.hex()) for a in addresses]
        if since_version is not None:
            query.append(("since_version", str(since_version)))
        url = f"{self.stream_url}?{urllib.parse.urlencode(query)}"
        request = urllib.request.Request(url, headers={"Accept": "text/event-stream", "User-Agent": USER_AGENT})
        try:
            response = urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace").strip()
            raise NodeUnreachable(f"the stream at {self.stream_url} refused: {text or _reason(exc)}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise NodeUnreachable(f"cannot reach the stream at {self.stream_url}: {_reason(exc)}") from None
        with response:
            event, event_id = "message", None
            data_lines: list[str] = []
            while True:
                try:
                    line = response.readline()
                except (OSError, TimeoutError) as exc:
                    raise NodeUnreachable(f"the stream at {self.stream_url} stopped: {_reason(exc)}") from None
                if not line:
                    return
                text = line.decode("utf-8").rstrip("\r\n")
                if not text:
                    if data_lines:
                        try:
                            data = json.loads("\n".join(data_lines))
                        except ValueError:
                            data = "\n".join(data_lines)
                        yield StreamMessage(event, data, event_id)
                    event, data_lines, event_id = "message", [], None
                    continue
                if text.startswith(":"):
                    continue
                field, _, value = text.partition(":")
                value = value.removeprefix(" ")
                if field == "event":
                    event = value
                elif field == "data":
                    data_lines.append(value)
                elif field == "id":
                    event_id = value
