"""Land end to end on PostGIS: plan editions, parcels from TXT/GeoJSON, checks and verdicts, the cycle."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import geopandas
import pytest
from openpyxl import load_workbook
from shapely.geometry import box, mapping
from sqlalchemy import delete, func, select

from gis_data import crs
from gis_data.boundary_txt import ParcelForExport, read_boundary_txt, write_boundary_txt
from server.models import ApprovalBatch, LandCheck, LandParcel, PlanEdition, Project
from tests.factories import user

# A local metric frame near the county seat (EPSG:4544 metres).
X0, Y0 = crs.transformer(crs.STORAGE_SRID, crs.AREA_SRID).transform(106.137, 34.752)


def _lonlat(geom):
    return crs.reproject(geom, crs.AREA_SRID, crs.STORAGE_SRID)


def _sq(x, y, w, h):
    """A rectangle in metres relative to the frame origin, as lon/lat."""
    return _lonlat(box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h))


FARMLAND = _sq(0, 0, 400, 400)
REDLINE = _sq(1000, 0, 300, 300)
URBAN = _sq(-2000, -2000, 2900, 5000)  # covers x in [-2000, 900]


def _fc(features):
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _feature(geom, **props):
    return {"type": "Feature", "geometry": mapping(geom), "properties": props}


def _plan_files():
    landuse = [
        _feature(_sq(-2000, -2000, 2000, 5000), YDYHFLDM="0701", YDYHFLMC="城镇住宅用地"),
        _feature(_sq(0, -2000, 3000, 5000), YDYHFLDM="0101", YDYHFLMC="水田"),
    ]
    return [
        ("files", ("YJJBNTBHTB.geojson", _fc([_feature(FARMLAND, DLMC="水浇地")]), "application/geo+json")),
        ("files", ("STBHHX.geojson", _fc([_feature(REDLINE, HXMC="水源涵养")]), "application/geo+json")),
        ("files", ("CZKFBJ.geojson", _fc([_feature(URBAN)]), "application/geo+json")),
        ("files", ("landuse.geojson", _fc(landuse), "application/geo+json")),
    ]


def _import_plan(client, headers, name="2024年规划"):
    r = client.post(
        "/api/v1/land/editions",
        data={"name": name, "kinds": ["farmland", "redline", "urban_boundary", "landuse"]},
        files=_plan_files(),
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


def _txt(parcels):
    return write_boundary_txt(
        [ParcelForExport(parcel_id=c, name=n, geometry_lonlat=g, land_class=lc) for c, n, g, lc in parcels],
        date=dt.date(2026, 10, 1),
    )


def _project(session, unit_name=None):
    stmt = select(Project).order_by(Project.id)
    if unit_name:
        stmt = stmt.where(Project.legal_person_unit_id == user(session, "unit").unit_id)
    return session.scalars(stmt).unique().first()


def _import_parcels(client, headers, project_id, data, filename="parcels.txt", year=2027):
    return client.post(
        "/api/v1/land/parcels/import",
        data={"project_id": project_id, "year": year},
        files={"file": (filename, data, "text/plain")},
        headers=headers,
    )


@pytest.fixture()
def land(login):
    return login("land")


def test_plan_edition_and_parcel_verdicts(client, land, session):
    edition = _import_plan(client, land)
    assert edition["report"]["layers"] == {"farmland": 1, "redline": 1, "urban_boundary": 1, "landuse": 2}
    assert edition["report"]["pieces"] >= 5
    project = _project(session)
    data = _txt(
        [
            ("P1", "全在农田内", _sq(100, 100, 100, 100), "0701"),
            ("P2", "城镇内合规", _sq(-500, 100, 100, 100), "0701"),
            ("P3", "跨红线", _sq(1250, 100, 100, 100), "0701"),
            ("P4", "贴着农田的碎片", _sq(-100, 0, 99.995, 100), "0701"),
        ]
    )
    r = _import_parcels(client, land, project.id, data)
    assert r.status_code == 201, r.text
    by_code = {p["parcel_code"]: p for p in r.json()["created"]}
    p1 = by_code["P1"]
    assert p1["check"]["verdict"] == "blocked"
    assert p1["check"]["edition_id"] == edition["id"]
    farmland = next(
        o for o in p1["check"]["overlaps"] if o["target"] == "layer" and o["target_ref"] == "farmland"
    )
    assert farmland["area_m2"] == pytest.approx(p1["area_m2"], abs=0.01)
    assert farmland["share"] == pytest.approx(1.0, abs=1e-6)
    assert p1["area_m2"] == pytest.approx(10000, rel=1e-3)
    assert p1["area_mu"] == pytest.approx(p1["area_m2"] / 666.6667, rel=1e-6)
    assert 0 < p1["ellipsoidal_area_m2"] < p1["area_m2"]
    assert by_code["P2"]["check"]["verdict"] == "compliant"
    p3 = by_code["P3"]
    assert p3["check"]["verdict"] == "blocked"
    codes = {r["code"] for r in p3["check"]["reasons"]}
    assert {"redline_overlap", "outside_urban_boundary"} <= codes
    red = next(o for o in p3["check"]["overlaps"] if o["target_ref"] == "redline")
    assert red["area_m2"] == pytest.approx(5000, rel=1e-3)
    assert red["share"] == pytest.approx(0.5, rel=1e-3)
    p4 = by_code["P4"]
    assert p4["check"]["verdict"] == "compliant"
    assert p4["check"]["summary"]["slivers"] == [] or all(
        s["area_m2"] < 1 for s in p4["check"]["summary"]["slivers"]
    )


def test_sliver_is_reported_apart(client, land, session):
    _import_plan(client, land)
    project = _project(session)
    # 0.5 m x 1 m = 0.5 m2 inside the farmland corner: a sliver, not a conflict.
    data = _txt([("S1", "碎片", _sq(-99.5, 399, 100, 100), "0701")])
    p = _import_parcels(client, land, project.id, data).json()["created"][0]
    assert p["check"]["verdict"] == "compliant"
    slivers = p["check"]["summary"]["slivers"]
    assert [s["ref"] for s in slivers] == ["farmland"]
    assert slivers[0]["area_m2"] == pytest.approx(0.5, abs=0.01)
    stored = [o for o in p["check"]["overlaps"] if o["target_ref"] == "farmland"]
    assert stored and stored[0]["is_sliver"] is True


def test_same_land_promised_twice(client, land, session):
    _import_plan(client, land)
    projects = session.scalars(select(Project).order_by(Project.id).limit(2)).unique().all()
    a = _import_parcels(client, land, projects[0].id, _txt([("A1", "甲", _sq(-800, 0, 100, 100), "0701")]))
    assert a.json()["created"][0]["check"]["verdict"] == "compliant"
    b = _import_parcels(client, land, projects[1].id, _txt([("B1", "乙", _sq(-750, 0, 100, 100), "0701")]))
    checked = b.json()["created"][0]["check"]
    assert checked["verdict"] == "needs_adjustment"
    overlap = next(o for o in checked["overlaps"] if o["target"] == "parcel")
    assert overlap["area_m2"] == pytest.approx(5000, rel=1e-3)
    assert "A1" in overlap["target_ref"]


def test_landuse_class_mismatch(client, land, session):
    _import_plan(client, land)
    data = _txt([("C1", "工业用地落在水田", _sq(2000, 0, 100, 100), "1001")])
    p = _import_parcels(client, land, _project(session).id, data).json()["created"][0]
    codes = {r["code"] for r in p["check"]["reasons"]}
    assert "landuse_class_mismatch" in codes
    classes = {
        o["target_ref"]: o["area_m2"] for o in p["check"]["overlaps"] if o["target"] == "landuse_class"
    }
    assert classes["0101"] == pytest.approx(10000, rel=1e-3)


def test_new_edition_rechecks_and_keeps_the_old(client, land, session):
    first = _import_plan(client, land, "第一版")
    p = _import_parcels(
        client, land, _project(session).id, _txt([("R1", "复核", _sq(100, 100, 100, 100), "0701")])
    ).json()["created"][0]
    assert p["check"]["edition_id"] == first["id"]
    second = client.post(
        "/api/v1/land/editions",
        data={"name": "第二版（调出农田）", "kinds": ["urban_boundary"]},
        files=[("files", ("CZKFBJ.geojson", _fc([_feature(URBAN)]), "application/geo+json"))],
        headers=land,
    )
    assert second.status_code == 201, second.text
    assert second.json()["report"]["rechecked_parcels"] >= 1
    again = client.get(f"/api/v1/land/parcels/{p['id']}", headers=land).json()
    assert again["check"]["edition_id"] == second.json()["id"]
    assert again["check"]["verdict"] == "compliant"
    assert session.scalar(select(func.count()).select_from(PlanEdition)) >= 2
    names = [e["name"] for e in client.get("/api/v1/land/editions", headers=land).json()]
    assert "第一版" in names and "第二版（调出农田）" in names


def test_annual_cycle_late_flag_batches(client, land, login, session):
    _import_plan(client, land)
    project = _project(session, unit_name=True)
    unit = login("unit")
    r = _import_parcels(
        client,
        unit,
        project.id,
        _txt([("Y1", "合规", _sq(-600, 600, 80, 80), "0701"), ("Y2", "占农田", _sq(50, 50, 50, 50), "0701")]),
        year=2026,
    )
    assert r.status_code == 201, r.text
    ids = {p["parcel_code"]: p["id"] for p in r.json()["created"]}
    submitted = client.post(
        "/api/v1/land/parcels/submit", json={"parcel_ids": list(ids.values())}, headers=unit
    )
    assert submitted.status_code == 200, submitted.text
    assert all(p["submitted_late"] for p in submitted.json())  # due 2025-10-31, submitted in 2026
    assert all(p["deadline"] == "2025-10-31" for p in submitted.json())
    blocked = client.post(
        "/api/v1/land/batches", json={"year": 2026, "parcel_ids": [ids["Y2"]]}, headers=land
    )
    assert blocked.status_code == 422
    assert blocked.json()["code"] == "parcel_blocked"
    number = (
        session.scalar(select(func.max(ApprovalBatch.number)).where(ApprovalBatch.year == 2026)) or 0
    ) + 1
    batch = client.post("/api/v1/land/batches", json={"year": 2026, "parcel_ids": [ids["Y1"]]}, headers=land)
    assert batch.status_code == 201, batch.text
    assert batch.json()["name"] == f"2026年度第{number}批次"
    assert client.get(f"/api/v1/land/parcels/{ids['Y1']}", headers=land).json()["status"] == "in_batch"
    approved = client.post(f"/api/v1/land/batches/{batch.json()['id']}/approve", headers=land)
    assert approved.status_code == 200
    assert client.get(f"/api/v1/land/parcels/{ids['Y1']}", headers=land).json()["status"] == "approved"
    assert (
        client.post(
            "/api/v1/land/batches", json={"year": 2026, "parcel_ids": [ids["Y1"]]}, headers=unit
        ).status_code
        == 403
    )


def test_export_txt_and_reports(client, land, session):
    _import_plan(client, land)
    geom = _sq(100, 100, 120, 90)
    _import_parcels(client, land, _project(session).id, _txt([("E1", "导出测试", geom, "0701")]), year=2028)
    r = client.get("/api/v1/land/export.txt", params={"year": 2028}, headers=land)
    assert r.status_code == 200
    assert b"\r\n" in r.content
    parsed = read_boundary_txt(r.content, source="export.txt")
    assert parsed.zone == 35
    assert parsed.parcels[0].area_m2 == pytest.approx(10800, rel=1e-4)
    back = parsed.parcels[0].geometry  # metres in the zone's GK CRS; the TXT keeps 0.001 m
    assert back.hausdorff_distance(crs.to_area_crs(geom)) < 0.002
    xlsx = client.get("/api/v1/land/report.xlsx", params={"year": 2028}, headers=land)
    assert xlsx.status_code == 200
    workbook = load_workbook(io.BytesIO(xlsx.content))
    sheet = workbook["地块核查结果"]
    headers = [c.value for c in sheet[1]]
    assert "占永久基本农田（平方米）" in headers and "核查结论" in headers
    row = [c.value for c in sheet[2]]
    assert row[headers.index("核查结论")] == "不能报批"
    assert row[headers.index("占永久基本农田（平方米）")] == pytest.approx(10800, rel=1e-3)
    pieces = client.get("/api/v1/land/report.geojson", params={"year": 2028}, headers=land).json()
    assert pieces["features"] and pieces["features"][0]["properties"]["target_ref"] == "farmland"
    geo = client.get("/api/v1/land/parcels/geojson", params={"year": 2028}, headers=land).json()
    assert geo["features"][0]["properties"]["verdict"] == "blocked"


def test_parcels_from_geojson_and_gpkg(client, land, session, tmp_path):
    _import_plan(client, land)
    project = _project(session)
    gj = _fc([_feature(_sq(-300, 300, 50, 50), DKBH="G1", DKMC="地块一")])
    r = _import_parcels(client, land, project.id, gj, filename="parcels.geojson")
    assert r.status_code == 201, r.text
    assert r.json()["created"][0]["parcel_code"] == "G1"
    frame = geopandas.GeoDataFrame(
        {"DKBH": ["K1"]}, geometry=[box(X0 - 300, Y0 - 300, X0 - 250, Y0 - 250)], crs=f"EPSG:{crs.AREA_SRID}"
    )
    path = tmp_path / "p.gpkg"
    frame.to_file(path, driver="GPKG")
    r = _import_parcels(client, land, project.id, path.read_bytes(), filename="p.gpkg")
    assert r.status_code == 201, r.text
    assert r.json()["created"][0]["area_m2"] == pytest.approx(2500, rel=1e-6)


def _problem(response, code):
    assert response.status_code in (400, 403, 404, 409, 413, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    return response.json()


def test_bad_land_input_leaves_nothing(client, land, session):
    editions = session.scalar(select(func.count()).select_from(PlanEdition))
    parcels = session.scalar(select(func.count()).select_from(LandParcel))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "no shapefile here")
    _problem(
        client.post(
            "/api/v1/land/editions",
            data={"name": "x"},
            files=[("files", ("YJJBNTBHTB.zip", buf.getvalue(), "application/zip"))],
            headers=land,
        ),
        "zip_without_shp",
    )
    gk_as_degrees = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {}, "geometry": mapping(box(X0, Y0, X0 + 100, Y0 + 100))}
            ],
        }
    ).encode()
    bad = _problem(
        client.post(
            "/api/v1/land/editions",
            data={"name": "x"},
            files=[
                ("files", ("YJJBNTBHTB.geojson", _plan_files()[0][1][1], "x")),
                ("files", ("STBHHX.geojson", gk_as_degrees, "x")),
            ],
            headers=land,
        ),
        "crs_mismatch_projected_as_degrees",
    )
    assert "STBHHX.geojson" in bad["detail"]
    project = _project(session)
    good = _txt([("M1", "好", _sq(0, 0, 10, 10), "0701")]).decode("gbk").split("\r\n")
    point_line = next(i for i, line in enumerate(good) if line.startswith("J2,"))
    good[point_line] = "J2,1,abc,35512345.678"
    broken = "\r\n".join(good).encode("gbk")
    body = _problem(_import_parcels(client, land, project.id, broken), "malformed_line")
    assert body["issues"][0]["line"] == point_line + 1
    _problem(_import_parcels(client, land, project.id, b"", filename="x.txt"), "empty_file")
    _problem(_import_parcels(client, land, project.id, b"abc", filename="x.docx"), "unsupported_file_type")
    assert session.scalar(select(func.count()).select_from(PlanEdition)) == editions
    assert session.scalar(select(func.count()).select_from(LandParcel)) == parcels
    # Without any plan edition (the demo's removed inside this test's rolled-back transaction) no check runs.
    session.execute(delete(LandCheck))
    session.execute(delete(PlanEdition))
    session.commit()
    _problem(client.post("/api/v1/land/checks", json={"year": 2027}, headers=land), "no_plan_edition")


def test_land_permissions(client, login, session):
    unit = login("unit")
    r = client.post("/api/v1/land/editions", data={"name": "x"}, files=_plan_files(), headers=unit)
    _problem(r, "forbidden")
    foreign = (
        session.scalars(
            select(Project).where(
                Project.legal_person_unit_id != user(session, "unit").unit_id,
                Project.lead_unit_id != user(session, "unit").unit_id,
            )
        )
        .unique()
        .first()
    )
    r = _import_parcels(client, unit, foreign.id, _txt([("F1", "他人", _sq(0, 0, 10, 10), "0701")]))
    _problem(r, "forbidden")
    _problem(client.post("/api/v1/land/checks", json={"year": 2027}, headers=unit), "forbidden")
    _problem(client.get("/api/v1/land/report.xlsx", params={"year": 2027}, headers=unit), "forbidden")


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp"])
def test_parcel_exports_import_back(client, land, session, tmp_path, fmt):
    _import_plan(client, land)
    project = _project(session)
    geom = _sq(300, -300, 60, 40)
    _import_parcels(client, land, project.id, _txt([("X1", "导出地块", geom, "0701")]), year=2029)
    r = client.get("/api/v1/land/parcels/export", params={"year": 2029, "format": fmt}, headers=land)
    assert r.status_code == 200, r.text
    suffix = {"geojson": "geojson", "gpkg": "gpkg", "shp": "zip"}[fmt]
    path = tmp_path / f"parcels.{suffix}"
    path.write_bytes(r.content)
    from gis_data.plan_io import read_vector_file

    frame = read_vector_file(path).frame
    assert len(frame) == 1
    assert crs.to_area_crs(frame.geometry.iloc[0]).area == pytest.approx(2400, rel=1e-6)
    names = " ".join(str(v) for v in frame.iloc[0].to_dict().values())
    assert "导出地块" in names
    again = _import_parcels(client, land, project.id, r.content, filename=f"parcels.{suffix}", year=2030)
    assert again.status_code == 201, again.text
    assert again.json()["created"][0]["parcel_code"] == "X1"  # the code survives the round trip
    bad = client.get("/api/v1/land/parcels/export", params={"year": 2029, "format": "kml"}, headers=land)
    assert bad.status_code == 422


def test_parcel_years_count_what_each_user_sees(client, land, login):
    unit = login("unit")
    for headers in (land, unit):
        years = client.get("/api/v1/land/years", headers=headers).json()
        assert [y["year"] for y in years] == sorted((y["year"] for y in years), reverse=True)
        for entry in years:
            listed = client.get(
                "/api/v1/land/parcels", params={"year": entry["year"]}, headers=headers
            ).json()
            assert entry["parcels"] == len(listed) > 0
    everything = {y["year"]: y["parcels"] for y in client.get("/api/v1/land/years", headers=land).json()}
    own = {y["year"]: y["parcels"] for y in client.get("/api/v1/land/years", headers=unit).json()}
    assert everything[2026] > own.get(2026, 0)
    assert client.get("/api/v1/land/years").status_code == 401


def test_verdict_styles_are_the_maps_own(client, land):
    from maps import style

    r = client.get("/api/v1/land/verdicts", headers=land)
    assert r.status_code == 200
    assert {v["code"]: (v["label"], v["color"]) for v in r.json()} == style.VERDICT_STYLES
    assert client.get("/api/v1/land/verdicts").status_code == 401
