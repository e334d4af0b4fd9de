"""A localnet's nodes stop cleanly when the launcher is killed, and the network resumes."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="parent-death signals are Linux's")


def running(pid: int) -> bool:
    """False once the process is gone or a zombie nobody reaped (it has exited either way)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def node_log(node: dict) -> list[str]:
    return (Path(node["data_dir"]) / "node.log").read_text().splitlines()


def version(url: str) -> int:
    body = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "get_metadata", "params": []}).json()
    return int(body["result"]["version"])


def test_nodes_stop_when_the_launcher_is_killed(localnet_factory, tmp_path):
    data_dir = tmp_path / "net"
    net = localnet_factory(data_dir, extra=["--validators", "1", "--full-nodes", "0"])
    before = version(net.json_rpc)
    node = net.info["nodes"][0]
    assert running(node["pid"])

    net.process.send_signal(signal.SIGKILL)  # no handler runs: the launcher cannot stop its nodes
    net.process.wait(timeout=10)

    deadline = time.monotonic() + 60
    while running(node["pid"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    if running(node["pid"]):
        os.kill(node["pid"], signal.SIGKILL)  # leave no orphan behind a failed test
        pytest.fail("the node outlived its killed launcher")
    messages = [json.loads(line).get("message") for line in node_log(node) if line.startswith("{")]
    assert "stopped" in messages, "the node did not stop cleanly"

    again = localnet_factory(data_dir, extra=["--validators", "1", "--full-nodes", "0"])
    assert version(again.json_rpc) >= before
