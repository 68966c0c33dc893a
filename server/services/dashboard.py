"""The leaders' dashboard: counts by status, investment against the plan by month, by township and
industry, the lagging list, a leader's own projects and overdue problems.

Every figure covers only the projects the user may see: the county side sees the county, a project unit
its projects, a township its township.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from maps import style
from server import supervision_rules
from server.domain import Role
from server.errors import NotFound
from server.models import User
from server.permissions import project_scope
from server.repositories import dashboard as repo
from server.services import progress_map as map_service
from server.services import supervision

CENT = Decimal("0.01")
#: Lagging list order: the worst first (§16: all lagging projects are checked monthly).
_LAG_ORDER = {code: i for i, code in enumerate(repo.LAGGING_STATUSES)}


def _yuan(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(CENT))


def _rate(done: Decimal, target: Decimal) -> float | None:
    return round(float(done / target), 4) if target > 0 else None


def _scope_name(actor: User) -> str:
    scope = project_scope(actor)
    if scope.all:
        return "county"
    return "township" if scope.township_id is not None else "unit"


def resolve_month(session: Session, month: dt.date | None) -> tuple[dt.date | None, list[dt.date]]:
    """The dispatch month asked for (or the latest), and every month with statuses; unknown -> 404."""
    months = repo.status_months(session)
    if month is None:
        return (months[0] if months else None), months
    month = month.replace(day=1)
    if month not in months:
        latest = months[0].strftime("%Y-%m") if months else "无"
        raise NotFound(
            f"{month.strftime('%Y-%m')} 尚无月度调度数据（最近一次为 {latest}）。",
            code="status_month_not_found",
            extra={"months": [m.strftime("%Y-%m") for m in months]},
        )
    return month, months


def monthly_investment(
    session: Session, *, year: int, through: int, project_ids: list[int] | None
) -> list[dict[str, Any]]:
    """Each month of ``year``: planned (by the plan curve) and completed, per month and cumulative."""
    rules = supervision.DEFAULT_PROGRESS_RULES
    plans = repo.annual_plans(session, year, project_ids)
    completed = repo.completed_by_month(session, year, project_ids)
    out = []
    running = Decimal(0)
    previous_plan = Decimal(0)
    for m in range(1, 13):
        planned_cum = sum((supervision_rules.expected_by(p, m, rules) for p in plans), Decimal(0))
        done = completed.get(dt.date(year, m, 1), Decimal(0))
        running += done
        reported = m <= through
        out.append(
            {
                "month": f"{year}-{m:02d}",
                "planned_yuan": _yuan(planned_cum - previous_plan),
                "planned_cumulative_yuan": _yuan(planned_cum),
                "completed_yuan": _yuan(done) if reported else None,
                "completed_cumulative_yuan": _yuan(running) if reported else None,
                "rate": _rate(running, planned_cum) if reported else None,
            }
        )
        previous_plan = planned_cum
    return out


def _breakdown(rows: list[repo.Breakdown]) -> list[dict[str, Any]]:
    return [
        {
            "key": r.key,
            "name": r.name,
            "projects": r.projects,
            "lagging": r.lagging,
            "annual_plan_yuan": _yuan(r.annual_plan_yuan),
            "ytd_completed_yuan": _yuan(r.ytd_completed_yuan),
            "ytd_expected_yuan": _yuan(r.ytd_expected_yuan),
            "completion_rate": _rate(r.ytd_completed_yuan, r.annual_plan_yuan),
            "schedule_rate": _rate(r.ytd_completed_yuan, r.ytd_expected_yuan),
        }
        for r in rows
    ]


def _status_row(r: repo.StatusRow) -> dict[str, Any]:
    s = style.status_style(r.status)
    return {
        "project_id": r.project_id,
        "code": r.code,
        "name": r.name,
        "township": r.township,
        "leader_id": r.leader_id,
        "leader": r.leader,
        "status": s.code,
        "status_label": s.label,
        "status_color": s.color,
        "ratio": r.ratio,
        "annual_plan_yuan": _yuan(r.annual_plan_yuan),
        "ytd_completed_yuan": _yuan(r.ytd_completed_yuan),
        "ytd_expected_yuan": _yuan(r.ytd_expected_yuan),
        "url": f"/projects/{r.project_id}",
    }


def dashboard(
    session: Session, actor: User, *, month: dt.date | None = None, today: dt.date | None = None
) -> dict[str, Any]:
    """The dashboard for ``actor`` at the latest (or the given) monthly dispatch."""
    today = today or dt.date.today()
    month, months = resolve_month(session, month)
    ids = map_service.visible_ids(session, actor)
    year = month.year if month is not None else today.year
    counts: Counter[str] = Counter(repo.status_counts(session, month, ids) if month is not None else {})
    listed = repo.count_listed(session, year, ids)
    without = listed - sum(counts.values())
    if without > 0:
        counts[style.NO_DATA] += without
    lagging = (
        [
            _status_row(r)
            for r in repo.status_rows(session, month, project_ids=ids, statuses=repo.LAGGING_STATUSES)
        ]
        if month is not None
        else []
    )
    lagging.sort(key=lambda r: (_LAG_ORDER[r["status"]], r["ratio"] if r["ratio"] is not None else 0.0))
    mine = None
    if actor.role == Role.LEADER:
        mine = [
            _status_row(r)
            for r in repo.status_rows(session, month, project_ids=ids, leader_id=actor.id, year=year)
        ]
    overdue = [
        {
            "id": p["id"],
            "project_id": p["project_id"],
            "project_name": p["project_name"],
            "description": p["description"],
            "responsible_unit": p["responsible_unit"]["name"],
            "found_on": p["found_on"],
            "deadline": p["deadline"],
            "days_overdue": (today - dt.date.fromisoformat(p["deadline"])).days,
            "escalated": p["escalated"],
            "status": p["status"],
            "url": f"/projects/{p['project_id']}",
        }
        for p in supervision.list_problems(session, actor, today=today, open_only=True)
        if p["overdue"]
    ]
    overdue.sort(key=lambda p: (-p["days_overdue"], p["id"]))
    through = month.month if month is not None and month.year == year else 0
    return {
        "month": month.strftime("%Y-%m") if month else None,
        "months": [m.strftime("%Y-%m") for m in months],
        "year": year,
        "today": today.isoformat(),
        "scope": _scope_name(actor),
        "role": actor.role,
        "projects": listed,
        "status_counts": [
            {"status": s.code, "label": s.label, "color": s.color, "count": counts.get(s.code, 0)}
            for s in style.STATUS_STYLES
        ],
        "monthly": monthly_investment(session, year=year, through=through, project_ids=ids),
        "by_township": _breakdown(
            repo.breakdown(
                session, year=year, month=month or dt.date(year, 1, 1), by="township", project_ids=ids
            )
        ),
        "by_industry": _breakdown(
            repo.breakdown(
                session, year=year, month=month or dt.date(year, 1, 1), by="industry", project_ids=ids
            )
        ),
        "lagging": lagging,
        "my_projects": mine,
        "overdue_problems": overdue,
    }
