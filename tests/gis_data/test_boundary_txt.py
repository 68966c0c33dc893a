"""Tests of the boundary-point coordinate TXT (部标格式) reader and writer; no database."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from gis_data.boundary_txt import (
    BoundaryTxtError,
    ParcelForExport,
    read_boundary_txt,
    read_boundary_txt_file,
    write_boundary_txt,
)
from gis_data.crs import AREA_SRID, STORAGE_SRID, gk3_srid, planar_area_m2, reproject
from gis_data.reference_layers import load_county

ATTRIBUTES = """[属性描述]
格式版本号=1.01版本
数据产生单位=清水县自然资源局
数据产生日期=2024-3-15
坐标系=2000国家大地坐标系
几度分带=3
投影类型=高斯克吕格
计量单位=米
带号={zone}
精度=0.001
转换参数=,,,,,,
"""

PROJECT_INFO = """[项目信息]
项目名称=清水县工业园区基础设施项目
 建设单位 = 清水县工业园区管委会

"""

# Parcel 1: 400 m x 250 m with a 50 m x 50 m hole (9.75 ha); parcel 2: 200 m x 100 m (2 ha).
PARCEL_1 = """10,9.7500,QS-2024-001,工业园区一号地块,面,I48G001,工业用地,1001,@
J1,1,3847000.000,35600000.000
J2,1,3847250.000,35600000.000
J3,1,3847250.000,35600400.000
J4,1,3847000.000,35600400.000
J1,1,3847000.000,35600000.000
J5,2,3847100.000,35600100.000
J6,2,3847150.000,35600100.000
J7,2,3847150.000,35600150.000
J8,2,3847100.000,35600150.000
J5,2,3847100.000,35600100.000
"""
PARCEL_2 = """5,2.0000,QS-2024-002,工业园区二号地块,面,I48G001,仓储用地,1101,@
J1,1,3848000.000,35601000.000
J2,1,3848100.000,35601000.000
J3,1,3848100.000,35601200.000
J4,1,3848000.000,35601200.000
J1,1,3848000.000,35601000.000
"""


def make_txt(*parcels: str, zone: str = "35", extra: str = "", attributes: str | None = None) -> str:
    """Assemble a TXT (LF line endings) from the attribute block and parcel blocks."""
    head = ATTRIBUTES.format(zone=zone) if attributes is None else attributes
    return head + extra + "[地块坐标]\n" + "".join(parcels)


def gbk_crlf(text: str) -> bytes:
    """Encode as the bureau's tools do: GBK with CRLF."""
    return text.replace("\n", "\r\n").encode("gbk")


def read_errors(text: str | bytes) -> list:
    """Read a TXT expected to fail and return its errors."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    with pytest.raises(BoundaryTxtError) as info:
        read_boundary_txt(data, source="测试.txt")
    return info.value.issues


def codes(issues: list) -> list[str]:
    return [issue.code for issue in issues]


def test_two_parcels_gbk_crlf_with_hole_and_extra_section(tmp_path: Path) -> None:
    """A GBK/CRLF file with a [项目信息] section and two parcels, one with a hole, reads cleanly."""
    path = tmp_path / "界址点.txt"
    path.write_bytes(gbk_crlf(make_txt(PARCEL_1, PARCEL_2, extra=PROJECT_INFO)))
    result = read_boundary_txt_file(path)
    assert result.source == str(path)
    assert result.zone == 35
    assert result.attributes["坐标系"] == "2000国家大地坐标系"
    assert result.attributes["精度"] == "0.001"
    assert result.warnings == []
    first, second = result.parcels
    assert (first.index, first.parcel_id, first.name, first.kind) == (
        0,
        "QS-2024-001",
        "工业园区一号地块",
        "面",
    )
    assert (first.sheet, first.use, first.land_class) == ("I48G001", "工业用地", "1001")
    assert first.line == 17
    assert first.zone == 35 and first.epsg == AREA_SRID == gk3_srid(35, with_prefix=False)
    assert first.rings == 2 and first.point_count == 10 and first.declared_point_count == 10
    assert isinstance(first.geometry, Polygon) and len(first.geometry.interiors) == 1
    assert first.geometry.bounds == (600000.0, 3847000.0, 600400.0, 3847250.0)
    assert first.area_m2 == pytest.approx(97_500.0)
    assert first.declared_area_ha == 9.75 and first.area_diff_m2 == pytest.approx(0.0, abs=1e-6)
    assert first.warnings == []
    # The hole is wound like the shell in the file: it must still be deducted from the ellipsoidal area.
    assert first.geometry.exterior.is_ccw == first.geometry.interiors[0].is_ccw
    assert 0 < first.area_m2 - first.ellipsoidal_area_m2 < 0.0005 * first.area_m2
    assert second.rings == 1 and second.area_m2 == pytest.approx(20_000.0)
    lonlat = first.to_storage()
    assert load_county().contains(lonlat)
    assert planar_area_m2(lonlat, STORAGE_SRID) == pytest.approx(97_500.0, rel=1e-7)


def test_eastings_without_prefix_take_the_zone_from_the_header() -> None:
    """Eastings without the zone prefix give the same geometry, the zone coming from 带号."""
    plain = PARCEL_1.replace(",35600", ",600")
    prefixed = read_boundary_txt(make_txt(PARCEL_1).encode()).parcels[0]
    parcel = read_boundary_txt(make_txt(plain).encode()).parcels[0]
    assert parcel.zone == 35 and parcel.epsg == AREA_SRID
    assert parcel.geometry.equals_exact(prefixed.geometry, tolerance=0)


def test_utf8_with_bom_and_lf() -> None:
    """A UTF-8 file (with BOM, LF endings) decodes as UTF-8, names intact."""
    result = read_boundary_txt(b"\xef\xbb\xbf" + make_txt(PARCEL_2).encode("utf-8"))
    assert result.parcels[0].name == "工业园区二号地块"
    assert result.parcels[0].use == "仓储用地"


def test_keys_with_spaces_and_lenient_header() -> None:
    """Attribute keys with spaces are normalised; a header with fewer fields still parses."""
    attributes = "[属性描述]\n 坐标系 = 2000国家大地坐标系\n带 号 = 35\n"
    header = "5,2.0000,QS-9,短地块@,\n"
    result = read_boundary_txt(make_txt(header + PARCEL_2.split("\n", 1)[1], attributes=attributes).encode())
    assert result.attributes["带号"] == "35"
    parcel = result.parcels[0]
    assert (parcel.parcel_id, parcel.name, parcel.kind, parcel.use, parcel.land_class) == (
        "QS-9",
        "短地块",
        "",
        "",
        "",
    )


def test_zone_mismatch_is_an_error_naming_the_line() -> None:
    """带号=34 with eastings prefixed 35 is refused at the first point's line."""
    issues = read_errors(make_txt(PARCEL_2, zone="34"))
    assert codes(issues) == ["zone_mismatch"]
    assert issues[0].line == 14
    assert "测试.txt 第 14 行" in issues[0].message and "34" in issues[0].message


def test_zone_unknown_without_prefix_and_header() -> None:
    """Eastings without prefix and no 带号 cannot be placed."""
    text = make_txt(PARCEL_2.replace(",35601", ",601"), zone="")
    assert codes(read_errors(text)) == ["zone_unknown"]


def test_mixed_prefixed_and_plain_eastings() -> None:
    """A parcel mixing prefixed and unprefixed eastings is refused."""
    text = make_txt(PARCEL_2.replace("3848100.000,35601000.000", "3848100.000,601000.000"))
    assert codes(read_errors(text)) == ["easting_prefix_mixed"]


def test_point_count_mismatch_is_a_warning() -> None:
    """A wrong declared point count is a warning on the parcel, not an error."""
    result = read_boundary_txt(make_txt(PARCEL_2.replace("5,2.0000", "7,2.0000", 1)).encode())
    (warning,) = result.parcels[0].warnings
    assert warning.code == "point_count_mismatch" and warning.severity == "warning"
    assert warning.line == 13 and "7" in warning.message


def test_point_count_without_closing_points_is_accepted() -> None:
    """Counting the points without the ring-closing repeats is accepted too."""
    result = read_boundary_txt(make_txt(PARCEL_1.replace("10,9.7500", "8,9.7500", 1)).encode())
    assert result.parcels[0].warnings == []


def test_area_mismatch_warning_reports_the_difference() -> None:
    """A declared area off by 0.2 ha warns; area_diff_m2 is computed minus declared."""
    result = read_boundary_txt(make_txt(PARCEL_2.replace("2.0000", "2.2000", 1)).encode())
    parcel = result.parcels[0]
    assert parcel.area_diff_m2 == pytest.approx(-2000.0)
    assert codes(parcel.warnings) == ["area_mismatch"]
    assert "-2000.00" in parcel.warnings[0].message


def test_small_area_difference_is_tolerated_but_reported() -> None:
    """A 0.0050 ha difference (50 m2 < 100 m2) is no warning, but the difference is on the parcel."""
    parcel = read_boundary_txt(make_txt(PARCEL_2.replace("2.0000", "2.0050", 1)).encode()).parcels[0]
    assert parcel.warnings == []
    assert parcel.area_diff_m2 == pytest.approx(-50.0)


def test_area_in_mu_gets_a_hint() -> None:
    """An area declared in mu (30 mu = 2 ha) is flagged with a unit hint."""
    parcel = read_boundary_txt(make_txt(PARCEL_2.replace("2.0000", "30.0000", 1)).encode()).parcels[0]
    assert codes(parcel.warnings) == ["area_mismatch"]
    assert "亩" in parcel.warnings[0].message


def test_malformed_lines_are_all_reported_with_line_numbers() -> None:
    """Every malformed line is reported, each with its own line number."""
    text = make_txt(
        PARCEL_2.replace("J2,1,3848100.000,35601000.000", "J2,1,3848100.000").replace(
            "J3,1,3848100.000,35601200.000", "J3,1,3848100.000,35601x200.000"
        )
    )
    issues = read_errors(text)
    malformed = [issue for issue in issues if issue.code == "malformed_line"]
    assert [issue.line for issue in malformed] == [15, 16]
    assert "第 15 行" in malformed[0].message and "4 个字段" in malformed[0].message
    assert "不是数值" in malformed[1].message


def test_unclosed_ring() -> None:
    """A ring that does not repeat its first point is refused."""
    text = make_txt("\n".join(PARCEL_2.splitlines()[:-1]) + "\n")
    issues = read_errors(text)
    assert codes(issues) == ["ring_unclosed"]
    assert issues[0].line == 17


def test_ring_with_too_few_points() -> None:
    """A closed ring of three point lines is refused."""
    text = make_txt(
        "3,0.0000,X,三点,面,,,,@\nJ1,1,3848000.000,35601000.000\nJ2,1,3848100.000,35601000.000\n"
        "J1,1,3848000.000,35601000.000\n"
    )
    assert codes(read_errors(text)) == ["ring_too_few_points"]


def test_axis_swapped() -> None:
    """X holding the (prefixed) easting and Y the northing is refused as swapped."""
    lines = []
    for line in PARCEL_2.splitlines():
        if not line.endswith("@"):
            name, ring, x, y = line.split(",")
            line = ",".join([name, ring, y, x])
        lines.append(line)
    issues = read_errors(make_txt("\n".join(lines) + "\n"))
    assert codes(issues) == ["axis_swapped"]
    assert issues[0].line == 14


def test_coordinates_outside_china() -> None:
    """Coordinates that cannot be 3-degree GK coordinates in China are refused."""
    text = make_txt(PARCEL_2.replace("3848", "9848"))
    assert codes(read_errors(text)) == ["coordinate_out_of_china"]


def test_self_intersection_is_invalid() -> None:
    """A bow-tie parcel is refused with shapely's explanation."""
    text = make_txt(
        PARCEL_2.replace("J3,1,3848100.000,35601200.000", "J3,1,3848000.000,35601200.000").replace(
            "J4,1,3848000.000,35601200.000", "J4,1,3848100.000,35601200.000"
        )
    )
    issues = read_errors(text)
    assert codes(issues) == ["geometry_invalid"]
    assert "Self-intersection" in issues[0].message


def test_point_before_parcel_and_no_parcels() -> None:
    """Point lines before any header are errors, and a file without parcels says so."""
    text = make_txt("J1,1,3848000.000,35601000.000\n")
    assert codes(read_errors(text)) == ["point_before_parcel", "no_parcels"]
    assert codes(read_errors(ATTRIBUTES.format(zone=35))) == ["no_parcels"]


def test_all_errors_of_several_parcels_are_collected() -> None:
    """Errors in two parcels are both reported, sorted by line."""
    text = make_txt(
        PARCEL_1.replace("J5,2,3847100.000,35600100.000\n", "", 2), PARCEL_2.replace("3848100.000", "x", 1)
    )
    issues = read_errors(text)
    assert codes(issues) == ["ring_unclosed", "malformed_line"]
    assert issues[0].line < issues[1].line


def test_xian80_is_a_warning() -> None:
    """A 西安80 file is read with a crs_not_cgcs2000 warning."""
    text = make_txt(PARCEL_2).replace("2000国家大地坐标系", "1980西安坐标系")
    result = read_boundary_txt(text.encode("gbk"))
    assert codes(result.warnings) == ["crs_not_cgcs2000"]
    assert result.warnings[0].line == 5
    assert codes(result.all_warnings()) == ["crs_not_cgcs2000"]


def test_six_degree_zones_are_refused() -> None:
    """Only 3-degree zones are supported."""
    text = make_txt(PARCEL_2).replace("几度分带=3", "几度分带=6")
    assert codes(read_errors(text)) == ["zone_width_unsupported"]


def test_ellipsoidal_area_is_slightly_below_planar() -> None:
    """A 10 ha square near 106.3 E: planar GK area is 0.01-0.05 % above the ellipsoidal one."""
    centre = reproject(shapely.Point(106.3, 34.7), STORAGE_SRID, AREA_SRID)
    side = 316.227766
    square = box(centre.x, centre.y, centre.x + side, centre.y + side)
    lonlat = reproject(square, AREA_SRID, STORAGE_SRID)
    data = write_boundary_txt([ParcelForExport("E1", "椭球面积", lonlat)])
    parcel = read_boundary_txt(data).parcels[0]
    assert parcel.area_m2 == pytest.approx(100_000.0, abs=0.5)
    excess = (parcel.area_m2 - parcel.ellipsoidal_area_m2) / parcel.ellipsoidal_area_m2
    assert 0.0001 < excess < 0.0005


def storage_polygon_with_hole() -> Polygon:
    """A parcel with a hole near 清水县城, in lon/lat."""
    shell = box(600000.0, 3847000.0, 600400.0, 3847250.0)
    hole = box(600100.0, 3847100.0, 600150.0, 3847150.0)
    return reproject(shell.difference(hole), AREA_SRID, STORAGE_SRID)


def test_writer_round_trip() -> None:
    """Write then read gives the same geometry within 0.001 m and no warnings or errors."""
    polygon = storage_polygon_with_hole()
    multi = MultiPolygon(
        [
            reproject(box(601000.0, 3848000.0, 601200.0, 3848100.0), AREA_SRID, STORAGE_SRID),
            reproject(box(601300.0, 3848000.0, 601350.5, 3848123.25), AREA_SRID, STORAGE_SRID),
        ]
    )
    exports = [
        ParcelForExport("QS-1", "一号地块", polygon, use="工业用地", land_class="1001"),
        ParcelForExport("QS-2", "二号地块", multi, use="仓储用地", land_class="1101"),
    ]
    data = write_boundary_txt(exports, date=datetime.date(2024, 3, 5))
    result = read_boundary_txt(data, source="roundtrip.txt")
    assert result.zone == 35 and result.all_warnings() == []
    assert result.attributes["数据产生日期"] == "2024-3-5"
    assert result.attributes["带号"] == "35"
    assert [p.parcel_id for p in result.parcels] == ["QS-1", "QS-2-1", "QS-2-2"]
    assert [p.rings for p in result.parcels] == [2, 1, 1]
    originals = [polygon, *multi.geoms]
    for parcel, original in zip(result.parcels, originals, strict=True):
        expected = reproject(original, STORAGE_SRID, parcel.epsg)
        assert shapely.hausdorff_distance(parcel.geometry, expected) <= 0.001
        assert len(parcel.geometry.interiors) == len(expected.interiors)
        assert len(parcel.geometry.exterior.coords) == len(expected.exterior.coords)
        back = reproject(parcel.to_storage(), STORAGE_SRID, parcel.epsg)
        assert shapely.hausdorff_distance(back, expected) <= 0.001
        assert abs(parcel.area_diff_m2) < 1.0
    assert result.parcels[0].use == "工业用地" and result.parcels[2].land_class == "1101"


def test_writer_bytes_are_gbk_crlf_with_prefixed_eastings() -> None:
    """The writer's bytes are GBK with CRLF, the header block as specified, eastings prefixed."""
    data = write_boundary_txt([ParcelForExport("QS-1", "一号,地块", storage_polygon_with_hole())])
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("gbk")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")
    assert lines[:2] == ["[属性描述]", "格式版本号=1.01版本"]
    for expected in (
        "坐标系=2000国家大地坐标系",
        "几度分带=3",
        "投影类型=高斯克吕格",
        "计量单位=米",
        "带号=35",
    ):
        assert expected in lines
    assert "转换参数=,,,,,," in lines and "[地块坐标]" in lines
    header = lines[lines.index("[地块坐标]") + 1]
    assert header == "10,9.7500,QS-1,一号，地块,面,,,,@"
    first_point = lines[lines.index("[地块坐标]") + 2]
    name, ring, northing, easting = first_point.split(",")
    assert (name, ring) == ("J1", "1")
    assert easting.startswith("35") and len(easting.split(".")[1]) == 3
    assert 3_000_000 < float(northing) < 4_000_000


def test_writer_outer_ring_is_clockwise() -> None:
    """Whatever the input orientation, the outer ring is written clockwise and holes counter-clockwise."""
    polygon = shapely.orient_polygons(storage_polygon_with_hole(), exterior_cw=False)
    parcel = read_boundary_txt(write_boundary_txt([ParcelForExport("A", "甲", polygon)])).parcels[0]
    assert not parcel.geometry.exterior.is_ccw
    assert parcel.geometry.interiors[0].is_ccw


def test_writer_refuses_text_outside_gbk() -> None:
    """Names that GBK cannot encode are refused with a clear code."""
    with pytest.raises(BoundaryTxtError) as info:
        write_boundary_txt([ParcelForExport("A", "地块😀", storage_polygon_with_hole())])
    assert info.value.code == "encoding_unsupported"
