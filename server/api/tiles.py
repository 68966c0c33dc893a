"""Vector tiles (MVT) of parcels, plan layers and projects."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["tiles"])
