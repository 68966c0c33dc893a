"""Vector tiles: the MVT queries (ST_AsMVT) per layer, layer data versions and the tile cache table.

Every tile query selects exactly the features whose geometry intersects the tile envelope in Web
Mercator (``ST_Intersects(ST_Transform(geom, WEB_MERCATOR_SRID), ST_TileEnvelope(z, x, y))``) and
never caps their number. Each feature keeps its database id as the MVT feature id. A feature that is
too small to survive generalisation and the 4096-unit grid is not dropped: it is drawn as a 2 x 2 unit
square (a point for lines and points) where it touches the tile.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_data.crs import STORAGE_SRID, WEB_MERCATOR_SRID
from server.db.session import LookupChannel

#: Tile grid (units per tile side) and the buffer kept around the tile, in those units.
EXTENT = 4096
BUFFER = 64
#: Plan layers (``plan_features.layer``) and the other layers, with the version group each reads.
PLAN_LAYERS = ("farmland", "redline", "urban_boundary", "landuse")
VERSION_GROUPS = {"parcels": "parcels", "projects": "projects", **{name: "plan" for name in PLAN_LAYERS}}
#: Generalisation of plan layers: the simplified copy (see migration 0005) each zoom reads. A copy is
#: simplified by 4 units at its zoom, so it is finer than 4 units at every zoom it serves.
_PLAN_SIMPLIFIED = ((6, "geom_z6"), (8, "geom_z8"), (10, "geom_z10"), (12, "geom_z12"))
#: Parcels are simplified on the fly below this zoom, by this many tile units (Douglas-Peucker keeping
#: collapsed rings; ST_AsMVTGeom repairs the rare self-intersection in tile space).
PARCEL_FULL_DETAIL_ZOOM = 13
PARCEL_SIMPLIFY_UNITS = 4.0
#: The lon/lat prefilter box is widened by this (degrees) so rounding never loses a feature on an edge.
_PREFILTER_MARGIN_DEG = 1e-7

# The tile envelope, its buffered box and the size of one tile unit, in Web Mercator metres.
_ENV = f"""
env AS (
    SELECT e, ST_Expand(e, u * {BUFFER}) AS eb, u,
           ST_Expand(ST_Transform(e, {STORAGE_SRID}), {_PREFILTER_MARGIN_DEG}) AS e_lonlat
    FROM (SELECT ST_TileEnvelope(:z, :x, :y) AS e) t0,
         LATERAL (SELECT (ST_XMax(t0.e) - ST_XMin(t0.e)) / {EXTENT} AS u) t1
)"""


def _mvt_geom(geom: str, fallback_from: str) -> str:
    """ST_AsMVTGeom of ``geom``, or a 2 x 2 unit square / a point where ``fallback_from`` meets the tile."""
    closest = f"ST_ClosestPoint({fallback_from}, ST_Centroid(env.e))"
    return f"""COALESCE(
        ST_AsMVTGeom({geom}, env.e, {EXTENT}, {BUFFER}, true),
        ST_AsMVTGeom(
            CASE WHEN ST_Dimension({fallback_from}) = 2 THEN ST_Expand({closest}, env.u) ELSE {closest} END,
            env.e, {EXTENT}, {BUFFER}, true))"""


def _project_filter(column: str, project_ids: Sequence[int] | None) -> str:
    return "" if project_ids is None else f"AND {column} = ANY(:project_ids)"


def parcels_tile(session: Session, z: int, x: int, y: int, *, project_ids: Sequence[int] | None) -> bytes:
    """The parcels tile: id (also as ``parcel_id``, for clients that drop feature ids), year, status,
    project code and the latest check verdict of each parcel."""
    simplified = "CASE WHEN :z < :full THEN ST_Simplify(h.geom, env.u * :simplify, true) ELSE h.geom END"
    geom = _mvt_geom(simplified, "h.geom")
    sql = f"""
    WITH {_ENV},
    hits AS (
        SELECT g.parcel_id AS id, g.year, g.status, g.project_code, g.project_status, g.verdict, g.geom
        FROM tile_parcel_geoms g CROSS JOIN env
        WHERE g.geom && env.e AND (g.geom @ env.e OR ST_Intersects(g.geom, env.e))
          {_project_filter("g.project_id", project_ids)}
    )
    SELECT ST_AsMVT(t, 'parcels', {EXTENT}, 'geom', 'id') FROM (
        SELECT h.id, h.id AS parcel_id, h.year, h.status, h.project_code, h.project_status, h.verdict,
               {geom} AS geom
        FROM hits h
        CROSS JOIN env
    ) t
    """
    params = {
        "z": z,
        "x": x,
        "y": y,
        "full": PARCEL_FULL_DETAIL_ZOOM,
        "simplify": PARCEL_SIMPLIFY_UNITS,
        "project_ids": list(project_ids or []),
    }
    return bytes(session.execute(text(sql), params).scalar_one())


def projects_tile(session: Session, z: int, x: int, y: int, *, project_ids: Sequence[int] | None) -> bytes:
    """The project sites tile: id, code, name, status, category and list year of each project."""
    sql = f"""
    WITH {_ENV},
    hits AS (
        SELECT p.id, p.code, p.name, p.status, p.category, p.list_year, g.geom
        FROM projects p
        CROSS JOIN env
        CROSS JOIN LATERAL (SELECT ST_Transform(p.site, {WEB_MERCATOR_SRID}) AS geom) g
        WHERE p.site && env.e_lonlat AND ST_Intersects(g.geom, env.e)
          {_project_filter("p.id", project_ids)}
    )
    SELECT ST_AsMVT(t, 'projects', {EXTENT}, 'geom', 'id') FROM (
        SELECT h.id, h.code, h.name, h.status, h.category, h.list_year,
               {_mvt_geom("h.geom", "h.geom")} AS geom
        FROM hits h CROSS JOIN env
    ) t
    """
    params = {"z": z, "x": x, "y": y, "project_ids": list(project_ids or [])}
    return bytes(session.execute(text(sql), params).scalar_one())


def plan_simplified_column(z: int) -> str | None:
    """The simplified copy a zoom reads (None: full detail, from the pieces)."""
    for max_zoom, column in _PLAN_SIMPLIFIED:
        if z <= max_zoom:
            return column
    return None


def plan_tile(session: Session, layer: str, edition_id: int, z: int, x: int, y: int) -> bytes:
    """A plan layer's tile for one edition: id, edition id, land-use class code and name.

    Which features: those whose full geometry intersects the tile; a feature whose bounding box lies
    inside the tile does without the exact test, which reads its pieces. Their geometry: up to zoom
    12 the whole feature simplified for the zoom; beyond, the union of its pieces within the tile's
    buffer (so a polygon of 150,000 vertices costs only the pieces the tile needs).
    """
    column = plan_simplified_column(z)
    if column is not None:
        shapes = f"""
    shapes AS (
        SELECT f.feature_id, f.bbox AS near, f.{column} AS geom
        FROM tile_plan_features f CROSS JOIN env
        WHERE f.edition_id = :edition_id AND f.layer = :layer AND f.bbox && env.e
          AND (f.bbox @ env.e OR EXISTS (
                -- Only this feature's pieces, found by feature_id: COALESCE keeps the planner from
                -- scanning the spatial index for every piece in the tile (geom is never NULL).
                SELECT 1 FROM tile_plan_pieces p
                WHERE p.feature_id = f.feature_id AND ST_Intersects(COALESCE(p.geom, env.e), env.e)))
    )"""
    else:
        # Full detail: every piece near the tile (one index scan), dissolved per feature where cut.
        shapes = """
    near AS (
        SELECT p.feature_id, p.geom, ST_Intersects(p.geom, env.e) AS touches
        FROM tile_plan_pieces p CROSS JOIN env
        WHERE p.edition_id = :edition_id AND p.layer = :layer AND p.geom && env.eb
    ),
    shapes AS (
        SELECT feature_id,
               (array_agg(geom) FILTER (WHERE touches))[1] AS near,
               CASE WHEN count(*) = 1 THEN (array_agg(geom))[1] ELSE ST_Union(geom) END AS geom
        FROM near
        GROUP BY feature_id
        HAVING bool_or(touches)
    )"""
    sql = f"""
    WITH {_ENV}, {shapes}
    SELECT ST_AsMVT(t, :layer, {EXTENT}, 'geom', 'id') FROM (
        SELECT f.id, f.edition_id, f.class_code, f.class_name,
               {_mvt_geom("s.geom", "s.near")} AS geom
        FROM shapes s
        JOIN plan_features f ON f.id = s.feature_id
        CROSS JOIN env
    ) t
    """
    params = {"z": z, "x": x, "y": y, "layer": layer, "edition_id": edition_id}
    return bytes(session.execute(text(sql), params).scalar_one())


def intersecting_ids(
    session: Session,
    layer: str,
    z: int,
    x: int,
    y: int,
    *,
    edition_id: int | None = None,
    project_ids: Sequence[int] | None = None,
) -> set[int]:
    """The reference answer: ids of the layer's features intersecting the tile (plain ST_Intersects)."""
    if layer == "parcels":
        source = f"SELECT id, geom FROM land_parcels WHERE true {_project_filter('project_id', project_ids)}"
    elif layer == "projects":
        scoped = _project_filter("id", project_ids)
        source = f"SELECT id, site AS geom FROM projects WHERE site IS NOT NULL {scoped}"
    else:
        source = "SELECT id, geom FROM plan_features WHERE layer = :layer AND edition_id = :edition_id"
    sql = f"""
    SELECT s.id FROM ({source}) s
    WHERE ST_Intersects(ST_Transform(s.geom, {WEB_MERCATOR_SRID}), ST_TileEnvelope(:z, :x, :y))
    """
    params = {
        "z": z,
        "x": x,
        "y": y,
        "layer": layer,
        "edition_id": edition_id,
        "project_ids": list(project_ids or []),
    }
    return {int(row[0]) for row in session.execute(text(sql), params)}


# --- versions and the cache table ---------------------------------------------------------------


def group_version(session: Session, group: str) -> int:
    """The current data version of a layer group (bumped by triggers on every write)."""
    return int(
        session.execute(
            text("SELECT version FROM layer_versions WHERE layer = :g"), {"g": group}
        ).scalar_one()
    )


def newest_edition_id(session: Session) -> int | None:
    """The id of the newest plan edition, if any."""
    return session.execute(text("SELECT max(id) FROM plan_editions")).scalar_one()


def edition_exists(session: Session, edition_id: int) -> bool:
    """Whether a plan edition exists."""
    found = session.execute(text("SELECT 1 FROM plan_editions WHERE id = :id"), {"id": edition_id}).first()
    return found is not None


class TileKey(NamedTuple):
    """What identifies a tile in the caches (the data version is stored beside it).

    A named tuple: the in-memory cache hashes and compares it on every tile request, in C."""

    layer: str
    scope: str
    variant: str
    z: int
    x: int
    y: int


@dataclass(frozen=True, slots=True)
class StoredTile:
    """A cached tile: its bytes, entity tag and the data version it was made from."""

    version: int
    etag: str
    data: bytes


def version_and_cached_etag(session: Session, group: str, key: TileKey) -> tuple[int, str | None]:
    """In one round trip: the group's data version, and the etag of the cached tile made from it."""
    row = session.execute(
        text(
            """
            SELECT v.version,
                   (SELECT c.etag FROM tile_cache c
                    WHERE c.layer = :layer AND c.scope = :scope AND c.variant = :variant
                      AND c.z = :z AND c.x = :x AND c.y = :y AND c.version = v.version)
            FROM layer_versions v WHERE v.layer = :group
            """
        ),
        {**_key_params(key), "group": group},
    ).one()
    return int(row[0]), row[1]


@dataclass(frozen=True, slots=True)
class FastLookup:
    """What a cached tile needs to be served: the token's user, and the data version of the tile's layer."""

    user_id: int
    role: str
    expires_at: dt.datetime
    version: int


_FAST_LOOKUP = """
    SELECT u.id, u.role, t.expires_at, v.version
    FROM auth_tokens t
    JOIN users u ON u.id = t.user_id
    CROSS JOIN layer_versions v
    WHERE t.token_hash = $1 AND t.expires_at > $2 AND u.is_active AND v.layer = $3
"""


async def fast_lookup(
    channel: LookupChannel, token_hash: str, group: str, now: dt.datetime
) -> FastLookup | None:
    """In one round trip: the active user owning an unexpired token, and the data version of ``group``.

    The same conditions as :func:`server.repositories.units.user_for_token`; None if either is missing.
    """
    row = await channel.fetchrow(_FAST_LOOKUP, token_hash, now, group)
    if row is None:
        return None
    return FastLookup(int(row[0]), str(row[1]), row[2], int(row[3]))


_FAST_CACHED_TILE = """
    SELECT version, etag, data FROM tile_cache
    WHERE layer = $1 AND scope = $2 AND variant = $3 AND z = $4 AND x = $5 AND y = $6 AND version = $7
"""


async def fast_cached_tile(channel: LookupChannel, key: TileKey, version: int) -> StoredTile | None:
    """:func:`cached_tile` on the event loop (one prepared statement)."""
    row = await channel.fetchrow(
        _FAST_CACHED_TILE, key.layer, key.scope, key.variant, key.z, key.x, key.y, version
    )
    return None if row is None else StoredTile(int(row[0]), str(row[1]), bytes(row[2]))


def cached_tile(session: Session, key: TileKey, version: int) -> StoredTile | None:
    """The cached tile for ``key`` if it was made from data ``version``."""
    row = session.execute(
        text(
            "SELECT version, etag, data FROM tile_cache WHERE layer = :layer AND scope = :scope"
            " AND variant = :variant AND z = :z AND x = :x AND y = :y AND version = :version"
        ),
        {**_key_params(key), "version": version},
    ).first()
    return None if row is None else StoredTile(int(row[0]), str(row[1]), bytes(row[2]))


def store_tile(session: Session, key: TileKey, tile: StoredTile) -> None:
    """Insert or refresh a cached tile; an older version never replaces a newer one.

    The cache is disposable, so the transaction does not wait for the WAL flush at commit
    (``synchronous_commit`` off for this transaction only, set within the same statement).
    """
    session.execute(
        text(
            """
            INSERT INTO tile_cache (layer, scope, variant, z, x, y, version, etag, data)
            SELECT :layer, :scope, :variant, :z, :x, :y, :version, :etag, :data
            WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL
            ON CONFLICT (layer, scope, variant, z, x, y) DO UPDATE
            SET version = EXCLUDED.version, etag = EXCLUDED.etag, data = EXCLUDED.data, created_at = now()
            WHERE tile_cache.version < EXCLUDED.version
            """
        ),
        {**_key_params(key), "version": tile.version, "etag": tile.etag, "data": tile.data},
    )


def prune_tiles(session: Session, layers: Sequence[str], below_version: int) -> int:
    """Delete cached tiles of ``layers`` made from data older than ``below_version``."""
    result = session.execute(
        text("DELETE FROM tile_cache WHERE layer = ANY(:layers) AND version < :v"),
        {"layers": list(layers), "v": below_version},
    )
    return int(result.rowcount or 0)


def _key_params(key: TileKey) -> dict[str, object]:
    return {
        "layer": key.layer,
        "scope": key.scope,
        "variant": key.variant,
        "z": key.z,
        "x": key.x,
        "y": key.y,
    }
