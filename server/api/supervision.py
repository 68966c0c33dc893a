"""Supervision: monthly status, checks and random draws, problems, letters, leaders, work lists."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from server.api.blobs import blob_response
from server.api.deps import CurrentUser, SessionDep, SettingsDep, StoreDep
from server.domain import Role
from server.errors import BadRequest, Forbidden
from server.permissions import project_scope
from server.services import supervision

router = APIRouter(tags=["supervision"])

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def parse_month(
    month: Annotated[str | None, Query(description="YYYY-MM (default: last month)")] = None,
) -> dt.date:
    """A month parameter, by default the month just ended."""
    if month is None:
        return supervision.month_start(supervision.month_start(dt.date.today()) - dt.timedelta(days=1))
    try:
        parsed = dt.datetime.strptime(month, "%Y-%m").date()
    except ValueError as exc:
        raise BadRequest("month 应为 YYYY-MM。", code="month_invalid") from exc
    if not 2000 <= parsed.year <= 2100:
        raise BadRequest("month 超出范围。", code="month_invalid")
    return parsed


MonthDep = Annotated[dt.date, Depends(parse_month)]


class PlanIn(BaseModel):
    """A new check plan."""

    kind: str = Field(pattern="^(daily|periodic|special)$")
    title: str = Field(min_length=1, max_length=200)
    planned_date: dt.date
    project_ids: list[int] = Field(min_length=1, max_length=500)
    inspector_ids: list[int] = Field(default_factory=list, max_length=50)
    notes: str = Field(default="", max_length=4000)
    draw_id: int | None = None


class DrawIn(BaseModel):
    """A 双随机 draw request."""

    project_ids: list[int] = Field(min_length=1, max_length=2000)
    inspector_ids: list[int] = Field(min_length=1, max_length=500)
    n_projects: int = Field(ge=1)
    n_inspectors: int = Field(ge=1)
    seed: int | None = Field(default=None, ge=0, le=2**53)


class ProblemIn(BaseModel):
    """A new problem on the list."""

    project_id: int
    description: str = Field(min_length=1, max_length=4000)
    responsible_unit_id: int
    found_on: dt.date
    deadline: dt.date
    inspection_id: uuid.UUID | None = None
    before_photo_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)


class RectificationIn(BaseModel):
    """A rectification report with after-photos."""

    note: str = Field(min_length=1, max_length=4000)
    after_photo_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)


class CorrectionIn(BaseModel):
    """A new version of a submitted inspection record."""

    new_id: uuid.UUID
    findings: str = Field(min_length=1, max_length=8000)


class IssueIn(BaseModel):
    """Issuing a proposed letter."""

    deadline: dt.date | None = None


class MeetingIn(BaseModel):
    """A leader's progress meeting."""

    project_id: int
    held_on: dt.date
    title: str = Field(min_length=1, max_length=200)
    notes: str = Field(default="", max_length=4000)
    leader_id: int | None = None


@router.post("/supervision/statuses/refresh")
def refresh(user: CurrentUser, session: SessionDep, month: MonthDep) -> dict[str, Any]:
    """Recompute every project's status for a month (the monthly dispatch)."""
    return {"month": month.strftime("%Y-%m"), "projects": supervision.refresh_month(session, user, month)}


@router.get("/projects/{project_id}/status-history")
def status_history(project_id: int, user: CurrentUser, session: SessionDep) -> list[dict[str, Any]]:
    """A project's status month by month."""
    return supervision.status_history(session, user, project_id)


@router.get("/supervision/lagging")
def lagging(user: CurrentUser, session: SessionDep, month: MonthDep) -> list[dict[str, Any]]:
    """Projects not started on time, lagging or seriously lagging (county-side roles)."""
    if not project_scope(user).all:
        raise Forbidden("无权查看全县滞后项目。")
    return supervision.lagging_projects(session, month)


@router.get("/checks")
def list_checks(user: CurrentUser, session: SessionDep) -> list[dict[str, Any]]:
    """Check plans (project units and townships see only carried-out checks of their projects)."""
    return supervision.list_plans(session, user)


@router.post("/checks", status_code=status.HTTP_201_CREATED)
def create_check(body: PlanIn, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Plan a daily, periodic or special check."""
    return supervision.create_plan(session, user, supervision.PlanInput(**body.model_dump()))


@router.get("/checks/proposals/periodic")
def periodic_proposals(user: CurrentUser, session: SessionDep, month: MonthDep) -> list[dict[str, Any]]:
    """Every lagging project, proposed for the monthly joint check."""
    return supervision.propose_periodic(session, user, month)


@router.get("/checks/proposals/special")
def special_proposals(user: CurrentUser, session: SessionDep, month: MonthDep) -> list[dict[str, Any]]:
    """Targets for special checks: funds not in place, land not approved, seriously behind."""
    return supervision.special_targets(session, user, month)


@router.post("/checks/draws", status_code=status.HTTP_201_CREATED)
def draw(body: DrawIn, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """双随机: draw random projects and inspectors; the seed and inputs are recorded."""
    return supervision.random_draw(session, user, **body.model_dump())


@router.get("/checks/draws/{draw_id}/verify")
def verify_draw(draw_id: int, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Re-run a recorded draw and compare."""
    return supervision.verify_draw(session, user, draw_id)


@router.get("/checks/{plan_id}")
def get_check(plan_id: int, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """One check plan (hidden ones answer like missing ones)."""
    return supervision.get_plan(session, user, plan_id)


@router.post("/checks/{plan_id}/complete")
def complete_check(plan_id: int, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Mark a check as carried out."""
    return supervision.complete_plan(session, user, plan_id)


@router.post("/inspections/{inspection_id}/correct", status_code=status.HTTP_201_CREATED)
def correct_inspection(
    inspection_id: uuid.UUID, body: CorrectionIn, user: CurrentUser, session: SessionDep
) -> dict[str, Any]:
    """Correct a submitted record with a new version (the old one stays locked)."""
    return supervision.correct_inspection(
        session, user, inspection_id, new_id=body.new_id, findings=body.findings
    )


@router.get("/problems")
def list_problems(user: CurrentUser, session: SessionDep, open_only: bool = False) -> list[dict[str, Any]]:
    """The problem list."""
    return supervision.list_problems(session, user, open_only=open_only)


@router.post("/problems", status_code=status.HTTP_201_CREATED)
def create_problem(body: ProblemIn, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Add a problem with its rectification deadline."""
    return supervision.create_problem(session, user, **body.model_dump())


@router.post("/problems/escalate")
def escalate(user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Escalate overdue problems to lead units and leaders in charge (admin; also run daily by the CLI)."""
    if user.role != Role.ADMIN:
        raise Forbidden("只有发改局可以执行督办升级。")
    return {"escalated": supervision.escalate_overdue(session)}


@router.post("/problems/{problem_id}/rectification")
def rectification(
    problem_id: int, body: RectificationIn, user: CurrentUser, session: SessionDep
) -> dict[str, Any]:
    """Report rectification with after-photos."""
    return supervision.report_rectification(
        session, user, problem_id, note=body.note, after_photo_ids=body.after_photo_ids
    )


@router.post("/problems/{problem_id}/close")
def close_problem(problem_id: int, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Close a problem after verification (after-photos required)."""
    return supervision.close_problem(session, user, problem_id)


@router.get("/letters")
def list_letters(user: CurrentUser, session: SessionDep) -> list[dict[str, Any]]:
    """Letters (project side: those issued to its projects)."""
    return supervision.list_letters(session, user)


@router.post("/letters/propose")
def propose_letters(user: CurrentUser, session: SessionDep) -> list[dict[str, Any]]:
    """Run the §11 rules and add letter proposals for review."""
    return supervision.propose_letters(session, user)


@router.post("/letters/{letter_id}/issue")
def issue_letter(
    letter_id: int,
    body: IssueIn,
    user: CurrentUser,
    session: SessionDep,
    store: StoreDep,
) -> dict[str, Any]:
    """Issue a proposed letter: numbered, dated, rendered as .docx."""
    return supervision.issue_letter(session, user, letter_id, store=store, deadline=body.deadline)


@router.post("/letters/{letter_id}/dismiss")
def dismiss_letter(letter_id: int, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Dismiss a letter proposal."""
    return supervision.dismiss_letter(session, user, letter_id)


@router.get("/letters/{letter_id}/document")
def letter_document(
    letter_id: int,
    user: CurrentUser,
    session: SessionDep,
    store: StoreDep,
) -> Response:
    """The issued letter as a Word document."""
    name, key = supervision.letter_document(session, user, letter_id, store=store)
    return blob_response(
        store,
        key,
        media_type=DOCX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


@router.post("/leaders/meetings", status_code=status.HTTP_201_CREATED)
def record_meeting(body: MeetingIn, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Record a progress meeting held by the leader in charge."""
    return supervision.record_meeting(session, user, **body.model_dump())


@router.get("/leaders/report")
def leader_report(
    user: CurrentUser, session: SessionDep, settings: SettingsDep, month: MonthDep
) -> list[dict[str, Any]]:
    """§6: each leader's site visits and meetings in a month, with shortfalls flagged."""
    return supervision.leader_report(session, user, month, buffer_m=settings.photo_site_buffer_m)


@router.get("/worklist")
def worklist(user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """What the signed-in user should attend to now, by role."""
    return supervision.worklist(session, user)
