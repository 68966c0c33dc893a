"""Units, users and login tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.models import AuthToken, Unit, User


def list_units(session: Session) -> list[Unit]:
    """All units by id."""
    return list(session.scalars(select(Unit).order_by(Unit.id)))


def get_unit(session: Session, unit_id: int) -> Unit | None:
    """A unit by id."""
    return session.get(Unit, unit_id)


def units_by_ids(session: Session, ids: list[int]) -> list[Unit]:
    """The units with these ids (missing ones are simply absent)."""
    if not ids:
        return []
    return list(session.scalars(select(Unit).where(Unit.id.in_(ids)).order_by(Unit.id)))


def unit_by_name(session: Session, name: str) -> Unit | None:
    """A unit by its name."""
    return session.scalars(select(Unit).where(Unit.name == name)).first()


def add_unit(session: Session, unit: Unit) -> Unit:
    """Insert a unit."""
    session.add(unit)
    session.flush()
    return unit


def list_users(session: Session) -> list[User]:
    """All users by id."""
    return list(session.scalars(select(User).order_by(User.id)))


def get_user(session: Session, user_id: int) -> User | None:
    """A user by id."""
    return session.get(User, user_id)


def user_by_username(session: Session, username: str) -> User | None:
    """A user by login name."""
    return session.scalars(select(User).where(User.username == username)).first()


def add_user(session: Session, user: User) -> User:
    """Insert a user."""
    session.add(user)
    session.flush()
    return user


def add_token(session: Session, *, token_hash: str, user_id: int, expires_at: dt.datetime) -> None:
    """Store a login token's hash."""
    session.add(AuthToken(token_hash=token_hash, user_id=user_id, expires_at=expires_at))
    session.flush()


def user_for_token(session: Session, token_hash: str, now: dt.datetime) -> User | None:
    """The active user owning an unexpired token."""
    stmt = (
        select(User)
        .join(AuthToken, AuthToken.user_id == User.id)
        .where(AuthToken.token_hash == token_hash, AuthToken.expires_at > now, User.is_active.is_(True))
    )
    return session.scalars(stmt).first()


def delete_token(session: Session, token_hash: str) -> None:
    """Revoke a token."""
    session.execute(delete(AuthToken).where(AuthToken.token_hash == token_hash))


def delete_expired_tokens(session: Session, now: dt.datetime) -> int:
    """Remove expired tokens; returns how many."""
    result = session.execute(delete(AuthToken).where(AuthToken.expires_at <= now))
    return int(result.rowcount or 0)
