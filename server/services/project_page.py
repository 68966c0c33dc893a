"""A project's page: its site and parcels, photo timeline with before/after pairs, monthly investment
against the plan, problems, letters and checks; and its map as a folium page or a printed PNG.

Everything comes through the services that already scope by role (problems, letters, check plans), so
the project side never sees an unannounced check here either.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import geopandas as gpd
from sqlalchemy.orm import Session

from gis_data.crs import STORAGE_SRID
from gis_data.photo_pairs import SAME_SPOT_M, PhotoAt, distance_m, group_spots
from maps import progress_map, static_map, style
from server import supervision_rules
from server.models import Project, User
from server.repositories import dashboard as repo
from server.repositories import projects as projects_repo
from server.repositories.projects import ProjectFilter
from server.services import land as land_service
from server.services import progress_map as map_service
from server.services import projects as projects_service
from server.services import supervision
from server.settings import Settings

THUMB_URL = "/mobile/v1/photos/{id}?size=320"
PREVIEW_URL = "/mobile/v1/photos/{id}?size=1280"
CHECK_STATUS_LABELS = {"planned": "计划中", "carried_out": "已实施", "cancelled": "已取消"}
PROBLEM_STATUS_LABELS = {"open": "待整改", "rectifying": "整改中", "closed": "已销号"}
LETTER_STATUS_LABELS = {"proposed": "待审核", "issued": "已签发", "dismissed": "已驳回"}


def visible_project(session: Session, actor: User, project_id: int) -> Project:
    """The project, if it exists and ``actor`` may see it."""
    return projects_service.visible_project(session, actor, project_id)


def _yuan(value: Decimal) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def _photo_dict(row: repo.PhotoRow) -> dict[str, Any]:
    label, color = style.photo_verdict_style(row.verdict)
    when = row.taken_at or row.uploaded_at
    return {
        "id": row.id,
        "inspection_id": row.inspection_id,
        "taken_at": when.isoformat(),
        "taken_at_known": row.taken_at is not None,
        "verdict": row.verdict,
        "verdict_label": label,
        "verdict_color": color,
        "site_distance_m": row.site_distance_m,
        "lon": row.lon,
        "lat": row.lat,
        "thumb_url": THUMB_URL.format(id=row.id),
        "preview_url": PREVIEW_URL.format(id=row.id),
    }


def photo_timeline(rows: list[repo.PhotoRow]) -> dict[str, Any]:
    """Photos oldest first, each with its spot; and before/after pairs of the spots photographed twice."""
    timeline = sorted((_photo_dict(r) for r in rows), key=lambda p: (p["taken_at"], p["id"]))
    located = [
        PhotoAt(p["id"], p["lon"], p["lat"], dt.datetime.fromisoformat(p["taken_at"]), p)
        for p in timeline
        if p["lon"] is not None and p["lat"] is not None
    ]
    spots = group_spots(located)
    pairs = []
    for index, spot in enumerate(spots, start=1):
        for photo in spot.photos:
            photo.data["spot"] = index
        pair = spot.pair
        if pair is None:
            continue
        before, after = pair
        pairs.append(
            {
                "spot": index,
                "photos_at_spot": len(spot.photos),
                "before": before.data,
                "after": after.data,
                "distance_m": round(distance_m(before, after), 1),
                "days_between": (after.taken_at - before.taken_at).days,
            }
        )
    return {"photos": timeline, "pairs": pairs, "same_spot_m": SAME_SPOT_M}


def investment_chart(session: Session, project: Project, status_month: dt.date | None) -> dict[str, Any]:
    """Monthly completed investment of the list year against the plan curve (万元 in the page, yuan here)."""
    year = project.list_year
    rules = supervision.DEFAULT_PROGRESS_RULES
    reports = {
        p.month.month: Decimal(p.amount_completed_yuan)
        for p in projects_repo.list_progress(session, project.id)
        if p.month.year == year
    }
    last = max(reports, default=0)
    if status_month is not None and status_month.year == year:
        last = max(last, status_month.month)
    planned, completed, cumulative = [], [], []
    running = Decimal(0)
    for month in range(1, 13):
        planned.append(_yuan(supervision_rules.expected_by(project.annual_plan_yuan, month, rules)))
        amount = reports.get(month)
        completed.append(_yuan(amount) if amount is not None else None)
        running += amount or Decimal(0)
        cumulative.append(_yuan(running) if month <= last else None)
    return {
        "year": year,
        "months": [f"{year}-{m:02d}" for m in range(1, 13)],
        "annual_plan_yuan": _yuan(project.annual_plan_yuan),
        "planned_cumulative_yuan": planned,
        "completed_month_yuan": completed,
        "completed_cumulative_yuan": cumulative,
    }


def _check_dict(plan: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": plan["id"],
        "kind": plan["kind"],
        "kind_label": map_service.CHECK_KINDS.get(plan["kind"], plan["kind"]),
        "title": plan["title"],
        "planned_date": plan["planned_date"],
        "status": plan["status"],
        "status_label": CHECK_STATUS_LABELS.get(plan["status"], plan["status"]),
        "carried_out_at": plan["carried_out_at"],
        "inspectors": [u["full_name"] for u in plan["inspectors"]],
    }


def project_page(
    session: Session, actor: User, project_id: int, *, today: dt.date | None = None
) -> dict[str, Any]:
    """Everything the project page shows, as the actor may see it."""
    today = today or dt.date.today()
    project = visible_project(session, actor, project_id)
    summary = map_service.project_records(session, actor, ProjectFilter(), projects=[project], today=today)
    record = summary.records[0]
    record.pop("geometry")
    parcels = []
    for p in land_service.list_parcels(session, actor, project_id=project.id):
        label, color = style.verdict_style(p.check.verdict if p.check else None)
        parcels.append(
            {
                "id": p.id,
                "parcel_code": p.parcel_code,
                "name": p.name,
                "year": p.year,
                "status": p.status,
                "status_label": map_service.PARCEL_STATUS_LABELS.get(p.status, p.status),
                "area_mu": round(p.area_mu, 2),
                "verdict": p.check.verdict if p.check else None,
                "verdict_label": label,
                "verdict_color": color,
                "reasons": [r.get("message", "") for r in p.check.reasons] if p.check else [],
            }
        )
    rows = repo.photos(
        session, [project.id], settled_only=actor.role in map_service.PROJECT_SIDE, located_only=False
    )
    problems = [
        {**p, "status_label": PROBLEM_STATUS_LABELS.get(p["status"], p["status"])}
        for p in supervision.list_problems(session, actor, today=today)
        if p["project_id"] == project.id
    ]
    letters = [
        {**x, "status_label": LETTER_STATUS_LABELS.get(x["status"], x["status"])}
        for x in supervision.list_letters(session, actor)
        if x["project_id"] == project.id
    ]
    checks = [
        _check_dict(plan)
        for plan in supervision.list_plans(session, actor)
        if any(p["id"] == project.id for p in plan["projects"])
    ]
    return {
        "project": projects_service.to_read(project).model_dump(mode="json"),
        "summary": record,
        "status_history": supervision.status_history(session, actor, project.id),
        "chart": investment_chart(session, project, summary.month),
        "parcels": parcels,
        "timeline": photo_timeline(rows),
        "problems": problems,
        "letters": letters,
        "checks": checks,
        "links": {
            "map_html": f"/api/v1/projects/{project.id}/map.html",
            "map_png": f"/api/v1/projects/{project.id}/map.png",
        },
    }


def _project_frames(
    session: Session, actor: User, project: Project
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, gpd.GeoDataFrame | None, dict[str, Any]]:
    summary = map_service.project_records(session, actor, ProjectFilter(), projects=[project])
    record = dict(summary.records[0])
    geom = record.pop("geometry")
    frame = gpd.GeoDataFrame([record], geometry=[geom], crs=STORAGE_SRID)
    frame = frame[frame.geometry.notna()]
    parcels = map_service.parcels_frame(session, actor, {project.id}, project_id=project.id)
    photos = map_service.photos_frame(
        map_service.photo_rows(session, actor, [project.id], limit=None), {project.id: project.name}
    )
    return frame, parcels, photos, record


def project_map_html(session: Session, actor: User, project_id: int, *, settings: Settings) -> str:
    """The project's site, parcels and photos as a folium page."""
    project = visible_project(session, actor, project_id)
    frame, parcels, photos, record = _project_frames(session, actor, project)
    notes = [] if project.site is not None else ["该项目尚未标注位置。"]
    options = map_service.map_options(settings, legend_title=record["status_label"], notes=notes)
    m = progress_map.project_map(frame, parcels=parcels, photos=photos, options=options)
    return progress_map.to_html(m)


def project_map_png(session: Session, actor: User, project_id: int) -> bytes:
    """The project's site, parcels and photos as a printable PNG."""
    project = visible_project(session, actor, project_id)
    frame, parcels, photos, record = _project_frames(session, actor, project)
    subtitle = (
        f"{project.code} · {project.township.name} · {record['status_label']}"
        f" · 包抓领导：{project.leader.full_name}"
    )
    notes = ["该项目尚未标注位置。"] if project.site is None else []
    return static_map.project_png(
        frame,
        parcels=parcels,
        photos=photos,
        townships=map_service.townships_frame(session),
        title=project.name,
        subtitle=subtitle,
        notes=(*notes, f"制图：Sitewatch {dt.date.today().isoformat()}"),
    )
