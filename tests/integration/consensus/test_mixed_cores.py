"""Real processes: two validators on the native core and two on the Python reference
(``LIBRA_CORE=python``) run one network under payment load.

A quorum is three of four, so every block committed while the two halves run needs a vote
from each: a state root computed differently by the reference path (a write set, an event,
gas, a hash) would leave no quorum, and nothing would commit. The test then checks what
``assert_agreement`` checks after faults: the same accumulator root at a common version on
every node, and every payment the API reported committed still there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from diem import jsonrpc, testnet
from kill_record import kill
from load_helpers import PaymentLoad, assert_agreement, versions, wait_for_progress

PYTHON_HALF = ("validator-2", "validator-3")


def _start_on_reference_path(node: dict) -> subprocess.Popen[bytes]:
    with open(Path(node["data_dir"]) / "node.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "libra.cli", "node", "run", "--config", node["config"]],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "LIBRA_CORE": "python"},
        )


def _environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_native_and_reference_validators_agree_on_every_block(localnet_factory, tmp_path):
    net = localnet_factory(tmp_path / "net", extra=["--validators", "4", "--full-nodes", "1"])
    info = net.info
    wait_for_progress(info, "full-node-0", versions(info)["full-node-0"] + 1, timeout=120)
    restarted: list[subprocess.Popen[bytes]] = []
    try:
        for node in (n for n in info["nodes"] if n["name"] in PYTHON_HALF):
            kill(node["pid"])
            restarted.append(_start_on_reference_path(node))
        assert all(_environment(p.pid).get("LIBRA_CORE") == "python" for p in restarted)

        load = PaymentLoad(net.json_rpc, net.faucet)  # peer-to-peer payments: the native executor's case
        load.start()
        faucet = testnet.Faucet(jsonrpc.Client(net.json_rpc), url=net.faucet)
        deadline = time.monotonic() + 240
        while len(load.committed) < 30 and time.monotonic() < deadline:
            faucet.gen_account()  # account creation and minting: the framework's cases, in the same blocks
            time.sleep(0.5)
        load.stop()
        assert len(load.committed) >= 30, f"only {len(load.committed)} payments committed ({load.errors} errors)"
        assert all(p.poll() is None for p in restarted), "a validator on the reference path stopped"
        assert_agreement(info, load)
    finally:
        for process in restarted:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
