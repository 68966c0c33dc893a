"""Writing features to GeoPackage and zipped Shapefile bytes (the formats the land bureau exchanges)."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import geopandas

from gis_data.crs import STORAGE_SRID


def _frame(features: list[dict[str, Any]]) -> geopandas.GeoDataFrame:
    frame = geopandas.GeoDataFrame.from_features(features, crs=f"EPSG:{STORAGE_SRID}")
    for column in frame.columns:
        if column != "geometry" and frame[column].map(lambda v: isinstance(v, list | dict)).any():
            frame[column] = frame[column].map(
                lambda v: "；".join(map(str, v)) if isinstance(v, list) else str(v)
            )
    return frame


def to_geopackage(features: list[dict[str, Any]], *, layer: str) -> bytes:
    """A GeoPackage (CGCS2000) holding the features as one layer."""
    with tempfile.TemporaryDirectory(prefix="sw-gpkg-") as tmp:
        path = Path(tmp) / "out.gpkg"
        _frame(features).to_file(path, driver="GPKG", layer=layer)
        return path.read_bytes()


#: Shapefile fields (at most 10 characters) in the naming Chinese land data uses (地块编号 DKBH ...).
SHAPEFILE_FIELDS = {
    "parcel_code": "DKBH",
    "name": "DKMC",
    "land_class": "DLBM",
    "land_use": "DKYT",
    "project_code": "XMDM",
    "project_name": "XMMC",
    "year": "ND",
    "status": "ZT",
    "zone": "DH",
    "area_m2": "MJ_M2",
    "area_mu": "MJ_MU",
    "area_ha": "MJ_HA",
    "ellipsoidal_area_m2": "TQMJ_M2",
    "verdict": "HCJL",
}


def to_zipped_shapefile(features: list[dict[str, Any]], *, name: str, encoding: str = "GBK") -> bytes:
    """A zipped Shapefile (.shp/.shx/.dbf/.prj/.cpg), attributes in GBK as Chinese GIS tools expect;
    known fields get their short Chinese-convention names (SHAPEFILE_FIELDS), others are left out."""
    frame = _frame(features)
    keep = [c for c in SHAPEFILE_FIELDS if c in frame.columns]
    frame = frame[[*keep, "geometry"]].rename(columns=SHAPEFILE_FIELDS)
    with tempfile.TemporaryDirectory(prefix="sw-shp-") as tmp:
        path = Path(tmp) / f"{name}.shp"
        frame.to_file(path, driver="ESRI Shapefile", encoding=encoding)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(tmp).iterdir()):
                archive.write(part, part.name)
        return buffer.getvalue()
