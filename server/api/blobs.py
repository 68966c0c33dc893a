"""Answering with a stored object: a file response where the store has a local file, streamed otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from fastapi.responses import FileResponse, StreamingResponse

from server.errors import NotFound
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
    """The object ``key`` of ``store`` as the response body; 404 ``file_missing`` if it has gone meanwhile."""
    path = store.local_path(key)
    if path is not None:
        return FileResponse(path, media_type=media_type, headers=headers)
    try:
        handle = store.open(key)
    except FileNotFoundError as exc:
        raise NotFound("文件已不在存储中。", code="file_missing") from exc
    return StreamingResponse(_chunks(handle), media_type=media_type, headers=headers)
