"""Signing in and out, and finding the user behind a token."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from server.errors import Unauthorized
from server.models import User
from server.repositories import units as units_repo
from server.security import new_token, token_digest, verify_password
from server.services.transaction import unit_of_work


def login(session: Session, username: str, password: str, *, ttl_hours: int) -> tuple[str, dt.datetime, User]:
    """Check the password and issue a token; the same error for unknown user and wrong password."""
    with unit_of_work(session):
        user = units_repo.user_by_username(session, username)
        ok = verify_password(user.password_hash if user else None, password)
        if user is None or not ok or not user.is_active:
            raise Unauthorized("用户名或密码错误。", code="invalid_credentials")
        now = dt.datetime.now(dt.UTC)
        token = new_token()
        expires_at = now + dt.timedelta(hours=ttl_hours)
        units_repo.delete_expired_tokens(session, now)
        units_repo.add_token(session, token_hash=token_digest(token), user_id=user.id, expires_at=expires_at)
    return token, expires_at, user


def authenticate(session: Session, token: str | None) -> User:
    """The user owning a valid token, or 401."""
    if not token:
        raise Unauthorized("请先登录（缺少访问令牌）。", code="not_authenticated")
    user = units_repo.user_for_token(session, token_digest(token), dt.datetime.now(dt.UTC))
    if user is None:
        raise Unauthorized("登录已失效或令牌无效，请重新登录。", code="invalid_token")
    return user


def logout(session: Session, token: str) -> None:
    """Revoke a token."""
    with unit_of_work(session):
        units_repo.delete_token(session, token_digest(token))
