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
import time
from pathlib import Path

import pytest
from load_helpers import PaymentLoad, assert_agreement, restart, versions, wait_for_progress

KILL_CYCLES = int(os.environ.get("LIBRA_FAULT_KILLS", "20"))


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
