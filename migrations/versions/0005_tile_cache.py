"""Vector tiles: per-layer data versions bumped by triggers, a tile cache, Web-Mercator plan geometries.

* ``layer_versions``: one row per tile data group (``parcels``, ``projects``, ``plan``); statement-level
  triggers on every table a tile reads set its version to ``nextval('tile_version_seq')``, so a cached
  tile is valid exactly while its version is current (a sequence never hands out a number twice, even
  across rollbacks);
* ``tile_cache`` (UNLOGGED: a cache, rebuilt on demand after a crash): the latest MVT of each tile;
* every plan feature in Web Mercator, kept by triggers on ``plan_features``: ``tile_plan_pieces``, the
  full geometry cut into pieces of <= 256 vertices (what high-zoom tiles read, and the exact "does this
  feature touch this tile" test for features crossing a tile's edge), and ``tile_plan_features``, one
  compact row per feature with its bounding box and the whole feature simplified for the zoom bands
  <= 12, <= 10, <= 8 and <= 6 (Douglas-Peucker keeping collapsed rings: 40x faster than the
  topology-preserving variant; ST_AsMVTGeom repairs the rare invalid result in tile space);
* ``tile_parcel_geoms``: every parcel in Web Mercator, kept by triggers on ``land_parcels``.

Revision ID: 0005_tile_cache
Revises: 0004_supervision
Create Date: 2026-11-27
"""

from __future__ import annotations

import math

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from gis_data.crs import WEB_MERCATOR_SRID

revision = "0005_tile_cache"
down_revision = "0004_supervision"
branch_labels = None
depends_on = None

#: Data groups and the tables whose writes change them (a project's code/status/owner shows on parcels).
_TRIGGERS: dict[str, tuple[str, ...]] = {
    "land_parcels": ("parcels",),
    "land_checks": ("parcels",),
    "projects": ("parcels", "projects"),
    "project_responsible_units": ("parcels", "projects"),
    "plan_editions": ("plan",),
    "plan_features": ("plan",),
}
_GROUPS = ("parcels", "plan", "projects")

#: Vertices per piece (the same order as plan_pieces: small enough to clip fast).
_PIECE_VERTICES = 256
#: Simplified copies: column -> zoom it is made for (tolerance 4 tile units at that zoom).
_SIMPLIFIED = {"geom_z12": 12, "geom_z10": 10, "geom_z8": 8, "geom_z6": 6}
_SIMPLIFY_UNITS = 4.0
_WORLD_M = 2 * math.pi * 6378137.0
#: Features of an UPDATE whose geometry, layer or edition changed (status-only updates cost nothing).
_CHANGED = (
    "SELECT c.id FROM new_features c JOIN old_features o ON o.id = c.id"
    " WHERE c.geom IS DISTINCT FROM o.geom OR c.layer IS DISTINCT FROM o.layer"
    " OR c.edition_id IS DISTINCT FROM o.edition_id"
)


def _tolerance(zoom: int) -> float:
    return _SIMPLIFY_UNITS * _WORLD_M / (2**zoom) / 4096


def _tile_geoms_sql(source: str, where: str = "true") -> str:
    """Insert the pieces and the simplified copies of the plan features in ``source`` (a transition table).

    One statement: the CTEs are materialised so each geometry is projected and checked once.
    """
    columns = ", ".join(_SIMPLIFIED)
    simplified = ", ".join(f"ST_Simplify(v.g, {_tolerance(zoom)!r}, true)" for zoom in _SIMPLIFIED.values())
    return f"""
        WITH projected AS MATERIALIZED (
            SELECT n.id, n.edition_id, n.layer, ST_Transform(n.geom, {WEB_MERCATOR_SRID}) AS raw
            FROM {source} n WHERE {where}
        ), valid AS MATERIALIZED (
            SELECT id, edition_id, layer,
                   CASE WHEN ST_IsValid(raw) THEN raw ELSE ST_CollectionExtract(ST_MakeValid(raw), 3) END AS g
            FROM projected
        ), pieces AS (
            INSERT INTO tile_plan_pieces (feature_id, edition_id, layer, geom)
            SELECT v.id, v.edition_id, v.layer, piece
            FROM valid v CROSS JOIN LATERAL ST_Subdivide(v.g, {_PIECE_VERTICES}) AS piece
            WHERE NOT ST_IsEmpty(piece)
        )
        INSERT INTO tile_plan_features (feature_id, edition_id, layer, bbox, {columns})
        SELECT v.id, v.edition_id, v.layer, ST_Envelope(v.g), {simplified}
        FROM valid v WHERE NOT ST_IsEmpty(v.g);
    """


def upgrade() -> None:
    """Create the tile versions, cache and plan geometries with their triggers."""
    op.execute("CREATE SEQUENCE tile_version_seq")
    op.create_table(
        "layer_versions",
        sa.Column("layer", sa.String(20), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.execute(
        "INSERT INTO layer_versions (layer, version) SELECT g, nextval('tile_version_seq') "
        f"FROM unnest(ARRAY{list(_GROUPS)!r}::text[]) AS g ORDER BY g"
    )
    # Rows are locked in one order (by name) so two writers never wait on each other crosswise. A row this
    # transaction already bumped (its xmin is ours) is left alone: its new version becomes visible with
    # all of the transaction's writes at commit, and a bulk load of many statements does not pile up
    # thousands of dead versions of one row. (A bump made inside a savepoint carries the subtransaction's
    # id, so the next statement bumps again: more bumps, never fewer; a rolled-back bump is undone.)
    op.execute(
        """
        CREATE FUNCTION tile_bump_versions() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM 1 FROM layer_versions
            WHERE layer = ANY(TG_ARGV) AND xmin::text::bigint <> txid_current() % 4294967296
            ORDER BY layer FOR UPDATE;
            UPDATE layer_versions SET version = nextval('tile_version_seq')
            WHERE layer = ANY(TG_ARGV) AND xmin::text::bigint <> txid_current() % 4294967296;
            RETURN NULL;
        END $$
        """
    )
    for table, groups in _TRIGGERS.items():
        args = ", ".join(f"'{g}'" for g in groups)
        op.execute(
            f"CREATE TRIGGER trg_{table}_tile_versions AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION tile_bump_versions({args})"
        )

    op.create_table(
        "tile_cache",
        sa.Column("layer", sa.String(20), nullable=False),
        sa.Column("scope", sa.String(40), nullable=False),
        sa.Column("variant", sa.String(40), nullable=False),
        sa.Column("z", sa.SmallInteger, nullable=False),
        sa.Column("x", sa.Integer, nullable=False),
        sa.Column("y", sa.Integer, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("layer", "scope", "variant", "z", "x", "y", name="pk_tile_cache"),
        prefixes=["UNLOGGED"],
    )

    op.create_table(
        "tile_plan_pieces",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "feature_id",
            sa.BigInteger,
            sa.ForeignKey(
                "plan_features.id", name="fk_tile_plan_pieces_feature_id_plan_features", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("edition_id", sa.Integer, nullable=False),
        sa.Column("layer", sa.String(20), nullable=False),
        sa.Column("geom", Geometry("GEOMETRY", srid=WEB_MERCATOR_SRID, spatial_index=False), nullable=False),
    )
    op.create_index("ix_tile_plan_pieces_geom", "tile_plan_pieces", ["geom"], postgresql_using="gist")
    op.create_index("ix_tile_plan_pieces_feature_id", "tile_plan_pieces", ["feature_id"])
    op.create_table(
        "tile_plan_features",
        sa.Column(
            "feature_id",
            sa.BigInteger,
            sa.ForeignKey(
                "plan_features.id", name="fk_tile_plan_features_feature_id_plan_features", ondelete="CASCADE"
            ),
            primary_key=True,
        ),
        sa.Column("edition_id", sa.Integer, nullable=False),
        sa.Column("layer", sa.String(20), nullable=False),
        sa.Column("bbox", Geometry("GEOMETRY", srid=WEB_MERCATOR_SRID, spatial_index=False), nullable=False),
        *(
            sa.Column(column, Geometry("GEOMETRY", srid=WEB_MERCATOR_SRID, spatial_index=False))
            for column in _SIMPLIFIED
        ),
    )
    op.create_index("ix_tile_plan_features_bbox", "tile_plan_features", ["bbox"], postgresql_using="gist")
    op.execute(
        f"""
        CREATE FUNCTION tile_plan_geoms_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {_tile_geoms_sql("new_features")}
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION tile_plan_geoms_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM tile_plan_pieces g WHERE g.feature_id IN ({_CHANGED});
            DELETE FROM tile_plan_features g WHERE g.feature_id IN ({_CHANGED});
            {_tile_geoms_sql("new_features", f"n.id IN ({_CHANGED})")}
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER trg_plan_features_tile_geoms_insert AFTER INSERT ON plan_features "
        "REFERENCING NEW TABLE AS new_features FOR EACH STATEMENT EXECUTE FUNCTION tile_plan_geoms_insert()"
    )
    op.execute(
        "CREATE TRIGGER trg_plan_features_tile_geoms_update AFTER UPDATE ON plan_features "
        "REFERENCING OLD TABLE AS old_features NEW TABLE AS new_features "
        "FOR EACH STATEMENT EXECUTE FUNCTION tile_plan_geoms_update()"
    )
    # Plan features stored before this revision.
    op.execute(_tile_geoms_sql("plan_features"))

    op.create_table(
        "tile_parcel_geoms",
        sa.Column(
            "parcel_id",
            sa.Integer,
            sa.ForeignKey(
                "land_parcels.id", name="fk_tile_parcel_geoms_parcel_id_land_parcels", ondelete="CASCADE"
            ),
            primary_key=True,
        ),
        # Copies of the parcel's columns a tile shows, so a tile of 30,000 parcels reads one table.
        sa.Column("project_id", sa.Integer, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column(
            "geom", Geometry("MULTIPOLYGON", srid=WEB_MERCATOR_SRID, spatial_index=False), nullable=False
        ),
    )
    op.create_index("ix_tile_parcel_geoms_geom", "tile_parcel_geoms", ["geom"], postgresql_using="gist")
    op.execute(
        f"""
        CREATE FUNCTION tile_parcel_geoms_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO tile_parcel_geoms (parcel_id, project_id, year, status, geom)
            SELECT n.id, n.project_id, n.year, n.status, ST_Transform(n.geom, {WEB_MERCATOR_SRID})
            FROM new_parcels n;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION tile_parcel_geoms_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE tile_parcel_geoms t
            SET geom = CASE WHEN n.geom IS DISTINCT FROM o.geom
                            THEN ST_Transform(n.geom, {WEB_MERCATOR_SRID}) ELSE t.geom END,
                project_id = n.project_id, year = n.year, status = n.status
            FROM new_parcels n JOIN old_parcels o ON o.id = n.id
            WHERE t.parcel_id = n.id
              AND (n.geom IS DISTINCT FROM o.geom OR n.project_id IS DISTINCT FROM o.project_id
                   OR n.year IS DISTINCT FROM o.year OR n.status IS DISTINCT FROM o.status);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER trg_land_parcels_tile_geoms_insert AFTER INSERT ON land_parcels "
        "REFERENCING NEW TABLE AS new_parcels FOR EACH STATEMENT EXECUTE FUNCTION tile_parcel_geoms_insert()"
    )
    op.execute(
        "CREATE TRIGGER trg_land_parcels_tile_geoms_update AFTER UPDATE ON land_parcels "
        "REFERENCING OLD TABLE AS old_parcels NEW TABLE AS new_parcels "
        "FOR EACH STATEMENT EXECUTE FUNCTION tile_parcel_geoms_update()"
    )
    op.execute(
        "INSERT INTO tile_parcel_geoms (parcel_id, project_id, year, status, geom) "
        f"SELECT id, project_id, year, status, ST_Transform(geom, {WEB_MERCATOR_SRID}) FROM land_parcels"
    )


def downgrade() -> None:
    """Drop the tile tables, triggers and functions."""
    op.execute("DROP TRIGGER IF EXISTS trg_land_parcels_tile_geoms_insert ON land_parcels")
    op.execute("DROP TRIGGER IF EXISTS trg_land_parcels_tile_geoms_update ON land_parcels")
    op.execute("DROP FUNCTION IF EXISTS tile_parcel_geoms_insert()")
    op.execute("DROP FUNCTION IF EXISTS tile_parcel_geoms_update()")
    op.drop_table("tile_parcel_geoms")
    op.execute("DROP TRIGGER IF EXISTS trg_plan_features_tile_geoms_insert ON plan_features")
    op.execute("DROP TRIGGER IF EXISTS trg_plan_features_tile_geoms_update ON plan_features")
    op.execute("DROP FUNCTION IF EXISTS tile_plan_geoms_insert()")
    op.execute("DROP FUNCTION IF EXISTS tile_plan_geoms_update()")
    for table in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_tile_versions ON {table}")
    op.execute("DROP FUNCTION IF EXISTS tile_bump_versions()")
    op.drop_table("tile_plan_features")
    op.drop_table("tile_plan_pieces")
    op.drop_table("tile_cache")
    op.drop_table("layer_versions")
    op.execute("DROP SEQUENCE IF EXISTS tile_version_seq")
