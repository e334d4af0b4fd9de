"""A full mempool answers "mempool full" (-32008) before any work on the transaction."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import requests

from libra.client import builders
from libra.client.loadgen import Sender
from libra.types.move import AccountAddress


def rpc(url: str, method: str, *params: object) -> dict:
    return requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=10).json()


def test_full_pool_refuses_at_once_and_keeps_identical_resubmissions(localnet_factory, tmp_path):
    net = localnet_factory(extra=["--validators", "1", "--full-nodes", "0"])
    sender = Sender.generate()
    minted = requests.post(
        net.faucet, params={"amount": 10_000_000, "auth_key": sender.auth_key.hex(), "currency_code": "XUS"}, timeout=30
    )
    assert minted.status_code == 200, minted.text
    assert net.stop() == 0
    config = net.data_dir / "validator-0" / "node.toml"
    text, replaced = re.subn(r"(?m)^capacity = \d+$", "capacity = 2", config.read_text())
    assert replaced == 1
    config.write_text(text)
    with open(tmp_path / "node.log", "wb") as log:
        node = subprocess.Popen([sys.executable, "-m", "libra.cli", "node", "run", "--config", str(config)],
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                account = rpc(net.json_rpc, "get_account", sender.address.hex())["result"]
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and node.poll() is None, (tmp_path / "node.log").read_text()
                time.sleep(0.3)
        next_seq = account["sequence_number"]

        def signed(seq: int) -> str:
            payload = builders.peer_to_peer_with_metadata("XUS", AccountAddress(bytes(15) + b"\xdd"), 1)
            return builders.sign_transaction(
                sender.key, sender.address, seq, payload, chain_id=2, expiration_timestamp_secs=int(time.time()) + 600
            ).transaction.to_bcs().hex()

        parked = [signed(next_seq + 5), signed(next_seq + 6)]  # future sequence numbers wait in the pool
        for data in parked:
            assert rpc(net.json_rpc, "submit", data)["result"] is None
        full = rpc(net.json_rpc, "submit", signed(next_seq + 7))
        assert full["error"]["code"] == -32008, full
        forged = bytearray(bytes.fromhex(signed(next_seq + 8)))
        forged[-1] ^= 1  # a bad signature: refused as "full" because nothing was checked
        assert rpc(net.json_rpc, "submit", forged.hex())["error"]["code"] == -32008
        assert rpc(net.json_rpc, "submit", parked[0])["result"] is None  # identical resubmission stays a no-op
        metrics = requests.get(net.json_rpc.rsplit("/", 1)[0] + "/metrics", timeout=10).text
        assert re.search(r'rejected_transactions_total\{reason="mempool_full"\} 2\.0', metrics), metrics
    finally:
        node.send_signal(signal.SIGINT)
        assert node.wait(timeout=60) == 0
