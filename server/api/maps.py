"""The county progress map, project pages, dashboard and printed map images."""

from __future__ import annotations

from fastapi import APIRouter

#: Routes under /api/v1 (data for the pages).
router = APIRouter(tags=["maps"])
#: Pages outside /api/v1 (HTML).
pages = APIRouter(include_in_schema=False)
