"""``/mobile/v1``: what an inspector's phone calls, on weak networks, with retries that never duplicate."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field, ValidationError

from server.api.deps import CurrentUser, SessionDep, SettingsDep
from server.errors import Invalid, validation_problem
from server.photo_evidence.verdict import DeviceFix
from server.schemas.auth import LoginRequest, TokenRead
from server.services import auth as auth_service
from server.services import evidence
from server.storage import LocalBlobStore

router = APIRouter(prefix="/mobile/v1", tags=["mobile"])


def get_store(request: Request) -> LocalBlobStore:
    """The evidence blob store of the app."""
    return request.app.state.blob_store


StoreDep = Annotated[LocalBlobStore, Depends(get_store)]


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


@router.post("/inspections/{inspection_id}/photos")
async def upload_photos(
    inspection_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    store: StoreDep,
    photos: Annotated[list[UploadFile], File(description="JPEG or HEIC originals, byte for byte")],
    meta: Annotated[
        str, Form(description='JSON list, one per file: {"photo_id": UUID, "device_fix": {...}}')
    ],
) -> dict[str, Any]:
    """Upload a batch of photos; each gets its own receipt and one bad photo never sinks the others."""
    try:
        raw = json.loads(meta)
        items = [PhotoMetaIn.model_validate(x) for x in raw] if isinstance(raw, list) else None
    except json.JSONDecodeError as exc:
        raise Invalid("meta 应为 JSON 数组。", code="malformed_json") from exc
    except ValidationError as exc:
        raise validation_problem(list(exc.errors())) from exc
    if items is None or len(items) != len(photos):
        raise Invalid("meta 的条目数应与照片文件数相同。", code="meta_mismatch")
    rules = _rules(settings)

    def process() -> list[dict[str, Any]]:
        receipts = []
        for upload, item in zip(photos, items, strict=True):
            upload.file.seek(0)
            staged, size, sha, too_large = evidence.stream_to_staging(
                store, upload.file, limit=rules.max_photo_bytes
            )
            if too_large:
                staged.unlink(missing_ok=True)
                receipts.append(
                    evidence.Receipt(
                        item.photo_id,
                        "rejected",
                        "file_too_large",
                        f"照片超过 {rules.max_photo_bytes // (1024 * 1024)} MB 上限。",
                    ).as_dict()
                )
                continue
            incoming = evidence.IncomingPhoto(
                photo_id=item.photo_id,
                filename=_safe_filename(upload.filename),
                staged=staged,
                size=size,
                sha256=sha,
                device_fix=item.device_fix.to_fix() if item.device_fix else None,
            )
            receipts.append(
                evidence.receive_photo(
                    session, user, inspection_id, incoming, store=store, rules=rules
                ).as_dict()
            )
        return receipts

    receipts = await run_in_threadpool(process)
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
) -> FileResponse:
    """A photo: the original (byte for byte) or a 320/1280 px derivative."""
    path = evidence.photo_file(session, user, photo_id, size=size, store=store)
    return FileResponse(path, media_type="image/jpeg" if size else None)
