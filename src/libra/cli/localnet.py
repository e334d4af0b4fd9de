"""``libra localnet``: a whole network on this machine, one command."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from libra.node.localnet import LocalnetError, LocalnetSpec, run


def _announce(info: dict[str, object]) -> None:
    console = Console()
    keys = info["keys"]
    assert isinstance(keys, dict)
    table = Table(title="Libra localnet is running", show_header=True)
    table.add_column("node")
    table.add_column("role")
    table.add_column("pid")
    table.add_column("JSON-RPC")
    nodes = info["nodes"]
    assert isinstance(nodes, list)
    for node in nodes:
        table.add_row(node["name"], node["role"], str(node["pid"]), node["json_rpc"])
    console.print(table)
    console.print(f"chain id       {info['chain_id']}")
    console.print(f"JSON-RPC       {info['json_rpc']}")
    console.print(f"faucet         {info['faucet']}")
    console.print(f"TC key         {keys['treasury_compliance']}")
    console.print(f"DD key         {keys['designated_dealer']}")
    console.print("\nNext, try:")
    console.print(f"  curl -s -X POST {info['json_rpc']} -H 'Content-Type: application/json' \\")
    console.print("       -d '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"get_metadata\",\"params\":[]}'")
    console.print(
        f"  python -c \"from diem import jsonrpc; print(jsonrpc.Client('{info['json_rpc']}').get_metadata())\""
    )
    console.print("\nCtrl-C stops every node; starting again with the same data resumes from disk.")


def _read_peer_addresses(path: Path) -> dict[str, dict[str, str]]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--peer-addresses") from None
    if not isinstance(value, dict) or not all(
        isinstance(targets, dict) and all(isinstance(a, str) for a in targets.values()) for targets in value.values()
    ):
        raise click.BadParameter(
            f'{path}: expected {{"node name": {{"validator name": "HOST:PORT"}}}}', param_hint="--peer-addresses"
        )
    return value


@click.command()
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path(".libra/localnet"), show_default=True, help="Folder for keys, genesis and stores.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True,
              help="JSON-RPC and faucet port of the public node.")
@click.option("--validators", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--full-nodes", type=click.IntRange(0, 16), default=1, show_default=True)
@click.option("--chain-id", type=click.IntRange(1, 255), default=2, show_default=True,
              help="2 (testnet) is what the Diem SDK's async helpers assume.")
@click.option("--network-port", type=click.IntRange(1, 65535), default=6180, show_default=True,
              help="First validator-network port; nodes use consecutive ports.")
@click.option("--peer-addresses", "peer_addresses_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help='JSON {"validator-0": {"validator-1": "127.0.0.1:7001", ...}, ...}: where a node dials a '
                   "validator instead of its on-chain address (e.g. a TCP proxy you can cut).")
def localnet(
    data_dir: Path, port: int, validators: int, full_nodes: int, chain_id: int, network_port: int,
    peer_addresses_file: Path | None,
) -> None:
    """Start a local network on 127.0.0.1 and keep it running until Ctrl-C."""
    spec = LocalnetSpec(
        data_dir=data_dir, validators=validators, full_nodes=full_nodes, chain_id=chain_id,
        api_port=port, network_base_port=network_port,
        peer_addresses=_read_peer_addresses(peer_addresses_file) if peer_addresses_file else {},
    )
    try:
        raise SystemExit(run(spec, _announce))
    except LocalnetError as exc:
        raise click.ClickException(str(exc)) from None
