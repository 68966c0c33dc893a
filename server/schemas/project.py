"""Key-project and monthly-progress schemas."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from pydantic import BaseModel, Field

from server.domain import ProjectCategory, ProjectStatus
from server.rules import EnergyReviewLevel, ListTier, ThresholdExemption
from server.schemas.common import GeoJSONGeometry, Ref, StrictModel, Yuan

#: 国家重大建设项目库 code: year-adcode-industry-kind-serial, e.g. 2025-620521-48-01-000123.
PROJECT_CODE_PATTERN = r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$"


class ProjectBase(StrictModel):
    """Fields shared by create and update."""

    name: str = Field(min_length=2, max_length=200)
    category: ProjectCategory
    industry: str = Field(min_length=1, max_length=50)
    township_id: int
    lead_unit_id: int
    legal_person_unit_id: int
    responsible_unit_ids: list[int] = Field(default_factory=list, max_length=20)
    leader_id: int
    content: str = Field(min_length=1, max_length=4000)
    total_investment_yuan: Yuan
    annual_plan_yuan: Yuan
    threshold_exemption: ThresholdExemption | None = None
    planned_start: dt.date
    list_year: int
    energy_tce: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    status: ProjectStatus = ProjectStatus.NOT_STARTED
    site: GeoJSONGeometry | None = None


class ProjectCreate(ProjectBase):
    """A new project on the list (admin only)."""

    code: str = Field(pattern=PROJECT_CODE_PATTERN)


class ProjectUpdate(StrictModel):
    """A partial update; list fields are admin-only, site and status also the project's own unit."""

    code: str | None = Field(default=None, pattern=PROJECT_CODE_PATTERN)
    name: str | None = Field(default=None, min_length=2, max_length=200)
    category: ProjectCategory | None = None
    industry: str | None = Field(default=None, min_length=1, max_length=50)
    township_id: int | None = None
    lead_unit_id: int | None = None
    legal_person_unit_id: int | None = None
    responsible_unit_ids: list[int] | None = Field(default=None, max_length=20)
    leader_id: int | None = None
    content: str | None = Field(default=None, min_length=1, max_length=4000)
    total_investment_yuan: Yuan | None = None
    annual_plan_yuan: Yuan | None = None
    threshold_exemption: ThresholdExemption | None = None
    planned_start: dt.date | None = None
    list_year: int | None = None
    energy_tce: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    status: ProjectStatus | None = None
    site: GeoJSONGeometry | None = None


#: Fields a project's own unit may change; every other field belongs to the list (admin only).
UNIT_EDITABLE_FIELDS = frozenset({"site", "status"})


class LeaderRef(BaseModel):
    """The county leader in charge (包抓县级领导)."""

    id: int
    full_name: str
    title: str | None


class ProjectRead(BaseModel):
    """A project as the API returns it."""

    id: int
    code: str
    name: str
    category: ProjectCategory
    industry: str
    township: Ref
    lead_unit: Ref
    legal_person_unit: Ref
    responsible_units: list[Ref]
    leader: LeaderRef
    content: str
    total_investment_yuan: Decimal
    annual_plan_yuan: Decimal
    threshold_exemption: ThresholdExemption | None
    meets_selection_threshold: bool
    planned_start: dt.date
    list_year: int
    energy_tce: float | None
    energy_review_level: EnergyReviewLevel
    status: ProjectStatus
    list_tier: ListTier
    site: GeoJSONGeometry | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ProgressCreate(StrictModel):
    """A monthly progress report."""

    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
    amount_completed_yuan: Yuan
    physical_progress: str = Field(default="", max_length=4000)
    #: Site photos from the photo pipeline (uploaded through /mobile/v1) that show the progress.
    photo_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)


class ProgressUpdate(StrictModel):
    """A correction to a monthly report."""

    amount_completed_yuan: Yuan | None = None
    physical_progress: str | None = Field(default=None, max_length=4000)


class ProgressRead(BaseModel):
    """A monthly progress report as stored."""

    id: int
    project_id: int
    month: str
    amount_completed_yuan: Decimal
    physical_progress: str
    reported_by_id: int | None
    reported_at: dt.datetime
    photo_ids: list[str] = Field(default_factory=list)
