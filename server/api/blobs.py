"""Answering with a stored object: a file response where the store has a local file, streamed otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from fastapi.responses import FileResponse, StreamingResponse

from server.storage import BlobStore

_CHUNK = 256 * 1024


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := handle.read(_CHUNK):
            yield chunk
    finally:
        handle.close()


def blob_response(
    store: BlobStore, key: str, *, media_type: str, headers: dict[str, str] | None = None
) -> FileResponse | StreamingResponse:
    """The object ``key`` of ``store`` as the response body (``FileNotFoundError`` if it is gone)."""
    path = store.local_path(key)
    if path is not None:
        return FileResponse(path, media_type=media_type, headers=headers)
    return StreamingResponse(_chunks(store.open(key)), media_type=media_type, headers=headers)
