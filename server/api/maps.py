"""The county progress map, project pages, dashboard and printed map images."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from server.api.deps import CurrentUser, ProjectFilterDep, SessionDep, SettingsDep
from server.errors import Invalid, NotFound
from server.repositories.projects import ProjectFilter
from server.services import dashboard as dashboard_service
from server.services import progress_map as map_service
from server.services import project_page as page_service
from server.vendor_assets import MEDIA_TYPES, missing_packages, vendor_file

#: Routes under /api/v1 (data for the pages).
router = APIRouter(tags=["maps"])
#: Pages outside /api/v1 (HTML).
pages = APIRouter(include_in_schema=False)

WEB_DIR = FilePath(__file__).resolve().parent.parent / "web"
GEOJSON = "application/geo+json"
NO_STORE = {"Cache-Control": "no-store"}

ProgressStatus = Literal[
    "seriously_lagging", "not_started", "lagging", "on_track", "completed", "pending", "no_data"
]

ProjectId = Annotated[int, Path(ge=1, le=2_147_483_647, description="项目 id")]


@dataclass(frozen=True, slots=True)
class MapFilter:
    """The list filters plus the progress status (colour) of the latest monthly dispatch."""

    projects: ProjectFilter
    progress_status: str | None


def map_filters(
    filters: ProjectFilterDep,
    progress_status: Annotated[
        ProgressStatus | None, Query(description="最近一次月度调度的进度状态（地图颜色）")
    ] = None,
) -> MapFilter:
    """Filters of the map and its exports."""
    return MapFilter(filters, progress_status)


MapFilterDep = Annotated[MapFilter, Depends(map_filters)]


def parse_month(
    month: Annotated[str | None, Query(description="月度调度的月份 YYYY-MM（默认最近一次）")] = None,
) -> dt.date | None:
    """A ``YYYY-MM`` month, or None."""
    if month is None or month == "":
        return None
    try:
        return dt.datetime.strptime(month, "%Y-%m").date()
    except ValueError as exc:
        raise Invalid(f"月份格式应为 YYYY-MM（例如 2026-10）：{month[:20]}", code="invalid_month") from exc


MonthDep = Annotated[dt.date | None, Depends(parse_month)]


def _png(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type="image/png",
        headers={**NO_STORE, "Content-Disposition": f'inline; filename="{filename}"'},
    )


# --- data ----------------------------------------------------------------------------------------


@router.get("/map/filters")
def map_filter_choices(user: CurrentUser, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """What the map's filters offer, the status colours, and the configured base map."""
    choices = map_service.filter_choices(session, user)
    base = map_service.base_map(settings)
    choices["basemap"] = {"name": base.name, "label": base.label, "datum": base.datum}
    return choices


@router.get("/map/projects.geojson", response_class=JSONResponse, responses={200: {"content": {GEOJSON: {}}}})
def map_projects(user: CurrentUser, session: SessionDep, filters: MapFilterDep) -> JSONResponse:
    """The map's projects: site, marker, status colour, five list items, leader, last check, problems."""
    collection = map_service.projects_geojson(
        session, user, filters.projects, progress_status=filters.progress_status
    )
    return JSONResponse(collection, media_type=GEOJSON, headers=NO_STORE)


@router.get("/map/county.html", response_class=HTMLResponse)
def county_map(
    user: CurrentUser, session: SessionDep, settings: SettingsDep, filters: MapFilterDep
) -> HTMLResponse:
    """The county progress map (folium) for the signed-in user; the /map page shows it in a frame."""
    html = map_service.county_map_html(
        session, user, filters.projects, settings=settings, progress_status=filters.progress_status
    )
    return HTMLResponse(html, headers=NO_STORE)


@router.get("/map/projects/{project_id}/popup.html", response_class=HTMLResponse)
def project_popup(
    project_id: ProjectId, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """A project's popup on the county map (HTML fragment), fetched when the popup opens."""
    html = map_service.project_popup_html(session, user, project_id, settings=settings)
    return HTMLResponse(html, headers=NO_STORE)


@router.get("/map/parcels/{parcel_id}/popup.html", response_class=HTMLResponse)
def parcel_popup(
    parcel_id: Annotated[int, Path(ge=1, le=2_147_483_647, description="地块 id")],
    user: CurrentUser,
    session: SessionDep,
) -> HTMLResponse:
    """A land-demand parcel's popup on the county map (HTML fragment): its latest verdict and reasons."""
    return HTMLResponse(map_service.parcel_popup_html(session, user, parcel_id), headers=NO_STORE)


@router.get("/map/county.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def county_png(user: CurrentUser, session: SessionDep, filters: MapFilterDep) -> Response:
    """The county progress map as a printable PNG (for briefings)."""
    data = map_service.county_map_png(
        session, user, filters.projects, progress_status=filters.progress_status
    )
    return _png(data, "county-progress.png")


@router.get("/dashboard")
def dashboard(user: CurrentUser, session: SessionDep, month: MonthDep) -> dict[str, Any]:
    """Counts by status, investment against the plan, by township and industry, lagging, mine, overdue."""
    return dashboard_service.dashboard(session, user, month=month)


@router.get("/projects/{project_id}/page")
def project_page(project_id: ProjectId, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Everything the project page shows: site, parcels, photo timeline, chart, problems, letters, checks."""
    return page_service.project_page(session, user, project_id)


@router.get("/projects/{project_id}/map.html", response_class=HTMLResponse)
def project_map(
    project_id: ProjectId, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """The project's site, parcels and photos (folium); the project page shows it in a frame."""
    return HTMLResponse(
        page_service.project_map_html(session, user, project_id, settings=settings), headers=NO_STORE
    )


@router.get(
    "/projects/{project_id}/map.png", response_class=Response, responses={200: {"content": {"image/png": {}}}}
)
def project_png(project_id: ProjectId, user: CurrentUser, session: SessionDep) -> Response:
    """The project's map as a printable PNG."""
    return _png(page_service.project_map_png(session, user, project_id), f"project-{project_id}.png")


# --- pages ---------------------------------------------------------------------------------------


#: The back-office pages: each extends ``base.html`` (the shared head and header with its links).
_templates = Jinja2Templates(directory=WEB_DIR)


def _page(request: Request, name: str) -> HTMLResponse:
    return _templates.TemplateResponse(request, name, headers={"Cache-Control": "no-cache"})


@pages.get("/map", response_class=HTMLResponse)
def map_page(request: Request) -> HTMLResponse:
    """The county progress map page (its data is fetched with the login)."""
    return _page(request, "map.html")


@pages.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request) -> HTMLResponse:
    """The leaders' dashboard page."""
    return _page(request, "dashboard.html")


@pages.get("/land", response_class=HTMLResponse)
def land_page(request: Request) -> HTMLResponse:
    """The land bureau's page: plan editions, the year's parcels and verdicts, checks and batches."""
    return _page(request, "land.html")


@pages.get("/projects/{project_id}", response_class=HTMLResponse)
def project_page_html(request: Request, project_id: ProjectId) -> HTMLResponse:
    """A project's page."""
    return _page(request, "project.html")


@pages.get("/vendor/{package}/{path:path}")
def vendor_asset(package: str, path: str) -> FileResponse:
    """A vendored script, stylesheet or image (installed by ``make vendor``; never a CDN)."""
    found = vendor_file(package, path)
    if found is None:
        hint = "（前端依赖未安装，请运行 make vendor）" if package in missing_packages() else ""
        raise NotFound(f"静态资源不存在：{package}/{path[:100]}{hint}", code="vendor_asset_not_found")
    return FileResponse(
        found,
        media_type=MEDIA_TYPES[found.suffix],
        headers={"Cache-Control": "public, max-age=86400"},
    )
