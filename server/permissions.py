"""Who may do what: named ``can_*`` predicates and the read scope of list queries."""

from __future__ import annotations

from dataclasses import dataclass

from server.domain import Role
from server.models import Project, User

#: Roles that read every project on the list.
_READ_ALL_ROLES = frozenset({Role.ADMIN, Role.LEADER, Role.LAND_BUREAU, Role.INSPECTOR})


@dataclass(frozen=True, slots=True)
class ProjectScope:
    """Which projects a user may see: everything, a unit's projects, or a township's."""

    all: bool = False
    unit_id: int | None = None
    township_id: int | None = None


def reads_all_projects(role: str) -> bool:
    """Whether a role reads every project (no project scope)."""
    return role in _READ_ALL_ROLES


def project_scope(user: User) -> ProjectScope:
    """The set of projects ``user`` may read, for list queries."""
    if user.role in _READ_ALL_ROLES:
        return ProjectScope(all=True)
    if user.role == Role.TOWNSHIP:
        return ProjectScope(township_id=user.unit.township_id if user.unit else None)
    return ProjectScope(unit_id=user.unit_id)


def _unit_owns(user: User, project: Project) -> bool:
    return user.unit_id in (project.legal_person_unit_id, project.lead_unit_id)


def can_read_project(user: User, project: Project) -> bool:
    """Read-all roles see everything; a township its township; a unit the projects it works on."""
    scope = project_scope(user)
    if scope.all:
        return True
    if scope.township_id is not None:
        return project.township_id == scope.township_id
    return _unit_owns(user, project) or any(u.id == user.unit_id for u in project.responsible_units)


def can_change_list(user: User) -> bool:
    """Only the development and reform bureau (admin) changes the key-project list (§16)."""
    return user.role == Role.ADMIN


def can_edit_project_site(user: User, project: Project) -> bool:
    """Admin, or the project's own legal-person or lead unit, may update its site and status."""
    return user.role == Role.ADMIN or (user.role == Role.PROJECT_UNIT and _unit_owns(user, project))


def can_report_progress(user: User, project: Project) -> bool:
    """Admin, the project's own unit, or its township report monthly progress."""
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.PROJECT_UNIT:
        return _unit_owns(user, project)
    if user.role == Role.TOWNSHIP:
        return user.unit is not None and project.township_id == user.unit.township_id
    return False


def can_manage_users(user: User) -> bool:
    """Only admin creates users and units."""
    return user.role == Role.ADMIN


def can_read_directory(user: User) -> bool:
    """Every signed-in user may read the list of units and the township names."""
    return user.is_active


def can_read_audit(user: User) -> bool:
    """Admin reads the audit trail."""
    return user.role == Role.ADMIN


def can_manage_plan(user: User) -> bool:
    """The land bureau (and admin) import plan editions, run checks and make approval batches."""
    return user.role in (Role.ADMIN, Role.LAND_BUREAU)


def can_submit_parcels(user: User, project: Project) -> bool:
    """The land bureau, admin, the project's own unit or its township submit land demand."""
    if user.role in (Role.ADMIN, Role.LAND_BUREAU):
        return True
    return can_report_progress(user, project)
