"""The dashboard, the county progress map and a project page in a real headless Chromium: sign in, see the
figures and the chart, the clustered markers and the legend, click a project through to its page."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image, ImageStat

from tests.conftest import DEMO_PASSWORD

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

#: Pixels drawn on a canvas (alpha > 0); a rendered chart has thousands.
CANVAS_INK_JS = """
(id) => {
  const canvas = document.getElementById(id);
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) ink++; }
  return ink;
}
"""


def _not_blank(path: Path) -> None:
    image = Image.open(path).convert("L")
    stat = ImageStat.Stat(image)
    assert stat.stddev[0] > 10, f"{path.name} looks blank"
    assert len(set(image.resize((64, 64)).tobytes())) > 8, f"{path.name} looks blank"


def _shot(page, name: str, **kwargs) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    page.screenshot(path=str(path), **kwargs)
    _not_blank(path)


def _sign_in(page, live_server: str, username: str) -> None:
    page.goto(live_server + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#projects tbody tr.row")


def _frame_errors(page) -> list[str]:
    """Errors the maps' frames recorded (see _watch_frames)."""
    out = []
    for frame in page.frames:
        try:
            out += frame.evaluate("() => window.__swErrors || []")
        except Exception:  # a frame navigating away
            continue
    return out


def _watch_frames(page) -> None:
    """Record uncaught errors inside iframes too (srcdoc frames share the page's console)."""
    page.add_init_script(
        """
        window.__swErrors = [];
        window.addEventListener("error", (e) => window.__swErrors.push(String(e.message)));
        window.addEventListener("unhandledrejection", (e) => window.__swErrors.push(String(e.reason)));
        const consoleError = console.error.bind(console);
        console.error = (...args) => {
            window.__swErrors.push(args.map(String).join(" "));
            consoleError(...args);
        };
        """
    )


def test_dashboard_shows_figures_and_chart(page, live_server):
    _watch_frames(page)
    _sign_in(page, live_server, "admin")
    page.click("header nav a[href='/dashboard']")
    page.wait_for_selector("body[data-loaded='1']")
    assert "调度" in page.inner_text("#title")
    cards = page.locator("#status-cards .stat")
    assert cards.count() >= 4
    labels = page.locator("#status-cards .stat .l").all_inner_texts()
    assert "严重滞后" in labels and "正常推进" in labels
    assert page.locator("#lagging tbody tr a").count() > 0
    assert page.locator("#by-township tbody tr").count() >= 5
    assert page.locator("#by-industry tbody tr").count() >= 3
    assert page.evaluate(CANVAS_INK_JS, "monthly-chart") > 2000
    assert page.evaluate(CANVAS_INK_JS, "township-chart") > 2000
    assert page.locator("#my-section").is_hidden()
    _shot(page, "dashboard.png", full_page=True)
    # The lagging list links to the project pages.
    href = page.locator("#lagging tbody tr a").first.get_attribute("href")
    assert re.fullmatch(r"/projects/\d+", href)
    assert page.console_errors == []
    assert _frame_errors(page) == []


def test_leader_dashboard_lists_my_projects(page, live_server):
    from gis_data import demo

    _sign_in(page, live_server, demo.DEMO_LEADERS[0].username)
    page.goto(live_server + "/dashboard")
    page.wait_for_selector("body[data-loaded='1']")
    assert page.locator("#my-section").is_visible()
    assert page.locator("#my-projects tbody tr a").count() > 0
    assert page.console_errors == []


def _open_a_project_popup(frame) -> None:
    """Zoom into clusters until a single project marker shows, then open its popup."""
    for _ in range(8):
        markers = frame.locator(".leaflet-marker-pane .sw-marker-icon")
        if markers.count() > 0:
            markers.first.click()
            frame.locator(".leaflet-popup .sw-popup").wait_for(state="visible")
            return
        frame.locator(".leaflet-marker-pane .marker-cluster").first.click()
        frame.locator(".leaflet-marker-pane").page.wait_for_timeout(700)
    raise AssertionError("no single project marker appeared after zooming into clusters")


def _click_a_parcel(frame) -> str:
    """Click the middle of a parcel drawn from the vector tiles; the text of the popup that opens."""
    paths = frame.locator(".leaflet-tile-container svg path.leaflet-interactive")
    for index in range(min(paths.count(), 40)):
        box = paths.nth(index).bounding_box()
        if box is None or box["width"] < 4 or box["height"] < 4:
            continue
        paths.nth(index).dispatch_event(
            "click", {"clientX": box["x"] + box["width"] / 2, "clientY": box["y"] + box["height"] / 2}
        )
        popup = frame.locator(".leaflet-popup .sw-popup")
        popup.wait_for(state="visible")
        frame.locator(".leaflet-popup .sw-popup .sw-badge").wait_for(state="visible")
        return popup.inner_text()
    raise AssertionError("no parcel drawn large enough to click")


def test_map_clusters_legend_and_click_through_to_a_project(page, live_server):
    _watch_frames(page)
    _sign_in(page, live_server, "admin")
    page.click("header nav a[href='/map']")
    page.wait_for_selector("#map-frame[data-loaded='1']")
    frame = page.frame_locator("#map-frame")
    legend = frame.locator(".sw-legend")
    legend.wait_for(state="visible")
    text = legend.inner_text()
    for word in ("严重滞后", "进度滞后", "正常推进", "未按期开工", "已完成"):
        assert word in text
    clusters = frame.locator(".leaflet-marker-pane .marker-cluster")
    markers = frame.locator(".leaflet-marker-pane .sw-marker-icon")
    assert clusters.count() + markers.count() > 0
    assert clusters.count() > 0, "at county zoom the projects should be clustered"
    # Layers to switch on and off, and the township boundaries drawn.
    control = frame.locator(".leaflet-control-layers")
    for name in ("乡镇界线", "重点项目", "规划：永久基本农田", "规划：生态保护红线", "规划：城镇开发边界"):
        assert name in control.inner_text()
    assert frame.locator(".leaflet-overlay-pane path").count() >= 18
    _shot(page, "map-county.png")
    # A plan layer comes from the vector tiles, fetched with the login.
    with page.expect_response(lambda r: "/api/v1/tiles/farmland/" in r.url) as tile:
        control.locator("label", has_text="规划：永久基本农田").locator("input").check()
    assert tile.value.status == 200, tile.value.text()
    assert tile.value.request.headers.get("authorization", "").startswith("Bearer ")

    # Parcels come from their vector tiles too (shown by default); clicking one fetches its popup.
    frame.locator(".leaflet-tile-container svg path.leaflet-interactive").first.wait_for(state="attached")
    parcel_popup = _click_a_parcel(frame)
    assert "报批状态" in parcel_popup and "亩" in parcel_popup
    frame.locator(".leaflet-popup-close-button").click()
    frame.locator(".leaflet-popup").wait_for(state="detached")

    # A project's popup is fetched when it opens (thousands of projects would not fit in the page).
    _open_a_project_popup(frame)
    popup = frame.locator(".leaflet-popup .sw-popup")
    frame.locator(".leaflet-popup .sw-popup table").wait_for(state="visible")
    popup_text = popup.inner_text()
    page.wait_for_timeout(400)  # the popup fades in
    for word in (
        "总投资",
        "年度计划投资",
        "建设内容",
        "月投资进度",
        "包抓县级领导",
        "最近督查",
        "未整改问题",
    ):
        assert word in popup_text
    _shot(page, "map-popup.png")
    with page.expect_navigation():
        popup.locator("a.sw-project-link").click()
    assert re.search(r"/projects/\d+$", page.url)
    page.wait_for_selector("body[data-loaded='1']")
    page.wait_for_selector("#project-map[data-loaded='1']")
    assert page.inner_text("#p-name")
    assert "包抓县级领导" in page.inner_text("#p-fields")
    assert page.evaluate(CANVAS_INK_JS, "investment-chart") > 2000
    site = page.frame_locator("#project-map").locator(".leaflet-overlay-pane path, .leaflet-marker-pane *")
    assert site.count() > 0
    page.frame_locator("#project-map").locator(".sw-legend").wait_for(state="visible")
    _shot(page, "project-page.png", full_page=True)
    assert page.console_errors == []
    assert _frame_errors(page) == []


def test_map_filters_by_status(page, live_server):
    _watch_frames(page)
    _sign_in(page, live_server, "admin")
    page.goto(live_server + "/map?progress_status=seriously_lagging")
    page.wait_for_selector("#map-frame[data-loaded='1']")
    assert page.locator("select[name=progress_status]").input_value() == "seriously_lagging"
    legend = page.frame_locator("#map-frame").locator(".sw-legend")
    legend.wait_for(state="visible")
    counts = dict(re.findall(r"(\S+?)\s*(\d+)\n", legend.inner_text() + "\n"))
    assert int(counts.get("严重滞后", 0)) > 0
    assert int(counts.get("正常推进", 0)) == 0
    assert "筛选" in legend.inner_text()
    _shot(page, "map-filtered.png")
    page.select_option("select[name=progress_status]", "")
    page.click("#map-filters button[type=submit]")
    page.wait_for_function("!location.search.includes('progress_status')")
    assert page.console_errors == []
    assert _frame_errors(page) == []


def test_pages_ask_to_sign_in_and_explain_unknown_projects(page, live_server):
    page.goto(live_server + "/map")
    page.wait_for_selector("#need-login:not([hidden])")
    assert "请先登录" in page.inner_text("#need-login")
    _sign_in(page, live_server, "admin")
    page.goto(live_server + "/projects/99999999")
    page.wait_for_function("document.querySelector('#page-error').textContent.length > 0")
    assert "不存在" in page.inner_text("#page-error")
    # The only console message is the browser noting the 404 answer itself.
    assert all("404" in message for message in page.console_errors)


def test_township_user_sees_its_own_figures(page, live_server):
    _sign_in(page, live_server, "township")
    page.goto(live_server + "/dashboard")
    page.wait_for_selector("body[data-loaded='1']")
    assert "本乡镇项目" in page.inner_text("#scope-note")
    towns = set(page.locator("#by-township tbody tr td:first-child").all_inner_texts())
    assert towns == {"永清镇"}
    page.goto(live_server + "/map")
    page.wait_for_selector("#map-frame[data-loaded='1']")
    page.frame_locator("#map-frame").locator(".sw-legend").wait_for(state="visible")
    _shot(page, "map-township.png")
    assert page.console_errors == []


def test_lagging_project_page_lists_checks_and_problems(page, live_server):
    _watch_frames(page)
    _sign_in(page, live_server, "admin")
    page.goto(live_server + "/dashboard")
    page.wait_for_selector("body[data-loaded='1']")
    # The worst project of the month: seriously lagging projects are checked every month (§16).
    with page.expect_navigation():
        page.locator("#lagging tbody tr a").first.click()
    page.wait_for_selector("body[data-loaded='1']")
    page.wait_for_selector("#project-map[data-loaded='1']")
    assert "严重滞后" in page.inner_text("#p-status")
    checks = page.locator("#checks tbody tr")
    assert checks.count() >= 1 and "定期督查" in page.inner_text("#checks")
    assert page.evaluate(CANVAS_INK_JS, "investment-chart") > 2000
    _shot(page, "project-lagging.png", full_page=True)
    assert page.console_errors == []
    assert _frame_errors(page) == []
