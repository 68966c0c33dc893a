"""Supervision use cases (§6, §11, §15, §16): monthly status, check plans and random draws,
locked inspection records, problem lists, letters, leaders' visits and meetings, work lists.

Secrecy (四不两直): a check plan is invisible to project units and townships until it has been
carried out.  Every read of plans goes through :func:`_visible_plans`, and a hidden plan answers
exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from server import supervision_rules as rules
from server.documents import LetterDocument, letter_docx
from server.domain import Role
from server.errors import Forbidden, Invalid, NotFound
from server.models import CheckPlan, Inspection, LeaderMeeting, Letter, Problem, RandomDraw, User
from server.permissions import can_read_project, project_scope
from server.repositories import projects as projects_repo
from server.repositories import supervision as repo
from server.repositories import units as units_repo
from server.services import audit
from server.services.transaction import unit_of_work
from server.storage import BlobStore

DEFAULT_PROGRESS_RULES = rules.ProgressRules()
DEFAULT_LETTER_RULES = rules.LetterRules()
PLANNING_ROLES = frozenset({Role.ADMIN, Role.LEADER})
CHECK_VIEW_ROLES = frozenset({Role.ADMIN, Role.LEADER, Role.INSPECTOR})
VERIFY_ROLES = frozenset({Role.ADMIN, Role.INSPECTOR})


def month_start(day: dt.date) -> dt.date:
    """First day of the month of ``day``."""
    return day.replace(day=1)


def _is_project_side(user: User) -> bool:
    return user.role in (Role.PROJECT_UNIT, Role.TOWNSHIP)


def _own_project_ids(session: Session, user: User) -> list[int]:
    scope = project_scope(user)
    items, _ = projects_repo.list_projects(session, scope=scope, filters=projects_repo.ProjectFilter())
    return [p.id for p in items]


# --- monthly status ------------------------------------------------------------------------------


def refresh_statuses(
    session: Session,
    month: dt.date,
    *,
    progress_rules: rules.ProgressRules = DEFAULT_PROGRESS_RULES,
    project_ids: list[int] | None = None,
) -> int:
    """Compute and store every project's status at the end of ``month`` (inside the caller's transaction)."""
    month = month_start(month)
    totals = repo.ytd_completed(session, month.year, month)
    rows = []
    for project in repo.projects_of_year(session, month.year):
        if project_ids is not None and project.id not in project_ids:
            continue
        status = rules.month_status(
            month=month,
            annual_plan=project.annual_plan_yuan,
            ytd_completed=totals.get(project.id, Decimal(0)),
            planned_start=project.planned_start,
            construction_status=project.status,
            rules=progress_rules,
        )
        rows.append(
            {
                "project_id": project.id,
                "month": month,
                "status": status.status.value,
                "ytd_completed_yuan": status.ytd_completed,
                "ytd_expected_yuan": status.ytd_expected,
                "ratio": status.ratio,
            }
        )
    repo.upsert_month_status(session, rows)
    return len(rows)


def refresh_project_from(
    session: Session, project_id: int, month: dt.date, *, today: dt.date | None = None
) -> None:
    """After a report for ``month``, recompute that project's statuses from that month to now (same year)."""
    today = today or dt.date.today()
    current = month_start(month)
    last = month_start(today) if today.year == current.year else dt.date(current.year, 12, 1)
    while current <= last:
        refresh_statuses(session, current, project_ids=[project_id])
        current = month_start(current + dt.timedelta(days=32))


def refresh_month(
    session: Session,
    actor: User | None,
    month: dt.date,
    progress_rules: rules.ProgressRules = DEFAULT_PROGRESS_RULES,
) -> int:
    """Recompute a month's statuses for the whole list (the monthly dispatch)."""
    if actor is not None and actor.role != Role.ADMIN:
        raise Forbidden("只有发改局可以进行月度调度。")
    with unit_of_work(session):
        return refresh_statuses(session, month, progress_rules=progress_rules)


def status_history(session: Session, actor: User, project_id: int) -> list[dict[str, Any]]:
    """A project's status month by month."""
    project = projects_repo.get_project(session, project_id)
    if project is None:
        raise NotFound(f"项目 {project_id} 不存在。", code="project_not_found")
    if not can_read_project(actor, project):
        raise Forbidden("无权查看该项目。")
    return [
        {
            "month": r.month.strftime("%Y-%m"),
            "status": r.status,
            "ytd_completed_yuan": str(r.ytd_completed_yuan),
            "ytd_expected_yuan": str(r.ytd_expected_yuan),
            "ratio": r.ratio,
        }
        for r in repo.status_history(session, [project_id])
    ]


def lagging_projects(session: Session, month: dt.date) -> list[dict[str, Any]]:
    """Projects not started on time, lagging or seriously lagging at ``month``."""
    statuses = repo.latest_statuses(session, month_start(month))
    wanted = {"not_started", "lagging", "seriously_lagging"}
    out = []
    for project_id, row in statuses.items():
        if row.status in wanted:
            project = projects_repo.get_project(session, project_id)
            assert project is not None
            out.append(
                {
                    "project_id": project_id,
                    "code": project.code,
                    "name": project.name,
                    "township": project.township.name,
                    "leader": project.leader.full_name,
                    "status": row.status,
                    "ratio": row.ratio,
                    "ytd_completed_yuan": str(row.ytd_completed_yuan),
                    "ytd_expected_yuan": str(row.ytd_expected_yuan),
                }
            )
    order = {"seriously_lagging": 0, "not_started": 1, "lagging": 2}
    return sorted(out, key=lambda r: (order[r["status"]], r["ratio"] if r["ratio"] is not None else 0))


# --- check plans and the random draw -------------------------------------------------------------


def _plan_dict(plan: CheckPlan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "kind": plan.kind,
        "title": plan.title,
        "planned_date": plan.planned_date.isoformat(),
        "status": plan.status,
        "notes": plan.notes,
        "draw_id": plan.draw_id,
        "projects": [{"id": p.id, "code": p.code, "name": p.name} for p in plan.projects],
        "inspectors": [{"id": u.id, "full_name": u.full_name} for u in plan.inspectors],
        "carried_out_at": plan.carried_out_at.isoformat() if plan.carried_out_at else None,
    }


@dataclass(slots=True, kw_only=True)
class PlanInput:
    """A new check plan."""

    kind: str
    title: str
    planned_date: dt.date
    project_ids: list[int]
    inspector_ids: list[int]
    notes: str = ""
    draw_id: int | None = None


def create_plan(session: Session, actor: User, data: PlanInput) -> dict[str, Any]:
    """Plan a check (admin; leaders lead special checks)."""
    if actor.role not in PLANNING_ROLES:
        raise Forbidden("只有发改局或县级领导可以安排督查。")
    if data.kind not in ("daily", "periodic", "special"):
        raise Invalid(
            "督查类型应为 daily（日常）、periodic（定期）或 special（专项）。", code="validation_error"
        )
    if not data.project_ids:
        raise Invalid("请至少选择一个项目。", code="validation_error")
    with unit_of_work(session):
        projects = [projects_repo.get_project(session, pid) for pid in data.project_ids]
        if any(p is None for p in projects):
            raise Invalid("所选项目不存在。", code="unknown_project")
        inspectors = [units_repo.get_user(session, uid) for uid in data.inspector_ids]
        if any(u is None or u.role not in (Role.INSPECTOR, Role.LEADER, Role.ADMIN) for u in inspectors):
            raise Invalid("督查人员应为督查员、县级领导或发改局账号。", code="unknown_inspector")
        plan = repo.add(
            session,
            CheckPlan(
                kind=data.kind,
                title=data.title,
                planned_date=data.planned_date,
                notes=data.notes,
                draw_id=data.draw_id,
                created_by_id=actor.id,
                status="planned",
            ),
        )
        plan.projects = [p for p in projects if p is not None]
        plan.inspectors = [u for u in inspectors if u is not None]
        session.flush()
        audit.record(session, actor, "create", "check_plan", plan.id, after=_plan_dict(plan))
    return _plan_dict(plan)


def _visible_plans(session: Session, actor: User) -> list[CheckPlan]:
    if actor.role in CHECK_VIEW_ROLES or actor.role == Role.LAND_BUREAU:
        return repo.list_plans(session)
    # Project side: only checks already carried out, and only on their own projects.
    return repo.list_plans(session, carried_out_only=True, project_ids=_own_project_ids(session, actor))


def list_plans(session: Session, actor: User) -> list[dict[str, Any]]:
    """Check plans the actor may see (project units and townships: carried-out checks of their projects)."""
    return [_plan_dict(p) for p in _visible_plans(session, actor)]


def get_plan(session: Session, actor: User, plan_id: int) -> dict[str, Any]:
    """One check plan; a plan hidden from the actor answers exactly like a missing one."""
    plan = next((p for p in _visible_plans(session, actor) if p.id == plan_id), None)
    if plan is None:
        raise NotFound("请求的记录不存在。", code="not_found")
    return _plan_dict(plan)


def propose_periodic(session: Session, actor: User, month: dt.date) -> list[dict[str, Any]]:
    """§16 定期督查: every lagging project of the month is proposed for the monthly joint check."""
    if actor.role not in PLANNING_ROLES:
        raise Forbidden("只有发改局或县级领导可以安排督查。")
    return lagging_projects(session, month)


def special_targets(session: Session, actor: User, month: dt.date) -> list[dict[str, Any]]:
    """§16 专项督查 targets: funds not in place, land not approved, or seriously behind."""
    if actor.role not in PLANNING_ROLES:
        raise Forbidden("只有发改局或县级领导可以安排督查。")
    month = month_start(month)
    no_funds = repo.months_without_investment(session, month, 3)
    no_land = repo.projects_with_unapproved_land(session, month.year)
    serious = {
        pid for pid, r in repo.latest_statuses(session, month).items() if r.status == "seriously_lagging"
    }
    out = []
    for pid in sorted(no_funds | no_land | serious):
        project = projects_repo.get_project(session, pid)
        assert project is not None
        reasons = [
            label
            for flag, label in (
                (pid in no_funds, "资金未落实（连续3个月无投资完成）"),
                (pid in no_land, "土地未报批"),
                (pid in serious, "进度严重滞后"),
            )
            if flag
        ]
        out.append({"project_id": pid, "code": project.code, "name": project.name, "reasons": reasons})
    return out


def _draw(
    seed: int, project_ids: list[int], inspector_ids: list[int], n_projects: int, n_inspectors: int
) -> dict[str, list[int]]:
    """The 双随机 draw itself: deterministic from the seed and the sorted candidate lists."""
    rng = random.Random(seed)
    return {
        "project_ids": sorted(rng.sample(sorted(project_ids), n_projects)),
        "inspector_ids": sorted(rng.sample(sorted(inspector_ids), n_inspectors)),
    }


def random_draw(
    session: Session,
    actor: User,
    *,
    project_ids: list[int],
    inspector_ids: list[int],
    n_projects: int,
    n_inspectors: int,
    seed: int | None = None,
) -> dict[str, Any]:
    """双随机: draw random projects and random inspectors, recording seed and inputs for audit."""
    if actor.role not in PLANNING_ROLES:
        raise Forbidden("只有发改局或县级领导可以抽取。")
    if not 0 < n_projects <= len(set(project_ids)) or not 0 < n_inspectors <= len(set(inspector_ids)):
        raise Invalid("抽取数量应大于 0 且不超过候选数量。", code="draw_size_invalid")
    seed = (
        seed if seed is not None else int.from_bytes(hashlib.sha256(uuid.uuid4().bytes).digest()[:6], "big")
    )
    inputs = {
        "project_ids": sorted(set(project_ids)),
        "inspector_ids": sorted(set(inspector_ids)),
        "n_projects": n_projects,
        "n_inspectors": n_inspectors,
        "algorithm": "python random.Random(seed).sample",
    }
    result = _draw(seed, inputs["project_ids"], inputs["inspector_ids"], n_projects, n_inspectors)
    with unit_of_work(session):
        draw = repo.add(session, RandomDraw(seed=seed, inputs=inputs, result=result, created_by_id=actor.id))
        audit.record(session, actor, "draw", "random_draw", draw.id, after={"seed": seed, **inputs, **result})
    return {"id": draw.id, "seed": seed, "inputs": inputs, "result": result}


def verify_draw(session: Session, actor: User, draw_id: int) -> dict[str, Any]:
    """Re-run a recorded draw from its seed and inputs and say whether the result is the same."""
    if actor.role not in CHECK_VIEW_ROLES:
        raise NotFound("请求的记录不存在。", code="not_found")
    draw = repo.get_draw(session, draw_id)
    if draw is None:
        raise NotFound("请求的记录不存在。", code="not_found")
    inputs = draw.inputs
    again = _draw(
        draw.seed,
        inputs["project_ids"],
        inputs["inspector_ids"],
        inputs["n_projects"],
        inputs["n_inspectors"],
    )
    return {
        "id": draw.id,
        "seed": draw.seed,
        "recorded": draw.result,
        "recomputed": again,
        "matches": again == draw.result,
    }


def complete_plan(session: Session, actor: User, plan_id: int) -> dict[str, Any]:
    """Mark a check as carried out (then its project side may see it)."""
    if actor.role not in VERIFY_ROLES | PLANNING_ROLES:
        raise NotFound("请求的记录不存在。", code="not_found")
    with unit_of_work(session):
        plan = repo.get_plan(session, plan_id)
        if plan is None:
            raise NotFound("请求的记录不存在。", code="not_found")
        plan.status = "carried_out"
        plan.carried_out_at = dt.datetime.now(dt.UTC)
        session.flush()
        audit.record(session, actor, "complete", "check_plan", plan.id, after={"status": plan.status})
    return _plan_dict(plan)


# --- inspection records --------------------------------------------------------------------------


def submit_inspection(
    session: Session, actor: User, inspection_id: uuid.UUID, *, findings: str | None = None
) -> dict[str, Any]:
    """Submit (lock) an inspection record; a check whose projects are all inspected is carried out."""
    with unit_of_work(session):
        row = session.get(Inspection, inspection_id)
        if row is None or (row.inspector_id != actor.id and actor.role != Role.ADMIN):
            raise NotFound("督查记录不存在。", code="inspection_not_found")
        if row.status == "submitted":
            raise Invalid("督查记录已提交并锁定；如需更正请提交新版本。", code="inspection_locked")
        if findings is not None:
            row.findings = findings
        row.status = "submitted"
        row.submitted_at = dt.datetime.now(dt.UTC)
        session.flush()
        if row.check_plan_id is not None:
            plan = repo.get_plan(session, row.check_plan_id)
            if plan is not None and {p.id for p in plan.projects} <= repo.submitted_inspected_projects(
                session, plan.id
            ):
                plan.status = "carried_out"
                plan.carried_out_at = row.submitted_at
        audit.record(session, actor, "submit", "inspection", row.id, after={"findings": row.findings})
    return {
        "id": str(row.id),
        "status": row.status,
        "version": row.version,
        "submitted_at": row.submitted_at.isoformat() if row.submitted_at else None,
    }


def correct_inspection(
    session: Session, actor: User, inspection_id: uuid.UUID, *, new_id: uuid.UUID, findings: str
) -> dict[str, Any]:
    """A correction of a submitted record is a new version that supersedes it; the old one stays."""
    with unit_of_work(session):
        old = session.get(Inspection, inspection_id)
        if old is None or (old.inspector_id != actor.id and actor.role != Role.ADMIN):
            raise NotFound("督查记录不存在。", code="inspection_not_found")
        if old.status != "submitted":
            raise Invalid("草稿可直接修改，无需新版本。", code="inspection_not_submitted")
        new = repo.add(
            session,
            Inspection(
                id=new_id,
                project_id=old.project_id,
                inspector_id=old.inspector_id,
                started_at=old.started_at,
                check_date=old.check_date,
                device_lat=old.device_lat,
                device_lon=old.device_lon,
                device_accuracy_m=old.device_accuracy_m,
                device_fixed_at=old.device_fixed_at,
                findings=findings,
                status="submitted",
                submitted_at=dt.datetime.now(dt.UTC),
                check_plan_id=old.check_plan_id,
                version=old.version + 1,
                supersedes_id=old.id,
            ),
        )
        audit.record(
            session,
            actor,
            "correct",
            "inspection",
            new.id,
            before={"id": str(old.id)},
            after={"version": new.version, "findings": findings},
        )
    return {"id": str(new.id), "version": new.version, "supersedes_id": str(old.id), "status": new.status}


# --- problems ------------------------------------------------------------------------------------


def _problem_dict(session: Session, problem: Problem, today: dt.date) -> dict[str, Any]:
    photos = repo.problem_photo_ids(session, problem.id)
    return {
        "id": problem.id,
        "project_id": problem.project_id,
        "project_name": problem.project.name,
        "description": problem.description,
        "responsible_unit": {"id": problem.responsible_unit.id, "name": problem.responsible_unit.name},
        "found_on": problem.found_on.isoformat(),
        "deadline": problem.deadline.isoformat(),
        "status": problem.status,
        "overdue": rules.is_overdue(problem.status, problem.deadline, today),
        "escalated": problem.escalated_at is not None,
        "rectification_note": problem.rectification_note,
        "photos_before": photos["before"],
        "photos_after": photos["after"],
        "closed_at": problem.closed_at.isoformat() if problem.closed_at else None,
    }


def create_problem(
    session: Session,
    actor: User,
    *,
    project_id: int,
    description: str,
    responsible_unit_id: int,
    found_on: dt.date,
    deadline: dt.date,
    inspection_id: uuid.UUID | None = None,
    before_photo_ids: list[uuid.UUID] | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Put a problem on the list with its rectification deadline (限期整改)."""
    today = today or dt.date.today()
    if actor.role not in VERIFY_ROLES | PLANNING_ROLES:
        raise Forbidden("只有督查人员、发改局或县级领导可以登记问题。")
    if deadline < found_on:
        raise Invalid("整改期限不能早于发现问题的日期。", code="deadline_before_finding")
    if found_on > today:
        raise Invalid("发现日期不能晚于今天。", code="date_out_of_range")
    with unit_of_work(session):
        project = projects_repo.get_project(session, project_id)
        if project is None:
            raise NotFound(f"项目 {project_id} 不存在。", code="project_not_found")
        if units_repo.get_unit(session, responsible_unit_id) is None:
            raise Invalid("责任单位不存在。", code="unknown_unit")
        problem = repo.add(
            session,
            Problem(
                project_id=project_id,
                inspection_id=inspection_id,
                description=description,
                responsible_unit_id=responsible_unit_id,
                found_on=found_on,
                deadline=deadline,
                status="open",
                created_by_id=actor.id,
            ),
        )
        repo.add_problem_photos(session, problem.id, before_photo_ids or [], "before")
        session.refresh(problem)
        audit.record(
            session,
            actor,
            "create",
            "problem",
            problem.id,
            after={"description": description, "deadline": deadline.isoformat()},
        )
        out = _problem_dict(session, problem, today)
    return out


def _readable_problem(session: Session, actor: User, problem_id: int) -> Problem:
    problem = repo.get_problem(session, problem_id)
    if problem is None:
        raise NotFound("问题不存在。", code="problem_not_found")
    if not can_read_project(actor, problem.project) and problem.responsible_unit_id != actor.unit_id:
        raise Forbidden("无权查看该问题。")
    return problem


def list_problems(
    session: Session, actor: User, *, today: dt.date | None = None, open_only: bool = False
) -> list[dict[str, Any]]:
    """Problems the actor may see (project side: its own projects and those it must rectify)."""
    today = today or dt.date.today()
    if project_scope(actor).all:
        problems = repo.list_problems(session, open_only=open_only)
    else:
        mine = set(_own_project_ids(session, actor))
        problems = [
            p
            for p in repo.list_problems(session, open_only=open_only)
            if p.project_id in mine or p.responsible_unit_id == actor.unit_id
        ]
    return [_problem_dict(session, p, today) for p in problems]


def report_rectification(
    session: Session,
    actor: User,
    problem_id: int,
    *,
    note: str,
    after_photo_ids: list[uuid.UUID],
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The responsible side reports rectification with after-photos; the problem becomes 'rectifying'."""
    today = today or dt.date.today()
    with unit_of_work(session):
        problem = _readable_problem(session, actor, problem_id)
        if problem.status == "closed":
            raise Invalid("问题已销号。", code="problem_closed")
        problem.status = "rectifying"
        problem.rectification_note = note
        repo.add_problem_photos(session, problem.id, after_photo_ids, "after")
        session.flush()
        audit.record(session, actor, "rectify", "problem", problem.id, after={"note": note})
        out = _problem_dict(session, problem, today)
    return out


def close_problem(
    session: Session, actor: User, problem_id: int, *, today: dt.date | None = None
) -> dict[str, Any]:
    """Close a problem after verification: only with after-photos, only by inspectors or admin."""
    today = today or dt.date.today()
    if actor.role not in VERIFY_ROLES:
        raise Forbidden("只有督查人员或发改局核实后才能销号。")
    with unit_of_work(session):
        problem = _readable_problem(session, actor, problem_id)
        if not repo.problem_photo_ids(session, problem.id)["after"]:
            raise Invalid("销号前须上传整改后照片。", code="after_photos_required")
        problem.status = "closed"
        problem.closed_at = dt.datetime.now(dt.UTC)
        problem.closed_by_id = actor.id
        session.flush()
        audit.record(session, actor, "close", "problem", problem.id, after={"status": "closed"})
        out = _problem_dict(session, problem, today)
    return out


def escalate_overdue(session: Session, *, today: dt.date | None = None) -> list[int]:
    """Mark newly overdue problems as escalated to the lead unit and the leader in charge."""
    today = today or dt.date.today()
    escalated = []
    with unit_of_work(session):
        for problem in repo.list_problems(session, open_only=True):
            if rules.is_overdue(problem.status, problem.deadline, today) and problem.escalated_at is None:
                problem.escalated_at = dt.datetime.now(dt.UTC)
                escalated.append(problem.id)
                audit.record(
                    session,
                    None,
                    "escalate",
                    "problem",
                    problem.id,
                    after={"to_unit": problem.project.lead_unit_id, "to_leader": problem.project.leader_id},
                )
    return escalated


# --- letters -------------------------------------------------------------------------------------


def _letter_number(letter: Letter) -> str:
    return f"清发改督函〔{letter.year}〕{letter.serial}号" if letter.serial else "（待编号）"


def _letter_dict(letter: Letter) -> dict[str, Any]:
    return {
        "id": letter.id,
        "kind": letter.kind,
        "title": rules.LETTER_TITLES[rules.LetterKind(letter.kind)],
        "number": _letter_number(letter),
        "project_id": letter.project_id,
        "project_name": letter.project.name,
        "addressee": letter.addressee.name,
        "rule": letter.rule,
        "facts": letter.facts,
        "deadline": letter.deadline.isoformat() if letter.deadline else None,
        "status": letter.status,
        "issued_at": letter.issued_at.isoformat() if letter.issued_at else None,
    }


def propose_letters(
    session: Session,
    actor: User | None,
    *,
    today: dt.date | None = None,
    letter_rules: rules.LetterRules = DEFAULT_LETTER_RULES,
) -> list[dict[str, Any]]:
    """Run the §11 rules over every project and add proposals for the admin to review."""
    today = today or dt.date.today()
    if actor is not None and actor.role != Role.ADMIN:
        raise Forbidden("只有发改局可以生成函件建议。")
    created = []
    with unit_of_work(session):
        history: dict[int, list[rules.ProgressStatus]] = defaultdict(list)
        for row in repo.status_history(session, since=month_start(today) - dt.timedelta(days=370)):
            history[row.project_id].append(rules.ProgressStatus(row.status))
        counts = repo.problem_counts(session, today)
        last = repo.last_issued_letters(session)
        pending = repo.pending_letter_projects(session)
        for project_id, statuses in history.items():
            if project_id in pending:
                continue
            open_count, overdue = counts.get(project_id, (0, 0))
            previous = last.get(project_id)
            proposal = rules.propose_letter(
                statuses=statuses,
                open_problems=open_count,
                overdue_problems=overdue,
                last_letter=(rules.LetterKind(previous[0]), previous[1]) if previous else None,
                today=today,
                rules=letter_rules,
            )
            if proposal is None:
                continue
            project = projects_repo.get_project(session, project_id)
            assert project is not None
            letter = repo.add(
                session,
                Letter(
                    kind=proposal.kind.value,
                    year=today.year,
                    project_id=project_id,
                    addressee_unit_id=project.legal_person_unit_id,
                    rule=proposal.rule,
                    facts=proposal.facts,
                    deadline=today + dt.timedelta(days=letter_rules.answer_days),
                    status="proposed",
                ),
            )
            session.refresh(letter)
            audit.record(
                session,
                actor,
                "propose",
                "letter",
                letter.id,
                after={"kind": letter.kind, "rule": letter.rule},
            )
            created.append(_letter_dict(letter))
    return created


def issue_letter(
    session: Session,
    actor: User,
    letter_id: int,
    *,
    store: BlobStore,
    deadline: dt.date | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Review and issue a proposed letter: number it, render the .docx, keep it in the store."""
    today = today or dt.date.today()
    if actor.role != Role.ADMIN:
        raise Forbidden("只有发改局可以签发函件。")
    with unit_of_work(session):
        letter = repo.get_letter(session, letter_id)
        if letter is None:
            raise NotFound("函件不存在。", code="letter_not_found")
        if letter.status != "proposed":
            raise Invalid("该函件已签发或已驳回。", code="letter_not_proposed")
        if deadline is not None:
            if deadline < today:
                raise Invalid("回复期限不能早于今天。", code="deadline_before_finding")
            letter.deadline = deadline
        letter.serial = repo.next_letter_serial(session, letter.year)
        letter.status = "issued"
        letter.issued_at = dt.datetime.now(dt.UTC)
        letter.issued_by_id = actor.id
        kind = rules.LetterKind(letter.kind)
        data = letter_docx(
            LetterDocument(
                title=rules.LETTER_TITLES[kind],
                number=_letter_number(letter),
                addressee=letter.addressee.name,
                project_code=letter.project.code,
                project_name=letter.project.name,
                facts=letter.facts,
                request={"reminder": "请高度重视，", "push": "请加快推进，", "supervision": "请立即整改，"}[
                    kind.value
                ],
                deadline=letter.deadline,
                issued_on=today,
            )
        )
        key = hashlib.sha256(data).hexdigest()
        store.put_bytes(key, data)
        letter.document_key = key
        session.flush()
        audit.record(session, actor, "issue", "letter", letter.id, after=_letter_dict(letter))
        out = _letter_dict(letter)
    return out


def dismiss_letter(session: Session, actor: User, letter_id: int) -> dict[str, Any]:
    """Dismiss a proposal after review."""
    if actor.role != Role.ADMIN:
        raise Forbidden("只有发改局可以处理函件建议。")
    with unit_of_work(session):
        letter = repo.get_letter(session, letter_id)
        if letter is None or letter.status != "proposed":
            raise NotFound("函件建议不存在。", code="letter_not_found")
        letter.status = "dismissed"
        session.flush()
        audit.record(session, actor, "dismiss", "letter", letter.id)
        out = _letter_dict(letter)
    return out


def list_letters(session: Session, actor: User) -> list[dict[str, Any]]:
    """Letters: all for the county side; the project side sees only letters issued to its projects."""
    if project_scope(actor).all:
        return [_letter_dict(x) for x in repo.list_letters(session)]
    return [
        _letter_dict(x)
        for x in repo.list_letters(session, project_ids=_own_project_ids(session, actor), issued_only=True)
    ]


def letter_document(session: Session, actor: User, letter_id: int, *, store: BlobStore) -> tuple[str, Any]:
    """The issued letter's .docx (file name, store key)."""
    letter = repo.get_letter(session, letter_id)
    visible = letter is not None and (
        project_scope(actor).all or (letter.status == "issued" and can_read_project(actor, letter.project))
    )
    if not visible or letter is None or letter.document_key is None:
        raise NotFound("函件不存在或尚未签发。", code="letter_not_found")
    if not store.exists(letter.document_key):
        raise NotFound("函件文档缺失。", code="letter_document_missing")
    return f"{_letter_number(letter)}.docx", letter.document_key


# --- leaders -------------------------------------------------------------------------------------


def record_meeting(
    session: Session,
    actor: User,
    *,
    project_id: int,
    held_on: dt.date,
    title: str,
    notes: str = "",
    leader_id: int | None = None,
) -> dict[str, Any]:
    """Record a progress meeting held by the leader in charge (the leader or admin)."""
    leader_id = leader_id or actor.id
    if actor.role not in (Role.LEADER, Role.ADMIN) or (actor.role == Role.LEADER and leader_id != actor.id):
        raise Forbidden("只有包抓领导本人或发改局可以登记推进会。")
    if held_on > dt.date.today():
        raise Invalid("会议日期不能晚于今天。", code="date_out_of_range")
    with unit_of_work(session):
        project = projects_repo.get_project(session, project_id)
        if project is None:
            raise NotFound(f"项目 {project_id} 不存在。", code="project_not_found")
        meeting = repo.add(
            session,
            LeaderMeeting(
                leader_id=leader_id,
                project_id=project_id,
                held_on=held_on,
                title=title,
                notes=notes,
                created_by_id=actor.id,
            ),
        )
        audit.record(
            session,
            actor,
            "create",
            "leader_meeting",
            meeting.id,
            after={"project_id": project_id, "held_on": held_on.isoformat()},
        )
    return {
        "id": meeting.id,
        "leader_id": leader_id,
        "project_id": project_id,
        "held_on": held_on.isoformat(),
        "title": title,
    }


def leader_report(session: Session, actor: User, month: dt.date, *, buffer_m: float) -> list[dict[str, Any]]:
    """§6 per leader-month: site visits (evidenced on site) and meetings, flagged below 2 and 1."""
    if actor.role not in (Role.ADMIN, Role.LEADER):
        raise Forbidden("无权查看领导包抓情况。")
    month = month_start(month)
    visits = repo.leader_visits(session, month, buffer_m)
    meetings = repo.leader_meetings_count(session, month)
    out = []
    for leader in units_repo.list_users(session):
        if leader.role != Role.LEADER or (actor.role == Role.LEADER and leader.id != actor.id):
            continue
        total_visits = sum(n for (lid, _), n in visits.items() if lid == leader.id)
        count = meetings.get(leader.id, 0)
        out.append(
            {
                "leader_id": leader.id,
                "full_name": leader.full_name,
                "title": leader.title,
                "month": month.strftime("%Y-%m"),
                "visits": total_visits,
                "meetings": count,
                "flags": rules.leader_month_flags(total_visits, count),
            }
        )
    return out


# --- work lists ----------------------------------------------------------------------------------


def worklist(session: Session, actor: User, *, today: dt.date | None = None) -> dict[str, Any]:
    """What each role should attend to now."""
    today = today or dt.date.today()
    last_month = month_start(month_start(today) - dt.timedelta(days=1))
    out: dict[str, Any] = {"role": actor.role, "today": today.isoformat()}
    if actor.role == Role.ADMIN:
        out["lagging"] = lagging_projects(session, last_month)
        out["proposed_checks"] = lagging_projects(session, last_month)
        out["proposed_letters"] = [_letter_dict(x) for x in repo.list_letters(session, status="proposed")]
        out["overdue_problems"] = [
            p for p in list_problems(session, actor, today=today, open_only=True) if p["overdue"]
        ]
    elif actor.role == Role.INSPECTOR:
        out["assigned_checks"] = [
            _plan_dict(p) for p in repo.list_plans(session, inspector_id=actor.id) if p.status == "planned"
        ]
        out["problems_to_verify"] = [
            p
            for p in list_problems(session, actor, today=today, open_only=True)
            if p["status"] == "rectifying"
        ]
    elif actor.role == Role.LEADER:
        mine = projects_repo.list_projects(
            session, scope=project_scope(actor), filters=projects_repo.ProjectFilter(leader_id=actor.id)
        )[0]
        ids = {p.id for p in mine}
        statuses = repo.latest_statuses(session, last_month)
        out["my_projects"] = [
            {
                "id": p.id,
                "code": p.code,
                "name": p.name,
                "status": statuses[p.id].status if p.id in statuses else None,
            }
            for p in mine
        ]
        out["overdue_problems"] = [
            p
            for p in list_problems(session, actor, today=today, open_only=True)
            if p["overdue"] and p["project_id"] in ids
        ]
        out["planned_checks"] = [
            _plan_dict(p)
            for p in repo.list_plans(session)
            if p.status == "planned" and any(x.id in ids for x in p.projects)
        ]
    elif _is_project_side(actor):
        problems = list_problems(session, actor, today=today, open_only=True)
        out["problems"] = problems
        out["letters"] = list_letters(session, actor)
        reported = defaultdict(set)
        mine = _own_project_ids(session, actor)
        for pid in mine:
            for p in projects_repo.list_progress(session, pid):
                reported[pid].add(p.month)
        out["reports_due"] = [
            {"project_id": pid, "month": last_month.strftime("%Y-%m")}
            for pid in mine
            if last_month not in reported[pid]
        ]
    else:
        out["lagging"] = lagging_projects(session, last_month)
    return out
