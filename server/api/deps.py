"""Dependencies shared by routers: settings, the database session, the current user, filters."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from server.domain import ProjectCategory, ProjectStatus
from server.errors import BadRequest
from server.models import User
from server.repositories.projects import ProjectFilter
from server.rules import ListTier
from server.services import auth as auth_service
from server.services.projects import SiteRules
from server.settings import Settings
from server.storage import BlobStore

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_settings(request: Request) -> Settings:
    """The settings the app was built with (async: no I/O, so no worker-thread hop)."""
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, closed (and rolled back if unfinished) at the end."""
    with request.app.state.sessionmaker() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_store(request: Request) -> BlobStore:
    """The app's blob store (evidence photos, issued letters); async: no worker-thread hop to read it."""
    return request.app.state.blob_store


StoreDep = Annotated[BlobStore, Depends(get_store)]
SessionDep = Annotated[Session, Depends(get_session)]
TokenDep = Annotated[str | None, Depends(oauth2_scheme)]


def get_current_user(session: SessionDep, token: TokenDep) -> User:
    """The signed-in user, or 401."""
    return auth_service.authenticate(session, token)


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_site_rules(settings: SettingsDep) -> SiteRules:
    """How sites are checked against the county."""
    return SiteRules(county_tolerance_m=settings.county_tolerance_m)


SiteRulesDep = Annotated[SiteRules, Depends(get_site_rules)]


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """Parse ``min_lon,min_lat,max_lon,max_lat`` in degrees; refuse wrong order or range."""
    if text is None or text == "":
        return None
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError as exc:
        raise BadRequest(
            "bbox 应为 4 个数字：最小经度,最小纬度,最大经度,最大纬度。", code="bbox_invalid"
        ) from exc
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise BadRequest("bbox 应为 4 个数字：最小经度,最小纬度,最大经度,最大纬度。", code="bbox_invalid")
    min_x, min_y, max_x, max_y = values
    if not (-180 <= min_x <= 180 and -180 <= max_x <= 180 and -90 <= min_y <= 90 and -90 <= max_y <= 90):
        raise BadRequest("bbox 超出经纬度范围（应为 CGCS2000 经纬度）。", code="bbox_invalid")
    if min_x >= max_x or min_y >= max_y:
        raise BadRequest("bbox 顺序错误：应为 最小经度,最小纬度,最大经度,最大纬度。", code="bbox_invalid")
    return min_x, min_y, max_x, max_y


def project_filters(
    township_id: Annotated[int | None, Query(description="乡镇 id")] = None,
    category: Annotated[ProjectCategory | None, Query()] = None,
    tier: Annotated[ListTier | None, Query(description="清单层级 (§4)")] = None,
    leader_id: Annotated[int | None, Query(description="包抓县级领导的用户 id")] = None,
    industry: Annotated[str | None, Query(max_length=50)] = None,
    status: Annotated[ProjectStatus | None, Query()] = None,
    list_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    q: Annotated[str | None, Query(max_length=100, description="名称、代码或建设内容中的文字")] = None,
    bbox: Annotated[str | None, Query(description="min_lon,min_lat,max_lon,max_lat (CGCS2000)")] = None,
) -> ProjectFilter:
    """The list filters from the query string."""
    return ProjectFilter(
        township_id=township_id,
        category=category.value if category else None,
        tier=tier.value if tier else None,
        leader_id=leader_id,
        industry=industry,
        status=status.value if status else None,
        list_year=list_year,
        text=q,
        bbox=parse_bbox(bbox),
    )


ProjectFilterDep = Annotated[ProjectFilter, Depends(project_filters)]
