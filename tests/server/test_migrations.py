"""Alembic is the only authority over the schema: upgrade, downgrade to base, upgrade again."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from server.db import migrate


def test_upgrade_downgrade_upgrade(engine, database_url):
    scratch = "sitewatch_migration_test"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {scratch}"))
        conn.execute(text(f"CREATE DATABASE {scratch}"))
    url = make_url(database_url).set(database=scratch).render_as_string(hide_password=False)
    scratch_engine = create_engine(url)
    try:
        migrate.upgrade(url)
        tables = set(inspect(scratch_engine).get_table_names())
        assert {"projects", "project_progress", "users", "units", "townships", "audit_events"} <= tables
        with scratch_engine.connect() as conn:
            indexes = {
                row[0]
                for row in conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename='projects'"))
            }
            assert "ix_projects_site" in indexes
        migrate.downgrade(url, "base")
        assert "projects" not in set(inspect(scratch_engine).get_table_names())
        migrate.upgrade(url)
        assert "projects" in set(inspect(scratch_engine).get_table_names())
        with scratch_engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        from alembic.script import ScriptDirectory

        assert version == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    finally:
        scratch_engine.dispose()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {scratch}"))


def test_database_enforces_site_validity(session):
    """The CHECK constraint refuses an invalid site even if a caller bypasses the service."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    bowtie = "SRID=4490;POLYGON((106.13 34.75,106.14 34.76,106.14 34.75,106.13 34.76,106.13 34.75))"
    with pytest.raises(IntegrityError) as info, session.begin_nested():
        session.execute(
            text("UPDATE projects SET site = ST_GeomFromEWKT(:g) WHERE id = (SELECT min(id) FROM projects)"),
            {"g": bowtie},
        )
    assert "ck_projects_site_valid" in str(info.value)
