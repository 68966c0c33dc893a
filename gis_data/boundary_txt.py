"""The national boundary-point coordinate TXT (部标格式, 界址点坐标交换格式): read, check and write it.

Pure functions: no database.  A file holds an ``[属性描述]`` block (坐标系, 带号, ...) and a ``[地块坐标]``
block of parcels: a header line ending in ``@`` (point count, area in hectares, id, name, kind, sheet,
use, land-class code) followed by point lines ``J1,1,3846512.123,35412345.678`` (name, ring number,
X = northing, Y = easting with or without the two-digit zone prefix).

Geometries of the parsed parcels are in the CGCS2000 3-degree Gauss-Kruger CRS of their zone WITHOUT the
zone prefix (``crs.gk3_srid(zone, with_prefix=False)``, ``crs.AREA_SRID`` for zone 35): x = easting with
the prefix stripped, y = northing.  Every problem found is an :class:`Issue` with a stable code and a
Chinese message naming the file and line; errors are raised together in one :class:`BoundaryTxtError`,
warnings are returned on the result.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import shapely
from shapely.geometry import LinearRing, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from gis_data.crs import (
    SQUARE_METRES_PER_HECTARE,
    SQUARE_METRES_PER_MU,
    STORAGE_SRID,
    ellipsoidal_area_m2,
    gk3_srid,
    gk3_zone_for_longitude,
    reproject,
)

ATTRIBUTES_SECTION = "属性描述"
COORDINATES_SECTION = "地块坐标"

#: Northings (X) that can lie in China: about 3 N to 54 N.
NORTHING_RANGE = (300_000.0, 6_100_000.0)
#: Eastings within a 3-degree zone, without prefix (the zone is ~330-670 km; some slack for overlap).
EASTING_RANGE = (200_000.0, 800_000.0)
#: 3-degree zone numbers that cover China (CM 75 E to 135 E).
ZONE_RANGE = (25, 45)
#: Declared and computed area may differ by this fraction ...
AREA_TOLERANCE_RATIO = 0.005
#: ... or by this many square metres (0.01 ha), whichever is larger.
AREA_TOLERANCE_M2 = 100.0
#: Two coordinates closer than this (metres) are the same point (rings must repeat their first point).
CLOSE_TOLERANCE_M = 1e-6

_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_INT_RE = re.compile(r"^\d+$")
_SECTION_RE = re.compile(r"^[\[【]\s*(.+?)\s*[\]】]$")


@dataclass(frozen=True)
class Issue:
    """One problem found in a file: a stable snake_case code, a Chinese message and where it is."""

    code: str
    message: str
    line: int | None = None
    severity: Literal["error", "warning"] = "error"
    #: Feature indices (0-based) the issue is about, for vector files; empty for the TXT.
    features: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """Return the issue as a JSON-friendly mapping (code, message, line)."""
        return {"code": self.code, "message": self.message, "line": self.line}


class FileIssuesError(ValueError):
    """A file that cannot be accepted; ``issues`` lists every error found, ``warnings`` the rest."""

    #: Code used when no issue carries one.
    default_code = "file_invalid"

    def __init__(self, issues: list[Issue], warnings: list[Issue] | None = None):
        super().__init__("\n".join(issue.message for issue in issues))
        self.issues = issues
        self.warnings = warnings or []

    @property
    def code(self) -> str:
        """Return the code of the first error."""
        return self.issues[0].code if self.issues else self.default_code


class BoundaryTxtError(FileIssuesError):
    """A boundary TXT that cannot be accepted; each issue names its line."""

    default_code = "boundary_txt_invalid"


@dataclass(frozen=True)
class BoundaryParcel:
    """One parcel of a boundary TXT, checked, with its geometry in the zone's GK CRS without prefix."""

    index: int
    parcel_id: str
    name: str
    kind: str
    sheet: str
    use: str
    land_class: str
    declared_point_count: int | None
    declared_area_ha: float | None
    zone: int
    epsg: int
    #: Polygon or MultiPolygon in ``epsg`` (x = easting without zone prefix, y = northing).
    geometry: BaseGeometry
    rings: int
    #: Number of point lines, closing repeats included.
    point_count: int
    #: Planar area in ``epsg`` (Gauss-Kruger), square metres.
    area_m2: float
    #: Ellipsoidal area (椭球面积) on CGCS2000, square metres.
    ellipsoidal_area_m2: float
    #: Planar area minus declared area in square metres; None when no area was declared.
    area_diff_m2: float | None
    warnings: list[Issue]
    #: Line of the parcel header (1-based).
    line: int

    def to_storage(self) -> BaseGeometry:
        """Return the geometry in the storage CRS (CGCS2000 lon/lat)."""
        return reproject(self.geometry, self.epsg, STORAGE_SRID)


@dataclass(frozen=True)
class BoundaryFile:
    """A parsed boundary TXT: attributes, zone, parcels and the file-level warnings."""

    source: str
    attributes: dict[str, str]
    #: The 带号 of the file, or the zone shared by all parcels when 带号 is missing.
    zone: int | None
    parcels: list[BoundaryParcel]
    #: File-level warnings only; each parcel carries its own.
    warnings: list[Issue]

    def all_warnings(self) -> list[Issue]:
        """Return the file-level warnings followed by every parcel's warnings."""
        result = list(self.warnings)
        for parcel in self.parcels:
            result.extend(parcel.warnings)
        return result


@dataclass(frozen=True)
class ParcelForExport:
    """A parcel to write: id, name, lon/lat geometry in the storage CRS, use and land-class code."""

    parcel_id: str
    name: str
    geometry_lonlat: BaseGeometry
    use: str = ""
    land_class: str = ""


@dataclass
class _Point:
    """One point line as read."""

    line: int
    name: str
    ring: int
    x: float  # northing
    y: float  # easting, as written (maybe with the zone prefix)


@dataclass
class _RawParcel:
    """A parcel header line and the point lines that follow it."""

    line: int
    fields: list[str]
    points: list[_Point] = field(default_factory=list)


@dataclass
class _Ring:
    """A run of points of one ring."""

    number: int
    points: list[_Point]

    def closed(self) -> bool:
        """True when the last point repeats the first."""
        first, last = self.points[0], self.points[-1]
        return (
            len(self.points) > 1
            and abs(first.x - last.x) <= CLOSE_TOLERANCE_M
            and abs(first.y - last.y) <= CLOSE_TOLERANCE_M
        )


class _Reporter:
    """Collects errors and warnings with messages prefixed by the file and line."""

    def __init__(self, source: str):
        self.source = source
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []

    def where(self, line: int | None) -> str:
        """Return the ``file 第 n 行`` prefix."""
        return f"{self.source} 第 {line} 行" if line is not None else self.source

    def issue(self, code: str, text: str, line: int | None, severity: Literal["error", "warning"]) -> Issue:
        """Build an issue whose message names the file and line."""
        return Issue(code=code, message=f"{self.where(line)}：{text}", line=line, severity=severity)

    def error(self, code: str, text: str, line: int | None = None) -> None:
        """Record an error."""
        self.errors.append(self.issue(code, text, line, "error"))

    def warning(self, code: str, text: str, line: int | None = None) -> Issue:
        """Record a file-level warning and return it."""
        issue = self.issue(code, text, line, "warning")
        self.warnings.append(issue)
        return issue


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode file bytes as UTF-8 (with or without BOM), else GBK/GB18030; return (text, encoding)."""
    for encoding in ("utf-8-sig", "gbk", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, "utf-8" if encoding == "utf-8-sig" else encoding
    raise UnicodeDecodeError("gb18030", data, 0, len(data), "neither UTF-8 nor GBK")


def _is_number(text: str) -> bool:
    return bool(_NUMBER_RE.match(text))


def _split_fields(line: str) -> list[str]:
    """Split a comma-separated line (full-width commas too), dropping trailing empty fields."""
    fields = [part.strip() for part in line.replace("，", ",").split(",")]
    while fields and fields[-1] == "":
        fields.pop()
    return fields


def _is_northing(value: float) -> bool:
    return NORTHING_RANGE[0] <= value <= NORTHING_RANGE[1]


def _is_plain_easting(value: float) -> bool:
    return EASTING_RANGE[0] <= value <= EASTING_RANGE[1]


def prefixed_zone(value: float) -> int | None:
    """Return the zone of an easting carrying a valid 3-degree zone prefix, else None."""
    zone = int(value // 1_000_000)
    if ZONE_RANGE[0] <= zone <= ZONE_RANGE[1] and _is_plain_easting(value - zone * 1_000_000):
        return zone
    return None


def _classify(point: _Point) -> tuple[str, int | None]:
    """Classify a point as ``prefixed`` (with zone), ``plain``, ``swapped`` or ``out_of_range``."""
    if _is_northing(point.x):
        zone = prefixed_zone(point.y)
        if zone is not None:
            return "prefixed", zone
        if _is_plain_easting(point.y):
            return "plain", None
    if _is_northing(point.y) and (prefixed_zone(point.x) is not None or _is_plain_easting(point.x)):
        return "swapped", None
    return "out_of_range", None


def _parse_zone_value(value: str) -> int | None:
    """Parse 带号 like ``35`` or ``35带``; None when it holds no number."""
    match = re.search(r"\d+", value)
    return int(match.group()) if match else None


def _is_parcel_header(text: str) -> bool:
    """A parcel header line ends with ``@`` (maybe followed by commas)."""
    return text.rstrip(", ，").endswith("@")


def _scan(text: str, rep: _Reporter) -> tuple[dict[str, str], dict[str, int], list[_RawParcel], bool]:
    """Split the text into attributes (with their lines) and raw parcels, reporting malformed lines."""
    attributes: dict[str, str] = {}
    attribute_lines: dict[str, int] = {}
    parcels: list[_RawParcel] = []
    section: str | None = None
    saw_coordinates = False
    for number, raw_line in enumerate(text.splitlines(), start=1):
        stripped = raw_line.strip().lstrip("\ufeff")
        if not stripped:
            continue
        match = _SECTION_RE.match(stripped)
        if match:
            section = re.sub(r"\s+", "", match.group(1))
            saw_coordinates = saw_coordinates or section == COORDINATES_SECTION
            continue
        if section == ATTRIBUTES_SECTION:
            if "=" not in stripped:
                rep.warning("attribute_malformed", f"属性行「{stripped}」不是“键=值”形式，已忽略。", number)
                continue
            key, value = stripped.split("=", 1)
            key = re.sub(r"\s+", "", key)
            attributes[key] = value.strip()
            attribute_lines[key] = number
        elif section == COORDINATES_SECTION:
            if _is_parcel_header(stripped):
                fields = _split_fields(stripped.rstrip(", ，")[:-1])  # without the "@"
                if fields and "界址点数" in fields[0]:
                    continue  # a column-title line copied from the standard
                parcels.append(_RawParcel(line=number, fields=fields))
                continue
            _scan_point(stripped, number, parcels, rep)
        # Lines of other sections ([项目信息], ...) and before any section are tolerated.
    return attributes, attribute_lines, parcels, saw_coordinates


def _scan_point(stripped: str, number: int, parcels: list[_RawParcel], rep: _Reporter) -> None:
    """Parse one point line and append it to the current parcel."""
    fields = _split_fields(stripped)
    if len(fields) != 4:
        rep.error(
            "malformed_line",
            f"界址点行应有 4 个字段（点号,圈号,X,Y），实有 {len(fields)} 个：「{stripped}」。"
            "若这是地块行，应以 @ 结尾。",
            number,
        )
        return
    name, ring_text, x_text, y_text = fields
    problems = []
    if not _INT_RE.match(ring_text) or int(ring_text) < 1:
        problems.append(f"圈号「{ring_text}」应为正整数")
    for label, value in (("X", x_text), ("Y", y_text)):
        if not _is_number(value):
            problems.append(f"{label} 坐标「{value}」不是数值")
    if problems:
        rep.error("malformed_line", f"界址点行「{stripped}」有误：{'；'.join(problems)}。", number)
        return
    if not parcels:
        rep.error(
            "point_before_parcel",
            f"界址点行「{stripped}」出现在任何地块行（以 @ 结尾）之前。",
            number,
        )
        return
    x, y = float(x_text), float(y_text)
    if not (math.isfinite(x) and math.isfinite(y)):
        rep.error("malformed_line", f"界址点行「{stripped}」的坐标不是有限数值。", number)
        return
    parcels[-1].points.append(_Point(line=number, name=name, ring=int(ring_text), x=x, y=y))


def _split_rings(points: list[_Point]) -> list[_Ring]:
    """Group points into rings: a new ring starts when the ring number changes or the ring has closed."""
    rings: list[_Ring] = []
    for point in points:
        if rings and rings[-1].number == point.ring and not rings[-1].closed():
            rings[-1].points.append(point)
        else:
            rings.append(_Ring(number=point.ring, points=[point]))
    return rings


def _field(fields: list[str], position: int) -> str:
    return fields[position] if position < len(fields) else ""


def _check_attributes(
    attributes: dict[str, str], lines: dict[str, int], rep: _Reporter
) -> tuple[int | None, bool]:
    """Check the [属性描述] block; return (带号 as int or None, whether 带号 is usable)."""
    crs_name = attributes.get("坐标系", "")
    normalised = crs_name.upper().replace(" ", "")
    if not crs_name:
        rep.warning("crs_not_cgcs2000", "[属性描述] 未声明坐标系，按 2000 国家大地坐标系（CGCS2000）处理。")
    elif "2000" not in normalised:
        rep.warning(
            "crs_not_cgcs2000",
            f"坐标系为「{crs_name}」而非 2000 国家大地坐标系（CGCS2000）；坐标按 CGCS2000 解读，"
            "西安80、北京54 等需先转换，否则会有数十米偏差。",
            lines.get("坐标系"),
        )
    width = attributes.get("几度分带", "")
    if width and _parse_zone_value(width) != 3:
        rep.error(
            "zone_width_unsupported",
            f"几度分带为「{width}」：只支持 3 度分带的高斯-克吕格坐标。",
            lines.get("几度分带"),
        )
    projection = attributes.get("投影类型", "")
    if projection and "高斯" not in projection and "GAUSS" not in projection.upper():
        rep.warning(
            "projection_unexpected",
            f"投影类型为「{projection}」，按高斯-克吕格投影解读。",
            lines.get("投影类型"),
        )
    unit = attributes.get("计量单位", "")
    if unit and unit not in ("米", "m", "M", "metre", "meter"):
        rep.warning("unit_unexpected", f"计量单位为「{unit}」，按米解读。", lines.get("计量单位"))
    zone_text = attributes.get("带号", "")
    if not zone_text:
        return None, True
    zone = _parse_zone_value(zone_text)
    if zone is None or not ZONE_RANGE[0] <= zone <= ZONE_RANGE[1]:
        rep.error(
            "zone_invalid",
            f"带号「{zone_text}」无效：3 度分带在中国范围内为 {ZONE_RANGE[0]}-{ZONE_RANGE[1]}。",
            lines.get("带号"),
        )
        return None, False
    return zone, True


def _parcel_label(raw: _RawParcel, index: int) -> str:
    parcel_id = _field(raw.fields, 2)
    return f"第 {index + 1} 个地块" + (f"（编号 {parcel_id}）" if parcel_id else "")


def _resolve_zone(
    raw: _RawParcel, label: str, header_zone: int | None, zone_usable: bool, rep: _Reporter
) -> int | None:
    """Classify the points and decide the parcel's zone, reporting coordinate problems."""
    kinds: dict[str, list[_Point]] = {}
    zones: dict[int, _Point] = {}
    for point in raw.points:
        kind, zone = _classify(point)
        kinds.setdefault(kind, []).append(point)
        if zone is not None:
            zones.setdefault(zone, point)
    ok = True
    if "swapped" in kinds:
        first = kinds["swapped"][0]
        rep.error(
            "axis_swapped",
            f"{label}有 {len(kinds['swapped'])} 个点的 X、Y 似乎颠倒"
            f"（如 {first.name}：X={first.x}，Y={first.y}）："
            "X 应为纵坐标（北向，约 3,800,000），Y 为横坐标（东向，可带两位带号）。",
            first.line,
        )
        ok = False
    if "out_of_range" in kinds:
        first = kinds["out_of_range"][0]
        rep.error(
            "coordinate_out_of_china",
            f"{label}有 {len(kinds['out_of_range'])} 个点的坐标不可能位于中国境内的 3 度带高斯-克吕格坐标"
            f"（如 {first.name}：X={first.x}，Y={first.y}；X 应在 300,000-6,100,000，"
            "Y 应在 200,000-800,000 或带两位带号 25-45）。",
            first.line,
        )
        ok = False
    if "prefixed" in kinds and "plain" in kinds:
        first_plain = kinds["plain"][0]
        first_prefixed = kinds["prefixed"][0]
        rep.error(
            "easting_prefix_mixed",
            f"{label}的 Y 坐标有的带带号、有的不带（如 {first_prefixed.name}：Y={first_prefixed.y}，"
            f"第 {first_plain.line} 行 {first_plain.name}：Y={first_plain.y}），请统一。",
            first_plain.line,
        )
        ok = False
    if len(zones) > 1:
        listed = "、".join(f"{zone}（第 {point.line} 行）" for zone, point in sorted(zones.items()))
        rep.error("zone_prefix_inconsistent", f"{label}的 Y 坐标带号不一致：{listed}。", raw.line)
        ok = False
    if not ok:
        return None
    if zones:
        zone, first = next(iter(zones.items()))
        if header_zone is not None and zone != header_zone:
            rep.error(
                "zone_mismatch",
                f"{label}的 Y 坐标带号为 {zone}（如 {first.name}：Y={first.y}），"
                f"与 [属性描述] 带号={header_zone} 不符。",
                first.line,
            )
            return None
        return zone
    if header_zone is None:
        if zone_usable:
            rep.error(
                "zone_unknown",
                f"{label}的 Y 坐标不带带号，且 [属性描述] 未给出带号，无法确定投影带。",
                raw.line,
            )
        return None
    return header_zone


def _build_geometry(rings: list[_Ring], label: str, zone: int, rep: _Reporter) -> BaseGeometry | None:
    """Check the rings and build a Polygon/MultiPolygon (x = easting without prefix, y = northing)."""
    ok = True
    offset = zone * 1_000_000
    for ring in rings:
        first, last = ring.points[0], ring.points[-1]
        if not ring.closed():
            rep.error(
                "ring_unclosed",
                f"{label}第 {ring.number} 圈（第 {first.line}-{last.line} 行）未闭合："
                f"最后一个点应重复第一个点 {first.name}（X={first.x}，Y={first.y}）。",
                last.line,
            )
            ok = False
        elif len(ring.points) < 4:
            rep.error(
                "ring_too_few_points",
                f"{label}第 {ring.number} 圈只有 {len(ring.points)} 个点（含闭合点），至少需要 4 个。",
                first.line,
            )
            ok = False
    if not ok:
        return None
    if rings[0].number != 1:
        rep.error(
            "ring_outer_missing",
            f"{label}的第一圈圈号为 {rings[0].number}，应从外圈（圈号 1）开始。",
            rings[0].points[0].line,
        )
        return None

    def coords(ring: _Ring) -> list[tuple[float, float]]:
        return [(p.y - offset if p.y >= 1_000_000 else p.y, p.x) for p in ring.points]

    outers: list[tuple[list[tuple[float, float]], list[list[tuple[float, float]]]]] = []
    for ring in rings:
        if ring.number == 1:
            outers.append((coords(ring), []))
            continue
        hole = coords(ring)
        probe = Polygon(hole).representative_point() if LinearRing(hole).is_valid else None
        target = outers[-1]
        if probe is not None:
            for shell, holes in outers:
                if Polygon(shell).contains(probe):
                    target = (shell, holes)
                    break
        target[1].append(hole)
    polygons = [Polygon(shell, holes) for shell, holes in outers]
    geometry: BaseGeometry = polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
    if not geometry.is_valid:
        rep.error(
            "geometry_invalid",
            f"{label}的界址线无效（{explain_validity(geometry)}）：边界不能自相交，内圈须在外圈之内且互不重叠。",
            rings[0].points[0].line,
        )
        return None
    return geometry


def _area_hint(declared_m2: float, area_m2: float) -> str:
    """Suggest a unit mix-up when the declared area fits mu or square metres."""
    if declared_m2 <= 0:
        return ""
    as_mu = declared_m2 / SQUARE_METRES_PER_HECTARE * SQUARE_METRES_PER_MU
    as_m2 = declared_m2 / SQUARE_METRES_PER_HECTARE
    for value, unit in ((as_mu, "亩"), (as_m2, "平方米")):
        if abs(value - area_m2) <= max(AREA_TOLERANCE_RATIO * area_m2, 1.0):
            return f"申报面积似乎以{unit}为单位，而部标格式要求公顷。"
    return ""


def _build_parcel(
    raw: _RawParcel, index: int, header_zone: int | None, zone_usable: bool, rep: _Reporter
) -> BoundaryParcel | None:
    """Check one raw parcel and build it; None when it has errors (already reported)."""
    label = _parcel_label(raw, index)
    fields = raw.fields
    warnings: list[Issue] = []
    declared_count: int | None = None
    declared_area: float | None = None
    count_text, area_text = _field(fields, 0), _field(fields, 1)
    header_ok = True
    if count_text:
        if _INT_RE.match(count_text):
            declared_count = int(count_text)
        else:
            rep.error("malformed_line", f"{label}的界址点数「{count_text}」不是整数。", raw.line)
            header_ok = False
    if area_text:
        if _is_number(area_text):
            declared_area = float(area_text)
        else:
            rep.error("malformed_line", f"{label}的地块面积「{area_text}」不是数值（单位公顷）。", raw.line)
            header_ok = False
    if not raw.points:
        rep.error("parcel_without_points", f"{label}没有界址点行。", raw.line)
        return None
    zone = _resolve_zone(raw, label, header_zone, zone_usable, rep)
    if zone is None:
        return None
    rings = _split_rings(raw.points)
    geometry = _build_geometry(rings, label, zone, rep)
    if geometry is None or not header_ok:
        return None
    kind = _field(fields, 4)
    if kind and kind != "面":
        warnings.append(
            rep.issue("kind_not_polygon", f"{label}的图形属性为「{kind}」，按面读取。", raw.line, "warning")
        )
    point_count = len(raw.points)
    if declared_count is not None and declared_count not in (point_count, point_count - len(rings)):
        warnings.append(
            rep.issue(
                "point_count_mismatch",
                f"{label}声明界址点数 {declared_count}，实有 {point_count} 个点行"
                f"（不含闭合点 {point_count - len(rings)} 个）。",
                raw.line,
                "warning",
            )
        )
    epsg = gk3_srid(zone, with_prefix=False)
    area_m2 = float(geometry.area)
    area_diff: float | None = None
    if declared_area is not None:
        declared_m2 = declared_area * SQUARE_METRES_PER_HECTARE
        area_diff = area_m2 - declared_m2
        tolerance = max(AREA_TOLERANCE_RATIO * max(area_m2, declared_m2), AREA_TOLERANCE_M2)
        if abs(area_diff) > tolerance:
            warnings.append(
                rep.issue(
                    "area_mismatch",
                    f"{label}申报面积 {declared_area:.4f} 公顷，按坐标计算的平面面积为 "
                    f"{area_m2 / SQUARE_METRES_PER_HECTARE:.4f} 公顷，"
                    f"相差 {area_diff:+.2f} 平方米（允许 {tolerance:.0f} 平方米）。"
                    + _area_hint(declared_m2, area_m2),
                    raw.line,
                    "warning",
                )
            )
    return BoundaryParcel(
        index=index,
        parcel_id=_field(fields, 2),
        name=_field(fields, 3),
        kind=kind,
        sheet=_field(fields, 5),
        use=_field(fields, 6),
        land_class=_field(fields, 7),
        declared_point_count=declared_count,
        declared_area_ha=declared_area,
        zone=zone,
        epsg=epsg,
        geometry=geometry,
        rings=len(rings),
        point_count=point_count,
        area_m2=area_m2,
        # Oriented copy: pyproj's Geod adds signed ring areas, so a hole wound like its shell would count.
        ellipsoidal_area_m2=ellipsoidal_area_m2(shapely.orient_polygons(geometry), epsg),
        area_diff_m2=area_diff,
        warnings=warnings,
        line=raw.line,
    )


def read_boundary_txt(data: bytes, *, source: str = "<bytes>") -> BoundaryFile:
    """Read and check a boundary TXT from bytes (UTF-8 with/without BOM, else GBK; CRLF or LF).

    Raises :class:`BoundaryTxtError` listing every error; warnings are returned on the result.
    """
    rep = _Reporter(source)
    try:
        text, _encoding = decode_text(data)
    except UnicodeDecodeError:
        rep.error("encoding_unknown", "文件既不是 UTF-8 也不是 GBK 编码，无法读取。")
        raise BoundaryTxtError(rep.errors) from None
    attributes, attribute_lines, raw_parcels, saw_coordinates = _scan(text, rep)
    header_zone, zone_usable = _check_attributes(attributes, attribute_lines, rep)
    parcels: list[BoundaryParcel] = []
    for index, raw in enumerate(raw_parcels):
        parcel = _build_parcel(raw, index, header_zone, zone_usable, rep)
        if parcel is not None:
            parcels.append(parcel)
    if not raw_parcels:
        missing = "" if saw_coordinates else "缺少 [地块坐标] 节；"
        rep.error("no_parcels", f"{missing}文件中没有地块（地块行以 @ 结尾）。")
    if rep.errors:
        errors = sorted(rep.errors, key=lambda issue: (issue.line is None, issue.line or 0))
        raise BoundaryTxtError(errors, rep.warnings)
    zones = {parcel.zone for parcel in parcels}
    zone = header_zone if header_zone is not None else (zones.pop() if len(zones) == 1 else None)
    return BoundaryFile(
        source=source, attributes=attributes, zone=zone, parcels=parcels, warnings=rep.warnings
    )


def read_boundary_txt_file(path: str | Path) -> BoundaryFile:
    """Read and check a boundary TXT file from disk (the path is used as the source in messages)."""
    return read_boundary_txt(Path(path).read_bytes(), source=str(path))


def _clean_field(value: str) -> str:
    """Make a header field safe for the comma-separated, ``@``-terminated line."""
    return " ".join(value.replace(",", "，").replace("@", "＠").split())


def _polygon_parts(item: ParcelForExport) -> list[tuple[str, Polygon]]:
    """Split a parcel into (id, polygon) entries: MultiPolygon parts become ``id-1``, ``id-2``, ..."""
    geom = item.geometry_lonlat
    if isinstance(geom, Polygon):
        parts = [geom]
    elif isinstance(geom, MultiPolygon):
        parts = list(geom.geoms)
    else:
        raise ValueError(f"parcel {item.parcel_id!r}: expected Polygon/MultiPolygon, got {geom.geom_type}")
    parts = [part for part in parts if not part.is_empty]
    if not parts:
        raise ValueError(f"parcel {item.parcel_id!r} has an empty geometry")
    if len(parts) == 1:
        return [(item.parcel_id, parts[0])]
    return [(f"{item.parcel_id}-{number}", part) for number, part in enumerate(parts, start=1)]


def write_boundary_txt(
    parcels: list[ParcelForExport],
    *,
    zone: int | None = None,
    producer: str = "清水县自然资源局",
    date: datetime.date | None = None,
) -> bytes:
    """Write parcels as a boundary TXT: GBK, CRLF, CGCS2000 3-degree GK eastings WITH zone prefix.

    The zone defaults to the one of the parcels' overall centre longitude.  Each polygon part of a
    MultiPolygon is written as its own parcel entry with id suffix ``-1``, ``-2``, ...  Outer rings are
    written clockwise and holes (圈号 2, 3, ...) counter-clockwise, each starting at its first vertex as
    given; points are numbered J1, J2, ... continuously within a parcel and every ring repeats its first
    point.  The area is the planar GK area in hectares (4 decimals); coordinates have 3 decimals.
    """
    if not parcels:
        raise ValueError("no parcels to write")
    entries = [(item, part_id, polygon) for item in parcels for part_id, polygon in _polygon_parts(item)]
    if zone is None:
        min_lon = min(polygon.bounds[0] for _, _, polygon in entries)
        max_lon = max(polygon.bounds[2] for _, _, polygon in entries)
        zone = gk3_zone_for_longitude((min_lon + max_lon) / 2)
    srid = gk3_srid(zone, with_prefix=True)
    day = date or datetime.date.today()
    lines = [
        f"[{ATTRIBUTES_SECTION}]",
        "格式版本号=1.01版本",
        f"数据产生单位={producer}",
        f"数据产生日期={day.year}-{day.month}-{day.day}",
        "坐标系=2000国家大地坐标系",
        "几度分带=3",
        "投影类型=高斯克吕格",
        "计量单位=米",
        f"带号={zone}",
        "精度=0.001",
        "转换参数=,,,,,,",
        f"[{COORDINATES_SECTION}]",
    ]
    for item, part_id, polygon in entries:
        projected = shapely.orient_polygons(reproject(polygon, STORAGE_SRID, srid), exterior_cw=True)
        rings = [projected.exterior, *projected.interiors]
        point_lines: list[str] = []
        counter = 0
        for ring_number, ring in enumerate(rings, start=1):
            coords = list(ring.coords)[:-1]
            first_line = ""
            for position, (easting, northing) in enumerate(coords):
                counter += 1
                body = f"{northing:.3f},{easting:.3f}"
                point_lines.append(f"J{counter},{ring_number},{body}")
                if position == 0:
                    first_line = point_lines[-1]
            point_lines.append(first_line)  # close the ring with its first point (same name and text)
        area_ha = projected.area / SQUARE_METRES_PER_HECTARE
        header = [
            str(len(point_lines)),
            f"{area_ha:.4f}",
            _clean_field(part_id),
            _clean_field(item.name),
            "面",
            "",
            _clean_field(item.use),
            _clean_field(item.land_class),
            "@",
        ]
        lines.append(",".join(header))
        lines.extend(point_lines)
    text = "\r\n".join(lines) + "\r\n"
    try:
        return text.encode("gbk")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end]
        raise BoundaryTxtError(
            [Issue("encoding_unsupported", f"文字「{bad}」无法用 GBK 编码写入部标格式文件，请改用常用汉字。")]
        ) from exc
