"""Node configuration: one TOML file per node, validated, unknown keys refused.

Example (what ``libra localnet`` writes)::

    [node]
    name = "validator-0"
    role = "validator"            # or "full_node"
    data_dir = ".libra/localnet/validator-0"
    chain_id = 2

    [genesis]
    file = ".libra/localnet/genesis.bcs"

    [consensus]                   # validators only
    key_file = ".libra/localnet/validator-0/consensus.key"
    max_block_transactions = 1000
    round_timeout_ms = 1000
    block_time_budget_ms = 500    # a leader proposes what it executes and commits in this time

    [network]
    listen = "127.0.0.1:6180"
    key_file = ".libra/localnet/validator-0/network.key"
    seeds = ["127.0.0.1:6181"]
    upstream = ["<full node network key hex>@127.0.0.1:6184"]   # followed while not in the set
    # optional: dial a peer (account address) here instead of at its on-chain address
    # peer_addresses = { "0123456789abcdef0123456789abcdef" = "127.0.0.1:7001" }

    [api]
    enabled = true
    host = "127.0.0.1"
    port = 8080

    [faucet]
    enabled = true
    treasury_compliance_key_file = ".libra/localnet/keys/treasury_compliance.key"
    designated_dealer_key_file = ".libra/localnet/keys/designated_dealer.key"

Every error names the offending key (``api.port: …``) so a typo is found at once.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Port = Annotated[int, Field(ge=1, le=65535)]


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _check_host_port(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    return value


class NodeSection(_Section):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    role: Literal["validator", "full_node"]
    data_dir: Path
    chain_id: int = Field(default=2, ge=1, le=255)

    @field_validator("data_dir", mode="before")
    @classmethod
    def _path(cls, value: object) -> object:
        return Path(value) if isinstance(value, str) else value


class GenesisSection(_Section):
    file: Path

    @field_validator("file", mode="before")
    @classmethod
    def _path(cls, value: object) -> object:
        return Path(value) if isinstance(value, str) else value


class ConsensusSection(_Section):
    key_file: Path | None = None
    max_block_transactions: int = Field(default=1000, ge=1, le=10_000)
    # Rounds without a commit back off 1.2x each (up to 1.2^6); a longer base slows recovery
    # from a crashed or cut-off leader (3 s made the fault test's stalemates outlast its 60 s waits).
    round_timeout_ms: int = Field(default=1000, ge=50, le=600_000)
    # A leader proposes what its recent blocks say it executes and commits in this time, so
    # that rounds end well inside the timeout even on a loaded machine (node/block_pace.py).
    block_time_budget_ms: int = Field(default=500, ge=10, le=600_000)
    # A leader with nothing to propose waits at most this long before an empty block
    # (keeps the ledger clock moving without adding latency when busy).
    idle_block_ms: int = Field(default=1000, ge=10, le=600_000)

    @field_validator("key_file", mode="before")
    @classmethod
    def _path(cls, value: object) -> object:
        return Path(value) if isinstance(value, str) else value


class NetworkSection(_Section):
    listen: str | None = None
    key_file: Path | None = None
    seeds: tuple[str, ...] = ()
    # Network public keys (hex) of full nodes allowed to connect to this validator.
    full_node_keys: tuple[str, ...] = ()
    # Nodes to state-sync from while this validator is not in the validator set (before
    # it is added, after it is removed): "NETWORKKEYHEX@HOST:PORT", keys pinned.
    upstream: tuple[str, ...] = ()
    # A public full node: accept unknown network keys, for state sync and submitted
    # transactions only (validators joining or leaving the set follow through it).
    serve_followers: bool = False
    # Peer account address (32 hex) -> "host:port" to dial it at instead of its on-chain address
    # (port forwarding; a proxy between validators, as the partition tests put there).
    peer_addresses: dict[str, str] = Field(default_factory=dict)
    max_frame_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)

    @field_validator("full_node_keys", mode="before")
    @classmethod
    def _keys(cls, value: object) -> object:
        if isinstance(value, list):
            for key in value:
                if not isinstance(key, str) or not re.fullmatch(r"[0-9a-f]{64}", key):
                    raise ValueError(f"expected 64 lowercase hex characters, got {key!r}")
            return tuple(value)
        return value

    @field_validator("upstream", mode="before")
    @classmethod
    def _upstream(cls, value: object) -> object:
        if isinstance(value, list):
            for entry in value:
                key, sep, address = entry.partition("@") if isinstance(entry, str) else ("", "", "")
                host, colon, port = address.rpartition(":")
                if not (sep and re.fullmatch(r"[0-9a-f]{64}", key) and colon and host and port.isdigit()
                        and 1 <= int(port) <= 65535):
                    raise ValueError(f"expected NETWORKKEYHEX@HOST:PORT (64 lowercase hex digits), got {entry!r}")
            return tuple(value)
        return value

    @field_validator("peer_addresses", mode="before")
    @classmethod
    def _peer_addresses(cls, value: object) -> object:
        if isinstance(value, dict):
            for peer, address in value.items():
                if not re.fullmatch(r"[0-9a-f]{32}", peer):
                    raise ValueError(f"expected a peer's account address as 32 lowercase hex characters, got {peer!r}")
                if not isinstance(address, str):
                    raise ValueError(f"address of {peer} must be a HOST:PORT string, got {address!r}")
                _check_host_port(address)
        return value

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        return None if value is None else _check_host_port(value)

    @field_validator("seeds", mode="before")
    @classmethod
    def _seeds(cls, value: object) -> object:
        if isinstance(value, list):
            return tuple(_check_host_port(v) if isinstance(v, str) else v for v in value)
        return value

    @field_validator("key_file", mode="before")
    @classmethod
    def _path(cls, value: object) -> object:
        return Path(value) if isinstance(value, str) else value


class ApiSection(_Section):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: Port = 8080
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    max_batch_size: int = Field(default=20, ge=1, le=1000)


class FaucetSection(_Section):
    enabled: bool = False
    treasury_compliance_key_file: Path | None = None
    designated_dealer_key_file: Path | None = None

    @field_validator("treasury_compliance_key_file", "designated_dealer_key_file", mode="before")
    @classmethod
    def _path(cls, value: object) -> object:
        return Path(value) if isinstance(value, str) else value


class MempoolSection(_Section):
    # what the network commits within a wallet's usual 30 s wait (about 400 payments/s on four
    # validators here): past it, submitters hear "mempool full" at once instead of queueing
    capacity: int = Field(default=10_000, ge=1)
    capacity_per_account: int = Field(default=100, ge=1)
    max_parked_per_account: int = Field(default=100, ge=0)
    system_ttl_secs: int = Field(default=600, ge=1)


class StorageSection(_Section):
    prune_window: int = Field(default=1_000_000, ge=0)


class NodeConfig(_Section):
    node: NodeSection
    genesis: GenesisSection
    consensus: ConsensusSection = ConsensusSection()
    network: NetworkSection = NetworkSection()
    api: ApiSection = ApiSection()
    faucet: FaucetSection = FaucetSection()
    mempool: MempoolSection = MempoolSection()
    storage: StorageSection = StorageSection()

    def resolve_paths(self, base: Path) -> NodeConfig:
        """Make every relative path relative to ``base`` (the config file's folder)."""

        def fix(path: Path | None) -> Path | None:
            if path is None or path.is_absolute():
                return path
            return base / path

        return self.model_copy(
            update={
                "node": self.node.model_copy(update={"data_dir": fix(self.node.data_dir)}),
                "genesis": self.genesis.model_copy(update={"file": fix(self.genesis.file)}),
                "consensus": self.consensus.model_copy(update={"key_file": fix(self.consensus.key_file)}),
                "network": self.network.model_copy(update={"key_file": fix(self.network.key_file)}),
                "faucet": self.faucet.model_copy(
                    update={
                        "treasury_compliance_key_file": fix(self.faucet.treasury_compliance_key_file),
                        "designated_dealer_key_file": fix(self.faucet.designated_dealer_key_file),
                    }
                ),
            }
        )


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif item["type"] == "missing":
            message = "required key is missing"
        lines.append(f"{key}: {message}")
    return "; ".join(lines)


def parse_config(text: str, base: Path | None = None) -> NodeConfig:
    """Parse and validate TOML text; relative paths resolve against ``base``."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}") from None
    try:
        config = NodeConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    if config.node.role == "validator" and config.consensus.key_file is None:
        raise ConfigError("consensus.key_file: required for a validator")
    if config.faucet.enabled and (
        config.faucet.treasury_compliance_key_file is None or config.faucet.designated_dealer_key_file is None
    ):
        raise ConfigError("faucet: treasury_compliance_key_file and designated_dealer_key_file are required")
    return config.resolve_paths(base) if base is not None else config


def load_config(path: str | Path) -> NodeConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        return parse_config(text, path.parent)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def render_config(config: NodeConfig) -> str:
    """TOML text for a config (used by the localnet launcher); round-trips through parse."""
    out: list[str] = []
    for section_name, section in config:
        out.append(f"[{section_name}]")
        for key, value in section:
            if value is None or value == {}:
                continue
            out.append(f"{key} = {_toml_value(value)}")
        out.append("")
    return "\n".join(out)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Path):
        return _toml_value(str(value))
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot render {value!r} as TOML")
