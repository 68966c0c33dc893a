"""Plain factory functions for test data."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Township, Unit, User

_serial = itertools.count(900000)

#: A small valid polygon near the county seat (lon/lat), about 150 m x 110 m.
SEAT_POLYGON = {
    "type": "Polygon",
    "coordinates": [
        [[106.135, 34.750], [106.1366, 34.750], [106.1366, 34.751], [106.135, 34.751], [106.135, 34.750]]
    ],
}


def township(session: Session, name: str = "永清镇") -> Township:
    """A township by name."""
    return session.scalars(select(Township).where(Township.name == name)).one()


def unit(session: Session, name: str) -> Unit:
    """A unit by name."""
    return session.scalars(select(Unit).where(Unit.name == name)).one()


def user(session: Session, username: str) -> User:
    """A user by username."""
    return session.scalars(select(User).where(User.username == username)).one()


def new_code() -> str:
    """A fresh national project code."""
    return f"2026-620521-48-01-{next(_serial):06d}"


def project_payload(session: Session, **overrides: Any) -> dict[str, Any]:
    """A valid create-project body; override any field."""
    from gis_data import demo

    leader = user(session, demo.DEMO_LEADERS[0].username)
    body: dict[str, Any] = {
        "code": new_code(),
        "name": "测试项目：永清镇污水管网改造工程",
        "category": "new_start",
        "industry": "城镇建设",
        "township_id": township(session).id,
        "lead_unit_id": unit(session, "清水县住房和城乡建设局").id,
        "legal_person_unit_id": unit(session, demo.DEMO_LEGAL_PERSON_UNITS[0]).id,
        "responsible_unit_ids": [unit(session, "清水县财政局").id],
        "leader_id": leader.id,
        "content": "改造污水管网 12 公里。",
        "total_investment_yuan": "60000000",
        "annual_plan_yuan": "20000000",
        "planned_start": "2026-04-01",
        "list_year": 2026,
        "energy_tce": 120.5,
        "status": "not_started",
        "site": SEAT_POLYGON,
    }
    body.update(overrides)
    return body
