"""Real-process fault tests: 4 validators + 1 full node on 127.0.0.1 under a steady payment load.

Scenarios (each followed by the agreement check: every node reports the same
accumulator root at a common version, and every payment the API reported committed
is still in the ledger):

* a random validator is SIGKILLed and restarted with ``libra node run --config``, many
  times; commits continue with 3 of 4 and the restarted node catches up;
* all four validators are SIGKILLed at once and restarted: nothing committed is lost;
* a validator is cut off from the others (SIGSTOP freezes its sockets and timers) and
  rejoins after SIGCONT.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from diem import jsonrpc, stdlib, testnet, utils

KILL_CYCLES = int(os.environ.get("LIBRA_FAULT_KILLS", "20"))


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


@pytest.mark.timeout(900)
def test_validators_survive_kills_restarts_and_a_partition(localnet_factory, tmp_path):
    net = localnet_factory(tmp_path / "net", extra=["--validators", "4", "--full-nodes", "1"])
    info = net.info
    load = PaymentLoad(net.json_rpc, net.faucet)
    load.start()
    rng = random.Random(20261127)
    validators = [n for n in info["nodes"] if n["role"] == "validator"]
    processes: dict[str, int | subprocess.Popen[bytes]] = {n["name"]: n["pid"] for n in validators}
    try:
        # 1. kill and restart a random validator, many times
        for _ in range(KILL_CYCLES):
            victim = rng.choice(validators)
            _kill(processes[victim["name"]], signal.SIGKILL)
            survivors = [v for v in validators if v is not victim]
            before = versions(info)[survivors[0]["name"]]
            wait_for_progress(info, survivors[0]["name"], before + 2)  # 3 of 4 still commit
            processes[victim["name"]] = restart(victim)
            wait_for_progress(info, victim["name"], before)  # the restarted one catches up
        assert_agreement(info, load)

        # 2. kill all four at once, restart them: nothing committed is lost
        committed_before = len(load.committed)
        for victim in validators:
            _kill(processes[victim["name"]], signal.SIGKILL)
        time.sleep(1)
        for victim in validators:
            processes[victim["name"]] = restart(victim)
        before = versions(info)["full-node-0"]
        wait_for_progress(info, "full-node-0", before + 2)
        assert_agreement(info, load)
        assert len(load.committed) >= committed_before

        # 3. cut one validator off, then let it back
        victim = validators[1]
        _kill(processes[victim["name"]], signal.SIGSTOP)
        before = versions(info)["full-node-0"]
        wait_for_progress(info, "full-node-0", before + 3)
        _kill(processes[victim["name"]], signal.SIGCONT)
        wait_for_progress(info, victim["name"], versions(info)["full-node-0"])
        load.stop()
        assert_agreement(info, load)
        assert len(load.committed) > KILL_CYCLES  # payments kept flowing
    finally:
        load.stop()
        for handle in processes.values():
            _kill(handle, signal.SIGCONT)
            if isinstance(handle, subprocess.Popen) and handle.poll() is None:
                handle.send_signal(signal.SIGTERM)
                handle.wait(timeout=30)


def _kill(handle: int | subprocess.Popen[bytes], sig: signal.Signals) -> None:
    pid = handle if isinstance(handle, int) else handle.pid
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    if sig == signal.SIGKILL and isinstance(handle, subprocess.Popen):
        handle.wait(timeout=30)
    elif sig == signal.SIGKILL:
        _wait_gone(pid)


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)


def test_json_state_file_lists_all_nodes_for_restarts(localnet):
    info = json.loads((localnet.data_dir / "localnet.json").read_text())
    roles = sorted(node["role"] for node in info["nodes"])
    assert roles == ["full_node", "validator", "validator", "validator", "validator"]
    assert all(Path(node["config"]).exists() for node in info["nodes"])
