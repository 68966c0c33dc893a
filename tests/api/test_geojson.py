"""GeoJSON out and back in: geometries kept to 1e-9 degrees; import is all or nothing."""

from __future__ import annotations

import copy

from shapely.geometry import shape
from sqlalchemy import func, select

from server.models import Project
from tests.factories import new_code


def _max_vertex_diff(a: dict, b: dict) -> float:
    import shapely

    ca = shapely.get_coordinates(shape(a))
    cb = shapely.get_coordinates(shape(b))
    assert ca.shape == cb.shape
    return float(abs(ca - cb).max()) if len(ca) else 0.0


def test_export_then_import_as_new_projects(client, login, session):
    headers = login("admin")
    exported = client.get("/api/v1/projects/geojson", headers=headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/geo+json")
    collection = exported.json()
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) >= 50
    originals = {f["properties"]["code"]: f for f in collection["features"] if f["geometry"]}
    renamed = copy.deepcopy(collection)
    mapping = {}
    for feature in renamed["features"]:
        mapping[feature["properties"]["code"]] = new_code()
        feature["properties"]["code"] = mapping[feature["properties"]["code"]]
        feature["properties"]["name"] = feature["properties"]["name"] + "（副本）"
    r = client.post("/api/v1/projects/import", json=renamed, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == len(collection["features"])
    again = client.get("/api/v1/projects/geojson", headers=headers).json()
    by_code = {f["properties"]["code"]: f for f in again["features"]}
    kinds = set()
    for old_code, feature in originals.items():
        copy_feature = by_code[mapping[old_code]]
        kinds.add(feature["geometry"]["type"])
        assert _max_vertex_diff(feature["geometry"], copy_feature["geometry"]) <= 1e-9
        for key in (
            "total_investment_yuan",
            "annual_plan_yuan",
            "township",
            "leader",
            "responsible_units",
            "planned_start",
            "category",
            "status",
            "energy_tce",
        ):
            assert copy_feature["properties"][key] == feature["properties"][key], key
    assert {"Point", "LineString", "Polygon"} <= kinds


def test_import_update_existing_keeps_geometry(client, login):
    headers = login("admin")
    collection = client.get("/api/v1/projects/geojson", headers=headers).json()
    refused = client.post("/api/v1/projects/import", json=collection, headers=headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "project_code_duplicate"
    assert refused.json()["feature_index"] == 0
    r = client.post(
        "/api/v1/projects/import", params={"update_existing": True}, json=collection, headers=headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["updated"] == len(collection["features"])
    after = client.get("/api/v1/projects/geojson", headers=headers).json()
    for before, now in zip(collection["features"], after["features"], strict=True):
        if before["geometry"]:
            assert _max_vertex_diff(before["geometry"], now["geometry"]) <= 1e-9


def test_import_is_all_or_nothing(client, login, session):
    headers = login("admin")
    collection = client.get("/api/v1/projects/geojson", headers=headers).json()
    features = copy.deepcopy(collection["features"][:3])
    for feature in features:
        feature["properties"]["code"] = new_code()
    features[2]["properties"]["township"] = "不存在镇"
    before = session.scalar(select(func.count()).select_from(Project))
    r = client.post(
        "/api/v1/projects/import", json={"type": "FeatureCollection", "features": features}, headers=headers
    )
    assert r.status_code == 422
    assert r.json()["code"] == "unknown_township"
    assert r.json()["feature_index"] == 2
    assert session.scalar(select(func.count()).select_from(Project)) == before


def test_import_refuses_non_collections(client, login):
    headers = login("admin")
    r = client.post("/api/v1/projects/import", json={"type": "Feature"}, headers=headers)
    assert r.json()["code"] == "import_not_feature_collection"
    r = client.post(
        "/api/v1/projects/import", json={"type": "FeatureCollection", "features": []}, headers=headers
    )
    assert r.json()["code"] == "import_empty"
    r = client.post(
        "/api/v1/projects/import", json={"type": "FeatureCollection", "features": []}, headers=login("unit")
    )
    assert r.status_code == 403
