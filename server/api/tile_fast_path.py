"""The tile fast path: plain tile requests answered before routing, on the event loop.

A map asks for dozens of tiles at once and most of them are already in memory, so the fixed cost of a
request (middleware, routing through the nested routers, dependency injection, a worker-thread hop, an
ORM login check and a pooled connection's pre-ping) is most of what a cached tile costs.
:func:`answer` takes ``GET /api/v1/tiles/{layer}/{z}/{x}/{y}.mvt`` without a query string, with a
bearer token, before the app's middleware stack (:class:`TileFastPath`), in at most one database
round trip and usually none (see :func:`server.services.tiles.fast_tile` and ``TileFreshness``). Every
other request, and any tile request it declines (unknown token, scoped user, bad address,
``?edition=``, an error), goes to the app unchanged, so errors and edge cases are answered by the one
full route.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi.security.utils import get_authorization_scheme_param
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from server.services import tiles as tiles_service

logger = logging.getLogger(__name__)

_PATH = re.compile(r"/api/v1/tiles/([a-z_]{1,40})/([0-9]{1,2})/([0-9]{1,12})/([0-9]{1,12})\.mvt")
_CACHE_CONTROL = (b"cache-control", tiles_service.CACHE_CONTROL.encode())
_VARY = (b"vary", b"Authorization")
_CONTENT_TYPE = (b"content-type", tiles_service.MVT_MEDIA_TYPE.encode())


async def answer(app: Any, scope: Scope, send: Send) -> bool:
    """Answer a plain tile request of ``app`` (a Sitewatch app) if it can; False to leave it to the app."""
    if scope["type"] != "http" or scope["method"] != "GET" or scope["query_string"]:
        return False
    match = _PATH.fullmatch(scope["path"])
    if match is None:
        return False
    state = app.state
    lookup = getattr(state, "tile_lookup", None)
    request_headers = Headers(scope=scope)
    # Parsed as the full route's OAuth2PasswordBearer parses it.
    scheme, token = get_authorization_scheme_param(request_headers.get("authorization"))
    if lookup is None or scheme.lower() != "bearer" or not token:
        return False
    try:
        tile = await tiles_service.fast_tile(
            lookup, state.async_engine, state.tile_memory, state.tile_freshness, token, *match.groups()
        )
    except Exception:  # the full route answers (and reports) whatever went wrong
        logger.debug("tile fast path declined %s", scope["path"], exc_info=True)
        return False
    if tile is None:
        return False
    headers = [(b"etag", tile.etag.encode()), _CACHE_CONTROL, _VARY]
    if tiles_service.matches(request_headers.get("if-none-match"), tile.etag):
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return True
    headers += [_CONTENT_TYPE, (b"content-length", str(len(tile.data)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": tile.data})
    return True


class TileFastPath:
    """The app's outermost layer: :func:`answer` first, then the app's own middleware stack."""

    def __init__(self, stack: ASGIApp, app: Any):
        self.stack = stack
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await answer(self.app, scope, send):
            return
        await self.stack(scope, receive, send)
