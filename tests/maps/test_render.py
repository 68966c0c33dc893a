"""Pure rendering (no database, no app): colours and legend, no CDN in the HTML, escaping, base maps and
the GCJ-02 shift, printed PNGs, font fallback, and before/after photo pairs."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections import Counter
from html.parser import HTMLParser

import geopandas as gpd
import pytest
from PIL import Image, ImageStat
from shapely.geometry import LineString, Point, Polygon, box

from gis_data import crs
from gis_data.photo_pairs import PhotoAt, distance_m, group_spots
from gis_data.reference_layers import load_county, load_townships
from maps import progress_map, static_map, style
from maps.basemaps import basemap, for_display
from server.supervision_rules import ProgressStatus

SEAT = (106.137, 34.752)


def _projects(statuses=("seriously_lagging", "not_started", "lagging", "on_track", "completed")):
    geoms = []
    for i, _ in enumerate(statuses):
        lon, lat = SEAT[0] + 0.05 * i, SEAT[1] - 0.02 * i
        geoms.append(Point(lon, lat) if i % 3 == 0 else box(lon, lat, lon + 0.002, lat + 0.001))
    return gpd.GeoDataFrame(
        {
            "id": list(range(1, len(statuses) + 1)),
            "code": [f"2026-620521-48-01-{i:06d}" for i in range(len(statuses))],
            "name": [f"测试项目{i}" for i in range(len(statuses))],
            "status": list(statuses),
            "total_investment_yuan": ["60000000.00"] * len(statuses),
            "annual_plan_yuan": ["20000000.00"] * len(statuses),
            "content": ["新建厂房 2 万平方米。"] * len(statuses),
            "planned_start": ["2026-03-01"] * len(statuses),
            "last_month": ["2026-10"] * len(statuses),
            "last_month_completed_yuan": ["1250000.00"] * len(statuses),
            "ytd_completed_yuan": ["9000000.00"] * len(statuses),
            "ytd_expected_yuan": ["16666666.67"] * len(statuses),
            "leader_name": ["张县长"] * len(statuses),
            "leader_title": ["副县长"] * len(statuses),
            "last_check": ["2026-10-15 定期督查：10月重点项目定期督查"] * len(statuses),
            "open_problems": [2] * len(statuses),
            "overdue_problems": [1] * len(statuses),
        },
        geometry=geoms,
        crs=crs.STORAGE_SRID,
    )


def _county():
    return gpd.GeoDataFrame({"name": ["清水县"]}, geometry=[load_county()], crs=crs.STORAGE_SRID)


def _townships():
    towns = load_townships()
    return gpd.GeoDataFrame(
        {"name": [t.name for t in towns]}, geometry=[t.geometry for t in towns], crs=crs.STORAGE_SRID
    )


def _parcels():
    return gpd.GeoDataFrame(
        {
            "parcel_code": ["DK01", "DK02"],
            "name": ["一号地块", "二号地块"],
            "verdict": ["compliant", "blocked"],
            "reasons": [[], ["占用永久基本农田 0.52 亩"]],
            "area_mu": [15.0, 3.2],
        },
        geometry=[box(106.135, 34.749, 106.136, 34.7505), box(106.1362, 34.7495, 106.1372, 34.7505)],
        crs=crs.STORAGE_SRID,
    )


def _photos():
    return gpd.GeoDataFrame(
        {
            "id": ["7c9e6679-7425-40de-944b-e07fc1f90ae7"],
            "verdict": ["suspicious"],
            "taken_at": ["2026-10-09 15:30"],
        },
        geometry=[Point(106.1355, 34.7502)],
        crs=crs.STORAGE_SRID,
    )


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" in attrs:
            self.urls.append(attrs["src"] or "")
        if tag == "link" and "href" in attrs:
            self.urls.append(attrs["href"] or "")


def _asset_urls(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


def _items(html: str) -> list[dict]:
    """The marker items the page adds (MarkerBatch writes them as one JSON array per batch)."""
    items = []
    pattern = r"\(function \(group\) \{\s*var popupUrl = .*?;\s*(\[.*?\])\.forEach"
    for match in re.finditer(pattern, html, re.S):
        items += json.loads(match.group(1))
    return items


# --- palette and legend --------------------------------------------------------------------------


def test_every_progress_status_has_a_distinct_colour_and_a_chinese_label():
    codes = {s.value for s in ProgressStatus}
    assert codes <= set(style.STATUS_BY_CODE)
    colours = [s.color for s in style.STATUS_STYLES]
    assert len(set(colours)) == len(colours)
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours)
    assert [s.label for s in style.STATUS_STYLES[:5]] == [
        "严重滞后",
        "未按期开工",
        "进度滞后",
        "正常推进",
        "已完成",
    ]
    assert [s.rank for s in style.STATUS_STYLES] == sorted(s.rank for s in style.STATUS_STYLES)
    assert style.status_style("nonsense").code == style.NO_DATA
    assert style.status_style(None).label == "暂无调度数据"
    assert style.verdict_style("blocked")[0].startswith("冲突")
    assert style.verdict_style(None)[0] == "尚未核查"


def test_legend_counts_every_status():
    html = progress_map.legend_html(
        Counter({"lagging": 3, "on_track": 1}), title="项目进度（2026年10月调度）"
    )
    for s in style.STATUS_STYLES[:5]:
        assert s.label in html and s.color in html
    assert re.search(r"进度滞后<span class=\"sw-count\">3</span>", html)
    assert re.search(r"严重滞后<span class=\"sw-count\">0</span>", html)
    assert "未到开工期" not in html  # shown only when some project is pending
    own = progress_map.legend_html(Counter({"lagging": 1}), title="x", every_status=False)
    assert "进度滞后" in own and "严重滞后" not in own


# --- the folium map ------------------------------------------------------------------------------


def test_county_map_markers_carry_status_colours_and_popups():
    projects = _projects()
    html = progress_map.to_html(
        progress_map.county_map(projects, county=_county(), townships=_townships(), parcels=_parcels())
    )
    items = _items(html)
    assert len(items) == len(projects)
    for item, status in zip(items, projects["status"], strict=True):
        assert item["color"] == style.status_style(status).color
        assert item["rank"] == style.status_style(status).rank
        for word in (
            "总投资",
            "年度计划投资",
            "建设内容",
            "开（复）工时间",
            "月投资进度",
            "包抓县级领导",
            "最近督查",
        ):
            assert word in item["popup"]
        assert 'href="/projects/' in item["popup"] and 'target="_top"' in item["popup"]
    assert "逾期 1 个" in items[0]["popup"]
    assert "完成 54%" in items[0]["popup"]
    assert "markerClusterGroup" in html and "conic-gradient" in html
    assert "disableClusteringAtZoom" in html
    assert "sw-legend" in html
    assert '"maxZoom": 18' in html


def test_county_map_has_no_external_assets_and_no_jquery():
    for name, key in (("none", None), ("osm", None), ("tianditu", "0123456789abcdef0123456789abcdef")):
        options = progress_map.MapOptions(
            base=basemap(name, tianditu_key=key), tile_url="/api/v1/tiles/{layer}/{z}/{x}/{y}.mvt"
        )
        html = progress_map.to_html(
            progress_map.county_map(_projects(), townships=_townships(), photos=_photos(), options=options)
        )
        urls = _asset_urls(html)
        assert urls, "the map must load Leaflet"
        for url in urls:
            assert url.startswith("/vendor/") and "//" not in url, url
        assert {u.split("/")[2] for u in urls} <= {"leaflet", "leaflet.markercluster", "leaflet.vectorgrid"}
        assert "$(" not in html and "jquery" not in html.lower() and "bootstrap" not in html.lower()
        if name == "none":
            assert "http://" not in html and "https://" not in html
    project = progress_map.to_html(progress_map.project_map(_projects().iloc[[1]], parcels=_parcels()))
    assert all(u.startswith("/vendor/") for u in _asset_urls(project))


def test_user_text_is_escaped():
    projects = _projects(("lagging",))
    projects.loc[0, "name"] = "<script>alert('x')</script>项目"
    projects.loc[0, "content"] = '<img src=x onerror="alert(1)">'
    html = progress_map.to_html(progress_map.county_map(projects))
    assert "<script>alert" not in html and "<img src=x" not in html
    popup = _items(html)[0]["popup"]
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;项目" in popup
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in popup


def test_layers_to_switch_on_and_off():
    options = progress_map.MapOptions(tile_url="/api/v1/tiles/{layer}/{z}/{x}/{y}.mvt")
    html = progress_map.to_html(
        progress_map.county_map(
            _projects(), townships=_townships(), parcels=_parcels(), photos=_photos(), options=options
        )
    )
    control = re.search(r"overlays :\s*\{(.*?)\}", html, re.S).group(1)
    names = [json.loads(n) for n in re.findall(r'("(?:[^"\\]|\\.)*")\s*:', control)]
    assert names == [
        "乡镇界线",
        "规划：永久基本农田",
        "规划：生态保护红线",
        "规划：城镇开发边界",
        "用地需求地块",
        "重点项目",
        "督查照片",
    ]
    for layer in ("farmland", "redline", "urban_boundary"):
        assert f"/api/v1/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt" in html
    assert html.count("L.vectorGrid.protobuf(") == 3
    assert "Authorization" in html and "sitewatch-token" in html
    # Photo thumbnails are fetched with the login when their popup opens.
    assert "data-auth-src" in html and "?size=320" in html


def test_gcj02_shift_only_on_a_gcj02_base_map():
    projects = _projects(("on_track",))
    lon, lat = projects.geometry.iloc[0].x, projects.geometry.iloc[0].y
    for name in ("none", "osm", "tianditu"):
        base = basemap(name, tianditu_key="0123456789abcdef0123456789abcdef")
        assert base.datum == "wgs84"
        shown = for_display(projects, base).geometry.iloc[0]
        assert shown.x == pytest.approx(lon, abs=1e-9) and shown.y == pytest.approx(lat, abs=1e-9)
        html = progress_map.to_html(
            progress_map.county_map(projects, options=progress_map.MapOptions(base=base))
        )
        item = _items(html)[0]
        assert (item["lon"], item["lat"]) == pytest.approx((lon, lat), abs=1e-9)
    gcj = basemap("gcj02_amap")
    assert gcj.datum == "gcj02"
    shifted = for_display(projects, gcj).geometry.iloc[0]
    # DOMAIN.md: about 405 m here (+390 m east, -110 m north).
    east, north = crs.transformer(crs.STORAGE_SRID, crs.AREA_SRID).transform(lon, lat)
    east2, north2 = crs.transformer(crs.STORAGE_SRID, crs.AREA_SRID).transform(shifted.x, shifted.y)
    assert 330 < east2 - east < 450 and -160 < north2 - north < -60
    html = progress_map.to_html(
        progress_map.county_map(
            projects,
            townships=_townships(),
            options=progress_map.MapOptions(base=gcj, tile_url="/api/v1/tiles/{layer}/{z}/{x}/{y}.mvt"),
        )
    )
    item = _items(html)[0]
    assert (item["lon"], item["lat"]) == pytest.approx((shifted.x, shifted.y), abs=1e-9)
    # Vector tiles cannot be shifted: no plan layers on a GCJ-02 base map, and the legend says so.
    assert "L.vectorGrid.protobuf(" not in html
    assert "GCJ-02" in json.loads(re.search(r"div.innerHTML = (\".*?\");", html).group(1))
    # The stored frame is never changed.
    assert projects.geometry.iloc[0].x == lon


def test_tianditu_needs_a_key():
    with pytest.raises(ValueError, match="key"):
        basemap("tianditu")
    base = basemap("tianditu", tianditu_key="abcdef0123456789abcdef0123456789")
    assert len(base.tiles) == 2 and all("tk=abcdef0123456789abcdef0123456789" in t.url for t in base.tiles)
    assert "vec_w" in base.tiles[0].url and "cva_w" in base.tiles[1].url
    with pytest.raises(ValueError):
        basemap("google")  # type: ignore[arg-type]


def test_project_map_fits_its_site_and_parcels():
    site = _projects(("lagging",)).iloc[[0]].copy()
    site["geometry"] = [LineString([(106.135, 34.750), (106.137, 34.751)])]
    html = progress_map.to_html(progress_map.project_map(site, parcels=_parcels(), photos=_photos()))
    assert "fitBounds" in html
    assert "用地需求地块" in html or json.dumps("用地需求地块")[1:-1] in html
    legend = json.loads(re.search(r"div.innerHTML = (\".*?\");", html).group(1))
    assert "进度滞后" in legend and "严重滞后" not in legend and "冲突" in legend


# --- printed maps --------------------------------------------------------------------------------


def _assert_picture(png: bytes, size=(1600, 1130)) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG" and image.size == size
    grey = image.convert("L")
    assert ImageStat.Stat(grey).stddev[0] > 10, "blank picture"
    assert len(set(grey.resize((64, 64)).tobytes())) > 8
    return image.convert("RGB")


def _has_colour(image: Image.Image, hex_colour: str, tolerance: int = 12) -> bool:
    target = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    pixels = image.tobytes()
    return any(
        all(abs(pixels[i + k] - target[k]) <= tolerance for k in range(3)) for i in range(0, len(pixels), 3)
    )


def test_county_png_is_a_real_picture_with_the_status_colours():
    png = static_map.county_png(
        _projects(), county=_county(), townships=_townships(), subtitle="2026年10月调度"
    )
    image = _assert_picture(png)
    small = image.resize((800, 565), Image.Resampling.NEAREST)
    for s in style.STATUS_STYLES[:5]:
        assert _has_colour(small, s.color), s.label
    assert png == static_map.county_png(
        _projects(), county=_county(), townships=_townships(), subtitle="2026年10月调度"
    ), "same data, same picture"


def test_project_png_draws_site_parcels_and_photos():
    png = static_map.project_png(
        _projects(("lagging",)).iloc[[0]],
        parcels=_parcels(),
        photos=_photos(),
        title="测试项目",
        subtitle="x",
    )
    image = _assert_picture(png).resize((800, 565), Image.Resampling.NEAREST)
    assert _has_colour(image, style.PHOTO_VERDICT_STYLES["suspicious"][1])
    # A project without a site still prints (a legend and a note, no crash).
    empty = _projects(("no_data",)).iloc[0:0]
    _assert_picture(static_map.project_png(empty, title="尚未标注位置的项目"))


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_printed_maps_fall_back_without_a_cjk_font():
    static_map.find_cjk_font.cache_clear()
    with pytest.warns(RuntimeWarning, match="CJK font"):
        assert static_map.find_cjk_font(("No Such Font Family",)) is None
    with pytest.warns(RuntimeWarning):
        png = static_map.county_png(_projects(), title="Qingshui", font_families=("No Such Font Family 2",))
    _assert_picture(png)
    font = static_map.find_cjk_font()
    assert font is not None and "wqy" in font.get_file().lower()


def test_scale_bar_lengths_are_round():
    assert static_map._nice_length(73_000) == 10_000
    assert static_map._nice_length(900) == 100
    assert static_map._nice_length(3_000) == 500


# --- photos at the same spot ---------------------------------------------------------------------


def _at(photo_id, east_m, north_m, day):
    x0, y0 = crs.transformer(crs.STORAGE_SRID, crs.AREA_SRID).transform(*SEAT)
    lon, lat = crs.transformer(crs.AREA_SRID, crs.STORAGE_SRID).transform(x0 + east_m, y0 + north_m)
    return PhotoAt(photo_id, lon, lat, dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=day))


def test_photos_pair_at_the_same_spot_by_time():
    photos = [
        _at("a", 0, 0, 0),
        _at("b", 12, 5, 40),  # 13 m from a: same spot, later
        _at("c", 200, 0, 10),  # another spot
        _at("d", 25, 0, 90),  # 25 m from a: same spot, latest
        _at("e", 55, 0, 95),  # 55 m from a: its own spot (spots do not chain)
    ]
    spots = group_spots(photos)
    assert [[p.photo_id for p in s.photos] for s in spots] == [["a", "b", "d"], ["c"], ["e"]]
    before, after = spots[0].pair
    assert (before.photo_id, after.photo_id) == ("a", "d")
    assert spots[1].pair is None
    assert distance_m(photos[0], photos[1]) == pytest.approx(13.0, abs=0.05)
    # The input order does not matter.
    again = group_spots(list(reversed(photos)))
    assert [[p.photo_id for p in s.photos] for s in again] == [["a", "b", "d"], ["c"], ["e"]]


def test_same_moment_is_not_a_before_and_after():
    spots = group_spots([_at("a", 0, 0, 3), _at("b", 1, 1, 3)])
    assert len(spots) == 1 and spots[0].pair is None


@pytest.mark.filterwarnings("ignore:Non-Chinese coords found")
def test_gcj02_conversion_in_the_crs_module_leaves_lines_and_polygons_valid():
    polygon = Polygon([(106.1, 34.7), (106.2, 34.7), (106.2, 34.8), (106.1, 34.8)])
    shifted = crs.wgs84_to_gcj02(polygon)
    assert shifted.is_valid and shifted.area == pytest.approx(polygon.area, rel=1e-3)
    assert crs.wgs84_to_gcj02(Point(0.0, 51.5)).equals(Point(0.0, 51.5))  # outside China: unchanged


def test_lazy_popups_and_chinese_written_as_utf8():
    projects = _projects()
    options = progress_map.MapOptions(project_popup_url="/api/v1/map/projects/{id}/popup.html")
    html = progress_map.to_html(progress_map.county_map(projects, options=options))
    items = _items(html)
    assert len(items) == len(projects)
    assert all("popup" not in item for item in items)
    assert 'var popupUrl = "/api/v1/map/projects/{id}/popup.html";' in html
    assert projects["name"].iloc[0] in html, "names are written as UTF-8, not \\u escapes"
