"""Streaming ``multipart/form-data`` for photo uploads: each file goes to its staging file as it arrives.

Starlette's ``request.form()`` spools every file part into a temporary file (1 MiB in memory, then
one thread hop per network chunk) and the endpoint only starts once the whole body is in; the
photo then had to be copied again into the blob store's staging area.  Here the body is parsed as it
streams in (``python-multipart``, the parser Starlette uses), each file part is handed to a
:class:`~server.services.evidence.StagingWriter` that checks the photo's first bytes on the spot
(size, JPEG pixel limit) and receives the rest in batches of about 1 MiB, hashed and written in a
worker thread.  A refused photo's remaining bytes are dropped unread; the event loop only parses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from python_multipart.multipart import MultipartParser, parse_options_header

from server.errors import BadRequest, Invalid, PayloadTooLarge
from server.services.evidence import StagingWriter

#: Accepted chunks are handed to the worker thread in batches of about this size.
FLUSH_BYTES = 1024 * 1024
#: Largest text field (the ``meta`` JSON).
MAX_FIELD_BYTES = 1024 * 1024
#: Most parts (files + fields) in one request.
MAX_PARTS = 1000


@dataclass(slots=True, eq=False)
class FilePart:
    """A file part of the form: its field name, the client's file name and where its bytes went."""

    name: str
    filename: str
    writer: StagingWriter | None  # None: not a field we keep, its bytes were dropped
    pending: list[bytes | memoryview] = field(default_factory=list)
    pending_bytes: int = 0
    ended: bool = False


@dataclass(slots=True)
class StreamedForm:
    """The parsed form: text fields by name (last wins) and the file parts in order."""

    fields: dict[str, str] = field(default_factory=dict)
    files: list[FilePart] = field(default_factory=list)

    def writers(self, name: str) -> list[tuple[FilePart, StagingWriter]]:
        """The kept file parts of one field, in the order they were sent."""
        return [(part, part.writer) for part in self.files if part.name == name and part.writer is not None]

    def discard(self) -> None:
        """Remove every staged file (the request failed before they were handed over)."""
        for part in self.files:
            if part.writer is not None:
                part.writer.discard()


def _decode(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


class _Collector:
    """The parser's callbacks: cheap bookkeeping only (they run on the event loop)."""

    def __init__(self, form: StreamedForm, new_writer: Callable[[str], StagingWriter | None]):
        self.form = form
        self.new_writer = new_writer
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.disposition = b""
        self.text: bytearray | None = None
        self.text_name = ""
        self.file: FilePart | None = None
        self.parts = 0
        #: File parts with bytes to write, in order (a part appears once until flushed).
        self.dirty: list[FilePart] = []

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
        }

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise BadRequest(f"表单最多 {MAX_PARTS} 个部分。", code="malformed_multipart")
        self.disposition = b""
        self.text = None
        self.file = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if bytes(self.header_name).lower() == b"content-disposition":
            self.disposition = bytes(self.header_value)
        self.header_name.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        if b"name" not in options:
            raise BadRequest("表单的每个部分都应有 name。", code="malformed_multipart")
        name = _decode(options[b"name"])
        if b"filename" in options:
            self.file = FilePart(name, _decode(options[b"filename"]), self.new_writer(name))
            self.form.files.append(self.file)
        else:
            self.text, self.text_name = bytearray(), name

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.file is not None:
            part = self.file
            if part.writer is None:
                return
            chunk = memoryview(data)[start:end]
            if not part.writer.accept(chunk):
                part.pending.clear()  # refused: drop what was not written yet, and the rest
                part.pending_bytes = 0
                return
            if not part.pending:
                self.dirty.append(part)
            part.pending.append(chunk)
            part.pending_bytes += end - start
        elif self.text is not None:
            if len(self.text) + end - start > MAX_FIELD_BYTES:
                raise PayloadTooLarge(f"表单字段 {self.text_name} 超过 {MAX_FIELD_BYTES // 1024} KB。")
            self.text += data[start:end]

    def on_part_end(self) -> None:
        if self.text is not None:
            self.form.fields[self.text_name] = _decode(bytes(self.text))
            self.text = None
        if self.file is not None:
            self.file.ended = True
        self.file = None


async def _flush(parts: list[FilePart]) -> None:
    """Hand the pending chunks of ``parts`` to their writers, in one worker-thread hop."""
    batch = [(part.writer, part.pending) for part in parts if part.writer is not None and part.pending]
    for part in parts:
        part.pending = []
        part.pending_bytes = 0
    if batch:

        def write() -> None:
            for writer, chunks in batch:
                writer.write(chunks)

        await run_in_threadpool(write)


async def read_streamed_form(
    request: Request, new_writer: Callable[[str], StagingWriter | None]
) -> StreamedForm:
    """Parse a ``multipart/form-data`` body as it arrives; ``new_writer(field)`` gives each file its sink.

    On any failure (malformed body, body too large, client gone) every staged file is removed before
    the error propagates.  A body that is not multipart yields an empty form.
    """
    form = StreamedForm()
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data":
        return form
    boundary = params.get(b"boundary")
    if not boundary:
        raise BadRequest("multipart 请求缺少 boundary。", code="malformed_multipart")
    collector = _Collector(form, new_writer)
    try:
        try:
            parser = MultipartParser(boundary, collector.callbacks())
        except Exception as exc:  # noqa: BLE001 - python-multipart refuses a bad boundary with various errors
            raise BadRequest("multipart 请求的 boundary 无效。", code="malformed_multipart") from exc
        async for chunk in request.stream():
            if not chunk:
                continue
            try:
                parser.write(chunk)
            except (BadRequest, PayloadTooLarge, Invalid):
                raise
            except Exception as exc:  # noqa: BLE001 - any parser failure means a malformed body
                raise BadRequest("multipart 请求体格式错误。", code="malformed_multipart") from exc
            # Write once a part has 1 MiB waiting or has ended (a batch of small photos stays bounded).
            ready = [part for part in collector.dirty if part.ended or part.pending_bytes >= FLUSH_BYTES]
            if ready:
                collector.dirty = [part for part in collector.dirty if part not in ready]
                await _flush(ready)
        parser.finalize()
        await _flush(collector.dirty)
        collector.dirty = []
    except BaseException:
        form.discard()  # close + unlink: quick, and no await while a cancellation may be pending
        raise
    return form
