"""One validator kill measured: how long the network went without a commit, and how long the
restarted validator took to be back at the tip.

``kill_and_restart`` SIGKILLs a validator, waits until the others commit (3 of 4 still do),
restarts it with ``libra node run --config`` and polls every node's JSON-RPC until the
restarted one is at the tip. It returns a :class:`KillRecord`; ``LIBRA_FAULT_RECORD=FILE``
appends each as a JSON line (``make faults`` writes them under bench/results/reliability).

* ``api_up_s``: restart → its JSON-RPC answers (process start, store open, recovery);
* ``caught_up_s``: restart → its committed version reaches what the others had committed
  when it was restarted;
* ``at_tip_s``: restart → its version is no lower than every other validator's in one poll
  (it commits with them again);
* ``stall_s``: the longest time, from the kill until the restarted validator is at the tip,
  in which no validator committed anything (polls ~0.2 s apart, so gaps under 0.5 s are noise).
  Every poll asks all validators at once, each answer timed when it arrives, with a short
  timeout: one slow or hung node (a restarted one opening its store) delays only its own
  reading, not the others' (asked one after another, it held back their new versions).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import requests
from load_helpers import node_urls, restart

POLL_SECS = 0.2
POLL_TIMEOUT_SECS = 2.0
PATIENCE = float(os.environ.get("LIBRA_FAULT_PATIENCE", "1"))  # longer waits on a busy machine
RECORD = os.environ.get("LIBRA_FAULT_RECORD")

Handle = int | subprocess.Popen[bytes]


@dataclass
class KillRecord:
    kind: str  # "kill", "kill right after a restart" or "all validators"
    victim: str
    at: str  # wall clock, to match node logs
    version_at_kill: int
    tip_at_restart: int
    down_s: float
    api_up_s: float
    caught_up_s: float
    at_tip_s: float
    stall_s: float
    load_average: float


def write(record: dict[str, object]) -> None:
    if RECORD:
        Path(RECORD).parent.mkdir(parents=True, exist_ok=True)
        with open(RECORD, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")


def _version(url: str) -> tuple[int, float]:
    """A node's committed version (-1 if it does not answer in time) and when the answer came."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "get_metadata", "params": []}
    try:
        version = int(requests.post(url, json=body, timeout=POLL_TIMEOUT_SECS).json()["result"]["version"])
    except Exception:  # noqa: BLE001 - a node being down or busy is what is measured
        version = -1
    return version, time.monotonic()


class Poller:
    """Versions of named validators, and the longest stretch without any new commit."""

    def __init__(self, info: dict, names: list[str]) -> None:
        self.urls = {name: url for name, url in node_urls(info).items() if name in names}
        self.highest = -1
        self.since = time.monotonic()
        self.stall = 0.0
        self._pool = ThreadPoolExecutor(max_workers=len(self.urls), thread_name_prefix="poll")

    def poll(self) -> dict[str, int]:
        """Ask every node at once; a new highest version counts from when its answer came."""
        futures = {name: self._pool.submit(_version, url) for name, url in self.urls.items()}
        answers = {name: future.result() for name, future in futures.items()}
        for version, at in sorted(answers.values(), key=lambda answer: answer[1]):
            if version > self.highest:
                self.stall = max(self.stall, at - self.since) if self.highest >= 0 else self.stall
                self.highest, self.since = version, at
        return {name: version for name, (version, _) in answers.items()}

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def current_stall(self) -> float:
        return max(self.stall, time.monotonic() - self.since)


def wait(poller: Poller, done: Callable[[dict[str, int]], bool], timeout: float, what: str) -> dict[str, int]:
    deadline = time.monotonic() + timeout * PATIENCE
    while True:
        current = poller.poll()
        if done(current):
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout * PATIENCE:.0f} s ({current})")
        time.sleep(POLL_SECS)


def kill(handle: Handle) -> None:
    pid = handle if isinstance(handle, int) else handle.pid
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if isinstance(handle, subprocess.Popen):
        handle.wait(timeout=30)
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)


def kill_and_restart(
    info: dict, processes: dict[str, Handle], victim: dict, validators: list[dict], kind: str = "kill"
) -> KillRecord:
    """SIGKILL ``victim``, let the others commit, restart it, wait until it is at the tip."""
    name = victim["name"]
    others = [v["name"] for v in validators if v["name"] != name]
    poller = Poller(info, [name, *others])
    before = poller.poll()
    at = time.strftime("%H:%M:%S")
    killed = time.monotonic()
    kill(processes[name])
    base = max(before[n] for n in others)
    wait(poller, lambda v: max(v[n] for n in others) >= base + 2, 60, f"3 of 4 commit after {name} was killed")
    processes[name] = restart(victim)
    restarted = time.monotonic()
    tip = max(poller.poll()[n] for n in others)
    api_up = caught_up = None

    def back(current: dict[str, int]) -> bool:
        nonlocal api_up, caught_up
        now = time.monotonic() - restarted
        if api_up is None and current[name] >= 0:
            api_up = now
        if caught_up is None and current[name] >= tip:
            caught_up = now
        return caught_up is not None and current[name] >= min(current[n] for n in others)

    wait(poller, back, 120, f"{name} back at the tip after its restart")
    poller.close()
    record = KillRecord(
        kind, name, at, before[name], tip, round(restarted - killed, 2), round(api_up or 0.0, 2),
        round(caught_up or 0.0, 2), round(time.monotonic() - restarted, 2), round(poller.current_stall(), 2),
        round(os.getloadavg()[0], 2),
    )
    write(asdict(record))
    return record


def kill_all(info: dict, processes: dict[str, Handle], validators: list[dict], full_node: str) -> dict[str, object]:
    """SIGKILL every validator at once, restart them all, wait for commits and for each to be at the tip."""
    names = [v["name"] for v in validators]
    poller = Poller(info, [*names, full_node])
    before = poller.poll()
    at = time.strftime("%H:%M:%S")
    for victim in validators:
        kill(processes[victim["name"]])
    time.sleep(1)
    for victim in validators:
        processes[victim["name"]] = restart(victim)
    restarted = time.monotonic()
    base = max(before.values())
    after = wait(poller, lambda v: v[full_node] > base + 1, 120, "commits after every validator was restarted")
    committing = time.monotonic() - restarted
    wait(poller, lambda v: min(v[n] for n in names) >= max(after.values()), 120, "every validator back at the tip")
    poller.close()
    record = {
        "kind": "all validators", "at": at, "version_at_kill": base,
        "first_commits_s": round(committing, 2), "all_at_tip_s": round(time.monotonic() - restarted, 2),
        "stall_s": round(poller.current_stall(), 2), "load_average": round(os.getloadavg()[0], 2),
    }
    write(record)
    return record
