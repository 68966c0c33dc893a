"""The inspectors' phone page (/m) in headless Chromium on a phone-sized screen, against the live server.

The page is opened as ``/m?backoff=fast`` so retry back-off is 0.1 s .. 1 s instead of 2 s .. 60 s.
"""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from PIL import Image, ImageStat
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Inspection, Photo
from tests.conftest import DEMO_PASSWORD
from tests.mobile.helpers import geotagged_jpeg

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PAGE = "/m?backoff=fast"
#: Console errors that are expected while the browser is offline (and only then).
OFFLINE_NOISE = re.compile(r"net::ERR_INTERNET_DISCONNECTED|Failed to fetch")
UNAUTHORIZED_NOISE = re.compile(r"^Failed to load resource: the server responded with a status of 401")
#: IndexedDB object-store counts, read inside the page.
COUNT_JS = """store => new Promise((resolve, reject) => {
  const open = indexedDB.open("sitewatch-m");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const req = open.result.transaction(store).objectStore(store).count();
    req.onsuccess = () => { open.result.close(); resolve(req.result); };
  };
})"""

RECEIPT_JS = """id => new Promise((resolve, reject) => {
  const open = indexedDB.open("sitewatch-m");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const req = open.result.transaction("photos").objectStore("photos").get(id);
    req.onsuccess = () => { open.result.close(); resolve(req.result.receipt); };
  };
})"""


def _not_blank(path: Path) -> None:
    image = Image.open(path).convert("L")
    stat = ImageStat.Stat(image)
    assert stat.stddev[0] > 10, "screenshot looks blank"
    assert len(set(image.resize((64, 64)).tobytes())) > 8


def _headers(base: str) -> dict[str, str]:
    r = httpx.post(f"{base}/mobile/v1/login", json={"username": "inspector", "password": DEMO_PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _polygon_project(base: str, headers: dict[str, str]) -> tuple[dict, float, float]:
    sync = httpx.get(f"{base}/mobile/v1/sync", headers=headers, timeout=30).json()
    project = next(p for p in sync["projects"] if p["site"] and p["site"]["type"] == "Polygon")
    point = shape(project["site"]).representative_point()
    return project, point.y, point.x


_SITE: dict[str, tuple[dict[str, str], dict, float, float]] = {}


@pytest.fixture()
def phone(browser, live_server):
    """A phone-sized context whose location is inside a demo project's site; console errors are recorded
    together with whether the browser was offline at that moment."""

    def make(*, geolocation: bool = True, width: int = 390):
        if live_server not in _SITE:  # one API login and sync per run (each costs about a second)
            headers = _headers(live_server)
            _SITE[live_server] = (headers, *_polygon_project(live_server, headers))
        _, project, lat, lon = _SITE[live_server]
        options = {
            "viewport": {"width": width, "height": 844},
            "device_scale_factor": 2,
            "is_mobile": True,
            "has_touch": True,
            "locale": "zh-CN",
            "timezone_id": "Asia/Shanghai",
        }
        if geolocation:
            options |= {
                "geolocation": {"latitude": lat, "longitude": lon, "accuracy": 12},
                "permissions": ["geolocation"],
            }
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        ns = SimpleNamespace(context=context, page=page, project=project, lat=lat, lon=lon, offline=False)
        ns.errors = []

        def on_console(msg) -> None:
            if msg.type == "error":
                ns.errors.append((ns.offline, msg.text))

        def set_offline(flag: bool) -> None:
            ns.offline = flag
            context.set_offline(flag)

        page.on("console", on_console)
        page.on("pageerror", lambda exc: ns.errors.append((False, f"pageerror: {exc}")))
        ns.set_offline = set_offline
        return ns

    contexts: list = []
    yield make
    for context in contexts:
        context.close()


def _unexpected(errors: list[tuple[bool, str]], *extra: re.Pattern[str]) -> list[str]:
    """Console errors other than network failures logged while offline (and the given expected ones)."""
    return [
        text
        for offline, text in errors
        if not (offline and OFFLINE_NOISE.search(text)) and not any(p.search(text) for p in extra)
    ]


def _sign_in(page, live_server: str) -> None:
    page.goto(live_server + PAGE)
    page.fill("#login-form input[name=username]", "inspector")
    page.fill("#login-form input[name=password]", DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#project-list button.item")


def _start_inspection(page, project: dict, *, online: bool = True) -> str:
    page.fill("#project-filter", project["code"])
    page.click(f"#project-list button.item[data-id='{project['id']}']")
    page.wait_for_selector("#project-view:not([hidden])")
    assert project["name"] in page.inner_text("#p-name")
    page.click("#start")
    page.wait_for_selector("#inspection-view:not([hidden])")
    expected = "已在服务器创建" if online else "等待联网后在服务器创建"
    page.wait_for_function(f"document.querySelector('#i-server').textContent.includes('{expected}')")
    inspection_id = page.get_attribute("#inspection-view", "data-id")
    assert inspection_id
    return inspection_id


def _states(page) -> list[tuple[str, str]]:
    return page.eval_on_selector_all(
        "#photo-list li.photo", "els => els.map(e => [e.dataset.id, e.dataset.state])"
    )


def _wait_states(page, state: str, n: int, timeout: float = 30_000) -> None:
    page.wait_for_function(
        f"document.querySelectorAll('#photo-list li.photo[data-state={state}]').length === {n}",
        timeout=timeout,
    )


def test_offline_photos_survive_a_reload_and_upload_exactly_once(phone, live_server, engine, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    ph = phone()
    page, project = ph.page, ph.project
    _sign_in(page, live_server)
    assert "督查员" in page.inner_text("#who-name")
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", page.inner_text("#last-sync"))
    # The page shell is cached by the service worker, so /m can be reloaded offline.
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15_000)
    page.screenshot(path=str(SHOTS / "mobile-projects.png"))
    _not_blank(SHOTS / "mobile-projects.png")
    inspection_id = _start_inspection(page, project)
    assert "±12 米" in page.inner_text("#i-fix")

    ph.set_offline(True)
    page.wait_for_selector("#net:not([hidden])")
    assert "离线" in page.inner_text("#net")
    files = []
    for seed in (11, 12):
        path = tmp_path / f"IMG_20240601_{seed}.jpg"
        path.write_bytes(geotagged_jpeg(ph.lat, ph.lon, seed=seed))
        files.append(str(path))
    page.set_input_files("#camera", files)
    _wait_states(page, "queued", 2)
    assert page.locator("#photo-list li.photo", has_text="排队中").count() == 2
    assert page.inner_text("#count-pending") == "2"
    assert page.inner_text("#count-received") == "0"
    assert page.locator("#photo-list li.photo img.thumb").count() == 2
    queued_ids = [pid for pid, _ in _states(page)]
    assert all(uuid.UUID(pid) for pid in queued_ids)
    page.screenshot(path=str(SHOTS / "mobile-queue.png"), full_page=True)
    _not_blank(SHOTS / "mobile-queue.png")

    # Still offline: the page comes back from the service worker and the queue from IndexedDB.
    page.reload()
    _wait_states(page, "queued", 2)
    assert [pid for pid, _ in _states(page)] == queued_ids
    assert page.evaluate(COUNT_JS, "blobs") == 2

    ph.set_offline(False)
    _wait_states(page, "received", 2)
    for item in page.locator("#photo-list li.photo").all():
        text = item.inner_text()
        assert "已接收 ✓" in text
        assert re.search("可采信|存疑|无法核验", text), text
    page.wait_for_function("document.querySelector('#count-pending').textContent === '0'")
    assert page.inner_text("#count-received") == "2"
    assert page.is_hidden("#net")
    assert page.evaluate(COUNT_JS, "blobs") == 0, "received originals are deleted from the phone"
    assert page.evaluate(COUNT_JS, "photos") == 2, "receipts are kept for the list"
    page.screenshot(path=str(SHOTS / "mobile-received.png"), full_page=True)
    _not_blank(SHOTS / "mobile-received.png")

    with Session(engine) as s:
        stored = s.scalars(select(Photo.id).where(Photo.inspection_id == uuid.UUID(inspection_id))).all()
    assert sorted(str(x) for x in stored) == sorted(queued_ids)
    assert _unexpected(ph.errors) == []


def _png_named_jpg(tmp_path: Path) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(buf, "PNG")
    path = tmp_path / "fake.jpg"
    path.write_bytes(buf.getvalue())
    return str(path)


def test_rejected_file_shows_chinese_message_and_is_not_retried(phone, live_server, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    ph = phone(geolocation=False, width=360)
    page = ph.page
    _sign_in(page, live_server)
    _start_inspection(page, ph.project)
    # No location permission: the inspection goes on without a fix, and says so.
    assert "无定位" in page.inner_text("#i-fix")
    assert "定位权限" in page.inner_text("#i-fix")
    posts: list[str] = []
    page.on("request", lambda r: r.method == "POST" and r.url.endswith("/photos") and posts.append(r.url))
    page.set_input_files("#camera", _png_named_jpg(tmp_path))
    _wait_states(page, "rejected", 1)
    text = page.inner_text("#photo-list li.photo")
    assert "被拒收" in text
    assert "unsupported_format" in text
    assert "文件实际是 PNG" in text
    page.screenshot(path=str(SHOTS / "mobile-rejected.png"), full_page=True)
    _not_blank(SHOTS / "mobile-rejected.png")
    page.wait_for_timeout(1500)  # many fast back-off periods: a rejected photo is not sent again
    assert len(posts) == 1
    assert page.inner_text("#count-pending") == "0"
    assert page.inner_text("#count-rejected") == "1"
    page.click("#photo-list li.photo button.remove")
    page.wait_for_function("document.querySelectorAll('#photo-list li.photo').length === 0")
    assert page.evaluate(COUNT_JS, "blobs") == 0
    assert page.evaluate(COUNT_JS, "photos") == 0
    # The server allows /static/sw.js to control /m, so the page shell is kept for offline reloads.
    page.wait_for_function("navigator.serviceWorker.getRegistrations().then(r => r.length === 1)")
    assert not page.is_visible("#offline-tip")
    assert _unexpected(ph.errors) == []


def test_expired_token_asks_to_sign_in_again_and_keeps_the_queue(phone, live_server, engine, tmp_path):
    ph = phone()
    page, project = ph.page, ph.project
    _sign_in(page, live_server)
    # Offline from the start: the inspection itself waits in the queue too.
    ph.set_offline(True)
    page.wait_for_selector("#net:not([hidden])")
    inspection_id = _start_inspection(page, project, online=False)
    path = tmp_path / "IMG_expired.jpg"
    path.write_bytes(geotagged_jpeg(ph.lat, ph.lon, seed=21))
    page.set_input_files("#camera", str(path))
    _wait_states(page, "queued", 1)
    photo_id = _states(page)[0][0]
    page.evaluate("localStorage.setItem('sitewatch-m.token', 'expired-or-revoked')")
    ph.set_offline(False)
    page.wait_for_selector("#login-view:not([hidden])")
    assert "登录已过期" in page.inner_text("#login-note")
    assert page.evaluate(COUNT_JS, "blobs") == 1
    page.fill("#login-form input[name=password]", DEMO_PASSWORD)  # user name is kept
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#inspection-view:not([hidden])")
    _wait_states(page, "received", 1)
    assert "已在服务器创建" in page.inner_text("#i-server")
    with Session(engine) as s:
        stored = s.scalars(select(Photo.id).where(Photo.inspection_id == uuid.UUID(inspection_id))).all()
    assert [str(x) for x in stored] == [photo_id]
    assert _unexpected(ph.errors, UNAUTHORIZED_NOISE) == []


def test_lost_answer_and_server_error_are_retried_without_duplicates(phone, live_server, engine, tmp_path):
    ph = phone()
    page, project = ph.page, ph.project
    _sign_in(page, live_server)
    inspection_id = _start_inspection(page, project)
    calls: list[str] = []

    def flaky(route) -> None:
        calls.append(route.request.method)
        if len(calls) == 1:  # the server stores the photo but the answer never reaches the phone
            route.fetch()
            route.abort("connectionreset")
        elif len(calls) == 2:
            route.fulfill(status=503, content_type="application/problem+json", body='{"code":"unavailable"}')
        else:
            route.continue_()

    ph.context.route(f"**/mobile/v1/inspections/{inspection_id}/photos", flaky)
    path = tmp_path / "IMG_flaky.jpg"
    path.write_bytes(geotagged_jpeg(ph.lat, ph.lon, seed=31))
    page.set_input_files("#camera", str(path))
    _wait_states(page, "received", 1)
    assert len(calls) == 3
    photo_id = _states(page)[0][0]
    receipt = page.evaluate(RECEIPT_JS, photo_id)
    assert receipt["received"] and receipt["duplicate_retry"], (
        "the retry met the photo the server already had"
    )
    with Session(engine) as s:
        stored = s.scalars(select(Photo.id).where(Photo.inspection_id == uuid.UUID(inspection_id))).all()
    assert [str(x) for x in stored] == [photo_id]
    expected = re.compile(r"net::ERR_CONNECTION_RESET|status of 503")
    assert _unexpected(ph.errors, expected) == []


def test_inspection_started_from_an_assigned_check_is_linked_to_it(phone, live_server, engine):
    ph = phone()
    headers = _SITE[live_server][0]
    checks = httpx.get(f"{live_server}/mobile/v1/sync", headers=headers, timeout=30).json()["checks"]
    check = next((c for c in checks if c.get("project_ids")), None)
    if check is None:
        pytest.skip("the demo data assigns no check to the inspector")
    project_id = check["project_ids"][0]
    page = ph.page
    _sign_in(page, live_server)
    assert check["title"] in page.inner_text("#check-list")
    page.click(f"#check-list li.check[data-check='{check['id']}'] button.item[data-id='{project_id}']")
    page.wait_for_selector("#project-view:not([hidden])")
    assert check["title"] in page.inner_text("#p-check")
    page.click("#start")
    page.wait_for_selector("#inspection-view:not([hidden])")
    page.wait_for_function("document.querySelector('#i-server').textContent.includes('已在服务器创建')")
    assert check["title"] in page.inner_text("#i-check")
    inspection_id = uuid.UUID(page.get_attribute("#inspection-view", "data-id"))
    with Session(engine) as s:
        row = s.get(Inspection, inspection_id)
        assert row is not None
        assert (row.project_id, row.check_plan_id) == (project_id, check["id"])
    assert _unexpected(ph.errors) == []
