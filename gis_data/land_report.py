"""The land-check report as an Excel workbook (Chinese headers) and the overlap pieces as GeoJSON."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

PARCEL_COLUMNS: list[tuple[str, str, int]] = [
    ("project_code", "项目代码", 26),
    ("project_name", "项目名称", 34),
    ("parcel_code", "地块编号", 14),
    ("parcel_name", "地块名称", 24),
    ("status", "状态", 10),
    ("area_m2", "面积（平方米，平面）", 16),
    ("ellipsoidal_area_m2", "椭球面积（平方米）", 16),
    ("area_mu", "面积（亩）", 12),
    ("area_ha", "面积（公顷）", 12),
    ("farmland_m2", "占永久基本农田（平方米）", 18),
    ("redline_m2", "占生态保护红线（平方米）", 18),
    ("outside_urban_m2", "城镇开发边界外（平方米）", 18),
    ("parcel_overlap_m2", "与其他项目地块重叠（平方米）", 20),
    ("verdict", "核查结论", 12),
    ("reasons", "原因", 60),
    ("edition", "规划版本", 20),
    ("checked_at", "核查时间", 20),
]
OVERLAP_COLUMNS: list[tuple[str, str, int]] = [
    ("parcel_code", "地块编号", 14),
    ("target", "对象类型", 12),
    ("target_ref", "对象", 24),
    ("area_m2", "重叠面积（平方米）", 16),
    ("area_mu", "重叠面积（亩）", 14),
    ("share", "占地块比例", 12),
    ("is_sliver", "碎片（不计冲突）", 14),
]
VERDICT_ZH = {"compliant": "符合规划", "needs_adjustment": "需调整", "blocked": "不能报批"}
_FILLS = {
    "compliant": PatternFill("solid", fgColor="E3F4E1"),
    "needs_adjustment": PatternFill("solid", fgColor="FFF4CE"),
    "blocked": PatternFill("solid", fgColor="FBE0DD"),
}


def _sheet(
    workbook: Workbook, title: str, columns: list[tuple[str, str, int]], rows: Sequence[dict[str, Any]]
):
    sheet = workbook.create_sheet(title)
    sheet.append([label for _, label, _ in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for index, (_, _, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row in rows:
        sheet.append([row.get(key) for key, _, _ in columns])
    sheet.freeze_panes = "A2"
    return sheet


def land_check_workbook(
    parcels: Sequence[dict[str, Any]], overlaps: Sequence[dict[str, Any]], *, title: str
) -> bytes:
    """Render the parcel results and overlap details as .xlsx bytes."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    rows = [{**p, "verdict": VERDICT_ZH.get(str(p.get("verdict")), p.get("verdict"))} for p in parcels]
    sheet = _sheet(workbook, "地块核查结果", PARCEL_COLUMNS, rows)
    verdict_col = [key for key, _, _ in PARCEL_COLUMNS].index("verdict") + 1
    for row_index, parcel in enumerate(parcels, start=2):
        fill = _FILLS.get(str(parcel.get("verdict")))
        if fill is not None:
            sheet.cell(row=row_index, column=verdict_col).fill = fill
    _sheet(
        workbook,
        "重叠明细",
        OVERLAP_COLUMNS,
        [{**o, "is_sliver": "是" if o.get("is_sliver") else "否"} for o in overlaps],
    )
    workbook.properties.title = title
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
