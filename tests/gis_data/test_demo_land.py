"""The demo county's synthetic plan, land-demand parcels and site photos (pure generators)."""

from __future__ import annotations

import datetime as dt
import io
import itertools

import imagehash
import pytest
import shapely
from PIL import Image

from gis_data import demo as demo_data
from gis_data.crs import AREA_SRID, STORAGE_SRID, reproject
from gis_data.demo_land import EDITION_DESCRIPTION, EDITION_NAME, demo_land, parcels_geojson
from gis_data.demo_photos import photo_jpeg
from gis_data.reference_layers import load_county
from server.photo_evidence.exif import read_photo_metadata


@pytest.fixture(scope="module")
def land():
    """The demo land data of the default seed."""
    return demo_land()


def test_generator_is_deterministic(land) -> None:
    again = demo_land(demo_data.demo_projects())
    assert [(f.layer, f.geometry.wkb, f.attributes) for f in again.plan] == [
        (f.layer, f.geometry.wkb, f.attributes) for f in land.plan
    ]
    assert [(p.parcel_code, p.geometry.wkb, p.expected_verdict) for p in again.parcels] == [
        (p.parcel_code, p.geometry.wkb, p.expected_verdict) for p in land.parcels
    ]
    other = demo_land(demo_data.demo_projects(), seed=7)
    assert [f.geometry.wkb for f in other.plan] != [f.geometry.wkb for f in land.plan]


def test_edition_is_labelled_illustrative(land) -> None:
    assert "示意" in EDITION_NAME and land.name == EDITION_NAME
    assert "合成" in EDITION_DESCRIPTION and "不是清水县真实" in EDITION_DESCRIPTION


def test_plan_layers_inside_the_county(land) -> None:
    county = reproject(load_county(), STORAGE_SRID, AREA_SRID).buffer(1.0)
    assert 200 <= len(land.layer("farmland")) <= 800
    assert 3 <= len(land.layer("redline")) <= 10
    assert len(land.layer("urban_boundary")) >= 3
    assert {f.attributes["YDYHFLDM"] for f in land.layer("landuse")} >= {"07", "08"}
    for feature in land.plan:
        assert feature.geometry.is_valid and not feature.geometry.is_empty
        assert county.contains(feature.geometry), feature.attributes
    farmland = shapely.union_all([f.geometry for f in land.layer("farmland")])
    urban = shapely.union_all([f.geometry for f in land.layer("urban_boundary")])
    redline = shapely.union_all([f.geometry for f in land.layer("redline")])
    # Three zones, three lines: farmland, red line and urban boundary do not overlap.
    assert farmland.intersection(urban).area < 1.0
    assert farmland.intersection(redline).area < 1.0
    assert redline.intersection(urban).area < 1.0


def test_parcels_cover_every_verdict(land) -> None:
    county = load_county().buffer(1e-5)
    assert 60 <= len(land.parcels) <= 80
    assert 30 <= len(land.project_codes()) <= 45
    codes = {p.code for p in demo_data.demo_projects()}
    assert set(land.project_codes()) <= codes
    assert len({p.parcel_code for p in land.parcels}) == len(land.parcels)
    for parcel in land.parcels:
        assert 1.0 <= parcel.area_ha <= 50.0, parcel
        assert parcel.geometry.is_valid and county.contains(parcel.geometry)
    verdicts = {p.expected_verdict for p in land.parcels}
    assert verdicts == {"compliant", "needs_adjustment", "blocked"}
    by_intent = {p.intent: p.expected_verdict for p in land.parcels}
    assert by_intent == {
        "compliant": "compliant",
        "outside_urban": "needs_adjustment",
        "parcel_overlap": "needs_adjustment",
        "farmland": "blocked",
        "redline": "blocked",
    }
    for intent, verdict in by_intent.items():
        assert all(p.expected_verdict == verdict for p in land.parcels if p.intent == intent), intent
    assert sum(p.intent == "redline" for p in land.parcels) == 1
    assert sum(p.intent == "parcel_overlap" for p in land.parcels) >= 2


def test_parcels_geojson_is_lonlat_with_codes(land) -> None:
    import json

    collection = json.loads(parcels_geojson(land.parcels[:3]))
    assert [f["properties"]["DKBH"] for f in collection["features"]] == [
        p.parcel_code for p in land.parcels[:3]
    ]
    lon, lat = collection["features"][0]["geometry"]["coordinates"][0][0]
    assert 105.5 < lon < 106.6 and 34.4 < lat < 35.1


def test_demo_photo_carries_gps_and_time(tmp_path) -> None:
    taken = dt.datetime(2026, 5, 12, 2, 30, tzinfo=dt.UTC)
    data = photo_jpeg("during", 3, lat=34.7521, lon=106.1372, taken=taken)
    assert data == photo_jpeg("during", 3, lat=34.7521, lon=106.1372, taken=taken)
    meta = read_photo_metadata(io.BytesIO(data))
    assert (meta.width, meta.height) == (1600, 1200)
    assert meta.lat == pytest.approx(34.7521, abs=1e-6) and meta.lon == pytest.approx(106.1372, abs=1e-6)
    assert meta.taken_at == taken


def test_demo_photos_are_not_near_duplicates() -> None:
    """The pipeline flags photos within 10 bits of perceptual hash: demo photos stay well apart."""
    taken = dt.datetime(2026, 5, 12, 2, 30, tzinfo=dt.UTC)
    hashes = []
    for seed in range(24):
        image = Image.open(
            io.BytesIO(
                photo_jpeg(("before", "during", "after")[seed % 3], seed, lat=34.75, lon=106.1, taken=taken)
            )
        )
        image.thumbnail((320, 320))
        hashes.append(imagehash.phash(image))
    assert min(a - b for a, b in itertools.combinations(hashes, 2)) > 12
