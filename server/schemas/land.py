"""Land schemas: plan editions, parcels, checks and batches."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from server.schemas.common import StrictModel


class EditionRead(BaseModel):
    """A plan edition and its import report."""

    id: int
    name: str
    description: str
    created_at: dt.datetime
    report: dict[str, Any]


class OverlapRead(BaseModel):
    """One overlap found by a check."""

    target: str
    target_ref: str
    area_m2: float
    area_mu: float
    share: float
    is_sliver: bool


class CheckRead(BaseModel):
    """The latest conflict check of a parcel."""

    id: int
    edition_id: int | None
    checked_at: dt.datetime
    verdict: str
    sliver_m2: float
    reasons: list[dict[str, Any]]
    overlaps: list[OverlapRead]
    summary: dict[str, Any]


class ParcelRead(BaseModel):
    """A land-demand parcel."""

    id: int
    project_id: int
    project_code: str
    project_name: str
    year: int
    parcel_code: str
    name: str
    land_class: str | None
    land_use: str | None
    construction_land: str
    status: str
    batch_id: int | None
    batch_name: str | None
    zone: int
    area_m2: float
    area_mu: float
    area_ha: float
    ellipsoidal_area_m2: float
    declared_area_ha: float | None
    source: str
    submitted_at: dt.datetime | None
    submitted_late: bool
    deadline: dt.date | None
    check: CheckRead | None
    geometry: dict[str, Any]


class ParcelImportRead(BaseModel):
    """What a parcel import did."""

    created: list[ParcelRead]
    warnings: list[dict[str, Any]]


class YearRead(BaseModel):
    """A year with land-demand parcels."""

    year: int
    parcels: int


class SubmitRequest(StrictModel):
    """Parcels to submit to the land bureau."""

    parcel_ids: list[int] = Field(min_length=1, max_length=5000)


class BatchCreate(StrictModel):
    """A new approval batch with its parcels."""

    year: int = Field(ge=2000, le=2100)
    name: str | None = Field(default=None, max_length=200)
    parcel_ids: list[int] = Field(min_length=1, max_length=5000)


class BatchRead(BaseModel):
    """An approval batch."""

    id: int
    year: int
    number: int
    name: str
    parcel_ids: list[int]


class CheckRequest(StrictModel):
    """Parcels to check: by id, or a whole year's list."""

    parcel_ids: list[int] | None = Field(default=None, max_length=5000)
    year: int | None = Field(default=None, ge=2000, le=2100)
    sliver_m2: float | None = Field(default=None, ge=0, le=10000)
