"""Key projects and their monthly progress."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from gis_data.crs import STORAGE_SRID
from server.models import Project, ProjectProgress, project_responsible_units
from server.permissions import ProjectScope


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectFilter:
    """List filters; every field optional."""

    township_id: int | None = None
    category: str | None = None
    tier: str | None = None
    leader_id: int | None = None
    industry: str | None = None
    status: str | None = None
    list_year: int | None = None
    text: str | None = None
    bbox: tuple[float, float, float, float] | None = None


def _scoped(stmt: Select, scope: ProjectScope) -> Select:
    if scope.all:
        return stmt
    if scope.township_id is not None:
        return stmt.where(Project.township_id == scope.township_id)
    if scope.unit_id is not None:
        responsible = exists().where(
            project_responsible_units.c.project_id == Project.id,
            project_responsible_units.c.unit_id == scope.unit_id,
        )
        return stmt.where(
            or_(
                Project.legal_person_unit_id == scope.unit_id,
                Project.lead_unit_id == scope.unit_id,
                responsible,
            )
        )
    return stmt.where(False)


def _filtered(stmt: Select, f: ProjectFilter) -> Select:
    if f.township_id is not None:
        stmt = stmt.where(Project.township_id == f.township_id)
    if f.category is not None:
        stmt = stmt.where(Project.category == f.category)
    if f.tier is not None:
        stmt = stmt.where(Project.list_tier == f.tier)
    if f.leader_id is not None:
        stmt = stmt.where(Project.leader_id == f.leader_id)
    if f.industry is not None:
        stmt = stmt.where(Project.industry == f.industry)
    if f.status is not None:
        stmt = stmt.where(Project.status == f.status)
    if f.list_year is not None:
        stmt = stmt.where(Project.list_year == f.list_year)
    if f.text:
        pattern = "%" + f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(Project.name.ilike(pattern), Project.code.ilike(pattern), Project.content.ilike(pattern))
        )
    if f.bbox is not None:
        envelope = func.ST_MakeEnvelope(*f.bbox, STORAGE_SRID)
        stmt = stmt.where(Project.site.is_not(None), func.ST_Intersects(Project.site, envelope))
    return stmt


def list_projects(
    session: Session,
    *,
    scope: ProjectScope,
    filters: ProjectFilter,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[Project], int]:
    """One page of projects the scope allows, and the total count matching."""
    base = _filtered(_scoped(select(Project.id), scope), filters)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    stmt = _filtered(_scoped(select(Project), scope), filters).order_by(Project.code)
    if offset:
        stmt = stmt.offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt).unique()), int(total)


def get_project(session: Session, project_id: int, *, for_update: bool = False) -> Project | None:
    """A project by id (optionally locked for update)."""
    if for_update:
        stmt = select(Project).where(Project.id == project_id).with_for_update(of=Project)
        return session.scalars(stmt).unique().first()
    return session.get(Project, project_id)


def project_by_code(session: Session, code: str) -> Project | None:
    """A project by its national project code."""
    return session.scalars(select(Project).where(Project.code == code)).unique().first()


def add_project(session: Session, project: Project) -> Project:
    """Insert a project."""
    session.add(project)
    session.flush()
    return project


def count_projects(session: Session) -> int:
    """How many projects are stored."""
    return int(session.scalar(select(func.count()).select_from(Project)) or 0)


def list_progress(session: Session, project_id: int) -> list[ProjectProgress]:
    """A project's monthly reports, oldest first."""
    stmt = (
        select(ProjectProgress)
        .where(ProjectProgress.project_id == project_id)
        .order_by(ProjectProgress.month)
    )
    return list(session.scalars(stmt))


def get_progress(session: Session, project_id: int, month: dt.date) -> ProjectProgress | None:
    """One month's report."""
    stmt = select(ProjectProgress).where(
        ProjectProgress.project_id == project_id, ProjectProgress.month == month
    )
    return session.scalars(stmt).first()


def add_progress(session: Session, progress: ProjectProgress) -> ProjectProgress:
    """Insert a monthly report (the unique constraint refuses a second one for the month)."""
    session.add(progress)
    session.flush()
    return progress


def progress_photo_ids(session: Session, progress_ids: list[int]) -> dict[int, list[str]]:
    """Photo ids linked to each monthly report."""
    from server.models import progress_photos

    if not progress_ids:
        return {}
    rows = session.execute(
        select(progress_photos.c.progress_id, progress_photos.c.photo_id)
        .where(progress_photos.c.progress_id.in_(progress_ids))
        .order_by(progress_photos.c.photo_id)
    )
    out: dict[int, list[str]] = {}
    for progress_id, photo_id in rows:
        out.setdefault(int(progress_id), []).append(str(photo_id))
    return out


def photo_projects(session: Session, photo_ids: list) -> dict[str, int]:
    """The project of each photo (missing photos are absent)."""
    from server.models import Photo

    if not photo_ids:
        return {}
    rows = session.execute(select(Photo.id, Photo.project_id).where(Photo.id.in_(photo_ids)))
    return {str(pid): int(project) for pid, project in rows}


def link_progress_photos(session: Session, progress_id: int, photo_ids: list) -> None:
    """Attach photos to a monthly report."""
    from sqlalchemy.dialects.postgresql import insert

    from server.models import progress_photos

    if photo_ids:
        session.execute(
            insert(progress_photos)
            .values([{"progress_id": progress_id, "photo_id": p} for p in photo_ids])
            .on_conflict_do_nothing()
        )
