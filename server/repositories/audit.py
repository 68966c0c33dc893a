"""The audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Insert, Integer, String, cast, insert, literal, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FromClause

from server.models import AuditEvent


def add_event(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEvent:
    """Record one write."""
    event = AuditEvent(
        actor_id=actor_id, action=action, entity=entity, entity_id=entity_id, before=before, after=after
    )
    session.add(event)
    session.flush()
    return event


def events_for_rows(
    rows: FromClause,
    entity_id: ColumnElement[Any],
    *,
    actor_id: int | None,
    action: str,
    entity: str,
    after: dict[str, Any] | None,
) -> Insert:
    """An INSERT of one event per row of ``rows`` (say, a CTE returning the ids a statement inserted),
    for composing into that statement: the events exist exactly when the rows do."""
    return insert(AuditEvent.__table__).from_select(
        ["actor_id", "action", "entity", "entity_id", "after"],
        select(
            literal(actor_id, Integer),
            literal(action),
            literal(entity),
            cast(entity_id, String),
            literal(after, JSONB),
        ).select_from(rows),
    )


def list_events(
    session: Session, *, entity: str | None = None, entity_id: str | None = None, limit: int = 200
) -> list[AuditEvent]:
    """Newest events first, optionally for one entity."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if entity is not None:
        stmt = stmt.where(AuditEvent.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    return list(session.scalars(stmt))
