"""The in-memory plan index: the same areas as a plain GEOS intersection, whatever the shortcut taken."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from gis_data.plan_index import PlanIndex


def _grid(x0: float, y0: float, n: int, size: float) -> list[Polygon]:
    return [
        box(x0 + i * size, y0 + j * size, x0 + (i + 1) * size, y0 + (j + 1) * size)
        for i in range(n)
        for j in range(n)
    ]


def _expected(parcels, layers, codes, pieces):
    out = {}
    for i, parcel in enumerate(parcels):
        for layer, code, piece in zip(layers, codes, pieces, strict=True):
            if parcel.intersects(piece):
                key = (i, layer, code)
                out[key] = out.get(key, 0.0) + parcel.intersection(piece).area
    return out


def test_areas_match_plain_intersection():
    rng = np.random.default_rng(7)
    farmland = _grid(500_000.0, 3_822_000.0, 6, 100.0)  # 600 m x 600 m of 1 ha pieces
    redline = [shapely.Point(500_450.0, 3_822_450.0).buffer(120.0, quad_segs=16)]
    landuse = [
        box(499_900.0, 3_821_900.0, 500_300.0, 3_822_700.0),
        box(500_300.0, 3_821_900.0, 500_700.0, 3_822_700.0),
    ]
    pieces = farmland + redline + landuse
    layers = ["farmland"] * len(farmland) + ["redline"] + ["landuse"] * 2
    codes = [None] * (len(farmland) + 1) + ["0701", "0101"]
    index = PlanIndex.from_wkb(layers, codes, shapely.to_wkb(np.asarray(pieces, dtype=object)))
    parcels = [
        box(500_120.0, 3_822_120.0, 500_180.0, 3_822_180.0),  # inside one piece: the piece covers it
        box(500_100.0, 3_822_100.0, 500_300.0, 3_822_300.0),  # exactly four pieces: covers them
        box(500_050.0, 3_822_050.0, 500_350.0, 3_822_250.0),  # crossing pieces
        box(500_600.0, 3_822_000.0, 500_650.0, 3_822_100.0),  # touches the farmland along an edge only
        box(501_000.0, 3_823_000.0, 501_100.0, 3_823_100.0),  # outside everything
    ]
    for _ in range(20):
        x, y = rng.uniform(500_000.0, 500_600.0, 2)
        parcels.append(shapely.Point(x, y).buffer(rng.uniform(10.0, 200.0), quad_segs=8))
    expected = _expected(parcels, layers, codes, pieces)
    got = {(r.index, r.layer, r.class_code): r.area_m2 for r in index.overlaps(parcels)}
    assert got.keys() == expected.keys()
    for key, area in expected.items():
        assert got[key] == pytest.approx(area, abs=1e-6), key
    assert got[(3, "farmland", None)] == 0.0  # an edge in common is an overlap of 0 m2, as in PostGIS
    assert not any(index == 4 for index, _layer, _code in got)


def test_overlap_geometry_and_empty_cases():
    pieces = _grid(0.0, 0.0, 2, 10.0)
    index = PlanIndex(["farmland"] * 4, [None] * 4, pieces)
    parcel = box(5.0, 5.0, 15.0, 15.0)
    piece = index.overlap_geometry(parcel, "farmland")
    assert isinstance(piece, MultiPolygon)
    assert piece.area == pytest.approx(100.0)
    assert index.overlap_geometry(parcel, "redline") is None
    assert index.overlap_geometry(box(100.0, 100.0, 101.0, 101.0), "farmland") is None
    assert index.overlaps([]) == []
    assert PlanIndex([], [], []).overlaps([parcel]) == []
    assert index.layers == {"farmland"}
    assert index.vertices == 20 and len(index) == 4 and index.nbytes > 0
    with pytest.raises(ValueError):
        PlanIndex(["farmland"], [], pieces[:1])


def test_large_batches_shared_over_threads_give_the_same_areas(monkeypatch):
    from gis_data import plan_index

    rng = np.random.default_rng(7)
    centres = rng.uniform(0, 5000, (400, 2))
    pieces = [shapely.Point(x, y).buffer(40, quad_segs=8) for x, y in centres]
    index = PlanIndex(["farmland"] * len(pieces), [None] * len(pieces), pieces)
    parcels = [shapely.Point(x + 30, y).buffer(35, quad_segs=4) for x, y in centres]
    monkeypatch.setattr(plan_index, "_WORKERS", 1)
    serial = index.overlaps(parcels)
    monkeypatch.setattr(plan_index, "_WORKERS", 3)
    monkeypatch.setattr(plan_index, "PARALLEL_PARCELS", 2)
    shared = index.overlaps(parcels)
    assert len(serial) == len(shared) >= 400
    assert [(o.index, o.layer) for o in serial] == [(o.index, o.layer) for o in shared]
    assert [o.area_m2 for o in serial] == [o.area_m2 for o in shared]
    assert sum(o.area_m2 > 0 for o in shared) >= 400
