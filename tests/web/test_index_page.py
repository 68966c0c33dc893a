"""The back-office page in a real headless Chromium: sign in, filter, open a project, report progress."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageStat

from tests.conftest import DEMO_PASSWORD

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _not_blank(path: Path) -> None:
    image = Image.open(path).convert("L")
    stat = ImageStat.Stat(image)
    assert stat.stddev[0] > 10, "screenshot looks blank"
    assert len(set(image.resize((64, 64)).tobytes())) > 8


def _sign_in(page, live_server: str, username: str) -> None:
    page.goto(live_server + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#projects tbody tr.row")


def test_admin_browses_and_opens_a_project(page, live_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    _sign_in(page, live_server, "admin")
    assert "共" in page.inner_text("#summary")
    rows = page.locator("#projects tbody tr.row")
    assert rows.count() == 20
    page.select_option("select[name=category]", "preparatory")
    page.click("#filters button[type=submit]")
    page.wait_for_function("document.querySelectorAll('#projects tbody tr.row').length < 20")
    categories = page.locator("#projects tbody tr.row td:nth-child(4)").all_inner_texts()
    assert categories and set(categories) == {"预备"}
    page.screenshot(path=str(SHOTS / "index-list.png"), full_page=True)
    _not_blank(SHOTS / "index-list.png")
    first_name = page.locator("#projects tbody tr.row td:nth-child(2)").first.inner_text()
    page.locator("#projects tbody tr.row").first.click()
    page.wait_for_selector("#detail-view:not([hidden])")
    assert first_name in page.inner_text("#d-name")
    assert "包抓县级领导" in page.inner_text("#d-fields")
    page.screenshot(path=str(SHOTS / "index-detail.png"), full_page=True)
    _not_blank(SHOTS / "index-detail.png")
    assert page.console_errors == []


def test_export_downloads_geojson(page, live_server):
    _sign_in(page, live_server, "admin")
    with page.expect_download() as info:
        page.click("#export")
    download = info.value
    import json

    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    assert len(data["features"]) >= 50
    assert page.console_errors == []


def test_wrong_password_shows_chinese_error(page, live_server):
    page.goto(live_server + "/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "wrong")
    page.click("#login-form button[type=submit]")
    page.wait_for_function("document.querySelector('#login-error').textContent.length > 0")
    assert "用户名或密码错误" in page.inner_text("#login-error")


def test_township_user_sees_only_its_township(page, live_server):
    _sign_in(page, live_server, "township")
    towns = set(page.locator("#projects tbody tr.row td:nth-child(3)").all_inner_texts())
    assert towns == {"永清镇"}
    assert page.console_errors == []


def test_project_unit_reports_progress(page, live_server):
    _sign_in(page, live_server, "unit")
    page.locator("#projects tbody tr.row").first.click()
    page.wait_for_selector("#progress-form:not([hidden])")
    before = page.locator("#progress tbody tr").count()
    page.fill("#progress-form input[name=month]", "2024-01")
    page.fill("#progress-form input[name=amount_completed_yuan]", "125000")
    page.fill("#progress-form input[name=physical_progress]", "浏览器测试：完成场地平整")
    page.click("#progress-form button[type=submit]")
    page.wait_for_function(f"document.querySelectorAll('#progress tbody tr').length > {before}")
    assert "浏览器测试：完成场地平整" in page.inner_text("#progress")
    page.fill("#progress-form input[name=month]", "2024-01")
    page.fill("#progress-form input[name=amount_completed_yuan]", "1")
    page.click("#progress-form button[type=submit]")
    page.wait_for_function("document.querySelector('#progress-error').textContent.length > 0")
    assert "已填报" in page.inner_text("#progress-error")
