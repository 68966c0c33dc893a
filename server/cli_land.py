"""The ``sitewatch land`` commands: land-bureau files checked offline, without a database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gis_data.boundary_txt import BoundaryParcel, BoundaryTxtError, Issue, read_boundary_txt_file

land_app = typer.Typer(
    help="Land (用地): read and check boundary-point coordinate TXT files (部标格式) offline.",
    no_args_is_help=True,
    add_completion=False,
)


@land_app.callback()
def land() -> None:
    """Land-bureau files (部标格式界址点坐标 TXT), checked without a database."""


def _parcel_record(parcel: BoundaryParcel) -> dict[str, object]:
    """One parcel as the JSON object printed by ``read-txt --json``."""
    return {
        "id": parcel.parcel_id,
        "name": parcel.name,
        "zone": parcel.zone,
        "epsg": parcel.epsg,
        "rings": parcel.rings,
        "point_count": parcel.point_count,
        "area_m2": round(parcel.area_m2, 3),
        "ellipsoidal_area_m2": round(parcel.ellipsoidal_area_m2, 3),
        "declared_area_ha": parcel.declared_area_ha,
        "area_diff_m2": None if parcel.area_diff_m2 is None else round(parcel.area_diff_m2, 3),
        "warnings": [warning.as_dict() for warning in parcel.warnings],
    }


def _print_issues(console: Console, label: str, issues: list[Issue]) -> None:
    """Print issues as ``label code line N: message`` lines."""
    for issue in issues:
        where = f" line {issue.line}" if issue.line is not None else ""
        console.print(f"{label} {issue.code}{where}: {issue.message}", markup=False, highlight=False)


def _fmt(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


@land_app.command("read-txt")
def read_txt(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="The boundary TXT (GBK or UTF-8)."),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per parcel per line instead of a table.")
    ] = False,
) -> None:
    """Read and check a boundary-point coordinate TXT; print its parcels (errors go to stderr, exit 1).

    File-level warnings (e.g. the 坐标系 is not CGCS2000) go to stderr; parcel warnings are printed
    with each parcel.
    """
    out = Console(soft_wrap=True)
    if not out.is_terminal:
        out = Console(soft_wrap=True, width=200)  # piped or captured: do not squeeze the table to 80 columns
    err = Console(stderr=True, soft_wrap=True)
    try:
        result = read_boundary_txt_file(file)
    except BoundaryTxtError as exc:
        _print_issues(err, "error", exc.issues)
        _print_issues(err, "warning", exc.warnings)
        raise typer.Exit(1) from None
    _print_issues(err, "warning", result.warnings)
    if as_json:
        for parcel in result.parcels:
            typer.echo(json.dumps(_parcel_record(parcel), ensure_ascii=False))
        return
    table = Table(title=f"{file.name}：{len(result.parcels)} 个地块（带号 {result.zone}）")
    for column in (
        "编号",
        "名称",
        "带号",
        "EPSG",
        "环",
        "点",
        "平面面积 m²",
        "椭球面积 m²",
        "申报 公顷",
        "面积差 m²",
    ):
        table.add_column(column, justify="left" if column in ("编号", "名称") else "right")
    table.add_column("警告")
    for parcel in result.parcels:
        table.add_row(
            parcel.parcel_id,
            parcel.name,
            str(parcel.zone),
            str(parcel.epsg),
            str(parcel.rings),
            str(parcel.point_count),
            _fmt(parcel.area_m2, 2),
            _fmt(parcel.ellipsoidal_area_m2, 2),
            _fmt(parcel.declared_area_ha, 4),
            _fmt(parcel.area_diff_m2, 2),
            "\n".join(f"{w.code}: {w.message}" for w in parcel.warnings),
        )
    out.print(table)
