"""Synthetic land data for the demo county: an ILLUSTRATIVE plan edition and next year's land-demand parcels.

Pure (no database, no web framework).  Nothing here is Qingshui's real plan: the "permanent basic
farmland", "ecological red line" and "urban development boundary" polygons are invented around the
invented demo projects of :mod:`gis_data.demo`, so that the land bureau's check has something to find.
Geometry is built in the planar area CRS (``crs.AREA_SRID``, CGCS2000 3-degree GK CM 105 E) inside the
county outline; parcels are handed out in lon/lat (``crs.STORAGE_SRID``) as a phone or a unit would send
them.  Every parcel carries the verdict its placement was designed for, recomputed here by a plain
overlay (:func:`expected_verdict`), so a test can hold the product's check against it.

The same seed and projects always give identical output.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import shapely
import shapely.affinity
from shapely.geometry import LineString, Point, Polygon, box, mapping
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring, unary_union

from gis_data import demo as demo_data
from gis_data.crs import AREA_SRID, STORAGE_SRID, reproject
from gis_data.reference_layers import load_county, load_townships

DEFAULT_SEED = 2026
EDITION_NAME = "清水县国土空间规划“三区三线”（演示示意数据）"
EDITION_DESCRIPTION = (
    "演示用合成数据，由程序按随机种子生成，仅用于展示用地核查功能；"
    "不是清水县真实的国土空间规划，也不代表任何真实的永久基本农田、生态保护红线或城镇开发边界。"
)
#: Layer names of delivered planning data (DOMAIN.md), and the layer kinds the import understands.
LAYER_NAMES = {
    "farmland": "YJJBNTBHTB",
    "redline": "STBHHX",
    "urban_boundary": "CZKFBJ",
    "landuse": "GHYDYH",
}
#: Seats that get an urban development boundary: the county seat and two township seats (core radius, m).
URBAN_SEATS = {demo_data.COUNTY_SEAT_TOWNSHIP: 1800.0, "红堡镇": 800.0, "黄门镇": 700.0}
#: Overlaps below this many square metres do not count (the check's sliver threshold is 1 m2).
SIGNIFICANT_M2 = 1.0
#: Parcel sizes the demand list keeps to, hectares.
MIN_PARCEL_HA, MAX_PARCEL_HA = 1.0, 50.0
#: Planned land-use classes (用地用海分类 first level) of the county seat's sectors.
LANDUSE_CLASSES = (
    ("07", "居住用地"),
    ("08", "公共管理与公共服务用地"),
    ("09", "商业服务业用地"),
    ("10", "工矿用地"),
    ("12", "交通运输用地"),
    ("14", "绿地与开敞空间用地"),
)


@dataclass(frozen=True, slots=True)
class PlanFeature:
    """One polygon of the illustrative plan, planar (``AREA_SRID``), with its attributes."""

    layer: str  # farmland | redline | urban_boundary | landuse
    geometry: Polygon
    attributes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DemoParcel:
    """One land-demand parcel of a demo project, in lon/lat (``STORAGE_SRID``)."""

    project_code: str
    parcel_code: str
    name: str
    land_use: str
    geometry: Polygon
    #: What the placement was designed to show (``compliant``, ``farmland``, ``redline``, ...).
    intent: str
    #: The verdict a plain overlay of this parcel with the plan and the other parcels gives.
    expected_verdict: str
    area_ha: float


@dataclass(slots=True)
class DemoLand:
    """The illustrative plan edition and the land-demand list of the demo county."""

    year: int
    plan: list[PlanFeature]
    parcels: list[DemoParcel]
    name: str = EDITION_NAME
    description: str = EDITION_DESCRIPTION
    stats: dict[str, Any] = field(default_factory=dict)

    def layer(self, kind: str) -> list[PlanFeature]:
        """The plan features of one layer kind."""
        return [f for f in self.plan if f.layer == kind]

    def parcels_of(self, project_code: str) -> list[DemoParcel]:
        """The parcels of one project."""
        return [p for p in self.parcels if p.project_code == project_code]

    def project_codes(self) -> list[str]:
        """Projects with parcels, in the order they were generated."""
        return list(dict.fromkeys(p.project_code for p in self.parcels))


# --- geometry helpers ----------------------------------------------------------------------------


def _xy(geom: BaseGeometry) -> BaseGeometry:
    return reproject(geom, STORAGE_SRID, AREA_SRID)


def _blob(rng: random.Random, centre: Point, radius: float, *, vertices: int = 14, wobble=0.35) -> Polygon:
    """An irregular, smooth, star-shaped polygon around ``centre``."""
    start = rng.uniform(0, 2 * math.pi)
    points = []
    for i in range(vertices):
        angle = start + 2 * math.pi * i / vertices
        r = radius * rng.uniform(1 - wobble, 1 + wobble)
        points.append((centre.x + r * math.cos(angle), centre.y + r * math.sin(angle)))
    smooth = radius * 0.15
    return _largest(Polygon(points).buffer(smooth).buffer(-smooth))


def _largest(geom: BaseGeometry) -> Polygon:
    parts = _parts(geom)
    return max(parts, key=lambda p: p.area) if parts else Polygon()


def _parts(geom: BaseGeometry | None) -> list[Polygon]:
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    return [p for g in getattr(geom, "geoms", []) for p in _parts(g)]


def _round(geom: BaseGeometry, decimals: int) -> BaseGeometry:
    return shapely.make_valid(shapely.set_precision(geom, 10.0**-decimals))


def _rotated_box(cx: float, cy: float, w: float, h: float, angle: float) -> Polygon:
    c, s = math.cos(angle), math.sin(angle)
    corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    return Polygon([(cx + x * c - y * s, cy + x * s + y * c) for x, y in corners])


def _split(site: Polygon, parts: int, gap: float = 12.0) -> list[Polygon]:
    """Cut a polygon into ``parts`` strips across its long axis, with a road-wide gap between them."""
    if parts <= 1:
        return [site]
    rect = site.minimum_rotated_rectangle
    coords = list(rect.exterior.coords)
    edges = [(coords[i], coords[i + 1]) for i in range(4)]
    (x0, y0), (x1, y1) = max(edges, key=lambda e: math.dist(*e))
    angle = math.atan2(y1 - y0, x1 - x0)
    centre = site.centroid
    local = shapely.affinity.rotate(site, -angle, origin=centre, use_radians=True)
    minx, miny, maxx, maxy = local.bounds
    step = (maxx - minx) / parts
    pieces = []
    for i in range(parts):
        strip = box(
            minx + i * step + (gap / 2 if i else 0), miny - 1, minx + (i + 1) * step - gap / 2, maxy + 1
        )
        piece = _largest(local.intersection(strip))
        if not piece.is_empty:
            pieces.append(shapely.affinity.rotate(piece, angle, origin=centre, use_radians=True))
    return pieces


def _at_least(poly: Polygon, hectares: float) -> Polygon:
    """Grow a too-small polygon until it has ``hectares``."""
    grown = poly
    while grown.area < hectares * 10000.0:
        grown = grown.buffer(8.0, join_style="mitre")
    return grown


# --- the generator -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Draft:
    project: demo_data.DemoProject
    code: str
    name: str
    land_use: str
    xy: Polygon
    intent: str


_USE_BY_INDUSTRY = {
    "交通": "交通运输用地",
    "水利": "水工建筑用地",
    "能源": "公用设施用地",
    "农业": "农业设施建设用地",
    "工业": "工业用地",
    "社会事业": "公共管理与公共服务用地",
    "城镇建设": "城镇建设用地",
    "文化旅游": "商业服务业用地",
    "生态环保": "公用设施用地",
    "商贸物流": "物流仓储用地",
}


def _parcel_code(project: demo_data.DemoProject, index: int) -> str:
    return f"{project.code}-{index:02d}"


class _Builder:
    def __init__(self, projects: Sequence[demo_data.DemoProject], seed: int):
        self.rng = random.Random(seed)
        self.projects = list(projects)
        self.county = _xy(load_county())
        self.inner = self.county.buffer(-60.0)
        self.seats = {t.name: _xy(t.seat) for t in load_townships()}
        self.drafts: list[_Draft] = []

    # parcels --------------------------------------------------------------------------------

    def _add(self, project: demo_data.DemoProject, geom: BaseGeometry, intent: str, suffix: str = "") -> None:
        poly = _largest(geom.intersection(self.inner))
        if poly.is_empty:
            return
        if poly.area < MIN_PARCEL_HA * 10000.0:
            poly = _largest(_at_least(poly, MIN_PARCEL_HA + 0.2).intersection(self.inner))
        if not MIN_PARCEL_HA * 10000.0 <= poly.area <= MAX_PARCEL_HA * 10000.0:
            return
        others = [d for d in self.drafts if d.project.code != project.code]
        if intent != "parcel_overlap" and any(d.xy.buffer(20.0).intersects(poly) for d in others):
            return  # keep the list free of accidental double claims
        index = sum(1 for d in self.drafts if d.project.code == project.code) + 1
        name = project.name.removesuffix("项目").removesuffix("工程")
        self.drafts.append(
            _Draft(
                project,
                _parcel_code(project, index),
                f"{name}{suffix or f'用地{index}'}",
                _USE_BY_INDUSTRY.get(project.industry, "建设用地"),
                _round(poly, 2),
                intent,
            )
        )

    def parcels_for(self, project: demo_data.DemoProject, intent: str) -> None:
        site = _xy(project.site)
        rng = self.rng
        if isinstance(site, Polygon):
            area_ha = site.area / 10000.0
            parts = 1 if area_ha < 4 else min(3, rng.choice((1, 2, 2, 3)), int(area_ha // 2))
            if area_ha / max(parts, 1) > MAX_PARCEL_HA:
                parts = math.ceil(area_ha / MAX_PARCEL_HA)
            for piece in _split(site, parts):
                self._add(project, piece, intent)
        elif isinstance(site, LineString):
            count = rng.randint(2, 3)
            for k in range(count):
                length = rng.uniform(600.0, 1400.0)
                start = site.length * (k + 0.15) / count
                piece = substring(site, start, min(site.length, start + length))
                self._add(project, piece.buffer(22.0, cap_style="flat"), intent, f"第{k + 1}段用地")
        else:
            self._add(project, _blob(rng, site, math.sqrt(rng.uniform(18, 40) * 10000 / math.pi)), intent)

    def choose(self) -> None:
        """Pick the projects with parcels and what each should show."""
        rng = self.rng
        by_code = sorted(self.projects, key=lambda p: p.code)
        urban, rural_polygons, lines, points = [], [], [], []
        for p in by_code:
            kind = p.site.geom_type
            if kind == "Polygon" and p.township in URBAN_SEATS and p.industry != "农业":
                urban.append(p)
            elif kind == "Polygon":
                rural_polygons.append(p)
            elif kind == "LineString":
                lines.append(p)
            else:
                points.append(p)
        rng.shuffle(rural_polygons)
        rng.shuffle(lines)
        for p in urban:
            self.parcels_for(p, "compliant")
        for p in rural_polygons[:8]:
            self.parcels_for(p, "farmland")
        for p in rural_polygons[8:14]:
            self.parcels_for(p, "outside_urban")
        for i, p in enumerate(lines[:3]):
            self.parcels_for(p, "farmland" if i == 0 else "outside_urban")
        # The wind farm on the Guanshan grassland crosses the red line: the classic conflict.
        for p in points:
            self.parcels_for(p, "redline" if "风电" in p.name else "outside_urban")
        if not any(d.intent == "redline" for d in self.drafts):
            first = next(d for d in self.drafts if d.intent == "outside_urban")
            first.intent = "redline"
        self._double_claims(2)

    def _double_claims(self, count: int) -> None:
        """A few projects claim part of another project's land (同一土地重复安排)."""
        urban = [d for d in self.drafts if d.intent == "compliant"]
        owners = list(dict.fromkeys(d.project.code for d in urban))
        made = 0
        for code in owners[1::3]:
            if made == count:
                break
            victim = next(d for d in urban if d.project.code == code)
            claimant = next(
                (
                    p
                    for p in sorted(self.projects, key=lambda p: p.code)
                    if p.code != code
                    and any(d.project.code == p.code and d.intent == "compliant" for d in self.drafts)
                    and p.code not in {d.project.code for d in self.drafts if d.intent == "parcel_overlap"}
                    and victim.project.code
                    not in {d.project.code for d in self.drafts if d.intent == "parcel_overlap"}
                ),
                None,
            )
            if claimant is None:
                continue
            c = victim.xy.centroid
            edge = victim.xy.exterior.interpolate(self.rng.uniform(0, victim.xy.exterior.length))
            dx, dy = edge.x - c.x, edge.y - c.y
            norm = math.hypot(dx, dy) or 1.0
            side = math.sqrt(max(victim.xy.area * 0.6, 15000.0))
            piece = _rotated_box(
                edge.x + dx / norm * side * 0.3,
                edge.y + dy / norm * side * 0.3,
                side,
                side * 0.8,
                math.atan2(dy, dx),
            )
            victim.intent = "parcel_overlap"
            self._add(claimant, piece, "parcel_overlap", "二期预留用地")
            made += 1

    # plan layers ---------------------------------------------------------------------------

    def urban_boundaries(self) -> dict[str, BaseGeometry]:
        keep_out = unary_union(
            [d.xy.buffer(60.0) for d in self.drafts if d.intent not in ("compliant", "parcel_overlap")]
        )
        out = {}
        for town, radius in URBAN_SEATS.items():
            core = _blob(self.rng, self.seats[town], radius, vertices=16, wobble=0.3).difference(keep_out)
            lobes = [
                d.xy.buffer(self.rng.uniform(120.0, 260.0))
                for d in self.drafts
                if d.intent in ("compliant", "parcel_overlap") and d.project.township == town
            ]
            merged = unary_union([core, *lobes]).buffer(150.0).buffer(-150.0)
            out[town] = merged.difference(keep_out).union(unary_union(lobes)).intersection(self.inner)
        return out

    def redline(self, urban: BaseGeometry) -> list[Polygon]:
        rng = self.rng
        crossing = [d for d in self.drafts if d.intent == "redline"]
        protected = unary_union([d.xy.buffer(250.0) for d in self.drafts if d.intent != "redline"])
        avoid = unary_union([protected, urban.buffer(800.0)])
        blobs: list[Polygon] = []
        for d in crossing:
            c = d.xy.centroid
            radius = 2600.0
            for _ in range(200):
                angle = rng.uniform(0, 2 * math.pi)
                centre = Point(c.x + radius * 0.95 * math.cos(angle), c.y + radius * 0.95 * math.sin(angle))
                blob = _blob(rng, centre, radius, vertices=18, wobble=0.12).difference(avoid)
                share = blob.intersection(d.xy).area / d.xy.area
                if 0.1 <= share <= 0.6 and blob.intersection(self.county).area > 0.8 * blob.area:
                    blobs.append(_largest(blob.intersection(self.inner)))
                    break
        minx, miny, maxx, maxy = self.county.bounds
        tries = 0
        while len(blobs) < len(crossing) + 4 and tries < 2000:
            tries += 1
            centre = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            radius = rng.uniform(1800.0, 3800.0)
            if not self.inner.contains(centre) or avoid.distance(centre) < radius * 1.1:
                continue
            if any(b.distance(centre) < radius * 1.5 for b in blobs):
                continue
            blob = _largest(
                _blob(rng, centre, radius, vertices=18).intersection(self.inner).difference(avoid)
            )
            if blob.area > 3e6:
                blobs.append(blob)
        return blobs

    def farmland(self, urban: BaseGeometry, redline: Sequence[Polygon]) -> list[Polygon]:
        rng = self.rng
        protected = unary_union([d.xy.buffer(30.0) for d in self.drafts if d.intent != "farmland"])
        blocked = [d for d in self.drafts if d.intent == "farmland"]
        # Only some parcels of a farmland project touch it: the others stay clear (needs adjustment).
        clear = [d for i, d in enumerate(blocked) if i % 3 == 2]
        for d in clear:
            d.intent = "outside_urban"
        protected = protected.union(unary_union([d.xy.buffer(30.0) for d in clear] or [Point()]))
        blocked = [d for d in blocked if d not in clear]
        excluded = unary_union([urban.buffer(20.0), *[r.buffer(20.0) for r in redline], protected])
        centres: list[Point] = []
        for d in blocked:
            centres.append(d.xy.exterior.interpolate(rng.uniform(0, d.xy.exterior.length)))
        # Valley fields near projects and around township seats (where people farm).
        for p in sorted(self.projects, key=lambda p: p.code):
            anchor = _xy(p.site).representative_point()
            for _ in range(rng.choice((0, 0, 1))):
                angle, dist = rng.uniform(0, 2 * math.pi), rng.uniform(500.0, 1600.0)
                centres.append(Point(anchor.x + dist * math.cos(angle), anchor.y + dist * math.sin(angle)))
        for name in sorted(self.seats):
            seat = self.seats[name]
            for _ in range(2):
                angle, dist = rng.uniform(0, 2 * math.pi), rng.uniform(900.0, 2500.0)
                centres.append(Point(seat.x + dist * math.cos(angle), seat.y + dist * math.sin(angle)))
        fields: list[Polygon] = []
        for centre in centres:
            angle = rng.uniform(0, math.pi)
            rows, cols = rng.randint(2, 4), rng.randint(2, 3)
            w, h = rng.uniform(160.0, 320.0), rng.uniform(110.0, 220.0)
            gap = rng.uniform(15.0, 40.0)
            c, s = math.cos(angle), math.sin(angle)
            for i in range(cols):
                for j in range(rows):
                    if rng.random() < 0.15:
                        continue
                    lx = (i - (cols - 1) / 2) * (w + gap)
                    ly = (j - (rows - 1) / 2) * (h + gap)
                    cell = _rotated_box(
                        centre.x + lx * c - ly * s + rng.uniform(-10, 10),
                        centre.y + lx * s + ly * c + rng.uniform(-10, 10),
                        w * rng.uniform(0.8, 1.1),
                        h * rng.uniform(0.8, 1.1),
                        angle + rng.uniform(-0.05, 0.05),
                    )
                    for part in _parts(cell.intersection(self.inner).difference(excluded)):
                        if part.area >= 3000.0:
                            fields.append(part)
        for d in blocked:  # make sure each blocked parcel really touches a field
            if not any(f.intersection(d.xy).area > 200.0 for f in fields):
                edge = d.xy.exterior.interpolate(0.5, normalized=True)
                cell = box(edge.x - 90, edge.y - 90, edge.x + 90, edge.y + 90).difference(excluded)
                fields.extend(p for p in _parts(cell.intersection(self.inner)) if p.area >= 500.0)
        return fields

    def landuse(self, seat_boundary: BaseGeometry) -> list[tuple[Polygon, str, str]]:
        seat = self.seats[demo_data.COUNTY_SEAT_TOWNSHIP]
        start = self.rng.uniform(0, 2 * math.pi)
        out = []
        n = len(LANDUSE_CLASSES)
        for i, (code, name) in enumerate(LANDUSE_CLASSES):
            a0, a1 = start + 2 * math.pi * i / n, start + 2 * math.pi * (i + 1) / n
            steps = [a0 + (a1 - a0) * k / 8 for k in range(9)]
            wedge = Polygon(
                [
                    (seat.x, seat.y),
                    *[(seat.x + 20000 * math.cos(a), seat.y + 20000 * math.sin(a)) for a in steps],
                ]
            )
            for part in _parts(seat_boundary.intersection(wedge)):
                if part.area > 5000.0:
                    out.append((part, code, name))
        return out


def expected_verdict(
    parcel_xy: BaseGeometry, plan: dict[str, BaseGeometry], others: Sequence[BaseGeometry]
) -> str:
    """The verdict of a plain overlay: farmland or red line blocks; outside the urban boundary or a
    double claim needs adjustment; else compliant (the rules of ``server.land_rules`` without classes)."""
    for layer in ("farmland", "redline"):
        if parcel_xy.intersection(plan[layer]).area >= SIGNIFICANT_M2:
            return "blocked"
    if parcel_xy.difference(plan["urban_boundary"]).area >= SIGNIFICANT_M2:
        return "needs_adjustment"
    if any(parcel_xy.intersection(o).area >= SIGNIFICANT_M2 for o in others):
        return "needs_adjustment"
    return "compliant"


@cache
def _cached(seed: int) -> DemoLand:
    return _generate(demo_data.demo_projects(), seed)


def demo_land(
    projects: Sequence[demo_data.DemoProject] | None = None, *, seed: int = DEFAULT_SEED
) -> DemoLand:
    """The illustrative plan edition and the demand parcels for ``projects`` (default: the demo list)."""
    if projects is None:
        return _cached(seed)
    return _generate(projects, seed)


def _generate(projects: Sequence[demo_data.DemoProject], seed: int) -> DemoLand:
    builder = _Builder(projects, seed)
    builder.choose()
    urban_by_town = builder.urban_boundaries()
    urban = unary_union(list(urban_by_town.values()))
    red = builder.redline(urban)
    fields = builder.farmland(urban, red)
    plan: list[PlanFeature] = []
    for i, geom in enumerate(fields, start=1):
        poly = _round(geom, 2)
        plan.append(
            PlanFeature(
                "farmland",
                poly,
                {
                    "BSM": f"YJJBNT{i:05d}",
                    "DLMC": "耕地",
                    "TBMJ": round(poly.area / 10000.0, 4),
                    "SJLY": "演示合成",
                },
            )
        )
    for i, geom in enumerate(red, start=1):
        poly = _round(geom, 2)
        plan.append(
            PlanFeature(
                "redline",
                poly,
                {
                    "BSM": f"STBHHX{i:03d}",
                    "HXMC": f"演示生态保护红线{i}号区",
                    "MJ": round(poly.area / 10000, 2),
                },
            )
        )
    for town in URBAN_SEATS:
        for k, part in enumerate(_parts(urban_by_town[town]), start=1):
            plan.append(
                PlanFeature(
                    "urban_boundary",
                    _round(part, 2),
                    {
                        "BSM": f"CZKFBJ-{town}-{k}",
                        "MC": f"{town}城镇开发边界（示意）",
                        "MJ": round(part.area / 10000, 2),
                    },
                )
            )
    for k, (part, code, name) in enumerate(
        builder.landuse(urban_by_town[demo_data.COUNTY_SEAT_TOWNSHIP]), start=1
    ):
        plan.append(
            PlanFeature(
                "landuse", _round(part, 2), {"BSM": f"GHYD{k:03d}", "YDYHFLDM": code, "YDYHFLMC": name}
            )
        )
    layers = {
        kind: unary_union([f.geometry for f in plan if f.layer == kind])
        for kind in ("farmland", "redline", "urban_boundary")
    }
    parcels: list[DemoParcel] = []
    for d in builder.drafts:
        others = [o.xy for o in builder.drafts if o.project.code != d.project.code]
        lonlat = _round(reproject(d.xy, AREA_SRID, STORAGE_SRID), 8)
        parcels.append(
            DemoParcel(
                project_code=d.project.code,
                parcel_code=d.code,
                name=d.name,
                land_use=d.land_use,
                geometry=_largest(lonlat),
                intent=d.intent,
                expected_verdict=expected_verdict(d.xy, layers, others),
                area_ha=round(d.xy.area / 10000.0, 4),
            )
        )
    return DemoLand(year=demo_data.LIST_YEAR, plan=plan, parcels=parcels)


# --- files ---------------------------------------------------------------------------------------


def write_plan_geopackage(land: DemoLand, path: Path) -> list[tuple[str, str]]:
    """Write the plan as one GeoPackage in the planar CRS, a layer per kind; returns (layer, kind) pairs."""
    import geopandas

    written = []
    for kind, layer in LAYER_NAMES.items():
        features = land.layer(kind)
        if not features:
            continue
        frame = geopandas.GeoDataFrame(
            [f.attributes for f in features], geometry=[f.geometry for f in features], crs=f"EPSG:{AREA_SRID}"
        )
        frame.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
        written.append((layer, kind))
    return written


def parcels_geojson(parcels: Sequence[DemoParcel]) -> bytes:
    """Parcels as an RFC 7946 GeoJSON FeatureCollection (lon/lat), fields as a unit fills them in."""
    features = [
        {
            "type": "Feature",
            "properties": {"DKBH": p.parcel_code, "DKMC": p.name, "DKYT": p.land_use},
            "geometry": mapping(p.geometry),
        }
        for p in parcels
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode("utf-8")
