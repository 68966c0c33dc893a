"""The county progress map and a project's site map, as folium maps (HTML) with no CDN.

Pure: GeoDataFrames in (CGCS2000 lon/lat), a ``folium.Map`` or its HTML out.  The pages fetch the HTML
with the user's login and show it in an iframe, so everything a user must not see is already filtered
out by the caller; this module only draws.

Expected columns (missing optional ones are simply not shown):

- projects: ``id, code, name, status`` (progress status code, see ``maps.style``), ``geometry`` (the site);
  optional ``township, industry, category_label, construction_label, total_investment_yuan,
  annual_plan_yuan, content, planned_start, last_month, last_month_completed_yuan, ytd_completed_yuan,
  ytd_expected_yuan, leader_name, leader_title, last_check, next_check, open_problems, overdue_problems``.
- townships: ``name, geometry``; county: ``geometry``.
- parcels: ``parcel_code, name, verdict, geometry``; optional ``project_name, year, status_label, area_mu,
  reasons`` (list of Chinese sentences).
- photos: ``id, verdict, geometry`` (a point); optional ``project_name, taken_at, site_distance_m``.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import folium
import geopandas as gpd
from branca.element import MacroElement
from jinja2 import Template
from jinja2.utils import htmlsafe_json_dumps
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from maps import style
from maps.assets import (
    DEFAULT_VENDOR_PREFIX,
    FETCH_JS,
    InlineScript,
    InlineStyle,
    LocalMap,
    LocalMarkerCluster,
    VectorTileLayer,
)
from maps.basemaps import NO_BASEMAP, BaseMap, for_display

#: Zoom at and beyond which project markers are no longer clustered.
UNCLUSTER_ZOOM = 13
MIN_ZOOM, MAX_ZOOM = 7, 18


@dataclass(frozen=True, slots=True, kw_only=True)
class MapOptions:
    """How a map links to the rest of the app; everything has a working default."""

    base: BaseMap = NO_BASEMAP
    vendor_prefix: str = DEFAULT_VENDOR_PREFIX
    #: The vector-tile URL with ``{layer}`` left to fill (``None``: no plan layers).
    tile_url: str | None = None
    plan_layers: tuple[str, ...] = ("farmland", "redline", "urban_boundary")
    project_url: str = "/projects/{id}"
    #: Popups fetched when opened (``{id}`` filled in); None: popups written into the page.
    project_popup_url: str | None = None
    parcel_popup_url: str | None = None
    photo_thumb_url: str = "/mobile/v1/photos/{id}?size=320"
    #: Where the pages keep the login token (sessionStorage), for the tiles and thumbnails.
    auth_storage_key: str = "sitewatch-token"
    #: Words above the legend, e.g. the month of the statuses.
    legend_title: str = "项目进度"
    extra_notes: Sequence[str] = field(default_factory=tuple)
    #: Open on the projects shown rather than the whole county (a township's or a unit's own map).
    fit_to_projects: bool = False


# --- small helpers -------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _present(value: Any) -> bool:
    if value is None:
        return False
    try:
        return not (isinstance(value, float) and math.isnan(value))
    except TypeError:
        return True


def _get(row: Any, key: str) -> Any:
    value = row.get(key) if hasattr(row, "get") else None
    return value if _present(value) else None


def wan(yuan: Any) -> str:
    """Yuan as 万元 with at most two decimals (the unit of every Chinese project report)."""
    try:
        amount = Decimal(str(yuan)) / Decimal(10000)
    except (InvalidOperation, ValueError):
        return "—"
    text = f"{amount:,.2f}".rstrip("0").rstrip(".")
    return f"{text} 万元"


def _percent(part: Any, whole: Any) -> str | None:
    try:
        p, w = Decimal(str(part)), Decimal(str(whole))
    except (InvalidOperation, ValueError):
        return None
    if w <= 0:
        return None
    return f"{p / w * 100:.0f}%"


def _marker_point(geom: BaseGeometry) -> tuple[float, float] | None:
    """(lat, lon) of a point on the geometry (inside polygons, on lines)."""
    if geom is None or geom.is_empty:
        return None
    point = geom if geom.geom_type == "Point" else geom.representative_point()
    return point.y, point.x


def _feature_collection(frame: gpd.GeoDataFrame, props: Iterable[dict[str, Any]]) -> dict[str, Any]:
    features = []
    for geom, properties in zip(frame.geometry, props, strict=True):
        if geom is None or geom.is_empty:
            continue
        features.append({"type": "Feature", "geometry": mapping(geom), "properties": properties})
    return {"type": "FeatureCollection", "features": features}


# --- elements ------------------------------------------------------------------------------------


class GeoJsonLayer(folium.map.Layer):
    """A GeoJSON layer whose features carry their own style, popup and tooltip (escaped HTML).

    Unlike ``folium.GeoJson`` it needs no jQuery and never splices property values into HTML.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJson({{ this.data|tojson }}, {
            style: function (f) { return f.properties.sw_style; },
            pointToLayer: function (f, latlng) { return L.circleMarker(latlng, f.properties.sw_style); },
            onEachFeature: function (f, layer) {
                if (f.properties.sw_popup) { layer.bindPopup(f.properties.sw_popup, {maxWidth: 340}); }
                if (f.properties.sw_tooltip) { layer.bindTooltip(f.properties.sw_tooltip, {sticky: true}); }
            }
        });
        {% endmacro %}
        """
    )

    def __init__(self, data: dict[str, Any], *, name: str, show: bool = True, control: bool = True):
        super().__init__(name=name, overlay=True, control=control, show=show)
        self._name = "GeoJsonLayer"
        self.data = data


class MarkerBatch(MacroElement):
    """Many markers added in one loop to the parent (a cluster group or a feature group).

    Each item: ``lat, lon, color, rank, size, shape`` ('dot' or 'square'), ``title``, optional ``popup``
    (escaped HTML) and ``id``. Without ``popup``, a ``popup_url`` given to the batch (``{id}`` filled in)
    is fetched with the login when the popup first opens. Non-ASCII text goes into the page as UTF-8,
    not ``\\u`` escapes (a third of the bytes for Chinese names).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (group) {
            var popupUrl = {{ this.popup_url|tojson }};
            {{ this.items_json }}.forEach(function (p) {
                var marker = L.marker([p.lat, p.lon], {
                    icon: L.divIcon({
                        className: "sw-marker-icon",
                        html: '<span class="sw-' + p.shape + '" style="background:' + p.color + '"></span>',
                        iconSize: [p.size, p.size],
                        iconAnchor: [p.size / 2, p.size / 2],
                        popupAnchor: [0, -p.size / 2]
                    }),
                    title: p.title,
                    riseOnHover: true,
                    statusRank: p.rank,
                    statusColor: p.color,
                    itemId: p.id
                });
                if (p.popup) {
                    marker.bindPopup(p.popup, {maxWidth: 340, minWidth: 240});
                } else if (popupUrl) {
                    marker.bindPopup('<div class="sw-popup">加载中…</div>', {maxWidth: 340, minWidth: 240});
                    marker.on("popupopen", function () {
                        if (marker.swLoaded) { return; }
                        swFetchText(popupUrl.replace("{id}", encodeURIComponent(p.id)),
                                    {{ this.auth_storage_key|tojson }})
                            .then(function (html) { marker.swLoaded = true; marker.setPopupContent(html); })
                            .catch(function () {
                                marker.setPopupContent(
                                    '<div class="sw-popup">项目信息暂不可用，请稍后重试。</div>');
                            });
                    });
                }
                group.addLayer(marker);
            });
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        items: list[dict[str, Any]],
        *,
        auth_storage_key: str = "sitewatch-token",
        popup_url: str | None = None,
    ):
        super().__init__()
        self._name = "MarkerBatch"
        self.items = items
        self.items_json = htmlsafe_json_dumps(items, ensure_ascii=False)
        self.popup_url = popup_url
        self.auth_storage_key = auth_storage_key


class Legend(MacroElement):
    """A legend box in a corner of the map (escaped HTML)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "sw-legend");
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            legend.addTo(map);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, legend_html: str, position: str = "bottomright"):
        super().__init__()
        self._name = "Legend"
        self.html = legend_html
        self.position = position


#: Cluster icons are small pies of their projects' statuses, worst first from twelve o'clock, so one
#: seriously lagging project in a cluster still shows at county zoom.
CLUSTER_ICON_JS = """
function (cluster) {
    var markers = cluster.getAllChildMarkers();
    var counts = {}, colors = {};
    for (var i = 0; i < markers.length; i++) {
        var rank = markers[i].options.statusRank;
        counts[rank] = (counts[rank] || 0) + 1;
        colors[rank] = markers[i].options.statusColor;
    }
    var ranks = Object.keys(counts).map(Number).sort(function (a, b) { return a - b; });
    var n = markers.length, start = 0, stops = [];
    ranks.forEach(function (rank) {
        var end = start + counts[rank] / n * 100;
        stops.push(colors[rank] + " " + start.toFixed(2) + "% " + end.toFixed(2) + "%");
        start = end;
    });
    var size = n < 10 ? 36 : (n < 50 ? 44 : 52);
    return L.divIcon({
        html: '<div class="sw-pie" style="background:conic-gradient(' + stops.join(",") + ')">'
            + "<span>" + n + "</span></div>",
        className: "marker-cluster sw-cluster",
        iconSize: L.point(size, size)
    });
}
"""

#: Photos are served only with the login: fetch each thumbnail with the token when its popup opens.
AUTH_IMAGES_JS = """
(function (map, storageKey) {
    function headers() {
        var token = null;
        try { token = window.sessionStorage.getItem(storageKey); } catch (e) { token = null; }
        return token ? {"Authorization": "Bearer " + token} : {};
    }
    map.on("popupopen", function (event) {
        var root = event.popup.getElement();
        if (!root) { return; }
        root.querySelectorAll("img[data-auth-src]").forEach(function (img) {
            var src = img.getAttribute("data-auth-src");
            img.removeAttribute("data-auth-src");
            fetch(src, {headers: headers()})
                .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.blob(); })
                .then(function (blob) { img.src = URL.createObjectURL(blob); event.popup.update(); })
                .catch(function () { img.replaceWith(document.createTextNode("（照片暂不可用）")); });
        });
    });
})({map}, __KEY__);
"""

MAP_CSS = """
html, body { font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; }
.leaflet-container { background: #eef1f4; font: 13px/1.45 "WenQuanYi Micro Hei", "Noto Sans CJK SC",
  "Microsoft YaHei", sans-serif; }
.sw-marker-icon { background: none; border: none; }
.sw-dot, .sw-square { display: block; width: 100%; height: 100%; box-sizing: border-box;
  border: 2px solid #fff; box-shadow: 0 0 0 1px rgba(0,0,0,.45), 0 1px 3px rgba(0,0,0,.4); }
.sw-dot { border-radius: 50%; }
.sw-square { border-radius: 3px; }
.sw-cluster { background: none; border-radius: 50%; }
.sw-cluster div.sw-pie { width: 100%; height: 100%; margin: 0; border-radius: 50%; display: flex;
  align-items: center; justify-content: center; box-shadow: 0 0 0 2px #fff, 0 1px 4px rgba(0,0,0,.45); }
.sw-cluster .sw-pie span { width: 58%; height: 58%; border-radius: 50%; background: #fff; display: flex;
  align-items: center; justify-content: center; color: #1f2933; font-weight: bold; font-size: 12px;
  line-height: 1; }
.sw-legend { background: rgba(255,255,255,.94); padding: 8px 10px; border-radius: 6px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); max-width: 230px; line-height: 1.55; }
.sw-legend h4 { margin: 0 0 4px; font-size: 13px; }
.sw-legend h5 { margin: 6px 0 2px; font-size: 12px; color: #455a64; }
.sw-legend .sw-key { display: inline-block; width: 12px; height: 12px; margin-right: 6px;
  vertical-align: -1px; border-radius: 50%; border: 1px solid rgba(0,0,0,.35); }
.sw-legend .sw-key.sw-area { border-radius: 2px; }
.sw-legend .sw-count { float: right; margin-left: 10px; color: #52606d; }
.sw-legend .sw-note { margin-top: 4px; font-size: 11px; color: #7b8794; }
.sw-popup h4 { margin: 0 0 4px; font-size: 14px; }
.sw-popup .sw-badge { display: inline-block; padding: 0 6px; border-radius: 9px; color: #fff;
  font-size: 12px; }
.sw-popup table { border-collapse: collapse; margin: 4px 0; }
.sw-popup th { text-align: left; color: #52606d; font-weight: normal; padding: 1px 8px 1px 0;
  white-space: nowrap; vertical-align: top; }
.sw-popup td { padding: 1px 0; }
.sw-popup .sw-warn { color: #b42318; }
.sw-popup a.sw-project-link { display: inline-block; margin-top: 4px; font-weight: bold; }
.sw-popup img.sw-thumb { display: block; max-width: 300px; max-height: 240px; margin: 4px 0;
  background: #eee; }
"""


# --- popups --------------------------------------------------------------------------------------


def _rows_html(rows: Sequence[tuple[str, str]]) -> str:
    return "<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def project_popup_html(row: Any, *, options: MapOptions) -> str:
    """A project's popup: the five list items, the leader, the last check, open problems and a link."""
    status = style.status_style(_get(row, "status"))
    rows: list[tuple[str, str]] = []
    if _get(row, "total_investment_yuan") is not None:
        rows.append(("总投资", _e(wan(row["total_investment_yuan"]))))
    if _get(row, "annual_plan_yuan") is not None:
        rows.append(("年度计划投资", _e(wan(row["annual_plan_yuan"]))))
    if _get(row, "content") is not None:
        content = str(row["content"])
        rows.append(("建设内容", _e(content if len(content) <= 80 else content[:80] + "…")))
    if _get(row, "planned_start") is not None:
        rows.append(("开（复）工时间", _e(row["planned_start"])))
    progress = []
    if _get(row, "last_month") is not None:
        progress.append(f"{row['last_month']} 完成 {wan(_get(row, 'last_month_completed_yuan') or 0)}")
    if _get(row, "ytd_completed_yuan") is not None:
        text = f"累计 {wan(row['ytd_completed_yuan'])}"
        if _get(row, "ytd_expected_yuan") is not None:
            rate = _percent(row["ytd_completed_yuan"], row["ytd_expected_yuan"])
            text += f"（应完成 {wan(row['ytd_expected_yuan'])}" + (f"，完成 {rate}）" if rate else "）")
        progress.append(text)
    rows.append(("月投资进度", _e("；".join(progress)) if progress else "尚未填报"))
    if _get(row, "leader_name") is not None:
        title = _get(row, "leader_title")
        rows.append(("包抓县级领导", _e(row["leader_name"] + (f"（{title}）" if title else ""))))
    rows.append(("最近督查", _e(_get(row, "last_check") or "暂无")))
    if _get(row, "next_check") is not None:
        rows.append(("计划督查", _e(row["next_check"])))
    open_problems = int(_get(row, "open_problems") or 0)
    overdue = int(_get(row, "overdue_problems") or 0)
    problems = f"{open_problems} 个" + (f"（逾期 {overdue} 个）" if overdue else "")
    rows.append(("未整改问题", f'<span class="sw-warn">{_e(problems)}</span>' if overdue else _e(problems)))
    meta = " · ".join(
        _e(v) for v in (_get(row, "township"), _get(row, "industry"), _get(row, "category_label")) if v
    )
    link = _e(options.project_url.format(id=row["id"]))
    return (
        '<div class="sw-popup">'
        f"<h4>{_e(row['name'])}</h4>"
        f'<div><span class="sw-badge" style="background:{status.color}">{_e(status.label)}</span> '
        f"<small>{_e(row['code'])}</small></div>"
        + (f"<div><small>{meta}</small></div>" if meta else "")
        + _rows_html(rows)
        + f'<a class="sw-project-link" href="{link}" target="_top">查看项目详情 »</a>'
        "</div>"
    )


def parcel_popup_html(row: Any) -> str:
    """A land-demand parcel's popup with its conflict verdict and reasons."""
    label, color = style.verdict_style(_get(row, "verdict"))
    rows: list[tuple[str, str]] = []
    if _get(row, "project_name") is not None:
        rows.append(("项目", _e(row["project_name"])))
    if _get(row, "year") is not None:
        rows.append(("年度", _e(row["year"])))
    if _get(row, "area_mu") is not None:
        rows.append(("面积", _e(f"{float(row['area_mu']):,.2f} 亩")))
    if _get(row, "status_label") is not None:
        rows.append(("报批状态", _e(row["status_label"])))
    reasons = _get(row, "reasons")
    reasons_html = ""
    if reasons is not None and len(reasons):
        reasons_html = "<ul>" + "".join(f"<li>{_e(r)}</li>" for r in list(reasons)[:5]) + "</ul>"
    link_html = ""
    if _get(row, "year") is not None:
        link = f"/land?year={int(row['year'])}"
        link_html = f'<a class="sw-project-link" href="{_e(link)}" target="_top">用地审查 »</a>'
    return (
        '<div class="sw-popup">'
        f"<h4>{_e(_get(row, 'name') or '')} <small>{_e(row['parcel_code'])}</small></h4>"
        f'<div><span class="sw-badge" style="background:{color}">{_e(label)}</span></div>'
        + _rows_html(rows)
        + reasons_html
        + link_html
        + "</div>"
    )


def photo_popup_html(row: Any, *, options: MapOptions) -> str:
    """An evidence photo's popup: the thumbnail (fetched with the login), when, and its verdict."""
    label, color = style.photo_verdict_style(_get(row, "verdict"))
    rows: list[tuple[str, str]] = []
    if _get(row, "project_name") is not None:
        rows.append(("项目", _e(row["project_name"])))
    if _get(row, "taken_at") is not None:
        rows.append(("拍摄时间", _e(row["taken_at"])))
    if _get(row, "site_distance_m") is not None:
        rows.append(("距项目位置", _e(f"{float(row['site_distance_m']):.0f} 米")))
    src = _e(options.photo_thumb_url.format(id=row["id"]))
    return (
        '<div class="sw-popup">'
        f'<img class="sw-thumb" data-auth-src="{src}" alt="现场照片" width="300" height="225">'
        f'<div><span class="sw-badge" style="background:{color}">照片{_e(label)}</span></div>'
        + _rows_html(rows)
        + "</div>"
    )


# --- legend --------------------------------------------------------------------------------------


def _key(color: str, label: str, count: int | None = None, *, area: bool = False) -> str:
    cls = "sw-key sw-area" if area else "sw-key"
    count_html = f'<span class="sw-count">{count}</span>' if count is not None else ""
    return f'<div><span class="{cls}" style="background:{color}"></span>{_e(label)}{count_html}</div>'


def legend_html(
    status_counts: Counter[str],
    *,
    title: str,
    parcels: bool = False,
    photos: bool = False,
    plan_layers: Sequence[str] = (),
    notes: Sequence[str] = (),
    every_status: bool = True,
) -> str:
    """The legend: the progress statuses with their counts, then the other layers' keys.

    ``every_status`` lists the five statuses of the issue even at zero (the county map); otherwise only the
    statuses present are listed (a project's own map).
    """
    parts = [f"<h4>{_e(title)}</h4>"]
    for s in style.STATUS_STYLES:
        always = every_status and s.code not in ("pending", style.NO_DATA)
        if not always and not status_counts.get(s.code):
            continue
        parts.append(_key(s.color, s.label, status_counts.get(s.code, 0)))
    if parcels:
        parts.append("<h5>用地需求地块（冲突核查）</h5>")
        parts += [_key(color, label, area=True) for label, color in style.VERDICT_STYLES.values()]
    if photos:
        parts.append("<h5>督查照片</h5>")
        parts += [_key(color, label, area=True) for label, color in style.PHOTO_VERDICT_STYLES.values()]
    if plan_layers:
        parts.append("<h5>规划图层</h5>")
        for layer in plan_layers:
            name, line, fill = style.PLAN_LAYER_STYLES[layer]
            parts.append(_key(fill if fill != "#00000000" else line, name, area=True))
    parts += [f'<div class="sw-note">{_e(n)}</div>' for n in notes]
    return "".join(parts)


# --- building the maps ---------------------------------------------------------------------------


def _new_map(options: MapOptions, *, extra_css: str = "") -> folium.Map:
    m = LocalMap(
        location=[34.75, 106.13],
        zoom_start=10,
        tiles=None,
        control_scale=False,
        vendor_prefix=options.vendor_prefix,
    )
    # folium gives min/max zoom only to its default tile layer; the map itself needs them (clustering does).
    m.options.update(minZoom=MIN_ZOOM, maxZoom=MAX_ZOOM)
    for index, source in enumerate(options.base.tiles):
        folium.TileLayer(
            tiles=source.url,
            attr=source.attribution,
            name=options.base.label,
            subdomains=source.subdomains or "abc",
            max_zoom=source.max_zoom,
            overlay=index > 0,
            control=False,
        ).add_to(m)
    InlineScript(FETCH_JS).add_to(m)
    InlineStyle(MAP_CSS + extra_css).add_to(m)
    InlineScript("L.control.scale({imperial: false, maxWidth: 160}).addTo({map});").add_to(m)
    return m


def _fit(m: folium.Map, frames: Sequence[gpd.GeoDataFrame | None]) -> None:
    bounds = [f.total_bounds for f in frames if f is not None and not f.empty]
    bounds = [b for b in bounds if all(math.isfinite(v) for v in b)]
    if not bounds:
        return
    min_x = min(b[0] for b in bounds)
    min_y = min(b[1] for b in bounds)
    max_x = max(b[2] for b in bounds)
    max_y = max(b[3] for b in bounds)
    m.fit_bounds([[min_y, min_x], [max_y, max_x]], padding=(12, 12), max_zoom=17)


def _outline_layers(
    m: folium.Map, county: gpd.GeoDataFrame | None, townships: gpd.GeoDataFrame | None
) -> None:
    if county is not None and not county.empty:
        line = {"color": style.COUNTY_LINE, "weight": 2.5, "fill": False, "interactive": False}
        GeoJsonLayer(
            _feature_collection(county, ({"sw_style": line} for _ in range(len(county)))),
            name="县界",
            control=False,
        ).add_to(m)
    if townships is not None and not townships.empty:
        town = {
            "color": style.TOWNSHIP_LINE,
            "weight": 1,
            "dashArray": "4 3",
            "fillColor": "#ffffff",
            "fillOpacity": 0.35,
        }
        props = (
            {"sw_style": town, "sw_tooltip": _e(name)}
            for name in townships.get("name", [""] * len(townships))
        )
        GeoJsonLayer(_feature_collection(townships, props), name="乡镇界线").add_to(m)


def _parcel_layer(m: folium.Map, parcels: gpd.GeoDataFrame, *, show: bool) -> None:
    props = []
    for _, row in parcels.iterrows():
        label, color = style.verdict_style(_get(row, "verdict"))
        props.append(
            {
                "sw_style": {"color": color, "weight": 2, "fillColor": color, "fillOpacity": 0.35},
                "sw_popup": parcel_popup_html(row),
                "sw_tooltip": _e(f"{_get(row, 'parcel_code') or ''} {label}"),
            }
        )
    GeoJsonLayer(_feature_collection(parcels, props), name="用地需求地块", show=show).add_to(m)


def _parcel_tile_layer(m: folium.Map, url: str, options: MapOptions, *, show: bool) -> None:
    """Parcels from the vector tiles, coloured by their latest verdict; a click fetches the popup."""
    styles = {}
    for code in style.VERDICT_STYLES:
        _, color = style.verdict_style(code)
        styles[code] = {"color": color, "weight": 2, "fill": True, "fillColor": color, "fillOpacity": 0.35}
    _, unchecked = style.verdict_style(None)
    VectorTileLayer(
        url,
        name="用地需求地块",
        style={"color": unchecked, "weight": 2, "fill": True, "fillColor": unchecked, "fillOpacity": 0.35},
        style_property="verdict",
        styles=styles,
        popup_url=options.parcel_popup_url,
        id_property="parcel_id",
        auth_storage_key=options.auth_storage_key,
        vendor_prefix=options.vendor_prefix,
        show=show,
    ).add_to(m)


def _photo_layer(m: folium.Map, photos: gpd.GeoDataFrame, *, options: MapOptions, show: bool) -> None:
    items = []
    for _, row in photos.iterrows():
        point = _marker_point(row.geometry)
        if point is None:
            continue
        label, color = style.photo_verdict_style(_get(row, "verdict"))
        items.append(
            {
                "lat": point[0],
                "lon": point[1],
                "color": color,
                "rank": 0,
                "size": 14,
                "shape": "square",
                "title": f"督查照片（{label}）",
                "popup": photo_popup_html(row, options=options),
                "id": str(row["id"]),
            }
        )
    group = folium.FeatureGroup(name="督查照片", show=show)
    MarkerBatch(items, auth_storage_key=options.auth_storage_key).add_to(group)
    group.add_to(m)


def _plan_layers(m: folium.Map, options: MapOptions) -> list[str]:
    """Plan layers from the vector tiles; not on a GCJ-02 base map (tiles cannot be shifted)."""
    if not options.tile_url or options.base.datum != "wgs84":
        return []
    added = []
    for layer in options.plan_layers:
        name, line, fill = style.PLAN_LAYER_STYLES[layer]
        VectorTileLayer(
            options.tile_url.replace("{layer}", layer),
            name=f"规划：{name}",
            style={"color": line, "weight": 1, "fill": True, "fillColor": fill, "fillOpacity": 0.35},
            auth_storage_key=options.auth_storage_key,
            vendor_prefix=options.vendor_prefix,
            show=False,
        ).add_to(m)
        added.append(layer)
    return added


def _auth_images(m: folium.Map, options: MapOptions) -> None:
    InlineScript(AUTH_IMAGES_JS.replace("__KEY__", _json_str(options.auth_storage_key))).add_to(m)


def _json_str(text: str) -> str:
    import json

    return json.dumps(text)


def county_map(
    projects: gpd.GeoDataFrame,
    *,
    county: gpd.GeoDataFrame | None = None,
    townships: gpd.GeoDataFrame | None = None,
    parcels: gpd.GeoDataFrame | None = None,
    photos: gpd.GeoDataFrame | None = None,
    parcel_tile_url: str | None = None,
    options: MapOptions = MapOptions(),
) -> folium.Map:
    """The county progress map: clustered projects by status, townships, parcels, photos, plan layers.

    Parcels come from ``parcel_tile_url`` (vector tiles, a WGS-84-aligned base map only) or, without
    it, from ``parcels`` written into the page.
    """
    base = options.base
    projects_d = for_display(projects, base)
    county_d = for_display(county, base)
    townships_d = for_display(townships, base)
    parcels_d = for_display(parcels, base)
    photos_d = for_display(photos, base)
    m = _new_map(options)
    _outline_layers(m, county_d, townships_d)
    plan = _plan_layers(m, options)
    parcel_tiles = parcel_tile_url is not None and base.datum == "wgs84"
    if parcel_tile_url is not None and parcel_tiles:
        _parcel_tile_layer(m, parcel_tile_url, options, show=True)
    elif parcels_d is not None and not parcels_d.empty:
        _parcel_layer(m, parcels_d, show=True)
    counts: Counter[str] = Counter()
    items = []
    assert projects_d is not None
    for _, row in projects_d.iterrows():
        s = style.status_style(_get(row, "status"))
        counts[s.code] += 1
        point = _marker_point(row.geometry)
        if point is None:
            continue
        items.append(
            {
                "lat": point[0],
                "lon": point[1],
                "color": s.color,
                "rank": s.rank,
                "size": 18,
                "shape": "dot",
                "title": f"{row['name']}（{s.label}）",
                **({} if options.project_popup_url else {"popup": project_popup_html(row, options=options)}),
                "id": int(row["id"]),
            }
        )
    cluster = LocalMarkerCluster(
        name="重点项目",
        icon_create_function=CLUSTER_ICON_JS,
        vendor_prefix=options.vendor_prefix,
        options={
            "disableClusteringAtZoom": UNCLUSTER_ZOOM,
            "maxClusterRadius": 45,
            "showCoverageOnHover": False,
            "spiderfyOnMaxZoom": True,
        },
    )
    MarkerBatch(items, auth_storage_key=options.auth_storage_key, popup_url=options.project_popup_url).add_to(
        cluster
    )
    cluster.add_to(m)
    if photos_d is not None and not photos_d.empty:
        _photo_layer(m, photos_d, options=options, show=False)
    notes = list(options.extra_notes)
    if options.tile_url and base.datum != "wgs84":
        notes.append("GCJ-02 底图下不显示规划图层（矢量瓦片无法换算）。")
    if base.datum == "gcj02":
        notes.append("本图各图层已由 CGCS2000 换算为 GCJ-02 以配合底图。")
    Legend(
        legend_html(
            counts,
            title=options.legend_title,
            parcels=parcel_tiles or (parcels_d is not None and not parcels_d.empty),
            photos=photos_d is not None and not photos_d.empty,
            plan_layers=plan,
            notes=notes,
        )
    ).add_to(m)
    _auth_images(m, options)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    has_county = county_d is not None and not county_d.empty
    fit_projects = options.fit_to_projects and not projects_d.geometry.dropna().empty
    _fit(m, [projects_d if fit_projects or not has_county else county_d])
    return m


def project_map(
    project: gpd.GeoDataFrame,
    *,
    parcels: gpd.GeoDataFrame | None = None,
    photos: gpd.GeoDataFrame | None = None,
    options: MapOptions = MapOptions(),
) -> folium.Map:
    """A project's site with its parcels (verdicts) and located photos, fitted to the site and parcels."""
    base = options.base
    project_d = for_display(project, base)
    parcels_d = for_display(parcels, base)
    photos_d = for_display(photos, base)
    assert project_d is not None
    m = _new_map(options)
    plan = _plan_layers(m, options)
    counts: Counter[str] = Counter()
    props = []
    for _, row in project_d.iterrows():
        s = style.status_style(_get(row, "status"))
        counts[s.code] += 1
        props.append(
            {
                "sw_style": {
                    "color": style.SITE_LINE,
                    "weight": 3,
                    "fillColor": s.color,
                    "fillOpacity": 0.3,
                    "radius": 9,
                },
                "sw_tooltip": _e(f"{row['name']}（{s.label}）"),
            }
        )
    GeoJsonLayer(_feature_collection(project_d, props), name="项目位置").add_to(m)
    if parcels_d is not None and not parcels_d.empty:
        _parcel_layer(m, parcels_d, show=True)
    if photos_d is not None and not photos_d.empty:
        _photo_layer(m, photos_d, options=options, show=True)
    Legend(
        legend_html(
            counts,
            title=options.legend_title,
            parcels=parcels_d is not None and not parcels_d.empty,
            photos=photos_d is not None and not photos_d.empty,
            plan_layers=plan,
            notes=list(options.extra_notes),
            every_status=False,
        )
    ).add_to(m)
    _auth_images(m, options)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    _fit(m, [project_d, parcels_d])
    return m


def to_html(m: folium.Map) -> str:
    """The map as one standalone HTML page (its assets are the app's /vendor URLs)."""
    return m.get_root().render()
