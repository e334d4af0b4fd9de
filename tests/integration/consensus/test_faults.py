"""Real-process fault tests: 4 validators + 1 full node on 127.0.0.1 under a steady payment load.

Scenarios (each followed by the agreement check: every node reports the same
accumulator root at a common version, and every payment the API reported committed
is still in the ledger):

* a random validator is SIGKILLed and restarted with ``libra node run --config``, many
  times; commits continue with 3 of 4 and the restarted node catches up;
* all four validators are SIGKILLed at once and restarted: nothing committed is lost;
* a random validator is cut off from the other three by the network, not frozen: every
  validator dials every other through its own link of a TCP proxy in this process
  (``link_proxy.py``, ``libra localnet --peer-addresses``), and the victim's links are
  blackholed for ~12 s while it keeps running; 3 of 4 keep committing, and after the heal
  the victim catches up;
* the validators are split 2|2 (links between the halves reset and refused): no quorum,
  so nothing is committed; after the heal commits resume, with no fork.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from link_proxy import LinkProxy
from load_helpers import PaymentLoad, assert_agreement, restart, versions, wait_for_progress

KILL_CYCLES = int(os.environ.get("LIBRA_FAULT_KILLS", "20"))
PARTITION_SECS = 12.0


def note(message: str) -> None:
    """A timeline line (pytest shows it when the test fails), to match against node logs."""
    print(time.strftime("%H:%M:%S"), message, flush=True)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.3)


def wait_for_quiet(info: dict, window: float, timeout: float) -> int:
    """The highest version any node reports, once it has not grown for ``window`` seconds."""
    highest, since = max(versions(info).values()), time.monotonic()
    deadline = since + timeout
    while time.monotonic() - since < window:
        if time.monotonic() > deadline:
            raise AssertionError(f"commits went on for {timeout:.0f} s (now at version {highest})")
        time.sleep(0.5)
        current = max(versions(info).values())
        if current > highest:
            highest, since = current, time.monotonic()
    return highest


def proxied_localnet(localnet_factory: Callable[..., Any], folder: Path, proxy: LinkProxy, validators: int) -> Any:
    """A localnet whose validators dial each other only through ``proxy``'s links."""
    names = [f"validator-{i}" for i in range(validators)]
    via = {a: {b: proxy.add_link(a, b) for b in names if b != a} for a in names}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "peer-addresses.json").write_text(json.dumps(via, indent=2))
    net = localnet_factory(
        folder / "net",
        extra=["--validators", str(validators), "--full-nodes", "1", "--peer-addresses", str(folder / "peer-addresses.json")],
    )
    listen = {node["name"]: node["network"] for node in net.info["nodes"]}
    for dialer, target in proxy.links():
        proxy.set_target(dialer, target, listen[target])  # held connections go through now
    pairs = [(a, b) for a in names for b in names if a < b]
    wait_until(
        lambda: all(proxy.bytes_forwarded((a, b)) + proxy.bytes_forwarded((b, a)) > 0 for a, b in pairs),
        120, "every pair of validators connected through the proxy",
    )
    return net


@pytest.mark.timeout(1200)
def test_validators_survive_kills_restarts_and_partitions(localnet_factory, tmp_path):
    proxy = LinkProxy()
    processes: dict[str, int | subprocess.Popen[bytes]] = {}
    try:
        net = proxied_localnet(localnet_factory, tmp_path, proxy, 4)
        info = net.info
        wait_for_progress(info, "full-node-0", versions(info)["full-node-0"] + 1, timeout=120)  # consensus runs
        load = PaymentLoad(net.json_rpc, net.faucet)
        load.start()
        rng = random.Random(20261127)
        validators = [n for n in info["nodes"] if n["role"] == "validator"]
        names = [v["name"] for v in validators]
        processes.update({n["name"]: n["pid"] for n in validators})
        _faults(info, load, rng, validators, names, processes, proxy)
    finally:
        proxy.close()
        for handle in processes.values():
            if isinstance(handle, subprocess.Popen) and handle.poll() is None:
                handle.send_signal(signal.SIGTERM)
                handle.wait(timeout=30)


def _faults(
    info: dict,
    load: PaymentLoad,
    rng: random.Random,
    validators: list[dict],
    names: list[str],
    processes: dict[str, int | subprocess.Popen[bytes]],
    proxy: LinkProxy,
) -> None:
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
        note(f"{KILL_CYCLES} kills and restarts done: {versions(info)}")

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

        # 3. cut a random validator off the other three (its links blackholed: no packet
        # passes, no connection is closed), then heal
        victim = rng.choice(names)
        others = [n for n in names if n != victim]
        proxy.cut(proxy.links_between([victim], others), "blackhole")
        cut_at = time.monotonic()
        note(f"{victim} blackholed from {others} at {versions(info)}")

        def left_behind() -> bool:
            current = versions(info)
            return min(current[n] for n in others) >= current[victim] + 10

        wait_until(left_behind, 120, f"3 of 4 commit and leave the cut-off {victim} 10 versions behind")
        time.sleep(max(0.0, cut_at + PARTITION_SECS - time.monotonic()))
        proxy.heal()
        target = max(versions(info)[n] for n in others)
        note(f"healed at {versions(info)}")
        wait_for_progress(info, victim, target - 1, timeout=180)  # it reaches the others' version
        note(f"{victim} caught up: {versions(info)}")
        assert_agreement(info, load)

        # 4. split 2|2: no quorum anywhere, so nothing may commit; after the heal commits resume
        shuffled = rng.sample(names, len(names))
        left, right = shuffled[:2], shuffled[2:]
        proxy.cut(proxy.links_between(left, right), "reset")
        note(f"split {left} | {right} at {versions(info)}")
        quiet = wait_for_quiet(info, window=4.0, timeout=60)
        note(f"no commits past version {quiet}")
        time.sleep(5)
        during = versions(info)
        assert max(during.values()) <= quiet, f"a commit without a quorum ({left} | {right}): {during}, was {quiet}"
        proxy.heal()
        note(f"healed at {during}")
        wait_for_progress(info, "full-node-0", quiet + 2, timeout=180)
        note(f"commits resumed: {versions(info)}")
        load.stop()
        assert_agreement(info, load)
        assert len(load.committed) > KILL_CYCLES  # payments kept flowing
    finally:
        load.stop()


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
