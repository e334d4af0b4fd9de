"""Stopping and restarting a localnet serves the same ledger, byte for byte."""

from __future__ import annotations

import requests
from diem import jsonrpc, testnet
from diem.testing import LocalAccount


def call(url: str, method: str, *params: object) -> object:
    response = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    body = response.json()
    assert "error" not in body, body
    return body["result"]


def snapshot(url: str, accounts: list[LocalAccount], version: int) -> dict[str, object]:
    """Raw JSON of everything a wallet reads, pinned at ``version``."""
    out: dict[str, object] = {"transactions": call(url, "get_transactions", 0, version + 1, True)}
    for account in accounts:
        address = account.account_address.to_hex()
        state = call(url, "get_account", address, version)
        assert isinstance(state, dict)
        out[address] = state
        out[address + "/txns"] = call(url, "get_account_transactions", address, 0, 100, True)
        out[address + "/events"] = call(url, "get_events", state["received_events_key"], 0, 100)
    return out


def test_restart_serves_the_same_ledger(localnet_factory, tmp_path):
    data_dir = tmp_path / "net"
    net = localnet_factory(data_dir)
    client = jsonrpc.Client(net.json_rpc)
    faucet = testnet.Faucet(client, url=net.faucet)
    sender, receiver = faucet.gen_account(), faucet.gen_account()
    child = sender.gen_child_vasp(client, 1_000, "XUS")
    version = client.get_metadata().version
    before = snapshot(net.json_rpc, [sender, receiver, child], version)
    assert net.stop() == 0

    again = localnet_factory(data_dir, port=net.port)
    after = snapshot(again.json_rpc, [sender, receiver, child], version)
    assert after == before
    # and the restarted network keeps committing on top of the old ledger
    client = jsonrpc.Client(again.json_rpc)
    faucet = testnet.Faucet(client, url=again.faucet)
    faucet.mint(receiver.auth_key.hex(), 5, "XUS")
    assert client.get_metadata().version > version
    assert client.get_account_sequence(testnet.DESIGNATED_DEALER_ADDRESS) > 0
