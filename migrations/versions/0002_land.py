"""Land: plan editions and layers (with subdivided pieces for overlay), parcels, batches, checks.

Revision ID: 0002_land
Revises: 0001_foundation
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

from gis_data.crs import AREA_SRID, STORAGE_SRID

revision = "0002_land"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def _ts(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _valid(column: str, table: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(
        f"ST_IsValid({column}) AND NOT ST_IsEmpty({column})", name=f"ck_{table}_{column}_valid"
    )


def upgrade() -> None:
    """Create the land schema."""
    op.create_table(
        "plan_editions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        _ts("created_at"),
        sa.Column(
            "created_by_id",
            sa.Integer,
            sa.ForeignKey("users.id", name="fk_plan_editions_created_by_id_users"),
        ),
        sa.Column("report", JSONB, nullable=False, server_default="{}"),
    )

    op.create_table(
        "plan_features",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "edition_id",
            sa.Integer,
            sa.ForeignKey(
                "plan_editions.id", name="fk_plan_features_edition_id_plan_editions", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("layer", sa.String(20), nullable=False),
        sa.Column("class_code", sa.String(20)),
        sa.Column("class_name", sa.String(100)),
        sa.Column("source_file", sa.String(300), nullable=False),
        sa.Column("source_index", sa.Integer, nullable=False),
        sa.Column("repaired", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False), nullable=False),
        sa.Column("geom_area", Geometry("MULTIPOLYGON", srid=AREA_SRID, spatial_index=False), nullable=False),
        sa.CheckConstraint(
            "layer IN ('farmland', 'redline', 'urban_boundary', 'landuse')", name="ck_plan_features_layer"
        ),
        _valid("geom", "plan_features"),
    )
    op.create_index("ix_plan_features_edition_layer", "plan_features", ["edition_id", "layer"])
    op.create_index("ix_plan_features_geom", "plan_features", ["geom"], postgresql_using="gist")
    op.create_index("ix_plan_features_geom_area", "plan_features", ["geom_area"], postgresql_using="gist")

    op.create_table(
        "plan_pieces",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "feature_id",
            sa.BigInteger,
            sa.ForeignKey(
                "plan_features.id", name="fk_plan_pieces_feature_id_plan_features", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column(
            "edition_id",
            sa.Integer,
            sa.ForeignKey(
                "plan_editions.id", name="fk_plan_pieces_edition_id_plan_editions", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("layer", sa.String(20), nullable=False),
        sa.Column("class_code", sa.String(20)),
        sa.Column("geom", Geometry("POLYGON", srid=AREA_SRID, spatial_index=False), nullable=False),
    )
    op.create_index("ix_plan_pieces_geom", "plan_pieces", ["geom"], postgresql_using="gist")
    op.create_index("ix_plan_pieces_feature_id", "plan_pieces", ["feature_id"])

    op.create_table(
        "approval_batches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.UniqueConstraint("year", "number", name="uq_approval_batches_year"),
        sa.CheckConstraint("number >= 1", name="ck_approval_batches_number_positive"),
    )

    op.create_table(
        "land_parcels",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", name="fk_land_parcels_project_id_projects", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("parcel_code", sa.String(60), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("land_class", sa.String(20)),
        sa.Column("land_use", sa.String(100)),
        sa.Column("construction_land", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column(
            "batch_id",
            sa.Integer,
            sa.ForeignKey("approval_batches.id", name="fk_land_parcels_batch_id_approval_batches"),
        ),
        sa.Column("zone", sa.Integer, nullable=False),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False), nullable=False),
        sa.Column("geom_area", Geometry("MULTIPOLYGON", srid=AREA_SRID, spatial_index=False), nullable=False),
        sa.Column("area_m2", sa.Float, nullable=False),
        sa.Column("ellipsoidal_area_m2", sa.Float, nullable=False),
        sa.Column("declared_area_ha", sa.Float),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True)),
        sa.Column("submitted_late", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("deadline", sa.Date),
        sa.Column(
            "created_by_id", sa.Integer, sa.ForeignKey("users.id", name="fk_land_parcels_created_by_id_users")
        ),
        _ts("created_at"),
        _ts("updated_at"),
        sa.UniqueConstraint("year", "parcel_code", name="uq_land_parcels_year"),
        sa.CheckConstraint("construction_land IN ('stock', 'new')", name="ck_land_parcels_construction_land"),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'in_batch', 'approved')", name="ck_land_parcels_status"
        ),
        sa.CheckConstraint("status <> 'in_batch' OR batch_id IS NOT NULL", name="ck_land_parcels_batch_set"),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="ck_land_parcels_year_range"),
        sa.CheckConstraint("area_m2 > 0", name="ck_land_parcels_area_positive"),
        _valid("geom", "land_parcels"),
    )
    op.create_index("ix_land_parcels_geom_area", "land_parcels", ["geom_area"], postgresql_using="gist")
    op.create_index("ix_land_parcels_geom", "land_parcels", ["geom"], postgresql_using="gist")
    op.create_index("ix_land_parcels_project_id", "land_parcels", ["project_id"])

    op.create_table(
        "land_checks",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "parcel_id",
            sa.Integer,
            sa.ForeignKey(
                "land_parcels.id", name="fk_land_checks_parcel_id_land_parcels", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column(
            "edition_id",
            sa.Integer,
            sa.ForeignKey("plan_editions.id", name="fk_land_checks_edition_id_plan_editions"),
        ),
        _ts("checked_at"),
        sa.Column("sliver_m2", sa.Float, nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("reasons", JSONB, nullable=False, server_default="[]"),
        sa.Column("summary", JSONB, nullable=False, server_default="{}"),
        sa.Column("is_latest", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.CheckConstraint(
            "verdict IN ('compliant', 'needs_adjustment', 'blocked')", name="ck_land_checks_verdict"
        ),
    )
    op.create_index("ix_land_checks_parcel_id", "land_checks", ["parcel_id", "is_latest"])

    op.create_table(
        "land_check_overlaps",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "check_id",
            sa.BigInteger,
            sa.ForeignKey(
                "land_checks.id", name="fk_land_check_overlaps_check_id_land_checks", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("target", sa.String(20), nullable=False),
        sa.Column("target_ref", sa.String(100), nullable=False),
        sa.Column("area_m2", sa.Float, nullable=False),
        sa.Column("share", sa.Float, nullable=False),
        sa.Column("is_sliver", sa.Boolean, nullable=False),
        sa.Column("geom", Geometry("GEOMETRY", srid=STORAGE_SRID, spatial_index=False)),
    )
    op.create_index("ix_land_check_overlaps_check_id", "land_check_overlaps", ["check_id"])


def downgrade() -> None:
    """Drop the land schema."""
    for table in (
        "land_check_overlaps",
        "land_checks",
        "land_parcels",
        "approval_batches",
        "plan_pieces",
        "plan_features",
        "plan_editions",
    ):
        op.drop_table(table)
