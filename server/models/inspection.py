"""Inspections (督查记录) and their evidence photos; photo files are content-addressed blobs."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, Date, DateTime, Float, ForeignKey, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from gis_data.crs import STORAGE_SRID
from server.db.base import Base


class Inspection(Base):
    """One visit to a project site by an inspector, identified by a client-generated UUID."""

    __tablename__ = "inspections"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    check_date: Mapped[dt.date | None] = mapped_column(Date)
    device_lat: Mapped[float | None] = mapped_column(Float)
    device_lon: Mapped[float | None] = mapped_column(Float)
    device_accuracy_m: Mapped[float | None] = mapped_column(Float)
    device_fixed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    findings: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    check_plan_id: Mapped[int | None] = mapped_column(ForeignKey("check_plans.id"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("inspections.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PhotoBlob(Base):
    """A stored original file, by SHA-256 (a repeat upload of the same bytes is stored once)."""

    __tablename__ = "photo_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str] = mapped_column(String(10))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    phash: Mapped[int | None] = mapped_column(BigInteger)
    metadata_json: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Photo(Base):
    """An evidence photo in an inspection: the client's UUID, its blob, locations and verdict."""

    __tablename__ = "photos"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    sha256: Mapped[str] = mapped_column(ForeignKey("photo_blobs.sha256"))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    filename: Mapped[str] = mapped_column(String(200))
    taken_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    exif_point: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=STORAGE_SRID, spatial_index=False)
    )
    exif_alt: Mapped[float | None] = mapped_column(Float)
    device_point: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=STORAGE_SRID, spatial_index=False)
    )
    device_accuracy_m: Mapped[float | None] = mapped_column(Float)
    device_fixed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    site_distance_m: Mapped[float | None] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
