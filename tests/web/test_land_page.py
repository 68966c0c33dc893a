"""The land bureau's page in a real headless Chromium: a year's parcels and verdicts as the API gives them,
a TXT imported through the form, then checked, submitted, put into a batch and approved with the buttons;
the Excel report downloaded; a unit's view, and a bad file refused with nothing left behind."""

from __future__ import annotations

import datetime as dt

import httpx
from openpyxl import load_workbook
from shapely.geometry import box
from sqlalchemy import select

from gis_data import crs
from gis_data.boundary_txt import ParcelForExport, write_boundary_txt
from server.models import Project
from tests.conftest import DEMO_PASSWORD
from tests.factories import user
from tests.web.test_map_pages import _shot, _sign_in

DEMO_YEAR = 2026
#: Years no other test uses, so the counts here are this test's own.
FORM_YEAR = 2033
BAD_YEAR = 2034

X0, Y0 = crs.transformer(crs.STORAGE_SRID, crs.AREA_SRID).transform(106.137, 34.752)


def _txt(code: str, name: str, x: float, y: float, size: float) -> bytes:
    square = crs.reproject(box(X0 + x, Y0 + y, X0 + x + size, Y0 + y + size), crs.AREA_SRID, crs.STORAGE_SRID)
    parcel = ParcelForExport(parcel_id=code, name=name, geometry_lonlat=square, land_class="0701")
    return write_boundary_txt([parcel], date=dt.date(2026, 10, 1))


def _api(live_server: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=live_server + "/api/v1", timeout=30)
    r = client.post("/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client


def _row(page, code: str):
    return page.locator(f"#parcels tbody tr[data-parcel='{code}']")


def test_land_page_shows_verdicts_and_runs_the_cycle(page, live_server, session, tmp_path):
    api = _api(live_server, "land")
    parcels = api.get("/land/parcels", params={"year": DEMO_YEAR}).json()
    _sign_in(page, live_server, "land")
    # From a project page's parcel table through to the land page, on the parcel's year.
    page.goto(f"{live_server}/projects/{parcels[0]['project_id']}")
    page.wait_for_selector("body[data-loaded='1']")
    with page.expect_navigation():
        page.click(f"#parcels a[href='/land?year={DEMO_YEAR}']")
    page.wait_for_selector("body[data-loaded='1']")
    # Photos other tests stored elsewhere 404 on the project page; from here on, the land page only.
    page.console_errors.clear()
    assert page.input_value("#year") == str(DEMO_YEAR)
    assert page.is_visible("#edition-form")
    editions = api.get("/land/editions").json()
    assert page.locator("#edition-name").inner_text() == editions[0]["name"]
    page.click("#edition-history summary")
    history = page.locator("#edition-history tbody tr")
    assert [r.get_attribute("data-edition") for r in history.all()] == [str(e["id"]) for e in editions]
    assert str(editions[0]["report"]["features"]) in history.first.inner_text()

    # The demo year: every parcel of the API is a row, with the API's verdict and reasons.
    assert len(parcels) > 10
    page.wait_for_function(
        f"document.querySelectorAll('#parcels tbody tr[data-parcel]').length === {len(parcels)}"
    )
    for parcel in parcels:
        row = _row(page, parcel["parcel_code"])
        verdict = parcel["check"]["verdict"] if parcel["check"] else "unchecked"
        assert row.get_attribute("data-verdict") == verdict
        for reason in parcel["check"]["reasons"] if parcel["check"] else []:
            assert reason["message"] in row.inner_text()
    # A blocked parcel's detail: every overlap of its check, with 亩 and share; planar and ellipsoidal area.
    first = next(p for p in parcels if p["check"] and p["check"]["verdict"] == "blocked")
    row = _row(page, first["parcel_code"])
    assert f"{first['ellipsoidal_area_m2'] / 10000:.4f}" in row.inner_text()
    assert f"{first['area_ha']:.4f}" in row.inner_text()
    row.locator("button.detail").click()
    detail = page.locator(f"#parcels tr.detail-row[data-detail='{first['parcel_code']}']")
    lines = detail.locator("table.overlaps tbody tr")
    assert lines.count() == len(first["check"]["overlaps"]) > 0
    for line, overlap in zip(lines.all(), first["check"]["overlaps"], strict=True):
        assert f"{overlap['area_mu']:,.2f}" in line.inner_text()
        assert f"{overlap['share'] * 100:.1f}%" in line.inner_text()
        assert ("碎片" in line.inner_text()) == overlap["is_sliver"]
    assert "永久基本农田" in detail.inner_text()
    row.locator("button.detail").click()
    assert detail.count() == 0

    blocked = sum(1 for p in parcels if p["check"] and p["check"]["verdict"] == "blocked")
    assert blocked > 0
    labels = {v["code"]: v["label"] for v in api.get("/land/verdicts").json()}  # as the maps show them
    assert f"{blocked}\n{labels['blocked']}" in page.locator("#stats").inner_text()
    assert page.locator("#verdict-filter option").all_inner_texts() == ["全部", *labels.values()]
    page.select_option("#verdict-filter", "blocked")
    assert page.locator("#parcels tbody tr[data-parcel]").count() == blocked
    page.select_option("#verdict-filter", "")

    # Import a TXT through the form into a year of its own; the page moves to that year.
    project = session.scalars(select(Project).order_by(Project.id)).unique().first()
    page.select_option("#parcel-project", str(project.id))
    page.fill("#parcel-year", str(FORM_YEAR))
    page.set_input_files(
        "#parcel-form input[name=file]",
        files=[
            {"name": "地块.txt", "mimeType": "text/plain", "buffer": _txt("W1", "页面导入", 3000, 3000, 120)}
        ],
    )
    page.click("#parcel-form button[type=submit]")
    page.wait_for_selector("#parcels tbody tr[data-parcel='W1']")
    assert page.input_value("#year") == str(FORM_YEAR)
    assert "已导入 1 块" in page.inner_text("#import-result")
    [created] = api.get("/land/parcels", params={"year": FORM_YEAR}).json()
    assert created["parcel_code"] == "W1" and created["project_id"] == project.id
    assert created["status"] == "draft" and created["check"] is not None  # checked on import
    row = _row(page, "W1")
    assert row.get_attribute("data-verdict") == created["check"]["verdict"]
    assert f"{created['area_mu']:.2f}" in row.inner_text()

    # Check it again, then submit, batch and approve it with the buttons.
    page.check("#parcels input[data-id]")
    page.click("#check-selected")
    page.wait_for_function("document.querySelector('#land-status').textContent.includes('已核查 1 块')")
    again = api.get(f"/land/parcels/{created['id']}").json()
    assert again["check"]["id"] != created["check"]["id"]

    page.check("#parcels input[data-id]")
    page.click("#submit-selected")
    page.wait_for_selector("#parcels tbody tr[data-parcel='W1'][data-status='submitted']")
    submitted = api.get(f"/land/parcels/{created['id']}").json()
    assert submitted["status"] == "submitted" and submitted["submitted_late"] is False

    page.check("#parcels input[data-id]")
    page.fill("#batch-name", "页面测试批次")
    page.click("#batch-selected")
    page.wait_for_selector("#parcels tbody tr[data-parcel='W1'][data-status='in_batch']")
    assert "页面测试批次" in page.inner_text("#batches")
    page.click("#batches button.approve")
    page.wait_for_selector("#parcels tbody tr[data-parcel='W1'][data-status='approved']")
    assert api.get(f"/land/parcels/{created['id']}").json()["status"] == "approved"
    assert page.locator("#batches button.approve").count() == 0

    # The Excel report of the year, as the button downloads it.
    with page.expect_download() as download:
        page.click("#dl-xlsx")
    path = tmp_path / "report.xlsx"
    download.value.save_as(path)
    cells = [
        str(c)
        for ws in load_workbook(path).worksheets
        for r in ws.iter_rows(values_only=True)
        for c in r
        if c
    ]
    assert "W1" in cells and "页面导入" in cells
    _shot(page, "land.png", full_page=True)
    assert page.console_errors == []


def test_land_page_for_a_unit_and_a_bad_file(page, live_server, session):
    api = _api(live_server, "unit")
    _sign_in(page, live_server, "unit")
    page.click("header nav a[href='/land']")
    page.wait_for_selector("body[data-loaded='1']")
    # Units import and submit their own demand; checks, batches and plan editions are the bureau's.
    assert not page.is_visible("#edition-card")
    assert not page.is_visible("#check-year") and not page.is_visible("#batch-selected")
    assert page.is_visible("#submit-selected")

    own = (
        session.scalars(
            select(Project)
            .where(Project.legal_person_unit_id == user(session, "unit").unit_id)
            .order_by(Project.id)
        )
        .unique()
        .first()
    )
    lines = _txt("B1", "坏文件", 3500, 3500, 50).decode("gbk").split("\r\n")
    bad_line = next(i for i, line in enumerate(lines) if line.startswith("J"))
    lines[bad_line] = "J2,1,坐标,缺失"
    page.select_option("#parcel-project", str(own.id))
    page.fill("#parcel-year", str(BAD_YEAR))
    page.set_input_files(
        "#parcel-form input[name=file]",
        files=[{"name": "bad.txt", "mimeType": "text/plain", "buffer": "\r\n".join(lines).encode("gbk")}],
    )
    page.click("#parcel-form button[type=submit]")
    page.wait_for_selector("#page-error.error")
    error = page.inner_text("#page-error")
    assert "bad.txt" in error and f"第 {bad_line + 1} 行" in error
    assert "bad.txt：bad.txt" not in error  # the file is named once
    assert api.get("/land/parcels", params={"year": BAD_YEAR}).json() == []
    # The refused import is the only failed request (the browser logs its status).
    assert len(page.console_errors) == 1 and "422" in page.console_errors[0], page.console_errors


def test_land_page_for_a_leader_is_read_only(page, live_server):
    api = _api(live_server, "leader_zhang")
    _sign_in(page, live_server, "leader_zhang")
    page.goto(f"{live_server}/land?year={DEMO_YEAR}")
    page.wait_for_selector("body[data-loaded='1']")
    rows = page.locator("#parcels tbody tr[data-parcel]")
    assert rows.count() == len(api.get("/land/parcels", params={"year": DEMO_YEAR}).json()) > 0
    assert page.is_visible("#edition-card")  # leaders see the whole county's plan
    for hidden in ("#check-year", "#batch-selected", "#submit-selected", "#import-card", "#edition-form"):
        assert not page.is_visible(hidden), hidden
    assert page.is_visible("#dl-xlsx")
    assert page.console_errors == []
