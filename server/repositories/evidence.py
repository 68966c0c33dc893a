"""Evidence-photo SQL: distances to the site, duplicates by hash, stored blob keys."""

from __future__ import annotations

import uuid

import prcoords
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_data.crs import STORAGE_SRID
from server.photo_evidence.imaging import NEAR_DUPLICATE_MAX_DISTANCE
from server.photo_evidence.verdict import DuplicateRef


def warm_up() -> None:
    """Run the GCJ-02 helper once (its first call is slow)."""
    prcoords.gcj_wgs_bored((34.75, 106.13))


def site_distances(
    session: Session, project_id: int, lat: float | None, lon: float | None
) -> tuple[float | None, bool]:
    """Metres from the photo to the site (0 inside), and whether it looks shifted by GCJ-02."""
    if lat is None or lon is None:
        return None, False
    glat, glon = prcoords.gcj_wgs_bored((lat, lon))
    row = session.execute(
        text(
            """
            SELECT ST_Distance(site::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), :srid)::geography),
                   ST_Distance(site::geography, ST_SetSRID(ST_MakePoint(:glon, :glat), :srid)::geography)
            FROM projects WHERE id = :pid AND site IS NOT NULL
            """
        ),
        {"lon": lon, "lat": lat, "glon": glon, "glat": glat, "srid": STORAGE_SRID, "pid": project_id},
    ).first()
    if row is None:
        return None, False
    distance, corrected = float(row[0]), float(row[1])
    return distance, distance > 150 and corrected < 60 and distance - corrected > 200


def duplicates(
    session: Session,
    photo_id: uuid.UUID,
    sha256: str,
    phash: int | None,
    project_id: int,
    inspection_id: uuid.UUID,
) -> tuple[DuplicateRef | None, DuplicateRef | None]:
    params = {"id": photo_id, "sha": sha256, "pid": project_id, "iid": inspection_id}
    same = session.execute(
        text(
            """
            SELECT p.id, p.project_id, pr.name, p.uploaded_at
            FROM photos p JOIN projects pr ON pr.id = p.project_id
            WHERE p.sha256 = :sha AND p.id <> :id AND (p.project_id <> :pid OR p.inspection_id <> :iid)
            ORDER BY p.uploaded_at LIMIT 1
            """
        ),
        params,
    ).first()
    exact = DuplicateRef(str(same[0]), same[1], same[2], same[3]) if same else None
    near = None
    if phash is not None:
        row = session.execute(
            text(
                """
                SELECT p.id, p.project_id, pr.name, p.uploaded_at,
                       bit_count((b.phash # :ph)::bit(64)) AS distance
                FROM photos p JOIN photo_blobs b ON b.sha256 = p.sha256
                JOIN projects pr ON pr.id = p.project_id
                WHERE b.phash IS NOT NULL AND p.sha256 <> :sha AND p.id <> :id
                  AND (p.project_id <> :pid OR p.inspection_id <> :iid)
                  AND bit_count((b.phash # :ph)::bit(64)) <= :max
                ORDER BY distance, p.uploaded_at LIMIT 1
                """
            ),
            {**params, "ph": phash, "max": NEAR_DUPLICATE_MAX_DISTANCE},
        ).first()
        if row:
            near = DuplicateRef(str(row[0]), row[1], row[2], row[3], int(row[4]))
    return exact, near


def blob_keys(session: Session) -> set[str]:
    """SHA-256 of every stored photo blob."""
    return {row[0] for row in session.execute(text("SELECT sha256 FROM photo_blobs"))}
