"""Role rules: who sees and changes what; a forbidden request gets 403 and no data."""

from __future__ import annotations

from sqlalchemy import select

from gis_data import demo
from server.models import Project
from tests.factories import project_payload, unit, user


def _all(client, headers):
    return client.get("/api/v1/projects", params={"page_size": 500}, headers=headers).json()


def _foreign_project(session, unit_id: int) -> Project:
    return (
        session.scalars(
            select(Project).where(Project.legal_person_unit_id != unit_id, Project.lead_unit_id != unit_id)
        )
        .unique()
        .first()
    )


def test_leader_land_inspector_read_everything(client, login, session):
    total = _all(client, login("admin"))["total"]
    for username in (demo.DEMO_LEADERS[0].username, "land", "inspector"):
        assert _all(client, login(username))["total"] == total


def test_township_sees_only_its_township(client, login, session):
    headers = login("township")
    own = user(session, "township").unit.township_id
    listed = _all(client, headers)
    assert listed["total"] > 0
    assert {p["township"]["id"] for p in listed["items"]} == {own}
    other = session.scalars(select(Project).where(Project.township_id != own)).unique().first()
    r = client.get(f"/api/v1/projects/{other.id}", headers=headers)
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"
    assert other.name not in r.text
    geo = client.get("/api/v1/projects/geojson", headers=headers).json()
    assert all(f["properties"]["township"] == "永清镇" for f in geo["features"])


def test_project_unit_sees_and_changes_only_its_own(client, login, session):
    headers = login("unit")
    unit_id = user(session, "unit").unit_id
    listed = _all(client, headers)
    assert listed["total"] > 0
    mine = listed["items"][0]
    assert unit_id in {mine["legal_person_unit"]["id"], mine["lead_unit"]["id"]} | {
        u["id"] for u in mine["responsible_units"]
    }
    foreign = _foreign_project(session, unit_id)
    assert client.get(f"/api/v1/projects/{foreign.id}", headers=headers).status_code == 403
    r = client.patch(f"/api/v1/projects/{foreign.id}", json={"status": "under_construction"}, headers=headers)
    assert r.status_code == 403
    owned = session.scalars(select(Project).where(Project.legal_person_unit_id == unit_id)).unique().first()
    ok = client.patch(f"/api/v1/projects/{owned.id}", json={"status": "under_construction"}, headers=headers)
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "under_construction"
    list_field = client.patch(
        f"/api/v1/projects/{owned.id}", json={"total_investment_yuan": "99999999"}, headers=headers
    )
    assert list_field.status_code == 403
    assert list_field.json()["code"] == "list_field_forbidden"
    session.expire_all()
    assert session.get(Project, owned.id).total_investment_yuan != 99999999


def test_only_admin_changes_the_list(client, login, session):
    body = project_payload(session)
    for username in ("unit", "township", "land", "inspector", demo.DEMO_LEADERS[0].username):
        r = client.post("/api/v1/projects", json=body, headers=login(username))
        assert r.status_code == 403, username
        assert "id" not in r.json()
    assert session.scalars(select(Project).where(Project.code == body["code"])).first() is None
    project = session.scalars(select(Project)).unique().first()
    r = client.patch(
        f"/api/v1/projects/{project.id}", json={"name": "改名"}, headers=login(demo.DEMO_LEADERS[0].username)
    )
    assert r.status_code == 403


def test_progress_by_unit_and_township(client, login, session):
    unit_id = user(session, "unit").unit_id
    owned = session.scalars(select(Project).where(Project.legal_person_unit_id == unit_id)).unique().first()
    r = client.post(
        f"/api/v1/projects/{owned.id}/progress",
        json={"month": "2025-12", "amount_completed_yuan": "100000"},
        headers=login("unit"),
    )
    assert r.status_code == 201, r.text
    foreign = _foreign_project(session, unit_id)
    r = client.post(
        f"/api/v1/projects/{foreign.id}/progress",
        json={"month": "2025-12", "amount_completed_yuan": "100000"},
        headers=login("unit"),
    )
    assert r.status_code == 403
    leader = client.post(
        f"/api/v1/projects/{owned.id}/progress",
        json={"month": "2025-11", "amount_completed_yuan": "1"},
        headers=login(demo.DEMO_LEADERS[0].username),
    )
    assert leader.status_code == 403


def test_users_and_audit_are_admin_only(client, login):
    for path in ("/api/v1/users", "/api/v1/audit"):
        r = client.get(path, headers=login("unit"))
        assert r.status_code == 403
        assert r.json()["code"] == "forbidden"
    assert client.get("/api/v1/audit", headers=login("admin")).status_code == 200
    r = client.post("/api/v1/units", json={"name": "x单位", "kind": "department"}, headers=login("land"))
    assert r.status_code == 403


def test_leaders_visible_for_filtering(client, login, session):
    leaders = client.get("/api/v1/leaders", headers=login("township")).json()
    assert {item["username"] for item in leaders} == {leader.username for leader in demo.DEMO_LEADERS}
    assert unit(session, "县级领导办公室").kind == "leader_office"
