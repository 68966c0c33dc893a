"""County outline and townships."""

from __future__ import annotations

from geoalchemy2 import WKBElement
from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_data.crs import AREA_SRID, STORAGE_SRID
from server.models import CountyBoundary, Township


def get_county(session: Session) -> CountyBoundary | None:
    """The county outline, if loaded."""
    return session.scalars(select(CountyBoundary).limit(1)).first()


def add_county(
    session: Session, *, adcode: str, name: str, source: str, geom: BaseGeometry
) -> CountyBoundary:
    """Insert the county outline."""
    county = CountyBoundary(adcode=adcode, name=name, source=source, geom=from_shape(geom, srid=STORAGE_SRID))
    session.add(county)
    session.flush()
    return county


def list_townships(session: Session) -> list[Township]:
    """All townships by code."""
    return list(session.scalars(select(Township).order_by(Township.code)))


def get_township(session: Session, township_id: int) -> Township | None:
    """A township by id."""
    return session.get(Township, township_id)


def township_by_name(session: Session, name: str) -> Township | None:
    """A township by its Chinese name."""
    return session.scalars(select(Township).where(Township.name == name)).first()


def add_township(
    session: Session, *, code: str, name: str, illustrative: bool, geom: BaseGeometry
) -> Township:
    """Insert a township."""
    township = Township(
        code=code, name=name, illustrative=illustrative, geom=from_shape(geom, srid=STORAGE_SRID)
    )
    session.add(township)
    session.flush()
    return township


def within_county(session: Session, geom: WKBElement, *, tolerance_m: float) -> bool | None:
    """Whether ``geom`` lies inside the county outline grown by ``tolerance_m`` (None: no outline)."""
    county = select(CountyBoundary.geom).limit(1).scalar_subquery()
    stmt = select(
        func.ST_Covers(
            func.ST_Buffer(func.ST_Transform(county, AREA_SRID), tolerance_m),
            func.ST_Transform(geom, AREA_SRID),
        )
    )
    exists = session.scalar(select(func.count()).select_from(CountyBoundary))
    if not exists:
        return None
    return bool(session.scalar(stmt))
