"""Helpers of the real-process consensus tests: payment load, progress and agreement checks."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from diem import jsonrpc, stdlib, testnet, utils


def rpc(url: str, method: str, *params: object) -> object:
    body = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=10).json()
    assert "error" not in body, body
    return body["result"]


class PaymentLoad:
    """A steady trickle of payments through the full node; remembers what was committed."""

    def __init__(self, url: str, faucet_url: str) -> None:
        self.client = jsonrpc.Client(url)
        faucet = testnet.Faucet(self.client, url=faucet_url)
        self.sender, self.receiver = faucet.gen_account(), faucet.gen_account()
        self.committed: list[tuple[int, str]] = []  # (sequence number, hash)
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        currency = utils.currency_code("XUS")
        while not self._stop.is_set():
            try:
                txn = self.sender.create_txn(
                    self.client,
                    payload=stdlib.encode_peer_to_peer_with_metadata_script_function(
                        currency, self.receiver.account_address, 1, b"", b""
                    ),
                )
                self.client.submit(txn)
                done = self.client.wait_for_transaction(txn, timeout_secs=30)
                self.committed.append((int(txn.raw_txn.sequence_number), done.hash))
            except Exception:  # a payment may time out while a node is down; count, go on
                self.errors += 1
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


def node_urls(info: dict) -> dict[str, str]:
    return {node["name"]: node["json_rpc"] for node in info["nodes"]}


def versions(info: dict) -> dict[str, int]:
    out = {}
    for name, url in node_urls(info).items():
        try:
            out[name] = int(rpc(url, "get_metadata")["version"])  # type: ignore[index]
        except (requests.RequestException, AssertionError):
            out[name] = -1
    return out


def wait_for_progress(info: dict, name: str, beyond: int, timeout: float = 60.0) -> int:
    url = node_urls(info)[name]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            version = int(rpc(url, "get_metadata")["version"])  # type: ignore[index]
            if version > beyond:
                return version
        except (requests.RequestException, AssertionError):
            pass
        time.sleep(0.3)
    raise AssertionError(f"{name} did not get past version {beyond} in {timeout} s")


def assert_agreement(info: dict, load: PaymentLoad) -> None:
    """Same root at a common version on every node; every reported commit still there."""
    deadline = time.monotonic() + 60
    while True:
        current = versions(info)
        common = min(current.values())
        if common > 0:
            roots = {
                name: rpc(url, "get_metadata", common)["accumulator_root_hash"]  # type: ignore[index]
                for name, url in node_urls(info).items()
            }
            if len(set(roots.values())) == 1:
                break
        if time.monotonic() > deadline:
            raise AssertionError(f"nodes disagree or lag: {current}")
        time.sleep(0.5)
    url = info["json_rpc"]
    sender = utils.account_address_hex(load.sender.account_address)
    for seq, txn_hash in list(load.committed):
        txn = rpc(url, "get_account_transaction", sender, seq, False)
        assert txn is not None and txn["hash"] == txn_hash, (seq, txn_hash)  # type: ignore[index]


def restart(node: dict) -> subprocess.Popen[bytes]:
    with open(Path(node["data_dir"]) / "node.log", "ab") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [sys.executable, "-m", "libra.cli", "node", "run", "--config", node["config"]],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
