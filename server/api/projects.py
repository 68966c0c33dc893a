"""Key projects, their GeoJSON, and monthly progress."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, status
from fastapi.responses import JSONResponse

from server.api.deps import CurrentUser, ProjectFilterDep, SessionDep, SettingsDep, SiteRulesDep
from server.errors import BadRequest
from server.schemas.common import Page
from server.schemas.project import (
    ProgressCreate,
    ProgressRead,
    ProgressUpdate,
    ProjectCreate,
    ProjectRead,
    ProjectUpdate,
)
from server.services import projects as project_service

router = APIRouter(prefix="/projects", tags=["projects"])

GEOJSON = "application/geo+json"


@router.get("", response_model=Page[ProjectRead])
def list_projects(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    filters: ProjectFilterDep,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int | None, Query(ge=1)] = None,
) -> Page[ProjectRead]:
    """The projects the user may see, filtered and paged."""
    size = page_size or settings.page_size_default
    if size > settings.page_size_max:
        raise BadRequest(f"page_size 最大为 {settings.page_size_max}。", code="page_size_too_large")
    return project_service.list_projects(session, user, filters, page=page, page_size=size)


@router.get("/geojson", response_class=JSONResponse, responses={200: {"content": {GEOJSON: {}}}})
def export_geojson(user: CurrentUser, session: SessionDep, filters: ProjectFilterDep) -> JSONResponse:
    """The filtered list as a GeoJSON FeatureCollection (CGCS2000 lon/lat), importable back."""
    collection = project_service.export_feature_collection(session, user, filters)
    return JSONResponse(collection, media_type=GEOJSON)


@router.post("/import", status_code=status.HTTP_200_OK)
def import_geojson(
    user: CurrentUser,
    session: SessionDep,
    site_rules: SiteRulesDep,
    collection: Annotated[dict[str, Any], Body(description="GeoJSON FeatureCollection")],
    update_existing: bool = False,
) -> dict[str, Any]:
    """Import a FeatureCollection of projects, all or nothing (admin only)."""
    report = project_service.import_feature_collection(
        session, user, collection, update_existing=update_existing, site_rules=site_rules
    )
    return {"created": report.created, "updated": report.updated, "codes": report.codes}


@router.post("", response_model=ProjectRead, status_code=status.HTTP_201_CREATED)
def create_project(
    body: ProjectCreate, user: CurrentUser, session: SessionDep, site_rules: SiteRulesDep
) -> ProjectRead:
    """Add a project to the list (admin only)."""
    return project_service.create_project(session, user, body, site_rules)


@router.get("/{project_id}", response_model=ProjectRead)
def get_project(project_id: int, user: CurrentUser, session: SessionDep) -> ProjectRead:
    """One project."""
    return project_service.get_project(session, user, project_id)


@router.patch("/{project_id}", response_model=ProjectRead)
def update_project(
    project_id: int, body: ProjectUpdate, user: CurrentUser, session: SessionDep, site_rules: SiteRulesDep
) -> ProjectRead:
    """Change a project: list fields (admin), site and status (admin or the project's own unit)."""
    return project_service.update_project(session, user, project_id, body, site_rules)


@router.get("/{project_id}/progress", response_model=list[ProgressRead])
def list_progress(project_id: int, user: CurrentUser, session: SessionDep) -> list[ProgressRead]:
    """Monthly investment progress of a project."""
    return project_service.list_progress(session, user, project_id)


@router.post("/{project_id}/progress", response_model=ProgressRead, status_code=status.HTTP_201_CREATED)
def report_progress(
    project_id: int, body: ProgressCreate, user: CurrentUser, session: SessionDep
) -> ProgressRead:
    """Report one month's completed investment."""
    return project_service.report_progress(session, user, project_id, body)


@router.patch("/{project_id}/progress/{month}", response_model=ProgressRead)
def correct_progress(
    project_id: int, month: str, body: ProgressUpdate, user: CurrentUser, session: SessionDep
) -> ProgressRead:
    """Correct one month's report."""
    return project_service.correct_progress(session, user, project_id, month, body)
