"""Before/after pairs of evidence photos: photos of one project taken at the same spot, ordered by time.

Pure: photo records with lon/lat (CGCS2000) and a time come in; spots and pairs go out.  Distances are
measured in the Gauss-Kruger area CRS, never in degrees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import Point

from gis_data.crs import STORAGE_SRID, to_area_crs

#: Photos closer than this (metres) to a spot's first photo are taken "at the same spot".
SAME_SPOT_M = 30.0


@dataclass(frozen=True, slots=True)
class PhotoAt:
    """A located photo: its id, lon/lat (CGCS2000), when it was taken, and anything else to carry along."""

    photo_id: str
    lon: float
    lat: float
    taken_at: dt.datetime
    data: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(slots=True)
class Spot:
    """Photos taken within ``SAME_SPOT_M`` of the spot's first photo, oldest first."""

    x: float
    y: float
    photos: list[PhotoAt] = field(default_factory=list)

    @property
    def pair(self) -> tuple[PhotoAt, PhotoAt] | None:
        """(before, after): the spot's oldest and newest photo, if they were taken at different times."""
        if len(self.photos) < 2 or self.photos[0].taken_at == self.photos[-1].taken_at:
            return None
        return self.photos[0], self.photos[-1]


def _xy(photo: PhotoAt) -> tuple[float, float]:
    point = to_area_crs(Point(photo.lon, photo.lat), STORAGE_SRID)
    return point.x, point.y


def group_spots(photos: Sequence[PhotoAt], *, max_distance_m: float = SAME_SPOT_M) -> list[Spot]:
    """Group photos into spots, in time order: each photo joins the nearest spot within reach, or starts one.

    Spots are anchored on their first photo, so a slow walk of photos 20 m apart does not chain into one
    spot; the result depends only on the photos, not on the order they are given in.
    """
    spots: list[Spot] = []
    ordered = sorted(photos, key=lambda p: (p.taken_at, p.photo_id))
    for photo in ordered:
        x, y = _xy(photo)
        best: tuple[float, Spot] | None = None
        for spot in spots:
            distance = ((spot.x - x) ** 2 + (spot.y - y) ** 2) ** 0.5
            if distance <= max_distance_m and (best is None or distance < best[0]):
                best = (distance, spot)
        if best is None:
            spots.append(Spot(x=x, y=y, photos=[photo]))
        else:
            best[1].photos.append(photo)
    return spots


def distance_m(a: PhotoAt, b: PhotoAt) -> float:
    """Planar distance between two photos, in metres (Gauss-Kruger)."""
    ax, ay = _xy(a)
    bx, by = _xy(b)
    return ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5
