"""Foundation: reference layers, units, users, tokens, key projects, monthly progress, audit.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

from gis_data.crs import STORAGE_SRID

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None

_GEOM_TYPES = "('POINT', 'LINESTRING', 'POLYGON', 'MULTIPOINT', 'MULTILINESTRING', 'MULTIPOLYGON')"


def _ts(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    """Create the foundation schema."""
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_table(
        "county_boundaries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("adcode", sa.String(12), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False), nullable=False),
        sa.UniqueConstraint("adcode", name="uq_county_boundaries_adcode"),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_county_boundaries_geom_valid"),
    )
    op.create_index("ix_county_boundaries_geom", "county_boundaries", ["geom"], postgresql_using="gist")

    op.create_table(
        "townships",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("illustrative", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False), nullable=False),
        sa.UniqueConstraint("code", name="uq_townships_code"),
        sa.UniqueConstraint("name", name="uq_townships_name"),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_townships_geom_valid"),
    )
    op.create_index("ix_townships_geom", "townships", ["geom"], postgresql_using="gist")

    op.create_table(
        "units",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column(
            "township_id", sa.Integer, sa.ForeignKey("townships.id", name="fk_units_township_id_townships")
        ),
        sa.UniqueConstraint("name", name="uq_units_name"),
        sa.CheckConstraint(
            "kind IN ('department', 'township', 'legal_person', 'leader_office')", name="ck_units_kind"
        ),
        sa.CheckConstraint(
            "kind <> 'township' OR township_id IS NOT NULL", name="ck_units_township_has_township"
        ),
    )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(50), nullable=False),
        sa.Column("full_name", sa.String(50), nullable=False),
        sa.Column("title", sa.String(100)),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column(
            "unit_id", sa.Integer, sa.ForeignKey("units.id", name="fk_users_unit_id_units"), nullable=False
        ),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
        _ts("created_at"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.CheckConstraint(
            "role IN ('admin', 'leader', 'land_bureau', 'inspector', 'project_unit', 'township')",
            name="ck_users_role",
        ),
        sa.CheckConstraint("username ~ '^[a-z0-9_.-]{3,50}$'", name="ck_users_username_format"),
    )

    op.create_table(
        "auth_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", name="fk_auth_tokens_user_id_users", ondelete="CASCADE"),
            nullable=False,
        ),
        _ts("created_at"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_auth_tokens_user_id", "auth_tokens", ["user_id"])

    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("industry", sa.String(50), nullable=False),
        sa.Column(
            "township_id",
            sa.Integer,
            sa.ForeignKey("townships.id", name="fk_projects_township_id_townships"),
            nullable=False,
        ),
        sa.Column(
            "lead_unit_id",
            sa.Integer,
            sa.ForeignKey("units.id", name="fk_projects_lead_unit_id_units"),
            nullable=False,
        ),
        sa.Column(
            "legal_person_unit_id",
            sa.Integer,
            sa.ForeignKey("units.id", name="fk_projects_legal_person_unit_id_units"),
            nullable=False,
        ),
        sa.Column(
            "leader_id",
            sa.Integer,
            sa.ForeignKey("users.id", name="fk_projects_leader_id_users"),
            nullable=False,
        ),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("total_investment_yuan", sa.Numeric(16, 2), nullable=False),
        sa.Column("annual_plan_yuan", sa.Numeric(16, 2), nullable=False),
        sa.Column("threshold_exemption", sa.String(20)),
        sa.Column("planned_start", sa.Date, nullable=False),
        sa.Column("list_year", sa.Integer, nullable=False),
        sa.Column("energy_tce", sa.Float),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("list_tier", sa.String(20), nullable=False),
        sa.Column("energy_review_level", sa.String(30), nullable=False),
        sa.Column("site", Geometry("GEOMETRY", srid=STORAGE_SRID, spatial_index=False)),
        _ts("created_at"),
        _ts("updated_at"),
        sa.UniqueConstraint("code", name="uq_projects_code"),
        sa.CheckConstraint(
            "category IN ('new_start', 'continuing', 'preparatory')", name="ck_projects_category"
        ),
        sa.CheckConstraint(
            "status IN ('not_started', 'under_construction', 'completed', 'suspended')",
            name="ck_projects_status",
        ),
        sa.CheckConstraint(
            "list_tier IN ('county', 'city_key', 'city_major', 'provincial_major')",
            name="ck_projects_list_tier",
        ),
        sa.CheckConstraint(
            "energy_review_level IN ('none', 'county_registration', 'city', 'province')",
            name="ck_projects_energy_review_level",
        ),
        sa.CheckConstraint(
            "threshold_exemption IS NULL"
            " OR threshold_exemption IN ('social', 'tech_renovation', 'high_tech')",
            name="ck_projects_threshold_exemption",
        ),
        sa.CheckConstraint("total_investment_yuan >= 0", name="ck_projects_total_nonnegative"),
        sa.CheckConstraint("annual_plan_yuan >= 0", name="ck_projects_annual_nonnegative"),
        sa.CheckConstraint(
            "annual_plan_yuan <= total_investment_yuan", name="ck_projects_annual_within_total"
        ),
        sa.CheckConstraint("list_year BETWEEN 2000 AND 2100", name="ck_projects_list_year_range"),
        sa.CheckConstraint(
            "planned_start BETWEEN DATE '2000-01-01' AND DATE '2100-12-31'",
            name="ck_projects_planned_start_range",
        ),
        sa.CheckConstraint("energy_tce IS NULL OR energy_tce >= 0", name="ck_projects_energy_nonnegative"),
        sa.CheckConstraint(
            "site IS NULL OR (ST_IsValid(site) AND NOT ST_IsEmpty(site)"
            f" AND GeometryType(site) IN {_GEOM_TYPES})",
            name="ck_projects_site_valid",
        ),
    )
    op.create_index("ix_projects_site", "projects", ["site"], postgresql_using="gist")
    op.create_index("ix_projects_township_id", "projects", ["township_id"])
    op.create_index("ix_projects_leader_id", "projects", ["leader_id"])
    op.create_index("ix_projects_legal_person_unit_id", "projects", ["legal_person_unit_id"])
    op.create_index("ix_projects_list_year", "projects", ["list_year"])

    op.create_table(
        "project_responsible_units",
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey(
                "projects.id", name="fk_project_responsible_units_project_id_projects", ondelete="CASCADE"
            ),
            primary_key=True,
        ),
        sa.Column(
            "unit_id",
            sa.Integer,
            sa.ForeignKey("units.id", name="fk_project_responsible_units_unit_id_units"),
            primary_key=True,
        ),
    )
    op.create_index("ix_project_responsible_units_unit_id", "project_responsible_units", ["unit_id"])

    op.create_table(
        "project_progress",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", name="fk_project_progress_project_id_projects", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("amount_completed_yuan", sa.Numeric(16, 2), nullable=False),
        sa.Column("physical_progress", sa.Text, nullable=False, server_default=""),
        sa.Column(
            "reported_by_id",
            sa.Integer,
            sa.ForeignKey("users.id", name="fk_project_progress_reported_by_id_users"),
        ),
        _ts("reported_at"),
        sa.UniqueConstraint("project_id", "month", name="uq_project_progress_project_id"),
        sa.CheckConstraint("amount_completed_yuan >= 0", name="ck_project_progress_amount_nonnegative"),
        sa.CheckConstraint("EXTRACT(DAY FROM month) = 1", name="ck_project_progress_first_of_month"),
    )

    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger, primary_key=True),
        _ts("at"),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("users.id", name="fk_audit_events_actor_id_users")),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("before", JSONB),
        sa.Column("after", JSONB),
    )
    op.create_index("ix_audit_events_entity", "audit_events", ["entity", "entity_id"])


def downgrade() -> None:
    """Drop the foundation schema (the PostGIS extension stays)."""
    for table in (
        "audit_events",
        "project_progress",
        "project_responsible_units",
        "projects",
        "auth_tokens",
        "users",
        "units",
        "townships",
        "county_boundaries",
    ):
        op.drop_table(table)
