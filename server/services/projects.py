"""Key projects: create, read, update, list, GeoJSON export and import, monthly progress."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from pydantic import ValidationError
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gis_data.crs import STORAGE_SRID
from gis_data.reference_layers import load_county
from gis_data.site_geometry import GeometryProblem, parse_site
from server import rules
from server.domain import Role
from server.errors import AppError, Forbidden, Invalid, NotFound, translate_db_error, validation_problem
from server.models import Project, ProjectProgress, Unit, User
from server.permissions import (
    can_change_list,
    can_edit_project_site,
    can_read_project,
    can_report_progress,
    project_scope,
)
from server.repositories import projects as projects_repo
from server.repositories import reference as reference_repo
from server.repositories import units as units_repo
from server.repositories.projects import ProjectFilter
from server.schemas.common import Page, Ref
from server.schemas.project import (
    UNIT_EDITABLE_FIELDS,
    LeaderRef,
    ProgressCreate,
    ProgressRead,
    ProgressUpdate,
    ProjectCreate,
    ProjectRead,
    ProjectUpdate,
)
from server.services import audit
from server.services.transaction import unit_of_work

#: Oldest and newest dates the list accepts (a typo like 0202 or 9999 is refused, not stored).
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteRules:
    """How strictly a site must lie inside the county."""

    county_tolerance_m: float = 500.0


# --- reading -------------------------------------------------------------------------------------


CENT = Decimal("0.01")


def _yuan(value: Decimal) -> Decimal:
    """Amounts always read back with two decimals, whether fresh from a request or from the database."""
    return Decimal(value).quantize(CENT)


def _ref(unit: Unit | Any) -> Ref:
    return Ref(id=unit.id, name=unit.name)


def site_geojson(project: Project) -> dict[str, Any] | None:
    """The project site as a GeoJSON geometry (full double precision)."""
    if project.site is None:
        return None
    return dict(mapping(to_shape(project.site)))


def to_read(project: Project) -> ProjectRead:
    """Shape a project for the API."""
    exemption = rules.ThresholdExemption(project.threshold_exemption) if project.threshold_exemption else None
    return ProjectRead(
        id=project.id,
        code=project.code,
        name=project.name,
        category=project.category,
        industry=project.industry,
        township=_ref(project.township),
        lead_unit=_ref(project.lead_unit),
        legal_person_unit=_ref(project.legal_person_unit),
        responsible_units=[_ref(u) for u in project.responsible_units],
        leader=LeaderRef(
            id=project.leader.id, full_name=project.leader.full_name, title=project.leader.title
        ),
        content=project.content,
        total_investment_yuan=_yuan(project.total_investment_yuan),
        annual_plan_yuan=_yuan(project.annual_plan_yuan),
        threshold_exemption=exemption,
        meets_selection_threshold=rules.meets_selection_threshold(
            project.total_investment_yuan, project.annual_plan_yuan, exemption
        ),
        planned_start=project.planned_start,
        list_year=project.list_year,
        energy_tce=project.energy_tce,
        energy_review_level=project.energy_review_level,
        status=project.status,
        list_tier=project.list_tier,
        site=site_geojson(project),
        created_at=project.created_at,
        updated_at=project.updated_at,
    )


def _snapshot(project: Project) -> dict[str, Any]:
    return to_read(project).model_dump(mode="json")


def _visible(session: Session, actor: User, project_id: int, *, for_update: bool = False) -> Project:
    project = projects_repo.get_project(session, project_id, for_update=for_update)
    if project is None:
        raise NotFound(f"项目 {project_id} 不存在。", code="project_not_found")
    if not can_read_project(actor, project):
        raise Forbidden("无权查看该项目。")
    return project


def visible_project(session: Session, actor: User, project_id: int) -> Project:
    """The project, if it exists (else 404) and ``actor`` may see it (else 403)."""
    return _visible(session, actor, project_id)


def get_project(session: Session, actor: User, project_id: int) -> ProjectRead:
    """One project the actor may see."""
    return to_read(_visible(session, actor, project_id))


def list_projects(
    session: Session, actor: User, filters: ProjectFilter, *, page: int, page_size: int
) -> Page[ProjectRead]:
    """A page of the projects the actor may see, filtered."""
    items, total = projects_repo.list_projects(
        session, scope=project_scope(actor), filters=filters, offset=(page - 1) * page_size, limit=page_size
    )
    return Page[ProjectRead](items=[to_read(p) for p in items], total=total, page=page, page_size=page_size)


# --- checking ------------------------------------------------------------------------------------


def county_extent() -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) of the county outline."""
    return tuple(load_county().bounds)  # type: ignore[return-value]


def check_site(session: Session, geojson: dict[str, Any], site_rules: SiteRules) -> BaseGeometry:
    """Parse a site and check it lies in the county; raises Invalid with a geometry_* code."""
    try:
        geom = parse_site(geojson, extent=county_extent())
    except GeometryProblem as problem:
        raise Invalid(problem.message, code=problem.code) from problem
    inside = reference_repo.within_county(
        session, from_shape(geom, srid=STORAGE_SRID), tolerance_m=site_rules.county_tolerance_m
    )
    if inside is False:
        raise Invalid(
            "项目位置不在清水县境内，请检查坐标（应为 CGCS2000 经纬度，先经度后纬度）。",
            code="geometry_outside_county",
        )
    return geom


def _check_dates(planned_start: dt.date, list_year: int) -> None:
    if not EARLIEST_DATE.year <= list_year <= LATEST_DATE.year:
        raise Invalid(f"清单年度 {list_year} 超出范围（2000–2100）。", code="date_out_of_range")
    if not EARLIEST_DATE <= planned_start <= LATEST_DATE:
        raise Invalid(
            f"计划开（复）工日期 {planned_start.isoformat()} 超出范围（2000-01-01 至 2100-12-31）。",
            code="date_out_of_range",
        )
    if abs(planned_start.year - list_year) > 15:
        raise Invalid(
            f"计划开（复）工日期 {planned_start.isoformat()} 与清单年度 {list_year} 相差超过 15 年，请核对。",
            code="date_out_of_range",
        )


def _check_amounts(total: Decimal, annual: Decimal, exemption: rules.ThresholdExemption | None) -> None:
    if annual > total:
        raise Invalid(
            f"年度计划投资（{annual} 元）不能大于总投资（{total} 元）。", code="annual_exceeds_total"
        )
    if not rules.meets_selection_threshold(total, annual, exemption):
        raise Invalid(
            "总投资应不低于 500 万元且年度计划投资不低于 200 万元（实施方案第 2 条）；"
            "社会事业、重大技术改造、高科技产业项目可设置 threshold_exemption 适当降低标准。",
            code="below_selection_threshold",
        )


def _resolve_refs(
    session: Session,
    *,
    township_id: int,
    lead_unit_id: int,
    legal_person_unit_id: int,
    responsible_unit_ids: list[int],
    leader_id: int,
) -> dict[str, Any]:
    township = reference_repo.get_township(session, township_id)
    if township is None:
        raise Invalid(f"乡镇 {township_id} 不存在，请从乡镇列表中选择。", code="unknown_township")
    wanted = {lead_unit_id, legal_person_unit_id, *responsible_unit_ids}
    found = {u.id: u for u in units_repo.units_by_ids(session, sorted(wanted))}
    missing = sorted(wanted - found.keys())
    if missing:
        raise Invalid(f"单位 {missing} 不存在，请从单位列表中选择。", code="unknown_unit")
    leader = units_repo.get_user(session, leader_id)
    if leader is None or leader.role != Role.LEADER:
        raise Invalid(f"包抓县级领导 {leader_id} 不存在或不是县级领导账号。", code="unknown_leader")
    return {
        "township": township,
        "lead_unit": found[lead_unit_id],
        "legal_person_unit": found[legal_person_unit_id],
        "responsible_units": [found[i] for i in dict.fromkeys(responsible_unit_ids)],
        "leader": leader,
    }


def _apply_derived(project: Project) -> None:
    """Set the columns that the seed's rules derive (§4 tier, §9 energy review level)."""
    project.list_tier = rules.list_tier(project.total_investment_yuan, project.annual_plan_yuan).value
    project.energy_review_level = rules.energy_review_level(project.energy_tce).value


# --- writing -------------------------------------------------------------------------------------


def _build_project(session: Session, data: ProjectCreate, site_rules: SiteRules) -> Project:
    _check_amounts(data.total_investment_yuan, data.annual_plan_yuan, data.threshold_exemption)
    _check_dates(data.planned_start, data.list_year)
    refs = _resolve_refs(
        session,
        township_id=data.township_id,
        lead_unit_id=data.lead_unit_id,
        legal_person_unit_id=data.legal_person_unit_id,
        responsible_unit_ids=data.responsible_unit_ids,
        leader_id=data.leader_id,
    )
    site = check_site(session, data.site, site_rules) if data.site is not None else None
    project = Project(
        code=data.code,
        name=data.name,
        category=data.category.value,
        industry=data.industry,
        content=data.content,
        total_investment_yuan=data.total_investment_yuan,
        annual_plan_yuan=data.annual_plan_yuan,
        threshold_exemption=data.threshold_exemption.value if data.threshold_exemption else None,
        planned_start=data.planned_start,
        list_year=data.list_year,
        energy_tce=data.energy_tce,
        status=data.status.value,
        site=from_shape(site, srid=STORAGE_SRID) if site is not None else None,
        **refs,
    )
    _apply_derived(project)
    return project


def create_project(
    session: Session, actor: User, data: ProjectCreate, site_rules: SiteRules = SiteRules()
) -> ProjectRead:
    """Add a project to the list (admin only)."""
    if not can_change_list(actor):
        raise Forbidden("只有发改局管理员可以新增清单项目。")
    with unit_of_work(session):
        project = projects_repo.add_project(session, _build_project(session, data, site_rules))
        audit.record(session, actor, "create", "project", project.id, after=_snapshot(project))
    return to_read(project)


def _update_in_tx(
    session: Session, actor: User, project: Project, data: ProjectUpdate, site_rules: SiteRules
) -> None:
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        return
    list_fields = set(changes) - UNIT_EDITABLE_FIELDS
    if not can_change_list(actor):
        if not can_edit_project_site(actor, project):
            raise Forbidden("无权修改该项目。")
        if list_fields:
            raise Forbidden(
                f"清单字段 {sorted(list_fields)} 只能由发改局修改；项目单位可修改项目位置和建设状态。",
                code="list_field_forbidden",
            )
    before = _snapshot(project)
    merged = {
        "township_id": project.township_id,
        "lead_unit_id": project.lead_unit_id,
        "legal_person_unit_id": project.legal_person_unit_id,
        "responsible_unit_ids": [u.id for u in project.responsible_units],
        "leader_id": project.leader_id,
    }
    ref_keys = set(merged) & set(changes)
    if ref_keys:
        merged.update({k: changes[k] for k in ref_keys})
        for key, value in _resolve_refs(session, **merged).items():
            setattr(project, key, value)
    total = changes.get("total_investment_yuan", project.total_investment_yuan)
    annual = changes.get("annual_plan_yuan", project.annual_plan_yuan)
    exemption = changes.get("threshold_exemption", project.threshold_exemption)
    exemption_enum = rules.ThresholdExemption(exemption) if exemption else None
    if {"total_investment_yuan", "annual_plan_yuan", "threshold_exemption"} & set(changes):
        _check_amounts(total, annual, exemption_enum)
    if {"planned_start", "list_year"} & set(changes):
        _check_dates(
            changes.get("planned_start", project.planned_start), changes.get("list_year", project.list_year)
        )
    for key in (
        "code",
        "name",
        "industry",
        "content",
        "planned_start",
        "list_year",
        "energy_tce",
        "total_investment_yuan",
        "annual_plan_yuan",
    ):
        if key in changes:
            setattr(project, key, changes[key])
    for key in ("category", "status", "threshold_exemption"):
        if key in changes:
            value = changes[key]
            setattr(project, key, value.value if hasattr(value, "value") else value)
    if "site" in changes:
        site = changes["site"]
        project.site = (
            from_shape(check_site(session, site, site_rules), srid=STORAGE_SRID) if site is not None else None
        )
    _apply_derived(project)
    project.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    audit.record(session, actor, "update", "project", project.id, before=before, after=_snapshot(project))


def update_project(
    session: Session, actor: User, project_id: int, data: ProjectUpdate, site_rules: SiteRules = SiteRules()
) -> ProjectRead:
    """Change a project: list fields by admin, site and status also by the project's own unit."""
    with unit_of_work(session):
        project = _visible(session, actor, project_id, for_update=True)
        _update_in_tx(session, actor, project, data, site_rules)
    session.refresh(project)
    return to_read(project)


# --- GeoJSON in and out --------------------------------------------------------------------------


def _number(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


def to_feature(project: Project) -> dict[str, Any]:
    """A project as a GeoJSON Feature whose properties name (not number) the related records."""
    return {
        "type": "Feature",
        "id": project.code,
        "geometry": site_geojson(project),
        "properties": {
            "code": project.code,
            "name": project.name,
            "category": project.category,
            "industry": project.industry,
            "township": project.township.name,
            "lead_unit": project.lead_unit.name,
            "legal_person_unit": project.legal_person_unit.name,
            "responsible_units": [u.name for u in project.responsible_units],
            "leader": project.leader.username,
            "leader_name": project.leader.full_name,
            "content": project.content,
            "total_investment_yuan": _number(project.total_investment_yuan),
            "annual_plan_yuan": _number(project.annual_plan_yuan),
            "threshold_exemption": project.threshold_exemption,
            "planned_start": project.planned_start.isoformat(),
            "list_year": project.list_year,
            "energy_tce": project.energy_tce,
            "status": project.status,
            "list_tier": project.list_tier,
            "energy_review_level": project.energy_review_level,
        },
    }


def export_feature_collection(session: Session, actor: User, filters: ProjectFilter) -> dict[str, Any]:
    """The actor's visible, filtered list as a GeoJSON FeatureCollection (CGCS2000 lon/lat)."""
    items, _ = projects_repo.list_projects(session, scope=project_scope(actor), filters=filters)
    return {
        "type": "FeatureCollection",
        "name": "sitewatch_projects",
        "features": [to_feature(p) for p in items],
    }


def _decimal(value: Any) -> Any:
    if isinstance(value, float | int) and not isinstance(value, bool):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return value
    return value


def _feature_to_create(session: Session, feature: Any) -> ProjectCreate:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise Invalid("每个要素应为 GeoJSON Feature。", code="import_feature_malformed")
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise Invalid("要素 properties 应为对象。", code="import_feature_malformed")
    township = reference_repo.township_by_name(session, str(props.get("township", "")))
    if township is None:
        raise Invalid(f"乡镇“{props.get('township')}”不存在。", code="unknown_township")

    def unit_id(name: Any) -> int:
        unit = units_repo.unit_by_name(session, str(name))
        if unit is None:
            raise Invalid(f"单位“{name}”不存在。", code="unknown_unit")
        return unit.id

    leader = units_repo.user_by_username(session, str(props.get("leader", "")))
    if leader is None:
        raise Invalid(f"包抓县级领导账号“{props.get('leader')}”不存在。", code="unknown_leader")
    responsible = props.get("responsible_units") or []
    if not isinstance(responsible, list):
        raise Invalid("responsible_units 应为单位名称数组。", code="import_feature_malformed")
    payload = {
        "code": props.get("code"),
        "name": props.get("name"),
        "category": props.get("category"),
        "industry": props.get("industry"),
        "township_id": township.id,
        "lead_unit_id": unit_id(props.get("lead_unit")),
        "legal_person_unit_id": unit_id(props.get("legal_person_unit")),
        "responsible_unit_ids": [unit_id(n) for n in responsible],
        "leader_id": leader.id,
        "content": props.get("content"),
        "total_investment_yuan": _decimal(props.get("total_investment_yuan")),
        "annual_plan_yuan": _decimal(props.get("annual_plan_yuan")),
        "threshold_exemption": props.get("threshold_exemption"),
        "planned_start": props.get("planned_start"),
        "list_year": props.get("list_year"),
        "energy_tce": props.get("energy_tce"),
        "status": props.get("status") or "not_started",
        "site": feature.get("geometry"),
    }
    try:
        return ProjectCreate.model_validate(payload)
    except ValidationError as exc:
        raise validation_problem(list(exc.errors())) from exc


def _at_feature(error: AppError, index: int) -> AppError:
    error.detail = f"第 {index + 1} 个要素：{error.detail}"
    error.extra = {**error.extra, "feature_index": index}
    return error


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did."""

    created: int
    updated: int
    codes: list[str]


def import_feature_collection(
    session: Session,
    actor: User,
    collection: Any,
    *,
    update_existing: bool = False,
    site_rules: SiteRules = SiteRules(),
    progress: Any = None,
) -> ImportReport:
    """Import projects from a FeatureCollection, all or nothing (admin only).

    Existing codes are refused unless ``update_existing``; then their fields are replaced.
    ``progress`` (optional) is called with the number of features done, for progress bars.
    """
    if not can_change_list(actor):
        raise Forbidden("只有发改局管理员可以导入清单项目。")
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise Invalid("导入文件应为 GeoJSON FeatureCollection。", code="import_not_feature_collection")
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        raise Invalid("FeatureCollection 中没有要素。", code="import_empty")
    created = updated = 0
    codes: list[str] = []
    with unit_of_work(session):
        for index, feature in enumerate(features):
            try:
                data = _feature_to_create(session, feature)
                existing = projects_repo.project_by_code(session, data.code)
                if existing is not None and update_existing:
                    changes = ProjectUpdate.model_validate(data.model_dump(exclude={"code"}))
                    _update_in_tx(session, actor, existing, changes, site_rules)
                    updated += 1
                else:
                    project = projects_repo.add_project(session, _build_project(session, data, site_rules))
                    audit.record(session, actor, "import", "project", project.id, after=_snapshot(project))
                    created += 1
                codes.append(data.code)
            except DBAPIError as exc:
                translated = translate_db_error(exc)
                if translated is None:
                    raise
                raise _at_feature(translated, index) from exc
            except AppError as error:
                raise _at_feature(error, index) from error
            if progress is not None:
                progress(index + 1)
    return ImportReport(created=created, updated=updated, codes=codes)


# --- monthly progress ----------------------------------------------------------------------------


def _progress_read(p: ProjectProgress, photo_ids: list[str] | None = None) -> ProgressRead:
    return ProgressRead(
        photo_ids=photo_ids or [],
        id=p.id,
        project_id=p.project_id,
        month=p.month.strftime("%Y-%m"),
        amount_completed_yuan=_yuan(p.amount_completed_yuan),
        physical_progress=p.physical_progress,
        reported_by_id=p.reported_by_id,
        reported_at=p.reported_at,
    )


def _progress_snapshot(p: ProjectProgress) -> dict[str, Any]:
    return _progress_read(p).model_dump(mode="json")


def _refresh_statuses(session: Session, project: Project, month: dt.date) -> None:
    """Keep the monthly status history in step with the reports."""
    from server.services.supervision import refresh_project_from  # supervision builds on projects

    if month.year == project.list_year:
        refresh_project_from(session, project.id, month)


def list_progress(session: Session, actor: User, project_id: int) -> list[ProgressRead]:
    """A project's monthly reports."""
    _visible(session, actor, project_id)
    reports = projects_repo.list_progress(session, project_id)
    photos = projects_repo.progress_photo_ids(session, [p.id for p in reports])
    return [_progress_read(p, photos.get(p.id)) for p in reports]


def report_progress(
    session: Session, actor: User, project_id: int, data: ProgressCreate, *, today: dt.date | None = None
) -> ProgressRead:
    """Record one month's completed investment; a second report for the same month is refused."""
    today = today or dt.date.today()
    month = dt.date(int(data.month[:4]), int(data.month[5:7]), 1)
    if month > today.replace(day=1):
        raise Invalid(f"不能填报未来月份（{data.month}）的进度。", code="progress_future_month")
    if month.year < EARLIEST_DATE.year:
        raise Invalid(f"月份 {data.month} 超出范围。", code="date_out_of_range")
    with unit_of_work(session):
        project = _visible(session, actor, project_id)
        if not can_report_progress(actor, project):
            raise Forbidden("无权填报该项目的进度。")
        photo_ids = list(dict.fromkeys(data.photo_ids))
        owners = projects_repo.photo_projects(session, photo_ids)
        wrong = [str(p) for p in photo_ids if owners.get(str(p)) != project.id]
        if wrong:
            raise Invalid(
                f"照片 {wrong} 不存在或不属于该项目，请先通过现场拍照上传。", code="photo_not_in_project"
            )
        progress = projects_repo.add_progress(
            session,
            ProjectProgress(
                project_id=project.id,
                month=month,
                amount_completed_yuan=data.amount_completed_yuan,
                physical_progress=data.physical_progress,
                reported_by_id=actor.id,
            ),
        )
        session.refresh(progress)
        projects_repo.link_progress_photos(session, progress.id, photo_ids)
        audit.record(session, actor, "create", "progress", progress.id, after=_progress_snapshot(progress))
        _refresh_statuses(session, project, month)
    return _progress_read(progress, [str(p) for p in photo_ids])


def correct_progress(
    session: Session, actor: User, project_id: int, month_text: str, data: ProgressUpdate
) -> ProgressRead:
    """Correct a month's report (the audit keeps the old figures)."""
    try:
        month = dt.datetime.strptime(month_text, "%Y-%m").date()
    except ValueError as exc:
        raise Invalid(f"月份格式应为 YYYY-MM：{month_text}", code="validation_error") from exc
    with unit_of_work(session):
        project = _visible(session, actor, project_id)
        if not can_report_progress(actor, project):
            raise Forbidden("无权修改该项目的进度。")
        progress = projects_repo.get_progress(session, project_id, month)
        if progress is None:
            raise NotFound(f"{month_text} 没有进度记录。", code="progress_not_found")
        before = _progress_snapshot(progress)
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        for key, value in changes.items():
            setattr(progress, key, value)
        progress.reported_by_id = actor.id
        progress.reported_at = dt.datetime.now(dt.UTC)
        session.flush()
        audit.record(
            session,
            actor,
            "update",
            "progress",
            progress.id,
            before=before,
            after=_progress_snapshot(progress),
        )
        _refresh_statuses(session, project, month)
    return _progress_read(progress)
