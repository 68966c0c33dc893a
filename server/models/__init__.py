"""ORM models (the schema itself is owned by the Alembic migrations)."""

from server.models.audit import AuditEvent
from server.models.inspection import Inspection, Photo, PhotoBlob
from server.models.land import (
    ApprovalBatch,
    LandCheck,
    LandCheckOverlap,
    LandParcel,
    PlanEdition,
    PlanFeature,
    plan_pieces,
)
from server.models.project import Project, ProjectProgress, project_responsible_units
from server.models.reference import CountyBoundary, Township
from server.models.supervision import (
    CheckPlan,
    LeaderMeeting,
    Letter,
    Problem,
    ProjectMonthStatus,
    RandomDraw,
    check_plan_inspectors,
    check_plan_projects,
    problem_photos,
    progress_photos,
)
from server.models.unit import AuthToken, Unit, User

__all__ = [
    "CheckPlan",
    "LeaderMeeting",
    "Letter",
    "Problem",
    "ProjectMonthStatus",
    "RandomDraw",
    "check_plan_inspectors",
    "check_plan_projects",
    "problem_photos",
    "progress_photos",
    "ApprovalBatch",
    "AuditEvent",
    "AuthToken",
    "CountyBoundary",
    "Inspection",
    "LandCheck",
    "LandCheckOverlap",
    "LandParcel",
    "PlanEdition",
    "Photo",
    "PhotoBlob",
    "PlanFeature",
    "Project",
    "ProjectProgress",
    "Township",
    "Unit",
    "User",
    "plan_pieces",
    "project_responsible_units",
]
