"""A twelve-month supervision history for the demo county, so every role's view shows something real:
monthly statuses, periodic checks with inspections and problems, leaders' visits and meetings,
letters proposed by the rules (a few issued), a random draw, and one secret special check ahead."""

from __future__ import annotations

import datetime as dt
import random
import uuid

from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_data import demo as demo_data
from server.domain import Role
from server.models import CheckPlan, Inspection, LeaderMeeting, Problem, Project, User
from server.repositories import supervision as repo
from server.services import supervision
from server.services.transaction import unit_of_work
from server.storage import BlobStore

SEED = 2026
PROBLEM_TEXTS = (
    "施工现场安全防护网缺失，未按规范设置警示标志。",
    "实际完成工程量与月报投资额不符，月报数据偏高。",
    "征地拆迁遗留问题未解决，影响施工作业面。",
    "建设资金拨付滞后，施工单位人员设备不足。",
    "环评批复要求的扬尘防治措施未落实。",
    "项目用地报批手续尚未完成即开工建设。",
)


def _site_point(project: Project) -> tuple[float, float] | None:
    if project.site is None:
        return None
    point = to_shape(project.site).representative_point()
    return point.y, point.x


def load_history(session: Session, *, today: dt.date, store: BlobStore) -> bool:
    """Add the history once (skipped when any check plan exists); returns whether it was added."""
    if session.scalar(select(func.count()).select_from(CheckPlan)):
        return False
    rng = random.Random(SEED)
    users = list(session.scalars(select(User).order_by(User.id)))
    admin = next(u for u in users if u.role == Role.ADMIN)
    inspector = next(u for u in users if u.role == Role.INSPECTOR)
    leaders = [u for u in users if u.role == Role.LEADER]
    # The months of the demo list year already over (all twelve once that year has passed).
    year = demo_data.LIST_YEAR
    last = 12 if today.year > year else today.month - 1 if today.year == year else 0
    months = [dt.date(demo_data.LIST_YEAR, m, 1) for m in range(1, last + 1)]
    with unit_of_work(session):
        for month in months:
            supervision.refresh_statuses(session, month)
        projects = {p.id: p for p in session.scalars(select(Project)).unique()}
        for month in months:
            lagging = [r["project_id"] for r in supervision.lagging_projects(session, month)][:4]
            if not lagging:
                continue
            check_day = month + dt.timedelta(days=rng.randint(9, 20))
            plan = repo.add(
                session,
                CheckPlan(
                    kind="periodic",
                    title=f"{month.month}月重点项目定期督查",
                    planned_date=check_day,
                    status="carried_out",
                    created_by_id=admin.id,
                    carried_out_at=dt.datetime.combine(check_day, dt.time(17), dt.UTC),
                ),
            )
            plan.projects = [projects[pid] for pid in lagging]
            plan.inspectors = [inspector]
            for pid in lagging:
                project = projects[pid]
                point = _site_point(project)
                started = dt.datetime.combine(check_day, dt.time(10), dt.UTC)
                inspection = repo.add(
                    session,
                    Inspection(
                        id=uuid.UUID(int=rng.getrandbits(128), version=4),
                        project_id=pid,
                        inspector_id=inspector.id,
                        started_at=started,
                        check_date=check_day,
                        device_lat=point[0] if point else None,
                        device_lon=point[1] if point else None,
                        device_accuracy_m=8.0,
                        device_fixed_at=started,
                        findings="现场核查实物工程量与资金拨付情况。",
                        status="submitted",
                        submitted_at=started,
                        check_plan_id=plan.id,
                    ),
                )
                if rng.random() < 0.7:
                    found = check_day
                    deadline = found + dt.timedelta(days=rng.choice((10, 15, 30)))
                    closed = deadline < today and rng.random() < 0.5
                    repo.add(
                        session,
                        Problem(
                            project_id=pid,
                            inspection_id=inspection.id,
                            description=rng.choice(PROBLEM_TEXTS),
                            responsible_unit_id=project.legal_person_unit_id,
                            found_on=found,
                            deadline=deadline,
                            status="rectifying" if closed else rng.choice(("open", "rectifying")),
                            rectification_note="已制定整改方案。" if closed else "",
                            created_by_id=inspector.id,
                        ),
                    )
        for leader in leaders:
            own = [p for p in projects.values() if p.leader_id == leader.id and p.site is not None]
            if not own:
                continue
            for month in months:
                for visit in range(rng.choice((0, 1, 2, 2, 3))):
                    project = rng.choice(own)
                    point = _site_point(project)
                    day = month + dt.timedelta(days=min(27, 3 + visit * 9 + rng.randint(0, 5)))
                    started = dt.datetime.combine(day, dt.time(9, 30), dt.UTC)
                    repo.add(
                        session,
                        Inspection(
                            id=uuid.UUID(int=rng.getrandbits(128), version=4),
                            project_id=project.id,
                            inspector_id=leader.id,
                            started_at=started,
                            check_date=day,
                            device_lat=point[0],
                            device_lon=point[1],
                            device_accuracy_m=15.0,
                            device_fixed_at=started,
                            findings="包抓领导现场调研督导。",
                            status="submitted",
                            submitted_at=started,
                        ),
                    )
                if rng.random() < 0.75:
                    project = rng.choice(own)
                    repo.add(
                        session,
                        LeaderMeeting(
                            leader_id=leader.id,
                            project_id=project.id,
                            held_on=month + dt.timedelta(days=rng.randint(5, 25)),
                            title=f"{project.name}推进会",
                            created_by_id=leader.id,
                        ),
                    )
        future = repo.add(
            session,
            CheckPlan(
                kind="special",
                title="资金未落实项目专项督查（四不两直）",
                planned_date=today + dt.timedelta(days=9),
                status="planned",
                created_by_id=admin.id,
                notes="不发通知、不打招呼、不听汇报、不用陪同接待。",
            ),
        )
        targets = [pid for pid in sorted(projects) if projects[pid].status == "under_construction"][:3]
        future.projects = [projects[pid] for pid in targets]
        future.inspectors = [inspector]
    if months:
        supervision.escalate_overdue(session, today=today)
        proposals = supervision.propose_letters(session, None, today=today)
        for proposal in proposals[:3]:
            supervision.issue_letter(session, admin, proposal["id"], store=store, today=today)
    return True
