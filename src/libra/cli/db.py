"""``libra db``: offline checks of a node's ledger store."""

from __future__ import annotations

from pathlib import Path

import click

from libra.storage.errors import StorageError
from libra.storage.libradb import LibraDB
from libra.storage.verify import verify_store

NODE_STORE = "db"  # a node's ledger store, under its folder (node.data_dir in node.toml)


def ledger_store_folder(folder: Path) -> Path:
    """The ledger store ``folder`` names: itself (a RocksDB folder) or, for a node's folder
    (what ``localnet.json`` lists as ``data_dir``), its ``db/``. Anything else is a usage
    error naming the folder expected."""
    if (folder / "CURRENT").is_file():
        return folder
    if (folder / NODE_STORE / "CURRENT").is_file():
        return folder / NODE_STORE
    nodes = sorted(p.parent for p in folder.glob(f"*/{NODE_STORE}/CURRENT") if p.is_file())
    if (folder / "localnet.json").exists() or (folder / "genesis.bcs").exists():
        listed = ", ".join(str(node.parent) for node in nodes) or "none yet"
        raise click.BadParameter(
            f"{folder} is a localnet's folder; give one node's folder (its nodes: {listed})", param_hint="--data"
        )
    raise click.BadParameter(
        f"no ledger store in {folder} nor in {folder / NODE_STORE}: give a node's folder (its data_dir in "
        "localnet.json) or the store itself (node.data_dir in its node.toml)",
        param_hint="--data",
    )


@click.group()
def db() -> None:
    """Inspect and check a ledger store."""


@db.command()
@click.option(
    "--data",
    "data_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A node's folder (data_dir in localnet.json) or its ledger store (its db/ folder).",
)
@click.option("--sample", type=click.IntRange(min=1), default=None, help="Check N random state-tree paths, not all nodes.")
@click.option("--version", "version", type=click.IntRange(min=0), default=None, help="State version to check (default: latest).")
def verify(data_dir: Path, sample: int | None, version: int | None) -> None:
    """Recompute accumulator and state roots and check them against the signed ledger infos.

    Exit status 0 when everything matches, 1 at the first mismatch.
    """
    store_dir = ledger_store_folder(data_dir)
    click.echo(f"checking the ledger store {store_dir}", err=True)
    try:
        store = LibraDB.open(store_dir, create=False)
    except StorageError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    try:
        if version is not None and version >= store.next_version:
            raise click.BadParameter(f"version {version} is not committed (next is {store.next_version})", param_hint="--version")
        for finding in verify_store(store, sample=sample, version=version):
            if not finding.ok:
                click.echo(f"MISMATCH: {finding.message}", err=True)
                raise SystemExit(1)
            click.echo(finding.message)
    except StorageError as exc:
        click.echo(f"MISMATCH: {exc}", err=True)
        raise SystemExit(1) from None
    finally:
        store.close()
