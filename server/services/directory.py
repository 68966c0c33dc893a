"""Units, users and the reference layers (county outline, townships)."""

from __future__ import annotations

from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry import mapping
from sqlalchemy.orm import Session

from server.domain import Role, UnitKind
from server.errors import Forbidden, Invalid, NotFound
from server.models import Unit, User
from server.permissions import can_manage_users, can_read_directory
from server.repositories import reference as reference_repo
from server.repositories import units as units_repo
from server.schemas.auth import UnitCreate, UnitRead, UserCreate, UserRead
from server.schemas.common import Ref
from server.security import hash_password
from server.services import audit
from server.services.transaction import unit_of_work


def unit_read(unit: Unit) -> UnitRead:
    """Shape a unit for the API."""
    return UnitRead(id=unit.id, name=unit.name, kind=unit.kind, township_id=unit.township_id)


def user_read(user: User) -> UserRead:
    """Shape a user for the API (never the password hash)."""
    return UserRead(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        title=user.title,
        role=Role(user.role),
        unit=Ref(id=user.unit.id, name=user.unit.name),
        is_active=user.is_active,
    )


def list_units(session: Session, actor: User) -> list[UnitRead]:
    """Every unit (any signed-in user)."""
    if not can_read_directory(actor):
        raise Forbidden("无权查看单位列表。")
    return [unit_read(u) for u in units_repo.list_units(session)]


def create_unit(session: Session, actor: User | None, data: UnitCreate) -> UnitRead:
    """Add a unit (admin, or the CLI with no actor)."""
    if actor is not None and not can_manage_users(actor):
        raise Forbidden("只有发改局管理员可以新增单位。")
    with unit_of_work(session):
        if data.township_id is not None and reference_repo.get_township(session, data.township_id) is None:
            raise Invalid(f"乡镇 {data.township_id} 不存在。", code="unknown_township")
        if data.kind == UnitKind.TOWNSHIP and data.township_id is None:
            raise Invalid("乡镇单位必须指定所属乡镇 township_id。", code="township_required")
        unit = units_repo.add_unit(
            session, Unit(name=data.name, kind=data.kind, township_id=data.township_id)
        )
        audit.record(session, actor, "create", "unit", unit.id, after=unit_read(unit).model_dump(mode="json"))
    return unit_read(unit)


def list_users(session: Session, actor: User) -> list[UserRead]:
    """Every user (admin only)."""
    if not can_manage_users(actor):
        raise Forbidden("只有发改局管理员可以查看用户列表。")
    return [user_read(u) for u in units_repo.list_users(session)]


def list_leaders(session: Session, actor: User) -> list[UserRead]:
    """County leaders in charge (any signed-in user: needed to read and filter the list)."""
    if not can_read_directory(actor):
        raise Forbidden("无权查看。")
    return [user_read(u) for u in units_repo.list_users(session) if u.role == Role.LEADER]


def create_user(session: Session, actor: User | None, data: UserCreate) -> UserRead:
    """Add a user (admin, or the CLI with no actor); the password is stored as an Argon2id hash."""
    if actor is not None and not can_manage_users(actor):
        raise Forbidden("只有发改局管理员可以新增用户。")
    with unit_of_work(session):
        unit = units_repo.get_unit(session, data.unit_id)
        if unit is None:
            raise Invalid(f"单位 {data.unit_id} 不存在。", code="unknown_unit")
        if data.role == Role.TOWNSHIP and unit.kind != UnitKind.TOWNSHIP:
            raise Invalid("乡镇用户必须属于乡镇单位。", code="role_unit_mismatch")
        user = units_repo.add_user(
            session,
            User(
                username=data.username,
                full_name=data.full_name,
                title=data.title,
                password_hash=hash_password(data.password),
                role=data.role.value,
                unit_id=unit.id,
                is_active=True,
            ),
        )
        session.refresh(user)
        audit.record(session, actor, "create", "user", user.id, after=user_read(user).model_dump(mode="json"))
    return user_read(user)


def get_user(session: Session, actor: User, user_id: int) -> UserRead:
    """A user: oneself, or anyone for admin."""
    if actor.id != user_id and not can_manage_users(actor):
        raise Forbidden("无权查看该用户。")
    user = units_repo.get_user(session, user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在。", code="user_not_found")
    return user_read(user)


def townships_geojson(session: Session, actor: User) -> dict[str, Any]:
    """Townships as a FeatureCollection (boundaries are illustrative in the demo county)."""
    if not can_read_directory(actor):
        raise Forbidden("无权查看。")
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": t.id,
                "geometry": mapping(to_shape(t.geom)),
                "properties": {"id": t.id, "code": t.code, "name": t.name, "illustrative": t.illustrative},
            }
            for t in reference_repo.list_townships(session)
        ],
    }


def list_townships(session: Session, actor: User) -> list[dict[str, Any]]:
    """Township ids, codes and names."""
    if not can_read_directory(actor):
        raise Forbidden("无权查看。")
    return [
        {"id": t.id, "code": t.code, "name": t.name, "illustrative": t.illustrative}
        for t in reference_repo.list_townships(session)
    ]


def county_geojson(session: Session, actor: User) -> dict[str, Any]:
    """The county outline as a Feature."""
    if not can_read_directory(actor):
        raise Forbidden("无权查看。")
    county = reference_repo.get_county(session)
    if county is None:
        raise NotFound("尚未载入县界。", code="county_not_loaded")
    return {
        "type": "Feature",
        "geometry": mapping(to_shape(county.geom)),
        "properties": {"adcode": county.adcode, "name": county.name, "source": county.source},
    }
