"""Real-process fault tests: 4 validators + 1 full node on 127.0.0.1 under a steady payment load.

Scenarios (each followed by the agreement check: every node reports the same
accumulator root at a common version, and every payment the API reported committed
is still in the ledger):

* a random validator is SIGKILLed and restarted with ``libra node run --config``, many
  times; commits continue with 3 of 4 and the restarted node catches up; every second
  kill hits another validator as soon as the restarted one is back at the tip (it must
  take part in consensus at once: the other two cannot commit without it). Each kill is
  measured (``kill_record.py``: stall, time to be back at the tip); ``LIBRA_FAULT_RECORD``
  writes the figures, ``LIBRA_FAULT_SENDERS`` sets how many accounts pay in parallel;
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
from kill_record import PATIENCE, kill_all, kill_and_restart, write
from link_proxy import LinkProxy
from load_helpers import PaymentLoad, assert_agreement, versions, wait_for_progress

KILL_CYCLES = int(os.environ.get("LIBRA_FAULT_KILLS", "20"))
SENDERS = int(os.environ.get("LIBRA_FAULT_SENDERS", "1"))
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


@pytest.mark.timeout(900 + 40 * KILL_CYCLES)
def test_validators_survive_kills_restarts_and_partitions(localnet_factory, tmp_path):
    proxy = LinkProxy()
    processes: dict[str, int | subprocess.Popen[bytes]] = {}
    try:
        net = proxied_localnet(localnet_factory, tmp_path, proxy, 4)
        info = net.info
        wait_for_progress(info, "full-node-0", versions(info)["full-node-0"] + 1, timeout=120)  # consensus runs
        loads = [PaymentLoad(net.json_rpc, net.faucet) for _ in range(SENDERS)]
        for load in loads:
            load.start()
        rng = random.Random(20261127)
        validators = [n for n in info["nodes"] if n["role"] == "validator"]
        names = [v["name"] for v in validators]
        processes.update({n["name"]: n["pid"] for n in validators})
        _faults(info, loads, rng, validators, names, processes, proxy)
    finally:
        proxy.close()
        for handle in processes.values():
            if isinstance(handle, subprocess.Popen) and handle.poll() is None:
                handle.send_signal(signal.SIGTERM)
                handle.wait(timeout=30)


def _faults(
    info: dict,
    loads: list[PaymentLoad],
    rng: random.Random,
    validators: list[dict],
    names: list[str],
    processes: dict[str, int | subprocess.Popen[bytes]],
    proxy: LinkProxy,
) -> None:
    started = time.monotonic()

    def check_agreement() -> None:  # same roots everywhere, every acknowledged payment still there
        for load in loads:
            assert_agreement(info, load)

    try:
        # 1. kill and restart a random validator, many times; every second kill is of
        # another validator, right after the previous one is back at the tip
        previous = None
        for cycle in range(KILL_CYCLES):
            right_after = cycle % 2 == 1
            victim = rng.choice([v for v in validators if v is not previous] if right_after else validators)
            record = kill_and_restart(info, processes, victim, validators,
                                      "kill right after a restart" if right_after else "kill")
            note(f"kill {cycle + 1}: {record}")
            previous = victim
            if cycle % 10 == 9:
                check_agreement()
        check_agreement()
        note(f"{KILL_CYCLES} kills and restarts done: {versions(info)}")

        # 2. kill all four at once, restart them: nothing committed is lost
        committed_before = sum(len(load.committed) for load in loads)
        note(f"all validators: {kill_all(info, processes, validators, 'full-node-0')}")
        check_agreement()
        assert sum(len(load.committed) for load in loads) >= committed_before

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

        wait_until(left_behind, 120 * PATIENCE, f"3 of 4 commit and leave the cut-off {victim} 10 versions behind")
        time.sleep(max(0.0, cut_at + PARTITION_SECS - time.monotonic()))
        proxy.heal()
        target = max(versions(info)[n] for n in others)
        note(f"healed at {versions(info)}")
        wait_for_progress(info, victim, target - 1, timeout=180 * PATIENCE)  # it reaches the others' version
        note(f"{victim} caught up: {versions(info)}")
        check_agreement()

        # 4. split 2|2: no quorum anywhere, so nothing may commit; after the heal commits resume
        shuffled = rng.sample(names, len(names))
        left, right = shuffled[:2], shuffled[2:]
        proxy.cut(proxy.links_between(left, right), "reset")
        note(f"split {left} | {right} at {versions(info)}")
        quiet = wait_for_quiet(info, window=4.0, timeout=60 * PATIENCE)
        note(f"no commits past version {quiet}")
        time.sleep(5)
        during = versions(info)
        assert max(during.values()) <= quiet, f"a commit without a quorum ({left} | {right}): {during}, was {quiet}"
        proxy.heal()
        note(f"healed at {during}")
        wait_for_progress(info, "full-node-0", quiet + 2, timeout=180 * PATIENCE)
        note(f"commits resumed: {versions(info)}")
        for load in loads:
            load.stop()
        check_agreement()
        committed = sum(len(load.committed) for load in loads)
        assert committed > KILL_CYCLES  # payments kept flowing
        write({"kind": "summary", "kills": KILL_CYCLES, "senders": SENDERS, "payments_acknowledged": committed,
               "payments_checked_after_faults": committed, "payment_errors": sum(load.errors for load in loads),
               "seconds": round(time.monotonic() - started), "load_average": [round(x, 2) for x in os.getloadavg()]})
    finally:
        for load in loads:
            load.stop()


def test_json_state_file_lists_all_nodes_for_restarts(localnet):
    info = json.loads((localnet.data_dir / "localnet.json").read_text())
    roles = sorted(node["role"] for node in info["nodes"])
    assert roles == ["full_node", "validator", "validator", "validator", "validator"]
    assert all(Path(node["config"]).exists() for node in info["nodes"])
