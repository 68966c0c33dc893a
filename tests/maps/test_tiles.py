"""Vector tiles on PostGIS: every feature touching a tile is in it (with its id), caching, invalidation,
role scoping, ETag/304 and coded errors for bad addresses."""

from __future__ import annotations

import datetime as dt
import json
import math

import mapbox_vector_tile
import pytest
from shapely.geometry import box, mapping
from sqlalchemy import select, text

from gis_data import crs
from gis_data.boundary_txt import ParcelForExport, write_boundary_txt
from server.app import create_app
from server.models import Project
from server.repositories import tiles as tiles_repo
from server.services.tiles import TileMemory
from tests.factories import user

MVT = "application/vnd.mapbox-vector-tile"

# A local metric frame near the county seat (area CRS metres).
X0, Y0 = crs.transformer(crs.STORAGE_SRID, crs.AREA_SRID).transform(106.137, 34.752)


def _sq(x, y, w, h):
    """A rectangle in metres relative to the frame origin, as lon/lat."""
    return crs.reproject(box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h), crs.AREA_SRID, crs.STORAGE_SRID)


def _fc(features):
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _feature(geom, **props):
    return {"type": "Feature", "geometry": mapping(geom), "properties": props}


def _import_plan(client, headers, *, name="2024年规划", shift=0.0):
    # Farmland: 600 cells of 100 m over 3 x 3 km, and one big cell; many tiles to test.
    cells = [
        _feature(_sq(-1500 + 100 * i + shift, -1500 + 100 * j, 100, 100), DLMC="水浇地")
        for i in range(30)
        for j in range(30)
        if (i + j) % 3
    ]
    cells.append(_feature(_sq(3000, -2000, 2500, 4000), DLMC="旱地"))
    landuse = [
        _feature(_sq(-3000, -3000, 3000, 6000), YDYHFLDM="0701", YDYHFLMC="城镇住宅用地"),
        _feature(_sq(0, -3000, 6000, 6000), YDYHFLDM="0101", YDYHFLMC="水田"),
    ]
    files = [
        ("files", ("YJJBNTBHTB.geojson", _fc(cells), "application/geo+json")),
        ("files", ("STBHHX.geojson", _fc([_feature(_sq(-6000, 2500, 9000, 300))]), "application/geo+json")),
        ("files", ("CZKFBJ.geojson", _fc([_feature(_sq(-2500, -2500, 5000, 5000))]), "application/geo+json")),
        ("files", ("landuse.geojson", _fc(landuse), "application/geo+json")),
    ]
    r = client.post(
        "/api/v1/land/editions",
        data={"name": name, "kinds": ["farmland", "redline", "urban_boundary", "landuse"]},
        files=files,
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


def _import_parcels(client, headers, project_id, parcels, year=2027):
    data = write_boundary_txt(
        [ParcelForExport(parcel_id=c, name=c, geometry_lonlat=g, land_class="0701") for c, g in parcels],
        date=dt.date(2026, 10, 1),
    )
    r = client.post(
        "/api/v1/land/parcels/import",
        data={"project_id": project_id, "year": year},
        files={"file": ("parcels.txt", data, "text/plain")},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return {p["parcel_code"]: p["id"] for p in r.json()["created"]}


def _tile_of(lon, lat, z):
    """The XYZ tile containing a lon/lat point."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    lat_r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    return x, y


def _decode(data):
    return mapbox_vector_tile.decode(data) if data else {}


def _ids(data, layer):
    features = _decode(data).get(layer, {}).get("features", [])
    return [f["id"] for f in features]


def _get(client, headers, layer, z, x, y, **params):
    return client.get(f"/api/v1/tiles/{layer}/{z}/{x}/{y}.mvt", headers=headers, params=params)


@pytest.fixture()
def land(login):
    return login("land")


def _projects(session):
    unit_id = user(session, "unit").unit_id
    own = session.scalars(select(Project).where(Project.legal_person_unit_id == unit_id)).unique().first()
    other = (
        session.scalars(
            select(Project).where(
                Project.legal_person_unit_id != unit_id,
                Project.lead_unit_id != unit_id,
                ~Project.responsible_units.any(id=unit_id),
            )
        )
        .unique()
        .first()
    )
    assert own is not None and other is not None
    return own, other


@pytest.fixture()
def land_data(client, land, session):
    """A plan edition and parcels of two projects (one of the `unit` account's, one not)."""
    edition = _import_plan(client, land)
    own, other = _projects(session)
    own_ids = _import_parcels(
        client,
        land,
        own.id,
        [
            ("OWN-1", _sq(50, 50, 120, 80)),  # on farmland cells
            ("OWN-2", _sq(-1500, 900, 300, 200)),
            ("OWN-TINY", _sq(2600, 2600, 6, 6)),  # 36 m2: collapses at low zoom
        ],
    )
    other_ids = _import_parcels(
        client, land, other.id, [("OTHER-1", _sq(400, -600, 200, 200)), ("OTHER-2", _sq(-3000, -100, 90, 90))]
    )
    return {"edition": edition, "own": own, "other": other, "own_ids": own_ids, "other_ids": other_ids}


# A spread of tiles around the county seat at several zooms (low zooms read generalised geometry).
_ZOOMS = (4, 7, 9, 11, 12, 13, 15, 16)


def _tiles_around(zoom):
    x, y = _tile_of(106.137, 34.752, zoom)
    return [(x + dx, y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]


def test_layers_listed(client, login):
    r = client.get("/api/v1/tiles", headers=login("admin"))
    assert r.status_code == 200, r.text
    layers = {layer["id"]: layer for layer in r.json()["layers"]}
    assert set(layers) == {"parcels", "projects", "farmland", "redline", "urban_boundary", "landuse"}
    parcels = layers["parcels"]
    assert parcels["tiles"][0].endswith("/api/v1/tiles/parcels/{z}/{x}/{y}.mvt")
    assert (parcels["minzoom"], parcels["maxzoom"]) == (0, 22)
    assert "verdict" in parcels["vector_layers"][0]["fields"]
    assert parcels["bounds"] is not None and len(parcels["bounds"]) == 4


@pytest.mark.parametrize("layer", ["parcels", "farmland", "redline", "urban_boundary", "landuse", "projects"])
def test_every_intersecting_feature_is_in_the_tile(client, login, session, land_data, layer):
    headers = login("admin")
    edition_id = land_data["edition"]["id"]
    nonempty = 0
    for zoom in _ZOOMS:
        for x, y in _tiles_around(zoom):
            r = _get(client, headers, layer, zoom, x, y)
            assert r.status_code == 200, r.text
            ids = _ids(r.content, layer)
            assert len(ids) == len(set(ids)), f"duplicate ids in {layer} {zoom}/{x}/{y}"
            expected = tiles_repo.intersecting_ids(session, layer, zoom, x, y, edition_id=edition_id)
            assert set(ids) == expected, f"{layer} {zoom}/{x}/{y}"
            nonempty += bool(ids)
    assert nonempty >= len(_ZOOMS)


def test_parcel_properties_and_tiny_parcels(client, login, land_data):
    headers = login("admin")
    tiny = land_data["own_ids"]["OWN-TINY"]
    centre = _sq(2600, 2600, 6, 6).centroid
    for zoom in (3, 8, 12, 18):
        data = _get(client, headers, "parcels", zoom, *_tile_of(centre.x, centre.y, zoom)).content
        features = {f["id"]: f for f in _decode(data)["parcels"]["features"]}
        assert tiny in features, f"a 36 m2 parcel vanished at z{zoom}"
        assert features[tiny]["geometry"]["type"] == "Polygon"
    x, y = _tile_of(106.137, 34.752, 12)
    features = {
        f["id"]: f for f in _decode(_get(client, headers, "parcels", 12, x, y).content)["parcels"]["features"]
    }
    one = features[land_data["own_ids"]["OWN-1"]]["properties"]
    assert one["year"] == 2027
    assert one["project_code"] == land_data["own"].code
    assert one["status"] == "draft"
    assert one["verdict"] in ("compliant", "needs_adjustment", "blocked")


def test_plan_tiles_at_low_zoom_are_generalised(client, login, session, land_data):
    headers = login("admin")
    x, y = _tile_of(106.137, 34.752, 8)
    low = _get(client, headers, "farmland", 8, x, y).content
    x, y = _tile_of(106.137, 34.752, 16)
    high = _get(client, headers, "farmland", 16, x, y).content
    assert len(_ids(low, "farmland")) > 500
    # Bytes per feature at z8 stay small: cells are a few units wide and simplified.
    assert len(low) / len(_ids(low, "farmland")) < 40
    assert _ids(high, "farmland")


def test_headers_cache_hit_and_304(client, login, land_data):
    headers = login("admin")
    x, y = _tile_of(106.137, 34.752, 14)
    first = _get(client, headers, "parcels", 14, x, y)
    assert first.status_code == 200
    assert first.headers["content-type"] == MVT
    assert first.headers["cache-control"].startswith("private, max-age=")
    etag = first.headers["etag"]
    second = _get(client, headers, "parcels", 14, x, y)
    assert second.content == first.content and second.headers["etag"] == etag
    not_modified = client.get(
        f"/api/v1/tiles/parcels/14/{x}/{y}.mvt", headers={**headers, "If-None-Match": etag}
    )
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    other = client.get(
        f"/api/v1/tiles/parcels/14/{x}/{y}.mvt", headers={**headers, "If-None-Match": '"nope"'}
    )
    assert other.status_code == 200 and other.content == first.content


def test_cache_table_serves_a_fresh_process(client, login, settings, session_factory, land_data):
    """A second app (empty memory) gets the same bytes from the tile_cache table."""
    from fastapi.testclient import TestClient

    client.app.state.tile_memory = TileMemory(persist_after_ms=0)  # keep every tile in the table
    headers = login("admin")
    x, y = _tile_of(106.137, 34.752, 13)
    first = _get(client, headers, "farmland", 13, x, y)
    with session_factory() as s:
        cached = s.execute(
            text("SELECT count(*) FROM tile_cache WHERE layer = 'farmland' AND z = 13 AND x = :x AND y = :y"),
            {"x": x, "y": y},
        ).scalar_one()
    assert cached == 1
    with TestClient(create_app(settings, session_factory=session_factory)) as fresh:
        again = _get(fresh, headers, "farmland", 13, x, y)
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]


def test_changed_and_new_parcels_show_in_the_next_tile(client, login, land, session, land_data):
    headers = login("admin")
    x, y = _tile_of(106.137, 34.752, 14)
    before = _get(client, headers, "parcels", 14, x, y)
    parcel_id = land_data["own_ids"]["OWN-1"]
    assert parcel_id in _ids(before.content, "parcels")
    # A status change (the service path) shows at once.
    r = client.post("/api/v1/land/parcels/submit", json={"parcel_ids": [parcel_id]}, headers=land)
    assert r.status_code == 200, r.text
    after = _get(client, headers, "parcels", 14, x, y)
    assert after.content != before.content and after.headers["etag"] != before.headers["etag"]
    props = {f["id"]: f["properties"] for f in _decode(after.content)["parcels"]["features"]}
    assert props[parcel_id]["status"] == "submitted"
    # A 304 for the old tag is no longer given.
    stale = client.get(
        f"/api/v1/tiles/parcels/14/{x}/{y}.mvt", headers={**headers, "If-None-Match": before.headers["etag"]}
    )
    assert stale.status_code == 200
    # A new parcel appears; a moved parcel leaves.
    new_ids = _import_parcels(client, land, land_data["own"].id, [("OWN-NEW", _sq(10, 10, 30, 30))])
    assert new_ids["OWN-NEW"] in _ids(_get(client, headers, "parcels", 14, x, y).content, "parcels")
    session.execute(
        text("UPDATE land_parcels SET geom = ST_Translate(geom, 1, 0) WHERE id = :id"), {"id": parcel_id}
    )
    session.flush()
    moved = _ids(_get(client, headers, "parcels", 14, x, y).content, "parcels")
    assert parcel_id not in moved


def test_project_changes_reach_parcel_tiles(client, login, session, land_data):
    headers = login("admin")
    x, y = _tile_of(106.137, 34.752, 14)
    parcel_id = land_data["own_ids"]["OWN-1"]
    _get(client, headers, "parcels", 14, x, y)
    session.execute(
        text("UPDATE projects SET status = 'suspended' WHERE id = :id"), {"id": land_data["own"].id}
    )
    session.flush()
    props = {
        f["id"]: f["properties"]
        for f in _decode(_get(client, headers, "parcels", 14, x, y).content)["parcels"]["features"]
    }
    assert props[parcel_id]["project_status"] == "suspended"


def test_new_edition_is_the_default_and_old_editions_stay(client, login, land, land_data):
    headers = login("admin")
    first = land_data["edition"]["id"]
    x, y = _tile_of(106.137, 34.752, 14)
    old = _get(client, headers, "farmland", 14, x, y)
    second = _import_plan(client, land, name="2025年规划", shift=50.0)["id"]
    new = _get(client, headers, "farmland", 14, x, y)
    assert new.content != old.content
    assert {f["properties"]["edition_id"] for f in _decode(new.content)["farmland"]["features"]} == {second}
    pinned = _get(client, headers, "farmland", 14, x, y, edition=first)
    assert pinned.content == old.content


def test_scoped_users_see_only_their_projects(client, login, session, land_data):
    own_parcels = set(land_data["own_ids"].values())
    other_parcels = set(land_data["other_ids"].values())
    everything = set()
    mine = set()
    unit = login("unit")
    admin = login("admin")
    for zoom in (5, 9):
        for x, y in _tiles_around(zoom):
            everything |= set(_ids(_get(client, admin, "parcels", zoom, x, y).content, "parcels"))
            mine |= set(_ids(_get(client, unit, "parcels", zoom, x, y).content, "parcels"))
    assert own_parcels | other_parcels <= everything
    assert own_parcels <= mine and not (mine & other_parcels)
    # Projects: the unit's tile has only projects it may read.
    x, y = _tile_of(106.137, 34.752, 5)
    unit_projects = set(_ids(_get(client, unit, "projects", 5, x, y).content, "projects"))
    admin_projects = set(_ids(_get(client, admin, "projects", 5, x, y).content, "projects"))
    assert land_data["other"].id not in unit_projects and unit_projects < admin_projects
    listed = client.get("/api/v1/projects", headers=unit, params={"page_size": 500}).json()["items"]
    assert unit_projects <= {p["id"] for p in listed}
    # Plan layers are public to signed-in users.
    assert _ids(_get(client, unit, "farmland", 9, *_tile_of(106.137, 34.752, 9)).content, "farmland")
    township = login("township")
    township_parcels = set()
    for x, y in _tiles_around(9):
        township_parcels |= set(_ids(_get(client, township, "parcels", 9, x, y).content, "parcels"))
    visible = {
        p["id"]
        for p in client.get("/api/v1/projects", headers=township, params={"page_size": 500}).json()["items"]
    }
    for pid in township_parcels:
        owner = session.execute(
            text("SELECT project_id FROM land_parcels WHERE id = :id"), {"id": pid}
        ).scalar_one()
        assert owner in visible


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/tiles/parcels/23/0/0.mvt", 400, "tile_out_of_range"),
        ("/api/v1/tiles/parcels/-1/0/0.mvt", 400, "tile_out_of_range"),
        ("/api/v1/tiles/parcels/3/8/0.mvt", 400, "tile_out_of_range"),
        ("/api/v1/tiles/parcels/3/0/-1.mvt", 400, "tile_out_of_range"),
        ("/api/v1/tiles/parcels/0/0/1.mvt", 400, "tile_out_of_range"),
        ("/api/v1/tiles/parcels/99999999999/0/0.mvt", 400, "tile_out_of_range"),
        ("/api/v1/tiles/parcels/3/1.5/0.mvt", 400, "tile_coordinate_invalid"),
        ("/api/v1/tiles/parcels/abc/0/0.mvt", 400, "tile_coordinate_invalid"),
        ("/api/v1/tiles/parcels/3/0/%EF%BC%91.mvt", 400, "tile_coordinate_invalid"),
        ("/api/v1/tiles/parcels/3/0/99999999999999999999999.mvt", 400, "tile_coordinate_invalid"),
        ("/api/v1/tiles/roads/3/0/0.mvt", 404, "unknown_layer"),
        ("/api/v1/tiles/parcels/3/0/0.mvt?edition=1", 400, "edition_not_applicable"),
        ("/api/v1/tiles/farmland/3/0/0.mvt?edition=999999", 404, "edition_not_found"),
        ("/api/v1/tiles/farmland/3/0/0.mvt?edition=x", 422, "validation_error"),
        ("/api/v1/tiles/farmland/3/0/0.mvt?edition=0", 422, "validation_error"),
    ],
)
def test_bad_addresses_get_coded_errors(client, login, path, status, code):
    r = client.get(path, headers=login("admin"))
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code


def test_tiles_need_a_login(client):
    r = client.get("/api/v1/tiles/parcels/3/0/0.mvt")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    assert client.get("/api/v1/tiles").status_code == 401


def test_empty_tile_without_plan(client, login):
    r = _get(client, login("admin"), "farmland", 10, 0, 0)
    assert r.status_code == 200 and r.content == b"" and r.headers["etag"]


def test_moved_plan_feature_leaves_the_tile(client, login, session, land_data):
    """The trigger on plan_features keeps the Web Mercator copies in step with a changed geometry."""
    headers = login("admin")
    edition_id = land_data["edition"]["id"]
    x, y = _tile_of(106.137, 34.752, 14)
    before = _ids(_get(client, headers, "farmland", 14, x, y).content, "farmland")
    moved = before[0]
    session.execute(
        text("UPDATE plan_features SET geom = ST_Translate(geom, 0.5, 0) WHERE id = :id"), {"id": moved}
    )
    session.flush()
    after = _ids(_get(client, headers, "farmland", 14, x, y).content, "farmland")
    assert moved not in after and set(after) == set(before) - {moved}
    assert set(after) == tiles_repo.intersecting_ids(session, "farmland", 14, x, y, edition_id=edition_id)


def test_one_version_bump_per_transaction(connection):
    """Statements after the first in one transaction leave the version alone (no pile of dead rows);
    the new version is seen by others at commit, with all of the transaction's writes."""

    def version():
        query = text("SELECT version FROM layer_versions WHERE layer = 'parcels'")
        return connection.execute(query).scalar_one()

    v0 = version()
    connection.execute(text("UPDATE land_parcels SET status = status WHERE false"))
    v1 = version()
    connection.execute(text("UPDATE land_parcels SET status = status WHERE false"))
    assert v1 > v0 and version() == v1
    with connection.begin_nested():  # a savepoint of the same transaction: already bumped
        connection.execute(text("UPDATE land_checks SET verdict = verdict WHERE false"))
        assert version() == v1


def test_filtered_parcel_tiles_keep_only_the_filtered_projects(client, login, land_data):
    headers = login("admin")
    x, y = _tile_of(106.137, 34.752, 11)
    own, other = land_data["own"], land_data["other"]
    everything = set(_ids(_get(client, headers, "parcels", 11, x, y).content, "parcels"))
    assert set(land_data["own_ids"].values()) | set(land_data["other_ids"].values()) <= everything

    only_own = _get(client, headers, "parcels", 11, x, y, q=own.code)
    assert only_own.status_code == 200
    own_codes = {f["properties"]["project_code"] for f in _decode(only_own.content)["parcels"]["features"]}
    assert own_codes == {own.code}
    assert set(land_data["own_ids"].values()) <= set(_ids(only_own.content, "parcels"))
    only_other = _get(client, headers, "parcels", 11, x, y, q=other.code)
    other_ids = set(_ids(only_other.content, "parcels"))
    assert set(land_data["other_ids"].values()) <= other_ids
    assert not other_ids & set(land_data["own_ids"].values())
    # The unit sees only its own projects' parcels, filtered or not.
    unit = login("unit")
    assert _ids(_get(client, unit, "parcels", 11, x, y, q=other.code).content, "parcels") == []

    bad = _get(client, headers, "parcels", 11, x, y, progress_status="late")
    assert bad.status_code == 422
    assert bad.json()["code"] == "validation_error"
    unknown = _get(client, headers, "parcels", 11, x, y, township_id=999999)
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_township"


def test_parcel_and_project_popups(client, login, land_data):
    admin = login("admin")
    parcel_id = land_data["own_ids"]["OWN-1"]
    r = client.get(f"/api/v1/map/parcels/{parcel_id}/popup.html", headers=admin)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "OWN-1" in r.text and "报批状态" in r.text and land_data["own"].name in r.text
    assert 'class="sw-badge"' in r.text
    year = client.get(f"/api/v1/land/parcels/{parcel_id}", headers=admin).json()["year"]
    assert f'href="/land?year={year}" target="_top"' in r.text  # through to the land page

    project = land_data["own"]
    r = client.get(f"/api/v1/map/projects/{project.id}/popup.html", headers=admin)
    assert r.status_code == 200
    for word in (project.name, "总投资", "包抓县级领导", "最近督查", "未整改问题", f"/projects/{project.id}"):
        assert word in r.text

    unit = login("unit")
    other_parcel = land_data["other_ids"]["OTHER-1"]
    assert client.get(f"/api/v1/map/parcels/{other_parcel}/popup.html", headers=unit).status_code == 403
    other = land_data["other"].id
    assert client.get(f"/api/v1/map/projects/{other}/popup.html", headers=unit).status_code == 403
    for path, code in (
        ("/api/v1/map/parcels/99999999/popup.html", "parcel_not_found"),
        ("/api/v1/map/projects/99999999/popup.html", "project_not_found"),
    ):
        missing = client.get(path, headers=admin)
        assert missing.status_code == 404
        assert missing.json()["code"] == code
    assert client.get("/api/v1/map/parcels/0/popup.html", headers=admin).status_code == 422
    assert client.get(f"/api/v1/map/parcels/{parcel_id}/popup.html").status_code == 401


def test_county_page_draws_parcels_from_tiles_and_fetches_popups(client, login, land_data):
    admin = login("admin")
    html = client.get("/api/v1/map/county.html", headers=admin).text
    assert '"/api/v1/tiles/parcels/{z}/{x}/{y}.mvt"' in html
    assert "OWN-1" not in html, "parcels are not written into the page"
    assert "/api/v1/map/projects/" in html
    assert "总投资" not in html, "project popups are fetched when opened"
    filtered = client.get("/api/v1/map/county.html", headers=admin, params={"q": land_data["own"].code}).text
    assert f'"/api/v1/tiles/parcels/{{z}}/{{x}}/{{y}}.mvt?q={land_data["own"].code}"' in filtered


_ATTRIBUTES_DRIFT = text(
    """
    SELECT count(*) FROM tile_parcel_geoms t
    JOIN land_parcels lp ON lp.id = t.parcel_id
    JOIN projects p ON p.id = lp.project_id
    LEFT JOIN land_checks c ON c.parcel_id = lp.id AND c.is_latest
    WHERE t.project_code IS DISTINCT FROM p.code OR t.project_status IS DISTINCT FROM p.status
       OR t.verdict IS DISTINCT FROM c.verdict OR t.project_id IS DISTINCT FROM lp.project_id
    """
)


def test_parcel_tile_attributes_follow_projects_and_checks(client, login, session, land_data):
    """The project code/status and latest verdict kept beside each parcel's tile geometry never drift."""
    assert session.execute(_ATTRIBUTES_DRIFT).scalar_one() == 0
    own = land_data["own"]
    parcel_id = land_data["own_ids"]["OWN-1"]
    session.execute(
        text("UPDATE projects SET code = code || 'X', status = 'suspended' WHERE id = :id"), {"id": own.id}
    )
    assert session.execute(_ATTRIBUTES_DRIFT).scalar_one() == 0
    session.execute(
        text("UPDATE land_checks SET verdict = 'blocked' WHERE parcel_id = :id"), {"id": parcel_id}
    )
    assert session.execute(_ATTRIBUTES_DRIFT).scalar_one() == 0
    session.execute(text("DELETE FROM land_checks WHERE parcel_id = :id"), {"id": parcel_id})
    assert session.execute(_ATTRIBUTES_DRIFT).scalar_one() == 0
    other = land_data["other"]
    session.execute(
        text("UPDATE land_parcels SET project_id = :p WHERE id = :id"), {"p": other.id, "id": parcel_id}
    )
    assert session.execute(_ATTRIBUTES_DRIFT).scalar_one() == 0
    session.flush()
    x, y = _tile_of(106.137, 34.752, 12)
    features = _decode(_get(client, login("admin"), "parcels", 12, x, y).content)["parcels"]["features"]
    props = {f["id"]: f["properties"] for f in features}
    assert props[parcel_id]["project_code"] == other.code
    assert "verdict" not in props[parcel_id]
