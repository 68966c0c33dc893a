"""Reading and checking project-site geometries sent as GeoJSON (lon/lat in CGCS2000 / WGS84).

Pure functions: no database.  Every problem raises :class:`GeometryProblem` with a stable code and
a Chinese message saying what to fix.  Nothing is silently corrected.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

ALLOWED_TYPES = ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon")


class GeometryProblem(ValueError):
    """A site geometry that cannot be accepted, with a stable code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _coords(obj: Any) -> Iterator[tuple[float, float]]:
    """Yield every (x, y) of a GeoJSON coordinates array, checking that they are numbers."""
    if (
        isinstance(obj, list | tuple)
        and obj
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in obj)
    ):
        if len(obj) < 2:
            raise GeometryProblem("geometry_malformed", "坐标至少需要经度和纬度两个数值。")
        yield float(obj[0]), float(obj[1])
        return
    if not isinstance(obj, list | tuple):
        raise GeometryProblem("geometry_malformed", "坐标应为数字数组。")
    for item in obj:
        yield from _coords(item)


def _check_rings_closed(gtype: str, raw: Any) -> None:
    """GeoJSON rings must repeat their first point; shapely would close them silently, so refuse."""
    if gtype == "Polygon":
        polygons = [raw]
    elif gtype == "MultiPolygon":
        polygons = raw
    else:
        return
    for polygon in polygons:
        for ring in polygon:
            points = list(_coords(ring))
            if len(points) < 4 or points[0] != points[-1]:
                raise GeometryProblem(
                    "geometry_invalid",
                    "面的环未闭合或点数不足：每个环至少 4 个点，且最后一个点必须与第一个点相同。",
                )


def _looks_projected(x: float, y: float) -> bool:
    return abs(x) > 180 or abs(y) > 90


def parse_site(
    geojson: dict[str, Any],
    *,
    extent: tuple[float, float, float, float],
) -> BaseGeometry:
    """Parse a GeoJSON geometry and check it is a usable site in degrees near ``extent``.

    ``extent`` is (min_lon, min_lat, max_lon, max_lat) of the county, used to recognise
    latitude/longitude swapped and projected metres sent as degrees.
    """
    if not isinstance(geojson, dict) or "type" not in geojson:
        raise GeometryProblem("geometry_malformed", "几何应为 GeoJSON 几何对象（含 type 和 coordinates）。")
    gtype = geojson.get("type")
    if gtype not in ALLOWED_TYPES:
        raise GeometryProblem(
            "geometry_type_unsupported",
            f"不支持的几何类型 {gtype!r}；项目位置应为点、线或面"
            "（Point/LineString/Polygon 及其 Multi 类型）。",
        )
    raw = geojson.get("coordinates")
    if raw is None or raw == []:
        raise GeometryProblem("geometry_empty", "几何为空，请提供项目位置坐标。")
    points = list(_coords(raw))
    if not points:
        raise GeometryProblem("geometry_empty", "几何为空，请提供项目位置坐标。")
    if any(not (math.isfinite(x) and math.isfinite(y)) for x, y in points):
        raise GeometryProblem("geometry_malformed", "坐标包含非有限数值。")
    min_lon, min_lat, max_lon, max_lat = extent
    margin = 0.5

    def inside(x: float, y: float) -> bool:
        return min_lon - margin <= x <= max_lon + margin and min_lat - margin <= y <= max_lat + margin

    if not all(inside(x, y) for x, y in points) and all(inside(y, x) for x, y in points):
        raise GeometryProblem(
            "geometry_axis_swapped",
            "坐标的经度和纬度似乎颠倒了：GeoJSON 要求先经度后纬度（如 [106.14, 34.75]）。",
        )
    if any(_looks_projected(x, y) for x, y in points):
        sample_x, sample_y = points[0]
        raise GeometryProblem(
            "geometry_projected_coordinates",
            f"坐标 ({sample_x}, {sample_y}) 超出经纬度范围，像是投影坐标（米，如高斯-克吕格）。"
            "请换算为 CGCS2000 经纬度（度）后再提交。",
        )
    _check_rings_closed(gtype, raw)
    try:
        geom = shape(geojson)
    except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException) as exc:
        raise GeometryProblem("geometry_malformed", f"几何无法解析：{exc}") from exc
    geom = shapely.force_2d(geom)
    if geom.is_empty:
        raise GeometryProblem("geometry_empty", "几何为空，请提供项目位置坐标。")
    if not geom.is_valid:
        reason = explain_validity(geom)
        raise GeometryProblem(
            "geometry_invalid",
            f"几何无效（{reason}）：面的边界不能自相交，环必须闭合且至少 4 个点。请修正后再提交。",
        )
    return geom
