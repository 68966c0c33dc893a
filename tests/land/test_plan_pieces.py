"""Plan pieces: a layer is dissolved within tiles unless its features overlap, and areas stay those of
the features (summed feature by feature, as a plain ST_Intersects join gives them)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from server.models import PlanEdition
from server.repositories import land as land_repo
from server.services import land as land_service
from server.services import plan_index_cache
from tests.land.test_land_api import _fc, _feature, _import_parcels, _project, _sq, _txt

FARMLAND = [_sq(0, 0, 200, 400), _sq(200, 0, 200, 400), _sq(0, 400, 400, 100)]  # shared edges
REDLINE = [_sq(1000, 0, 300, 300), _sq(1100, 0, 300, 300)]  # overlapping by 200 m x 300 m

NAIVE = text(
    """
    SELECT p.id, f.layer, SUM(ST_Area(ST_Intersection(f.geom_area, p.geom_area)))
    FROM plan_features f JOIN land_parcels p ON ST_Intersects(f.geom_area, p.geom_area)
    WHERE p.id = ANY(:ids) AND f.edition_id = :e GROUP BY p.id, f.layer
    """
)


@pytest.fixture(autouse=True)
def _empty_cache():
    plan_index_cache.clear()
    yield
    plan_index_cache.clear()


def test_dissolved_pieces_keep_feature_areas(client, login, session):
    land = login("land")
    r = client.post(
        "/api/v1/land/editions",
        data={"name": "拼接与重叠", "kinds": ["farmland", "redline"]},
        files=[
            ("files", ("YJJBNTBHTB.geojson", _fc([_feature(g) for g in FARMLAND]), "application/geo+json")),
            ("files", ("STBHHX.geojson", _fc([_feature(g) for g in REDLINE]), "application/geo+json")),
        ],
        headers=land,
    )
    assert r.status_code == 201, r.text
    edition = session.get(PlanEdition, r.json()["id"])
    pieces = session.execute(
        text("SELECT layer, feature_id FROM plan_pieces WHERE edition_id = :e"), {"e": edition.id}
    ).all()
    # Adjacent farmland features are cut as one; the overlapping red lines keep their own pieces.
    assert any(layer == "farmland" and fid is None for layer, fid in pieces)
    assert all(fid is not None for layer, fid in pieces if layer == "redline")

    parcels = [
        ("D1", "跨三块农田", _sq(150, 300, 120, 150), "0701"),
        ("D2", "跨重叠红线", _sq(1050, 50, 300, 100), "0701"),
        ("D3", "贴农田边", _sq(-100, 0, 100, 100), "0701"),
    ]
    created = _import_parcels(client, land, _project(session).id, _txt(parcels))
    assert created.status_code == 201, created.text
    ids = [p["id"] for p in created.json()["created"]]
    naive = {(pid, layer): area for pid, layer, area in session.execute(NAIVE, {"ids": ids, "e": edition.id})}
    for rows in (
        land_service.layer_overlaps(session, edition, ids),
        land_repo.plan_overlaps(session, ids, edition.id),
    ):
        got: dict[tuple[int, str], float] = {}
        for row in rows:
            got[(row.parcel_id, row.layer)] = got.get((row.parcel_id, row.layer), 0.0) + row.area_m2
        assert got.keys() == naive.keys()
        for key, area in naive.items():
            assert got[key] == pytest.approx(area, abs=1e-4), key
    # The overlap of the two red lines counts twice, as it does feature by feature (250 m x 100 m each).
    assert naive[(ids[1], "redline")] == pytest.approx(50_000.0, rel=1e-6)
