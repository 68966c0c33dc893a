"""Supervision SQL: year-to-date progress, status history, check plans, problems, letters, visits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis_data.crs import STORAGE_SRID
from server.models import (
    CheckPlan,
    Inspection,
    LeaderMeeting,
    Letter,
    Problem,
    Project,
    ProjectMonthStatus,
    RandomDraw,
    check_plan_inspectors,
    check_plan_projects,
    problem_photos,
)


def ytd_completed(session: Session, year: int, month: dt.date) -> dict[int, Decimal]:
    """Completed investment from January to ``month`` of ``year``, by project."""
    rows = session.execute(
        text(
            """
            SELECT project_id, SUM(amount_completed_yuan) FROM project_progress
            WHERE month >= make_date(:year, 1, 1) AND month <= :month GROUP BY project_id
            """
        ),
        {"year": year, "month": month},
    )
    return {int(pid): Decimal(total) for pid, total in rows}


def projects_of_year(session: Session, year: int) -> list[Project]:
    """Projects on a year's list."""
    return list(
        session.scalars(select(Project).where(Project.list_year == year).order_by(Project.id)).unique()
    )


def upsert_month_status(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store (or replace) month statuses."""
    if not rows:
        return
    stmt = insert(ProjectMonthStatus).values(list(rows))
    stmt = stmt.on_conflict_do_update(
        constraint="uq_project_month_status_project_id",
        set_={c: stmt.excluded[c] for c in ("status", "ytd_completed_yuan", "ytd_expected_yuan", "ratio")}
        | {"computed_at": func.now()},
    )
    session.execute(stmt)


def status_history(
    session: Session, project_ids: Sequence[int] | None = None, *, since: dt.date | None = None
) -> list[ProjectMonthStatus]:
    """Month statuses, oldest first."""
    stmt = select(ProjectMonthStatus).order_by(ProjectMonthStatus.project_id, ProjectMonthStatus.month)
    if project_ids is not None:
        stmt = stmt.where(ProjectMonthStatus.project_id.in_(list(project_ids)))
    if since is not None:
        stmt = stmt.where(ProjectMonthStatus.month >= since)
    return list(session.scalars(stmt))


def latest_statuses(session: Session, month: dt.date) -> dict[int, ProjectMonthStatus]:
    """Each project's status at ``month``."""
    rows = session.scalars(select(ProjectMonthStatus).where(ProjectMonthStatus.month == month))
    return {r.project_id: r for r in rows}


def months_without_investment(session: Session, month: dt.date, months: int) -> set[int]:
    """Projects under construction with no completed investment in the last ``months`` months."""
    rows = session.execute(
        text(
            """
            SELECT p.id FROM projects p
            WHERE p.status = 'under_construction' AND NOT EXISTS (
                SELECT 1 FROM project_progress g WHERE g.project_id = p.id AND g.amount_completed_yuan > 0
                  AND g.month > (:month::date - make_interval(months => :months)) AND g.month <= :month)
            """
        ),
        {"month": month, "months": months},
    )
    return {int(r[0]) for r in rows}


def projects_with_unapproved_land(session: Session, year: int) -> set[int]:
    """Projects with a parcel of the year that is blocked or not yet approved."""
    rows = session.execute(
        text(
            """
            SELECT DISTINCT p.project_id FROM land_parcels p
            LEFT JOIN land_checks c ON c.parcel_id = p.id AND c.is_latest
            WHERE p.year = :year AND (p.status <> 'approved' OR c.verdict = 'blocked')
            """
        ),
        {"year": year},
    )
    return {int(r[0]) for r in rows}


def add(session: Session, row: Any) -> Any:
    """Insert any supervision row."""
    session.add(row)
    session.flush()
    return row


def get_plan(session: Session, plan_id: int) -> CheckPlan | None:
    """A check plan by id."""
    return session.get(CheckPlan, plan_id)


def list_plans(
    session: Session,
    *,
    carried_out_only: bool = False,
    project_ids: Sequence[int] | None = None,
    inspector_id: int | None = None,
) -> list[CheckPlan]:
    """Check plans, newest first; filters for what a role may see."""
    stmt = select(CheckPlan).order_by(CheckPlan.planned_date.desc(), CheckPlan.id.desc())
    if carried_out_only:
        stmt = stmt.where(CheckPlan.status == "carried_out")
    if project_ids is not None:
        stmt = stmt.where(
            CheckPlan.id.in_(
                select(check_plan_projects.c.plan_id).where(
                    check_plan_projects.c.project_id.in_(list(project_ids))
                )
            )
        )
    if inspector_id is not None:
        stmt = stmt.where(
            CheckPlan.id.in_(
                select(check_plan_inspectors.c.plan_id).where(check_plan_inspectors.c.user_id == inspector_id)
            )
        )
    return list(session.scalars(stmt))


def get_draw(session: Session, draw_id: int) -> RandomDraw | None:
    """A random draw by id."""
    return session.get(RandomDraw, draw_id)


def submitted_inspected_projects(session: Session, plan_id: int) -> set[int]:
    """Projects of a plan that have a submitted inspection under it."""
    rows = session.execute(
        select(Inspection.project_id).where(
            Inspection.check_plan_id == plan_id, Inspection.status == "submitted"
        )
    )
    return {int(r[0]) for r in rows}


def get_problem(session: Session, problem_id: int) -> Problem | None:
    """A problem by id."""
    return session.get(Problem, problem_id)


def list_problems(
    session: Session,
    *,
    project_ids: Sequence[int] | None = None,
    unit_id: int | None = None,
    open_only: bool = False,
) -> list[Problem]:
    """Problems, newest first."""
    stmt = select(Problem).order_by(Problem.deadline, Problem.id)
    if project_ids is not None:
        stmt = stmt.where(Problem.project_id.in_(list(project_ids)))
    if unit_id is not None:
        stmt = stmt.where(Problem.responsible_unit_id == unit_id)
    if open_only:
        stmt = stmt.where(Problem.status != "closed")
    return list(session.scalars(stmt).unique())


def problem_photo_ids(session: Session, problem_id: int) -> dict[str, list[str]]:
    """Before and after photo ids of a problem."""
    rows = session.execute(
        select(problem_photos.c.photo_id, problem_photos.c.phase).where(
            problem_photos.c.problem_id == problem_id
        )
    )
    out: dict[str, list[str]] = {"before": [], "after": []}
    for photo_id, phase in rows:
        out[phase].append(str(photo_id))
    return out


def add_problem_photos(session: Session, problem_id: int, photo_ids: Sequence[Any], phase: str) -> None:
    """Attach photos to a problem (repeats are ignored)."""
    if not photo_ids:
        return
    stmt = (
        insert(problem_photos)
        .values([{"problem_id": problem_id, "photo_id": p, "phase": phase} for p in photo_ids])
        .on_conflict_do_nothing()
    )
    session.execute(stmt)


def problem_counts(session: Session, today: dt.date) -> dict[int, tuple[int, int]]:
    """(open, overdue) problem counts by project."""
    rows = session.execute(
        text(
            """
            SELECT project_id, COUNT(*) FILTER (WHERE status <> 'closed'),
                   COUNT(*) FILTER (WHERE status <> 'closed' AND deadline < :today)
            FROM problems GROUP BY project_id
            """
        ),
        {"today": today},
    )
    return {int(p): (int(o), int(d)) for p, o, d in rows}


def get_letter(session: Session, letter_id: int) -> Letter | None:
    """A letter by id."""
    return session.get(Letter, letter_id)


def list_letters(
    session: Session,
    *,
    project_ids: Sequence[int] | None = None,
    issued_only: bool = False,
    status: str | None = None,
) -> list[Letter]:
    """Letters, newest first."""
    stmt = select(Letter).order_by(Letter.proposed_at.desc(), Letter.id.desc())
    if project_ids is not None:
        stmt = stmt.where(Letter.project_id.in_(list(project_ids)))
    if issued_only:
        stmt = stmt.where(Letter.status == "issued")
    if status is not None:
        stmt = stmt.where(Letter.status == status)
    return list(session.scalars(stmt).unique())


def last_issued_letters(session: Session) -> dict[int, tuple[str, dt.date]]:
    """The latest issued letter (kind, date) of each project."""
    rows = session.execute(
        text(
            """
            SELECT DISTINCT ON (project_id) project_id, kind, issued_at::date FROM letters
            WHERE status = 'issued' ORDER BY project_id, issued_at DESC
            """
        )
    )
    return {int(p): (k, d) for p, k, d in rows}


def pending_letter_projects(session: Session) -> set[int]:
    """Projects that already have a proposed letter waiting for review."""
    rows = session.execute(select(Letter.project_id).where(Letter.status == "proposed"))
    return {int(r[0]) for r in rows}


def next_letter_serial(session: Session, year: int) -> int:
    """The next free letter number of the year."""
    current = session.scalar(select(func.max(Letter.serial)).where(Letter.year == year))
    return int(current or 0) + 1


def leader_visits(session: Session, month: dt.date, buffer_m: float) -> dict[tuple[int, int], int]:
    """Site visits per (leader, project) in a month: distinct days with a leader's own inspection whose
    device fix or a geotagged photo lies within ``buffer_m`` of the site."""
    rows = session.execute(
        text(
            """
            SELECT i.inspector_id, i.project_id, COUNT(DISTINCT i.started_at::date)
            FROM inspections i
            JOIN users u ON u.id = i.inspector_id AND u.role = 'leader'
            JOIN projects p ON p.id = i.project_id AND p.site IS NOT NULL
            WHERE date_trunc('month', i.started_at)::date = :month
              AND (
                (i.device_lat IS NOT NULL AND ST_DWithin(
                    p.site::geography,
                    ST_SetSRID(ST_MakePoint(i.device_lon, i.device_lat), :srid)::geography,
                    :buffer))
                OR EXISTS (SELECT 1 FROM photos ph
                           WHERE ph.inspection_id = i.id AND ph.site_distance_m <= :buffer))
            GROUP BY i.inspector_id, i.project_id
            """
        ),
        {"month": month, "buffer": buffer_m, "srid": STORAGE_SRID},
    )
    return {(int(a), int(b)): int(c) for a, b, c in rows}


def leader_meetings_count(session: Session, month: dt.date) -> dict[int, int]:
    """Progress meetings per leader in a month."""
    end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    rows = session.execute(
        select(LeaderMeeting.leader_id, func.count())
        .where(LeaderMeeting.held_on >= month, LeaderMeeting.held_on < end)
        .group_by(LeaderMeeting.leader_id)
    )
    return {int(a): int(b) for a, b in rows}


def projects_visible_ids(session: Session, *, unit_id: int | None, township_id: int | None) -> list[int]:
    """Ids of projects a unit or township works on."""
    stmt = select(Project.id)
    if township_id is not None:
        stmt = stmt.where(Project.township_id == township_id)
    elif unit_id is not None:
        stmt = stmt.where(or_(Project.legal_person_unit_id == unit_id, Project.lead_unit_id == unit_id))
    return [int(r[0]) for r in session.execute(stmt)]
