"""``libra node run --config FILE``: one validator or full node in this process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path

import click
from aiohttp import web

from libra.api.faucet import Faucet
from libra.api.server import create_app
from libra.api.service import NodeApiService
from libra.api.supervisor import SupervisorView
from libra.api.wallet_static import wallet_routes
from libra.crypto.ed25519 import KeyFileError, load_private_key
from libra.node import event_loop
from libra.node.config import ConfigError, NodeConfig, load_config
from libra.node.gc_tuning import tune_garbage_collector
from libra.node.genesis import GenesisError
from libra.node.ledger import LedgerError
from libra.node.runtime import NodeError, NodeRuntime
from libra.storage.errors import StorageError

log = logging.getLogger("libra.node")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


async def serve(config: NodeConfig) -> None:
    """Run the node until SIGINT/SIGTERM, then stop cleanly: API first, then blocks, then the store."""
    log.info("event loop: %s", event_loop.loop_name(asyncio.get_running_loop()))
    runtime = NodeRuntime(config)
    runner: web.AppRunner | None = None
    try:
        routes = []
        if config.faucet.enabled:
            assert config.faucet.treasury_compliance_key_file and config.faucet.designated_dealer_key_file
            faucet = Faucet(
                runtime,
                load_private_key(config.faucet.treasury_compliance_key_file),
                load_private_key(config.faucet.designated_dealer_key_file),
            )
            routes = faucet.routes()
        routes = [*routes, *wallet_routes(runtime), *SupervisorView(runtime).routes()]
        service = NodeApiService(runtime)
        producer = asyncio.create_task(runtime.run(), name="block-production")
        if config.api.enabled:
            app = create_app(
                service,
                max_body_bytes=config.api.max_body_bytes,
                max_batch_size=config.api.max_batch_size,
                extra_routes=routes,
            )
            service.attach_metrics(app)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, config.api.host, config.api.port).start()
            log.info("JSON-RPC listening on http://%s:%d/v1", config.api.host, config.api.port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({producer, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if producer in done:
            producer.result()  # re-raise why block production stopped
        log.info("stopping")
        runtime.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await producer
    finally:
        if runner is not None:
            await runner.cleanup()
        runtime.close()
        log.info("stopped")


@click.group()
def node() -> None:
    """Run a node."""


@node.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The node's TOML config (see libra.node.config).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True)
def run(config_path: Path, log_level: str) -> None:
    """Run one node until SIGINT/SIGTERM."""
    _configure_logging(log_level)
    tune_garbage_collector()
    try:
        factory = event_loop.loop_factory()
    except ValueError as exc:  # a bad LIBRA_EVENT_LOOP
        raise click.ClickException(str(exc)) from None
    try:
        config = load_config(config_path)
        event_loop.run(serve(config), factory)
    except (ConfigError, GenesisError, LedgerError, NodeError, StorageError, KeyFileError) as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot start: {exc}") from None
