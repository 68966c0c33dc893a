"""Conflict-check benchmark: a county-sized synthetic plan, the project's check against two baselines.

Run ``.venv/bin/python -m bench.conflicts`` (``--scale 0.1`` for a quick run, ``--keep`` to keep the
throwaway cluster).  Everything is synthesised from ``--seed`` in the area CRS (``crs.AREA_SRID``):

* farmland (YJJBNTBHTB): a coverage of Voronoi cells, densified edge by edge in a canonical direction
  so shared edges stay bit-identical; 10 % of single cells with a small hole, about 2 % of the cells
  merged into polygons of 2k-20k vertices, 5 giant valley-shaped polygons of 50k-200k vertices;
* red line (STBHHX): 10 multipolygons of buffered random walks, about 0.5 M vertices in all;
* urban boundary (CZKFBJ): 5 star-shaped polygons;
* 1,000 parcels of 1-50 ha: 30 % snapped to farmland edges, 10 % straddling farmland + red line +
  urban boundary, 5 % wholly inside one farmland polygon, the rest random.

The plan is loaded through the project's own path (``land_repo.add_plan_features`` in the storage CRS,
``land_repo.build_pieces``; parcels as ``LandParcel`` rows) into a migrated throwaway cluster.  Then:

* W1, one parcel against all layers: ``land_repo.plan_overlaps(session, [id], edition)`` against a
  naive PostGIS query on the original ``plan_features`` (ST_Intersects join + ST_Area(ST_Intersection)),
  alternated parcel by parcel, p50 and p95 over all parcels;
* W2, all parcels: ``plan_overlaps`` in chunks of 50 ids (as ``_check_in_tx`` does) against
  ``geopandas.overlay(parcels, layer, how="intersection", keep_geom_type=True)`` per layer on the same
  geometries read back from the database (reading time excluded);
* correctness: every (parcel, layer) area of the project's check against the naive one.

Progress goes to stderr; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import shapely.affinity
from shapely import STRtree
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from gis_data import crs

_T0 = time.perf_counter()

#: Layer names of the project (``plan_features.layer``).
FARMLAND, REDLINE, URBAN = "farmland", "redline", "urban_boundary"
LAYERS = (FARMLAND, REDLINE, URBAN)
#: Source file names as delivered planning data would name them.
SOURCE_FILES = {FARMLAND: "YJJBNTBHTB.shp", REDLINE: "STBHHX.shp", URBAN: "CZKFBJ.shp"}
#: Overlaps below this area (m2) are slivers: compared apart, on both sides alike.
SLIVER_M2 = 1.0
#: Chunk of parcel ids per plan_overlaps call in W2 (what ``_check_in_tx`` uses).
W2_CHUNK = 50

NAIVE_SQL = """
SELECT f.layer, SUM(ST_Area(ST_Intersection(f.geom_area, p.geom_area)))
FROM plan_features f JOIN land_parcels p ON ST_Intersects(f.geom_area, p.geom_area)
WHERE p.id = :id AND f.edition_id = :e GROUP BY f.layer
"""


def log(message: str) -> None:
    """A progress line on stderr."""
    print(f"[{time.perf_counter() - _T0:7.1f}s] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# Synthesis (all in the area CRS, metres)
# --------------------------------------------------------------------------------------------------


@dataclass
class Spec:
    """Sizes of the synthetic county for a scale factor."""

    scale: float
    x0: float = 500_000.0
    y0: float = 3_822_000.0
    width: float = 60_000.0
    height: float = 35_000.0
    seed_points: int = 55_000
    gap_share: float = 0.20
    hole_share: float = 0.10
    merged_share: float = 0.02
    merged_vertices: tuple[float, float] = (2_500.0, 18_000.0)
    merged_cells: tuple[int, int] = (20, 60)
    giants: int = 5
    giant_vertices: tuple[float, float] = (60_000.0, 180_000.0)
    giant_length: float = 24_000.0
    segment: float = 8.0
    redlines: int = 10
    redline_vertices: float = 500_000.0
    urbans: int = 5
    urban_km2: tuple[float, float] = (4.0, 14.0)
    parcels: int = 1_000

    def __post_init__(self) -> None:
        s = self.scale
        r = math.sqrt(s)
        self.width *= r
        self.height *= r
        self.seed_points = max(500, round(self.seed_points * s))
        self.giant_length *= r
        self.redline_vertices *= s
        self.urban_km2 = (self.urban_km2[0] * s, self.urban_km2[1] * s)
        self.parcels = max(40, round(self.parcels * s))
        self.giants = max(1, round(self.giants * min(1.0, s * 2)))

    @property
    def extent(self) -> Polygon:
        return box(self.x0, self.y0, self.x0 + self.width, self.y0 + self.height)


@dataclass
class Plan:
    """The synthetic plan and parcels, in the area CRS."""

    farmland: list[BaseGeometry] = field(default_factory=list)
    farmland_kind: list[str] = field(default_factory=list)  # cell | merged | giant
    redline: list[MultiPolygon] = field(default_factory=list)
    urban: list[Polygon] = field(default_factory=list)
    parcels: list[Polygon] = field(default_factory=list)
    parcel_kind: list[str] = field(default_factory=list)  # snapped | straddling | inside | random
    stats: dict[str, Any] = field(default_factory=dict)


def _canonical_densify(rings: list[np.ndarray], default_len: float, overrides: pd.DataFrame) -> list[np.ndarray]:
    """Densify closed rings so that every segment gets the same points whichever ring it belongs to.

    Each segment is cut from its lexicographically smaller end point, so two polygons sharing an edge
    (traversed in opposite directions) get bit-identical new vertices: the coverage stays exact.
    ``overrides`` (columns ax, ay, bx, by, length) gives a shorter maximum length for some segments.
    """
    lengths = np.fromiter((len(r) for r in rings), dtype=np.int64, count=len(rings))
    coords = np.concatenate(rings)
    ring_of = np.repeat(np.arange(len(rings)), lengths)
    last = np.cumsum(lengths) - 1
    is_start = np.ones(len(coords), dtype=bool)
    is_start[last] = False
    start = np.nonzero(is_start)[0]
    p, q = coords[start], coords[start + 1]
    swap = (q[:, 0] < p[:, 0]) | ((q[:, 0] == p[:, 0]) & (q[:, 1] < p[:, 1]))
    a = np.where(swap[:, None], q, p)
    b = np.where(swap[:, None], p, q)
    seg_len = np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1])
    max_len = np.full(len(p), default_len)
    if len(overrides):
        keys = pd.DataFrame({"ax": a[:, 0], "ay": a[:, 1], "bx": b[:, 0], "by": b[:, 1]})
        keys["row"] = np.arange(len(keys))
        hit = keys.merge(overrides, on=["ax", "ay", "bx", "by"], how="inner")
        max_len[hit["row"].to_numpy()] = np.minimum(max_len[hit["row"].to_numpy()], hit["length"].to_numpy())
    n = np.maximum(1, np.ceil(seg_len / max_len)).astype(np.int64)
    seg = np.repeat(np.arange(len(p)), n)
    k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    i = np.where(swap[seg], n[seg] - k, k)
    t = i / n[seg]
    out = a[seg] + (b[seg] - a[seg]) * t[:, None]
    first = k == 0
    out[first] = p[seg[first]]
    out_ring = ring_of[start][seg]
    counts = np.bincount(out_ring, minlength=len(rings))
    parts = np.split(out, np.cumsum(counts)[:-1])
    return [np.vstack([part, part[:1]]) for part in parts]


def _rings_of(geom: BaseGeometry) -> list[np.ndarray]:
    polys = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    rings = []
    for poly in polys:
        rings.append(np.asarray(poly.exterior.coords))
        rings.extend(np.asarray(r.coords) for r in poly.interiors)
    return rings


def _rebuild(geom: BaseGeometry, rings: list[np.ndarray]) -> BaseGeometry:
    polys = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    out, pos = [], 0
    for poly in polys:
        n_holes = len(poly.interiors)
        out.append(Polygon(rings[pos], rings[pos + 1 : pos + 1 + n_holes]))
        pos += 1 + n_holes
    return MultiPolygon(out) if isinstance(geom, MultiPolygon) else out[0]


def _segment_keys(geom: BaseGeometry, length: float) -> pd.DataFrame:
    frames = []
    for ring in _rings_of(geom):
        p, q = ring[:-1], ring[1:]
        swap = (q[:, 0] < p[:, 0]) | ((q[:, 0] == p[:, 0]) & (q[:, 1] < p[:, 1]))
        a = np.where(swap[:, None], q, p)
        b = np.where(swap[:, None], p, q)
        frames.append(pd.DataFrame({"ax": a[:, 0], "ay": a[:, 1], "bx": b[:, 0], "by": b[:, 1]}))
    df = pd.concat(frames, ignore_index=True)
    df["length"] = length
    return df


def _walk(rng: np.random.Generator, start: tuple[float, float], heading: float, length: float,
          step: float, bounds: tuple[float, float, float, float], turn: float = 0.3) -> LineString:
    """A smooth random walk kept inside ``bounds``."""
    xmin, ymin, xmax, ymax = bounds
    x, y = start
    pts = [(x, y)]
    for _ in range(max(2, int(length / step))):
        heading += rng.normal(0.0, turn)
        nx, ny = x + step * math.cos(heading), y + step * math.sin(heading)
        if not (xmin < nx < xmax and ymin < ny < ymax):
            heading += math.pi + rng.normal(0.0, 0.3)
            nx, ny = x + step * math.cos(heading), y + step * math.sin(heading)
            nx, ny = min(max(nx, xmin + 1), xmax - 1), min(max(ny, ymin + 1), ymax - 1)
        x, y = nx, ny
        pts.append((x, y))
    return LineString(pts)


def _polygonal_parts(geom: BaseGeometry, min_area: float = 0.0) -> list[Polygon]:
    if geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        parts = [geom]
    else:
        parts = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon)]
        parts = [q for g in parts for q in ([g] if isinstance(g, Polygon) else g.geoms)]
    return [g for g in parts if g.area > min_area]


def synthesise_farmland(spec: Spec, rng: np.random.Generator, plan: Plan) -> None:
    """Voronoi coverage with gaps, holes, merged and giant polygons (exact shared edges)."""
    ext = spec.extent
    xmin, ymin, xmax, ymax = ext.bounds
    pts = np.column_stack(
        [rng.uniform(xmin, xmax, spec.seed_points), rng.uniform(ymin, ymax, spec.seed_points)]
    )
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=ext, ordered=True)
    )
    b = shapely.bounds(cells)
    inside = (b[:, 0] > xmin) & (b[:, 1] > ymin) & (b[:, 2] < xmax) & (b[:, 3] < ymax)
    cells = cells[inside]
    n = len(cells)
    tree = STRtree(cells)
    left, right = tree.query(cells, predicate="touches")
    adj: list[list[int]] = [[] for _ in range(n)]
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i != j:
            adj[i].append(j)
    is_farm = rng.random(n) >= spec.gap_share
    owner = np.full(n, -1, dtype=np.int64)  # group of a merged / giant cell
    groups: list[tuple[str, list[int], float]] = []  # kind, cells, target vertices
    centroids = shapely.centroid(cells)
    ctree = STRtree(centroids)
    log(f"farmland: {spec.seed_points} seeds, {n} inner Voronoi cells, {int(is_farm.sum())} farmland cells")

    def component(candidates: set[int], seed: int) -> list[int]:
        seen, todo = {seed}, deque([seed])
        while todo:
            c = todo.popleft()
            for d in adj[c]:
                if d in candidates and d not in seen:
                    seen.add(d)
                    todo.append(d)
        return sorted(seen)

    # Giants: farmland along a valley (cells near a random walk), dendritic and long-bordered.
    bounds = (xmin + 1500, ymin + 1500, xmax - 1500, ymax - 1500)
    for g in range(spec.giants):
        for _attempt in range(20):
            start = (rng.uniform(bounds[0], bounds[2]), rng.uniform(bounds[1], bounds[3]))
            line = _walk(rng, start, rng.uniform(0, 2 * math.pi), spec.giant_length, 300.0, bounds, 0.25)
            width = rng.uniform(280.0, 420.0)
            near = ctree.query(line, predicate="dwithin", distance=width)
            cand = {int(c) for c in near if is_farm[c] and owner[c] < 0}
            if len(cand) < 50:
                continue
            best: list[int] = []
            pool = set(cand)
            while pool:
                comp = component(cand, next(iter(pool)))
                pool -= set(comp)
                if len(comp) > len(best):
                    best = comp
            if len(best) >= 0.5 * len(cand):
                break
        target = math.exp(rng.uniform(*map(math.log, spec.giant_vertices)))
        owner[best] = len(groups)
        groups.append(("giant", best, target))
    # Merged: compact blobs grown from random seeds until about 2 % of the farmland cells are merged.
    farm_idx = np.nonzero(is_farm)[0]
    want = spec.merged_share * len(farm_idx)
    merged_cells = 0
    while merged_cells < want:
        seed = int(rng.choice(farm_idx))
        if owner[seed] >= 0:
            continue
        size = int(rng.integers(spec.merged_cells[0], spec.merged_cells[1] + 1))
        blob, frontier = [seed], [d for d in adj[seed]]
        taken = {seed}
        while len(blob) < size and frontier:
            c = frontier.pop(int(rng.integers(len(frontier))))
            if c in taken or not is_farm[c] or owner[c] >= 0:
                continue
            taken.add(c)
            blob.append(c)
            frontier.extend(adj[c])
        if len(blob) < spec.merged_cells[0] // 2:
            continue
        target = math.exp(rng.uniform(*map(math.log, spec.merged_vertices)))
        owner[blob] = len(groups)
        groups.append(("merged", sorted(blob), target))
        merged_cells += len(blob)

    # Union the groups (coverage union: exact, no noding) and give their edges a finer spacing.
    geoms: list[BaseGeometry] = []
    kinds: list[str] = []
    overrides = []
    for kind, members, target in groups:
        union = shapely.coverage_union_all(cells[members])
        if not isinstance(union, Polygon | MultiPolygon):
            union = MultiPolygon(_polygonal_parts(union))
        perimeter = union.boundary.length
        length = min(spec.segment, perimeter / max(target - shapely.get_num_coordinates(union), 500.0))
        overrides.append(_segment_keys(union, length))
        geoms.append(union)
        kinds.append(kind)
    # Single cells, 10 % with a small hole.
    singles = [int(c) for c in farm_idx if owner[c] < 0]
    for c in singles:
        cell = cells[c]
        if rng.random() < spec.hole_share:
            centre = polylabel(cell, tolerance=1.0)
            room = cell.exterior.distance(centre)
            radius = min(rng.uniform(5.0, 20.0), 0.4 * room)
            if radius >= 2.0:
                k = int(rng.integers(8, 17))
                ang = np.linspace(2 * math.pi, 0, k, endpoint=False) + rng.uniform(0, math.pi)
                hole = np.column_stack([centre.x + radius * np.cos(ang), centre.y + radius * np.sin(ang)])
                cell = Polygon(cell.exterior.coords, [np.vstack([hole, hole[:1]])])
        geoms.append(cell)
        kinds.append("cell")
    over = pd.concat(overrides, ignore_index=True) if overrides else pd.DataFrame(
        columns=["ax", "ay", "bx", "by", "length"]
    )
    over = over.groupby(["ax", "ay", "bx", "by"], as_index=False)["length"].min()
    all_rings: list[np.ndarray] = []
    ring_counts = []
    for g in geoms:
        rings = _rings_of(g)
        ring_counts.append(len(rings))
        all_rings.extend(rings)
    dense = _canonical_densify(all_rings, spec.segment, over)
    pos = 0
    for i, g in enumerate(geoms):
        geoms[i] = _rebuild(g, dense[pos : pos + ring_counts[i]])
        pos += ring_counts[i]
    # Shuffle so the ids of giants/merged are not all first.
    order = rng.permutation(len(geoms))
    plan.farmland = [geoms[i] for i in order]
    plan.farmland_kind = [kinds[i] for i in order]
    verts = shapely.get_num_coordinates(np.array(plan.farmland, dtype=object))
    kinds_arr = np.array(plan.farmland_kind)
    holes = sum(1 for g, k in zip(plan.farmland, plan.farmland_kind, strict=True)
                if k == "cell" and len(g.interiors))
    cell_v = verts[kinds_arr == "cell"]
    plan.stats["farmland"] = {
        "polygons": len(plan.farmland),
        "vertices": int(verts.sum()),
        "cells": int((kinds_arr == "cell").sum()),
        "cells_with_hole": holes,
        "cell_vertices_p1_p50_p99": [int(np.percentile(cell_v, q)) for q in (1, 50, 99)],
        "cell_vertices_share_30_300": round(float(((cell_v >= 30) & (cell_v <= 300)).mean()), 4),
        "merged": int((kinds_arr == "merged").sum()),
        "merged_cells": int(merged_cells),
        "merged_vertices_min_max": [int(verts[kinds_arr == "merged"].min()), int(verts[kinds_arr == "merged"].max())]
        if (kinds_arr == "merged").any() else [],
        "giant_vertices": sorted(int(v) for v in verts[kinds_arr == "giant"]),
    }
    log(f"farmland: {plan.stats['farmland']}")


def _star(rng: np.random.Generator, cx: float, cy: float, area: float, n_vertices: int) -> Polygon:
    theta = np.linspace(0, 2 * math.pi, n_vertices, endpoint=False)
    r = np.ones_like(theta)
    for k in range(2, 9):
        r += rng.uniform(0, 0.3 / k) * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
    r += 0.01 * np.cos(37 * theta + rng.uniform(0, 6.3))
    poly = Polygon(np.column_stack([cx + r * np.cos(theta), cy + r * np.sin(theta)]))
    return shapely.affinity.scale(poly, math.sqrt(area / poly.area), math.sqrt(area / poly.area), origin=(cx, cy))


def synthesise_urban_and_redline(spec: Spec, rng: np.random.Generator, plan: Plan) -> None:
    """Five urban-boundary blobs and ten red-line multipolygons (disjoint, ~0.5 M vertices)."""
    xmin, ymin, xmax, ymax = spec.extent.bounds
    margin = 2500.0 * math.sqrt(spec.scale) + 500
    urban: list[Polygon] = []
    while len(urban) < spec.urbans:
        area = rng.uniform(*spec.urban_km2) * 1e6
        cx, cy = rng.uniform(xmin + margin, xmax - margin), rng.uniform(ymin + margin, ymax - margin)
        poly = _star(rng, cx, cy, area, int(rng.integers(900, 2600)))
        if poly.is_valid and all(poly.distance(u) > 1000 for u in urban):
            urban.append(poly)
    plan.urban = urban
    bounds = (xmin + 200, ymin + 200, xmax - 200, ymax - 200)
    raw: list[BaseGeometry] = []
    for i in range(spec.redlines):
        parts = []
        for j in range(int(rng.integers(3, 8))):
            length = rng.uniform(5_000, 12_000) * math.sqrt(spec.scale)
            if j == 0 and i < len(urban):
                # Start at the urban boundary, heading out: red line and urban boundary meet here.
                u = urban[i]
                c = u.centroid
                ang = rng.uniform(0, 2 * math.pi)
                ray = LineString([(c.x, c.y), (c.x + 1e5 * math.cos(ang), c.y + 1e5 * math.sin(ang))])
                hit = ray.intersection(u.exterior)
                hp = hit if isinstance(hit, Point) else shapely.get_parts(hit)[0]
                start, heading = (hp.x, hp.y), ang
            else:
                start = (rng.uniform(bounds[0], bounds[2]), rng.uniform(bounds[1], bounds[3]))
                heading = rng.uniform(0, 2 * math.pi)
            line = _walk(rng, start, heading, length, 200.0, bounds, 0.35)
            parts.append(line.buffer(rng.uniform(120.0, 400.0), quad_segs=4))
        raw.append(shapely.union_all(parts))
    done = None
    shares = rng.uniform(0.5, 1.5, spec.redlines)
    shares /= shares.sum()
    redline: list[MultiPolygon] = []
    for i, geom in enumerate(raw):
        own = geom if done is None else geom.difference(done)
        done = geom if done is None else shapely.union(done, geom)
        mp = MultiPolygon(_polygonal_parts(own, min_area=1000.0))
        target = spec.redline_vertices * shares[i]
        perimeter = mp.boundary.length
        seg = perimeter / max(target - shapely.get_num_coordinates(mp), 1000.0)
        mp = shapely.segmentize(mp, seg)
        if not mp.is_valid:
            mp = MultiPolygon(_polygonal_parts(shapely.make_valid(mp)))
        redline.append(mp)
    plan.redline = redline
    rv = [shapely.get_num_coordinates(g) for g in redline]
    uv = [shapely.get_num_coordinates(g) for g in urban]
    plan.stats["redline"] = {"multipolygons": len(redline), "vertices": int(sum(rv)),
                             "parts": int(sum(len(g.geoms) for g in redline)),
                             "area_km2": round(sum(g.area for g in redline) / 1e6, 1)}
    plan.stats["urban"] = {"polygons": len(urban), "vertices": int(sum(uv)),
                           "area_km2": round(sum(g.area for g in urban) / 1e6, 1)}
    log(f"red line: {plan.stats['redline']}; urban boundary: {plan.stats['urban']}")


def _rect(rng: np.random.Generator, cx: float, cy: float, area: float) -> Polygon:
    aspect = rng.uniform(0.5, 2.0)
    w = math.sqrt(area * aspect)
    h = area / w
    poly = box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    return shapely.affinity.rotate(poly, rng.uniform(0, 180), origin=(cx, cy))


def _random_parcel(rng: np.random.Generator, cx: float, cy: float, area: float) -> Polygon:
    if rng.random() < 0.5:
        return _rect(rng, cx, cy, area)
    k = int(rng.integers(5, 13))
    ang = np.sort(rng.uniform(0, 2 * math.pi, k))
    r = rng.uniform(0.7, 1.3, k)
    poly = Polygon(np.column_stack([cx + r * np.cos(ang), cy + r * np.sin(ang)]))
    f = math.sqrt(area / poly.area)
    return shapely.affinity.scale(poly, f, f, origin=(cx, cy))


def _area_ha(rng: np.random.Generator, low: float = 1.0, high: float = 50.0) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high))) * 1e4


def synthesise_parcels(spec: Spec, rng: np.random.Generator, plan: Plan) -> None:
    """1,000 parcels: snapped, straddling, inside one farmland polygon, random."""
    xmin, ymin, xmax, ymax = spec.extent.bounds
    farm = np.array(plan.farmland, dtype=object)
    ftree = STRtree(farm)
    red_parts = np.array([p for g in plan.redline for p in g.geoms], dtype=object)
    rtree = STRtree(red_parts)
    utree = STRtree(np.array(plan.urban, dtype=object))
    n = spec.parcels
    counts = {"snapped": round(0.30 * n), "straddling": round(0.10 * n), "inside": round(0.05 * n)}
    counts["random"] = n - sum(counts.values())
    out: list[tuple[str, Polygon]] = []
    cell_idx = np.array([i for i, k in enumerate(plan.farmland_kind) if k == "cell"])
    big_idx = np.array([i for i, k in enumerate(plan.farmland_kind) if k != "cell"])

    def ok(poly: BaseGeometry) -> bool:
        return (isinstance(poly, Polygon) and poly.is_valid and 1e4 <= poly.area <= 50e4
                and spec.extent.contains(poly))

    def layer_area(tree: STRtree, geoms: np.ndarray, poly: Polygon) -> float:
        hits = tree.query(poly, predicate="intersects")
        return float(sum(shapely.area(shapely.intersection(geoms[hits], poly)))) if len(hits) else 0.0

    # Snapped: share edges/vertices with farmland cells.
    while sum(1 for k, _ in out if k == "snapped") < counts["snapped"]:
        f = farm[int(rng.choice(cell_idx))]
        ring = np.asarray(f.exterior.coords)
        vx, vy = ring[int(rng.integers(len(ring) - 1))]
        mode = rng.random()
        if mode < 0.4:  # beside the cell, its edge as the parcel's edge
            cand = _rect(rng, vx + rng.normal(0, 50), vy + rng.normal(0, 50), _area_ha(rng, 1.5, 50))
            cand = cand.difference(f)
        elif mode < 0.7:  # drawn around all farmland: edges of every farmland polygon it meets
            cand = _rect(rng, vx + rng.normal(0, 50), vy + rng.normal(0, 50), _area_ha(rng, 2, 50))
            hits = ftree.query(cand, predicate="intersects")
            cand = cand.difference(shapely.coverage_union_all(farm[hits])) if len(hits) else cand
        else:  # on the cell, cut to its edge
            cand = _rect(rng, vx, vy, _area_ha(rng, 1.0, 50)).intersection(f)
        parts = _polygonal_parts(cand)
        if not parts:
            continue
        cand = max(parts, key=lambda g: g.area)
        if ok(cand):
            out.append(("snapped", cand))
    # Straddling: across the urban boundary where a red line meets it, over farmland.
    urban_arr = np.array(plan.urban, dtype=object)
    tries = 0
    while sum(1 for k, _ in out if k == "straddling") < counts["straddling"]:
        tries += 1
        u = plan.urban[int(rng.integers(len(plan.urban)))]
        pt = u.exterior.interpolate(rng.uniform(0, u.exterior.length))
        if tries < 200_000 and not len(rtree.query(pt, predicate="dwithin", distance=150.0)):
            continue
        cand = _rect(rng, pt.x + rng.normal(0, 80), pt.y + rng.normal(0, 80), _area_ha(rng, 15, 50))
        if not ok(cand):
            continue
        fa = layer_area(ftree, farm, cand)
        ra = layer_area(rtree, red_parts, cand)
        ua = layer_area(utree, urban_arr, cand)
        if min(fa, ra, ua) >= 100.0 and ua < cand.area - 100.0:
            out.append(("straddling", cand))
    # Inside one farmland polygon, with a margin.
    while sum(1 for k, _ in out if k == "inside") < counts["inside"]:
        pick = big_idx if (len(big_idx) and rng.random() < 0.4) else cell_idx
        f = farm[int(rng.choice(pick))]
        if f.area < 2.5e4:
            continue
        area = _area_ha(rng, 1.0, min(50.0, 0.5 * f.area / 1e4))
        fxmin, fymin, fxmax, fymax = f.bounds
        for _ in range(60):
            cx, cy = rng.uniform(fxmin, fxmax), rng.uniform(fymin, fymax)
            cand = _rect(rng, cx, cy, area)
            if ok(cand) and f.contains(cand.buffer(2.0)):
                out.append(("inside", cand))
                break
    # Random.
    while sum(1 for k, _ in out if k == "random") < counts["random"]:
        cand = _random_parcel(rng, rng.uniform(xmin + 800, xmax - 800), rng.uniform(ymin + 800, ymax - 800),
                              _area_ha(rng))
        if ok(cand):
            out.append(("random", cand))
    order = rng.permutation(len(out))
    plan.parcels = [out[i][1] for i in order]
    plan.parcel_kind = [out[i][0] for i in order]
    pv = shapely.get_num_coordinates(np.array(plan.parcels, dtype=object))
    plan.stats["parcels"] = {"count": len(plan.parcels), **counts, "vertices": int(pv.sum()),
                             "area_ha_min_max": [round(min(p.area for p in plan.parcels) / 1e4, 2),
                                                 round(max(p.area for p in plan.parcels) / 1e4, 2)]}
    log(f"parcels: {plan.stats['parcels']}")


def synthesise(spec: Spec, seed: int) -> Plan:
    """The whole synthetic county from one seed."""
    rng = np.random.default_rng(seed)
    plan = Plan()
    synthesise_farmland(spec, rng, plan)
    synthesise_urban_and_redline(spec, rng, plan)
    synthesise_parcels(spec, rng, plan)
    return plan
