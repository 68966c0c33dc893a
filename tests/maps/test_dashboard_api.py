"""Dashboard, map data, project pages and printed maps over the API, on the demo county's twelve-month
history: figures checked against direct computation, role scoping, secrecy and bad input."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import Counter
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from PIL import Image
from sqlalchemy import func, select

from server import supervision_rules
from server.models import CheckPlan, Problem, Project, ProjectMonthStatus, ProjectProgress, Township
from server.services import supervision
from tests.factories import user
from tests.mobile.helpers import geotagged_jpeg, new_id

API = "/api/v1"
LAGGING = {"lagging", "seriously_lagging", "not_started"}


def _latest_month(session) -> dt.date:
    return session.scalar(select(func.max(ProjectMonthStatus.month)))


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    assert body["detail"]
    return body


def _in_page(text: str, html: str) -> bool:
    """Whether ``text`` is in the page, as is or as a JSON string inside a script."""
    return text in html or json.dumps(text)[1:-1] in html


def _unit_project(session) -> Project:
    uid = user(session, "unit").unit_id
    return session.scalars(
        select(Project).where(Project.legal_person_unit_id == uid).order_by(Project.id)
    ).first()


def _foreign_project(session) -> Project:
    """A project neither the unit account nor the township account may see."""
    unit = user(session, "unit")
    town = user(session, "township").unit.township_id
    return session.scalars(
        select(Project)
        .where(
            Project.legal_person_unit_id != unit.unit_id,
            Project.lead_unit_id != unit.unit_id,
            Project.township_id != town,
        )
        .order_by(Project.id)
    ).first()


# --- dashboard -----------------------------------------------------------------------------------


def test_dashboard_figures_match_direct_computation(client, login, session):
    r = client.get(f"{API}/dashboard", headers=login("admin"))
    assert r.status_code == 200, r.text
    data = r.json()
    month = _latest_month(session)
    assert data["month"] == month.strftime("%Y-%m")
    assert data["scope"] == "county"

    rows = session.scalars(select(ProjectMonthStatus).where(ProjectMonthStatus.month == month)).all()
    expected = Counter(r.status for r in rows)
    got = {c["status"]: c["count"] for c in data["status_counts"]}
    for status, n in expected.items():
        assert got[status] == n
    listed = session.scalar(select(func.count()).select_from(Project).where(Project.list_year == month.year))
    assert sum(got.values()) == listed == data["projects"]

    # Cumulative completed at the dispatch month = sum of the stored year-to-date figures.
    by_month = {m["month"]: m for m in data["monthly"]}
    assert len(data["monthly"]) == 12
    here = by_month[month.strftime("%Y-%m")]
    assert Decimal(here["completed_cumulative_yuan"]) == sum(r.ytd_completed_yuan for r in rows)
    assert Decimal(here["planned_cumulative_yuan"]) == sum(r.ytd_expected_yuan for r in rows)
    # Month by month, completed = the progress reports of the list's projects in the list's year (a
    # report dated in another year, as the page tests leave behind, is not one of the 12 months).
    reports = session.execute(
        select(ProjectProgress.month, func.sum(ProjectProgress.amount_completed_yuan))
        .join(Project, Project.id == ProjectProgress.project_id)
        .where(
            Project.list_year == month.year,
            ProjectProgress.month >= month.replace(month=1, day=1),
            ProjectProgress.month <= month,
        )
        .group_by(ProjectProgress.month)
    ).all()
    for m, total in reports:
        assert Decimal(by_month[m.strftime("%Y-%m")]["completed_yuan"]) == total
    after = [m for m in data["monthly"] if m["month"] > month.strftime("%Y-%m")]
    assert all(m["completed_cumulative_yuan"] is None for m in after)
    plans = session.scalars(select(Project.annual_plan_yuan).where(Project.list_year == month.year)).all()
    assert Decimal(data["monthly"][-1]["planned_cumulative_yuan"]) == sum(plans)
    december = sum(supervision_rules.expected_by(p, 12, supervision_rules.ProgressRules()) for p in plans)
    assert Decimal(data["monthly"][-1]["planned_cumulative_yuan"]) == december

    # By township: counts, plans and year-to-date completed.
    status_by_project = {r.project_id: r for r in rows}
    projects = session.scalars(select(Project).where(Project.list_year == month.year)).unique().all()
    towns = {t.id: t.name for t in session.scalars(select(Township))}
    for row in data["by_township"]:
        mine = [p for p in projects if towns[p.township_id] == row["name"]]
        assert row["projects"] == len(mine)
        assert Decimal(row["annual_plan_yuan"]) == sum(p.annual_plan_yuan for p in mine)
        done = sum(
            (status_by_project[p.id].ytd_completed_yuan for p in mine if p.id in status_by_project),
            Decimal(0),
        )
        assert Decimal(row["ytd_completed_yuan"]) == done
        assert row["lagging"] == sum(
            1 for p in mine if p.id in status_by_project and status_by_project[p.id].status in LAGGING
        )
    assert sum(r["projects"] for r in data["by_industry"]) == listed
    assert {r["name"] for r in data["by_industry"]} == {p.industry for p in projects}

    # The lagging list: exactly the lagging statuses, the worst first.
    lagging_ids = {r.project_id for r in rows if r.status in LAGGING}
    assert {r["project_id"] for r in data["lagging"]} == lagging_ids
    order = ["seriously_lagging", "not_started", "lagging"]
    ranks = [order.index(r["status"]) for r in data["lagging"]]
    assert ranks == sorted(ranks)
    assert all(r["url"] == f"/projects/{r['project_id']}" for r in data["lagging"])

    # Overdue problems: open and past their deadline, nothing else.
    today = dt.date.today()
    overdue = session.scalars(
        select(Problem.id).where(Problem.status != "closed", Problem.deadline < today)
    ).all()
    assert {p["id"] for p in data["overdue_problems"]} == set(overdue)
    assert data["my_projects"] is None


def test_dashboard_is_scoped_to_the_users_projects(client, login, session):
    month = _latest_month(session)
    township = user(session, "township")
    r = client.get(f"{API}/dashboard", headers=login("township"))
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["scope"] == "township"
    own = session.scalars(
        select(Project.id).where(
            Project.township_id == township.unit.township_id, Project.list_year == month.year
        )
    ).all()
    assert data["projects"] == len(own)
    assert sum(c["count"] for c in data["status_counts"]) == len(own)
    assert [r["name"] for r in data["by_township"]] == [township.unit.name.removesuffix("人民政府")]
    assert all(r["project_id"] in own for r in data["lagging"])
    assert all(p["project_id"] in own for p in data["overdue_problems"])
    rows = session.scalars(
        select(ProjectMonthStatus).where(
            ProjectMonthStatus.month == month, ProjectMonthStatus.project_id.in_(own)
        )
    ).all()
    here = next(m for m in data["monthly"] if m["month"] == month.strftime("%Y-%m"))
    assert Decimal(here["completed_cumulative_yuan"]) == sum(r.ytd_completed_yuan for r in rows)

    unit = user(session, "unit")
    data = client.get(f"{API}/dashboard", headers=login("unit")).json()
    assert data["scope"] == "unit"
    visible = {
        p["id"] for p in client.get(f"{API}/projects?page_size=500", headers=login("unit")).json()["items"]
    }
    assert data["projects"] == len(
        [
            p
            for p in session.scalars(select(Project).where(Project.id.in_(visible))).unique()
            if p.list_year == month.year
        ]
    )
    assert all(r["project_id"] in visible for r in data["lagging"])
    assert unit.unit_id is not None


def test_leader_sees_own_projects(client, login, session):
    leader = session.scalars(
        select(Project.leader_id).group_by(Project.leader_id).order_by(func.count().desc())
    ).first()
    from server.models import User

    account = session.get(User, leader)
    data = client.get(f"{API}/dashboard", headers=login(account.username)).json()
    own = session.scalars(select(Project.id).where(Project.leader_id == leader)).all()
    assert data["my_projects"] is not None
    assert {p["project_id"] for p in data["my_projects"]} == set(own)
    assert all(p["leader_id"] == leader for p in data["my_projects"])
    # A leader reads the whole county.
    assert data["scope"] == "county"


def test_dashboard_month_parameter(client, login, session):
    headers = login("admin")
    month = _latest_month(session)
    earlier = month.replace(month=max(1, month.month - 2))
    r = client.get(f"{API}/dashboard?month={earlier.strftime('%Y-%m')}", headers=headers)
    assert r.status_code == 200
    assert r.json()["month"] == earlier.strftime("%Y-%m")
    _problem(client.get(f"{API}/dashboard?month=2026-13", headers=headers), 422, "invalid_month")
    _problem(client.get(f"{API}/dashboard?month=October", headers=headers), 422, "invalid_month")
    body = _problem(
        client.get(f"{API}/dashboard?month=2019-01", headers=headers), 404, "status_month_not_found"
    )
    assert month.strftime("%Y-%m") in body["months"]
    _problem(client.get(f"{API}/dashboard"), 401, "not_authenticated")


# --- map data ------------------------------------------------------------------------------------


def test_map_projects_carry_status_list_items_and_leader(client, login, session):
    r = client.get(f"{API}/map/projects.geojson", headers=login("admin"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    data = r.json()
    total = session.scalar(select(func.count()).select_from(Project))
    assert len(data["features"]) == total
    month = _latest_month(session)
    assert data["status_month"] == month.strftime("%Y-%m")
    statuses = {
        r.project_id: r.status
        for r in session.scalars(select(ProjectMonthStatus).where(ProjectMonthStatus.month == month))
    }
    for feature in data["features"]:
        props = feature["properties"]
        assert props["status"] == statuses.get(props["id"], "no_data")
        for key in ("total_investment_yuan", "annual_plan_yuan", "content", "planned_start", "leader_name"):
            assert props[key] not in (None, "")
        assert props["status_color"].startswith("#")
        if feature["geometry"] is not None:
            lon, lat = props["marker"]
            assert 105.7 < lon < 106.6 and 34.5 < lat < 35.0
    lagging = client.get(f"{API}/map/projects.geojson?progress_status=lagging", headers=login("admin")).json()
    assert {f["properties"]["id"] for f in lagging["features"]} == {
        pid for pid, s in statuses.items() if s == "lagging"
    }
    assert all(f["properties"]["status"] == "lagging" for f in lagging["features"])


def test_map_filters_and_bad_values(client, login, session):
    headers = login("admin")
    town = session.scalars(select(Township).order_by(Township.id)).first()
    r = client.get(f"{API}/map/projects.geojson?township_id={town.id}", headers=headers)
    assert r.status_code == 200
    assert {f["properties"]["township"] for f in r.json()["features"]} <= {town.name}
    choices = client.get(f"{API}/map/filters", headers=headers).json()
    assert choices["basemap"]["name"] == "none"
    industry = choices["industries"][0]
    r = client.get(f"{API}/map/projects.geojson", params={"industry": industry}, headers=headers)
    assert r.json()["features"] and all(f["properties"]["industry"] == industry for f in r.json()["features"])
    assert [s["code"] for s in choices["statuses"]][:5] == [
        "seriously_lagging",
        "not_started",
        "lagging",
        "on_track",
        "completed",
    ]
    from server.api.maps import ProgressStatus
    from server.services.progress_map import PROGRESS_CODES

    assert set(ProgressStatus.__args__) == set(PROGRESS_CODES)

    bad = [
        ("township_id=abc", 422, "validation_error"),
        ("township_id=999999", 422, "unknown_township"),
        (f"leader_id={user(session, 'admin').id}", 422, "unknown_leader"),
        ("industry=没有这个行业", 422, "unknown_industry"),
        ("category=everything", 422, "validation_error"),
        ("progress_status=late", 422, "validation_error"),
        ("bbox=106.5,34.9,105.8,34.5", 400, "bbox_invalid"),
        ("bbox=1,2,3", 400, "bbox_invalid"),
    ]
    for query, status, code in bad:
        for path in ("/map/projects.geojson", "/map/county.html", "/map/county.png"):
            _problem(client.get(f"{API}{path}?{query}", headers=headers), status, code)


def test_map_needs_login(client):
    for path in (
        "/map/projects.geojson",
        "/map/county.html",
        "/map/county.png",
        "/map/filters",
        "/projects/1/page",
    ):
        _problem(client.get(API + path), 401, "not_authenticated")


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


def _asset_urls(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


def test_county_map_html_is_self_hosted(client, login):
    r = client.get(f"{API}/map/county.html", headers=login("admin"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-store"
    urls = _asset_urls(r.text)
    assert urls
    for url in urls:
        assert url.startswith("/vendor/"), url
        assert client.get(url).status_code == 200, url
    assert "http://" not in r.text and "https://" not in r.text
    assert "sw-legend" in r.text and "markerClusterGroup" in r.text
    assert _in_page("乡镇界线", r.text) and _in_page("重点项目", r.text)


def test_county_png(client, login):
    r = client.get(f"{API}/map/county.png?progress_status=lagging", headers=login("admin"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(r.content))
    assert image.size == (1600, 1130)


# --- secrecy -------------------------------------------------------------------------------------


def test_planned_checks_stay_hidden_from_the_project_side(client, login, session):
    project = _unit_project(session)
    admin = user(session, "admin")
    title = "不打招呼专项督查子丑寅"
    supervision.create_plan(
        session,
        admin,
        supervision.PlanInput(
            kind="special",
            title=title,
            planned_date=dt.date.today() + dt.timedelta(days=5),
            project_ids=[project.id],
            inspector_ids=[user(session, "inspector").id],
        ),
    )

    def props(headers):
        data = client.get(f"{API}/map/projects.geojson", headers=headers).json()
        return next(f["properties"] for f in data["features"] if f["properties"]["id"] == project.id)

    assert title in props(login("admin"))["next_check"]
    assert props(login("unit"))["next_check"] is None
    for account in ("unit", "township"):
        headers = login(account)
        html = client.get(f"{API}/map/county.html", headers=headers).text
        assert title not in html
        page = client.get(f"{API}/projects/{project.id}/page", headers=headers)
        if page.status_code == 200:
            assert title not in page.text
            assert all(c["status"] == "carried_out" for c in page.json()["checks"])
    page = client.get(f"{API}/projects/{project.id}/page", headers=login("admin")).json()
    assert any(c["title"] == title for c in page["checks"])
    # Last checks shown to the project side are carried-out ones only.
    carried = session.scalars(select(CheckPlan).where(CheckPlan.status == "carried_out")).all()
    assert carried


# --- project page --------------------------------------------------------------------------------


def _upload(client, headers, project_id, lat, lon, taken, seed, check_plan_id=None):
    body = {
        "id": new_id(),
        "project_id": project_id,
        "started_at": taken.isoformat(),
        "device_fix": {"lat": lat, "lon": lon, "accuracy_m": 8},
    }
    if check_plan_id is not None:
        body["check_plan_id"] = check_plan_id
    r = client.post("/mobile/v1/inspections", json=body, headers=headers)
    assert r.status_code == 201, r.text
    inspection = r.json()["id"]
    photo = new_id()
    r = client.post(
        f"/mobile/v1/inspections/{inspection}/photos",
        data={"meta": json.dumps([{"photo_id": photo}])},
        files=[("photos", ("IMG.jpg", geotagged_jpeg(lat, lon, taken=taken, seed=seed), "image/jpeg"))],
        headers=headers,
    )
    assert r.status_code == 200 and r.json()["received"] == 1, r.text
    return inspection, photo


def test_project_page_with_photo_pairs_chart_and_lists(client, login, session):
    project = _unit_project(session)
    inspector = login("inspector")
    from geoalchemy2.shape import to_shape

    site = to_shape(project.site).representative_point()
    cst = dt.timezone(dt.timedelta(hours=8))
    before_at = dt.datetime(2026, 6, 3, 10, 0, tzinfo=cst)
    after_at = dt.datetime(2026, 10, 9, 15, 30, tzinfo=cst)
    inspections = []
    for lat, lon, taken, seed in (
        (site.y, site.x, before_at, 11),
        (site.y + 0.00005, site.x + 0.00005, after_at, 12),  # about 7 m away: the same spot
        (site.y + 0.0015, site.x, after_at, 13),  # about 170 m north: another spot
    ):
        iid, _ = _upload(client, inspector, project.id, lat, lon, taken, seed)
        inspections.append(iid)
    for iid in inspections:
        assert (
            client.post(f"/mobile/v1/inspections/{iid}/submit", json={}, headers=inspector).status_code == 200
        )

    r = client.get(f"{API}/projects/{project.id}/page", headers=login("admin"))
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["project"]["id"] == project.id
    timeline = page["timeline"]
    assert len(timeline["photos"]) >= 3
    assert [p["taken_at"] for p in timeline["photos"]] == sorted(p["taken_at"] for p in timeline["photos"])
    pair = next(p for p in timeline["pairs"] if p["before"]["taken_at"].startswith("2026-06-03"))
    assert pair["after"]["taken_at"].startswith("2026-10-09")
    assert pair["distance_m"] < 30
    assert pair["days_between"] == 128
    assert pair["before"]["thumb_url"].endswith("?size=320")
    assert client.get(pair["before"]["thumb_url"], headers=login("admin")).status_code == 200
    spots = {p["spot"] for p in timeline["photos"] if p["lat"] is not None}
    assert len(spots) >= 2

    chart = page["chart"]
    assert len(chart["months"]) == 12
    assert Decimal(chart["planned_cumulative_yuan"][-1]) == project.annual_plan_yuan
    reports = {
        p.month.month: p.amount_completed_yuan
        for p in session.scalars(select(ProjectProgress).where(ProjectProgress.project_id == project.id))
        if p.month.year == project.list_year
    }
    for m, amount in reports.items():
        assert Decimal(chart["completed_month_yuan"][m - 1]) == amount
    assert all(p["project_id"] == project.id for p in page["problems"])
    assert all(x["project_id"] == project.id for x in page["letters"])
    assert page["summary"]["leader_name"] == project.leader.full_name

    html = client.get(f"{API}/projects/{project.id}/map.html", headers=login("admin"))
    assert html.status_code == 200
    assert _in_page("督查照片", html.text) and _in_page("data-auth-src", html.text)
    png = client.get(f"{API}/projects/{project.id}/map.png", headers=login("admin"))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size == (1600, 1130)


def test_photos_of_a_check_under_way_are_hidden_from_the_project_side(client, login, session):
    project = _unit_project(session)
    admin = user(session, "admin")
    plan = supervision.create_plan(
        session,
        admin,
        supervision.PlanInput(
            kind="special",
            title="进行中的专项督查",
            planned_date=dt.date.today(),
            project_ids=[project.id, _foreign_project(session).id],
            inspector_ids=[user(session, "inspector").id],
        ),
    )
    from geoalchemy2.shape import to_shape

    site = to_shape(project.site).representative_point()
    taken = dt.datetime.now(dt.UTC)
    iid, photo = _upload(client, login("inspector"), project.id, site.y, site.x, taken, 21, plan["id"])
    r = client.post(f"/mobile/v1/inspections/{iid}/submit", json={}, headers=login("inspector"))
    assert r.status_code == 200
    # The plan's other project is not inspected yet, so the check is still under way.
    assert session.get(CheckPlan, plan["id"]).status == "planned"
    admin_page = client.get(f"{API}/projects/{project.id}/page", headers=login("admin")).json()
    assert photo in {p["id"] for p in admin_page["timeline"]["photos"]}
    unit_page = client.get(f"{API}/projects/{project.id}/page", headers=login("unit")).json()
    assert photo not in {p["id"] for p in unit_page["timeline"]["photos"]}
    assert photo not in client.get(f"{API}/map/county.html", headers=login("unit")).text


def test_unknown_and_forbidden_projects(client, login, session):
    headers = login("admin")
    for path in ("page", "map.html", "map.png"):
        _problem(client.get(f"{API}/projects/99999999/{path}", headers=headers), 404, "project_not_found")
        _problem(client.get(f"{API}/projects/abc/{path}", headers=headers), 422, "validation_error")
        _problem(client.get(f"{API}/projects/0/{path}", headers=headers), 422, "validation_error")
        _problem(client.get(f"{API}/projects/99999999999/{path}", headers=headers), 422, "validation_error")
        foreign = _foreign_project(session)
        _problem(client.get(f"{API}/projects/{foreign.id}/{path}", headers=login("unit")), 403, "forbidden")


# --- pages and vendored assets -------------------------------------------------------------------


def test_pages_and_vendor_assets(client):
    for path, marker in (
        ("/map", "map-frame"),
        ("/dashboard", "monthly-chart"),
        ("/projects/1", "project-map"),
    ):
        r = client.get(path)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        assert marker in r.text
        parser = _Assets()
        parser.feed(r.text)
        for url in parser.urls:
            if url == "data:,":  # the empty favicon
                continue
            assert url.startswith("/") and not url.startswith("//"), url
            assert client.get(url).status_code == 200, url
    _problem(client.get("/projects/abc"), 422, "validation_error")
    js = client.get("/vendor/leaflet/leaflet.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert client.get("/vendor/chart.js/chart.umd.min.js").status_code == 200
    assert client.get("/vendor/leaflet/images/layers.png").headers["content-type"] == "image/png"
    _problem(client.get("/vendor/left-pad/index.js"), 404, "vendor_asset_not_found")
    _problem(client.get("/vendor/leaflet/nothing.js"), 404, "vendor_asset_not_found")
    _problem(client.get("/vendor/leaflet/%2e%2e/package.json"), 404, "vendor_asset_not_found")


def test_vendor_files_stay_inside_their_folders(tmp_path):
    from server.vendor_assets import VENDOR_DIRS, missing_packages, vendor_file

    dist = tmp_path / "leaflet" / "dist"
    dist.mkdir(parents=True)
    (dist / "leaflet.js").write_text("x")
    (tmp_path / "leaflet" / "secret.js").write_text("y")
    assert vendor_file("leaflet", "leaflet.js", root=tmp_path) == dist / "leaflet.js"
    assert vendor_file("leaflet", "../secret.js", root=tmp_path) is None
    assert vendor_file("leaflet", "/etc/passwd.js", root=tmp_path) is None
    assert vendor_file("leaflet", "leaflet.py", root=tmp_path) is None
    assert set(missing_packages(tmp_path)) == set(VENDOR_DIRS) - {"leaflet"}


@pytest.mark.parametrize("account", ["admin", "leader_zhang", "land", "inspector", "unit", "township"])
def test_every_role_gets_a_dashboard_and_a_map(client, login, account, session):
    from gis_data import demo

    username = account if account != "leader_zhang" else demo.DEMO_LEADERS[0].username
    headers = login(username)
    assert client.get(f"{API}/dashboard", headers=headers).status_code == 200
    r = client.get(f"{API}/map/county.html", headers=headers)
    assert r.status_code == 200 and "sw-legend" in r.text


# --- base maps from the settings -----------------------------------------------------------------


def test_base_map_settings_refuse_a_missing_or_placeholder_key():
    from pydantic import ValidationError

    from server.settings import Settings

    assert Settings(database_url="postgresql://unused").basemap == "none"
    with pytest.raises(ValidationError, match="tianditu_key"):
        Settings(database_url="postgresql://unused", basemap="tianditu")
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(database_url="postgresql://unused", basemap="tianditu", tianditu_key="changeme")
    with pytest.raises(ValidationError):
        Settings(database_url="postgresql://unused", basemap="google")


@pytest.mark.parametrize(
    ("basemap", "key", "tile_host", "shifted"),
    [
        ("osm", None, "tile.openstreetmap.org", False),
        ("tianditu", "0123456789abcdef0123456789abcdef", "tianditu.gov.cn", False),
        ("gcj02_amap", None, "is.autonavi.com", True),
    ],
)
def test_configured_base_map_reaches_the_page(
    session_factory, session, tmp_path, basemap, key, tile_host, shifted
):
    from fastapi.testclient import TestClient

    from server.app import create_app
    from server.settings import Settings
    from tests.conftest import DEMO_PASSWORD

    settings = Settings(
        database_url="postgresql://unused", photo_dir=tmp_path / "photos", basemap=basemap, tianditu_key=key
    )
    with TestClient(create_app(settings, session_factory=session_factory)) as client:
        token = client.post(
            "/api/v1/auth/login", json={"username": "admin", "password": DEMO_PASSWORD}
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        html = client.get(f"{API}/map/county.html", headers=headers).text
        assert tile_host in html
        assert ("L.vectorGrid.protobuf(" in html) is not shifted
        assert _in_page("GCJ-02", html) is shifted
        assert client.get(f"{API}/map/filters", headers=headers).json()["basemap"]["name"] == basemap
        for url in _asset_urls(html):
            assert url.startswith("/vendor/")
    project = session.scalars(select(Project).where(Project.site.is_not(None)).order_by(Project.id)).first()
    from geoalchemy2.shape import to_shape

    point = to_shape(project.site)
    point = point if point.geom_type == "Point" else point.representative_point()
    match = f"[{point.y}, {point.x}]" in html or f'"lat": {point.y}, "lon": {point.x}' in html
    assert match is not shifted
