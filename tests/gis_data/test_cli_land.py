"""Tests of the ``land`` CLI sub-app (read-txt) with typer's CliRunner; no database."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gis_data.crs import AREA_SRID
from server.cli_land import land_app
from tests.gis_data.test_boundary_txt import PARCEL_1, PARCEL_2, PROJECT_INFO, gbk_crlf, make_txt

runner = CliRunner()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "界址点.txt"
    path.write_bytes(gbk_crlf(text))
    return path


def test_read_txt_json_prints_one_object_per_parcel(tmp_path: Path) -> None:
    """--json prints one JSON object per parcel with areas, zone and warnings."""
    path = write(tmp_path, make_txt(PARCEL_1, PARCEL_2.replace("2.0000", "2.2000", 1), extra=PROJECT_INFO))
    result = runner.invoke(land_app, ["read-txt", str(path), "--json"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == ["QS-2024-001", "QS-2024-002"]
    first, second = records
    assert set(first) == {
        "id",
        "name",
        "zone",
        "epsg",
        "rings",
        "point_count",
        "area_m2",
        "ellipsoidal_area_m2",
        "declared_area_ha",
        "area_diff_m2",
        "warnings",
    }
    assert first["name"] == "工业园区一号地块" and first["zone"] == 35 and first["epsg"] == AREA_SRID
    assert (first["rings"], first["point_count"], first["area_m2"]) == (2, 10, 97500.0)
    assert first["declared_area_ha"] == 9.75 and first["area_diff_m2"] == 0.0 and first["warnings"] == []
    assert 0 < first["area_m2"] - first["ellipsoidal_area_m2"] < 50
    assert second["area_diff_m2"] == -2000.0
    (warning,) = second["warnings"]
    assert warning["code"] == "area_mismatch" and warning["line"] == 28 and "第 28 行" in warning["message"]


def test_read_txt_table(tmp_path: Path) -> None:
    """Without --json a table lists the parcels."""
    path = write(tmp_path, make_txt(PARCEL_1, PARCEL_2))
    result = runner.invoke(land_app, ["read-txt", str(path)])
    assert result.exit_code == 0, result.output
    assert "QS-2024-001" in result.stdout and "QS-2024-002" in result.stdout
    assert "97,500.00" in result.stdout


def test_read_txt_errors_go_to_stderr_with_exit_1(tmp_path: Path) -> None:
    """Errors are printed to stderr, one per line with code and line, and the exit code is 1."""
    text = make_txt(PARCEL_2.replace("J2,1,3848100.000,35601000.000", "J2,1,3848100.000"), zone="34")
    path = write(tmp_path, text)
    result = runner.invoke(land_app, ["read-txt", str(path), "--json"])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert any(line.startswith("error malformed_line line 15:") for line in lines)
    assert any(line.startswith("error zone_mismatch line 14:") for line in lines)


def test_file_level_warnings_go_to_stderr(tmp_path: Path) -> None:
    """A 西安80 file reads, its warning printed to stderr, the JSON on stdout unaffected."""
    path = write(tmp_path, make_txt(PARCEL_2).replace("2000国家大地坐标系", "1980西安坐标系"))
    result = runner.invoke(land_app, ["read-txt", str(path), "--json"])
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 1
    assert "warning crs_not_cgcs2000 line 5:" in result.stderr


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    """A missing file is refused by typer before reading."""
    result = runner.invoke(land_app, ["read-txt", str(tmp_path / "none.txt")])
    assert result.exit_code == 2
