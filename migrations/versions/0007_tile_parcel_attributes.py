"""Parcel tiles without joins: each parcel's project code and status and its latest verdict are kept
beside its Web Mercator geometry in ``tile_parcel_geoms``, by triggers on ``land_parcels``,
``projects`` and ``land_checks`` (a parcels tile then reads one table).

Revision ID: 0007_tile_parcel_attributes
Revises: 0006_tile_notify
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gis_data.crs import WEB_MERCATOR_SRID

revision = "0007_tile_parcel_attributes"
down_revision = "0006_tile_notify"
branch_labels = None
depends_on = None

#: The latest verdict of the parcels a statement touched (``{rows}``: a transition table).
_REFRESH_VERDICTS = """
    UPDATE tile_parcel_geoms t
    SET verdict = (SELECT c.verdict FROM land_checks c
                   WHERE c.parcel_id = t.parcel_id AND c.is_latest
                   ORDER BY c.id DESC LIMIT 1)
    WHERE t.parcel_id IN (SELECT parcel_id FROM {rows})
"""


def upgrade() -> None:
    """Add the columns, fill them, and keep them by triggers."""
    op.add_column("tile_parcel_geoms", sa.Column("project_code", sa.Text))
    op.add_column("tile_parcel_geoms", sa.Column("project_status", sa.Text))
    op.add_column("tile_parcel_geoms", sa.Column("verdict", sa.Text))
    op.execute(
        "UPDATE tile_parcel_geoms t SET project_code = p.code, project_status = p.status "
        "FROM projects p WHERE p.id = t.project_id"
    )
    op.execute(_REFRESH_VERDICTS.format(rows="land_checks"))
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION tile_parcel_geoms_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO tile_parcel_geoms (parcel_id, project_id, year, status, geom,
                                           project_code, project_status, verdict)
            SELECT n.id, n.project_id, n.year, n.status, ST_Transform(n.geom, {WEB_MERCATOR_SRID}),
                   p.code, p.status,
                   (SELECT c.verdict FROM land_checks c WHERE c.parcel_id = n.id AND c.is_latest
                    ORDER BY c.id DESC LIMIT 1)
            FROM new_parcels n JOIN projects p ON p.id = n.project_id;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION tile_parcel_geoms_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE tile_parcel_geoms t
            SET geom = CASE WHEN n.geom IS DISTINCT FROM o.geom
                            THEN ST_Transform(n.geom, {WEB_MERCATOR_SRID}) ELSE t.geom END,
                project_id = n.project_id, year = n.year, status = n.status,
                project_code = p.code, project_status = p.status
            FROM new_parcels n JOIN old_parcels o ON o.id = n.id JOIN projects p ON p.id = n.project_id
            WHERE t.parcel_id = n.id
              AND (n.geom IS DISTINCT FROM o.geom OR n.project_id IS DISTINCT FROM o.project_id
                   OR n.year IS DISTINCT FROM o.year OR n.status IS DISTINCT FROM o.status);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION tile_parcel_project_attributes() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE tile_parcel_geoms t SET project_code = n.code, project_status = n.status
            FROM new_projects n JOIN old_projects o ON o.id = n.id
            WHERE t.project_id = n.id
              AND (n.code IS DISTINCT FROM o.code OR n.status IS DISTINCT FROM o.status);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER trg_projects_tile_parcel_attributes AFTER UPDATE ON projects "
        "REFERENCING NEW TABLE AS new_projects OLD TABLE AS old_projects "
        "FOR EACH STATEMENT EXECUTE FUNCTION tile_parcel_project_attributes()"
    )
    # Transition tables take one event per trigger: one function per event.
    for event, rows in (("INSERT", "new_checks"), ("UPDATE", "new_checks"), ("DELETE", "old_checks")):
        name = event.lower()
        op.execute(
            f"""
            CREATE FUNCTION tile_parcel_verdicts_{name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                {_REFRESH_VERDICTS.format(rows=rows)};
                RETURN NULL;
            END $$
            """
        )
        table = "OLD TABLE AS old_checks" if event == "DELETE" else "NEW TABLE AS new_checks"
        op.execute(
            f"CREATE TRIGGER trg_land_checks_tile_verdicts_{name} AFTER {event} ON land_checks "
            f"REFERENCING {table} FOR EACH STATEMENT EXECUTE FUNCTION tile_parcel_verdicts_{name}()"
        )


def downgrade() -> None:
    """Drop the triggers and columns; the 0005 trigger functions come back as they were."""
    for name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS trg_land_checks_tile_verdicts_{name} ON land_checks")
        op.execute(f"DROP FUNCTION IF EXISTS tile_parcel_verdicts_{name}()")
    op.execute("DROP TRIGGER IF EXISTS trg_projects_tile_parcel_attributes ON projects")
    op.execute("DROP FUNCTION IF EXISTS tile_parcel_project_attributes()")
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION tile_parcel_geoms_insert() RETURNS trigger LANGUAGE plpgsql AS $$
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
        CREATE OR REPLACE FUNCTION tile_parcel_geoms_update() RETURNS trigger LANGUAGE plpgsql AS $$
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
    for column in ("verdict", "project_status", "project_code"):
        op.drop_column("tile_parcel_geoms", column)
