"""``libra localnet --peer-addresses``: where a node dials a validator, checked and written."""

from pathlib import Path

import pytest

from libra.crypto.ed25519 import load_private_key
from libra.node.config import load_config
from libra.node.genesis import ValidatorIdentity
from libra.node.localnet import LocalnetError, LocalnetSpec, prepare


def _account(folder: Path) -> str:
    consensus = load_private_key(folder / "consensus.key").public_key().to_bytes()
    identity = ValidatorIdentity("v", consensus, bytes(32), "127.0.0.1:1")
    return identity.account_address.value.hex()


def test_peer_addresses_reach_the_dialers_config(tmp_path: Path):
    spec = LocalnetSpec(
        tmp_path, validators=2, full_nodes=1,
        peer_addresses={"validator-0": {"validator-1": "127.0.0.1:7001"}, "full-node-0": {"validator-0": "h:7002"}},
    )
    prepare(spec)
    configs = {name: load_config(tmp_path / name / "node.toml") for name in ("validator-0", "validator-1", "full-node-0")}
    assert configs["validator-0"].network.peer_addresses == {_account(tmp_path / "validator-1"): "127.0.0.1:7001"}
    assert configs["full-node-0"].network.peer_addresses == {_account(tmp_path / "validator-0"): "h:7002"}
    assert configs["validator-1"].network.peer_addresses == {}
    prepare(LocalnetSpec(tmp_path, validators=2, full_nodes=1))  # a later start without them drops them
    assert load_config(tmp_path / "validator-0" / "node.toml").network.peer_addresses == {}


@pytest.mark.parametrize(
    ("peer_addresses", "message"),
    [
        ({"validator-7": {"validator-0": "127.0.0.1:7001"}}, "no node named 'validator-7'"),
        ({"validator-0": {"full-node-0": "127.0.0.1:7001"}}, "'full-node-0' is not a validator"),
        ({"validator-0": {"validator-1": "127.0.0.1"}}, "must be HOST:PORT, got '127.0.0.1'"),
    ],
)
def test_bad_peer_addresses_are_refused(tmp_path: Path, peer_addresses, message):
    with pytest.raises(LocalnetError, match=message):
        prepare(LocalnetSpec(tmp_path / "net", validators=2, full_nodes=1, peer_addresses=peer_addresses))
    assert not (tmp_path / "net").exists()  # refused before anything was written


def test_overlapping_api_and_network_port_ranges_are_refused(tmp_path: Path):
    # JSON-RPC ports 9000..9004, network ports 9003..9007: two listeners would share 9003 and 9004
    spec = LocalnetSpec(tmp_path / "net", validators=4, full_nodes=1, api_port=9000, network_base_port=9003)
    with pytest.raises(LocalnetError, match=r"port 9003 is also .*do not overlap"):
        prepare(spec)
    assert not (tmp_path / "net").exists()  # refused before anything was written
    prepare(LocalnetSpec(tmp_path / "ok", validators=4, full_nodes=1, api_port=9000, network_base_port=9005))
