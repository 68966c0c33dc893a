"""Project lists as CSV (one row per project, site as WKT), converting to and from GeoJSON features.

CSV is written UTF-8 with a byte-order mark so that Excel opens the Chinese text correctly; on
reading, UTF-8 (with or without BOM) and GBK are accepted.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import shapely
from shapely import wkt
from shapely.geometry import mapping, shape

COLUMNS = [
    "code",
    "name",
    "category",
    "industry",
    "township",
    "lead_unit",
    "legal_person_unit",
    "responsible_units",
    "leader",
    "leader_name",
    "content",
    "total_investment_yuan",
    "annual_plan_yuan",
    "threshold_exemption",
    "planned_start",
    "list_year",
    "energy_tce",
    "status",
    "list_tier",
    "energy_review_level",
    "site_wkt",
]
NUMERIC = {"total_investment_yuan", "annual_plan_yuan", "energy_tce"}
INTEGER = {"list_year"}
LIST_SEPARATOR = "|"


class TableProblem(ValueError):
    """A CSV that cannot be read, with the line it failed on."""

    def __init__(self, code: str, message: str, line: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line


def features_to_csv(features: list[dict[str, Any]]) -> str:
    """Render GeoJSON project features as CSV text (WKT keeps full double precision)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    for feature in features:
        props = dict(feature.get("properties") or {})
        props["responsible_units"] = LIST_SEPARATOR.join(props.get("responsible_units") or [])
        geometry = feature.get("geometry")
        props["site_wkt"] = shapely.to_wkt(shape(geometry), rounding_precision=-1) if geometry else ""
        writer.writerow({k: "" if props.get(k) is None else props.get(k) for k in COLUMNS})
    return out.getvalue()


def decode_table(data: bytes) -> str:
    """Decode CSV bytes: UTF-8 (with or without BOM), else GBK."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gbk")
        except UnicodeDecodeError as exc:
            raise TableProblem("csv_encoding", "CSV 文件既不是 UTF-8 也不是 GBK 编码。") from exc


def _number(text: str, column: str, line: int) -> float | int | None:
    if text == "":
        return None
    try:
        value = float(text.replace(",", ""))
    except ValueError as exc:
        raise TableProblem("csv_value", f"第 {line} 行 {column} 应为数字：{text!r}", line) from exc
    return int(value) if value.is_integer() else value


def csv_to_features(text: str) -> list[dict[str, Any]]:
    """Read CSV text into GeoJSON project features; raises TableProblem naming the line."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"code", "name", "township"} - set(reader.fieldnames or [])
    if missing:
        raise TableProblem("csv_columns", f"CSV 缺少列：{sorted(missing)}", 1)
    features = []
    for line, row in enumerate(reader, start=2):
        props: dict[str, Any] = {}
        for column, raw in row.items():
            if column is None or column == "site_wkt":
                continue
            value = (raw or "").strip()
            if column in NUMERIC:
                props[column] = _number(value, column, line)
            elif column in INTEGER:
                number = _number(value, column, line)
                props[column] = int(number) if number is not None else None
            elif column == "responsible_units":
                props[column] = [v.strip() for v in value.split(LIST_SEPARATOR) if v.strip()]
            else:
                props[column] = value or None
        geometry = None
        site = (row.get("site_wkt") or "").strip()
        if site:
            try:
                geometry = mapping(wkt.loads(site))
            except shapely.errors.GEOSException as exc:
                raise TableProblem(
                    "csv_geometry", f"第 {line} 行 site_wkt 不是合法的 WKT：{exc}", line
                ) from exc
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return features
