"""Land: plan editions and their layers, land-demand parcels, approval batches and conflict checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gis_data.crs import AREA_SRID, STORAGE_SRID
from server.db.base import Base
from server.models.project import Project


class PlanEdition(Base):
    """One delivery of the land-use plan (a new edition never replaces an old one)."""

    __tablename__ = "plan_editions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    report: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class PlanFeature(Base):
    """A polygon of one plan layer in one edition (CGCS2000), with its projected copy for overlay."""

    __tablename__ = "plan_features"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("plan_editions.id", ondelete="CASCADE"))
    layer: Mapped[str] = mapped_column(String(20))
    class_code: Mapped[str | None] = mapped_column(String(20))
    class_name: Mapped[str | None] = mapped_column(String(100))
    source_file: Mapped[str] = mapped_column(String(300))
    source_index: Mapped[int] = mapped_column(Integer)
    repaired: Mapped[bool] = mapped_column(Boolean, default=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False))
    geom_area: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=AREA_SRID, spatial_index=False)
    )


class ApprovalBatch(Base):
    """An approval batch (用地报批批次) of a year."""

    __tablename__ = "approval_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LandParcel(Base):
    """A land-demand parcel (用地需求) of a project for a year."""

    __tablename__ = "land_parcels"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    parcel_code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    land_class: Mapped[str | None] = mapped_column(String(20))
    land_use: Mapped[str | None] = mapped_column(String(100))
    construction_land: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("approval_batches.id"))
    zone: Mapped[int] = mapped_column(Integer)
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False))
    geom_area: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=AREA_SRID, spatial_index=False)
    )
    area_m2: Mapped[float] = mapped_column(Float)
    ellipsoidal_area_m2: Mapped[float] = mapped_column(Float)
    declared_area_ha: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_late: Mapped[bool] = mapped_column(Boolean, default=False)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    project: Mapped[Project] = relationship(lazy="joined")
    batch: Mapped[ApprovalBatch | None] = relationship(lazy="joined")


class LandCheck(Base):
    """One conflict check of a parcel against one plan edition, with its verdict."""

    __tablename__ = "land_checks"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("land_parcels.id", ondelete="CASCADE"))
    edition_id: Mapped[int | None] = mapped_column(ForeignKey("plan_editions.id"))
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sliver_m2: Mapped[float] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    is_latest: Mapped[bool] = mapped_column(Boolean, default=True)


class LandCheckOverlap(Base):
    """One overlap piece found by a check: with a plan layer, a land-use class or another parcel."""

    __tablename__ = "land_check_overlaps"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("land_checks.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(20))
    target_ref: Mapped[str] = mapped_column(String(100))
    area_m2: Mapped[float] = mapped_column(Float)
    share: Mapped[float] = mapped_column(Float)
    is_sliver: Mapped[bool] = mapped_column(Boolean)
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("GEOMETRY", srid=STORAGE_SRID, spatial_index=False)
    )


#: Plan polygons cut into small pieces (ST_Subdivide) in the area CRS: what overlay queries read.  A piece
#: cut from a layer dissolved within a tile belongs to no single feature (``feature_id`` NULL).
plan_pieces = Table(
    "plan_pieces",
    Base.metadata,
    Column("id", BigInteger, primary_key=True),
    Column("feature_id", BigInteger, ForeignKey("plan_features.id", ondelete="CASCADE")),
    Column("edition_id", Integer, ForeignKey("plan_editions.id", ondelete="CASCADE"), nullable=False),
    Column("layer", String(20), nullable=False),
    Column("class_code", String(20)),
    Column("geom", Geometry("POLYGON", srid=AREA_SRID, spatial_index=False), nullable=False),
)
