"""The event loop of node processes: uvloop unless ``LIBRA_EVENT_LOOP=asyncio``."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
import uvloop
from click.testing import CliRunner

from libra.cli.node import node
from libra.node import event_loop


def test_uvloop_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(event_loop.ENV_VAR, raising=False)
    assert event_loop.loop_factory() is uvloop.new_event_loop


def test_asyncio_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(event_loop.ENV_VAR, " AsyncIO ")
    assert event_loop.loop_factory() is None


def test_an_unknown_choice_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(event_loop.ENV_VAR, "trio")
    with pytest.raises(ValueError, match="LIBRA_EVENT_LOOP must be one of uvloop, asyncio"):
        event_loop.loop_factory()


def test_node_run_reports_an_unknown_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(event_loop.ENV_VAR, "trio")
    result = CliRunner().invoke(node, ["run", "--config", str(tmp_path / "node.toml")])
    assert result.exit_code == 1
    assert "LIBRA_EVENT_LOOP must be one of" in result.output


@pytest.mark.parametrize("choice", ["uvloop", "asyncio"])
def test_run_gives_the_result_on_the_chosen_loop(monkeypatch: pytest.MonkeyPatch, choice: str) -> None:
    """What a node relies on works on both: timeouts, the default executor, signal handlers."""
    monkeypatch.setenv(event_loop.ENV_VAR, choice)

    async def main() -> tuple[str, int, bool]:
        loop = asyncio.get_running_loop()
        got_signal = asyncio.Event()
        loop.add_signal_handler(signal.SIGUSR1, got_signal.set)
        try:
            signal.raise_signal(signal.SIGUSR1)
            async with asyncio.timeout(5):
                await got_signal.wait()
        finally:
            loop.remove_signal_handler(signal.SIGUSR1)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.01):
                await asyncio.sleep(1)
        value = await loop.run_in_executor(None, sum, [1, 2, 3])
        return event_loop.loop_name(loop), value, got_signal.is_set()

    assert event_loop.run(main()) == (choice, 6, True)
