"""Login and user schemas."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from server.domain import Role
from server.schemas.common import Ref, StrictModel


class LoginRequest(StrictModel):
    """Username and password."""

    username: str = Field(min_length=1, max_length=50)
    password: str = Field(min_length=1, max_length=200)


class TokenRead(BaseModel):
    """A bearer token, shown once."""

    access_token: str
    token_type: str = "bearer"
    expires_at: dt.datetime


class UserCreate(StrictModel):
    """A new user (admin only)."""

    username: str = Field(pattern=r"^[a-z0-9_.-]{3,50}$")
    full_name: str = Field(min_length=1, max_length=50)
    title: str | None = Field(default=None, max_length=100)
    password: str = Field(min_length=8, max_length=200)
    role: Role
    unit_id: int


class UserRead(BaseModel):
    """A user as others see them."""

    id: int
    username: str
    full_name: str
    title: str | None
    role: Role
    unit: Ref
    is_active: bool


class UnitCreate(StrictModel):
    """A new unit (admin only)."""

    name: str = Field(min_length=1, max_length=100)
    kind: str = Field(pattern=r"^(department|township|legal_person|leader_office)$")
    township_id: int | None = None


class UnitRead(BaseModel):
    """A unit."""

    id: int
    name: str
    kind: str
    township_id: int | None
