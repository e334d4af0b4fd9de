"""The ``libra`` command. Each command group lives in its own module of this package,
imported only when that command runs (fast start, and one group's imports never
affect another's)."""

from __future__ import annotations

import importlib

import click

# command name -> (module, attribute)
COMMANDS: dict[str, tuple[str, str]] = {
    "bench": ("libra.cli.bench", "bench"),
    "db": ("libra.cli.db", "db"),
    "localnet": ("libra.cli.localnet", "localnet"),
    "node": ("libra.cli.node", "node"),
    "order": ("libra.cli.order", "order"),
    "reserve": ("libra.cli.reserve", "reserve"),
    "supervise": ("libra.cli.supervise", "supervise"),
    "tx": ("libra.cli.tx", "tx"),
    "validator": ("libra.cli.validator", "validator"),
    "wallet": ("libra.cli.wallet", "wallet"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module = importlib.import_module(target[0])
        command = getattr(module, target[1])
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="libra")
def cli() -> None:
    """Libra: a Diem-compatible payment blockchain."""


def main() -> None:
    cli()
