"""A TCP proxy on every node-to-node link, so a test can partition running processes.

Each link is one direction of dialing: ``(dialer, target)`` gets its own listening port
on 127.0.0.1, the dialer is configured to dial the target there (``network.peer_addresses``,
``libra localnet --peer-addresses``), and the proxy forwards to the target's real address.
TLS passes through untouched: the proxy sees bytes, never keys, so pinning still holds.

A link is in one of three states:

* ``open``: bytes flow both ways.
* ``reset``: established connections are aborted (RST to both ends) and new ones are
  accepted and aborted at once: both ends learn at once that the link is gone.
* ``blackhole``: nothing is forwarded and nothing is closed, as when packets are dropped:
  established connections hang (the nodes' keepalive must notice), new ones are accepted
  but never reach the target. Bytes read are held, not dropped (TCP would retransmit them),
  so a connection still alive when the link heals carries on where it stopped.

The proxy runs its own event loop on a daemon thread; its methods are called from the
test's thread and return once the change is in effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

LinkName = tuple[str, str]
"""(dialer, target)"""

STATES = ("open", "reset", "blackhole")


@dataclass(eq=False)
class _Pair:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.transport.abort()
        for task in self.tasks:
            if task is not asyncio.current_task():
                task.cancel()


@dataclass(eq=False)
class _Link:
    name: LinkName
    server: asyncio.Server
    port: int
    target: tuple[str, int] | None = None
    state: str = "open"
    flowing: asyncio.Event = field(default_factory=asyncio.Event)
    pairs: set[_Pair] = field(default_factory=set)
    bytes_forwarded: int = 0
    accepted: int = 0
    refused: int = 0


class LinkProxy:
    """Links between named nodes; see the module docstring."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._links: dict[LinkName, _Link] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="link-proxy", daemon=True)
        self._thread.start()

    # --- called from the test's thread -------------------------------------------------------

    def add_link(self, dialer: str, target: str, target_address: str | None = None) -> str:
        """Listen for ``dialer``'s connections to ``target``; returns the "host:port" to dial.

        Until the target's address is known (:meth:`set_target`), connections are held.
        """
        if (dialer, target) in self._links:
            raise ValueError(f"link {dialer} -> {target} exists already")
        link = self._call(self._add(dialer, target))
        if target_address is not None:
            self.set_target(dialer, target, target_address)
        return f"{self.host}:{link.port}"

    def set_target(self, dialer: str, target: str, target_address: str) -> None:
        host, sep, port = target_address.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"target address must be HOST:PORT, got {target_address!r}")
        link = self._link((dialer, target))
        self._call(self._set_target(link, (host, int(port))))

    def links(self) -> list[LinkName]:
        return list(self._links)

    def links_between(self, group: Iterable[str], others: Iterable[str]) -> list[LinkName]:
        """Every link from a node of ``group`` to one of ``others`` and back."""
        group, others = set(group), set(others)
        return [n for n in self._links if (n[0] in group and n[1] in others) or (n[0] in others and n[1] in group)]

    def cut(self, links: Iterable[LinkName], mode: str = "reset") -> None:
        if mode not in ("reset", "blackhole"):
            raise ValueError(f"mode must be 'reset' or 'blackhole', got {mode!r}")
        self._call(self._set_state([self._link(n) for n in links], mode))

    def heal(self, links: Iterable[LinkName] | None = None) -> None:
        """Open the given links (all of them by default)."""
        chosen = self._links.values() if links is None else [self._link(n) for n in links]
        self._call(self._set_state(list(chosen), "open"))

    def bytes_forwarded(self, name: LinkName) -> int:
        return self._link(name).bytes_forwarded

    def state(self, name: LinkName) -> str:
        return self._link(name).state

    def close(self) -> None:
        if not self._loop.is_running():
            return
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def _link(self, name: LinkName) -> _Link:
        try:
            return self._links[name]
        except KeyError:
            raise ValueError(f"no link {name[0]} -> {name[1]}") from None

    def _call(self, coroutine):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    # --- on the proxy's loop -------------------------------------------------------------------

    async def _add(self, dialer: str, target: str) -> _Link:
        holder: list[_Link] = []

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._on_accept(holder[0], reader, writer)

        server = await asyncio.start_server(accept, self.host, 0)
        link = _Link((dialer, target), server, int(server.sockets[0].getsockname()[1]))
        holder.append(link)
        self._links[link.name] = link
        return link

    async def _set_target(self, link: _Link, target: tuple[str, int]) -> None:
        link.target = target
        if link.state == "open":
            link.flowing.set()

    async def _set_state(self, links: list[_Link], state: str) -> None:
        for link in links:
            link.state = state
            if state == "open":
                if link.target is not None:
                    link.flowing.set()
                continue
            link.flowing.clear()
            if state == "reset":
                for pair in list(link.pairs):
                    pair.abort()
                link.pairs.clear()

    async def _close(self) -> None:
        for link in self._links.values():
            link.server.close()
            for pair in list(link.pairs):
                pair.abort()
            link.pairs.clear()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _on_accept(self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if link.state == "reset":
            link.refused += 1
            writer.transport.abort()
            return
        link.accepted += 1
        pair = _Pair(writer)
        link.pairs.add(pair)
        try:
            await link.flowing.wait()  # blackholed, or the target not known yet: the dialer waits
            if pair not in link.pairs:  # reset meanwhile
                return
            assert link.target is not None
            up_reader, up_writer = await asyncio.open_connection(*link.target)
        except (OSError, asyncio.CancelledError):
            pair.abort()
            link.pairs.discard(pair)
            return
        if pair not in link.pairs:  # reset while connecting
            up_writer.transport.abort()
            return
        pair.upstream = up_writer
        pair.tasks = [
            asyncio.create_task(self._pump(link, pair, reader, up_writer)),
            asyncio.create_task(self._pump(link, pair, up_reader, writer)),
        ]

    async def _pump(
        self, link: _Link, pair: _Pair, source: asyncio.StreamReader, sink: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                data = await source.read(65536)
                if not data:
                    break
                await link.flowing.wait()  # blackholed: hold the bytes, read no more
                sink.write(data)
                link.bytes_forwarded += len(data)
                await sink.drain()
            with contextlib.suppress(OSError):
                if sink.can_write_eof():
                    sink.write_eof()
        except (OSError, asyncio.IncompleteReadError):
            pair.abort()
        except asyncio.CancelledError:
            return
        finally:
            if all(task.done() or task is asyncio.current_task() for task in pair.tasks):
                pair.abort()
                link.pairs.discard(pair)
