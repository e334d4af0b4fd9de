"""``libra validator``: prepare a validator and add it to (or remove one from) a running network.

The governance transactions are the Diem ones, sent through any node's JSON-RPC API:

* ``add``: Diem Root creates the owner account (its address and auth key come from the
  validator's consensus key) and an operator account (``operator.key``); the owner names
  the operator; the operator registers the config (consensus key, network key and
  address); Diem Root adds the validator to the set, which starts a new epoch.
* ``remove``: Diem Root removes it from the set, which starts a new epoch.

Each step waits for its commit and stops at the first failure with what went wrong.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from libra.client import builders
from libra.client.wallet_rpc import NodeUnreachable, RpcError, WalletRpc
from libra.crypto.auth import compute_address, compute_auth_key
from libra.crypto.ed25519 import Ed25519PrivateKey, KeyFileError, load_private_key
from libra.node.config import ConfigError, load_config
from libra.node.localnet import LocalnetError, prepare_validator
from libra.types.move import DIEM_ROOT_ADDRESS, AccountAddress
from libra.types.network_address import ValidatorEndpoint
from libra.types.transaction import ScriptFunction

EXPIRATION_SECS = 120
COMMIT_TIMEOUT_SECS = 120.0
DEFAULT_DATA = Path(".libra/localnet")

data_option = click.option(
    "--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DATA,
    show_default=True, help="The localnet's folder (keys, genesis, node folders).",
)
url_option = click.option(
    "--url", default=None, help="JSON-RPC URL of any node (default: the localnet's public node)."
)


class GovernanceError(click.ClickException):
    """A governance step that could not be done; the message says which and why."""


def address_of(key: Ed25519PrivateKey) -> AccountAddress:
    return AccountAddress(compute_address(compute_auth_key(key.public_key())))


def _localnet_info(data_dir: Path) -> dict[str, Any]:
    for name in ("localnet.json", "localnet.stopped.json"):
        path = data_dir / name
        if path.exists():
            try:
                info = json.loads(path.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise GovernanceError(f"{path} is not valid JSON: {exc}") from None
            if isinstance(info, dict):
                return info
    raise GovernanceError(f"{data_dir} holds no localnet (no localnet.json); start one with `libra localnet`")


def _load_key(path: Path, what: str) -> Ed25519PrivateKey:
    try:
        return load_private_key(path)
    except (KeyFileError, OSError) as exc:
        raise GovernanceError(f"cannot load the {what} key {path}: {exc}") from None


@dataclass
class Governor:
    """Signs and submits transactions, one at a time, waiting for each commit."""

    rpc: WalletRpc
    chain_id: int

    def sequence_number(self, address: AccountAddress) -> int | None:
        account = self._call("get_account", address.hex())
        return None if account is None else int(account["sequence_number"])

    def account(self, address: AccountAddress) -> dict[str, Any] | None:
        result = self._call("get_account", address.hex())
        return result if isinstance(result, dict) else None

    def _call(self, method: str, *params: Any) -> Any:
        try:
            return self.rpc.call(method, *params)
        except (RpcError, NodeUnreachable) as exc:
            raise GovernanceError(str(exc)) from None

    def send(self, step: str, key: Ed25519PrivateKey, sender: AccountAddress, payload: ScriptFunction) -> int:
        """Submit ``payload`` from ``sender`` and wait for it; returns the version it committed at."""
        seq = self.sequence_number(sender)
        if seq is None:
            raise GovernanceError(f"{step}: the sender account {sender.hex()} does not exist on chain")
        expiration = int(time.time()) + EXPIRATION_SECS
        submission = builders.sign_transaction(
            key, sender, seq, payload, chain_id=self.chain_id, expiration_timestamp_secs=expiration
        )
        try:
            self.rpc.submit(submission.bcs)
        except RpcError as exc:
            raise GovernanceError(f"{step}: the node refused the transaction: {exc.message}") from None
        except NodeUnreachable as exc:
            raise GovernanceError(f"{step}: {exc}") from None
        deadline = time.monotonic() + COMMIT_TIMEOUT_SECS
        while True:
            txn = self._call("get_account_transaction", sender.hex(), seq, False)
            if isinstance(txn, dict):
                break
            if time.monotonic() > deadline:
                raise GovernanceError(f"{step}: not committed after {COMMIT_TIMEOUT_SECS:.0f} s (is the network up?)")
            time.sleep(0.3)
        if txn.get("hash") != submission.hash.hex():
            raise GovernanceError(f"{step}: another transaction of {sender.hex()} took sequence number {seq}; retry")
        status = txn.get("vm_status") or {}
        if status.get("type") != "executed":
            explanation = status.get("explanation") or {}
            reason = explanation.get("reason") or explanation.get("category") or status.get("type")
            code = status.get("abort_code")
            raise GovernanceError(
                f"{step}: failed on chain: {reason}" + (f" (abort code {code})" if code is not None else "")
            )
        click.echo(f"  {step}: committed at version {txn['version']}")
        return int(txn["version"])


def _governor(data_dir: Path, url: str | None) -> tuple[Governor, dict[str, Any]]:
    info = _localnet_info(data_dir)
    try:
        rpc = WalletRpc(url or str(info["json_rpc"]))
    except (KeyError, ValueError) as exc:
        raise GovernanceError(f"bad JSON-RPC URL: {exc}") from None
    return Governor(rpc, int(info.get("chain_id", 2))), info


@click.group()
def validator() -> None:
    """Validators of a localnet: prepare one, add it to the set, remove one."""


@validator.command()
@data_option
@click.option("--name", default=None, help="Folder and on-chain name (default: the next free validator-N).")
@click.option("--network-port", type=click.IntRange(1, 65535), default=None,
              help="Validator-network port (default: one past the highest the localnet uses).")
@click.option("--api-port", type=click.IntRange(1, 65535), default=None,
              help="JSON-RPC port (default: one past the highest the localnet uses).")
def init(data_dir: Path, name: str | None, network_port: int | None, api_port: int | None) -> None:
    """Create keys and node.toml for a new validator of the localnet in --data.

    Start it with `libra node run --config DIR/NAME/node.toml`: it follows the full node
    until `libra validator add` puts it in the validator set, then takes part in consensus.
    """
    if name is not None and not name.replace("-", "").replace("_", "").isalnum():
        raise click.BadParameter("use letters, digits, - and _ only", param_hint="--name")
    try:
        joining = prepare_validator(data_dir, name, network_port, api_port)
    except (LocalnetError, ConfigError, KeyFileError) as exc:
        raise click.ClickException(str(exc)) from None
    plan = joining.plan
    click.echo(f"prepared {plan.name}")
    click.echo(f"  account   {address_of(joining.consensus_key).hex()}")
    click.echo(f"  operator  {address_of(joining.operator_key).hex()}")
    click.echo(f"  config    {plan.config_path}")
    click.echo(f"  network   127.0.0.1:{plan.network_port}   JSON-RPC http://127.0.0.1:{plan.api_port}/v1")
    click.echo("next:")
    click.echo(f"  libra node run --config {plan.config_path}")
    click.echo(f"  libra validator add --data {data_dir} --name {plan.name}")


@validator.command()
@data_option
@url_option
@click.option("--name", required=True, help="The validator's folder under --data (made by `libra validator init`).")
def add(data_dir: Path, url: str | None, name: str) -> None:
    """Add a prepared validator to the validator set (Diem Root governance; a new epoch starts)."""
    folder = data_dir / name
    if not (folder / "operator.key").exists():
        raise click.BadParameter(
            f"{folder} is not a prepared validator (no operator.key); run `libra validator init --name {name}`",
            param_hint="--name",
        )
    try:
        config = load_config(folder / "node.toml")
    except ConfigError as exc:
        raise GovernanceError(str(exc)) from None
    if config.network.listen is None:
        raise GovernanceError(f"{folder / 'node.toml'} has no network.listen address to publish")
    consensus_key = _load_key(folder / "consensus.key", "consensus")
    network_key = _load_key(folder / "network.key", "network")
    operator_key = _load_key(folder / "operator.key", "operator")
    governor, info = _governor(data_dir, url)
    root_key = _load_key(Path(info["keys"]["diem_root"]), "Diem Root")
    owner, operator = address_of(consensus_key), address_of(operator_key)
    human_name = name.encode()
    operator_name = f"{name}-operator".encode()
    endpoint = ValidatorEndpoint(config.network.listen, network_key.public_key().to_bytes()).to_bcs()
    click.echo(f"adding {name} ({owner.hex()}) to the validator set")
    if governor.account(owner) is None:
        prefix = compute_auth_key(consensus_key.public_key())[:16]
        governor.send(
            "create owner account", root_key, DIEM_ROOT_ADDRESS,
            builders.create_validator_account(0, owner, prefix, human_name),
        )
    if governor.account(operator) is None:
        prefix = compute_auth_key(operator_key.public_key())[:16]
        governor.send(
            "create operator account", root_key, DIEM_ROOT_ADDRESS,
            builders.create_validator_operator_account(0, operator, prefix, operator_name),
        )
    governor.send("name the operator", consensus_key, owner, builders.set_validator_operator(operator_name, operator))
    governor.send(
        "register the config", operator_key, operator,
        builders.register_validator_config(owner, consensus_key.public_key().to_bytes(), endpoint, endpoint),
    )
    version = governor.send(
        "add to the set", root_key, DIEM_ROOT_ADDRESS, builders.add_validator_and_reconfigure(0, human_name, owner)
    )
    click.echo(f"{name} is in the validator set from the epoch that starts after version {version}")


@validator.command()
@data_option
@url_option
@click.option("--name", required=True, help="The validator's on-chain name (its folder name under --data).")
def remove(data_dir: Path, url: str | None, name: str) -> None:
    """Remove a validator from the validator set (Diem Root governance; a new epoch starts).

    The removed validator stops voting and proposing and keeps following the network.
    """
    folder = data_dir / name
    if not (folder / "consensus.key").exists():
        raise click.BadParameter(f"{folder} holds no validator (no consensus.key)", param_hint="--name")
    owner = address_of(_load_key(folder / "consensus.key", "consensus"))
    governor, info = _governor(data_dir, url)
    root_key = _load_key(Path(info["keys"]["diem_root"]), "Diem Root")
    click.echo(f"removing {name} ({owner.hex()}) from the validator set")
    version = governor.send(
        "remove from the set", root_key, DIEM_ROOT_ADDRESS,
        builders.remove_validator_and_reconfigure(0, name.encode(), owner),
    )
    click.echo(f"{name} left the validator set in the epoch that starts after version {version}")
