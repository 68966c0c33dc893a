"""``/mobile/v1``: what an inspector's phone calls, on weak networks, with retries that never duplicate."""

from __future__ import annotations

import datetime as dt
import gc
import json
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError

from mobile_api.multipart import StreamedForm, read_streamed_form
from server.api.blobs import blob_response
from server.api.deps import CurrentUser, SessionDep, SettingsDep, StoreDep
from server.errors import AppError, Invalid, validation_problem
from server.photo_evidence.verdict import DeviceFix
from server.schemas.auth import LoginRequest, TokenRead
from server.services import auth as auth_service
from server.services import evidence

_frozen = False
#: How long a thread may hold the GIL while another asks for it (CPython's default: 5 ms).
GIL_SWITCH_INTERVAL_S = 0.001


async def _walk_routes(app: Any) -> None:
    """Send one request that no route matches through the app's router, at start-up.

    FastAPI builds each router's table of routes (dependencies analysed, models compiled) on the
    first request that walks it, on the event loop: ~200 ms for this app, in the first user's request.
    """
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/.warm-up",
        "raw_path": b"/.warm-up",
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "client": None,
        "server": None,
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: Any) -> None:
        return None

    await app.router(scope, receive, send)


@asynccontextmanager
async def _warm_up(app: Any) -> AsyncIterator[None]:
    """Before the first request: build the route tables, load the photo pipeline's libraries.

    Then, once per process, move everything start-up created out of the garbage collector's view
    (``gc.freeze``): a full collection over the millions of objects of FastAPI, SQLAlchemy, NumPy and
    SciPy holds the GIL for 100-150 ms, and it runs in whichever thread happens to allocate, often
    the event loop's.  Objects made later are still collected as usual.

    Also once per process: the GIL switch interval goes from 5 ms to :data:`GIL_SWITCH_INTERVAL_S`.
    During uploads the event loop shares the GIL with request threads (SQLAlchemy, EXIF) and the
    pixel threads' Python glue; each thread asking for the GIL may wait a full interval, and with
    several asking, the loop waited several intervals in a row (stalls of 25-35 ms at 8 uploads).
    """
    global _frozen
    await _walk_routes(app)
    await run_in_threadpool(evidence.warm_up)
    if not _frozen:
        gc.collect()
        gc.freeze()
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
        _frozen = True
    yield


router = APIRouter(prefix="/mobile/v1", tags=["mobile"], lifespan=_warm_up)


class DeviceFixIn(BaseModel):
    """The phone's own location fix (browser geolocation)."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100000)
    fixed_at: dt.datetime | None = None

    def to_fix(self) -> DeviceFix:
        """As the verdict module's type."""
        return DeviceFix(self.lat, self.lon, self.accuracy_m, self.fixed_at)


class InspectionIn(BaseModel):
    """A new inspection record, identified by the phone's UUID."""

    id: uuid.UUID
    project_id: int
    started_at: dt.datetime
    check_date: dt.date | None = None
    device_fix: DeviceFixIn | None = None
    findings: str = Field(default="", max_length=8000)
    check_plan_id: int | None = None


class PhotoMetaIn(BaseModel):
    """Per-photo data sent beside the files, in the same order."""

    photo_id: str = Field(max_length=64)
    device_fix: DeviceFixIn | None = None


def _rules(settings) -> evidence.EvidenceRules:
    return evidence.EvidenceRules(
        max_photo_bytes=settings.max_photo_bytes,
        max_pixels=settings.max_photo_pixels,
        site_buffer_m=settings.photo_site_buffer_m,
        max_age_days=settings.photo_max_age_days,
    )


@router.post("/login", response_model=TokenRead)
def login(body: LoginRequest, session: SessionDep, settings: SettingsDep) -> TokenRead:
    """Sign in; returns a bearer token."""
    token, expires_at, _ = auth_service.login(
        session, body.username, body.password, ttl_hours=settings.token_ttl_hours
    )
    return TokenRead(access_token=token, expires_at=expires_at)


@router.get("/sync")
def sync(user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Everything the phone needs offline: assigned checks, those projects' sites, last progress."""
    return evidence.sync_payload(session, user)


@router.post("/inspections", status_code=status.HTTP_201_CREATED)
def create_inspection(body: InspectionIn, user: CurrentUser, session: SessionDep) -> JSONResponse:
    """Create an inspection; a retry with the same UUID returns the same record (200)."""
    record, created = evidence.create_inspection(
        session,
        user,
        evidence.InspectionInput(
            id=body.id,
            project_id=body.project_id,
            started_at=body.started_at,
            check_date=body.check_date,
            device_fix=body.device_fix.to_fix() if body.device_fix else None,
            findings=body.findings,
            check_plan_id=body.check_plan_id,
        ),
    )
    return JSONResponse(record, status_code=201 if created else 200)


def _safe_filename(name: str | None) -> str:
    """The base name of an upload, printable, at most 200 characters (never a path)."""
    base = (name or "photo").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in "\x00") or "photo"
    return cleaned[:200]


#: The form of a photo upload, for the OpenAPI document (the body is parsed as it streams in).
_UPLOAD_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["photos", "meta"],
                    "properties": {
                        "photos": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "JPEG or HEIC originals, byte for byte",
                        },
                        "meta": {
                            "type": "string",
                            "description": 'JSON list, one per file: {"photo_id": UUID, "device_fix": {...}}',
                        },
                    },
                }
            }
        },
    }
}


def _missing(*names: str) -> AppError:
    """The 422 FastAPI would answer for missing form fields."""
    return validation_problem(
        [{"loc": ("body", name), "msg": "Field required", "type": "missing"} for name in names]
    )


async def photo_form(request: Request, store: StoreDep) -> AsyncIterator[StreamedForm]:
    """Stream the form in before anything else (no database connection is held while a phone sends).

    Each file goes to the staging area as it arrives; one whose first bytes already refuse it (too
    large, or a JPEG frame header claiming too many pixels) is dropped unread.  Staged files that were
    not taken into the store (an error, a refusal) are removed once the request is over.
    """
    rules = _rules(request.app.state.settings)

    def writer(field_name: str) -> evidence.StagingWriter | None:
        if field_name != "photos":
            return None
        return evidence.StagingWriter(store, max_bytes=rules.max_photo_bytes, max_pixels=rules.max_pixels)

    form = await read_streamed_form(request, writer)
    try:
        yield form
    finally:
        form.discard()  # what was stored has been moved away already: this only removes leftovers


# Declared before the user and the session in the endpoint: FastAPI solves dependencies in order, so
# the body is in (and a bomb dropped) before a database connection is taken for the login check.
PhotoFormDep = Annotated[StreamedForm, Depends(photo_form)]


def _photo_items(form: StreamedForm) -> list[PhotoMetaIn]:
    """The ``meta`` items, one per file, validated."""
    files = form.writers("photos")
    missing = [name for name, ok in (("photos", files), ("meta", "meta" in form.fields)) if not ok]
    if missing:
        raise _missing(*missing)
    try:
        raw = json.loads(form.fields["meta"])
        items = [PhotoMetaIn.model_validate(x) for x in raw] if isinstance(raw, list) else None
    except json.JSONDecodeError as exc:
        raise Invalid("meta 应为 JSON 数组。", code="malformed_json") from exc
    except ValidationError as exc:
        raise validation_problem(list(exc.errors())) from exc
    if items is None or len(items) != len(files):
        raise Invalid("meta 的条目数应与照片文件数相同。", code="meta_mismatch")
    return items


@router.post("/inspections/{inspection_id}/photos", openapi_extra=_UPLOAD_FORM)
async def upload_photos(
    inspection_id: uuid.UUID,
    request: Request,
    form: PhotoFormDep,
    user: CurrentUser,
    session: SessionDep,
    store: StoreDep,
) -> dict[str, Any]:
    """Upload a batch of photos; each gets its own receipt and one bad photo never sinks the others."""
    items = _photo_items(form)
    rules = _rules(request.app.state.settings)

    def incoming() -> list[evidence.IncomingPhoto]:
        return [
            staging.finish(
                photo_id=item.photo_id,
                filename=_safe_filename(part.filename),
                device_fix=item.device_fix.to_fix() if item.device_fix else None,
            )
            for (part, staging), item in zip(form.writers("photos"), items, strict=True)
        ]

    def process() -> list[dict[str, Any]]:
        photos = incoming()
        # Looked up (and permission-checked) once per batch, not once per photo.
        inspection = evidence.own_inspection(session, user, inspection_id)
        return [
            evidence.receive_photo(
                session, user, inspection_id, photo, store=store, rules=rules, inspection=inspection
            ).as_dict()
            for photo in photos
        ]

    if all(staging.refusal is not None for _part, staging in form.writers("photos")):
        # Every file was refused from its own first bytes (a pixel bomb, too large): nothing was
        # written, nothing to look up, so the answer needs no worker thread and no database.
        return _batch_answer(inspection_id, [evidence.refused_receipt(p).as_dict() for p in incoming()])
    return _batch_answer(inspection_id, await run_in_threadpool(process))


def _batch_answer(inspection_id: uuid.UUID, receipts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "inspection_id": str(inspection_id),
        "receipts": receipts,
        "received": sum(1 for r in receipts if r["received"]),
        "rejected": sum(1 for r in receipts if not r["received"]),
    }


class SubmitIn(BaseModel):
    """Findings written on site when the record is submitted (then locked)."""

    findings: str | None = Field(default=None, max_length=8000)


@router.post("/inspections/{inspection_id}/submit")
def submit_inspection(
    inspection_id: uuid.UUID, body: SubmitIn, user: CurrentUser, session: SessionDep
) -> dict[str, Any]:
    """Submit and lock an inspection record (corrections are new versions)."""
    from server.services import supervision

    return supervision.submit_inspection(session, user, inspection_id, findings=body.findings)


@router.get("/photos/{photo_id}")
def photo(
    photo_id: uuid.UUID, user: CurrentUser, session: SessionDep, store: StoreDep, size: int | None = None
) -> Response:
    """A photo: the original (byte for byte) or a derivative: ``size=320`` (thumbnail) or ``1280`` (preview;
    ``1000``, its size for a while, is still understood)."""
    found = evidence.photo_file(session, user, photo_id, size=size, store=store)
    return blob_response(store, found.key, media_type=found.media_type)
