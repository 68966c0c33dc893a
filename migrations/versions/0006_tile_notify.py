"""Notifications for the processes' in-memory tile state: new layer data versions and login changes.

* ``sitewatch_tiles``: every new version of a tile data group (``layer_versions`` row), as
  ``group:version``, sent when the writing transaction commits;
* ``sitewatch_auth``: any change to login tokens or users (a logout, a deactivated user, a new role).

Each app process listens (server.db.notify) and keeps the latest versions and recently seen logins in
memory, so a cached tile is served without a database round trip (server.services.tiles.TileFreshness).

Revision ID: 0006_tile_notify
Revises: 0005_tile_cache
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0006_tile_notify"
down_revision = "0005_tile_cache"
branch_labels = None
depends_on = None

TILES_CHANNEL = "sitewatch_tiles"
AUTH_CHANNEL = "sitewatch_auth"


def upgrade() -> None:
    """Notify on new layer versions and on changed tokens or users."""
    op.execute(
        f"""
        CREATE FUNCTION tile_notify_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{TILES_CHANNEL}', NEW.layer || ':' || NEW.version);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER trg_layer_versions_notify AFTER INSERT OR UPDATE ON layer_versions "
        "FOR EACH ROW EXECUTE FUNCTION tile_notify_version()"
    )
    op.execute(
        f"""
        CREATE FUNCTION auth_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{AUTH_CHANNEL}', TG_TABLE_NAME);
            RETURN NULL;
        END $$
        """
    )
    for table in ("auth_tokens", "users"):
        op.execute(
            f"CREATE TRIGGER trg_{table}_auth_notify AFTER UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION auth_notify_change()"
        )


def downgrade() -> None:
    """Drop the notification triggers."""
    for table in ("auth_tokens", "users"):
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_auth_notify ON {table}")
    op.execute("DROP FUNCTION IF EXISTS auth_notify_change()")
    op.execute("DROP TRIGGER IF EXISTS trg_layer_versions_notify ON layer_versions")
    op.execute("DROP FUNCTION IF EXISTS tile_notify_version()")
