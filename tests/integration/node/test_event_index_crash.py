"""The supervisor's index survives its node being killed: a real node process, SIGKILLed while
payments commit and the index follows them, is started again by hand; its index resumes on its
own and, once the node is stopped, holds exactly what an index rebuilt from the store holds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from diem import jsonrpc, testnet

from libra.client import builders
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.node.config import load_config
from libra.node.event_index import EventIndex
from libra.node.ledger import Ledger
from libra.storage.libradb import LibraDB
from libra.types.move import AccountAddress


def supervisor_data(base: str) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(f"{base}/supervisor/data", timeout=30) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def wait_caught_up(base: str, timeout: float = 60) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while True:
        try:
            data = supervisor_data(base)
            if data["node"]["caught_up"]:
                return data
        except OSError:
            pass  # the node is still starting
        assert time.monotonic() < deadline, "the index did not catch up"
        time.sleep(0.3)


def burst(client: jsonrpc.Client, payer, payee, count: int) -> None:  # type: ignore[no-untyped-def]
    """Submit ``count`` payments just under the travel-rule limit without waiting for them."""
    key = Ed25519PrivateKey.from_bytes(payer.private_key.private_bytes_raw())
    sender = AccountAddress(bytes.fromhex(payer.account_address.to_hex()))
    seq = client.get_account_sequence(payer.account_address)
    for i in range(count):
        payload = builders.peer_to_peer_with_metadata("XUS", AccountAddress(bytes.fromhex(payee.account_address.to_hex())), 990_000_000 + i)
        signed = builders.sign_transaction(key, sender, seq + i, payload, chain_id=2, expiration_timestamp_secs=int(time.time()) + 60)
        client.submit(signed.bcs.hex())


def test_index_resumes_after_sigkill_and_equals_a_rebuild(localnet_factory, tmp_path: Path) -> None:
    net = localnet_factory(extra=["--validators", "1", "--full-nodes", "0"])
    (node,) = net.info["nodes"]
    client = jsonrpc.Client(net.json_rpc)
    faucet = testnet.Faucet(client, url=net.faucet)
    alice, bob = faucet.gen_account(), faucet.gen_account()
    faucet.mint(alice.auth_key.hex(), 10_000_000 * 1_000_000, "XUS")
    wait_caught_up(net.base)  # the first request starts the index
    burst(client, alice, bob, 40)
    os.kill(node["pid"], signal.SIGKILL)  # while those commit and the index follows them
    time.sleep(0.5)
    store_dir = load_config(Path(node["config"])).node.data_dir
    index_file = store_dir / "supervisor.sqlite3"
    assert index_file.exists()
    log = open(tmp_path / "restarted.log", "wb")  # noqa: SIM115 - closed below
    restarted = subprocess.Popen([sys.executable, "-m", "libra.cli", "node", "run", "--config", node["config"]],
                                 stdout=log, stderr=subprocess.STDOUT)
    try:
        data = wait_caught_up(net.base)  # resumed by itself: the file was kept
        burst(client, bob, alice, 5)
        deadline = time.monotonic() + 60
        while client.get_account_sequence(bob.account_address) < 5:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        data = wait_caught_up(net.base)
        structuring = [a for a in data["alerts"] if a["kind"] == "structuring"]
        assert {a["account"] for a in structuring} >= {alice.account_address.to_hex(), bob.account_address.to_hex()}
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=60)
        log.close()
    assert restarted.returncode == 0, (tmp_path / "restarted.log").read_text()
    # the node's index, resumed after the kill, against one rebuilt from the store
    db = LibraDB.open(store_dir)
    try:
        ledger = Ledger(db, 2)
        kept = EventIndex(db, index_file, ledger.state_view)
        rebuilt = EventIndex(db, tmp_path / "rebuilt.sqlite3", ledger.state_view)
        rebuilt.catch_up()
        kept_tables, rebuilt_tables = kept.tables(), rebuilt.tables()
        assert rebuilt_tables["transfers"] and kept_tables == rebuilt_tables
    finally:
        db.close()
