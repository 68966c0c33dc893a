"""Key projects (重点建设项目), their responsible units and monthly progress."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Column, Date, DateTime, Float, ForeignKey, Integer, Numeric, String, Table, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gis_data.crs import STORAGE_SRID
from server.db.base import Base
from server.models.reference import Township
from server.models.unit import Unit, User

project_responsible_units = Table(
    "project_responsible_units",
    Base.metadata,
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id"), primary_key=True),
)


class Project(Base):
    """One key project on the county list, managed on the five list items (§16)."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    industry: Mapped[str] = mapped_column(String(50))
    township_id: Mapped[int] = mapped_column(ForeignKey("townships.id"))
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    legal_person_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    content: Mapped[str] = mapped_column(Text)
    total_investment_yuan: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    annual_plan_yuan: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    threshold_exemption: Mapped[str | None] = mapped_column(String(20))
    planned_start: Mapped[dt.date] = mapped_column(Date)
    list_year: Mapped[int] = mapped_column(Integer)
    energy_tce: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))
    list_tier: Mapped[str] = mapped_column(String(20))
    energy_review_level: Mapped[str] = mapped_column(String(30))
    site: Mapped[WKBElement | None] = mapped_column(Geometry("GEOMETRY", srid=STORAGE_SRID))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    township: Mapped[Township] = relationship(lazy="joined")
    lead_unit: Mapped[Unit] = relationship(foreign_keys=[lead_unit_id], lazy="joined")
    legal_person_unit: Mapped[Unit] = relationship(foreign_keys=[legal_person_unit_id], lazy="joined")
    leader: Mapped[User] = relationship(lazy="joined")
    responsible_units: Mapped[list[Unit]] = relationship(
        secondary=project_responsible_units, lazy="selectin", order_by=Unit.id
    )


class ProjectProgress(Base):
    """Monthly investment progress of a project (§16 月投资进度)."""

    __tablename__ = "project_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    month: Mapped[dt.date] = mapped_column(Date)
    amount_completed_yuan: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    physical_progress: Mapped[str] = mapped_column(Text, default="")
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
