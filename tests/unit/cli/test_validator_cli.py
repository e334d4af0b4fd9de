"""``libra validator``: preparing a joining validator, and clear errors for bad arguments."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from libra.cli.main import cli
from libra.crypto.ed25519 import load_private_key
from libra.node.config import load_config
from libra.node.localnet import LocalnetSpec, prepare


@pytest.fixture
def net(tmp_path: Path) -> Path:
    data = tmp_path / "net"
    prepare(LocalnetSpec(data_dir=data, validators=4, full_nodes=1, api_port=18180, network_base_port=17280))
    return data


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validator", *args])
    return result.exit_code, result.output


def test_init_writes_a_follower_config_pinned_to_the_full_node(net: Path) -> None:
    code, output = run("init", "--data", str(net))
    assert code == 0, output
    assert "prepared validator-4" in output and "libra validator add" in output
    config = load_config(net / "validator-4" / "node.toml")
    full_node_key = load_private_key(net / "full-node-0" / "network.key").public_key().hex()
    assert config.node.role == "validator" and not config.faucet.enabled
    assert config.network.upstream == (f"{full_node_key}@127.0.0.1:17284",)
    assert config.network.full_node_keys == (full_node_key,)
    assert config.network.listen == "127.0.0.1:17285" and config.api.port == 18185
    assert load_config(net / "full-node-0" / "node.toml").network.serve_followers
    assert not load_config(net / "validator-0" / "node.toml").network.serve_followers
    key = (net / "validator-4" / "consensus.key").read_text()
    assert run("init", "--data", str(net), "--name", "validator-4")[0] == 0
    assert (net / "validator-4" / "consensus.key").read_text() == key  # prepared again: same keys


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "validator-0"], "genesis validators"),
        (["--name", "full-node-0"], "is a full_node"),
        (["--network-port", "17281"], "network port 17281 is already used by validator-1"),
        (["--api-port", "18180"], "JSON-RPC port 18180 is already used by full-node-0"),
        (["--name", "bad name!"], "letters, digits"),
        (["--network-port", "0"], "0 is not in the range"),
    ],
)
def test_init_refuses_bad_arguments(net: Path, args: list[str], message: str) -> None:
    code, output = run("init", "--data", str(net), *args)
    assert code != 0 and message in output, output


def test_init_needs_a_localnet(tmp_path: Path) -> None:
    code, output = run("init", "--data", str(tmp_path / "nothing"))
    assert code != 0 and "holds no localnet" in output


def test_add_and_remove_name_what_is_missing(net: Path) -> None:
    code, output = run("add", "--data", str(net), "--name", "validator-9")
    assert code != 0 and "not a prepared validator" in output and "libra validator init" in output
    code, output = run("remove", "--data", str(net), "--name", "validator-9")
    assert code != 0 and "holds no validator" in output
    assert run("init", "--data", str(net))[0] == 0
    code, output = run("add", "--data", str(net), "--name", "validator-4")
    assert code != 0 and "no localnet.json" in output


def test_add_says_when_the_node_is_unreachable(net: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    keys = net / "keys"
    (net / "localnet.json").write_text(json.dumps({
        "chain_id": 2, "json_rpc": f"http://127.0.0.1:{port}/v1", "keys": {"diem_root": str(keys / "diem_root.key")},
    }))
    assert run("init", "--data", str(net))[0] == 0
    code, output = run("add", "--data", str(net), "--name", "validator-4")
    assert code != 0 and "cannot reach the node" in output, output
    code, output = run("remove", "--data", str(net), "--name", "validator-1", "--url", "ftp://x")
    assert code != 0 and "http(s)://host:port/v1" in output, output
