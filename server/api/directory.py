"""Units, users, townships, the county outline and the audit trail."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from server.api.deps import CurrentUser, SessionDep
from server.schemas.auth import UnitCreate, UnitRead, UserCreate, UserRead
from server.services import audit as audit_service
from server.services import directory

router = APIRouter(tags=["directory"])


@router.get("/units", response_model=list[UnitRead])
def list_units(user: CurrentUser, session: SessionDep) -> list[UnitRead]:
    """All units."""
    return directory.list_units(session, user)


@router.post("/units", response_model=UnitRead, status_code=status.HTTP_201_CREATED)
def create_unit(body: UnitCreate, user: CurrentUser, session: SessionDep) -> UnitRead:
    """Add a unit (admin only)."""
    return directory.create_unit(session, user, body)


@router.get("/users", response_model=list[UserRead])
def list_users(user: CurrentUser, session: SessionDep) -> list[UserRead]:
    """All users (admin only)."""
    return directory.list_users(session, user)


@router.get("/leaders", response_model=list[UserRead])
def list_leaders(user: CurrentUser, session: SessionDep) -> list[UserRead]:
    """County leaders in charge of projects."""
    return directory.list_leaders(session, user)


@router.post("/users", response_model=UserRead, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, user: CurrentUser, session: SessionDep) -> UserRead:
    """Add a user (admin only)."""
    return directory.create_user(session, user, body)


@router.get("/users/{user_id}", response_model=UserRead)
def get_user(user_id: int, user: CurrentUser, session: SessionDep) -> UserRead:
    """One user (oneself, or anyone for admin)."""
    return directory.get_user(session, user, user_id)


@router.get("/townships")
def list_townships(user: CurrentUser, session: SessionDep) -> list[dict[str, Any]]:
    """Township ids and names."""
    return directory.list_townships(session, user)


@router.get("/townships/geojson", response_class=JSONResponse)
def townships_geojson(user: CurrentUser, session: SessionDep) -> JSONResponse:
    """Township boundaries as GeoJSON (illustrative in the demo county)."""
    return JSONResponse(directory.townships_geojson(session, user), media_type="application/geo+json")


@router.get("/county", response_class=JSONResponse)
def county(user: CurrentUser, session: SessionDep) -> JSONResponse:
    """The county outline as a GeoJSON Feature."""
    return JSONResponse(directory.county_geojson(session, user), media_type="application/geo+json")


@router.get("/audit")
def audit_events(
    user: CurrentUser,
    session: SessionDep,
    entity: Annotated[str | None, Query(max_length=40)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """The audit trail, newest first (admin only)."""
    events = audit_service.list_events(session, user, entity=entity, entity_id=entity_id, limit=limit)
    return [
        {
            "id": e.id,
            "at": e.at.isoformat(),
            "actor_id": e.actor_id,
            "action": e.action,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "before": e.before,
            "after": e.after,
        }
        for e in events
    ]
