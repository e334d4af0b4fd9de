"""The ``libra`` command. Each command group lives in its own module of this package."""

from __future__ import annotations

import importlib

import click

# (module, attribute) of each command group; modules are imported lazily so that a
# broken optional group never stops the others from working.
COMMAND_GROUPS: tuple[tuple[str, str], ...] = (
    ("libra.cli.tx", "tx"),
    ("libra.cli.db", "db"),
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="libra")
def cli() -> None:
    """Libra: a Diem-compatible payment blockchain."""


def _register_groups() -> None:
    for module_name, attribute in COMMAND_GROUPS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # group not built yet
            raise
        cli.add_command(getattr(module, attribute))


_register_groups()


def main() -> None:
    cli()
