"""Build the packaged reference layers: the county outline and illustrative township partition.

Run as ``python -m gis_data.build_reference --source /path/to/qingshui_620521_datav_gcj02.json``.
The script is deterministic: the same source file gives byte-identical output files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import prcoords
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from gis_data.crs import AREA_SRID, STORAGE_SRID, ellipsoidal_area_m2, planar_area_m2, reproject

#: Decimal places kept in the output coordinates (1e-7 degree is about 1 cm).
COORD_DECIMALS = 7
#: Grid the township pieces are snapped to, matching the output rounding.
GRID_SIZE = 10.0**-COORD_DECIMALS

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
COUNTY_FILE = "qingshui_county.geojson"
TOWNSHIPS_FILE = "townships_illustrative.geojson"
PROVENANCE_FILE = "PROVENANCE.md"

COUNTY_ADCODE = 620521
#: Official county area (km2), for comparison only.
OFFICIAL_AREA_KM2 = 2012.0
COUNTY_NAME = "清水县"
COUNTY_SOURCE = (
    "Aliyun DataV outline (AMap-derived), public repository tnnevol/gmap, file 620521.json "
    "at b248aaae (2019-11-06); no licence stated"
)
DATUM_NOTE = "converted from GCJ-02 to CGCS2000 with prcoords"

#: The 18 township-level divisions (2020 division) in code order, with an approximate seat
#: position (WGS84/CGCS2000 lon, lat).  Only 永清镇 (the county seat) is a known position; the
#: others are spread plausibly over the county and serve only as Voronoi seeds.
TOWNSHIP_SEATS: tuple[tuple[str, float, float], ...] = (
    ("永清镇", 106.137, 34.752),
    ("红堡镇", 106.040, 34.715),
    ("白驼镇", 105.930, 34.700),
    ("金集镇", 106.020, 34.800),
    ("秦亭镇", 106.235, 34.840),
    ("山门镇", 106.440, 34.770),
    ("白沙镇", 106.110, 34.830),
    ("王河镇", 106.260, 34.725),
    ("郭川镇", 106.025, 34.895),
    ("黄门镇", 105.900, 34.795),
    ("松树镇", 105.820, 34.700),
    ("远门镇", 105.985, 34.635),
    ("土门镇", 106.175, 34.885),
    ("草川铺镇", 106.105, 34.645),
    ("贾川乡", 106.215, 34.635),
    ("丰望乡", 106.285, 34.578),
    ("新城乡", 106.345, 34.830),
    ("陇东乡", 106.395, 34.670),
)
TOWNSHIP_CODE_BASE = 620521100


def township_code(index: int) -> str:
    """Return the 9-digit township code for the ``index``-th township (0-based)."""
    return str(TOWNSHIP_CODE_BASE + index)


def gcj02_to_cgcs2000(lon: float, lat: float) -> tuple[float, float]:
    """Convert one GCJ-02 lon/lat to WGS84/CGCS2000 with prcoords' iterative inverse."""
    wgs = prcoords.gcj_wgs_bored((lat, lon))  # prcoords uses (lat, lon) order
    return wgs.lon, wgs.lat


def round_coords(geom: BaseGeometry, decimals: int = COORD_DECIMALS) -> BaseGeometry:
    """Round every coordinate of a geometry to ``decimals`` places."""
    return shapely.transform(geom, lambda xy: xy.round(decimals))


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """Coerce a polygonal geometry (or a collection holding polygons) into a MultiPolygon."""
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    polygons: list[Polygon] = []
    for part in getattr(geom, "geoms", []):
        if isinstance(part, Polygon):
            polygons.append(part)
        elif isinstance(part, MultiPolygon):
            polygons.extend(part.geoms)
    if not polygons:
        raise ValueError(f"no polygonal part in {geom.geom_type}")
    return MultiPolygon(polygons)


def load_datav_feature(source: Path) -> dict[str, Any]:
    """Read a DataV file (a bare JSON array, a Feature or a FeatureCollection) and return its feature."""
    data = json.loads(source.read_text(encoding="utf-8"))
    if isinstance(data, list):
        features = data
    elif data.get("type") == "FeatureCollection":
        features = data["features"]
    else:
        features = [data]
    matches = [f for f in features if int(f["properties"].get("adcode", 0)) == COUNTY_ADCODE]
    if len(matches) != 1:
        raise ValueError(f"expected one feature with adcode {COUNTY_ADCODE}, found {len(matches)}")
    return matches[0]


def convert_county(feature: dict[str, Any]) -> MultiPolygon:
    """Convert the DataV county feature from GCJ-02 to a valid, rounded CGCS2000 MultiPolygon."""
    gcj = shape(feature["geometry"])

    def _convert(coords: Any) -> Any:
        """Convert an (N, 2) array of GCJ-02 lon/lat to CGCS2000."""
        out = coords.copy()
        for i, (lon, lat) in enumerate(coords):
            out[i] = gcj02_to_cgcs2000(float(lon), float(lat))
        return out

    converted = round_coords(shapely.transform(gcj, _convert))
    if not converted.is_valid:
        converted = round_coords(shapely.make_valid(converted))
    county = as_multipolygon(converted)
    if not county.is_valid:
        raise ValueError("converted county outline is not valid")
    return county


def build_townships(county: MultiPolygon) -> list[tuple[str, str, MultiPolygon, Point]]:
    """Partition the county into illustrative townships: a Voronoi diagram of the seats, clipped."""
    seats_ll = [Point(lon, lat) for _name, lon, lat in TOWNSHIP_SEATS]
    for (name, _lon, _lat), seat in zip(TOWNSHIP_SEATS, seats_ll, strict=True):
        if not county.contains(seat):
            raise ValueError(f"seat of {name} lies outside the county")
    # Voronoi in the planar GK projection, so the cells follow ground distances, not degrees.
    seats_xy = shapely.MultiPoint([reproject(p, STORAGE_SRID, AREA_SRID) for p in seats_ll])
    frame = reproject(county, STORAGE_SRID, AREA_SRID).envelope.buffer(20_000.0)
    cells_xy = list(shapely.voronoi_polygons(seats_xy, extend_to=frame).geoms)
    result: list[tuple[str, str, MultiPolygon, Point]] = []
    for index, ((name, _lon, _lat), seat_ll) in enumerate(zip(TOWNSHIP_SEATS, seats_ll, strict=True)):
        seat_xy = seats_xy.geoms[index]
        owning = [c for c in cells_xy if c.contains(seat_xy)]
        if len(owning) != 1:
            raise ValueError(f"no unique Voronoi cell for {name}")
        cell_ll = reproject(owning[0], AREA_SRID, STORAGE_SRID)
        piece = shapely.set_precision(county.intersection(cell_ll), GRID_SIZE)
        piece = as_multipolygon(round_coords(piece))
        if not piece.is_valid:
            piece = as_multipolygon(round_coords(shapely.make_valid(piece)))
        if not piece.contains(seat_ll):
            raise ValueError(f"seat of {name} is not inside its clipped cell")
        if len(piece.geoms) != 1:
            raise ValueError(f"{name} falls apart into {len(piece.geoms)} pieces: move the seats")
        result.append((township_code(index), name, piece, seat_ll))
    return result


def _feature_line(properties: dict[str, Any], geom: BaseGeometry) -> str:
    """Serialise one GeoJSON feature on a single line with rounded coordinates."""
    feature = {
        "type": "Feature",
        "properties": properties,
        "geometry": mapping(round_coords(geom)),
    }
    return json.dumps(feature, ensure_ascii=False, separators=(",", ":"))


def feature_collection_text(features: list[tuple[dict[str, Any], BaseGeometry]], name: str) -> str:
    """Serialise a FeatureCollection with one feature per line (stable, diff-friendly)."""
    header = json.dumps({"type": "FeatureCollection", "name": name}, ensure_ascii=False)[:-1]
    lines = [_feature_line(props, geom) for props, geom in features]
    return header + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"


def vertex_count(geom: BaseGeometry) -> int:
    """Number of stored vertices of a geometry (ring-closing points included)."""
    return int(shapely.get_num_coordinates(geom))


def _metres(value: float, positive: str, negative: str) -> str:
    """Format a signed distance as e.g. ``375 m west``."""
    return f"{abs(value):.0f} m {positive if value >= 0 else negative}"


def township_overlap_m2(pieces: list[MultiPolygon]) -> float:
    """Total planar area (m2) of pairwise overlaps between township pieces."""
    planar = [reproject(p, STORAGE_SRID, AREA_SRID) for p in pieces]
    total = 0.0
    for i, a in enumerate(planar):
        for b in planar[i + 1 :]:
            if a.intersects(b):
                total += a.intersection(b).area
    return total


def provenance_text(
    county: MultiPolygon,
    townships: list[tuple[str, str, MultiPolygon, Point]],
    source: BaseGeometry,
) -> str:
    """Render PROVENANCE.md for the built layers."""
    ell_km2 = ellipsoidal_area_m2(county) / 1e6
    plan_km2 = planar_area_m2(county) / 1e6
    source_km2 = ellipsoidal_area_m2(source) / 1e6
    source_vertices = vertex_count(source)
    source_centroid = source.centroid
    centroid = county.centroid
    shift = reproject(centroid, STORAGE_SRID, AREA_SRID)
    before = reproject(source_centroid, STORAGE_SRID, AREA_SRID)
    east = _metres(shift.x - before.x, "east", "west")
    north = _metres(shift.y - before.y, "north", "south")
    shortfall_pct = (1 - ell_km2 / OFFICIAL_AREA_KM2) * 100
    union = shapely.union_all([geom for _code, _name, geom, _seat in townships])
    sliver_m2 = planar_area_m2(union.symmetric_difference(county))
    overlap_m2 = township_overlap_m2([geom for _code, _name, geom, _seat in townships])
    minx, miny, maxx, maxy = county.bounds
    rows = "\n".join(
        f"| {code} | {name} | {seat.x:.3f} | {seat.y:.3f} | {ellipsoidal_area_m2(geom) / 1e6:.1f} |"
        for code, name, geom, seat in townships
    )
    return f"""# Reference layers: provenance

Generated by `python -m gis_data.build_reference --source qingshui_620521_datav_gcj02.json`
(`gis_data/build_reference.py`); do not edit the GeoJSON files by hand, rebuild them.

## `qingshui_county.geojson`: Qingshui County (清水县, 620521) outline

- Origin: {COUNTY_SOURCE}.
  Copied as `qingshui_620521_datav_gcj02.json` (Aliyun DataV format: a bare JSON array holding one Feature,
  MultiPolygon). See the project's shared `data/SOURCES.md`.
- Datum: DataV outlines are derived from AMap and are in **GCJ-02**, not WGS84/CGCS2000. Every
  vertex was converted GCJ-02 -> WGS84 with the `prcoords` package's iterative (precise) inverse
  `prcoords.gcj_wgs_bored` (round-trip residual below 1 mm, far below the outline's own accuracy); WGS84 is
  taken as CGCS2000 (the storage CRS); their difference (centimetres to decimetres) is negligible here.
- The conversion shifted the outline by {centroid.x - source_centroid.x:+.5f} deg longitude and
  {centroid.y - source_centroid.y:+.5f} deg latitude, centroid to centroid (about {east} and {north});
  the local offset varies from -0.0040 to -0.0043 deg longitude across the county.
- Coordinates rounded to {COORD_DECIMALS} decimals (about 1 cm); the result is a valid MultiPolygon.
- Vertices: {vertex_count(county)} stored (including the closing point of each ring;
  {source_vertices} in the source).
- Extent (lon/lat): {minx:.4f}-{maxx:.4f} E, {miny:.4f}-{maxy:.4f} N; centroid
  {centroid.x:.4f} E, {centroid.y:.4f} N.
- Areas:
  - ellipsoidal (CGCS2000 ellipsoid, 椭球面积): **{ell_km2:.2f} km2**
  - planar in the CGCS2000 3-degree Gauss-Kruger projection, CM 105 E: **{plan_km2:.2f} km2**
    ({(plan_km2 / ell_km2 - 1) * 100:+.3f} %)
  - the same outline still in GCJ-02 measures {source_km2:.2f} km2: the GCJ-02 offset varies across
    the county, so it also distorts areas (here by {(source_km2 / ell_km2 - 1) * 100:+.2f} %)
  - for comparison, the official county area is about {OFFICIAL_AREA_KM2:,.0f} km2: the DataV outline
    is generalised and {shortfall_pct:.1f} % smaller. Use it for maps and coarse checks, not for
    cadastral work.

## `townships_illustrative.geojson`: township partition (ILLUSTRATIVE, NOT OFFICIAL)

**These township boundaries are invented.** No public township boundaries of Qingshui were found.
The 18 township-level divisions (2020 division) are real names, but their polygons are the Voronoi
cells (computed in the Gauss-Kruger projection) of approximate seat positions, clipped to the county
outline above. Only the seat of 永清镇 (the county seat) is placed at its known location; the other
seats are spread plausibly over the county and may be several kilometres off. The codes
620521100-620521117 are assigned in list order for this project and are not official statistical
codes. Every feature carries `illustrative: true`; never use these polygons for statistics, land
checks or any official purpose. Replace them with the official boundaries when available.

The pieces tile the county: they reuse the outline's vertices, and only the points where cell edges
cross the outline are snapped to the 1e-{COORD_DECIMALS} degree grid, which leaves {sliver_m2:.0f} m2 of
millimetre-wide slivers in total between their union and the outline; pairwise overlaps total
{overlap_m2:.2f} m2. Each piece is a valid single-part MultiPolygon containing its seat.

| code | name | seat lon | seat lat | ellipsoidal area (km2) |
| --- | --- | --- | --- | --- |
{rows}
"""


def build(source: Path, out_dir: Path = REFERENCE_DIR) -> dict[str, float]:
    """Build all reference files from the DataV ``source`` into ``out_dir``; return summary numbers."""
    feature = load_datav_feature(source)
    gcj_geom = shape(feature["geometry"])
    county = convert_county(feature)
    townships = build_townships(county)

    county_props = {
        "adcode": COUNTY_ADCODE,
        "name": COUNTY_NAME,
        "source": COUNTY_SOURCE,
        "datum_note": DATUM_NOTE,
    }
    township_features = [
        (
            {
                "code": code,
                "name": name,
                "illustrative": True,
                "seat_lon": round(seat.x, COORD_DECIMALS),
                "seat_lat": round(seat.y, COORD_DECIMALS),
            },
            geom,
        )
        for code, name, geom, seat in townships
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / COUNTY_FILE).write_text(
        feature_collection_text([(county_props, county)], "qingshui_county"), encoding="utf-8"
    )
    (out_dir / TOWNSHIPS_FILE).write_text(
        feature_collection_text(township_features, "townships_illustrative"), encoding="utf-8"
    )
    (out_dir / PROVENANCE_FILE).write_text(provenance_text(county, townships, gcj_geom), encoding="utf-8")
    return {
        "vertices": float(vertex_count(county)),
        "ellipsoidal_km2": ellipsoidal_area_m2(county) / 1e6,
        "planar_km2": planar_area_m2(county) / 1e6,
    }


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="DataV GCJ-02 county outline JSON")
    parser.add_argument("--out-dir", type=Path, default=REFERENCE_DIR, help="output directory")
    args = parser.parse_args(argv)
    summary = build(args.source, args.out_dir)
    print(
        f"county: {int(summary['vertices'])} vertices, ellipsoidal {summary['ellipsoidal_km2']:.2f} km2, "
        f"planar {summary['planar_km2']:.2f} km2; wrote {args.out_dir}"
    )


if __name__ == "__main__":
    main()
