"""The one CRS module: storage, projected and geographic reference systems and transforms.

Every SRID used by Sitewatch is named here and nowhere else.  Geometries are stored in CGCS2000
(EPSG:4490); areas and distances are computed in a CGCS2000 3-degree Gauss-Kruger projection
(EPSG:4544 for Qingshui, central meridian 105 E, no zone prefix).
"""

from __future__ import annotations

from functools import lru_cache

import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry.base import BaseGeometry

#: Storage CRS: CGCS2000 geographic, longitude/latitude order in WKB/GeoJSON.
STORAGE_SRID = 4490
#: WGS84, what phone GPS and GeoJSON (RFC 7946) speak; a no-op to CGCS2000 at our accuracy.
WGS84_SRID = 4326
#: Projected CRS for areas and distances in Qingshui: 3-degree GK, CM 105 E, false easting 500 km.
AREA_SRID = 4544
#: The same zone with the zone prefix in the easting (false easting 35 500 000 m).
AREA_SRID_WITH_PREFIX = 4523
#: Web Mercator, only for map tiles.
WEB_MERCATOR_SRID = 3857

#: Square metres in one mu (亩).
SQUARE_METRES_PER_MU = 10000.0 / 15.0
SQUARE_METRES_PER_HECTARE = 10000.0

#: CGCS2000 ellipsoid for geodesic (ellipsoidal) areas.
CGCS2000_GEOD = Geod(a=6378137.0, f=1 / 298.257222101)


def gk3_zone_for_longitude(lon: float) -> int:
    """Return the 3-degree Gauss-Kruger zone number whose central meridian is nearest ``lon``."""
    return int(round(lon / 3.0))


def gk3_srid(zone: int, *, with_prefix: bool) -> int:
    """Return the CGCS2000 3-degree GK EPSG code for ``zone`` (25-45), with or without prefix."""
    if not 25 <= zone <= 45:
        raise ValueError(f"3-degree zone {zone} is outside China's range 25-45")
    # EPSG:4513-4533 carry the zone prefix (zone 25 -> 4513); EPSG:4534-4554 do not (CM 75 E -> 4534).
    return 4488 + zone if with_prefix else 4534 + (zone - 25)


@lru_cache(maxsize=64)
def transformer(src_srid: int, dst_srid: int) -> Transformer:
    """Return a cached always_xy transformer between two EPSG codes."""
    return Transformer.from_crs(CRS.from_epsg(src_srid), CRS.from_epsg(dst_srid), always_xy=True)


def reproject(geom: BaseGeometry, src_srid: int, dst_srid: int) -> BaseGeometry:
    """Reproject a shapely geometry between EPSG codes (x = easting/longitude first)."""
    if src_srid == dst_srid:
        return geom
    return shapely.transform(geom, transformer(src_srid, dst_srid).transform, interleaved=False)


def to_area_crs(geom: BaseGeometry, src_srid: int = STORAGE_SRID) -> BaseGeometry:
    """Project a geometry into the planar area CRS."""
    return reproject(geom, src_srid, AREA_SRID)


def planar_area_m2(geom: BaseGeometry, src_srid: int = STORAGE_SRID) -> float:
    """Planar area in square metres in the GK projection."""
    return float(to_area_crs(geom, src_srid).area)


def ellipsoidal_area_m2(geom: BaseGeometry, src_srid: int = STORAGE_SRID) -> float:
    """Ellipsoidal (geodesic) area in square metres on the CGCS2000 ellipsoid (椭球面积)."""
    # pyproj sums signed ring areas: orient rings (shell counter-clockwise, holes clockwise) first,
    # or a hole wound like its shell would be added instead of deducted.
    geographic = shapely.orient_polygons(reproject(geom, src_srid, STORAGE_SRID), exterior_cw=False)
    area, _perimeter = CGCS2000_GEOD.geometry_area_perimeter(geographic)
    return abs(float(area))


def m2_to_mu(m2: float) -> float:
    """Convert square metres to mu (亩)."""
    return m2 / SQUARE_METRES_PER_MU


def m2_to_hectares(m2: float) -> float:
    """Convert square metres to hectares."""
    return m2 / SQUARE_METRES_PER_HECTARE


# --- GCJ-02 (the obfuscated datum of Chinese web maps) -------------------------------------------


def wgs84_to_gcj02(geom: BaseGeometry) -> BaseGeometry:
    """Shift a CGCS2000/WGS84 lon/lat geometry into GCJ-02 (about 400 m here), for a GCJ-02 base map.

    GCJ-02 is not an EPSG datum: the shift is a published polynomial (``prcoords.wgs_gcj``).  Use this only
    for display on Amap-style tiles; never store, measure or overlay in GCJ-02.
    """
    import numpy as np
    import prcoords

    def _shift(coords: np.ndarray) -> np.ndarray:
        out = np.empty_like(coords)
        for i, (lon, lat) in enumerate(coords):
            shifted = prcoords.wgs_gcj((lat, lon))  # prcoords speaks (lat, lon)
            out[i] = (shifted.lon, shifted.lat)
        return out

    return shapely.transform(geom, _shift)
