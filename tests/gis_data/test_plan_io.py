"""Tests of reading plan layers and parcel files in the CRS they declare; no database."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import geopandas
import pytest
import shapely
from shapely.geometry import Polygon, box, mapping

from gis_data.crs import AREA_SRID, STORAGE_SRID, WGS84_SRID, gk3_srid, reproject
from gis_data.plan_io import (
    PlanFileError,
    VectorRead,
    detect_layer_kind,
    mojibake_suggestion,
    read_vector_file,
)

#: Two parcels near 清水县城 in lon/lat.
PARCEL_A = box(106.10, 34.74, 106.11, 34.75)
PARCEL_B = box(106.12, 34.74, 106.125, 34.748)
NAMES = ["永久基本农田一号", "耕地图斑二号"]
ZONE_35_PREFIX = gk3_srid(35, with_prefix=True)


def feature_collection(
    geometries: list[dict[str, Any] | None], crs_srid: int | None = None, **props: list
) -> dict:
    """A GeoJSON FeatureCollection with properties given as columns."""
    features = []
    for index, geometry in enumerate(geometries):
        properties = {key: values[index] for key, values in props.items()}
        features.append({"type": "Feature", "properties": properties, "geometry": geometry})
    document: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs_srid is not None:
        document["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{crs_srid}"}}
    return document


def write_geojson(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def frame_in(srid: int, geometries: list, **columns: list) -> geopandas.GeoDataFrame:
    """A GeoDataFrame of storage geometries reprojected into ``srid``."""
    projected = [reproject(g, STORAGE_SRID, srid) if g is not None else None for g in geometries]
    return geopandas.GeoDataFrame(columns, geometry=projected, crs=f"EPSG:{srid}")


def zipped_shapefile(
    tmp_path: Path, frame: geopandas.GeoDataFrame, stem: str, *, drop: tuple[str, ...] = ()
) -> Path:
    """Write ``frame`` as GBK shapefile ``stem`` and zip its parts, leaving out the suffixes in ``drop``."""
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / f"{stem}.shp", encoding="GBK")
    archive = tmp_path / f"{stem}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in sorted(folder.iterdir()):
            if part.suffix.lower() not in drop:
                zf.write(part, arcname=f"{stem}/{part.name}")
    return archive


def assert_same_storage(result: VectorRead, expected: list[Polygon], tolerance: float = 1e-7) -> None:
    """The frame is in the storage CRS and matches the expected lon/lat geometries."""
    assert result.frame.crs.to_epsg() == STORAGE_SRID
    for got, want in zip(result.frame.geometry, expected, strict=True):
        assert shapely.hausdorff_distance(got, want) < tolerance


def raised(path: Path, **kwargs: Any) -> PlanFileError:
    with pytest.raises(PlanFileError) as info:
        read_vector_file(path, **kwargs)
    return info.value


def test_geojson_without_crs_member_is_wgs84(tmp_path: Path) -> None:
    """RFC 7946 GeoJSON (no crs member) is read as WGS84 and stored in CGCS2000."""
    path = write_geojson(
        tmp_path / "parcels.geojson",
        feature_collection([mapping(PARCEL_A), mapping(PARCEL_B)], MC=NAMES),
    )
    result = read_vector_file(path)
    assert result.source_epsg == WGS84_SRID
    assert_same_storage(result, [PARCEL_A, PARCEL_B])
    assert result.frame["MC"].tolist() == NAMES
    assert result.issues == [] and result.repaired == 0 and result.dropped_empty == 0


def test_geojson_in_cgcs2000(tmp_path: Path) -> None:
    """A GeoJSON declaring CGCS2000 keeps its coordinates."""
    path = write_geojson(
        tmp_path / "a.geojson", feature_collection([mapping(PARCEL_A)], STORAGE_SRID, MC=NAMES[:1])
    )
    result = read_vector_file(path)
    assert result.source_epsg == STORAGE_SRID
    assert "2000" in result.source_crs_name
    assert_same_storage(result, [PARCEL_A], tolerance=1e-12)


def test_geopackage_in_gk_zone_35(tmp_path: Path) -> None:
    """A GeoPackage layer in the unprefixed GK zone 35 is transformed to lon/lat; the layer kind is found."""
    path = tmp_path / "delivery.gpkg"
    frame_in(AREA_SRID, [PARCEL_A, PARCEL_B], DLBM=["0101", "0102"]).to_file(path, layer="STBHHX")
    frame_in(STORAGE_SRID, [PARCEL_A], DLBM=["0101"]).to_file(path, layer="CZKFBJ")
    error = raised(path)
    assert error.code == "layer_required" and "STBHHX" in str(error)
    result = read_vector_file(path, layer="STBHHX")
    assert result.source_epsg == AREA_SRID and result.layer == "STBHHX" and result.kind == "redline"
    assert_same_storage(result, [PARCEL_A, PARCEL_B])
    assert raised(path, layer="YJJBNTBHTB").code == "layer_not_found"


def test_zipped_shapefile_with_prefix_gbk_and_cpg(tmp_path: Path) -> None:
    """A zipped shapefile in the prefixed zone-35 CRS with GBK attributes and a .cpg reads correctly."""
    frame = frame_in(ZONE_35_PREFIX, [PARCEL_A, PARCEL_B], MC=NAMES, DLBM=["0101", "0102"])
    archive = zipped_shapefile(tmp_path, frame, "620521YJJBNTBHTB")
    result = read_vector_file(archive)
    assert result.source_epsg == ZONE_35_PREFIX
    assert result.frame["MC"].tolist() == NAMES
    assert result.kind == "farmland" and result.layer == "620521YJJBNTBHTB"
    assert result.issues == []
    assert_same_storage(result, [PARCEL_A, PARCEL_B])


def test_zipped_shapefile_without_cpg_detects_gbk(tmp_path: Path) -> None:
    """Without a .cpg, GBK attributes that do not decode as UTF-8 are read as GBK, with a warning."""
    frame = frame_in(ZONE_35_PREFIX, [PARCEL_A, PARCEL_B], MC=NAMES)
    archive = zipped_shapefile(tmp_path, frame, "parcels", drop=(".cpg",))
    result = read_vector_file(archive)
    assert result.frame["MC"].tolist() == NAMES
    assert [issue.code for issue in result.issues] == ["encoding_guessed"]
    assert result.issues[0].severity == "warning"


def test_wrong_cpg_is_an_encoding_mismatch(tmp_path: Path) -> None:
    """A .cpg saying UTF-8 on GBK attributes is refused, suggesting GBK."""
    frame = frame_in(ZONE_35_PREFIX, [PARCEL_A], MC=NAMES[:1])
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "p.shp", encoding="GBK")
    (folder / "p.cpg").write_text("UTF-8")
    error = raised(folder / "p.shp")
    assert error.code == "encoding_mismatch" and "GBK" in str(error)
    assert read_vector_file(folder / "p.shp", encoding="GBK").frame["MC"].tolist() == NAMES[:1]


def test_zip_without_shp(tmp_path: Path) -> None:
    """A zip holding no .shp is refused with zip_without_shp."""
    archive = tmp_path / "empty.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "no shapefile here")
    error = raised(archive)
    assert error.code == "zip_without_shp"
    assert "empty.zip" in error.issues[0].message and "readme.txt" in error.issues[0].message


def test_missing_crs_unless_assumed(tmp_path: Path) -> None:
    """A shapefile without .prj has no CRS: refused unless the caller assumes one."""
    frame = frame_in(AREA_SRID, [PARCEL_A], MC=NAMES[:1])
    archive = zipped_shapefile(tmp_path, frame, "noprj", drop=(".prj",))
    assert raised(archive).code == "crs_missing"
    result = read_vector_file(archive, assume_epsg=AREA_SRID)
    assert [issue.code for issue in result.issues] == ["crs_assumed"]
    assert_same_storage(result, [PARCEL_A])


def test_gk_metres_labelled_wgs84(tmp_path: Path) -> None:
    """GK metres in a GeoJSON without crs (i.e. WGS84) are refused, naming the likely CRS."""
    metres = reproject(PARCEL_A, STORAGE_SRID, ZONE_35_PREFIX)
    path = write_geojson(tmp_path / "metres.geojson", feature_collection([mapping(metres)]))
    error = raised(path)
    assert error.code == "crs_mismatch_projected_as_degrees"
    assert error.issues[0].features == (0,)
    assert "metres.geojson" in str(error) and f"EPSG:{ZONE_35_PREFIX}" in str(error)


def test_swapped_lat_lon(tmp_path: Path) -> None:
    """Latitude/longitude swapped inside Qingshui's extent is refused."""
    swapped = shapely.transform(PARCEL_A, lambda xy: xy[:, ::-1])
    path = write_geojson(
        tmp_path / "swapped.geojson", feature_collection([mapping(PARCEL_B), mapping(swapped)])
    )
    error = raised(path)
    assert error.code == "crs_axis_swapped"
    assert error.issues[0].features == (1,)
    assert "#1" in str(error)


def test_projected_axes_swapped(tmp_path: Path) -> None:
    """Northing stored as x in a GK layer is refused."""
    gk = reproject(PARCEL_A, STORAGE_SRID, AREA_SRID)
    swapped = shapely.transform(gk, lambda xy: xy[:, ::-1])
    path = tmp_path / "swapped.gpkg"
    geopandas.GeoDataFrame(geometry=[swapped], crs=f"EPSG:{AREA_SRID}").to_file(path)
    assert raised(path).code == "crs_axis_swapped"


def test_zone_prefix_mismatch(tmp_path: Path) -> None:
    """Unprefixed eastings labelled with the prefixed CRS (and vice versa) are refused."""
    plain = reproject(PARCEL_A, STORAGE_SRID, AREA_SRID)
    path = tmp_path / "prefix.gpkg"
    geopandas.GeoDataFrame(geometry=[plain], crs=f"EPSG:{ZONE_35_PREFIX}").to_file(path)
    error = raised(path)
    assert error.code == "crs_zone_prefix_mismatch" and f"EPSG:{AREA_SRID}" in str(error)
    prefixed = reproject(PARCEL_A, STORAGE_SRID, ZONE_35_PREFIX)
    other = tmp_path / "noprefix.gpkg"
    geopandas.GeoDataFrame(geometry=[prefixed], crs=f"EPSG:{AREA_SRID}").to_file(other)
    assert raised(other).code == "crs_zone_prefix_mismatch"


def test_zone_mismatch_cm_102(tmp_path: Path) -> None:
    """Zone-35 metres labelled with the CM 102 E zone (the EPSG trap) are refused."""
    plain = reproject(PARCEL_A, STORAGE_SRID, AREA_SRID)
    path = tmp_path / "zone34.gpkg"
    geopandas.GeoDataFrame(geometry=[plain], crs=f"EPSG:{gk3_srid(34, with_prefix=False)}").to_file(path)
    error = raised(path)
    assert error.code == "crs_zone_mismatch" and f"EPSG:{AREA_SRID}" in str(error)


def test_bowtie_is_repaired_and_counted(tmp_path: Path) -> None:
    """A self-intersecting polygon is repaired into its polygonal parts and counted."""
    x0, y0, x1, y1 = PARCEL_A.bounds
    bowtie = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])
    path = write_geojson(
        tmp_path / "bowtie.geojson", feature_collection([mapping(PARCEL_B), mapping(bowtie)])
    )
    result = read_vector_file(path)
    assert result.repaired == 1
    assert [issue.code for issue in result.issues] == ["geometry_repaired"]
    assert result.issues[0].features == (1,)
    repaired = result.frame.geometry.iloc[1]
    assert repaired.is_valid and repaired.geom_type == "MultiPolygon"
    assert result.frame.geometry.is_valid.all()


def test_empty_geometry_is_an_error_unless_dropped(tmp_path: Path) -> None:
    """Features without geometry are listed by index; drop_empty drops and counts them."""
    path = write_geojson(
        tmp_path / "holes.geojson",
        feature_collection([mapping(PARCEL_A), None, mapping(PARCEL_B)], MC=["a", "b", "c"]),
    )
    error = raised(path)
    assert error.code == "geometry_empty" and error.issues[0].features == (1,)
    assert "holes.geojson 要素 #1" in str(error)
    result = read_vector_file(path, drop_empty=True)
    assert result.dropped_empty == 1
    assert result.frame.index.tolist() == [0, 2] and result.frame["MC"].tolist() == ["a", "c"]


def test_unclosed_ring_in_geojson(tmp_path: Path) -> None:
    """An unclosed GeoJSON ring is refused naming the feature, not silently closed."""
    ring = [list(xy) for xy in PARCEL_A.exterior.coords][:-1]
    geometry = {"type": "Polygon", "coordinates": [ring]}
    path = write_geojson(tmp_path / "open.geojson", feature_collection([mapping(PARCEL_B), geometry]))
    error = raised(path)
    assert error.code == "ring_unclosed" and error.issues[0].features == (1,)


def test_mojibake_is_detected(tmp_path: Path) -> None:
    """Mis-decoded Chinese (UTF-8 read as cp1252, or replacement characters) is refused."""
    garbled = "永久基本农田".encode().decode("cp1252", errors="replace")
    path = write_geojson(
        tmp_path / "garbled.geojson",
        feature_collection(
            [mapping(PARCEL_A), mapping(PARCEL_B)], MC=["正常", garbled], BZ=["ok", "\ufffd\ufffd"]
        ),
    )
    error = raised(path)
    assert [issue.code for issue in error.issues] == ["encoding_mismatch", "encoding_mismatch"]
    assert all(issue.features == (1,) for issue in error.issues)
    assert "GBK" in error.issues[1].message


def test_mojibake_suggestion() -> None:
    """The detector recovers UTF-8 read as cp1252 and GBK read as Latin-1, and leaves real text alone."""
    assert mojibake_suggestion("æ°¸ä¹…") == ("UTF-8", "永久")
    gbk_as_latin1 = "永久基本农田".encode("gbk").decode("latin-1")
    assert mojibake_suggestion(gbk_as_latin1) == ("GBK", "永久基本农田")
    assert mojibake_suggestion("坏\ufffd") == ("GBK", None)
    for fine in ("永久基本农田", "DLBM 0101", "Café", ""):
        assert mojibake_suggestion(fine) is None


def test_gbk_geojson_bytes_are_refused(tmp_path: Path) -> None:
    """A GeoJSON saved as GBK is refused asking for UTF-8."""
    path = tmp_path / "gbk.geojson"
    document = feature_collection([mapping(PARCEL_A)], MC=NAMES[:1])
    path.write_bytes(json.dumps(document, ensure_ascii=False).encode("gbk"))
    error = raised(path)
    assert error.code == "encoding_mismatch" and "UTF-8" in str(error)


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    """Unknown formats and missing files have their own codes."""
    other = tmp_path / "a.kml"
    other.write_text("<kml/>")
    assert raised(other).code == "format_unsupported"
    assert raised(tmp_path / "missing.geojson").code == "file_not_found"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("YJJBNTBHTB", "farmland"),
        ("620521yjjbntbhtb.shp", "farmland"),
        ("/data/清水县_STBHHX.zip", "redline"),
        ("CZKFBJ", "urban_boundary"),
        ("城镇开发边界.gpkg", "urban_boundary"),
        ("DLBM", "landuse"),
        (["BSM", "YDYHFLDM", "MJ"], "landuse"),
        (["BSM", "dlbm"], "landuse"),
        (["BSM", "MJ"], None),
        ("roads.shp", None),
    ],
)
def test_detect_layer_kind(value: Any, kind: str | None) -> None:
    """Layer codes in names and land-use class fields are recognised."""
    assert detect_layer_kind(value) == kind
