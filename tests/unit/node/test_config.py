from pathlib import Path

import pytest

from libra.node.config import ConfigError, load_config, parse_config, render_config

VALID = """
[node]
name = "validator-0"
role = "validator"
data_dir = "data"

[genesis]
file = "genesis.bcs"

[consensus]
key_file = "consensus.key"

[api]
port = 8081
"""


def test_valid_config_resolves_relative_paths(tmp_path: Path):
    path = tmp_path / "node.toml"
    path.write_text(VALID)
    config = load_config(path)
    assert config.node.data_dir == tmp_path / "data"
    assert config.consensus.key_file == tmp_path / "consensus.key"
    assert config.api.port == 8081
    assert config.node.chain_id == 2


def test_render_round_trips():
    config = parse_config(VALID)
    assert parse_config(render_config(config)) == config


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (VALID + "\n[bogus]\nx = 1\n", "bogus: unknown key"),
        (VALID.replace("port = 8081", "port = 8081\nprot = 1"), "api.prot: unknown key"),
        (VALID.replace("port = 8081", "port = 99999"), "api.port: Input should be less than or equal to 65535"),
        (VALID.replace("port = 8081", 'port = "8081"'), "api.port: Input should be a valid integer"),
        (VALID.replace('role = "validator"', 'role = "boss"'), "node.role: Input should be 'validator' or 'full_node'"),
        (VALID.replace('[genesis]\nfile = "genesis.bcs"', ""), "genesis: required key is missing"),
        (VALID.replace('key_file = "consensus.key"', ""), "consensus.key_file: required for a validator"),
        ("[node\n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key(text, message):
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert message in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml")


def test_network_addresses_validated():
    with pytest.raises(ConfigError, match="network.listen"):
        parse_config(VALID + '\n[network]\nlisten = "localhost"\n')


def test_upstream_entries_need_a_pinned_key_and_an_address():
    key = "ab" * 32
    config = parse_config(VALID + f'\n[network]\nupstream = ["{key}@127.0.0.1:6184"]\nserve_followers = true\n')
    assert config.network.upstream == (f"{key}@127.0.0.1:6184",) and config.network.serve_followers
    assert parse_config(render_config(config)) == config
    for bad in ["127.0.0.1:6184", f"{key}@localhost", "AB" * 32 + "@127.0.0.1:1", "abc@127.0.0.1:1"]:
        with pytest.raises(ConfigError, match="network.upstream.*NETWORKKEYHEX@HOST:PORT"):
            parse_config(VALID + f'\n[network]\nupstream = ["{bad}"]\n')
PEER = "0123456789abcdef0123456789abcdef"


def test_peer_addresses_round_trip_through_render():
    config = parse_config(VALID + f'\n[network]\npeer_addresses = {{ "{PEER}" = "127.0.0.1:7001" }}\n')
    assert config.network.peer_addresses == {PEER: "127.0.0.1:7001"}
    assert parse_config(render_config(config)) == config
    assert "peer_addresses" not in render_config(parse_config(VALID))  # empty: not written


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('{ "0x01" = "127.0.0.1:7001" }', "32 lowercase hex characters, got '0x01'"),
        (f'{{ "{PEER}" = "127.0.0.1" }}', "expected HOST:PORT, got '127.0.0.1'"),
        (f'{{ "{PEER}" = 7001 }}', "must be a HOST:PORT string"),
    ],
)
def test_bad_peer_addresses_are_named(table, message):
    with pytest.raises(ConfigError) as info:
        parse_config(VALID + f"\n[network]\npeer_addresses = {table}\n")
    assert "network.peer_addresses" in str(info.value) and message in str(info.value)
