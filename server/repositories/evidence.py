"""Evidence-photo SQL: the checks before a verdict (site, duplicates), recording a photo, blob keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import prcoords
from sqlalchemy import BigInteger, Float, bindparam, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis_data.crs import STORAGE_SRID
from server.models import AuditEvent, Photo, PhotoBlob
from server.photo_evidence.imaging import NEAR_DUPLICATE_MAX_DISTANCE
from server.photo_evidence.verdict import DuplicateRef
from server.repositories import audit as audit_repo


def warm_up() -> None:
    """Run the GCJ-02 helper once (its first call is slow)."""
    prcoords.gcj_wgs_bored((34.75, 106.13))


@dataclass(frozen=True, slots=True)
class PhotoChecks:
    """What the database tells about a new photo before its verdict."""

    #: Metres from the EXIF point to the site (0 inside); None without a point or a site.
    site_distance_m: float | None
    #: The point looks shifted by GCJ-02 (far from the site, close once shifted back).
    gcj_suspect: bool
    #: An earlier photo with the same bytes, for another project or another check.
    exact: DuplicateRef | None
    #: The nearest earlier photo by perceptual hash within the threshold, likewise.
    near: DuplicateRef | None


#: One round trip for all of :class:`PhotoChecks` (they used to be three).
_CHECKS_SQL = text(
    """
    SELECT site.distance, site.corrected,
           same.id, same.project_id, same.name, same.uploaded_at,
           near.id, near.project_id, near.name, near.uploaded_at, near.distance
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (
        SELECT ST_Distance(site::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), :srid)::geography)
                   AS distance,
               ST_Distance(site::geography, ST_SetSRID(ST_MakePoint(:glon, :glat), :srid)::geography)
                   AS corrected
        FROM projects WHERE id = :pid AND site IS NOT NULL
    ) AS site ON true
    LEFT JOIN LATERAL (
        SELECT p.id, p.project_id, pr.name, p.uploaded_at
        FROM photos p JOIN projects pr ON pr.id = p.project_id
        WHERE p.sha256 = :sha AND p.id <> :id AND (p.project_id <> :pid OR p.inspection_id <> :iid)
        ORDER BY p.uploaded_at LIMIT 1
    ) AS same ON true
    LEFT JOIN LATERAL (
        SELECT p.id, p.project_id, pr.name, p.uploaded_at,
               bit_count((b.phash # :ph)::bit(64)) AS distance
        FROM photos p JOIN photo_blobs b ON b.sha256 = p.sha256
        JOIN projects pr ON pr.id = p.project_id
        WHERE b.phash IS NOT NULL AND p.sha256 <> :sha AND p.id <> :id
          AND (p.project_id <> :pid OR p.inspection_id <> :iid)
          AND bit_count((b.phash # :ph)::bit(64)) <= :max
        ORDER BY distance, p.uploaded_at LIMIT 1
    ) AS near ON true
    """
).bindparams(
    bindparam("lon", type_=Float),
    bindparam("lat", type_=Float),
    bindparam("glon", type_=Float),
    bindparam("glat", type_=Float),
    bindparam("ph", type_=BigInteger),
)


def photo_checks(
    session: Session,
    *,
    photo_id: uuid.UUID,
    sha256: str,
    phash: int | None,
    project_id: int,
    inspection_id: uuid.UUID,
    lat: float | None,
    lon: float | None,
) -> PhotoChecks:
    """The distance to the project's site and the earlier same or nearly same photos, in one query."""
    located = lat is not None and lon is not None
    glat, glon = prcoords.gcj_wgs_bored((lat, lon)) if located else (None, None)
    row = session.execute(
        _CHECKS_SQL,
        {
            "lon": lon if located else None,
            "lat": lat if located else None,
            "glon": glon,
            "glat": glat,
            "srid": STORAGE_SRID,
            "pid": project_id,
            "id": photo_id,
            "sha": sha256,
            "iid": inspection_id,
            "ph": phash,
            "max": NEAR_DUPLICATE_MAX_DISTANCE,
        },
    ).one()
    distance = float(row[0]) if row[0] is not None else None
    corrected = float(row[1]) if row[1] is not None else None
    gcj = False
    if distance is not None and corrected is not None:
        gcj = distance > 150 and corrected < 60 and distance - corrected > 200
    exact = DuplicateRef(str(row[2]), row[3], row[4], row[5]) if row[2] is not None else None
    near = DuplicateRef(str(row[6]), row[7], row[8], row[9], int(row[10])) if row[6] is not None else None
    return PhotoChecks(distance, gcj, exact, near)


def record_photo(
    session: Session,
    *,
    blob: dict[str, Any],
    photo: dict[str, Any],
    actor_id: int,
    audit_after: dict[str, Any],
) -> bool:
    """The blob (unless its bytes are stored already), the photo and its ``upload`` audit event, in one
    statement.  False, with nothing written, when a photo with this id exists (a concurrent retry won).

    The blob row is inserted in a data-modifying CTE: the photo's foreign key to it is checked at the end
    of the statement, once the blob is in.
    """
    photos = Photo.__table__
    new_blob = (
        insert(PhotoBlob.__table__)
        .values(**blob)
        .on_conflict_do_nothing(index_elements=["sha256"])
        .cte("new_blob")
    )
    new_photo = (
        insert(photos)
        .values(**photo)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(photos.c.id)
        .cte("new_photo")
    )
    event = audit_repo.events_for_rows(
        new_photo, new_photo.c.id, actor_id=actor_id, action="upload", entity="photo", after=audit_after
    )
    return session.execute(event.returning(AuditEvent.id).add_cte(new_blob)).first() is not None


def blob_keys(session: Session) -> set[str]:
    """SHA-256 of every stored photo blob."""
    return {row[0] for row in session.execute(text("SELECT sha256 FROM photo_blobs"))}
