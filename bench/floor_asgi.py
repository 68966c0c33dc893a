"""The HTTP floor of the maps benchmark: a bare ASGI app that answers ``GET /bytes/{n}`` with ``n`` bytes.

Run by ``bench.maps`` under the same uvicorn command line as the two tile servers
(``uvicorn bench.floor_asgi:app``), so that a warm tile of ours can be set beside what the same client,
server stack and loopback cost for a body of the same size with no application work at all.
``GET /health`` answers 200 for the start-up check.
"""

from __future__ import annotations

from typing import Any

_BODIES: dict[int, bytes] = {}
#: Largest body served (a tile of ours is at most a few MB).
MAX_BYTES = 64 * 1024 * 1024


def _body(size: int) -> bytes:
    body = _BODIES.get(size)
    if body is None:
        body = _BODIES[size] = bytes(size)
    return body


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``/bytes/{n}``: ``n`` zero bytes as ``application/vnd.mapbox-vector-tile``; ``/health``: ``ok``."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    status, body = 404, b"not found"
    if path == "/health":
        status, body = 200, b"ok"
    elif path.startswith("/bytes/") and path[7:].isdigit() and int(path[7:]) <= MAX_BYTES:
        status, body = 200, _body(int(path[7:]))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/vnd.mapbox-vector-tile"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
