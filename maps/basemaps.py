"""Base maps: none (intranet), OpenStreetMap, Tianditu (with a key) or a GCJ-02 (Amap) map.

A base map says which datum its tiles are drawn in.  Our layers are CGCS2000 (practically WGS84): on a
GCJ-02 base map they must be shifted into GCJ-02 too, or everything sits about 400 m off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import geopandas as gpd

from gis_data.crs import WGS84_SRID, wgs84_to_gcj02

BaseMapName = Literal["none", "osm", "tianditu", "gcj02_amap"]
Datum = Literal["wgs84", "gcj02"]


@dataclass(frozen=True, slots=True)
class TileSource:
    """One XYZ tile layer of a base map."""

    url: str
    attribution: str
    subdomains: str = "abc"
    max_zoom: int = 18


@dataclass(frozen=True, slots=True)
class BaseMap:
    """A base map: its tile layers (bottom first) and the datum our layers must be drawn in on it."""

    name: BaseMapName
    label: str
    tiles: tuple[TileSource, ...] = ()
    datum: Datum = "wgs84"


NO_BASEMAP = BaseMap("none", "无底图（内网）")

_TIANDITU = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}"
    "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)


def basemap(name: BaseMapName, *, tianditu_key: str | None = None) -> BaseMap:
    """The base map called ``name``; Tianditu needs its key (``tk``)."""
    if name == "none":
        return NO_BASEMAP
    if name == "osm":
        return BaseMap(
            "osm",
            "OpenStreetMap",
            (
                TileSource(
                    "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> 贡献者',
                    subdomains="",
                    max_zoom=19,
                ),
            ),
        )
    if name == "tianditu":
        if not tianditu_key:
            raise ValueError("the Tianditu base map needs a key (tianditu_key)")
        attribution = "&copy; 天地图（国家地理信息公共服务平台）"
        return BaseMap(
            "tianditu",
            "天地图",
            (
                TileSource(_TIANDITU.format(layer="vec", key=tianditu_key), attribution, "01234567"),
                TileSource(_TIANDITU.format(layer="cva", key=tianditu_key), attribution, "01234567"),
            ),
        )
    if name == "gcj02_amap":
        return BaseMap(
            "gcj02_amap",
            "高德地图（GCJ-02）",
            (
                TileSource(
                    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
                    "&x={x}&y={y}&z={z}",
                    "&copy; 高德地图（GCJ-02，本图层已换算）",
                    "1234",
                ),
            ),
            datum="gcj02",
        )
    raise ValueError(f"unknown base map {name!r}")


def for_display(frame: gpd.GeoDataFrame | None, base: BaseMap) -> gpd.GeoDataFrame | None:
    """Our layer in lon/lat as the base map needs it: WGS84, shifted into GCJ-02 on a GCJ-02 base map."""
    if frame is None:
        return None
    out = frame.to_crs(WGS84_SRID) if frame.crs is not None else frame.copy()
    if base.datum == "gcj02" and not out.empty:
        out = out.copy()
        out["geometry"] = [wgs84_to_gcj02(g) if g is not None else None for g in out.geometry]
    return out
