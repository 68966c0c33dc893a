"""ORM models (the schema itself is owned by the Alembic migrations)."""

from server.models.audit import AuditEvent
from server.models.project import Project, ProjectProgress, project_responsible_units
from server.models.reference import CountyBoundary, Township
from server.models.unit import AuthToken, Unit, User

__all__ = [
    "AuditEvent",
    "AuthToken",
    "CountyBoundary",
    "Project",
    "ProjectProgress",
    "Township",
    "Unit",
    "User",
    "project_responsible_units",
]
