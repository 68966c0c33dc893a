"""The tile fast path: plain tile requests answered before routing, on the event loop.

A map asks for dozens of tiles at once and most of them are already in memory, so the fixed cost of a
request (routing through the nested routers, dependency injection, a worker-thread hop, an ORM login
check and a pooled connection's pre-ping) is most of what a cached tile costs. This ASGI middleware
answers ``GET /api/v1/tiles/{layer}/{z}/{x}/{y}.mvt`` without a query string, with a bearer token, in
at most one database round trip and usually none (see :func:`server.services.tiles.fast_tile` and
``TileFreshness``); every other request, and any
tile request it declines (unknown token, scoped user, bad address, ``?edition=``, an error), goes to
the app unchanged, so errors and edge cases are answered by the one full route.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from server.services import tiles as tiles_service

logger = logging.getLogger(__name__)

_PATH = re.compile(r"/api/v1/tiles/([a-z_]{1,40})/([0-9]{1,2})/([0-9]{1,12})/([0-9]{1,12})\.mvt")


def _bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() or None if scheme.lower() == "bearer" else None
    return None


def _header(headers: list[tuple[bytes, bytes]], wanted: bytes) -> str | None:
    for name, value in headers:
        if name == wanted:
            return value.decode("latin-1")
    return None


class TileFastPath:
    """ASGI middleware serving plain tile requests of read-all users (see the module docstring)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["query_string"]:
            await self.app(scope, receive, send)
            return
        match = _PATH.fullmatch(scope["path"])
        state: Any = scope["app"].state if match else None
        pool = getattr(state, "tile_lookup", None)
        token = _bearer(scope["headers"]) if pool is not None else None
        if match is None or token is None:
            await self.app(scope, receive, send)
            return
        try:
            tile = await tiles_service.fast_tile(
                pool, state.async_engine, state.tile_memory, state.tile_freshness, token, *match.groups()
            )
        except Exception:  # the full route answers (and reports) whatever went wrong
            logger.debug("tile fast path declined %s", scope["path"], exc_info=True)
            tile = None
        if tile is None:
            await self.app(scope, receive, send)
            return
        headers = [
            (b"etag", tile.etag.encode()),
            (b"cache-control", tiles_service.CACHE_CONTROL.encode()),
            (b"vary", b"Authorization"),
        ]
        if tiles_service.matches(_header(scope["headers"], b"if-none-match"), tile.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers += [
            (b"content-type", tiles_service.MVT_MEDIA_TYPE.encode()),
            (b"content-length", str(len(tile.data)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": tile.data})
