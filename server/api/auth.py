"""Signing in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from server.api.deps import CurrentUser, SessionDep, SettingsDep, TokenDep
from server.schemas.auth import LoginRequest, TokenRead, UserRead
from server.services import auth as auth_service
from server.services.directory import user_read

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=TokenRead)
def login(body: LoginRequest, session: SessionDep, settings: SettingsDep) -> TokenRead:
    """Sign in with username and password; returns a bearer token."""
    token, expires_at, _ = auth_service.login(
        session, body.username, body.password, ttl_hours=settings.token_ttl_hours
    )
    return TokenRead(access_token=token, expires_at=expires_at)


@router.post("/token", response_model=TokenRead, include_in_schema=True)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep
) -> TokenRead:
    """OAuth2 password flow (used by the API docs' Authorize button)."""
    token, expires_at, _ = auth_service.login(
        session, form.username, form.password, ttl_hours=settings.token_ttl_hours
    )
    return TokenRead(access_token=token, expires_at=expires_at)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(user: CurrentUser, session: SessionDep, token: TokenDep) -> None:
    """Revoke the token used for this request."""
    if token:
        auth_service.logout(session, token)


@router.get("/me", response_model=UserRead)
def me(user: CurrentUser) -> UserRead:
    """Who is signed in."""
    return user_read(user)
