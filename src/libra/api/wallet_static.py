"""The web wallet's files at ``/wallet/`` and the push stream it (and ``libra wallet watch``) uses.

``wallet_routes(runtime)`` is what the node adds to its API app:

* ``GET /v1/stream``: server-sent events of committed events (``stream.py``);
* ``GET /wallet``: redirect to ``/wallet/``; ``GET /wallet/``: the page;
  ``GET /wallet/<file>``: its assets, only the files shipped in
  ``libra/api/wallet/`` (built from ``web/`` by ``npm run build``; the bundle is
  committed so a node needs no Node.js).

Pages get a Content-Security-Policy that allows nothing but this origin (plus
``data:``/``blob:`` images for QR codes and camera frames): the wallet never loads
code or talks to anything on the internet.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from aiohttp import web

from libra.api.stream import EventStream
from libra.node.runtime import NodeRuntime

WALLET_DIR = Path(__file__).with_name("wallet")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
}


def _headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


class WalletFiles:
    """Serves the files of ``directory`` by exact name (no subfolders, no traversal)."""

    def __init__(self, directory: Path = WALLET_DIR) -> None:
        self._directory = directory

    def _file(self, name: str) -> Path | None:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            return None
        path = self._directory / name
        return path if path.is_file() else None

    async def index(self, _request: web.Request) -> web.Response:
        return self._serve("index.html")

    async def redirect(self, _request: web.Request) -> web.Response:
        raise web.HTTPFound("/wallet/")

    async def asset(self, request: web.Request) -> web.Response:
        return self._serve(request.match_info["name"])

    def _serve(self, name: str) -> web.Response:
        path = self._file(name)
        if path is None:
            raise web.HTTPNotFound(text="no such wallet file\n")
        content_type = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        charset = "utf-8" if content_type.startswith("text/") or content_type.endswith("+json") else None
        return web.Response(body=path.read_bytes(), content_type=content_type, charset=charset, headers=_headers())

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/wallet", self.redirect, allow_head=False),
            web.get("/wallet/", self.index),
            web.get("/wallet/{name}", self.asset),
        ]


def wallet_routes(runtime: NodeRuntime) -> list[web.RouteDef]:
    """The push stream and the web wallet, for ``create_app(..., extra_routes=...)``."""
    return [*EventStream(runtime).routes(), *WalletFiles().routes()]
