"""``libra db``: offline checks of a node's ledger store."""

from __future__ import annotations

from pathlib import Path

import click

from libra.storage.errors import StorageError
from libra.storage.libradb import LibraDB
from libra.storage.verify import verify_store


@click.group()
def db() -> None:
    """Inspect and check a ledger store."""


@db.command()
@click.option(
    "--data",
    "data_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The store's directory.",
)
@click.option("--sample", type=click.IntRange(min=1), default=None, help="Check N random state-tree paths, not all nodes.")
@click.option("--version", "version", type=click.IntRange(min=0), default=None, help="State version to check (default: latest).")
def verify(data_dir: Path, sample: int | None, version: int | None) -> None:
    """Recompute accumulator and state roots and check them against the signed ledger infos.

    Exit status 0 when everything matches, 1 at the first mismatch.
    """
    try:
        store = LibraDB.open(data_dir, create=False)
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
