"""Inspections and evidence photos (client UUIDs, content-addressed blobs, verdicts).

Revision ID: 0003_inspections
Revises: 0002_land
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB, UUID

from gis_data.crs import STORAGE_SRID

revision = "0003_inspections"
down_revision = "0002_land"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create inspections, photo blobs and photos."""
    op.create_table(
        "inspections",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", name="fk_inspections_project_id_projects"),
            nullable=False,
        ),
        sa.Column(
            "inspector_id",
            sa.Integer,
            sa.ForeignKey("users.id", name="fk_inspections_inspector_id_users"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("check_date", sa.Date),
        sa.Column("device_lat", sa.Float),
        sa.Column("device_lon", sa.Float),
        sa.Column("device_accuracy_m", sa.Float),
        sa.Column("device_fixed_at", sa.DateTime(timezone=True)),
        sa.Column("findings", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(20), nullable=False, server_default="draft"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("status IN ('draft', 'submitted')", name="ck_inspections_status"),
        sa.CheckConstraint("device_lat IS NULL OR device_lat BETWEEN -90 AND 90", name="ck_inspections_lat"),
        sa.CheckConstraint(
            "device_lon IS NULL OR device_lon BETWEEN -180 AND 180", name="ck_inspections_lon"
        ),
    )
    op.create_index("ix_inspections_project_id", "inspections", ["project_id"])
    op.create_index("ix_inspections_inspector_id", "inspections", ["inspector_id"])

    op.create_table(
        "photo_blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("phash", sa.BigInteger),
        sa.Column("metadata", JSONB, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="ck_photo_blobs_sha256_hex"),
        sa.CheckConstraint("format IN ('jpeg', 'heic')", name="ck_photo_blobs_format"),
    )

    op.create_table(
        "photos",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "inspection_id",
            UUID(as_uuid=True),
            sa.ForeignKey("inspections.id", name="fk_photos_inspection_id_inspections"),
            nullable=False,
        ),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", name="fk_photos_project_id_projects"),
            nullable=False,
        ),
        sa.Column(
            "sha256",
            sa.String(64),
            sa.ForeignKey("photo_blobs.sha256", name="fk_photos_sha256_photo_blobs"),
            nullable=False,
        ),
        sa.Column(
            "uploaded_by_id",
            sa.Integer,
            sa.ForeignKey("users.id", name="fk_photos_uploaded_by_id_users"),
            nullable=False,
        ),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True)),
        sa.Column("exif_point", Geometry("POINT", srid=STORAGE_SRID, spatial_index=False)),
        sa.Column("exif_alt", sa.Float),
        sa.Column("device_point", Geometry("POINT", srid=STORAGE_SRID, spatial_index=False)),
        sa.Column("device_accuracy_m", sa.Float),
        sa.Column("device_fixed_at", sa.DateTime(timezone=True)),
        sa.Column("site_distance_m", sa.Float),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("reasons", JSONB, nullable=False, server_default="[]"),
        sa.CheckConstraint("verdict IN ('accepted', 'suspicious', 'unverifiable')", name="ck_photos_verdict"),
    )
    op.create_index("ix_photos_sha256", "photos", ["sha256"])
    op.create_index("ix_photos_project_id", "photos", ["project_id"])
    op.create_index("ix_photos_inspection_id", "photos", ["inspection_id"])
    op.create_index("ix_photos_exif_point", "photos", ["exif_point"], postgresql_using="gist")


def downgrade() -> None:
    """Drop inspections and photos."""
    for table in ("photos", "photo_blobs", "inspections"):
        op.drop_table(table)
