"""Reference layers: the county outline and its townships."""

from __future__ import annotations

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gis_data.crs import STORAGE_SRID
from server.db.base import Base


class CountyBoundary(Base):
    """The county outline (CGCS2000), with where it came from."""

    __tablename__ = "county_boundaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    adcode: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    source: Mapped[str] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=STORAGE_SRID))


class Township(Base):
    """A township (乡镇) with its boundary."""

    __tablename__ = "townships"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=True)
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=STORAGE_SRID))
