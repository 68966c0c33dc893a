"""Dashboard and map aggregates: statuses by month, investment by month, township and industry, photos.

``project_ids`` narrows every query to the projects a user may see; ``None`` means every project.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from server.models import (
    CheckPlan,
    Inspection,
    Photo,
    Problem,
    Project,
    ProjectMonthStatus,
    ProjectProgress,
    Township,
    User,
)

#: Statuses that put a project on the lagging list (§16: checked every month).
LAGGING_STATUSES = ("seriously_lagging", "not_started", "lagging")


def _only(stmt: Select, column: Any, project_ids: Sequence[int] | None) -> Select:
    return stmt if project_ids is None else stmt.where(column.in_(list(project_ids)))


def status_months(session: Session, project_ids: Sequence[int] | None = None) -> list[dt.date]:
    """Months with a stored status, newest first."""
    stmt = _only(select(ProjectMonthStatus.month).distinct(), ProjectMonthStatus.project_id, project_ids)
    return sorted((r[0] for r in session.execute(stmt)), reverse=True)


def status_counts(session: Session, month: dt.date, project_ids: Sequence[int] | None) -> dict[str, int]:
    """How many projects have each status at ``month``."""
    stmt = _only(
        select(ProjectMonthStatus.status, func.count())
        .where(ProjectMonthStatus.month == month)
        .group_by(ProjectMonthStatus.status),
        ProjectMonthStatus.project_id,
        project_ids,
    )
    return {status: int(n) for status, n in session.execute(stmt)}


def count_listed(session: Session, year: int, project_ids: Sequence[int] | None) -> int:
    """Projects on ``year``'s list."""
    stmt = _only(
        select(func.count()).select_from(Project).where(Project.list_year == year), Project.id, project_ids
    )
    return int(session.scalar(stmt) or 0)


def annual_plans(session: Session, year: int, project_ids: Sequence[int] | None) -> list[Decimal]:
    """The annual planned investment of each project on ``year``'s list."""
    stmt = _only(select(Project.annual_plan_yuan).where(Project.list_year == year), Project.id, project_ids)
    return [Decimal(r[0]) for r in session.execute(stmt)]


def completed_by_month(
    session: Session, year: int, project_ids: Sequence[int] | None
) -> dict[dt.date, Decimal]:
    """Investment completed in each month of ``year`` by the projects on that year's list."""
    stmt = _only(
        select(ProjectProgress.month, func.sum(ProjectProgress.amount_completed_yuan))
        .join(Project, Project.id == ProjectProgress.project_id)
        .where(
            Project.list_year == year,
            ProjectProgress.month >= dt.date(year, 1, 1),
            ProjectProgress.month <= dt.date(year, 12, 1),
        )
        .group_by(ProjectProgress.month),
        Project.id,
        project_ids,
    )
    return {month: Decimal(total) for month, total in session.execute(stmt)}


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Figures of one township or industry at a month."""

    key: str
    name: str
    projects: int
    annual_plan_yuan: Decimal
    ytd_completed_yuan: Decimal
    ytd_expected_yuan: Decimal
    lagging: int


def breakdown(
    session: Session, *, year: int, month: dt.date, by: str, project_ids: Sequence[int] | None
) -> list[Breakdown]:
    """Projects on ``year``'s list grouped by township or industry, largest annual plan first."""
    if by == "township":
        key, name = Township.id, Township.name
        group = (Township.id, Township.name)
    elif by == "industry":
        key, name = Project.industry, Project.industry
        group = (Project.industry,)
    else:
        raise ValueError(f"unknown breakdown {by!r}")
    status = ProjectMonthStatus
    stmt = (
        select(
            key,
            name,
            func.count(Project.id),
            func.coalesce(func.sum(Project.annual_plan_yuan), 0),
            func.coalesce(func.sum(status.ytd_completed_yuan), 0),
            func.coalesce(func.sum(status.ytd_expected_yuan), 0),
            func.count(status.id).filter(status.status.in_(LAGGING_STATUSES)),
        )
        .select_from(Project)
        .join(Township, Township.id == Project.township_id)
        .outerjoin(status, and_(status.project_id == Project.id, status.month == month))
        .where(Project.list_year == year)
        .group_by(*group)
        .order_by(func.sum(Project.annual_plan_yuan).desc(), name)
    )
    stmt = _only(stmt, Project.id, project_ids)
    return [
        Breakdown(str(k), str(n), int(c), Decimal(a), Decimal(y), Decimal(e), int(lag))
        for k, n, c, a, y, e, lag in session.execute(stmt)
    ]


@dataclass(frozen=True, slots=True)
class StatusRow:
    """A project with its status at a month (for the lagging list and 'my projects')."""

    project_id: int
    code: str
    name: str
    township: str
    leader_id: int
    leader: str
    annual_plan_yuan: Decimal
    status: str | None
    ratio: float | None
    ytd_completed_yuan: Decimal | None
    ytd_expected_yuan: Decimal | None


def status_rows(
    session: Session,
    month: dt.date | None,
    *,
    project_ids: Sequence[int] | None,
    statuses: Sequence[str] | None = None,
    leader_id: int | None = None,
    year: int | None = None,
) -> list[StatusRow]:
    """Projects with their status at ``month`` (None where no status is stored), filtered."""
    status = ProjectMonthStatus
    join_on = status.project_id == Project.id
    join_on = and_(join_on, status.month == month) if month is not None else and_(join_on, False)
    stmt = (
        select(
            Project.id,
            Project.code,
            Project.name,
            Township.name,
            User.id,
            User.full_name,
            Project.annual_plan_yuan,
            status.status,
            status.ratio,
            status.ytd_completed_yuan,
            status.ytd_expected_yuan,
        )
        .select_from(Project)
        .join(Township, Township.id == Project.township_id)
        .join(User, User.id == Project.leader_id)
        .outerjoin(status, join_on)
        .order_by(Project.code)
    )
    if statuses is not None:
        stmt = stmt.where(status.status.in_(list(statuses)))
    if leader_id is not None:
        stmt = stmt.where(Project.leader_id == leader_id)
    if year is not None:
        stmt = stmt.where(Project.list_year == year)
    stmt = _only(stmt, Project.id, project_ids)
    return [
        StatusRow(
            int(pid),
            code,
            name,
            town,
            int(lid),
            leader,
            Decimal(plan),
            st,
            ratio,
            Decimal(done) if done is not None else None,
            Decimal(expected) if expected is not None else None,
        )
        for pid, code, name, town, lid, leader, plan, st, ratio, done, expected in session.execute(stmt)
    ]


def statuses_at(
    session: Session, month: dt.date, project_ids: Sequence[int]
) -> dict[int, ProjectMonthStatus]:
    """The stored statuses of some projects at ``month``."""
    if not project_ids:
        return {}
    rows = session.scalars(
        select(ProjectMonthStatus).where(
            ProjectMonthStatus.month == month, ProjectMonthStatus.project_id.in_(list(project_ids))
        )
    )
    return {r.project_id: r for r in rows}


def last_progress(session: Session, project_ids: Sequence[int]) -> dict[int, ProjectProgress]:
    """Each project's latest monthly report."""
    if not project_ids:
        return {}
    latest = (
        select(ProjectProgress.project_id, func.max(ProjectProgress.month).label("month"))
        .where(ProjectProgress.project_id.in_(list(project_ids)))
        .group_by(ProjectProgress.project_id)
        .subquery()
    )
    rows = session.scalars(
        select(ProjectProgress).join(
            latest,
            and_(ProjectProgress.project_id == latest.c.project_id, ProjectProgress.month == latest.c.month),
        )
    )
    return {r.project_id: r for r in rows}


def problem_counts(
    session: Session, project_ids: Sequence[int], today: dt.date
) -> dict[int, tuple[int, int]]:
    """(open, overdue) problems of some projects."""
    if not project_ids:
        return {}
    open_ = Problem.status != "closed"
    rows = session.execute(
        select(
            Problem.project_id,
            func.count().filter(open_),
            func.count().filter(and_(open_, Problem.deadline < today)),
        )
        .where(Problem.project_id.in_(list(project_ids)))
        .group_by(Problem.project_id)
    )
    return {int(p): (int(o), int(d)) for p, o, d in rows}


def industries(session: Session, project_ids: Sequence[int] | None = None) -> list[str]:
    """The industries of the list, alphabetically."""
    stmt = _only(select(Project.industry).distinct(), Project.id, project_ids)
    return sorted(r[0] for r in session.execute(stmt))


def industry_exists(session: Session, industry: str) -> bool:
    """Whether any project is in ``industry``."""
    return session.scalar(select(func.count()).select_from(Project).where(Project.industry == industry)) > 0


@dataclass(frozen=True, slots=True)
class PhotoRow:
    """An evidence photo with its location (EXIF, else the phone's fix), if any."""

    id: str
    project_id: int
    inspection_id: str
    taken_at: dt.datetime | None
    uploaded_at: dt.datetime
    verdict: str
    site_distance_m: float | None
    lon: float | None
    lat: float | None


def photos(
    session: Session,
    project_ids: Sequence[int] | None,
    *,
    settled_only: bool,
    located_only: bool = True,
    limit: int | None = None,
) -> list[PhotoRow]:
    """Photos of some projects, newest first.

    ``settled_only`` keeps photos of submitted inspections whose check (if any) has been carried out:
    a photo of a check still under way would tell the project side that a secret check is happening.
    """
    point = func.coalesce(Photo.exif_point, Photo.device_point)
    stmt = select(Photo, point.label("point")).order_by(
        func.coalesce(Photo.taken_at, Photo.uploaded_at).desc(), Photo.id
    )
    if located_only:
        stmt = stmt.where(point.is_not(None))
    if settled_only:
        stmt = (
            stmt.join(Inspection, Inspection.id == Photo.inspection_id)
            .outerjoin(CheckPlan, CheckPlan.id == Inspection.check_plan_id)
            .where(
                Inspection.status == "submitted",
                or_(Inspection.check_plan_id.is_(None), CheckPlan.status == "carried_out"),
            )
        )
    stmt = _only(stmt, Photo.project_id, project_ids)
    if limit is not None:
        stmt = stmt.limit(limit)
    out = []
    for photo, geom in session.execute(stmt):
        located = to_shape(geom) if geom is not None else None
        out.append(
            PhotoRow(
                id=str(photo.id),
                project_id=photo.project_id,
                inspection_id=str(photo.inspection_id),
                taken_at=photo.taken_at,
                uploaded_at=photo.uploaded_at,
                verdict=photo.verdict,
                site_distance_m=photo.site_distance_m,
                lon=located.x if located is not None else None,
                lat=located.y if located is not None else None,
            )
        )
    return out
