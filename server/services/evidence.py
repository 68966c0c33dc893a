"""Evidence photos: idempotent inspections, durable content-addressed uploads, verdicts, receipts.

Order of work for each photo (nothing acknowledged is ever lost, no row points at a missing file):
hash and check the staged file, make derivatives, move the original into the blob store and fsync,
then commit the rows.  A retry with the same client UUID returns the first receipt; the same bytes
under another UUID are stored once (content-addressed) and flagged as a reused photo.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import io
import logging
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gis_data.crs import STORAGE_SRID
from server.domain import Role
from server.errors import Conflict, Forbidden, Invalid, NotFound, translate_db_error
from server.models import Inspection, Photo, PhotoBlob, User
from server.permissions import can_read_project, can_report_progress, project_scope
from server.photo_evidence.exif import (
    FORMAT_HEIC,
    FORMAT_JPEG,
    PhotoMetadata,
    PhotoRejected,
    read_photo_metadata,
)
from server.photo_evidence.imaging import derive_photo, map_large_buffers, pixel_limit_from_head
from server.photo_evidence.imaging import warm_up as imaging_warm_up
from server.photo_evidence.verdict import DeviceFix, assess_photo
from server.repositories import evidence as evidence_repo
from server.repositories import projects as projects_repo
from server.repositories import supervision as supervision_repo
from server.services import audit
from server.services.transaction import unit_of_work
from server.storage import BlobStore

logger = logging.getLogger(__name__)

#: Pixel-work threads: one per core (more in flight only multiplies memory and GIL contention).
PIXEL_THREADS = os.cpu_count() or 2
#: Their CPU priority (nice), below the event loop's and the request threads'.
PIXEL_NICE = 10
#: Longest sides of the derivatives made at upload: list thumbnail, detail preview.
THUMB_SIZE = 320
PREVIEW_SIZE = 1280
#: The preview's size for photos stored while it was made at 1000 px: ``?size=1000`` is still
#: answered with the preview, and those photos keep their ``.w1000`` file.
LEGACY_PREVIEW_SIZE = 1000
#: How much of an upload's beginning is searched for a JPEG frame header (APP segments are <= 64 KiB
#: each; phones write EXIF, ICC and MPF before the frame header).
HEAD_PROBE_BYTES = 512 * 1024
#: Roles that carry out site checks and so create inspection records.
INSPECTING_ROLES = frozenset({Role.INSPECTOR, Role.ADMIN, Role.LEADER, Role.LAND_BUREAU})


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceRules:
    """Limits and thresholds of the photo pipeline (settings with documented defaults)."""

    max_photo_bytes: int = 60 * 1024 * 1024
    max_pixels: int = 120_000_000
    site_buffer_m: float = 200.0
    max_age_days: int = 3
    max_fix_disagreement_m: float = 200.0


@dataclass(slots=True)
class IncomingPhoto:
    """One uploaded file, already streamed to the store's staging area (or refused while streaming)."""

    photo_id: str
    filename: str
    #: None when nothing was written (an empty or refused upload).
    staged: Path | None
    size: int
    sha256: str
    device_fix: DeviceFix | None = None
    #: Set when the upload was refused from its first bytes or its size; nothing was kept then.
    refusal: PhotoRejected | None = None


@dataclass(slots=True)
class Receipt:
    """The answer for one photo of a batch."""

    photo_id: str
    status: str  # received | rejected
    code: str | None = None
    message: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    verdict: str | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    duplicate_retry: bool = False
    exif: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form of the receipt."""
        return {
            "photo_id": self.photo_id,
            "status": self.status,
            "received": self.status == "received",
            "code": self.code,
            "message": self.message,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "verdict": self.verdict,
            "reasons": self.reasons,
            "duplicate_retry": self.duplicate_retry,
            "exif": self.exif,
        }


def too_large(max_bytes: int) -> PhotoRejected:
    """The ``file_too_large`` refusal."""
    return PhotoRejected("file_too_large", f"照片超过 {max_bytes // (1024 * 1024)} MB 上限。")


class StagingWriter:
    """One upload streamed into the store's staging area, hashed as it goes, refused as early as possible.

    The caller splits the work by cost: :meth:`accept` only counts bytes and, while the frame header has
    not been seen, checks the pixel limit from the JPEG's first bytes (cheap: it may run on the event
    loop); :meth:`write` hashes and writes accepted chunks (run it in a worker thread).  Once refused
    (too many bytes, or a frame header claiming too many pixels) the rest of the upload is dropped
    unread and nothing stays on disk.
    """

    def __init__(self, store: BlobStore, *, max_bytes: int, max_pixels: int):
        self.store = store
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.size = 0
        self.refusal: PhotoRejected | None = None
        self.path: Path | None = None
        self._handle: BinaryIO | None = None
        self._digest = hashlib.sha256()
        self._head: bytearray | None = bytearray()

    def accept(self, chunk: bytes) -> bool:
        """Count a chunk and check what can be checked already; False once the upload is refused."""
        if self.refusal is not None:
            return False
        self.size += len(chunk)
        if self.size > self.max_bytes:
            self.refusal = too_large(self.max_bytes)
            return False
        if self._head is not None:
            self._head += chunk[: HEAD_PROBE_BYTES - len(self._head)]
            try:
                found = pixel_limit_from_head(bytes(self._head), max_pixels=self.max_pixels)
            except PhotoRejected as rejected:
                self.refusal = rejected
                self._head = None
                return False
            if found is not None or len(self._head) >= HEAD_PROBE_BYTES:
                self._head = None  # seen, or not a JPEG: the full checks on the file decide
        return True

    def write(self, chunks: list[bytes]) -> None:
        """Hash and write accepted chunks to the staging file (blocking: call it from a worker thread)."""
        if self.refusal is not None:
            return
        if self._handle is None:
            self._handle, self.path = self.store.staging_file()
        for chunk in chunks:
            self._digest.update(chunk)
            self._handle.write(chunk)

    def finish(self, *, photo_id: str, filename: str, device_fix: DeviceFix | None) -> IncomingPhoto:
        """Close the staging file and describe the upload for :func:`receive_photo` (blocking)."""
        if self.refusal is not None:
            self.discard()
        self.close()
        return IncomingPhoto(
            photo_id=photo_id,
            filename=filename,
            staged=self.path,
            size=self.size,
            sha256=self._digest.hexdigest() if self.refusal is None else "",
            device_fix=device_fix,
            refusal=self.refusal,
        )

    def close(self) -> None:
        """Close the staging file, if open."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def discard(self) -> None:
        """Close and remove the staging file (an unfinished or refused upload)."""
        self.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


def stream_to_staging(store: BlobStore, source: BinaryIO, *, limit: int) -> tuple[Path, int, str, bool]:
    """Copy an upload into the staging area in 1 MiB chunks, hashing as it goes; stop past ``limit``."""
    digest = hashlib.sha256()
    handle, path = store.staging_file()
    size = 0
    too_large = False
    with handle:
        while chunk := source.read(1 << 20):
            size += len(chunk)
            if size > limit:
                too_large = True
                break
            digest.update(chunk)
            handle.write(chunk)
    return path, size, digest.hexdigest(), too_large


def _lower_priority() -> None:
    """Run this thread at a lower CPU priority (Linux: nice applies per thread); best effort."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PIXEL_NICE)


@functools.cache
def pixel_pool() -> ThreadPoolExecutor:
    """The threads that decode, resize and encode photos, one per core, at a lower CPU priority.

    Decoding a photo is the one long CPU burst of an upload.  On a busy machine the event loop, which
    wakes for a few hundred microseconds at a time, would otherwise queue behind it for a CPU (stalls
    of 20-50 ms); at nice 10 these threads yield the core to it (and to request threads) at once, and
    take all the idle time otherwise, so throughput is unchanged.  The pool size bounds how many
    decodes are in memory at once.
    """
    map_large_buffers()  # a decode's pixels allocated without the GIL held for a memset (see there)
    return ThreadPoolExecutor(PIXEL_THREADS, thread_name_prefix="pixels", initializer=_lower_priority)


def _pixel_work(source: Path | BinaryIO, max_pixels: int) -> tuple[dict[int, bytes], int]:
    """Derivatives and the perceptual hash (of the thumbnail) of one photo (runs in :func:`pixel_pool`)."""
    derived = derive_photo(source, sizes=(THUMB_SIZE, PREVIEW_SIZE), max_pixels=max_pixels)
    return derived.files, _phash_int(derived.phash)


def warm_up() -> None:
    """Load now what the first upload would otherwise load while serving (call it at start-up).

    Imports hold the GIL (and the dynamic loader's lock) for long stretches: SciPy's FFT pulled in by
    the first perceptual hash, Pillow's JPEG plugin, pillow-heif, the GCJ-02 helper.  Done in a
    request, they stalled the server's event loop for half a second.
    """
    import scipy.fftpack  # noqa: F401 - imagehash.phash imports it on its first call

    from server.photo_evidence.exif import _register_heif_opener

    _register_heif_opener()
    derived = pixel_pool().submit(imaging_warm_up).result()
    read_photo_metadata(io.BytesIO(next(iter(derived.files.values()))))
    evidence_repo.warm_up()


# --- inspections ---------------------------------------------------------------------------------


@dataclass(slots=True)
class InspectionInput:
    """A new inspection as the phone sends it."""

    id: uuid.UUID
    project_id: int
    started_at: dt.datetime
    check_date: dt.date | None = None
    device_fix: DeviceFix | None = None
    findings: str = ""
    check_plan_id: int | None = None


def _inspection_dict(row: Inspection) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "project_id": row.project_id,
        "inspector_id": row.inspector_id,
        "started_at": row.started_at.isoformat(),
        "check_date": row.check_date.isoformat() if row.check_date else None,
        "device_fix": None
        if row.device_lat is None
        else {
            "lat": row.device_lat,
            "lon": row.device_lon,
            "accuracy_m": row.device_accuracy_m,
            "fixed_at": row.device_fixed_at.isoformat() if row.device_fixed_at else None,
        },
        "findings": row.findings,
        "status": row.status,
        "check_plan_id": row.check_plan_id,
        "version": row.version,
    }


def create_inspection(session: Session, actor: User, data: InspectionInput) -> tuple[dict[str, Any], bool]:
    """Create an inspection by its client UUID; a retry returns the first one (created=False)."""
    with unit_of_work(session):
        project = projects_repo.get_project(session, data.project_id)
        if project is None:
            raise NotFound(f"项目 {data.project_id} 不存在。", code="project_not_found")
        # Inspecting roles check any project; a project unit or township records its own site photos.
        if actor.role not in INSPECTING_ROLES and not can_report_progress(actor, project):
            raise Forbidden("无权为该项目创建现场记录。")
        if not can_read_project(actor, project):
            raise Forbidden("无权检查该项目。")
        if data.check_plan_id is not None:
            plan = supervision_repo.get_plan(session, data.check_plan_id)
            assigned = plan is not None and (
                actor.role == Role.ADMIN or any(u.id == actor.id for u in plan.inspectors)
            )
            if not assigned or actor.role not in INSPECTING_ROLES:
                raise NotFound("督查任务不存在。", code="not_found")
            if all(p.id != project.id for p in plan.projects):
                raise Invalid("该项目不在此次督查任务中。", code="project_not_in_check")
        fix = data.device_fix
        stmt = (
            insert(Inspection)
            .values(
                id=data.id,
                project_id=project.id,
                inspector_id=actor.id,
                started_at=data.started_at,
                check_date=data.check_date or data.started_at.date(),
                device_lat=fix.lat if fix else None,
                device_lon=fix.lon if fix else None,
                device_accuracy_m=fix.accuracy_m if fix else None,
                device_fixed_at=fix.fixed_at if fix else None,
                findings=data.findings,
                status="draft",
                check_plan_id=data.check_plan_id,
            )
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(Inspection.id)
        )
        created = session.execute(stmt).scalar_one_or_none() is not None
        row = session.get(Inspection, data.id)
        assert row is not None
        if not created and (row.inspector_id != actor.id or row.project_id != project.id):
            raise Conflict(
                "该记录编号已被另一条督查记录使用，请重新生成编号。", code="inspection_id_conflict"
            )
        if created:
            audit.record(session, actor, "create", "inspection", row.id, after=_inspection_dict(row))
    return _inspection_dict(row), created


def own_inspection(session: Session, actor: User, inspection_id: uuid.UUID) -> Inspection:
    """The inspection a user may add photos to (their own; admin: any), or 404/403."""
    row = session.get(Inspection, inspection_id)
    if row is None:
        raise NotFound("督查记录不存在，请先同步创建记录。", code="inspection_not_found")
    if row.inspector_id != actor.id and actor.role != Role.ADMIN:
        raise Forbidden("只能向自己的督查记录上传照片。")
    return row


# --- photos --------------------------------------------------------------------------------------


def _phash_int(phash_hex: str) -> int:
    """A 64-bit perceptual hash in hex as the signed BIGINT the database stores."""
    value = int(phash_hex, 16)
    return value - (1 << 64) if value >= 1 << 63 else value


def _meta_json(meta: PhotoMetadata) -> dict[str, Any]:
    return {
        "format": meta.format,
        "width": meta.width,
        "height": meta.height,
        "lat": meta.lat,
        "lon": meta.lon,
        "alt": meta.alt,
        "gps_time": meta.gps_time.isoformat() if meta.gps_time else None,
        "taken_at": meta.taken_at.isoformat() if meta.taken_at else None,
        "taken_at_has_offset": meta.taken_at_has_offset,
        "make": meta.make,
        "model": meta.model,
        "orientation": meta.orientation,
        "image_direction": meta.image_direction,
        "gps_issues": list(meta.gps_issues),
        "time_issues": list(meta.time_issues),
        "exif_error": meta.exif_error,
    }


def _drop(item: IncomingPhoto) -> None:
    """Remove an upload's staging file (a refused photo or a retry)."""
    if item.staged is not None:
        item.staged.unlink(missing_ok=True)


def _existing_receipt(photo: Photo, *, retry: bool) -> Receipt:
    return Receipt(
        photo_id=str(photo.id),
        status="received",
        sha256=photo.sha256,
        verdict=photo.verdict,
        reasons=photo.reasons,
        duplicate_retry=retry,
    )


def refused_receipt(item: IncomingPhoto) -> Receipt:
    """The receipt of an upload refused while it streamed in (see :class:`StagingWriter`)."""
    assert item.refusal is not None
    return Receipt(item.photo_id, "rejected", item.refusal.code, item.refusal.message, size_bytes=item.size)


def receive_photo(
    session: Session,
    actor: User,
    inspection_id: uuid.UUID,
    item: IncomingPhoto,
    *,
    store: BlobStore,
    rules: EvidenceRules,
    now: dt.datetime | None = None,
    inspection: Inspection | None = None,
) -> Receipt:
    """Check, store and record one photo; never raises for the photo's own faults (see the receipt).

    ``inspection``: the row already checked with :func:`own_inspection` (a batch looks it up once).
    """
    now = now or dt.datetime.now(dt.UTC)
    try:
        photo_uuid = uuid.UUID(item.photo_id)
    except ValueError:
        _drop(item)
        return Receipt(item.photo_id, "rejected", "invalid_photo_id", "照片编号应为客户端生成的 UUID。")
    if item.refusal is not None:  # refused while streaming: nothing was stored, nothing to look up
        return refused_receipt(item)
    inspection = inspection or own_inspection(session, actor, inspection_id)
    existing = session.get(Photo, photo_uuid)
    if existing is not None:
        _drop(item)
        if existing.sha256 != item.sha256 and item.sha256:
            return Receipt(
                item.photo_id, "rejected", "photo_id_conflict", "该照片编号已用于另一张照片，请重新生成编号。"
            )
        return _existing_receipt(existing, retry=True)
    if item.size == 0 or item.staged is None:
        _drop(item)
        return Receipt(item.photo_id, "rejected", "empty_file", "文件为空。")
    try:
        meta = read_photo_metadata(item.staged, max_pixels=rules.max_pixels)
        pixels = pixel_pool().submit(_pixel_work, item.staged, rules.max_pixels)
        # While the pixel threads work, make the original's bytes durable (disk time, not CPU).
        try:
            store.sync_staged(item.staged)
        except OSError as exc:  # the disk's fault, not the photo's: an error (500), never a receipt
            raise RuntimeError(f"could not sync the staged upload of photo {item.photo_id}") from exc
        derivatives, phash = pixels.result()
    except PhotoRejected as rejected:
        _drop(item)
        return Receipt(
            item.photo_id,
            "rejected",
            rejected.code,
            rejected.message,
            sha256=item.sha256,
            size_bytes=item.size,
        )
    except (OSError, ValueError, SyntaxError) as exc:
        _drop(item)
        logger.info("photo %s could not be decoded: %s", item.photo_id, exc)
        return Receipt(
            item.photo_id,
            "rejected",
            "corrupt",
            "照片文件已损坏，无法读取。",
            sha256=item.sha256,
            size_bytes=item.size,
        )
    # Durable before acknowledged: derivatives and original are fsynced in place before the rows commit.
    # The derivatives sit beside the original (same directory): one directory sync covers all three.
    store.put_together(
        {**{f"{item.sha256}.w{size}": data for size, data in derivatives.items()}, item.sha256: item.staged},
        synced=(item.sha256,),
    )
    fix = item.device_fix
    if fix is None and inspection.device_lat is not None and inspection.device_lon is not None:
        fix = DeviceFix(
            inspection.device_lat,
            inspection.device_lon,
            inspection.device_accuracy_m,
            inspection.device_fixed_at,
        )
    try:
        with unit_of_work(session):
            checks = evidence_repo.photo_checks(
                session,
                photo_id=photo_uuid,
                sha256=item.sha256,
                phash=phash,
                project_id=inspection.project_id,
                inspection_id=inspection.id,
                lat=meta.lat,
                lon=meta.lon,
            )
            verdict = assess_photo(
                meta,
                device_fix=fix,
                site_distance_m=checks.site_distance_m,
                site_buffer_m=rules.site_buffer_m,
                uploaded_at=now,
                check_date=inspection.check_date,
                max_age_days=rules.max_age_days,
                max_fix_disagreement_m=rules.max_fix_disagreement_m,
                gcj_suspect=checks.gcj_suspect,
                duplicate_of=checks.exact,
                near_duplicate_of=checks.near,
            )
            reasons = [
                {
                    "code": r.code,
                    "message": r.message,
                    "severity": r.severity.value,
                    "details": {
                        k: v if isinstance(v, int | float | str | bool | None) else str(v)
                        for k, v in r.details.items()
                    },
                }
                for r in verdict.reasons
            ]
            exif_point = (
                f"SRID={STORAGE_SRID};POINT({meta.lon} {meta.lat})"
                if meta.lat is not None and meta.lon is not None
                else None
            )
            device_point = f"SRID={STORAGE_SRID};POINT({fix.lon} {fix.lat})" if fix is not None else None
            recorded = evidence_repo.record_photo(
                session,
                blob={
                    "sha256": item.sha256,
                    "size_bytes": item.size,
                    "format": meta.format,
                    "width": meta.width,
                    "height": meta.height,
                    "phash": phash,
                    "metadata": _meta_json(meta),
                },
                photo={
                    "id": photo_uuid,
                    "inspection_id": inspection.id,
                    "project_id": inspection.project_id,
                    "sha256": item.sha256,
                    "uploaded_by_id": actor.id,
                    "uploaded_at": now,
                    "filename": item.filename[:200],
                    "taken_at": meta.taken_at,
                    "exif_point": exif_point,
                    "exif_alt": meta.alt,
                    "device_point": device_point,
                    "device_accuracy_m": fix.accuracy_m if fix else None,
                    "device_fixed_at": fix.fixed_at if fix else None,
                    "site_distance_m": checks.site_distance_m,
                    "verdict": verdict.status.value,
                    "reasons": reasons,
                },
                actor_id=actor.id,
                audit_after={
                    "sha256": item.sha256,
                    "inspection_id": str(inspection.id),
                    "verdict": verdict.status.value,
                },
            )
            if not recorded:  # a concurrent retry of the same photo won the race
                winner = session.get(Photo, photo_uuid)
                assert winner is not None
                return _existing_receipt(winner, retry=True)
    except DBAPIError as exc:
        translated = translate_db_error(exc)
        raise translated or exc from exc
    return Receipt(
        item.photo_id,
        "received",
        sha256=item.sha256,
        size_bytes=item.size,
        verdict=verdict.status.value,
        reasons=reasons,
        exif=_meta_json(meta),
    )


@dataclass(frozen=True, slots=True)
class PhotoFile:
    """A stored photo file to answer with."""

    key: str
    media_type: str


#: Media types of originals by their format (EXIF reading's names).
_ORIGINAL_MEDIA_TYPES = {FORMAT_JPEG: "image/jpeg", FORMAT_HEIC: "image/heic"}


def photo_file(
    session: Session, actor: User, photo_id: uuid.UUID, *, size: int | None, store: BlobStore
) -> PhotoFile:
    """A photo's original (size None) or derivative in the store, if the actor may see its project."""
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise NotFound("照片不存在。", code="photo_not_found")
    project = projects_repo.get_project(session, photo.project_id)
    if project is None or not can_read_project(actor, project):
        raise Forbidden("无权查看该照片。")
    if size is not None and size not in (THUMB_SIZE, PREVIEW_SIZE, LEGACY_PREVIEW_SIZE):
        raise Invalid(f"size 应为 {THUMB_SIZE} 或 {PREVIEW_SIZE}。", code="validation_error")
    if size is None:
        keys = [photo.sha256]
    elif size == THUMB_SIZE:
        keys = [f"{photo.sha256}.w{THUMB_SIZE}"]
    else:  # the preview, whichever size it was made at
        keys = [f"{photo.sha256}.w{PREVIEW_SIZE}", f"{photo.sha256}.w{LEGACY_PREVIEW_SIZE}"]
    for key in keys:
        if store.exists(key):
            if size is not None:
                return PhotoFile(key, "image/jpeg")
            blob = session.get(PhotoBlob, photo.sha256)
            media_type = _ORIGINAL_MEDIA_TYPES.get(blob.format if blob else "", "application/octet-stream")
            return PhotoFile(key, media_type)
    raise NotFound("照片文件缺失。", code="photo_file_missing")


def sync_payload(session: Session, actor: User) -> dict[str, Any]:
    """What a phone needs for its checks: the projects in reach with their sites and last progress."""
    from geoalchemy2.shape import to_shape
    from shapely.geometry import mapping

    items, _ = projects_repo.list_projects(
        session, scope=project_scope(actor), filters=projects_repo.ProjectFilter()
    )
    projects = []
    for p in items:
        progress = projects_repo.list_progress(session, p.id)
        last = progress[-1] if progress else None
        projects.append(
            {
                "id": p.id,
                "code": p.code,
                "name": p.name,
                "township": p.township.name,
                "status": p.status,
                "leader": p.leader.full_name,
                "site": dict(mapping(to_shape(p.site))) if p.site is not None else None,
                "last_progress": {
                    "month": last.month.strftime("%Y-%m"),
                    "amount_completed_yuan": str(last.amount_completed_yuan),
                    "physical_progress": last.physical_progress,
                }
                if last
                else None,
            }
        )
    # Assigned, not yet carried-out checks; only inspecting roles ever receive any (secrecy).
    checks = [
        {
            "id": plan.id,
            "kind": plan.kind,
            "title": plan.title,
            "planned_date": plan.planned_date.isoformat(),
            "project_ids": [p.id for p in plan.projects],
        }
        for plan in supervision_repo.list_plans(session, inspector_id=actor.id)
        if plan.status == "planned" and actor.role in INSPECTING_ROLES
    ]
    return {
        "server_time": dt.datetime.now(dt.UTC).isoformat(),
        "user": {"id": actor.id, "role": actor.role, "full_name": actor.full_name},
        "checks": checks,
        "projects": projects,
    }


def sweep_orphans(session: Session, store: BlobStore, *, older_than_s: float = 24 * 3600) -> dict[str, int]:
    """Delete stored files no row points at (left by a crash between fsync and commit), and stale staging."""
    known = evidence_repo.blob_keys(session)
    removed = 0
    for key in list(store.keys_older_than(older_than_s)):
        if key.split(".")[0] not in known:
            store.delete(key)
            removed += 1
    return {"orphans_removed": removed, "staging_removed": store.clear_staging(older_than_s)}
