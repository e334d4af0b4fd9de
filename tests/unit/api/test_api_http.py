"""HTTP behaviour: batches, CORS, body limit, GET/OPTIONS, metrics, health, extra routes."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from api_fakes import PARENT, UNKNOWN, FakeService, post_raw

from libra.api.server import METRICS_KEY, create_app


def call(method: str, params: object, request_id: object = 1) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


# --- batches ---------------------------------------------------------------------------------


async def test_batch_mixed_results_keep_order(client, service):
    batch = [
        call("get_account", [UNKNOWN], 1),
        call("no_such_method", [], 2),
        call("get_metadata", [], "three"),
        {"jsonrpc": "2.0", "method": "get_metadata"},
        call("get_account", ["bad"], 5),
        call("get_account", [PARENT], 6),
    ]
    status, body = await post_raw(client, json.dumps(batch))
    assert status == 200
    assert isinstance(body, list) and len(body) == 6
    assert [item["id"] for item in body] == [1, 2, "three", None, 5, 6]
    assert "result" in body[0] and body[0]["result"] is None
    assert body[1]["error"]["code"] == -32601
    assert body[2]["result"]["version"] == 100
    assert body[3]["error"]["code"] == -32604
    assert body[4]["error"]["code"] == -32602
    assert body[5]["result"]["address"] == PARENT
    for item in body:
        assert item["diem_chain_id"] == 4 and item["diem_ledger_version"] == 100
    assert service.ledger_reads == 1


async def test_batch_of_20_is_served(client):
    status, body = await post_raw(client, json.dumps([call("get_currencies", [], i) for i in range(20)]))
    assert status == 200
    assert [item["id"] for item in body] == list(range(20))


async def test_batch_over_20_is_refused_with_one_error(client, service):
    status, body = await post_raw(client, json.dumps([call("get_currencies", [], i) for i in range(21)]))
    assert status == 200
    assert isinstance(body, dict)
    assert body["id"] is None
    assert body["diem_ledger_version"] == 100
    assert body["error"] == {
        "code": -32600,
        "message": "Invalid Request: batch size = 21, exceed limit 20",
        "data": None,
    }
    assert not service.calls


async def test_empty_batch_is_invalid_request(client):
    status, body = await post_raw(client, "[]")
    assert status == 200
    assert body["error"] == {"code": -32600, "message": "Invalid Request: empty batch", "data": None}


async def test_batch_crash_stays_in_its_item(client, service):
    service.crash.add("get_currencies")
    status, body = await post_raw(client, json.dumps([call("get_currencies", [], 1), call("get_metadata", [], 2)]))
    assert body[0]["error"]["code"] == -32000
    assert body[1]["result"]["version"] == 100


@pytest.mark.parametrize("app_options", [{"max_batch_size": 2}])
async def test_batch_limit_is_configurable(client):
    _, body = await post_raw(client, json.dumps([call("get_currencies", [], i) for i in range(3)]))
    assert body["error"]["message"] == "Invalid Request: batch size = 3, exceed limit 2"


# --- CORS, GET, OPTIONS ------------------------------------------------------------------------


async def test_cors_preflight(client):
    response = await client.options(
        "/v1",
        headers={
            "Origin": "http://wallet.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()


async def test_plain_options_and_unknown_path(client):
    response = await client.options("/")
    assert response.status == 200
    assert "POST" in response.headers["Allow"]
    assert (await client.options("/nope")).status == 404


async def test_cors_header_on_answers_and_errors(client):
    response = await client.post("/v1", json=call("get_currencies", []), headers={"Origin": "http://x"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    response = await client.get("/nope")
    assert response.status == 404
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/", "/v1"])
async def test_get_on_jsonrpc_path_is_405(client, path):
    response = await client.get(path)
    assert response.status == 405
    assert "POST" in response.headers["Allow"]
    assert "JSON-RPC" in await response.text()


async def test_unknown_path_is_404(client):
    response = await client.post("/v2", json=call("get_currencies", []))
    assert response.status == 404


async def test_request_content_type_is_not_required(client):
    response = await client.post("/v1", data=json.dumps(call("get_currencies", [])))
    assert response.status == 200
    assert (await response.json())["result"][0]["code"] == "XUS"


# --- body limit ----------------------------------------------------------------------------------


async def test_body_over_limit_is_413_with_jsonrpc_error(client, service):
    big = json.dumps(call("get_account", ["00" * 8000]))
    status, body = await post_raw(client, big)
    assert status == 413
    assert body["error"] == {"code": -32600, "message": "Invalid Request: request body exceeds 8192 bytes", "data": None}
    assert body["diem_ledger_version"] == 100
    assert not service.calls


async def test_chunked_body_over_limit_is_413(client, service):
    async def stream():
        for _ in range(100):
            yield b" " * 1024

    response = await client.post("/v1", data=stream(), headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert (await response.json())["error"]["code"] == -32600


async def test_server_answers_after_oversized_body(client):
    await post_raw(client, " " * 100_000)
    status, body = await post_raw(client, json.dumps(call("get_currencies", [])))
    assert status == 200 and body["result"]


async def test_body_at_limit_is_read(client):
    text = json.dumps(call("get_currencies", []))
    padded = text + " " * (8192 - len(text))
    status, body = await post_raw(client, padded)
    assert status == 200 and body["result"]


# --- metrics, health, extra routes ------------------------------------------------------------------


async def test_metrics_endpoint_counts_requests(client):
    await post_raw(client, json.dumps(call("get_currencies", [])))
    await post_raw(client, json.dumps(call("get_account", ["bad"])))
    await post_raw(client, json.dumps(call("evil_method_name", [])))
    response = await client.get("/metrics")
    assert response.status == 200
    text = await response.text()
    assert 'libra_api_requests_total{method="get_currencies",result="ok"} 1.0' in text
    assert 'libra_api_requests_total{method="get_account",result="-32602"} 1.0' in text
    assert 'libra_api_requests_total{method="unknown",result="-32601"} 1.0' in text
    assert 'libra_api_request_latency_seconds_count{method="get_currencies"} 1.0' in text
    assert "evil_method_name" not in text


async def test_node_metric_hooks_are_exposed(client):
    node = client.server.app[METRICS_KEY].node
    node.committed_version.set(42)
    node.tps.set(123.5)
    node.mempool_size.set(7)
    node.record_rejection("SEQUENCE_NUMBER_TOO_OLD")
    text = await (await client.get("/metrics")).text()
    assert "libra_ledger_committed_version 42.0" in text
    assert "libra_ledger_transactions_per_second 123.5" in text
    assert "libra_mempool_transactions 7.0" in text
    assert 'libra_mempool_rejected_transactions_total{reason="SEQUENCE_NUMBER_TOO_OLD"} 1.0' in text


async def test_two_apps_have_separate_registries():
    first, second = create_app(FakeService()), create_app(FakeService())
    first[METRICS_KEY].node.committed_version.set(1)
    second[METRICS_KEY].node.committed_version.set(2)
    assert first[METRICS_KEY].registry is not second[METRICS_KEY].registry


async def test_health(client, service):
    assert await (await client.get("/-/healthy")).text() == "libra-node:ok"
    stale = await client.get("/-/healthy?duration_secs=10")
    assert stale.status == 503  # the fake ledger is from 2020
    assert (await client.get("/-/healthy?duration_secs=x")).status == 400


async def test_extra_routes_are_served_with_cors():
    async def mint(_request: web.Request) -> web.Response:
        return web.Response(text="00")

    app = create_app(FakeService(), extra_routes=[web.post("/mint", mint)])
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.post("/mint?amount=1")
        assert response.status == 200
        assert await response.text() == "00"
        assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_concurrent_requests(client):
    results = await asyncio.gather(*(post_raw(client, json.dumps(call("get_metadata", [], i))) for i in range(50)))
    assert sorted(body["id"] for _, body in results) == list(range(50))
