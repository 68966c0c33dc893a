"""Plan editions, plan pieces, parcels, batches and conflict-check results: the land SQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from gis_data.crs import AREA_SRID, STORAGE_SRID
from server.models import (
    ApprovalBatch,
    LandCheck,
    LandCheckOverlap,
    LandParcel,
    PlanEdition,
    PlanFeature,
    Project,
)

#: Largest number of vertices of one plan piece; small pieces make overlay cheap and exact.
PIECE_MAX_VERTICES = 96
#: Side (m) of the square tiles within which a layer (and land-use class) is dissolved before it is
#: cut into pieces: large enough that few pieces are cut by a tile edge, small enough that each union
#: stays small (a county's farmland: about 870 tile unions, 1 minute in all).
PIECE_TILE_M = 2000
#: A layer is dissolved within a tile only if its features there overlap by at most this much in all
#: (m2): an overlap counts once in a union but once per feature in a sum, so this bounds how far any
#: overlay area may move; tiles whose features overlap more keep one set of pieces per feature.
DISSOLVE_OVERLAP_M2 = 1e-4

OPEN_STATUSES = ("draft", "submitted", "in_batch")


def add_edition(session: Session, edition: PlanEdition) -> PlanEdition:
    """Insert a plan edition."""
    session.add(edition)
    session.flush()
    return edition


def latest_edition(session: Session) -> PlanEdition | None:
    """The newest plan edition."""
    return session.scalars(select(PlanEdition).order_by(PlanEdition.id.desc()).limit(1)).first()


def get_edition(session: Session, edition_id: int) -> PlanEdition | None:
    """A plan edition by id."""
    return session.get(PlanEdition, edition_id)


def list_editions(session: Session) -> list[PlanEdition]:
    """All plan editions, newest first."""
    return list(session.scalars(select(PlanEdition).order_by(PlanEdition.id.desc())))


def add_plan_features(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk-insert plan features; ``geom`` is EWKB/WKT in storage CRS, projected copy made in SQL."""
    if not rows:
        return
    stmt = insert(PlanFeature).values(
        edition_id=bindparam("edition_id"),
        layer=bindparam("layer"),
        class_code=bindparam("class_code"),
        class_name=bindparam("class_name"),
        source_file=bindparam("source_file"),
        source_index=bindparam("source_index"),
        repaired=bindparam("repaired"),
        attributes=bindparam("attributes"),
        geom=func.ST_Multi(func.ST_GeomFromWKB(bindparam("wkb"), STORAGE_SRID)),
        geom_area=func.ST_Multi(
            func.ST_Transform(func.ST_GeomFromWKB(bindparam("wkb"), STORAGE_SRID), AREA_SRID)
        ),
    )
    session.execute(stmt, list(rows))


def build_pieces(session: Session, edition_id: int) -> int:
    """Cut an edition's polygons into small pieces in the area CRS; returns the number of pieces.

    Within each square tile of ``PIECE_TILE_M``, the features of one layer and land-use class are
    dissolved first (unless they overlap there by more than ``DISSOLVE_OVERLAP_M2``), so that the
    edges that neighbouring features share (a farmland coverage is mostly shared edges) do not cut
    pieces: a parcel then crosses far fewer pieces, and every overlay of a piece that crosses the
    parcel's boundary is work.  The overlay sums areas over pieces, and pieces of a union tile it
    without overlap, so the areas are those of the features (to ``DISSOLVE_OVERLAP_M2``).
    """
    result = session.execute(
        text(
            """
            WITH f AS (
                SELECT id, layer, class_code, ST_CollectionExtract(ST_MakeValid(geom_area), 3) AS g
                FROM plan_features WHERE edition_id = :edition_id
            ), parts AS (
                SELECT f.id, f.layer, f.class_code, t.i, t.j,
                       CASE WHEN ST_CoveredBy(f.g, t.geom) THEN f.g
                            ELSE ST_CollectionExtract(ST_Intersection(f.g, t.geom), 3) END AS g
                FROM f, LATERAL ST_SquareGrid(:tile, f.g) AS t
                WHERE ST_Intersects(f.g, t.geom)
            ), tiles AS (
                SELECT layer, class_code, i, j, count(*) AS n, min(id) AS first_id,
                       CASE WHEN count(*) = 1 THEN ST_Collect(g) ELSE ST_Union(g) END AS merged,
                       sum(ST_Area(g)) AS total
                FROM parts GROUP BY layer, class_code, i, j
            ), cut AS (
                SELECT CASE WHEN n = 1 THEN first_id END AS feature_id, layer, class_code, merged AS g
                FROM tiles WHERE n = 1 OR total - ST_Area(merged) <= :overlap
                UNION ALL
                SELECT p.id, p.layer, p.class_code, p.g
                FROM parts p JOIN tiles t
                  ON t.layer = p.layer AND t.class_code IS NOT DISTINCT FROM p.class_code
                 AND t.i = p.i AND t.j = p.j
                WHERE t.n > 1 AND t.total - ST_Area(t.merged) > :overlap
            )
            INSERT INTO plan_pieces (feature_id, edition_id, layer, class_code, geom)
            SELECT cut.feature_id, :edition_id, cut.layer, cut.class_code, piece
            FROM cut, LATERAL ST_Subdivide(cut.g, :max_vertices) AS piece
            WHERE GeometryType(piece) = 'POLYGON'
            """
        ),
        {
            "edition_id": edition_id,
            "max_vertices": PIECE_MAX_VERTICES,
            "tile": PIECE_TILE_M,
            "overlap": DISSOLVE_OVERLAP_M2,
        },
    )
    return int(result.rowcount or 0)


def edition_counts(session: Session, edition_id: int) -> dict[str, int]:
    """Feature counts by layer of an edition."""
    rows = session.execute(
        select(PlanFeature.layer, func.count())
        .where(PlanFeature.edition_id == edition_id)
        .group_by(PlanFeature.layer)
    )
    return {layer: int(count) for layer, count in rows}


@dataclass(frozen=True, slots=True)
class EditionPieces:
    """The pieces of one edition as the database stores them (WKB in the area CRS)."""

    layers: list[str]
    class_codes: list[str | None]
    wkbs: list[bytes]


def edition_piece_size(session: Session, edition_id: int) -> tuple[int, int]:
    """Number of pieces of an edition and their vertices in all."""
    count, vertices = session.execute(
        text("SELECT count(*), coalesce(sum(ST_NPoints(geom)), 0) FROM plan_pieces WHERE edition_id = :e"),
        {"e": edition_id},
    ).one()
    return int(count), int(vertices)


def edition_pieces(session: Session, edition_id: int, *, batch_size: int = 20_000) -> Iterator[EditionPieces]:
    """An edition's pieces with their layer and land-use class, exact (WKB), in batches, in insertion order.

    Streamed through a server-side cursor so that a county's plan is never all in memory as WKB at once.
    """
    result = session.execute(
        text(
            "SELECT layer, class_code, ST_AsBinary(geom) FROM plan_pieces WHERE edition_id = :e ORDER BY id"
        ).execution_options(yield_per=batch_size),
        {"e": edition_id},
    )
    for rows in result.partitions():
        yield EditionPieces([r[0] for r in rows], [r[1] for r in rows], [bytes(r[2]) for r in rows])


def add_parcel(session: Session, parcel: LandParcel) -> LandParcel:
    """Insert a parcel."""
    session.add(parcel)
    session.flush()
    return parcel


def get_parcel(session: Session, parcel_id: int) -> LandParcel | None:
    """A parcel by id."""
    return session.get(LandParcel, parcel_id)


def parcel_area_wkbs(session: Session, parcel_ids: Sequence[int]) -> dict[int, bytes]:
    """Parcels' geometries in the area CRS as WKB (exact), by id.

    Read on the session's connection through the driver's own cursor: for one parcel (a single
    check) SQLAlchemy's statement and result machinery costs about as much as the query itself.
    """
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(
            "SELECT id, ST_AsBinary(geom_area) FROM land_parcels WHERE id = ANY(%s)", (list(parcel_ids),)
        )
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return {int(pid): bytes(wkb) for pid, wkb in rows}


def list_parcels(
    session: Session,
    *,
    year: int | None = None,
    project_id: int | None = None,
    project_ids: Sequence[int] | None = None,
    statuses: Sequence[str] | None = None,
) -> list[LandParcel]:
    """Parcels filtered by year, project(s) and status, by id."""
    stmt = select(LandParcel).order_by(LandParcel.id)
    if year is not None:
        stmt = stmt.where(LandParcel.year == year)
    if project_id is not None:
        stmt = stmt.where(LandParcel.project_id == project_id)
    if project_ids is not None:
        stmt = stmt.where(LandParcel.project_id.in_(list(project_ids)))
    if statuses is not None:
        stmt = stmt.where(LandParcel.status.in_(list(statuses)))
    return list(session.scalars(stmt).unique())


def parcel_years(session: Session, *, project_ids: Sequence[int] | None = None) -> list[tuple[int, int]]:
    """(year, number of parcels) of every year with parcels, newest first."""
    stmt = select(LandParcel.year, func.count()).group_by(LandParcel.year).order_by(LandParcel.year.desc())
    if project_ids is not None:
        stmt = stmt.where(LandParcel.project_id.in_(list(project_ids)))
    return [(int(year), int(count)) for year, count in session.execute(stmt)]


def add_batch(session: Session, batch: ApprovalBatch) -> ApprovalBatch:
    """Insert an approval batch."""
    session.add(batch)
    session.flush()
    return batch


def next_batch_number(session: Session, year: int) -> int:
    """The next free batch number of a year."""
    current = session.scalar(select(func.max(ApprovalBatch.number)).where(ApprovalBatch.year == year))
    return int(current or 0) + 1


def get_batch(session: Session, batch_id: int) -> ApprovalBatch | None:
    """An approval batch by id."""
    return session.get(ApprovalBatch, batch_id)


@dataclass(frozen=True, slots=True)
class LayerOverlap:
    """Overlap area of one parcel with one plan layer (and land-use class)."""

    parcel_id: int
    layer: str
    class_code: str | None
    area_m2: float


def plan_overlaps(session: Session, parcel_ids: Sequence[int], edition_id: int) -> list[LayerOverlap]:
    """Overlap areas of parcels with each plan layer and land-use class, on the subdivided pieces.

    A piece that covers the parcel contributes the parcel's area, a piece inside the parcel its own
    area; only pieces crossing the parcel boundary need a real intersection.
    """
    rows = session.execute(
        text(
            """
            SELECT p.id, pc.layer, pc.class_code,
                   SUM(CASE WHEN ST_Covers(pc.geom, p.geom_area) THEN ST_Area(p.geom_area)
                            WHEN ST_Covers(p.geom_area, pc.geom) THEN ST_Area(pc.geom)
                            ELSE ST_Area(ST_Intersection(pc.geom, p.geom_area)) END) AS area
            FROM land_parcels p
            JOIN plan_pieces pc
              ON pc.edition_id = :edition_id AND pc.geom && p.geom_area
             AND ST_Intersects(pc.geom, p.geom_area)
            WHERE p.id = ANY(:ids)
            GROUP BY p.id, pc.layer, pc.class_code
            """
        ),
        {"ids": list(parcel_ids), "edition_id": edition_id},
    )
    return [LayerOverlap(int(pid), layer, code, float(area)) for pid, layer, code, area in rows]


@dataclass(frozen=True, slots=True)
class ParcelOverlap:
    """Overlap of a parcel with another project's parcel of the same year."""

    parcel_id: int
    other_parcel_id: int
    other_code: str
    other_project_code: str
    area_m2: float


def parcel_overlaps(session: Session, parcel_ids: Sequence[int]) -> list[ParcelOverlap]:
    """The same land promised twice: overlaps with other projects' parcels of the same year."""
    rows = session.execute(
        text(
            """
            SELECT p.id, o.id, o.parcel_code, pr.code, ST_Area(ST_Intersection(p.geom_area, o.geom_area))
            FROM land_parcels p
            JOIN land_parcels o
              ON o.year = p.year AND o.project_id <> p.project_id AND o.id <> p.id
             AND o.geom_area && p.geom_area AND ST_Intersects(o.geom_area, p.geom_area)
            JOIN projects pr ON pr.id = o.project_id
            WHERE p.id = ANY(:ids)
            """
        ),
        {"ids": list(parcel_ids)},
    )
    return [ParcelOverlap(int(a), int(b), c, d, float(e)) for a, b, c, d, e in rows]


def area_outside_county(session: Session, parcel_ids: Sequence[int]) -> dict[int, float]:
    """Area (m2) of each parcel outside the county outline (the outline projected once per call)."""
    rows = session.execute(
        text(
            """
            WITH c AS MATERIALIZED (SELECT ST_Transform(geom, :srid) AS geom FROM county_boundaries LIMIT 1)
            SELECT p.id, CASE WHEN ST_CoveredBy(p.geom_area, c.geom) THEN 0.0
                              ELSE ST_Area(ST_Difference(p.geom_area, c.geom)) END
            FROM land_parcels p CROSS JOIN c
            WHERE p.id = ANY(:ids)
            """
        ),
        {"ids": list(parcel_ids), "srid": AREA_SRID},
    )
    return {int(pid): float(area) for pid, area in rows}


def overlap_geometry_geojson(session: Session, parcel_id: int, edition_id: int, layer: str) -> str | None:
    """The overlap piece of a parcel with a plan layer, as GeoJSON in the storage CRS."""
    return session.scalar(
        text(
            """
            SELECT ST_AsGeoJSON(ST_Transform(
                       ST_CollectionExtract(ST_Union(ST_Intersection(pc.geom, p.geom_area)), 3), :storage), 9)
            FROM land_parcels p JOIN plan_pieces pc
              ON pc.edition_id = :edition_id AND pc.layer = :layer
             AND pc.geom && p.geom_area AND ST_Intersects(pc.geom, p.geom_area)
            WHERE p.id = :pid
            """
        ),
        {"pid": parcel_id, "edition_id": edition_id, "layer": layer, "storage": STORAGE_SRID},
    )


def save_checks(session: Session, checks: Sequence[tuple[LandCheck, list[LandCheckOverlap]]]) -> None:
    """Store checks (one per parcel) and their overlaps; earlier checks of those parcels stop being latest.

    One UPDATE for the parcels and two batched INSERTs, whatever the number of checks.
    """
    if not checks:
        return
    parcel_ids = [check.parcel_id for check, _overlaps in checks]
    if len(set(parcel_ids)) != len(parcel_ids):
        raise ValueError("one check per parcel")
    session.execute(
        update(LandCheck)
        .where(LandCheck.parcel_id.in_(parcel_ids), LandCheck.is_latest.is_(True))
        .values(is_latest=False)
    )
    session.add_all([check for check, _overlaps in checks])
    session.flush()
    rows = []
    for check, overlaps in checks:
        for overlap in overlaps:
            overlap.check_id = check.id
        rows.extend(overlaps)
    session.add_all(rows)
    session.flush()


def latest_checks(session: Session, parcel_ids: Sequence[int]) -> dict[int, LandCheck]:
    """The latest check of each parcel."""
    rows = session.scalars(
        select(LandCheck).where(LandCheck.parcel_id.in_(list(parcel_ids)), LandCheck.is_latest.is_(True))
    )
    return {c.parcel_id: c for c in rows}


def overlaps_of_checks(session: Session, check_ids: Sequence[int]) -> dict[int, list[LandCheckOverlap]]:
    """The overlaps stored with each check, in the order they were stored."""
    out: dict[int, list[LandCheckOverlap]] = {check_id: [] for check_id in check_ids}
    if not out:
        return out
    rows = session.scalars(
        select(LandCheckOverlap)
        .where(LandCheckOverlap.check_id.in_(list(out)))
        .order_by(LandCheckOverlap.check_id, LandCheckOverlap.id)
    )
    for overlap in rows:
        out[overlap.check_id].append(overlap)
    return out


def project_codes(session: Session, project_ids: Sequence[int]) -> dict[int, str]:
    """Project codes by id."""
    rows = session.execute(select(Project.id, Project.code).where(Project.id.in_(list(project_ids))))
    return {int(i): c for i, c in rows}


def overlap_pieces_geojson(session: Session, parcel_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Stored overlap geometries of the parcels' latest checks, as GeoJSON rows."""
    rows = session.execute(
        text(
            """
            SELECT p.parcel_code, o.target, o.target_ref, o.area_m2, ST_AsGeoJSON(o.geom, 9)
            FROM land_check_overlaps o
            JOIN land_checks c ON c.id = o.check_id AND c.is_latest
            JOIN land_parcels p ON p.id = c.parcel_id
            WHERE p.id = ANY(:ids) AND o.geom IS NOT NULL
            ORDER BY p.id, o.id
            """
        ),
        {"ids": list(parcel_ids)},
    )
    return [
        {"parcel_code": code, "target": target, "target_ref": ref, "area_m2": area, "geojson": geojson}
        for code, target, ref, area, geojson in rows
    ]
