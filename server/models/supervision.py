"""Supervision: monthly status history, check plans and draws, problems, letters, leaders' meetings."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import Base
from server.models.project import Project
from server.models.unit import Unit, User


class ProjectMonthStatus(Base):
    """A project's status at the end of a month (the history kept month by month)."""

    __tablename__ = "project_month_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    month: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    ytd_completed_yuan: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    ytd_expected_yuan: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    ratio: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RandomDraw(Base):
    """A 双随机 draw: its seed and inputs, so anyone can re-run it and get the same result."""

    __tablename__ = "random_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    seed: Mapped[int] = mapped_column(BigInteger)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


check_plan_projects = Table(
    "check_plan_projects",
    Base.metadata,
    Column("plan_id", ForeignKey("check_plans.id", ondelete="CASCADE"), primary_key=True),
    Column("project_id", ForeignKey("projects.id"), primary_key=True),
)
check_plan_inspectors = Table(
    "check_plan_inspectors",
    Base.metadata,
    Column("plan_id", ForeignKey("check_plans.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
)


class CheckPlan(Base):
    """A planned check (日常/定期/专项督查); secret from project units and townships until carried out."""

    __tablename__ = "check_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    planned_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="planned")
    notes: Mapped[str] = mapped_column(Text, default="")
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("random_draws.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    carried_out_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    projects: Mapped[list[Project]] = relationship(
        secondary=check_plan_projects, lazy="selectin", order_by=Project.id
    )
    inspectors: Mapped[list[User]] = relationship(
        secondary=check_plan_inspectors, lazy="selectin", order_by=User.id
    )


class Problem(Base):
    """A problem on the problem list (问题清单), tracked to closure."""

    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    inspection_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("inspections.id"))
    description: Mapped[str] = mapped_column(Text)
    responsible_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    found_on: Mapped[dt.date] = mapped_column(Date)
    deadline: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    rectification_note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    escalated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    project: Mapped[Project] = relationship(lazy="joined")
    responsible_unit: Mapped[Unit] = relationship(lazy="joined")


problem_photos = Table(
    "problem_photos",
    Base.metadata,
    Column("problem_id", ForeignKey("problems.id", ondelete="CASCADE"), primary_key=True),
    Column("photo_id", UUID(as_uuid=True), ForeignKey("photos.id"), primary_key=True),
    Column("phase", String(10), nullable=False),
)


progress_photos = Table(
    "project_progress_photos",
    Base.metadata,
    Column("progress_id", ForeignKey("project_progress.id", ondelete="CASCADE"), primary_key=True),
    Column("photo_id", UUID(as_uuid=True), ForeignKey("photos.id"), primary_key=True),
)


class Letter(Base):
    """A §11 letter (提醒函/推进函/督办函): proposed by the rules, reviewed and issued by the admin."""

    __tablename__ = "letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    serial: Mapped[int | None] = mapped_column(Integer)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    addressee_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    rule: Mapped[str] = mapped_column(String(60))
    facts: Mapped[str] = mapped_column(Text)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    proposed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    issued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    document_key: Mapped[str | None] = mapped_column(String(80))

    project: Mapped[Project] = relationship(lazy="joined")
    addressee: Mapped[Unit] = relationship(lazy="joined")


class LeaderMeeting(Base):
    """A progress meeting (推进会) held by the leader in charge of a project (§6)."""

    __tablename__ = "leader_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    held_on: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
