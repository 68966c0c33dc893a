"""Reading plan layers and parcel files (GeoJSON, GeoPackage, zipped Shapefile) in whatever CRS they declare.

Pure functions: no database.  :func:`read_vector_file` reads a file with pyogrio, checks that its
declared CRS agrees with its coordinates (degrees vs Gauss-Kruger metres, swapped axes, zone prefix,
wrong zone), checks the attribute encoding and the geometries, and returns a GeoDataFrame in the
storage CRS.  Errors are raised together in one :class:`PlanFileError`; each names the file and the
features (0-based indices, the frame's index) it is about.  Warnings are returned on the result.
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas
import numpy as np
import pyogrio
import shapely
from pandas.api.types import is_object_dtype, is_string_dtype
from pyproj import CRS, Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from gis_data.boundary_txt import EASTING_RANGE, NORTHING_RANGE, FileIssuesError, Issue, prefixed_zone
from gis_data.crs import AREA_SRID, STORAGE_SRID, gk3_srid, gk3_zone_for_longitude, reproject
from gis_data.reference_layers import load_county

LayerKind = Literal["farmland", "redline", "urban_boundary", "landuse"]

#: Degrees of slack around the county's bounding box for the axis and zone checks.
EXTENT_MARGIN_DEG = 0.5
#: A GK central meridian further than this from the data means a wrong zone.
ZONE_TOLERANCE_DEG = 2.0
#: Refuse zip files whose members unpack to more than this.
MAX_ZIP_BYTES = 1 << 30
#: At most this many feature indices are spelled out in a message.
MAX_LISTED = 10

SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_LAYER_CODES: tuple[tuple[str, LayerKind], ...] = (
    ("YJJBNT", "farmland"),
    ("JBNTBHTB", "farmland"),
    ("永久基本农田", "farmland"),
    ("STBHHX", "redline"),
    ("生态保护红线", "redline"),
    ("CZKFBJ", "urban_boundary"),
    ("城镇开发边界", "urban_boundary"),
)
#: Attribute fields holding a land-use class code or name (三调 DLBM/DLMC, 用地用海分类, 规划地类).
LANDUSE_FIELDS = frozenset(
    {"DLBM", "DLMC", "YDYHFLDM", "YDYHFLMC", "YDYHDM", "YDYHMC", "GHDLBM", "GHDLMC", "GHYDDM", "GHYDMC"}
)
_CPG_CODECS = {
    "65001": "UTF-8",
    "UTF8": "UTF-8",
    "UTF-8": "UTF-8",
    "936": "GBK",
    "CP936": "GBK",
    "GBK": "GBK",
    "GB2312": "GBK",
    "GB18030": "GB18030",
    "54936": "GB18030",
}


class PlanFileError(FileIssuesError):
    """A plan or parcel file that cannot be accepted; each issue names the features it is about."""

    default_code = "plan_file_invalid"


@dataclass(frozen=True)
class VectorRead:
    """A checked vector layer in the storage CRS, with what was found on the way."""

    #: Features in STORAGE_SRID; the index is the feature's 0-based position in the file.
    frame: geopandas.GeoDataFrame
    source_epsg: int | None
    source_crs_name: str
    repaired: int
    dropped_empty: int
    #: Warnings (errors are raised).
    issues: list[Issue]
    layer: str | None = None
    kind: LayerKind | None = None


@dataclass
class _Collector:
    """Collects issues whose messages name the file."""

    label: str
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    def add(
        self,
        code: str,
        text: str,
        features: Iterable[int] = (),
        severity: Literal["error", "warning"] = "error",
    ) -> None:
        """Record an issue about some features (0-based indices)."""
        indices = tuple(int(i) for i in features)
        where = self.label + (f" 要素 {_list_indices(indices)}" if indices else "")
        issue = Issue(code=code, message=f"{where}：{text}", severity=severity, features=indices)
        (self.errors if severity == "error" else self.warnings).append(issue)

    def fail(self, code: str, text: str, features: Iterable[int] = ()) -> PlanFileError:
        """Record an error and return the exception carrying everything so far."""
        self.add(code, text, features)
        return PlanFileError(self.errors, self.warnings)


def _list_indices(indices: tuple[int, ...]) -> str:
    """Spell out feature indices, at most MAX_LISTED of them."""
    shown = "、".join(f"#{i}" for i in indices[:MAX_LISTED])
    return shown + (f" 等 {len(indices)} 个" if len(indices) > MAX_LISTED else "")


def detect_layer_kind(name_or_fields: str | Iterable[str]) -> LayerKind | None:
    """Recognise a plan layer from its layer/file name (YJJBNTBHTB, STBHHX, CZKFBJ) or its fields.

    A string is read as a layer or file name (case-insensitive substring; a bare land-use field name
    such as ``DLBM`` also counts); an iterable as field names, where a land-use class field gives
    ``"landuse"``.
    """
    names = [name_or_fields] if isinstance(name_or_fields, str) else [str(n) for n in name_or_fields]
    upper = [name.upper() for name in names]
    for code, kind in _LAYER_CODES:
        if any(code in name for name in upper):
            return kind
    if any(name.strip() in LANDUSE_FIELDS for name in upper):
        return "landuse"
    return None


_CJK_RE = re.compile(r"[\u4e00-\u9fff]")


def mojibake_suggestion(text: str) -> tuple[str, str | None] | None:
    """Return (likely encoding, repaired text or None) when ``text`` looks like mis-decoded Chinese."""
    if "\ufffd" in text:
        return "GBK", None
    if not any(ord(ch) > 127 for ch in text) or _CJK_RE.search(text):
        return None
    raw = bytearray()
    for ch in text:
        try:
            raw += ch.encode("cp1252")
        except UnicodeEncodeError:
            if ord(ch) > 255:
                return None
            raw.append(ord(ch))
    for encoding in ("UTF-8", "GBK"):
        try:
            decoded = bytes(raw).decode(encoding)
        except UnicodeDecodeError:
            continue
        non_ascii = [ch for ch in decoded if ord(ch) > 127]
        cjk = _CJK_RE.findall(decoded)
        if len(cjk) >= 2 and len(cjk) >= 0.8 * len(non_ascii):
            return encoding, decoded
    return None


def _garbled_text(what: str, value: str, encoding: str, fixed: str | None, used: str) -> str:
    """Explain one kind of mojibake and what to do about it."""
    if fixed is None:
        return (
            f"{what}含替换字符 �（如「{value}」，按 {used} 读取）："
            f"像是 {encoding} 编码的文字被当作 UTF-8 读取；"
            f"请按 {encoding} 编码读取源数据（encoding='{encoding}' 或 .cpg 写 {encoding}）后重新导出。"
        )
    return (
        f"{what}像是乱码（如「{value}」，原文应为「{fixed}」："
        f"{encoding} 编码的文字被错当作 Latin-1/cp1252 解读）；"
        f"请按 {encoding} 编码读取源数据（encoding='{encoding}' 或 .cpg 写 {encoding}）后重新导出。"
    )


def _check_text(frame: geopandas.GeoDataFrame, used: str, col: _Collector) -> None:
    """Report field names and string values that look like mojibake (``encoding_mismatch``)."""
    for name in frame.columns:
        if name == frame.geometry.name:
            continue
        found = mojibake_suggestion(str(name))
        if found:
            col.add("encoding_mismatch", _garbled_text("字段名", str(name), *found, used))
        series = frame[name]
        if not (is_string_dtype(series.dtype) or is_object_dtype(series.dtype)):
            continue
        bad: list[int] = []
        sample: tuple[str, str, str | None] | None = None
        for index, value in series.items():
            if not isinstance(value, str):
                continue
            found = mojibake_suggestion(value)
            if found:
                bad.append(int(index))
                sample = sample or (value, *found)
        if sample:
            col.add("encoding_mismatch", _garbled_text(f"字段 {name} 的文字", *sample, used), bad)


def _ring_problems(geometry: Any) -> Iterator[str]:
    """Yield a description of every unclosed or too short ring of a GeoJSON geometry mapping."""
    if not isinstance(geometry, dict):
        return
    gtype = geometry.get("type")
    coords = geometry.get("coordinates")
    if gtype == "Polygon":
        polygons = [coords]
    elif gtype == "MultiPolygon":
        polygons = coords if isinstance(coords, list) else []
    elif gtype == "GeometryCollection":
        for member in geometry.get("geometries") or []:
            yield from _ring_problems(member)
        return
    else:
        return
    for part, polygon in enumerate(polygons or []):
        for number, ring in enumerate(polygon or []):
            if not isinstance(ring, list) or not ring:
                continue
            which = ("外环" if number == 0 else f"第 {number} 个内环") + (
                f"（第 {part + 1} 部分）" if len(polygons) > 1 else ""
            )
            if ring[0] != ring[-1]:
                yield f"{which}未闭合（最后一个点应与第一个点相同）"
            elif len(ring) < 4:
                yield f"{which}只有 {len(ring)} 个点，至少需要 4 个"


def _precheck_geojson(path: Path, col: _Collector) -> None:
    """Check a GeoJSON's bytes: UTF-8, parseable, and every polygon ring closed (GDAL would refuse)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            data.decode("gbk")
        except UnicodeDecodeError:
            raise col.fail(
                "encoding_mismatch", "GeoJSON 不是 UTF-8 编码，无法读取；请另存为 UTF-8。"
            ) from None
        raise col.fail(
            "encoding_mismatch", "GeoJSON 应为 UTF-8 编码，此文件似乎是 GBK 编码；请另存为 UTF-8。"
        ) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise col.fail(
            "file_unreadable", f"不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）。"
        ) from None
    if isinstance(document, dict) and document.get("type") == "FeatureCollection":
        geometries = [
            f.get("geometry") if isinstance(f, dict) else None for f in document.get("features") or []
        ]
    elif isinstance(document, dict) and document.get("type") == "Feature":
        geometries = [document.get("geometry")]
    else:
        geometries = [document]
    for index, geometry in enumerate(geometries):
        for problem in _ring_problems(geometry):
            col.add("ring_unclosed", f"面的{problem}。", [index])
    if col.errors:
        raise PlanFileError(col.errors, col.warnings)


def _zip_member_name(info: zipfile.ZipInfo) -> str:
    """Return a zip member's name, re-decoding GBK names stored without the UTF-8 flag."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _extract_shapefile(path: Path, layer: str | None, workdir: Path, col: _Collector) -> tuple[Path, str]:
    """Unpack one shapefile (chosen by ``layer`` when several) from a zip; return (.shp path, layer name)."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise col.fail("file_unreadable", "不是有效的 zip 文件。") from None
    with archive:
        members = [
            (info, _zip_member_name(info))
            for info in archive.infolist()
            if not info.is_dir() and not info.filename.startswith("__MACOSX/")
        ]
        if sum(info.file_size for info, _ in members) > MAX_ZIP_BYTES:
            raise col.fail("zip_too_large", f"zip 解压后超过 {MAX_ZIP_BYTES >> 20} MB。")
        shps = {Path(name).stem: (info, name) for info, name in members if name.lower().endswith(".shp")}
        if not shps:
            names = "、".join(name for _, name in members[:MAX_LISTED]) or "（空）"
            raise col.fail(
                "zip_without_shp",
                f"zip 中没有 .shp 文件（内含：{names}）；Shapefile 需 .shp、.shx、.dbf 和 .prj 一起打包。",
            )
        if layer is not None:
            matches = [stem for stem in shps if stem.lower() == layer.lower()]
            if not matches:
                raise col.fail("layer_not_found", f"zip 中没有图层 {layer}，可选：{'、'.join(shps)}。")
            stem = matches[0]
        elif len(shps) == 1:
            stem = next(iter(shps))
        else:
            raise col.fail("layer_required", f"zip 中有多个 Shapefile，请指定图层：{'、'.join(shps)}。")
        shp_name = shps[stem][1]
        base = shp_name[: -len(".shp")].lower()
        found: set[str] = set()
        for info, name in members:
            lowered = name.lower()
            for suffix in SHAPEFILE_PARTS:
                if lowered == base + suffix:
                    (workdir / f"layer{suffix}").write_bytes(archive.read(info))
                    found.add(suffix)
        missing = [suffix for suffix in (".shx", ".dbf") if suffix not in found]
        if missing:
            raise col.fail("shapefile_incomplete", f"Shapefile {stem} 缺少 {'、'.join(missing)} 文件。")
    return workdir / "layer.shp", stem


def _sidecar(shp: Path, suffix: str) -> Path | None:
    """Find a shapefile sidecar (``.cpg``, ``.prj``) regardless of the suffix's case."""
    for candidate in shp.parent.glob(shp.stem + ".*"):
        if candidate.suffix.lower() == suffix:
            return candidate
    return None


def _read_shapefile(shp: Path, encoding: str | None, col: _Collector) -> tuple[geopandas.GeoDataFrame, str]:
    """Read a shapefile honouring ``encoding``, else its .cpg, else UTF-8 falling back to GBK."""
    cpg = _sidecar(shp, ".cpg")
    if encoding:
        candidates, origin = [encoding], "参数 encoding"
    elif cpg is not None:
        declared = cpg.read_text(encoding="ascii", errors="replace").strip()
        candidates, origin = [_CPG_CODECS.get(declared.upper(), declared)], f".cpg（{declared}）"
    else:
        candidates, origin = ["UTF-8", "GBK"], "自动识别"
    for position, candidate in enumerate(candidates):
        try:
            frame = pyogrio.read_dataframe(shp, encoding=candidate)
        except UnicodeDecodeError:
            continue
        except LookupError:
            raise col.fail("encoding_unknown", f"不认识的编码「{candidate}」（来自{origin}）。") from None
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            raise col.fail("file_unreadable", f"无法读取 Shapefile：{exc}") from None
        if position > 0:
            col.add(
                "encoding_guessed",
                f"缺少 .cpg 文件，属性不是 UTF-8，已按 {candidate} 读取；请核对文字是否正确。",
                severity="warning",
            )
        return frame, candidate
    other = "UTF-8" if candidates[-1].upper() not in ("UTF-8", "UTF8") else "GBK"
    raise col.fail(
        "encoding_mismatch",
        f"属性文字无法按 {'、'.join(candidates)}（{origin}）解码；文件可能是 {other} 编码，"
        f"请检查 .cpg 文件或指定 encoding='{other}'。",
    )


def _read_frame(
    path: Path, layer: str | None, encoding: str | None, col: _Collector, workdir: Path
) -> tuple[geopandas.GeoDataFrame, str | None, str]:
    """Read the file into a GeoDataFrame in its own CRS; return (frame, layer name, encoding used)."""
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        _precheck_geojson(path, col)
        return _read_with_pyogrio(path, None, col), path.stem, "UTF-8"
    if suffix == ".gpkg":
        try:
            layers = [str(name) for name, gtype in pyogrio.list_layers(path) if gtype is not None]
        except pyogrio.errors.DataSourceError as exc:
            raise col.fail("file_unreadable", f"无法打开 GeoPackage：{exc}") from None
        if layer is None:
            if len(layers) != 1:
                raise col.fail(
                    "layer_required",
                    f"GeoPackage 中有 {len(layers)} 个空间图层，"
                    f"请指定图层：{'、'.join(layers) or '（无）'}。",
                )
            layer = layers[0]
        elif layer not in layers:
            raise col.fail("layer_not_found", f"GeoPackage 中没有图层 {layer}，可选：{'、'.join(layers)}。")
        return _read_with_pyogrio(path, layer, col), layer, "UTF-8"
    if suffix == ".zip":
        shp, name = _extract_shapefile(path, layer, workdir, col)
        frame, used = _read_shapefile(shp, encoding, col)
        return frame, name, used
    if suffix == ".shp":
        frame, used = _read_shapefile(path, encoding, col)
        return frame, path.stem, used
    raise col.fail(
        "format_unsupported", "只支持 GeoJSON（.geojson/.json）、GeoPackage（.gpkg）和 zip 打包的 Shapefile。"
    )


def _read_with_pyogrio(path: Path, layer: str | None, col: _Collector) -> geopandas.GeoDataFrame:
    """Read a GeoJSON/GeoPackage layer, turning GDAL errors into ``file_unreadable``."""
    try:
        return pyogrio.read_dataframe(path, layer=layer)
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        shapely.errors.GEOSException,
    ) as exc:
        raise col.fail("file_unreadable", f"无法读取：{exc}") from None


def _tm_parameters(crs: CRS) -> tuple[float, float] | None:
    """Return (central meridian, false easting) of a Transverse Mercator CRS, else None."""
    operation = crs.coordinate_operation
    if operation is None or "transverse mercator" not in operation.method_name.lower():
        return None
    params = {param.name.lower(): param.value for param in operation.params}
    central = params.get("longitude of natural origin")
    false_easting = params.get("false easting")
    if central is None or false_easting is None:
        return None
    return float(central), float(false_easting)


def _describe_metres(x: float, y: float) -> str:
    """Say what kind of GK coordinates (x, y) look like, naming the fitting EPSG code."""
    zone = prefixed_zone(x)
    if zone is not None:
        return f"像带带号的 3 度带高斯-克吕格坐标（第 {zone} 带，EPSG:{gk3_srid(zone, with_prefix=True)}）"
    if EASTING_RANGE[0] <= x <= EASTING_RANGE[1] and NORTHING_RANGE[0] <= y <= NORTHING_RANGE[1]:
        return f"像不带带号的 3 度带高斯-克吕格坐标（清水县为 EPSG:{AREA_SRID}）"
    return "像投影坐标（米）"


def _check_crs(frame: geopandas.GeoDataFrame, crs: CRS, col: _Collector) -> None:
    """Check that the declared CRS agrees with the coordinates, reporting each kind of mismatch once."""
    geoms = frame.geometry
    present = ~(geoms.isna() | geoms.is_empty)
    if not present.any():
        return
    bounds = geoms[present].bounds
    centre_x = (bounds["minx"] + bounds["maxx"]) / 2
    centre_y = (bounds["miny"] + bounds["maxy"]) / 2
    min_lon, min_lat, max_lon, max_lat = load_county().bounds
    margin = EXTENT_MARGIN_DEG

    def in_county(lon: float, lat: float) -> bool:
        return min_lon - margin <= lon <= max_lon + margin and min_lat - margin <= lat <= max_lat + margin

    county_lon = (min_lon + max_lon) / 2
    found: dict[str, list[int]] = {}
    sample: dict[str, tuple[float, float]] = {}

    def note(code: str, index: Any, x: float, y: float) -> None:
        found.setdefault(code, []).append(int(index))
        sample.setdefault(code, (x, y))

    if crs.is_geographic:
        for index, x, y, b in zip(
            centre_x.index, centre_x, centre_y, bounds.itertuples(index=False), strict=True
        ):
            if not in_county(x, y) and in_county(y, x):
                note("crs_axis_swapped", index, x, y)
            elif max(abs(b.minx), abs(b.maxx)) > 180 or max(abs(b.miny), abs(b.maxy)) > 90:
                note("crs_mismatch_projected_as_degrees", index, x, y)
        if "crs_mismatch_projected_as_degrees" in found:
            x, y = sample["crs_mismatch_projected_as_degrees"]
            col.add(
                "crs_mismatch_projected_as_degrees",
                f"坐标系 {crs.name} 是经纬度（度），但坐标如 ({x:.3f}, {y:.3f}) 超出经纬度范围，"
                f"{_describe_metres(x, y)}；请为文件设置正确的投影坐标系。",
                found["crs_mismatch_projected_as_degrees"],
            )
        if "crs_axis_swapped" in found:
            x, y = sample["crs_axis_swapped"]
            col.add(
                "crs_axis_swapped",
                f"坐标 ({x:.6f}, {y:.6f}) 的经纬度似乎颠倒了：应先经度（约 106）后纬度（约 34.7）。",
                found["crs_axis_swapped"],
            )
        return
    tm = _tm_parameters(crs)
    if tm is None:
        return  # another projection (UTM, Web Mercator, ...): trusted as declared
    central, false_easting = tm
    crs_zone = int(false_easting // 1_000_000) if false_easting >= 1_000_000 else None
    county_zone = gk3_zone_for_longitude(county_lon)
    declared = Transformer.from_crs(crs, CRS.from_epsg(STORAGE_SRID), always_xy=True)
    for index, x, y in zip(centre_x.index, centre_x, centre_y, strict=True):
        data_zone = prefixed_zone(x)
        plain = EASTING_RANGE[0] <= x <= EASTING_RANGE[1]
        if (
            NORTHING_RANGE[0] <= x <= NORTHING_RANGE[1]
            and not plain
            and (prefixed_zone(y) is not None or EASTING_RANGE[0] <= y <= EASTING_RANGE[1])
        ):
            note("crs_axis_swapped", index, x, y)
        elif (crs_zone is not None and plain) or (crs_zone is None and data_zone is not None):
            note("crs_zone_prefix_mismatch", index, x, y)
        elif data_zone is not None and abs(3 * data_zone - central) > ZONE_TOLERANCE_DEG:
            note("crs_zone_mismatch", index, x, y)
        elif plain and abs(central - county_lon) > ZONE_TOLERANCE_DEG:
            lon, lat = declared.transform(x, y)
            home = reproject(shapely.Point(x, y), gk3_srid(county_zone, with_prefix=False), STORAGE_SRID)
            if not in_county(lon, lat) and in_county(home.x, home.y):
                note("crs_zone_mismatch", index, x, y)
    if "crs_axis_swapped" in found:
        x, y = sample["crs_axis_swapped"]
        col.add(
            "crs_axis_swapped",
            f"坐标 ({x:.3f}, {y:.3f}) 的 X、Y 似乎颠倒了：在 {crs.name} 中"
            "应先东向坐标（横坐标）后北向坐标（约 3,800,000）。",
            found["crs_axis_swapped"],
        )
    if "crs_zone_prefix_mismatch" in found:
        x, y = sample["crs_zone_prefix_mismatch"]
        if crs_zone is not None:
            text = (
                f"坐标系 {crs.name} 的东坐标带带号 {crs_zone}（假东 {false_easting:.0f}），"
                f"但坐标如 ({x:.3f}, {y:.3f}) "
                f"不带带号；应改用不带带号的坐标系 EPSG:{gk3_srid(crs_zone, with_prefix=False)}。"
            )
        else:
            zone = prefixed_zone(x) or county_zone
            text = (
                f"坐标如 ({x:.3f}, {y:.3f}) 的东坐标带带号 {zone}，但坐标系 {crs.name} 不带带号；"
                f"应改用 EPSG:{gk3_srid(zone, with_prefix=True)}。"
            )
        col.add("crs_zone_prefix_mismatch", text, found["crs_zone_prefix_mismatch"])
    if "crs_zone_mismatch" in found:
        x, y = sample["crs_zone_mismatch"]
        zone = prefixed_zone(x) or county_zone
        suggested = gk3_srid(zone, with_prefix=prefixed_zone(x) is not None)
        col.add(
            "crs_zone_mismatch",
            f"坐标系 {crs.name} 的中央经线为 {central:g}°，与数据所在的第 {zone} 带（中央经线 {3 * zone}°）"
            f"相差超过 {ZONE_TOLERANCE_DEG:g}°；请改用 EPSG:{suggested}。",
            found["crs_zone_mismatch"],
        )


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """Keep only the polygonal parts of a geometry (a Polygon, a MultiPolygon or an empty Polygon)."""
    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    parts: list[Polygon] = []
    for part in getattr(geometry, "geoms", []):
        if isinstance(part, Polygon):
            parts.append(part)
        elif isinstance(part, MultiPolygon):
            parts.extend(part.geoms)
    if not parts:
        return Polygon()
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _repair(frame: geopandas.GeoDataFrame, col: _Collector) -> int:
    """Repair invalid geometries with make_valid (polygonal parts only for polygon layers); count them."""
    geoms = frame.geometry.values
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    types = set(shapely.get_type_id(geoms[present]).tolist())
    polygon_layer = bool(types) and types <= {3, 6}  # Polygon, MultiPolygon
    invalid = present & ~shapely.is_valid(geoms)
    repaired: list[int] = []
    reasons: list[str] = []
    unrepairable: list[int] = []
    new = np.array(geoms, dtype=object)
    for position in np.flatnonzero(invalid):
        geometry = geoms[position]
        fixed = shapely.make_valid(geometry)
        if polygon_layer:
            fixed = _polygonal(fixed)
        index = int(frame.index[position])
        if fixed.is_empty:
            unrepairable.append(index)
            continue
        new[position] = fixed
        repaired.append(index)
        if len(reasons) < 3:
            reasons.append(f"#{index} {explain_validity(geometry)}")
    if unrepairable:
        col.add("geometry_invalid", "几何无效且修复后不剩面状部分（如面积为零的面），请修正。", unrepairable)
    if repaired:
        frame.set_geometry(geopandas.GeoSeries(new, index=frame.index, crs=frame.crs), inplace=True)
        col.add(
            "geometry_repaired",
            f"无效几何已用 make_valid 修复（{'；'.join(reasons)}），请核对修复结果。",
            repaired,
            severity="warning",
        )
    return len(repaired)


def read_vector_file(
    path: Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    assume_epsg: int | None = None,
    drop_empty: bool = False,
) -> VectorRead:
    """Read a GeoJSON, GeoPackage or zipped Shapefile, check it, and return it in the storage CRS.

    ``layer`` picks a GeoPackage layer or a shapefile in the zip (by name without ``.shp``);
    ``encoding`` forces the Shapefile attribute encoding (else the .cpg, else UTF-8 then GBK);
    ``assume_epsg`` is used when the file declares no CRS; ``drop_empty`` drops empty geometries instead
    of refusing them.  Geometries are made 2D; invalid ones are repaired and counted.
    """
    path = Path(path)
    col = _Collector(label=path.name)
    if not path.is_file():
        raise col.fail("file_not_found", "文件不存在。")
    with tempfile.TemporaryDirectory(prefix="sitewatch-plan-") as tmp:
        frame, layer_name, used = _read_frame(path, layer, encoding, col, Path(tmp))
    if layer_name and layer_name != path.stem:
        col.label = f"{path.name}（图层 {layer_name}）"
    _check_text(frame, used, col)
    geoms = frame.geometry
    empty = geoms.isna() | geoms.is_empty
    dropped = 0
    if empty.any():
        indices = [int(i) for i in frame.index[empty]]
        if drop_empty:
            frame = frame[~empty]
            dropped = len(indices)
            col.add("geometry_empty_dropped", f"已丢弃 {dropped} 个空几何要素。", indices, severity="warning")
        else:
            col.add("geometry_empty", f"有 {len(indices)} 个要素的几何为空，请补全或删除这些要素。", indices)
    source_crs: CRS | None = frame.crs
    if source_crs is None:
        if assume_epsg is None:
            col.add(
                "crs_missing", "文件没有声明坐标系（Shapefile 缺少 .prj？），无法确定坐标含义；请补充坐标系。"
            )
        else:
            source_crs = CRS.from_epsg(assume_epsg)
            frame = frame.set_crs(source_crs)
            col.add("crs_assumed", f"文件没有声明坐标系，按 EPSG:{assume_epsg} 处理。", severity="warning")
    if source_crs is not None:
        _check_crs(frame, source_crs, col)
    if col.errors:
        raise PlanFileError(col.errors, col.warnings)
    assert source_crs is not None
    frame = frame.set_geometry(frame.geometry.force_2d())
    frame = frame.to_crs(epsg=STORAGE_SRID)
    coords = shapely.get_coordinates(frame.geometry.values)
    if coords.size and not np.isfinite(coords).all():
        raise col.fail(
            "crs_transform_failed", f"从 {source_crs.name} 转换到 CGCS2000 经纬度失败（坐标超出投影范围）。"
        )
    repaired = _repair(frame, col)
    if col.errors:
        raise PlanFileError(col.errors, col.warnings)
    min_lon, min_lat, max_lon, max_lat = load_county().bounds
    if len(frame):
        fminx, fminy, fmaxx, fmaxy = frame.total_bounds
        margin = EXTENT_MARGIN_DEG
        if (
            fmaxx < min_lon - margin
            or fminx > max_lon + margin
            or fmaxy < min_lat - margin
            or fminy > max_lat + margin
        ):
            col.add(
                "outside_county",
                f"数据范围（经度 {fminx:.3f}-{fmaxx:.3f}，纬度 {fminy:.3f}-{fmaxy:.3f}）"
                "不在清水县附近，请核对坐标系。",
                severity="warning",
            )
    kind = (
        detect_layer_kind(layer_name or "")
        or detect_layer_kind(path.name)
        or detect_layer_kind([str(c) for c in frame.columns])
    )
    return VectorRead(
        frame=frame,
        source_epsg=source_crs.to_epsg(),
        source_crs_name=source_crs.name,
        repaired=repaired,
        dropped_empty=dropped,
        issues=col.warnings,
        layer=layer_name,
        kind=kind,
    )
