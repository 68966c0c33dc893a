"""The county progress map: the projects a user may see with their status, list items, leader, last check
and open problems; as GeoJSON, as a folium page, or as a printed PNG.

Secrecy: checks come only from :func:`server.services.supervision.list_plans`, which hides planned
(unannounced) checks from project units and townships; photos shown to them are only those of submitted
inspections whose check has been carried out.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import geopandas as gpd
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping, shape
from sqlalchemy.orm import Session

from gis_data.crs import STORAGE_SRID
from maps import progress_map, static_map, style
from maps.basemaps import BaseMap, basemap
from server.domain import LABELS_ZH, Role
from server.errors import Invalid
from server.models import Project, User
from server.permissions import project_scope
from server.repositories import dashboard as repo
from server.repositories import projects as projects_repo
from server.repositories import reference as reference_repo
from server.repositories import units as units_repo
from server.repositories.projects import ProjectFilter
from server.services import land as land_service
from server.services import projects as projects_service
from server.services import supervision
from server.settings import Settings

#: The vector tiles of the plan layers and parcels (served by server.api.tiles).
TILE_URL = "/api/v1/tiles/{layer}/{z}/{x}/{y}.mvt"
#: Popups of the county map, fetched when opened (served by server.api.maps).
PROJECT_POPUP_URL = "/api/v1/map/projects/{id}/popup.html"
PARCEL_POPUP_URL = "/api/v1/map/parcels/{id}/popup.html"
#: At most this many photos on the county map (the newest).
COUNTY_PHOTO_LIMIT = 500
#: Progress statuses a map can be filtered by.
PROGRESS_CODES = tuple(s.code for s in style.STATUS_STYLES)
CHECK_KINDS = {"daily": "日常督查", "periodic": "定期督查", "special": "专项督查"}
PARCEL_STATUS_LABELS = {
    "draft": "草稿",
    "submitted": "已提交",
    "in_batch": "已组批报批",
    "approved": "已批准",
}
PROJECT_SIDE = frozenset({Role.PROJECT_UNIT, Role.TOWNSHIP})


def map_options(
    settings: Settings,
    *,
    legend_title: str,
    notes: Sequence[str] = (),
    fit_to_projects: bool = False,
    lazy_popups: bool = False,
) -> progress_map.MapOptions:
    """How the maps link to the app, with the configured base map."""
    return progress_map.MapOptions(
        base=base_map(settings),
        tile_url=TILE_URL,
        legend_title=legend_title,
        extra_notes=tuple(notes),
        fit_to_projects=fit_to_projects,
        project_popup_url=PROJECT_POPUP_URL if lazy_popups else None,
        parcel_popup_url=PARCEL_POPUP_URL if lazy_popups else None,
    )


def base_map(settings: Settings) -> BaseMap:
    """The base map the settings ask for."""
    return basemap(settings.basemap, tianditu_key=settings.tianditu_key)


# --- filters -------------------------------------------------------------------------------------


def check_filters(session: Session, filters: ProjectFilter) -> None:
    """Refuse filters that name something that does not exist (a typo must not give an empty map)."""
    if filters.township_id is not None and reference_repo.get_township(session, filters.township_id) is None:
        raise Invalid(f"乡镇 {filters.township_id} 不存在，请从乡镇列表中选择。", code="unknown_township")
    if filters.leader_id is not None:
        leader = units_repo.get_user(session, filters.leader_id)
        if leader is None or leader.role != Role.LEADER:
            raise Invalid(f"包抓县级领导 {filters.leader_id} 不存在。", code="unknown_leader")
    if filters.industry is not None and not repo.industry_exists(session, filters.industry):
        raise Invalid(
            f"行业“{filters.industry}”不在项目清单中，请从行业列表中选择。", code="unknown_industry"
        )


def filter_choices(session: Session, actor: User) -> dict[str, Any]:
    """What the map's filters offer: townships, industries, leaders, categories and statuses."""
    ids = visible_ids(session, actor)
    return {
        "townships": [{"id": t.id, "name": t.name} for t in reference_repo.list_townships(session)],
        "industries": repo.industries(session, ids),
        "leaders": [
            {"id": u.id, "full_name": u.full_name, "title": u.title}
            for u in units_repo.list_users(session)
            if u.role == Role.LEADER and u.is_active
        ],
        "categories": [
            {"code": c, "label": LABELS_ZH[c]} for c in ("new_start", "continuing", "preparatory")
        ],
        "statuses": [{"code": s.code, "label": s.label, "color": s.color} for s in style.STATUS_STYLES],
        "verdicts": [{"code": k, "label": v[0], "color": v[1]} for k, v in style.VERDICT_STYLES.items()],
    }


def visible_ids(session: Session, actor: User) -> list[int] | None:
    """Ids of the projects ``actor`` may see, or None for every project."""
    scope = project_scope(actor)
    if scope.all:
        return None
    items, _ = projects_repo.list_projects(session, scope=scope, filters=ProjectFilter())
    return [p.id for p in items]


def filtered_project_ids(
    session: Session, actor: User, filters: ProjectFilter, *, progress_status: str | None = None
) -> list[int]:
    """Ids of the visible projects the map's filters keep (the filters checked first)."""
    check_filters(session, filters)
    projects, _ = projects_repo.list_projects(session, scope=project_scope(actor), filters=filters)
    ids = [p.id for p in projects]
    if progress_status is None:
        return ids
    month = latest_month(session)
    statuses = repo.statuses_at(session, month, ids) if month is not None else {}
    return [i for i in ids if (statuses[i].status if i in statuses else style.NO_DATA) == progress_status]


def is_filtered(filters: ProjectFilter, progress_status: str | None) -> bool:
    """Whether any map filter is set."""
    return progress_status is not None or filters != ProjectFilter()


def filter_query(filters: ProjectFilter, progress_status: str | None) -> str:
    """The query string that gives the same filters (for the tiles of a filtered map)."""
    pairs: list[tuple[str, str]] = []
    for name, value in (
        ("township_id", filters.township_id),
        ("category", filters.category),
        ("tier", filters.tier),
        ("leader_id", filters.leader_id),
        ("industry", filters.industry),
        ("status", filters.status),
        ("list_year", filters.list_year),
        ("q", filters.text),
        ("bbox", ",".join(repr(v) for v in filters.bbox) if filters.bbox else None),
        ("progress_status", progress_status),
    ):
        if value is not None:
            pairs.append((name, str(value)))
    return urlencode(pairs)


def latest_month(session: Session) -> dt.date | None:
    """The latest month of the monthly dispatch (statuses), if any."""
    months = repo.status_months(session)
    return months[0] if months else None


# --- project records -----------------------------------------------------------------------------


def _yuan(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def _check_text(plan: dict[str, Any], *, planned: bool) -> str:
    kind = CHECK_KINDS.get(plan["kind"], plan["kind"])
    day = plan["planned_date"] if planned or not plan["carried_out_at"] else plan["carried_out_at"][:10]
    return f"{day} {kind}" + ("（计划）" if planned else "") + f"：{plan['title']}"


def checks_by_project(session: Session, actor: User, *, today: dt.date) -> dict[int, dict[str, Any]]:
    """Each project's last carried-out check and, for those allowed to see plans, its next planned one."""
    out: dict[int, dict[str, Any]] = defaultdict(dict)
    for plan in supervision.list_plans(session, actor):
        carried = plan["status"] == "carried_out"
        for project in plan["projects"]:
            slot = out[project["id"]]
            if carried:
                day = (plan["carried_out_at"] or plan["planned_date"])[:10]
                if "last" not in slot or day > slot["last_day"]:
                    slot.update(last=_check_text(plan, planned=False), last_day=day)
            elif (
                plan["status"] == "planned"
                and plan["planned_date"] >= today.isoformat()
                and ("next" not in slot or plan["planned_date"] < slot["next_day"])
            ):
                slot.update(next=_check_text(plan, planned=True), next_day=plan["planned_date"])
    return out


@dataclass(frozen=True, slots=True)
class ProjectRecords:
    """The projects of a map with the month their statuses are from."""

    month: dt.date | None
    records: list[dict[str, Any]]


def project_records(
    session: Session,
    actor: User,
    filters: ProjectFilter,
    *,
    progress_status: str | None = None,
    today: dt.date | None = None,
    projects: Sequence[Project] | None = None,
) -> ProjectRecords:
    """The visible, filtered projects as flat records (site as a shapely geometry under 'geometry')."""
    today = today or dt.date.today()
    if projects is None:
        check_filters(session, filters)
        projects, _ = projects_repo.list_projects(session, scope=project_scope(actor), filters=filters)
    month = latest_month(session)
    ids = [p.id for p in projects]
    statuses = repo.statuses_at(session, month, ids) if month is not None else {}
    last = repo.last_progress(session, ids)
    problems = repo.problem_counts(session, ids, today)
    checks = checks_by_project(session, actor, today=today)
    records = []
    for p in projects:
        row = statuses.get(p.id)
        code = row.status if row is not None else style.NO_DATA
        if progress_status is not None and code != progress_status:
            continue
        report = last.get(p.id)
        open_count, overdue = problems.get(p.id, (0, 0))
        check = checks.get(p.id, {})
        records.append(
            {
                "id": p.id,
                "code": p.code,
                "name": p.name,
                "status": code,
                "status_label": style.status_style(code).label,
                "status_color": style.status_style(code).color,
                "status_month": month.strftime("%Y-%m") if month else None,
                "construction_status": p.status,
                "construction_label": LABELS_ZH.get(p.status, p.status),
                "category": p.category,
                "category_label": LABELS_ZH.get(p.category, p.category),
                "industry": p.industry,
                "township_id": p.township_id,
                "township": p.township.name,
                "total_investment_yuan": _yuan(p.total_investment_yuan),
                "annual_plan_yuan": _yuan(p.annual_plan_yuan),
                "content": p.content,
                "planned_start": p.planned_start.isoformat(),
                "last_month": report.month.strftime("%Y-%m") if report else None,
                "last_month_completed_yuan": _yuan(report.amount_completed_yuan) if report else None,
                "physical_progress": report.physical_progress if report else None,
                "ytd_completed_yuan": _yuan(row.ytd_completed_yuan) if row is not None else None,
                "ytd_expected_yuan": _yuan(row.ytd_expected_yuan) if row is not None else None,
                "ratio": row.ratio if row is not None else None,
                "leader_id": p.leader_id,
                "leader_name": p.leader.full_name,
                "leader_title": p.leader.title,
                "last_check": check.get("last"),
                "next_check": check.get("next"),
                "open_problems": open_count,
                "overdue_problems": overdue,
                "geometry": to_shape(p.site) if p.site is not None else None,
            }
        )
    return ProjectRecords(month, records)


def _frame(records: Sequence[dict[str, Any]]) -> gpd.GeoDataFrame:
    if not records:
        return gpd.GeoDataFrame(
            {"id": [], "code": [], "name": [], "status": []}, geometry=[], crs=STORAGE_SRID
        )
    return gpd.GeoDataFrame(list(records), geometry="geometry", crs=STORAGE_SRID)


def projects_geojson(
    session: Session, actor: User, filters: ProjectFilter, *, progress_status: str | None = None
) -> dict[str, Any]:
    """The map's projects as a FeatureCollection: site geometry plus a marker point (CGCS2000 lon/lat)."""
    result = project_records(session, actor, filters, progress_status=progress_status)
    features = []
    for record in result.records:
        geom = record.pop("geometry")
        marker = None
        if geom is not None:
            point = geom if geom.geom_type == "Point" else geom.representative_point()
            marker = [point.x, point.y]
        record["marker"] = marker
        features.append(
            {
                "type": "Feature",
                "id": record["id"],
                "geometry": dict(mapping(geom)) if geom is not None else None,
                "properties": record,
            }
        )
    return {
        "type": "FeatureCollection",
        "status_month": result.month.strftime("%Y-%m") if result.month else None,
        "features": features,
    }


# --- layers --------------------------------------------------------------------------------------


def townships_frame(session: Session) -> gpd.GeoDataFrame:
    """Township boundaries (illustrative in the demo county)."""
    rows = reference_repo.list_townships(session)
    return gpd.GeoDataFrame(
        {"id": [t.id for t in rows], "name": [t.name for t in rows]},
        geometry=[to_shape(t.geom) for t in rows],
        crs=STORAGE_SRID,
    )


def county_frame(session: Session) -> gpd.GeoDataFrame | None:
    """The county outline, if loaded."""
    county = reference_repo.get_county(session)
    if county is None:
        return None
    return gpd.GeoDataFrame({"name": [county.name]}, geometry=[to_shape(county.geom)], crs=STORAGE_SRID)


def parcels_frame(
    session: Session, actor: User, project_ids: set[int], *, project_id: int | None = None
) -> gpd.GeoDataFrame | None:
    """Land-demand parcels of the given projects with their latest verdicts."""
    parcels = [
        p
        for p in land_service.list_parcels(session, actor, project_id=project_id)
        if p.project_id in project_ids
    ]
    if not parcels:
        return None
    return gpd.GeoDataFrame(
        {
            "id": [p.id for p in parcels],
            "parcel_code": [p.parcel_code for p in parcels],
            "name": [p.name for p in parcels],
            "project_name": [p.project_name for p in parcels],
            "year": [p.year for p in parcels],
            "status_label": [PARCEL_STATUS_LABELS.get(p.status, p.status) for p in parcels],
            "area_mu": [p.area_mu for p in parcels],
            "verdict": [p.check.verdict if p.check else None for p in parcels],
            "reasons": [[r.get("message", "") for r in p.check.reasons] if p.check else [] for p in parcels],
        },
        geometry=[shape(p.geometry) for p in parcels],
        crs=STORAGE_SRID,
    )


def photo_rows(session: Session, actor: User, project_ids: Sequence[int], *, limit: int | None) -> list[Any]:
    """Located photos of the projects the actor may see (settled checks only for the project side)."""
    return repo.photos(session, list(project_ids), settled_only=actor.role in PROJECT_SIDE, limit=limit)


def photos_frame(rows: Sequence[Any], names: dict[int, str]) -> gpd.GeoDataFrame | None:
    """Located photos as a GeoDataFrame of points."""
    rows = [r for r in rows if r.lon is not None and r.lat is not None]
    if not rows:
        return None
    return gpd.GeoDataFrame(
        {
            "id": [r.id for r in rows],
            "project_name": [names.get(r.project_id, "") for r in rows],
            "taken_at": [_when(r.taken_at or r.uploaded_at) for r in rows],
            "verdict": [r.verdict for r in rows],
            "site_distance_m": [r.site_distance_m for r in rows],
        },
        geometry=gpd.points_from_xy([r.lon for r in rows], [r.lat for r in rows]),
        crs=STORAGE_SRID,
    )


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")


def _month_title(month: dt.date | None) -> str:
    return f"{month.year}年{month.month}月调度" if month else "尚无月度调度数据"


def _filter_note(session: Session, filters: ProjectFilter, progress_status: str | None) -> str | None:
    parts = []
    if filters.township_id is not None:
        town = reference_repo.get_township(session, filters.township_id)
        parts.append(town.name if town else str(filters.township_id))
    if filters.industry:
        parts.append(filters.industry)
    if filters.category:
        parts.append(LABELS_ZH.get(filters.category, filters.category))
    if filters.leader_id is not None:
        leader = units_repo.get_user(session, filters.leader_id)
        parts.append(f"包抓领导：{leader.full_name}" if leader else str(filters.leader_id))
    if progress_status:
        parts.append(style.status_style(progress_status).label)
    if filters.status:
        parts.append(LABELS_ZH.get(filters.status, filters.status))
    if filters.text:
        parts.append(f"“{filters.text}”")
    return "筛选：" + "、".join(parts) if parts else None


# --- the maps ------------------------------------------------------------------------------------


def county_map_html(
    session: Session,
    actor: User,
    filters: ProjectFilter,
    *,
    settings: Settings,
    progress_status: str | None = None,
) -> str:
    """The county progress map page for ``actor`` (what it may see, filtered)."""
    result = project_records(session, actor, filters, progress_status=progress_status)
    ids = {r["id"] for r in result.records}
    names = {r["id"]: r["name"] for r in result.records}
    note = _filter_note(session, filters, progress_status)
    options = map_options(
        settings,
        legend_title=f"项目进度（{_month_title(result.month)}）",
        notes=[n for n in (note, "乡镇界线为示意。") if n],
        # A township or a unit opens on its own projects; the county side on the county (unless filtered).
        fit_to_projects=not project_scope(actor).all
        or filters.township_id is not None
        or filters.bbox is not None,
        # Thousands of projects: each popup is fetched when opened, not written into the page.
        lazy_popups=True,
    )
    # Parcels reach the browser as vector tiles (filtered like the projects); a GCJ-02 base map cannot
    # shift tiles, so there they are written into the page, converted.
    parcel_tile_url = None
    parcels = None
    if options.base.datum == "wgs84":
        parcel_tile_url = TILE_URL.replace("{layer}", "parcels")
        if is_filtered(filters, progress_status):
            parcel_tile_url += "?" + filter_query(filters, progress_status)
    else:
        parcels = parcels_frame(session, actor, ids)
    m = progress_map.county_map(
        _frame(result.records),
        county=county_frame(session),
        townships=townships_frame(session),
        parcels=parcels,
        parcel_tile_url=parcel_tile_url,
        photos=photos_frame(photo_rows(session, actor, sorted(ids), limit=COUNTY_PHOTO_LIMIT), names),
        options=options,
    )
    return progress_map.to_html(m)


def project_popup_html(session: Session, actor: User, project_id: int, *, settings: Settings) -> str:
    """One project's popup on the county map (the five list items, leader, last check, problems)."""
    project = projects_service.visible_project(session, actor, project_id)
    result = project_records(session, actor, ProjectFilter(), projects=[project])
    return progress_map.project_popup_html(result.records[0], options=map_options(settings, legend_title=""))


def parcel_popup_html(session: Session, actor: User, parcel_id: int) -> str:
    """One parcel's popup on the county map: project, year, area, status and its latest verdict."""
    p = land_service.get_parcel(session, actor, parcel_id)
    row = {
        "id": p.id,
        "parcel_code": p.parcel_code,
        "name": p.name,
        "project_name": p.project_name,
        "year": p.year,
        "status_label": PARCEL_STATUS_LABELS.get(p.status, p.status),
        "area_mu": p.area_mu,
        "verdict": p.check.verdict if p.check else None,
        "reasons": [r.get("message", "") for r in p.check.reasons] if p.check else [],
    }
    return progress_map.parcel_popup_html(row)


def county_map_png(
    session: Session, actor: User, filters: ProjectFilter, *, progress_status: str | None = None
) -> bytes:
    """The county progress map as a printable PNG."""
    result = project_records(session, actor, filters, progress_status=progress_status)
    note = _filter_note(session, filters, progress_status)
    subtitle = f"{_month_title(result.month)} · 共 {len(result.records)} 个项目" + (
        f" · {note}" if note else ""
    )
    return static_map.county_png(
        _frame(result.records),
        county=county_frame(session),
        townships=townships_frame(session),
        subtitle=subtitle,
        notes=("乡镇界线为示意。", f"制图：Sitewatch {dt.date.today().isoformat()}"),
    )
