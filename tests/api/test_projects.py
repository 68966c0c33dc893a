"""Projects: create, read, update, list with filters, derived rule columns, audit."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from server.models import AuditEvent
from tests.factories import project_payload, township, unit


def test_create_read_and_audit(client, login, session):
    headers = login("admin")
    body = project_payload(session)
    r = client.post("/api/v1/projects", json=body, headers=headers)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["code"] == body["code"]
    assert created["list_tier"] == "city_key"  # 60M: >= 50M, < 100M (§4)
    assert created["energy_review_level"] == "county_registration"  # 120.5 t < 1000 (§9)
    assert created["meets_selection_threshold"] is True
    assert created["township"]["name"] == "永清镇"
    assert created["site"]["type"] == "Polygon"
    got = client.get(f"/api/v1/projects/{created['id']}", headers=headers).json()
    assert got["content"] == body["content"]
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "project", AuditEvent.entity_id == str(created["id"]))
    ).all()
    assert [e.action for e in events] == ["create"]
    assert events[0].after["code"] == body["code"]


def test_update_records_before_and_after(client, login, session):
    headers = login("admin")
    created = client.post("/api/v1/projects", json=project_payload(session), headers=headers).json()
    r = client.patch(
        f"/api/v1/projects/{created['id']}",
        json={"total_investment_yuan": "1200000000", "annual_plan_yuan": "250000000", "energy_tce": 5000},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["list_tier"] == "provincial_major"
    assert r.json()["energy_review_level"] == "province"
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.entity_id == str(created["id"]), AuditEvent.action == "update")
    ).one()
    assert Decimal(event.before["total_investment_yuan"]) == Decimal("60000000")
    assert Decimal(event.after["total_investment_yuan"]) == Decimal("1200000000")


def test_list_filters_and_paging(client, login, session):
    headers = login("admin")
    everything = client.get("/api/v1/projects", params={"page_size": 500}, headers=headers).json()
    assert everything["total"] >= 50
    items = everything["items"]
    yq = township(session).id
    r = client.get("/api/v1/projects", params={"township_id": yq, "page_size": 500}, headers=headers).json()
    assert r["total"] == sum(1 for p in items if p["township"]["id"] == yq) > 0
    for field, param in (
        ("category", "category"),
        ("status", "status"),
        ("list_tier", "tier"),
        ("industry", "industry"),
    ):
        value = items[0][field]
        r = client.get("/api/v1/projects", params={param: value, "page_size": 500}, headers=headers).json()
        assert r["total"] == sum(1 for p in items if p[field] == value)
    leader_id = items[0]["leader"]["id"]
    r = client.get(
        "/api/v1/projects", params={"leader_id": leader_id, "page_size": 500}, headers=headers
    ).json()
    assert r["total"] == sum(1 for p in items if p["leader"]["id"] == leader_id)
    name_part = items[3]["name"][2:6]
    r = client.get("/api/v1/projects", params={"q": name_part}, headers=headers).json()
    assert items[3]["code"] in {p["code"] for p in r["items"]}
    page1 = client.get("/api/v1/projects", params={"page_size": 10, "page": 1}, headers=headers).json()
    page2 = client.get("/api/v1/projects", params={"page_size": 10, "page": 2}, headers=headers).json()
    assert len(page1["items"]) == 10
    assert not {p["id"] for p in page1["items"]} & {p["id"] for p in page2["items"]}


def test_bbox_filter(client, login, session):
    headers = login("admin")
    created = client.post("/api/v1/projects", json=project_payload(session), headers=headers).json()
    inside = client.get(
        "/api/v1/projects", params={"bbox": "106.13,34.749,106.14,34.752", "page_size": 500}, headers=headers
    ).json()
    assert created["id"] in {p["id"] for p in inside["items"]}
    far = client.get(
        "/api/v1/projects", params={"bbox": "105.76,34.55,105.77,34.56", "page_size": 500}, headers=headers
    ).json()
    assert created["id"] not in {p["id"] for p in far["items"]}


def test_exempt_social_project_below_threshold(client, login, session):
    headers = login("admin")
    body = project_payload(
        session,
        total_investment_yuan="3000000",
        annual_plan_yuan="1000000",
        threshold_exemption="social",
        industry="社会事业",
    )
    r = client.post("/api/v1/projects", json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["list_tier"] == "county"
    no_exemption = project_payload(session, total_investment_yuan="3000000", annual_plan_yuan="1000000")
    r = client.post("/api/v1/projects", json=no_exemption, headers=headers)
    assert r.status_code == 422
    assert r.json()["code"] == "below_selection_threshold"


def test_line_and_point_sites(client, login, session):
    headers = login("admin")
    line = {"type": "LineString", "coordinates": [[106.10, 34.74], [106.12, 34.745], [106.14, 34.75]]}
    point = {"type": "Point", "coordinates": [106.137, 34.752]}
    for site in (line, point):
        r = client.post("/api/v1/projects", json=project_payload(session, site=site), headers=headers)
        assert r.status_code == 201, r.text
        assert r.json()["site"]["type"] == site["type"]


def test_progress_report_and_correction(client, login, session):
    headers = login("admin")
    created = client.post("/api/v1/projects", json=project_payload(session), headers=headers).json()
    pid = created["id"]
    r = client.post(
        f"/api/v1/projects/{pid}/progress",
        json={"month": "2026-05", "amount_completed_yuan": "1500000", "physical_progress": "完成管沟开挖"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["month"] == "2026-05"
    again = client.post(
        f"/api/v1/projects/{pid}/progress",
        json={"month": "2026-05", "amount_completed_yuan": "1"},
        headers=headers,
    )
    assert again.status_code == 409
    assert again.json()["code"] == "progress_duplicate"
    fixed = client.patch(
        f"/api/v1/projects/{pid}/progress/2026-05", json={"amount_completed_yuan": "1600000"}, headers=headers
    )
    assert fixed.status_code == 200
    listed = client.get(f"/api/v1/projects/{pid}/progress", headers=headers).json()
    assert [(p["month"], Decimal(p["amount_completed_yuan"])) for p in listed] == [
        ("2026-05", Decimal("1600000"))
    ]


def test_units_users_townships(client, login, session):
    headers = login("admin")
    units = client.get("/api/v1/units", headers=headers).json()
    assert any(u["name"] == "清水县发展和改革局" for u in units)
    towns = client.get("/api/v1/townships", headers=headers).json()
    assert len(towns) == 18
    geo = client.get("/api/v1/townships/geojson", headers=headers)
    assert geo.headers["content-type"].startswith("application/geo+json")
    assert all(f["properties"]["illustrative"] for f in geo.json()["features"])
    county = client.get("/api/v1/county", headers=headers).json()
    assert county["geometry"]["type"] == "MultiPolygon"
    new_unit = client.post(
        "/api/v1/units", json={"name": "测试单位有限公司", "kind": "legal_person"}, headers=headers
    )
    assert new_unit.status_code == 201
    new_user = client.post(
        "/api/v1/users",
        json={
            "username": "tester",
            "full_name": "测试员",
            "password": "longenough",
            "role": "project_unit",
            "unit_id": new_unit.json()["id"],
        },
        headers=headers,
    )
    assert new_user.status_code == 201, new_user.text
    dup = client.post(
        "/api/v1/users",
        json={
            "username": "tester",
            "full_name": "测试员",
            "password": "longenough",
            "role": "project_unit",
            "unit_id": new_unit.json()["id"],
        },
        headers=headers,
    )
    assert dup.status_code == 409
    assert dup.json()["code"] == "username_duplicate"
    assert unit(session, "测试单位有限公司").kind == "legal_person"
