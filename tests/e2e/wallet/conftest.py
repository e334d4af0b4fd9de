"""A real single-validator localnet on free 127.0.0.1 ports for the wallet tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class WalletNet:
    data_dir: Path
    process: subprocess.Popen[bytes]
    info: dict

    @property
    def url(self) -> str:
        return str(self.info["json_rpc"])

    @property
    def base(self) -> str:
        return self.url.removesuffix("/v1")


@pytest.fixture(scope="module")
def wallet_net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WalletNet]:
    root = tmp_path_factory.mktemp("wallet-net")
    data_dir = root / "net"
    port = _free_port()
    with open(root / "launcher.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "libra.cli", "localnet", "--data", str(data_dir), "--port", str(port),
             "--network-port", str(_free_port())],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    state = data_dir / "localnet.json"
    deadline = time.monotonic() + 60
    while not state.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"localnet did not start: {(root / 'launcher.log').read_text()}")
        time.sleep(0.1)
    info = json.loads(state.read_text())
    assert info["json_rpc"] == f"http://127.0.0.1:{port}/v1"
    try:
        yield WalletNet(data_dir, process, info)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
