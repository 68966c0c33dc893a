"""Packaged reference layers: the Qingshui County outline and the illustrative township partition.

All geometries are in the storage CRS (CGCS2000 lon/lat, ``gis_data.crs.STORAGE_SRID``).  The
township polygons are ILLUSTRATIVE (Voronoi cells of approximate seats), not official boundaries;
see ``gis_data/reference/PROVENANCE.md``.  Rebuild the files with ``python -m gis_data.build_reference``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from shapely.geometry import MultiPolygon, Point, Polygon, shape

COUNTY_FILE = "qingshui_county.geojson"
TOWNSHIPS_FILE = "townships_illustrative.geojson"


@dataclass(frozen=True)
class Township:
    """One township-level division with its (illustrative) boundary and seat, in lon/lat."""

    code: str
    name: str
    geometry: MultiPolygon
    seat: Point
    illustrative: bool


def _read_features(filename: str) -> list[dict[str, Any]]:
    """Read the features of a packaged GeoJSON FeatureCollection."""
    text = (files("gis_data") / "reference" / filename).read_text(encoding="utf-8")
    return list(json.loads(text)["features"])


def _as_multipolygon(geometry: dict[str, Any]) -> MultiPolygon:
    """Build a shapely MultiPolygon from a GeoJSON (Multi)Polygon mapping."""
    geom = shape(geometry)
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    if not isinstance(geom, MultiPolygon):
        raise ValueError(f"expected a polygonal geometry, got {geom.geom_type}")
    return geom


@cache
def load_county() -> MultiPolygon:
    """Return the Qingshui County outline as a MultiPolygon in the storage CRS (lon/lat)."""
    features = _read_features(COUNTY_FILE)
    if len(features) != 1:
        raise ValueError(f"{COUNTY_FILE} should hold one feature, found {len(features)}")
    return _as_multipolygon(features[0]["geometry"])


@cache
def _townships() -> tuple[Township, ...]:
    """Parse the township file once."""
    result = []
    for feature in _read_features(TOWNSHIPS_FILE):
        props = feature["properties"]
        result.append(
            Township(
                code=str(props["code"]),
                name=str(props["name"]),
                geometry=_as_multipolygon(feature["geometry"]),
                seat=Point(float(props["seat_lon"]), float(props["seat_lat"])),
                illustrative=bool(props.get("illustrative", True)),
            )
        )
    return tuple(result)


def load_townships() -> list[Township]:
    """Return the 18 townships (illustrative boundaries) in code order."""
    return list(_townships())


def township_by_name(name: str) -> Township:
    """Return the township called ``name`` (e.g. ``永清镇``); raise KeyError if unknown."""
    for township in _townships():
        if township.name == name:
            return township
    raise KeyError(name)
