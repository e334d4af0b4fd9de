"""The official Diem SDK clients (sync and async) against our app: envelope and parsing compatibility."""

from __future__ import annotations

import asyncio

import pytest
from api_fakes import PARENT, RECEIVED_KEY, UNKNOWN, signed_txn_hex
from diem import diem_types, jsonrpc

from libra.api import errors


@pytest.fixture
def url(client) -> str:
    return str(client.make_url("/v1"))


def _sync_calls(url: str) -> dict:
    """Every call the suites make, through the blocking client (runs in a worker thread)."""
    client = jsonrpc.Client(url)
    try:
        return {
            "metadata": client.get_metadata(),
            "currencies": client.get_currencies(),
            "account": client.get_account(PARENT),
            "missing": client.get_account(UNKNOWN),
            "events": client.get_events(RECEIVED_KEY, 1, 100),
            "past_tip": client.get_transactions(2**64 - 1, 1),
            "transactions": client.get_transactions(99, 10),
            "txn": client.get_account_transaction(PARENT, 0, True),
        }
    finally:
        client._session.close()


async def test_sync_client_reads(url, service):
    got = await asyncio.to_thread(_sync_calls, url)
    assert got["metadata"].version == 100
    assert got["metadata"].chain_id == 4
    assert got["metadata"].dual_attestation_limit == 1000000000
    assert [c.code for c in got["currencies"]] == ["XUS", "XDX"]
    assert got["currencies"][0].to_xdx_exchange_rate == 1.0
    account = got["account"]
    assert account.address == PARENT
    assert account.balances[0].amount == 997000000000
    assert account.role.type == "parent_vasp"
    assert account.role.base_url == "http://localhost:1234"
    assert list(account.role.diem_id_domains) == ["stub9e7b26b6fb12581f"]
    assert got["missing"] is None
    assert [e.sequence_number for e in got["events"]] == [1, 2, 3, 4]
    assert got["events"][0].data.type == "receivedpayment"
    assert got["events"][0].data.amount.amount == 1001
    assert list(got["past_tip"]) == []
    assert [t.version for t in got["transactions"]] == [99, 100]
    assert got["txn"] is None


def _sync_submit(url: str, txn_hex: str) -> None:
    client = jsonrpc.Client(url)
    try:
        client.submit(diem_types.SignedTransaction.bcs_deserialize(bytes.fromhex(txn_hex)))
    finally:
        client._session.close()


async def test_sync_client_submit_accepted(url, service):
    txn_hex = signed_txn_hex()
    await asyncio.to_thread(_sync_submit, url, txn_hex)
    assert service.submitted == [bytes.fromhex(txn_hex)]


async def test_sync_client_submit_rejected_is_jsonrpc_error(url, service):
    service.reject_submit = errors.mempool_invalid_update("Failed to update gas price to 0")
    with pytest.raises(jsonrpc.JsonRpcError) as info:
        await asyncio.to_thread(_sync_submit, url, signed_txn_hex())
    assert "-32010" in str(info.value)
    assert "Failed to update gas price to 0" in str(info.value)


async def test_async_client(url, service):
    client = jsonrpc.AsyncClient(url)
    metadata = await client.get_metadata()
    assert metadata.version == 100 and metadata.timestamp == service.ledger.timestamp_usecs
    assert [c.code for c in await client.get_currencies()] == ["XUS", "XDX"]
    assert (await client.get_account(PARENT)).sequence_number == 1
    assert await client.get_account(UNKNOWN) is None
    events = await client.get_events(RECEIVED_KEY, 0, 2)
    assert [e.sequence_number for e in events] == [0, 1]
    assert list(await client.get_transactions(101, 5)) == []
    txn_hex = signed_txn_hex(5)
    await client.submit(diem_types.SignedTransaction.bcs_deserialize(bytes.fromhex(txn_hex)))
    assert service.submitted == [bytes.fromhex(txn_hex)]


async def test_async_client_sees_server_error_as_jsonrpc_error(url, service):
    service.crash.add("get_currencies")
    client = jsonrpc.AsyncClient(url)
    with pytest.raises(jsonrpc.JsonRpcError, match="-32000"):
        await client.get_currencies()
    assert (await client.get_metadata()).version == 100
