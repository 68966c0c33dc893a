"""Baselines of the ingest benchmark (bench only, never imported by the app itself).

* ``naive_router``: ``POST /mobile/bench-naive/v1/inspections/{id}/photos``, same form and receipts
  as the real ``/mobile/v1`` endpoint (the ``/mobile/`` prefix gives it the same body-size limit),
  with the pixel work done the naive way: the upload is parsed by FastAPI and read whole into memory
  (``await file.read()``), hashed from memory, fully decoded with Pillow, turned upright and
  converted to RGB, and each derivative (the product's sizes, 320 and 1280 px) is resized from full
  resolution with LANCZOS.  Everything else is the project's own code, so the comparison isolates
  the pipeline: the same header/EXIF read and pixel limit, the same phash (of the 320 px
  derivative's pixels, as the product takes it), the same durable writes (fsync) of original and
  derivatives, the same rows, verdict and audit in the same database.  That is done by routing
  ``evidence.derive_photo`` for the files this endpoint staged (and only those) to
  :func:`naive_derivatives`, in the benchmark's server process only.
* ``floor_router``: ``POST /mobile/bench-floor/v1/photos``: the bytes only, received exactly as the
  product receives them (``mobile_api.router.photo_form``: the body parsed as it streams in, SHA-256
  and writes in 1 MiB batches), then ``store.put_file`` (fsync, rename, fsync of the directory).
  No login, no decoding, no database: what every upload costs anyway.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from typing import Annotated, Any

import imagehash
from fastapi import APIRouter, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from PIL import Image, ImageOps

from mobile_api.router import PhotoFormDep, PhotoMetaIn, StoreDep, _rules, _safe_filename
from server.api.deps import CurrentUser, SessionDep, SettingsDep
from server.photo_evidence.imaging import Derivatives
from server.services import evidence

DERIVATIVE_QUALITY = 82

#: Staged path -> the upload's bytes, for the files the naive endpoint is processing right now.
_IN_MEMORY: dict[str, bytes] = {}
_own_derive_photo = evidence.derive_photo


def naive_derivatives(data: bytes, sizes: tuple[int, ...]) -> Derivatives:
    """Full decode from memory, then each size resized from full resolution with LANCZOS.

    The perceptual hash is taken from the smallest derivative's pixels, as the product does.
    """
    image = Image.open(io.BytesIO(data))
    image.load()
    image = ImageOps.exif_transpose(image).convert("RGB")
    out: dict[int, bytes] = {}
    smallest: Image.Image | None = None
    for size in sorted(sizes, reverse=True):
        width, height = image.size
        scale = min(1.0, size / max(width, height))
        resized = image.resize(
            (max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.LANCZOS
        )
        buffer = io.BytesIO()
        resized.save(buffer, "JPEG", quality=DERIVATIVE_QUALITY, optimize=True)
        out[size] = buffer.getvalue()
        smallest = resized
    assert smallest is not None
    return Derivatives({size: out[size] for size in sizes}, str(imagehash.phash(smallest)))


def _derive_photo(path: Any, *, sizes: tuple[int, ...], max_pixels: int) -> Derivatives:
    data = _IN_MEMORY.get(str(path))
    if data is None:  # not a naive upload: the project's own pipeline, unchanged
        return _own_derive_photo(path, sizes=sizes, max_pixels=max_pixels)
    return naive_derivatives(data, sizes)


evidence.derive_photo = _derive_photo

naive_router = APIRouter(prefix="/mobile/bench-naive/v1", include_in_schema=False)
floor_router = APIRouter(prefix="/mobile/bench-floor/v1", include_in_schema=False)


def _summary(inspection_id: str, receipts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "inspection_id": inspection_id,
        "receipts": receipts,
        "received": sum(1 for r in receipts if r["received"]),
        "rejected": sum(1 for r in receipts if not r["received"]),
    }


@naive_router.post("/inspections/{inspection_id}/photos")
async def upload_naive(
    inspection_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    store: StoreDep,
    photos: Annotated[list[UploadFile], File()],
    meta: Annotated[str, Form()],
) -> dict[str, Any]:
    """The naive pipeline (see the module docstring)."""
    items = [PhotoMetaIn.model_validate(x) for x in json.loads(meta)]
    rules = _rules(settings)
    receipts = []
    for upload, item in zip(photos, items, strict=True):
        data = await upload.read()  # the whole file in memory

        def process(
            upload: UploadFile = upload, item: PhotoMetaIn = item, data: bytes = data
        ) -> dict[str, Any]:
            sha = hashlib.sha256(data).hexdigest()
            handle, staged = store.staging_file()
            with handle:
                handle.write(data)
            _IN_MEMORY[str(staged)] = data
            try:
                return evidence.receive_photo(
                    session,
                    user,
                    inspection_id,
                    evidence.IncomingPhoto(
                        photo_id=item.photo_id,
                        filename=_safe_filename(upload.filename),
                        staged=staged,
                        size=len(data),
                        sha256=sha,
                        device_fix=item.device_fix.to_fix() if item.device_fix else None,
                    ),
                    store=store,
                    rules=rules,
                ).as_dict()
            finally:
                _IN_MEMORY.pop(str(staged), None)

        receipts.append(await run_in_threadpool(process))
        del data
    return _summary(str(inspection_id), receipts)


@floor_router.post("/photos")
async def upload_floor(form: PhotoFormDep, store: StoreDep) -> dict[str, Any]:
    """Hash and store the bytes durably, nothing else."""
    items = [PhotoMetaIn.model_validate(x) for x in json.loads(form.fields["meta"])]

    def process() -> list[dict[str, Any]]:
        receipts = []
        for (part, writer), item in zip(form.writers("photos"), items, strict=True):
            incoming = writer.finish(photo_id=item.photo_id, filename=part.filename, device_fix=None)
            if incoming.refusal is not None or incoming.staged is None:
                code = incoming.refusal.code if incoming.refusal else "empty_file"
                receipts.append({"photo_id": item.photo_id, "received": False, "code": code})
                continue
            store.put_file(incoming.sha256, incoming.staged)
            receipts.append(
                {
                    "photo_id": item.photo_id,
                    "received": True,
                    "code": None,
                    "sha256": incoming.sha256,
                    "size_bytes": incoming.size,
                }
            )
        return receipts

    return _summary("", await run_in_threadpool(process))
