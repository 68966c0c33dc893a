"""Supervision end to end: statuses, checks and their secrecy, draws, locked records, problems,
letters as real documents, leaders' visits."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid

import pytest
from docx import Document
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from server.models import Project
from tests.factories import project_payload, unit, user
from tests.mobile.helpers import geotagged_jpeg, new_id

SECRET_TITLE = "绝密专项督查甲乙丙"
SECRET_DATE = "2026-12-17"
SECRET_NOTES = "不发通知不打招呼备注丁戊"


def _unit_project(session) -> Project:
    uid = user(session, "unit").unit_id
    return (
        session.scalars(
            select(Project).where(
                Project.legal_person_unit_id == uid,
                Project.township_id == user(session, "township").unit.township_id,
            )
        )
        .unique()
        .first()
        or session.scalars(select(Project).where(Project.legal_person_unit_id == uid)).unique().first()
    )


def _township_project(session) -> Project:
    tid = user(session, "township").unit.township_id
    return session.scalars(select(Project).where(Project.township_id == tid)).unique().first()


@pytest.fixture()
def secret_plan(client, login, session):
    projects = [_unit_project(session).id, _township_project(session).id]
    body = {
        "kind": "special",
        "title": SECRET_TITLE,
        "planned_date": SECRET_DATE,
        "project_ids": projects,
        "inspector_ids": [user(session, "inspector").id],
        "notes": SECRET_NOTES,
    }
    r = client.post("/api/v1/checks", json=body, headers=login("admin"))
    assert r.status_code == 201, r.text
    return r.json()


def _get_routes(app):
    """Every GET endpoint the API documents (the OpenAPI schema lists them all)."""
    for path, operations in app.openapi()["paths"].items():
        if "get" in operations:
            yield path


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "1"), path)


def test_check_plans_are_secret_from_project_side(client, login, session, secret_plan):
    plan_id = str(secret_plan["id"])
    ids = {
        "project_id": str(_unit_project(session).id),
        "plan_id": plan_id,
        "draw_id": "1",
        "user_id": "1",
        "parcel_id": "1",
        "letter_id": "1",
        "photo_id": str(uuid.uuid4()),
        "inspection_id": str(uuid.uuid4()),
        "month": "2026-12",
    }
    # The demo county's own secret special check must not leak either.
    secrets = (
        SECRET_TITLE,
        SECRET_DATE,
        SECRET_NOTES,
        "2026年12月17日",
        "资金未落实项目专项督查（四不两直）",
    )
    routes = sorted(set(_get_routes(client.app)))
    assert len(routes) >= 30
    for username in ("unit", "township"):
        headers = login(username)
        for path in routes:
            for params in ({}, {"month": "2026-12"}, {"year": 2026}):
                r = client.get(_fill(path, ids), params=params, headers=headers)
                assert r.status_code < 500, (username, path, r.text)
                for secret in secrets:
                    assert secret not in r.text, (username, path)
        missing = client.get("/api/v1/checks/999999", headers=headers)
        hidden = client.get(f"/api/v1/checks/{plan_id}", headers=headers)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["detail"] == missing.json()["detail"]
        visible = client.get("/api/v1/checks", headers=headers).json()
        assert all(p["status"] == "carried_out" for p in visible)
        assert client.get("/mobile/v1/sync", headers=headers).json()["checks"] == []
    # The inspector and the leaders do see it, and once carried out the project side sees it too.
    assert any(
        p["title"] == SECRET_TITLE for p in client.get("/api/v1/checks", headers=login("inspector")).json()
    )
    assert (
        client.get("/mobile/v1/sync", headers=login("inspector")).json()["checks"][0]["title"] == SECRET_TITLE
    )
    client.post(f"/api/v1/checks/{plan_id}/complete", headers=login("admin"))
    seen = client.get("/api/v1/checks", headers=login("unit")).json()
    assert SECRET_TITLE in [p["title"] for p in seen]


def test_inspection_under_plan_carries_it_out_and_locks(client, login, session, secret_plan):
    inspector = login("inspector")
    for project in secret_plan["projects"]:
        iid = new_id()
        r = client.post(
            "/mobile/v1/inspections",
            json={
                "id": iid,
                "project_id": project["id"],
                "started_at": "2026-11-20T09:00:00+08:00",
                "check_plan_id": secret_plan["id"],
            },
            headers=inspector,
        )
        assert r.status_code == 201, r.text
        submitted = client.post(
            f"/mobile/v1/inspections/{iid}/submit", json={"findings": "现场未见施工"}, headers=inspector
        )
        assert submitted.status_code == 200
        again = client.post(
            f"/mobile/v1/inspections/{iid}/submit", json={"findings": "改"}, headers=inspector
        )
        assert again.json()["code"] == "inspection_locked"
    plan = client.get(f"/api/v1/checks/{secret_plan['id']}", headers=inspector).json()
    assert plan["status"] == "carried_out"
    with pytest.raises(DBAPIError) as info, session.begin_nested():
        session.execute(text("UPDATE inspections SET findings = 'x' WHERE id = :id"), {"id": iid})
    assert "locked" in str(info.value)
    new = str(uuid.uuid4())
    corrected = client.post(
        f"/api/v1/inspections/{iid}/correct",
        json={"new_id": new, "findings": "更正：已停工"},
        headers=inspector,
    )
    assert corrected.status_code == 201, corrected.text
    assert corrected.json()["version"] == 2 and corrected.json()["supersedes_id"] == iid


def test_unassigned_inspector_cannot_use_a_plan(client, login, session, secret_plan):
    r = client.post(
        "/mobile/v1/inspections",
        json={
            "id": new_id(),
            "project_id": secret_plan["projects"][0]["id"],
            "started_at": "2026-11-20T09:00:00+08:00",
            "check_plan_id": secret_plan["id"],
        },
        headers=login("land"),
    )
    assert r.status_code == 404


def test_random_draw_is_reproducible(client, login, session):
    admin = login("admin")
    projects = [
        p["id"]
        for p in client.get("/api/v1/projects", params={"page_size": 500}, headers=admin).json()["items"]
    ]
    inspectors = [user(session, "inspector").id, user(session, "admin").id]
    body = {
        "project_ids": projects,
        "inspector_ids": inspectors,
        "n_projects": 5,
        "n_inspectors": 1,
        "seed": 20261127,
    }
    first = client.post("/api/v1/checks/draws", json=body, headers=admin).json()
    second = client.post(
        "/api/v1/checks/draws", json={**body, "project_ids": list(reversed(projects))}, headers=admin
    ).json()
    assert first["result"] == second["result"]
    assert len(first["result"]["project_ids"]) == 5
    verified = client.get(f"/api/v1/checks/draws/{first['id']}/verify", headers=admin).json()
    assert verified["matches"] is True and verified["seed"] == 20261127
    other = client.post("/api/v1/checks/draws", json={**body, "seed": 1}, headers=admin).json()
    assert other["result"] != first["result"]
    bad = client.post("/api/v1/checks/draws", json={**body, "n_projects": len(projects) + 1}, headers=admin)
    assert bad.json()["code"] == "draw_size_invalid"
    assert client.get(f"/api/v1/checks/draws/{first['id']}/verify", headers=login("unit")).status_code == 404


def test_statuses_follow_reports(client, login, session):
    admin = login("admin")
    project = client.post(
        "/api/v1/projects",
        json=project_payload(
            session, list_year=2026, status="under_construction", annual_plan_yuan="12000000"
        ),
        headers=admin,
    ).json()
    pid = project["id"]
    for month, amount in (("2026-01", "1000000"), ("2026-02", "1000000"), ("2026-03", "100000")):
        assert (
            client.post(
                f"/api/v1/projects/{pid}/progress",
                json={"month": month, "amount_completed_yuan": amount},
                headers=admin,
            ).status_code
            == 201
        )
    history = {
        h["month"]: h for h in client.get(f"/api/v1/projects/{pid}/status-history", headers=admin).json()
    }
    assert history["2026-01"]["status"] == "on_track"  # 1.0M of 1.0M expected
    assert history["2026-02"]["status"] == "on_track"
    assert history["2026-03"]["status"] == "lagging"  # 2.1M of 3.0M = 0.7
    client.patch(
        f"/api/v1/projects/{pid}/progress/2026-02", json={"amount_completed_yuan": "0"}, headers=admin
    )
    history = {
        h["month"]: h for h in client.get(f"/api/v1/projects/{pid}/status-history", headers=admin).json()
    }
    assert history["2026-03"]["status"] == "seriously_lagging"  # 1.1M of 3.0M
    assert (
        client.post(
            "/api/v1/supervision/statuses/refresh", params={"month": "2026-10"}, headers=admin
        ).json()["projects"]
        >= 50
    )
    lagging = client.get("/api/v1/supervision/lagging", params={"month": "2026-10"}, headers=admin).json()
    assert lagging and {r["status"] for r in lagging} <= {"lagging", "seriously_lagging", "not_started"}
    assert (
        client.get("/api/v1/checks/proposals/periodic", params={"month": "2026-10"}, headers=admin).json()
        == lagging
    )
    assert (
        client.get("/api/v1/supervision/lagging", params={"month": "2026-13"}, headers=admin).json()["code"]
        == "month_invalid"
    )


def _photo(client, headers, project_id, lat, lon):
    iid = new_id()
    client.post(
        "/mobile/v1/inspections",
        json={"id": iid, "project_id": project_id, "started_at": dt.datetime.now(dt.UTC).isoformat()},
        headers=headers,
    )
    pid = new_id()
    r = client.post(
        f"/mobile/v1/inspections/{iid}/photos",
        data={"meta": f'[{{"photo_id": "{pid}"}}]'},
        files=[("photos", ("p.jpg", geotagged_jpeg(lat, lon, seed=hash(pid) % 1000), "image/jpeg"))],
        headers=headers,
    )
    assert r.json()["receipts"][0]["received"], r.text
    return pid


def test_problem_lifecycle(client, login, session):
    admin, inspector, unit_h = login("admin"), login("inspector"), login("unit")
    project = _unit_project(session)
    responsible = user(session, "unit").unit_id
    today = dt.date.today()
    bad = client.post(
        "/api/v1/problems",
        json={
            "project_id": project.id,
            "description": "安全网缺失",
            "responsible_unit_id": responsible,
            "found_on": today.isoformat(),
            "deadline": (today - dt.timedelta(days=1)).isoformat(),
        },
        headers=inspector,
    )
    assert bad.json()["code"] == "deadline_before_finding"
    created = client.post(
        "/api/v1/problems",
        json={
            "project_id": project.id,
            "description": "安全网缺失",
            "responsible_unit_id": responsible,
            "found_on": (today - dt.timedelta(days=10)).isoformat(),
            "deadline": (today - dt.timedelta(days=1)).isoformat(),
        },
        headers=inspector,
    )
    assert created.status_code == 201, created.text
    problem = created.json()
    assert problem["overdue"] is True
    assert client.post("/api/v1/problems/escalate", headers=admin).json()["escalated"] == [problem["id"]]
    mine = client.get("/api/v1/problems", headers=unit_h).json()
    assert any(p["id"] == problem["id"] and p["escalated"] for p in mine)
    no_photos = client.post(f"/api/v1/problems/{problem['id']}/close", headers=inspector)
    assert no_photos.json()["code"] == "after_photos_required"
    site = client.get(f"/api/v1/projects/{project.id}", headers=admin).json()["site"]
    from shapely.geometry import shape

    point = shape(site).representative_point()
    after = _photo(client, unit_h, project.id, point.y, point.x)
    rect = client.post(
        f"/api/v1/problems/{problem['id']}/rectification",
        json={"note": "已补挂安全网", "after_photo_ids": [after]},
        headers=unit_h,
    )
    assert rect.json()["status"] == "rectifying"
    assert client.post(f"/api/v1/problems/{problem['id']}/close", headers=unit_h).status_code == 403
    closed = client.post(f"/api/v1/problems/{problem['id']}/close", headers=inspector).json()
    assert closed["status"] == "closed" and closed["photos_after"] == [after]


def test_letters_proposed_issued_as_documents(client, login, session):
    admin = login("admin")
    client.post("/api/v1/supervision/statuses/refresh", params={"month": "2026-10"}, headers=admin)
    client.post("/api/v1/letters/propose", headers=admin)
    assert client.post("/api/v1/letters/propose", headers=admin).json() == []  # no duplicate proposals
    letters = client.get("/api/v1/letters", headers=admin).json()
    proposals = [x for x in letters if x["status"] == "proposed"]
    assert proposals, "the demo county has projects that call for letters"
    assert any(x["status"] == "issued" for x in letters)  # the demo history issued some
    unit_id = user(session, "unit").unit_id
    target = next(
        (p for p in proposals if session.get(Project, p["project_id"]).legal_person_unit_id == unit_id),
        proposals[0],
    )
    unit_h = login("unit")
    assert all(x["status"] == "issued" for x in client.get("/api/v1/letters", headers=unit_h).json())
    issued = client.post(f"/api/v1/letters/{target['id']}/issue", json={}, headers=admin)
    assert issued.status_code == 200, issued.text
    letter = issued.json()
    assert re.fullmatch(r"清发改督函〔\d{4}〕\d+号", letter["number"])
    doc = client.get(f"/api/v1/letters/{letter['id']}/document", headers=admin)
    assert doc.status_code == 200
    text_ = "\n".join(p.text for p in Document(io.BytesIO(doc.content)).paragraphs)
    for piece in (letter["title"], letter["number"], letter["addressee"], letter["project_name"]):
        assert piece in text_
    assert (
        client.post(f"/api/v1/letters/{letter['id']}/issue", json={}, headers=admin).json()["code"]
        == "letter_not_proposed"
    )
    if session.get(Project, target["project_id"]).legal_person_unit_id == unit_id:
        assert client.get(f"/api/v1/letters/{letter['id']}/document", headers=unit_h).status_code == 200


def test_leader_visits_and_meetings(client, login, session):
    from gis_data import demo

    leader_name = demo.DEMO_LEADERS[0].username
    leader = login(leader_name)
    project = (
        session.scalars(select(Project).where(Project.leader_id == user(session, leader_name).id))
        .unique()
        .first()
    )
    site = client.get(f"/api/v1/projects/{project.id}", headers=leader).json()["site"]
    from shapely.geometry import shape

    point = shape(site).representative_point()
    this_month = dt.date.today().replace(day=1)
    for day in (1, 2):
        started = dt.datetime.combine(this_month + dt.timedelta(days=day - 1), dt.time(9), dt.UTC)
        r = client.post(
            "/mobile/v1/inspections",
            json={
                "id": new_id(),
                "project_id": project.id,
                "started_at": started.isoformat(),
                "device_fix": {"lat": point.y, "lon": point.x, "accuracy_m": 10},
            },
            headers=leader,
        )
        assert r.status_code == 201
    report = client.get(
        "/api/v1/leaders/report", params={"month": this_month.strftime("%Y-%m")}, headers=leader
    ).json()
    assert report[0]["visits"] == 2 and report[0]["flags"] == ["too_few_meetings"]
    r = client.post(
        "/api/v1/leaders/meetings",
        json={"project_id": project.id, "held_on": this_month.isoformat(), "title": "项目推进会"},
        headers=leader,
    )
    assert r.status_code == 201
    report = client.get(
        "/api/v1/leaders/report", params={"month": this_month.strftime("%Y-%m")}, headers=leader
    ).json()
    assert report[0]["flags"] == []
    assert client.get("/api/v1/leaders/report", headers=login("unit")).status_code == 403


def test_worklists_by_role(client, login, session):
    for username, key in (
        ("admin", "lagging"),
        ("inspector", "assigned_checks"),
        ("unit", "problems"),
        ("township", "reports_due"),
    ):
        r = client.get("/api/v1/worklist", headers=login(username))
        assert r.status_code == 200
        assert key in r.json()
    from gis_data import demo

    leader = client.get("/api/v1/worklist", headers=login(demo.DEMO_LEADERS[0].username)).json()
    assert leader["my_projects"]
    assert unit(session, "县级领导办公室")


def test_progress_report_with_site_photos(client, login, session):
    from shapely.geometry import shape

    unit_h = login("unit")
    project = _unit_project(session)
    site = client.get(f"/api/v1/projects/{project.id}", headers=unit_h).json()["site"]
    point = shape(site).representative_point()
    photo = _photo(client, unit_h, project.id, point.y, point.x)
    r = client.post(
        f"/api/v1/projects/{project.id}/progress",
        json={"month": "2024-03", "amount_completed_yuan": "1000", "photo_ids": [photo]},
        headers=unit_h,
    )
    assert r.status_code == 201, r.text
    assert r.json()["photo_ids"] == [photo]
    listed = client.get(f"/api/v1/projects/{project.id}/progress", headers=unit_h).json()
    assert next(p for p in listed if p["month"] == "2024-03")["photo_ids"] == [photo]
    other = session.scalars(select(Project).where(Project.id != project.id)).unique().first()
    bad = client.post(
        f"/api/v1/projects/{other.id}/progress",
        json={"month": "2024-03", "amount_completed_yuan": "1", "photo_ids": [photo]},
        headers=login("admin"),
    )
    assert bad.json()["code"] == "photo_not_in_project"
