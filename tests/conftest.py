"""Fixtures that run real node processes on 127.0.0.1 (integration and end-to-end tests)."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from libra.node.localnet import end_with_this_process

_PORTS = random.Random(os.getpid())


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port(count: int = 1, avoid: range = range(0)) -> int:
    """The first of ``count`` consecutive free ports below the kernel's ephemeral range (a node
    restarted on one cannot find it taken by some outgoing connection's local end, which port
    0 picks would risk), none of them in ``avoid``."""
    low, _ = _ephemeral_range()
    for _ in range(200):
        base = _PORTS.randrange(max(1024, low - 12000), low - count)
        wanted = range(base, base + count)
        if set(wanted) & set(avoid):
            continue
        try:
            for port in wanted:
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free ports below the ephemeral range")


LOCALNET_PORTS = 16  # a localnet's nodes listen on consecutive ports from --port and --network-port


@dataclass
class Localnet:
    data_dir: Path
    port: int
    process: subprocess.Popen[bytes]
    info: dict

    @property
    def json_rpc(self) -> str:
        return self.info["json_rpc"]

    @property
    def faucet(self) -> str:
        return self.info["faucet"]

    @property
    def url(self) -> str:
        return str(self.info["json_rpc"])

    @property
    def base(self) -> str:
        """The public node's HTTP root (JSON-RPC at /v1, faucet at /mint, wallet at /wallet)."""
        return self.url.removesuffix("/v1")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)
        return self.process.returncode


def start_localnet(data_dir: Path, port: int | None = None, extra: list[str] | None = None) -> Localnet:
    port = port or free_port(LOCALNET_PORTS)
    state = data_dir / "localnet.json"
    state.unlink(missing_ok=True)
    log_path = data_dir.parent / f"{data_dir.name}-launcher.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "libra.cli", "localnet", "--data", str(data_dir), "--port", str(port),
             "--network-port", str(free_port(LOCALNET_PORTS, avoid=range(port, port + LOCALNET_PORTS))),
             *(extra or [])],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=end_with_this_process(),  # a killed test run leaves no localnet behind
        )
    deadline = time.monotonic() + 90
    while not state.exists():
        if process.poll() is not None:
            raise RuntimeError(f"localnet exited with {process.returncode}: {log_path.read_text()}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("localnet did not become ready in 90 s")
        time.sleep(0.2)
    return Localnet(data_dir, port, process, json.loads(state.read_text()))


@pytest.fixture(scope="module")
def localnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Localnet]:
    data_dir = tmp_path_factory.mktemp("localnet") / "net"
    net = start_localnet(data_dir)
    try:
        yield net
    finally:
        net.stop()


@pytest.fixture
def localnet_factory(tmp_path: Path) -> Iterator[Callable[..., Localnet]]:
    """Start localnets in this test's folder; every one still running is stopped at the end."""
    started: list[Localnet] = []

    def start(data_dir: Path | None = None, port: int | None = None, extra: list[str] | None = None) -> Localnet:
        net = start_localnet(data_dir or tmp_path / "net", port, extra)
        started.append(net)
        return net

    yield start
    for net in started:
        net.stop()


@pytest.fixture(scope="module")
def wallet_net(localnet: Localnet) -> Localnet:
    """The network the wallet tests pay on (the module's localnet)."""
    return localnet


@pytest.fixture
def pick_port() -> Callable[[], int]:
    """``free_port`` for tests that start extra nodes."""
    return free_port
