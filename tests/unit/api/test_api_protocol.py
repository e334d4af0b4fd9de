"""JSON-RPC protocol behaviour: envelope, request shape errors, params errors, crashes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_fakes import CHAIN_ID, PARENT, RECEIVED_KEY, UNKNOWN, FakeService, post_raw, rpc, signed_txn_hex

from libra.api import errors

ENVELOPE = {"id", "jsonrpc", "diem_chain_id", "diem_ledger_version", "diem_ledger_timestampusec"}


def assert_envelope(response: dict[str, Any], service: FakeService) -> None:
    assert response.keys() >= ENVELOPE
    assert response["jsonrpc"] == "2.0"
    assert response["diem_chain_id"] == CHAIN_ID
    assert response["diem_ledger_version"] == service.ledger.version
    assert response["diem_ledger_timestampusec"] == service.ledger.timestamp_usecs


def assert_error(response: dict[str, Any], code: int, message: str) -> None:
    assert "result" not in response
    assert response["error"] == {"code": code, "message": message, "data": None}


async def test_success_envelope_and_headers(client, service):
    response = await client.post("/v1", json={"jsonrpc": "2.0", "id": 7, "method": "get_metadata", "params": []})
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Diem-Chain-Id"] == str(CHAIN_ID)
    assert response.headers["X-Diem-Ledger-Version"] == "100"
    assert response.headers["X-Diem-Ledger-TimestampUsec"] == str(service.ledger.timestamp_usecs)
    body = await response.json()
    assert_envelope(body, service)
    assert body["id"] == 7
    assert body["result"]["dual_attestation_limit"] == 1000000000
    assert "error" not in body
    assert list(body) == ["id", "jsonrpc", "diem_chain_id", "diem_ledger_version", "diem_ledger_timestampusec", "result"]


async def test_root_path_serves_jsonrpc_too(client, service):
    response = await client.post("/", json={"jsonrpc": "2.0", "id": 1, "method": "get_currencies"})
    body = await response.json()
    assert [c["code"] for c in body["result"]] == ["XUS", "XDX"]


async def test_null_result_key_is_present(client, service):
    body = await rpc(client, "get_account", [UNKNOWN])
    assert "result" in body and body["result"] is None
    assert_envelope(body, service)


async def test_string_id_is_echoed(client):
    body = await rpc(client, "get_currencies", [], request_id="abc")
    assert body["id"] == "abc"


async def test_error_envelope_has_ledger_fields(client, service):
    body = await rpc(client, "no_such_method", [])
    assert_envelope(body, service)
    assert_error(body, -32601, "Method not found")


async def test_ledger_state_read_once_per_request(client, service):
    await rpc(client, "get_metadata", [])
    assert service.ledger_reads == 1


@pytest.mark.parametrize(
    "raw",
    [b"{", b"", b"not json", b'{"jsonrpc": "2.0", "id": 1, "method": "get_metadata", "params": [NaN]}', b"\xff\xfe\x00"],
)
async def test_malformed_json_is_parse_error(client, service, raw):
    status, body = await post_raw(client, raw)
    assert status == 200
    assert_envelope(body, service)
    assert body["id"] is None
    assert_error(body, -32700, "Parse error")


@pytest.mark.parametrize(
    ("request_body", "code", "message", "request_id"),
    [
        (True, -32604, "Invalid request format", None),
        ("get_metadata", -32604, "Invalid request format", None),
        ({"jsonrpc": "2.0", "method": "get_metadata"}, -32604, "Invalid request format", None),
        ({"jsonrpc": "2.0", "method": "get_metadata", "id": True}, -32604, "Invalid request format", None),
        ({"jsonrpc": "2.0", "method": "get_metadata", "id": 1.5}, -32604, "Invalid request format", None),
        ({"jsonrpc": "2.0", "method": "get_metadata", "id": -1}, -32604, "Invalid request format", None),
        ({"jsonrpc": "2.0", "method": "get_metadata", "id": None}, -32604, "Invalid request format", None),
        ({"jsonrpc": "2.0", "method": "get_metadata", "id": [1]}, -32604, "Invalid request format", None),
        ({"jsonrpc": "1.0", "method": "get_metadata", "id": 1}, -32600, "Invalid Request", 1),
        ({"method": "get_metadata", "id": 1}, -32600, "Invalid Request", 1),
        ({"jsonrpc": "2.0", "id": 1}, -32601, "Method not found", 1),
        ({"jsonrpc": "2.0", "method": 5, "id": 1}, -32601, "Method not found", 1),
        ({"jsonrpc": "2.0", "method": "add", "id": 1}, -32601, "Method not found", 1),
    ],
)
async def test_invalid_requests(client, service, request_body, code, message, request_id):
    status, body = await post_raw(client, json.dumps(request_body))
    assert status == 200
    assert_envelope(body, service)
    assert body["id"] == request_id
    assert_error(body, code, message)


P = "Invalid params for method"
U64_MAX = 2**64 - 1


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("get_currencies", [1, 2], f"{P} 'get_currencies': expected at most 0 params, got 2"),
        ("get_events", None, f"{P} 'get_events': key: missing required param"),
        ("get_metadata", [1, 2], f"{P} 'get_metadata': expected at most 1 params, got 2"),
        ("get_metadata", "oops", f"{P} 'get_metadata': params must be an array or an object"),
        ("get_account", [False], f"{P} 'get_account': account: expected 32 hex characters (16-byte account address, no 0x prefix)"),
        ("get_account", ["helloworld"], f"{P} 'get_account': account: expected 32 hex characters (16-byte account address, no 0x prefix)"),
        ("get_account", ["0x" + PARENT], f"{P} 'get_account': account: expected 32 hex characters (16-byte account address, no 0x prefix)"),
        ("get_account", [PARENT[:-2] + "zz"], f"{P} 'get_account': account: expected 32 hex characters (16-byte account address, no 0x prefix)"),
        ("get_account", [PARENT, True], f"{P} 'get_account': version: expected an unsigned 64-bit integer"),
        ("get_account", [PARENT, 1, 2], f"{P} 'get_account': expected at most 2 params, got 3"),
        ("submit", ["helloworld"], f"{P} 'submit': data: expected hex-encoded SignedTransaction"),
        ("submit", ["00ff"], f"{P} 'submit': data: expected hex-encoded SignedTransaction"),
        ("submit", [7], f"{P} 'submit': data: expected hex-encoded SignedTransaction"),
        ("get_transactions", ["helloworld", 1, True], f"{P} 'get_transactions': start_version: expected an unsigned 64-bit integer"),
        ("get_transactions", [1, False, True], f"{P} 'get_transactions': limit: expected an unsigned 64-bit integer"),
        ("get_transactions", [1, 10, "true"], f"{P} 'get_transactions': include_events: expected a boolean (true or false)"),
        ("get_transactions", [1, 10, 1], f"{P} 'get_transactions': include_events: expected a boolean (true or false)"),
        ("get_transactions", [-1, 10, True], f"{P} 'get_transactions': start_version: integer out of u64 range"),
        ("get_transactions", [U64_MAX + 1, 10, True], f"{P} 'get_transactions': start_version: integer out of u64 range"),
        ("get_transactions", [1.0, 10, True], f"{P} 'get_transactions': start_version: expected an unsigned 64-bit integer"),
        ("get_transactions", [None, 10, True], f"{P} 'get_transactions': start_version: expected an unsigned 64-bit integer"),
        ("get_transactions", [10, 11], f"{P} 'get_transactions': include_events: missing required param"),
        ("get_events", [False, 1, 10], f"{P} 'get_events': key: expected 48 hex characters (24-byte event key, no 0x prefix)"),
        ("get_events", ["helloworld", 1, 10], f"{P} 'get_events': key: expected 48 hex characters (24-byte event key, no 0x prefix)"),
        ("get_events", [RECEIVED_KEY, False, 1], f"{P} 'get_events': start: expected an unsigned 64-bit integer"),
        ("get_events", [RECEIVED_KEY, 1, "invalid"], f"{P} 'get_events': limit: expected an unsigned 64-bit integer"),
        ("get_account_transaction", [PARENT, False, False], f"{P} 'get_account_transaction': sequence_number: expected an unsigned 64-bit integer"),
        ("get_account_transactions", [PARENT, 1, 5, "false"], f"{P} 'get_account_transactions': include_events: expected a boolean (true or false)"),
        ("get_state_proof", ["invalid"], f"{P} 'get_state_proof': version: expected an unsigned 64-bit integer"),
        ("get_state_proof", [], f"{P} 'get_state_proof': version: missing required param"),
        ("get_account_state_with_proof", [PARENT, "invalid", None], f"{P} 'get_account_state_with_proof': version: expected an unsigned 64-bit integer"),
        ("get_accumulator_consistency_proof", [123, "bar"], f"{P} 'get_accumulator_consistency_proof': ledger_version: expected an unsigned 64-bit integer"),
        ("get_event_by_version_with_proof", [RECEIVED_KEY, 10, False], f"{P} 'get_event_by_version_with_proof': expected at most 2 params, got 3"),
        ("get_network_status", [1], f"{P} 'get_network_status': expected at most 0 params, got 1"),
        ("get_events", {"start": 1, "limit": 2}, f"{P} 'get_events': key: missing required param"),
    ],
)
async def test_invalid_params(client, service, method, params, message):
    body = await rpc(client, method, params)
    assert_envelope(body, service)
    assert_error(body, -32602, message)
    assert not service.calls


@pytest.mark.parametrize(
    ("method", "params", "code", "message"),
    [
        ("get_metadata", [101], -32602, "Invalid param version should be <= known latest version 100"),
        ("get_account", [PARENT, 101], -32602, "Invalid param version should be <= known latest version 100"),
        ("get_state_proof", [101], -32602, "Invalid param version should be <= known latest version 100"),
        ("get_event_by_version_with_proof", [RECEIVED_KEY, 101], -32602, "Invalid param version should be <= known latest version 100"),
        ("get_transactions", [0, 1001, False], -32600, "Invalid Request: page size = 1001, exceed limit 1000"),
        ("get_events", [RECEIVED_KEY, 0, 1001], -32600, "Invalid Request: page size = 1001, exceed limit 1000"),
        ("get_account_transactions", [PARENT, 0, 1001, False], -32600, "Invalid Request: page size = 1001, exceed limit 1000"),
        ("get_transactions_with_proofs", [1, 1001, False], -32600, "Invalid Request: page size = 1001, exceed limit 1000"),
        ("get_events_with_proofs", [RECEIVED_KEY, 0, 1001], -32600, "Invalid Request: page size = 1001, exceed limit 1000"),
        ("get_account_transactions_with_proofs", [PARENT, 1, 1001, False], -32600, "Invalid Request: page size = 1001, exceed limit 1000"),
        ("get_account_transactions_with_proofs", [PARENT, 1, 5, False, 101], -32602, "Invalid param ledger_version should be <= known latest version 100"),
        ("get_accumulator_consistency_proof", [5, 101], -32602, "Invalid param ledger_version should be <= known latest version 100"),
        ("get_accumulator_consistency_proof", [101, 100], -32600, "Invalid Request: client_known_version(101) should be <= ledger_version(100)"),
        ("get_accumulator_consistency_proof", [101], -32600, "Invalid Request: client_known_version(101) should be <= ledger_version(100)"),
        ("get_account_state_with_proof", [PARENT, 100, 99], -32600, "Invalid Request: version(100) should <= ledger version(99)"),
        ("get_account_state_with_proof", [PARENT, 0, 101], -32602, "Invalid param ledger_version should be <= known latest version 100"),
        ("get_account_state_with_proof", [PARENT, 101, None], -32602, "Invalid param version should be <= known latest version 100"),
        ("get_account_state_with_proof", [PARENT, None, 101], -32602, "Invalid param ledger_version should be <= known latest version 100"),
    ],
)
async def test_ledger_dependent_rules(client, service, method, params, code, message):
    body = await rpc(client, method, params)
    assert_envelope(body, service)
    assert_error(body, code, message)
    assert not service.calls


async def test_limit_at_page_size_is_allowed(client, service):
    body = await rpc(client, "get_transactions", [0, 1000, False])
    assert len(body["result"]) == 101


@pytest.mark.parametrize(
    ("method", "params", "expected_call"),
    [
        ("get_metadata", None, ("get_metadata", (None,))),
        ("get_metadata", [None], ("get_metadata", (None,))),
        ("get_metadata", {}, ("get_metadata", (None,))),
        ("get_metadata", [100], ("get_metadata", (100,))),
        ("get_metadata", {"version": 5, "foo": 1}, ("get_metadata", (5,))),
        ("get_currencies", {}, ("get_currencies", ())),
        ("get_account", [PARENT.upper()], ("get_account", (bytes.fromhex(PARENT), None))),
        ("get_account", {"account": PARENT, "version": 3}, ("get_account", (bytes.fromhex(PARENT), 3))),
        ("get_account_transaction", [PARENT, 2, True], ("get_account_transaction", (bytes.fromhex(PARENT), 2, True))),
        ("get_account_transactions", [PARENT, 0, 10, False], ("get_account_transactions", (bytes.fromhex(PARENT), 0, 10, False))),
        ("get_transactions", [U64_MAX, 1, False], ("get_transactions", (U64_MAX, 1, False))),
        ("get_events", [RECEIVED_KEY, 0, 100], ("get_events", (bytes.fromhex(RECEIVED_KEY), 0, 100))),
        ("get_state_proof", [100], ("get_state_proof", (100,))),
        ("get_account_state_with_proof", [PARENT], ("get_account_state_with_proof", (bytes.fromhex(PARENT), None, None))),
        ("get_account_state_with_proof", [PARENT, None, None], ("get_account_state_with_proof", (bytes.fromhex(PARENT), None, None))),
        ("get_account_state_with_proof", [PARENT, 5, 9], ("get_account_state_with_proof", (bytes.fromhex(PARENT), 5, 9))),
        ("get_transactions_with_proofs", [1, 2, True], ("get_transactions_with_proofs", (1, 2, True))),
        ("get_account_transactions_with_proofs", [PARENT, 1, 2, False], ("get_account_transactions_with_proofs", (bytes.fromhex(PARENT), 1, 2, False, None))),
        ("get_account_transactions_with_proofs", [PARENT, 1, 2, False, 50], ("get_account_transactions_with_proofs", (bytes.fromhex(PARENT), 1, 2, False, 50))),
        ("get_events_with_proofs", [RECEIVED_KEY, 1, 2], ("get_events_with_proofs", (bytes.fromhex(RECEIVED_KEY), 1, 2))),
        ("get_event_by_version_with_proof", [RECEIVED_KEY], ("get_event_by_version_with_proof", (bytes.fromhex(RECEIVED_KEY), None))),
        ("get_accumulator_consistency_proof", [], ("get_accumulator_consistency_proof", (None, None))),
        ("get_accumulator_consistency_proof", [100], ("get_accumulator_consistency_proof", (100, None))),
        ("get_network_status", [], ("get_network_status", ())),
    ],
)
async def test_valid_params_reach_backend_typed(client, service, method, params, expected_call):
    body = await rpc(client, method, params)
    assert "error" not in body, body
    assert "result" in body
    assert service.calls == [expected_call]


async def test_get_transactions_past_tip_is_empty(client):
    body = await rpc(client, "get_transactions", [U64_MAX, 1, False])
    assert body["result"] == []


async def test_backend_json_rpc_error_passes_through(client, service):
    service.reject_submit = errors.vm_validation_error("SEQUENCE_NUMBER_TOO_OLD", 3)
    body = await rpc(client, "submit", [signed_txn_hex()])
    assert body["error"] == {
        "code": -32001,
        "message": "Server error: VM Validation error: SEQUENCE_NUMBER_TOO_OLD",
        "data": {"StatusCode": 3},
    }


async def test_handler_crash_is_server_error_and_server_survives(client, service, caplog):
    service.crash.add("get_currencies")
    with caplog.at_level("ERROR", logger="libra.api.requests"):
        body = await rpc(client, "get_currencies", [])
    assert_envelope(body, service)
    assert_error(body, -32000, "Server error: RuntimeError: get_currencies exploded")
    assert "Traceback" not in json.dumps(body)
    assert any(record.exc_info for record in caplog.records), "crash must be logged with its traceback"
    body = await rpc(client, "get_metadata", [])
    assert body["result"]["version"] == 100


async def test_result_that_is_not_json_is_server_error(client, service):
    service.get_network_status = lambda: {1, 2}  # a set is not JSON
    body = await rpc(client, "get_network_status", [])
    assert body["error"]["code"] == -32000
    assert body["error"]["message"].startswith("Server error: get_network_status returned a value that is not JSON")


async def test_ledger_state_failure_is_503(client, service):
    service.crash.add("ledger_state")
    response = await client.post("/v1", json={"jsonrpc": "2.0", "id": 1, "method": "get_metadata"})
    assert response.status == 503
    body = await response.json()
    assert body["error"]["code"] == -32000
    service.crash.clear()
    assert (await rpc(client, "get_metadata", []))["result"]["version"] == 100
