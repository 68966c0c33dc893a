"""Shared schema pieces."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

#: An amount in yuan: non-negative, at most 14 digits before the point, 2 after.
Yuan = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
#: A GeoJSON geometry object.
GeoJSONGeometry = dict[str, Any]


class StrictModel(BaseModel):
    """Request bodies: unknown fields are refused, so a typo is not silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Ref(BaseModel):
    """A short reference to another record."""

    id: int
    name: str


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int
    page: int
    page_size: int
