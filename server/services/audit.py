"""Writing and reading the audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from server.errors import Forbidden
from server.models import AuditEvent, User
from server.permissions import can_read_audit
from server.repositories import audit as audit_repo


def record(
    session: Session,
    actor: User | None,
    action: str,
    entity: str,
    entity_id: object,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add one audit event inside the caller's transaction."""
    audit_repo.add_event(
        session,
        actor_id=actor.id if actor is not None else None,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=before,
        after=after,
    )


def list_events(
    session: Session,
    actor: User,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    limit: int = 200,
) -> list[AuditEvent]:
    """The audit trail, newest first (admin only)."""
    if not can_read_audit(actor):
        raise Forbidden("只有发改局管理员可以查看操作记录。")
    return audit_repo.list_events(session, entity=entity, entity_id=entity_id, limit=limit)
