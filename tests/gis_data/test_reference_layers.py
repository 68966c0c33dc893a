"""Tests of the packaged reference layers (county outline, illustrative townships); no database."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import prcoords
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, shape

from gis_data import build_reference
from gis_data.crs import AREA_SRID, STORAGE_SRID, ellipsoidal_area_m2, planar_area_m2, reproject
from gis_data.reference_layers import Township, load_county, load_townships, township_by_name

SOURCE = Path(os.environ.get("SITEWATCH_DATAV_SOURCE", "/work/shared/data/qingshui_620521_datav_gcj02.json"))
needs_source = pytest.mark.skipif(not SOURCE.exists(), reason="DataV GCJ-02 source file not available")

EXPECTED_TOWNSHIPS = [
    "永清镇",
    "红堡镇",
    "白驼镇",
    "金集镇",
    "秦亭镇",
    "山门镇",
    "白沙镇",
    "王河镇",
    "郭川镇",
    "黄门镇",
    "松树镇",
    "远门镇",
    "土门镇",
    "草川铺镇",
    "贾川乡",
    "丰望乡",
    "新城乡",
    "陇东乡",
]


def test_county_is_valid_multipolygon() -> None:
    """The county loads as a valid, non-empty MultiPolygon."""
    county = load_county()
    assert isinstance(county, MultiPolygon)
    assert county.is_valid and not county.is_empty


def test_county_is_cached() -> None:
    """Repeated loads return the same cached object."""
    assert load_county() is load_county()


def test_county_area_and_extent() -> None:
    """Ellipsoidal area is about 1,990 km2 and the outline lies where Qingshui is."""
    county = load_county()
    ell_km2 = ellipsoidal_area_m2(county) / 1e6
    assert 1900 < ell_km2 < 2100
    # Planar GK area runs a few hundredths of a percent high here.
    ratio = planar_area_m2(county) / ellipsoidal_area_m2(county)
    assert 1.0 < ratio < 1.001
    minx, miny, maxx, maxy = county.bounds
    assert 105.7 <= minx < maxx <= 106.6
    assert 34.5 <= miny < maxy <= 35.0


def test_county_seat_inside_county() -> None:
    """The county seat (永清镇, about 106.137E 34.752N in WGS84) lies inside the outline."""
    assert load_county().contains(Point(106.137, 34.752))


def test_county_coordinates_rounded() -> None:
    """Coordinates carry at most 7 decimals."""
    coords = shapely.get_coordinates(load_county())
    assert (abs(coords * 1e7 - (coords * 1e7).round()) < 1e-3).all()


def test_conversion_moved_county_back_from_gcj02() -> None:
    """Re-applying the WGS84 -> GCJ-02 offset moves the outline about 0.004 deg east, 0.001 deg south."""
    county = load_county()

    def _to_gcj(coords):
        """Apply the forward WGS84 -> GCJ-02 offset to an (N, 2) lon/lat array."""
        out = coords.copy()
        for i, (lon, lat) in enumerate(coords):
            gcj = prcoords.wgs_gcj((lat, lon))
            out[i] = (gcj.lon, gcj.lat)
        return out

    gcj = shapely.transform(county, _to_gcj)
    dlon = gcj.centroid.x - county.centroid.x
    dlat = gcj.centroid.y - county.centroid.y
    assert 0.0038 < dlon < 0.0046
    assert -0.0014 < dlat < -0.0007


@needs_source
def test_conversion_shift_against_gcj_source() -> None:
    """Versus the GCJ-02 source, the centroid moved about -0.004 deg lon and +0.001 deg lat."""
    data = json.loads(SOURCE.read_text(encoding="utf-8"))
    source = shape(data[0]["geometry"])
    county = load_county()
    dlon = county.centroid.x - source.centroid.x
    dlat = county.centroid.y - source.centroid.y
    assert -0.0046 < dlon < -0.0038, dlon
    assert 0.0007 < dlat < 0.0014, dlat
    # Same outline otherwise: same vertex count; GCJ-02's varying offset distorts area by ~0.2 %.
    assert shapely.get_num_coordinates(county) == shapely.get_num_coordinates(source)
    assert ellipsoidal_area_m2(county) == pytest.approx(ellipsoidal_area_m2(source), rel=3e-3)


@needs_source
def test_build_is_deterministic(tmp_path: Path) -> None:
    """Rebuilding from the source reproduces the packaged files byte for byte."""
    build_reference.build(SOURCE, tmp_path)
    names = (build_reference.COUNTY_FILE, build_reference.TOWNSHIPS_FILE, build_reference.PROVENANCE_FILE)
    for name in names:
        packaged = build_reference.REFERENCE_DIR / name
        assert (tmp_path / name).read_bytes() == packaged.read_bytes(), name


def test_county_properties() -> None:
    """The county file names its source and the datum conversion."""
    text = (build_reference.REFERENCE_DIR / build_reference.COUNTY_FILE).read_text(encoding="utf-8")
    props = json.loads(text)["features"][0]["properties"]
    assert props["adcode"] == 620521
    assert props["name"] == "清水县"
    assert "GCJ-02" in props["datum_note"] and "CGCS2000" in props["datum_note"]
    assert "tnnevol/gmap" in props["source"]


def test_townships_count_names_codes() -> None:
    """18 townships, the 2020 names in order, unique codes 620521100-620521117, all illustrative."""
    townships = load_townships()
    assert all(isinstance(t, Township) for t in townships)
    assert [t.name for t in townships] == EXPECTED_TOWNSHIPS
    assert [t.code for t in townships] == [str(620521100 + i) for i in range(18)]
    assert len({t.code for t in townships}) == 18
    assert all(t.illustrative for t in townships)


def test_townships_valid() -> None:
    """Every township is a valid, non-empty MultiPolygon."""
    for t in load_townships():
        assert isinstance(t.geometry, MultiPolygon), t.name
        assert t.geometry.is_valid and not t.geometry.is_empty, t.name


def test_township_seats_inside() -> None:
    """Every seat lies inside its own township; 永清镇's seat is the county seat."""
    for t in load_townships():
        assert t.geometry.contains(t.seat), t.name
    seat = township_by_name("永清镇").seat
    assert (seat.x, seat.y) == pytest.approx((106.137, 34.752))


def test_townships_tile_county() -> None:
    """The union of the townships equals the county within 0.1 %, and they stay inside it."""
    county = load_county()
    townships = load_townships()
    union = shapely.union_all([t.geometry for t in townships])
    assert ellipsoidal_area_m2(union) == pytest.approx(ellipsoidal_area_m2(county), rel=1e-3)
    total = sum(ellipsoidal_area_m2(t.geometry) for t in townships)
    assert total == pytest.approx(ellipsoidal_area_m2(county), rel=1e-3)
    # The symmetric difference is grid-snapping noise only (slivers of millimetre width).
    assert planar_area_m2(union.symmetric_difference(county)) < 100.0


def test_townships_do_not_overlap() -> None:
    """Pairwise overlaps add up to less than 1 m2 (planar)."""
    planar = [reproject(t.geometry, STORAGE_SRID, AREA_SRID) for t in load_townships()]
    overlap = 0.0
    for a, b in itertools.combinations(planar, 2):
        if a.intersects(b):
            overlap += a.intersection(b).area
    assert overlap < 1.0


def test_township_list_is_a_copy() -> None:
    """Mutating the returned list does not corrupt the cache."""
    first = load_townships()
    first.clear()
    assert len(load_townships()) == 18


def test_township_by_name_unknown() -> None:
    """Unknown names raise KeyError."""
    with pytest.raises(KeyError):
        township_by_name("不存在镇")
