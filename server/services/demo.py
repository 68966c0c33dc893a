"""Loading the reference layers and the demo county, idempotently."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from geoalchemy2.shape import from_shape
from sqlalchemy.orm import Session

from gis_data import demo as demo_data
from gis_data.crs import STORAGE_SRID
from gis_data.reference_layers import load_county, load_townships
from server import rules
from server.domain import Role, UnitKind
from server.models import Project, ProjectProgress, Unit, User
from server.repositories import projects as projects_repo
from server.repositories import reference as reference_repo
from server.repositories import units as units_repo
from server.security import hash_password
from server.services import audit
from server.services.transaction import unit_of_work

COUNTY_SOURCE = (
    "DataV outline of 620521 (GCJ-02), converted to CGCS2000 with prcoords;"
    " see gis_data/reference/PROVENANCE.md"
)
ADMIN_UNIT = "清水县发展和改革局"
LAND_UNIT = "清水县自然资源局"
LEADER_OFFICE = "县级领导办公室"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """A demo login printed by ``make serve`` and listed in the README."""

    username: str
    full_name: str
    role: Role
    unit: str
    title: str | None = None


def demo_accounts() -> list[DemoAccount]:
    """The demo logins, one or more per role."""
    first_unit = demo_data.DEMO_LEGAL_PERSON_UNITS[0]
    accounts = [
        DemoAccount("admin", "发改局管理员", Role.ADMIN, ADMIN_UNIT, "县发改局项目办"),
        DemoAccount("land", "自然资源局审查员", Role.LAND_BUREAU, LAND_UNIT, "县自然资源局用地股"),
        DemoAccount("inspector", "督查员", Role.INSPECTOR, ADMIN_UNIT, "县发改局督查组"),
        DemoAccount("unit", "项目单位填报员", Role.PROJECT_UNIT, first_unit),
        DemoAccount("township", "永清镇填报员", Role.TOWNSHIP, "永清镇人民政府"),
    ]
    accounts += [
        DemoAccount(leader.username, leader.full_name, Role.LEADER, LEADER_OFFICE, leader.title)
        for leader in demo_data.DEMO_LEADERS
    ]
    return accounts


def load_reference_layers(session: Session) -> int:
    """Load the county outline and townships if missing; returns how many townships were added."""
    added = 0
    with unit_of_work(session):
        if reference_repo.get_county(session) is None:
            reference_repo.add_county(
                session, adcode="620521", name="清水县", source=COUNTY_SOURCE, geom=load_county()
            )
        existing = {t.code for t in reference_repo.list_townships(session)}
        for township in load_townships():
            if township.code not in existing:
                reference_repo.add_township(
                    session,
                    code=township.code,
                    name=township.name,
                    illustrative=township.illustrative,
                    geom=township.geometry,
                )
                added += 1
    return added


def _ensure_unit(session: Session, name: str, kind: UnitKind, township_id: int | None = None) -> Unit:
    unit = units_repo.unit_by_name(session, name)
    if unit is None:
        unit = units_repo.add_unit(session, Unit(name=name, kind=kind.value, township_id=township_id))
        audit.record(session, None, "demo", "unit", unit.id, after={"name": name, "kind": kind.value})
    return unit


def load_demo(session: Session, *, password: str, progress: Callable[[int, int], None] | None = None) -> int:
    """Load the demo county (units, users, ~60 projects, monthly progress); returns projects added.

    Idempotent: whatever already exists (by name, username or project code) is left as it is.
    """
    load_reference_layers(session)
    projects = demo_data.demo_projects()
    added = 0
    with unit_of_work(session):
        townships = {t.name: t for t in reference_repo.list_townships(session)}
        for name in demo_data.DEMO_DEPARTMENTS:
            _ensure_unit(session, name, UnitKind.DEPARTMENT)
        for name in demo_data.DEMO_LEGAL_PERSON_UNITS:
            _ensure_unit(session, name, UnitKind.LEGAL_PERSON)
        for township in townships.values():
            _ensure_unit(session, f"{township.name}人民政府", UnitKind.TOWNSHIP, township.id)
        _ensure_unit(session, LEADER_OFFICE, UnitKind.LEADER_OFFICE)
        _ensure_unit(session, ADMIN_UNIT, UnitKind.DEPARTMENT)
        _ensure_unit(session, LAND_UNIT, UnitKind.DEPARTMENT)
        password_hash = hash_password(password)
        for account in demo_accounts():
            if units_repo.user_by_username(session, account.username) is None:
                unit = units_repo.unit_by_name(session, account.unit)
                assert unit is not None, account.unit
                user = units_repo.add_user(
                    session,
                    User(
                        username=account.username,
                        full_name=account.full_name,
                        title=account.title,
                        password_hash=password_hash,
                        role=account.role.value,
                        unit_id=unit.id,
                        is_active=True,
                    ),
                )
                audit.record(session, None, "demo", "user", user.id, after={"username": user.username})
        for index, item in enumerate(projects):
            if projects_repo.project_by_code(session, item.code) is None:
                _add_demo_project(session, item, townships)
                added += 1
            if progress is not None:
                progress(index + 1, len(projects))
    return added


def _add_demo_project(session: Session, item: demo_data.DemoProject, townships: dict) -> None:
    def unit(name: str) -> Unit:
        found = units_repo.unit_by_name(session, name)
        if found is None:
            found = _ensure_unit(session, name, UnitKind.DEPARTMENT)
        return found

    leader = units_repo.user_by_username(session, item.leader)
    assert leader is not None, item.leader
    exemption = rules.ThresholdExemption(item.threshold_exemption) if item.threshold_exemption else None
    project = Project(
        code=item.code,
        name=item.name,
        category=item.category,
        industry=item.industry,
        township=townships[item.township],
        lead_unit=unit(item.lead_unit),
        legal_person_unit=unit(item.legal_person_unit),
        responsible_units=list({u.id: u for u in (unit(n) for n in item.responsible_units)}.values()),
        leader=leader,
        content=item.content,
        total_investment_yuan=item.total_investment_yuan,
        annual_plan_yuan=item.annual_plan_yuan,
        threshold_exemption=exemption.value if exemption else None,
        planned_start=item.planned_start,
        list_year=item.list_year,
        energy_tce=item.energy_tce,
        status=item.status,
        list_tier=rules.list_tier(item.total_investment_yuan, item.annual_plan_yuan).value,
        energy_review_level=rules.energy_review_level(item.energy_tce).value,
        site=from_shape(item.site, srid=STORAGE_SRID) if item.site is not None else None,
    )
    projects_repo.add_project(session, project)
    for report in item.progress:
        projects_repo.add_progress(
            session,
            ProjectProgress(
                project_id=project.id,
                month=report.month,
                amount_completed_yuan=report.amount_yuan,
                physical_progress=report.note,
            ),
        )
    audit.record(session, None, "demo", "project", project.id, after={"code": project.code})


def load_demo_history(session: Session, *, store, today=None) -> bool:
    """The twelve-month supervision history of the demo county, its land data and site photos (idempotent).

    Each part checks on its own what is already there, so a database loaded by an older version gets the
    parts it lacks: the illustrative plan edition and land-demand parcels (``services.demo_land``) and the
    inspections' photos (``services.demo_photos``).
    """
    import datetime as dt

    from server.services.demo_history import load_history
    from server.services.demo_land import load_demo_land
    from server.services.demo_photos import load_demo_photos

    added = load_history(session, today=today or dt.date.today(), store=store)
    load_demo_land(session)
    load_demo_photos(session, store=store)
    return added


def database_is_empty(session: Session) -> bool:
    """True when no project is stored (``make serve`` then loads the demo county)."""
    return projects_repo.count_projects(session) == 0
