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

* W1, one parcel against all layers: the check's overlay step ``land.layer_overlaps(session, edition,
  [id])`` (reads the parcel's geometry by id, overlays it on the edition's cached piece index) against
  a naive PostGIS query on the original ``plan_features`` (ST_Intersects join +
  ST_Area(ST_Intersection)), alternated parcel by parcel, p50 and p95 over all parcels; the index is
  loaded once before (as the first check of a server process, or the plan import, loads it) and its
  load time and memory are reported;
* W2, all parcels: ``layer_overlaps`` in chunks of ``CHECK_CHUNK`` ids (as ``_check_in_tx`` does) against
  ``geopandas.overlay(parcels, layer, how="intersection", keep_geom_type=True)`` per layer on the same
  geometries read back from the database (reading time excluded); three alternating rounds, best of
  each side reported;
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
from server.services.land import CHECK_CHUNK

_T0 = time.perf_counter()

#: Layer names of the project (``plan_features.layer``).
FARMLAND, REDLINE, URBAN = "farmland", "redline", "urban_boundary"
LAYERS = (FARMLAND, REDLINE, URBAN)
#: Source file names as delivered planning data would name them.
SOURCE_FILES = {FARMLAND: "YJJBNTBHTB.shp", REDLINE: "STBHHX.shp", URBAN: "CZKFBJ.shp"}
#: Overlaps below this area (m2) are slivers: compared apart, on both sides alike.
SLIVER_M2 = 1.0
#: Chunk of parcel ids per layer_overlaps call in W2 (what ``_check_in_tx`` uses).
W2_CHUNK = CHECK_CHUNK
#: W2 rounds, own and geopandas alternated; the best of each is reported (the machine may be shared).
W2_REPEATS = 3

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


def _canonical_densify(
    rings: list[np.ndarray], default_len: float, overrides: pd.DataFrame
) -> list[np.ndarray]:
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


def _walk(
    rng: np.random.Generator,
    start: tuple[float, float],
    heading: float,
    length: float,
    step: float,
    bounds: tuple[float, float, float, float],
    turn: float = 0.3,
) -> LineString:
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
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=ext, ordered=True))
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
    for _giant in range(spec.giants):
        best: list[int] = []
        for _attempt in range(20):
            start = (rng.uniform(bounds[0], bounds[2]), rng.uniform(bounds[1], bounds[3]))
            line = _walk(rng, start, rng.uniform(0, 2 * math.pi), spec.giant_length, 300.0, bounds, 0.25)
            width = rng.uniform(280.0, 420.0)
            near = ctree.query(line, predicate="dwithin", distance=width)
            cand = {int(c) for c in near if is_farm[c] and owner[c] < 0}
            if len(cand) < 50:
                continue
            best = []
            pool = set(cand)
            while pool:
                comp = component(cand, next(iter(pool)))
                pool -= set(comp)
                if len(comp) > len(best):
                    best = comp
            if len(best) >= 0.5 * len(cand):
                break
        if not best:
            continue
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
    over = (
        pd.concat(overrides, ignore_index=True)
        if overrides
        else pd.DataFrame(columns=["ax", "ay", "bx", "by", "length"])
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
    holes = sum(
        1 for g, k in zip(plan.farmland, plan.farmland_kind, strict=True) if k == "cell" and len(g.interiors)
    )
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
        "merged_vertices_min_max": [
            int(verts[kinds_arr == "merged"].min()),
            int(verts[kinds_arr == "merged"].max()),
        ]
        if (kinds_arr == "merged").any()
        else [],
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
    return shapely.affinity.scale(
        poly, math.sqrt(area / poly.area), math.sqrt(area / poly.area), origin=(cx, cy)
    )


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
    plan.stats["redline"] = {
        "multipolygons": len(redline),
        "vertices": int(sum(rv)),
        "parts": int(sum(len(g.geoms) for g in redline)),
        "area_km2": round(sum(g.area for g in redline) / 1e6, 1),
    }
    plan.stats["urban"] = {
        "polygons": len(urban),
        "vertices": int(sum(uv)),
        "area_km2": round(sum(g.area for g in urban) / 1e6, 1),
    }
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
        return (
            isinstance(poly, Polygon)
            and poly.is_valid
            and 1e4 <= poly.area <= 50e4
            and spec.extent.contains(poly)
        )

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
        if tries > 1_000_000:
            raise RuntimeError("could not place straddling parcels; try another seed")
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
        cand = _random_parcel(
            rng, rng.uniform(xmin + 800, xmax - 800), rng.uniform(ymin + 800, ymax - 800), _area_ha(rng)
        )
        if ok(cand):
            out.append(("random", cand))
    order = rng.permutation(len(out))
    plan.parcels = [out[i][1] for i in order]
    plan.parcel_kind = [out[i][0] for i in order]
    pv = shapely.get_num_coordinates(np.array(plan.parcels, dtype=object))
    plan.stats["parcels"] = {
        "count": len(plan.parcels),
        **counts,
        "vertices": int(pv.sum()),
        "area_ha_min_max": [
            round(min(p.area for p in plan.parcels) / 1e4, 2),
            round(max(p.area for p in plan.parcels) / 1e4, 2),
        ],
    }
    log(f"parcels: {plan.stats['parcels']}")


def synthesise(spec: Spec, seed: int) -> Plan:
    """The whole synthetic county from one seed."""
    rng = np.random.default_rng(seed)
    plan = Plan()
    synthesise_farmland(spec, rng, plan)
    synthesise_urban_and_redline(spec, rng, plan)
    synthesise_parcels(spec, rng, plan)
    return plan


# --------------------------------------------------------------------------------------------------
# Loading through the project's own path
# --------------------------------------------------------------------------------------------------


def _to_storage(geoms: list[BaseGeometry]) -> tuple[np.ndarray, int]:
    """Area CRS -> storage CRS with the project's transformer, as MultiPolygons, repaired if needed."""
    t = crs.transformer(crs.AREA_SRID, crs.STORAGE_SRID)
    arr = shapely.transform(np.array(geoms, dtype=object), t.transform, interleaved=False)
    bad = ~shapely.is_valid(arr)
    for i in np.nonzero(bad)[0]:
        arr[i] = MultiPolygon(_polygonal_parts(shapely.make_valid(arr[i])))
    return np.array(
        [g if isinstance(g, MultiPolygon) else MultiPolygon([g]) for g in arr], dtype=object
    ), int(bad.sum())


def load(session: Any, spec: Spec, plan: Plan) -> dict[str, Any]:
    """Minimal unit/user/township/project/county rows, the plan edition, pieces and parcels."""
    from geoalchemy2.shape import from_shape
    from sqlalchemy import text

    from server.models import CountyBoundary, LandParcel, PlanEdition, Project, Township, Unit, User
    from server.repositories import land as land_repo

    info: dict[str, Any] = {}
    county = crs.reproject(spec.extent.buffer(2000, join_style="mitre"), crs.AREA_SRID, crs.STORAGE_SRID)
    county_mp = from_shape(MultiPolygon([county]), srid=crs.STORAGE_SRID)
    session.add(
        CountyBoundary(adcode="620521", name="清水县（基准测试）", source="bench.conflicts", geom=county_mp)
    )
    town = Township(code="620521100", name="基准测试镇", illustrative=True, geom=county_mp)
    session.add(town)
    session.flush()
    unit = Unit(name="基准测试单位", kind="department", township_id=None)
    session.add(unit)
    session.flush()
    leader = User(
        username="bench_leader", full_name="基准测试", password_hash="!", role="leader", unit_id=unit.id
    )
    session.add(leader)
    session.flush()
    projects = []
    for i in range(2):
        project = Project(
            code=f"2027-620521-48-01-99{i:04d}",
            name=f"基准测试项目{i + 1}",
            category="new_start",
            industry="基准测试",
            township_id=town.id,
            lead_unit_id=unit.id,
            legal_person_unit_id=unit.id,
            leader_id=leader.id,
            content="合成数据",
            total_investment_yuan=Decimal("60000000"),
            annual_plan_yuan=Decimal("20000000"),
            planned_start=dt.date(2027, 4, 1),
            list_year=2027,
            status="not_started",
            list_tier="city_key",
            energy_review_level="none",
        )
        session.add(project)
        projects.append(project)
    session.flush()
    edition = land_repo.add_edition(
        session,
        PlanEdition(name="基准测试规划", description="bench.conflicts", created_by_id=leader.id, report={}),
    )
    info["edition_id"] = edition.id

    t0 = time.perf_counter()
    repaired = 0
    feature_rows = 0
    for layer, geoms in ((FARMLAND, plan.farmland), (REDLINE, plan.redline), (URBAN, plan.urban)):
        stored, fixed = _to_storage(geoms)
        repaired += fixed
        wkbs = shapely.to_wkb(stored)
        rows = [
            {
                "edition_id": edition.id,
                "layer": layer,
                "class_code": None,
                "class_name": None,
                "source_file": SOURCE_FILES[layer],
                "source_index": i,
                "repaired": False,
                "attributes": {},
                "wkb": wkb,
            }
            for i, wkb in enumerate(wkbs)
        ]
        for start in range(0, len(rows), 500):
            land_repo.add_plan_features(session, rows[start : start + 500])
        feature_rows += len(rows)
        log(f"load: {len(rows)} {layer} features inserted ({fixed} repaired after reprojection)")
    info["features_s"] = time.perf_counter() - t0
    info["features"] = feature_rows
    info["repaired_after_reprojection"] = repaired
    t1 = time.perf_counter()
    info["pieces"] = land_repo.build_pieces(session, edition.id)
    info["build_pieces_s"] = time.perf_counter() - t1
    log(f"load: {info['pieces']} pieces built in {info['build_pieces_s']:.1f} s")

    t2 = time.perf_counter()
    stored, fixed = _to_storage(plan.parcels)
    info["parcels_repaired_after_reprojection"] = fixed
    ids = []
    for i, (geom, kind) in enumerate(zip(stored, plan.parcel_kind, strict=True)):
        area_geom = crs.to_area_crs(geom)
        area_mp = area_geom if isinstance(area_geom, MultiPolygon) else MultiPolygon([area_geom])
        parcel = LandParcel(
            project_id=projects[i % 2].id,
            year=2027,
            parcel_code=f"BENCH-{i + 1:05d}",
            name=f"{kind}-{i + 1}",
            land_class="0701",
            land_use=None,
            construction_land="new",
            status="draft",
            zone=crs.gk3_zone_for_longitude(geom.centroid.x),
            geom=from_shape(geom, srid=crs.STORAGE_SRID),
            geom_area=from_shape(area_mp, srid=crs.AREA_SRID),
            area_m2=float(area_geom.area),
            ellipsoidal_area_m2=crs.ellipsoidal_area_m2(geom),
            declared_area_ha=None,
            source="bench",
            deadline=dt.date(2026, 10, 31),
            created_by_id=leader.id,
        )
        session.add(parcel)
        ids.append(parcel)
    session.flush()
    info["parcel_ids"] = [p.id for p in ids]
    info["parcel_kind_by_id"] = {p.id: k for p, k in zip(ids, plan.parcel_kind, strict=True)}
    info["parcels_s"] = time.perf_counter() - t2
    session.commit()
    t3 = time.perf_counter()
    session.execute(text("ANALYZE"))
    session.commit()
    info["analyze_s"] = time.perf_counter() - t3
    row = session.execute(
        text(
            "SELECT (SELECT count(*) FROM plan_features WHERE NOT ST_IsValid(geom_area)),"
            " (SELECT sum(ST_NPoints(geom_area)) FROM plan_features),"
            " (SELECT sum(ST_NPoints(geom)) FROM plan_pieces),"
            " (SELECT max(ST_NPoints(geom)) FROM plan_pieces)"
        )
    ).one()
    info["invalid_geom_area"] = int(row[0])
    info["stored_vertices"] = int(row[1])
    info["piece_vertices"] = int(row[2])
    info["piece_max_vertices_seen"] = int(row[3])
    log(
        f"load: parcels in {info['parcels_s']:.1f} s, ANALYZE {info['analyze_s']:.1f} s;"
        f" invalid geom_area after ST_Transform: {info['invalid_geom_area']}"
    )
    return info


# --------------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------------

Areas = dict[tuple[int, str], float]


def _own_areas(rows: list[Any]) -> Areas:
    out: Areas = defaultdict(float)
    for r in rows:
        out[(r.parcel_id, r.layer)] += r.area_m2
    return dict(out)


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def detached_edition(session: Any, edition_id: int) -> Any:
    """The edition row, detached so that the per-call rollbacks do not expire it (it never changes)."""
    from server.models import PlanEdition

    edition = session.get(PlanEdition, edition_id)
    session.expunge(edition)
    return edition


def own_overlaps(session: Any, edition: Any, ids: list[int]) -> list[Any]:
    """The project's overlay step, as ``_check_in_tx`` runs it (parcels given by id)."""
    from server.services import land

    return land.layer_overlaps(session, edition, ids)


def warm_up(session: Any, ids: list[int], edition: Any) -> dict[str, Any]:
    """Read every geometry once (OS and shared buffers), load the edition index, run both on a few parcels."""
    from sqlalchemy import text

    from server.services import plan_index_cache

    session.execute(text("SELECT sum(ST_NPoints(geom)) FROM plan_pieces")).one()
    session.execute(text("SELECT sum(ST_NPoints(geom_area)) FROM plan_features")).one()
    session.execute(text("SELECT sum(ST_NPoints(geom_area)) FROM land_parcels")).one()
    rss = _rss_mb()
    t = time.perf_counter()
    index = plan_index_cache.edition_index(session, edition)
    load_s = time.perf_counter() - t
    session.rollback()
    info = {
        "index_load_s": load_s,
        "index_pieces": len(index) if index is not None else 0,
        "index_vertices": index.vertices if index is not None else 0,
        "index_rss_mb": _rss_mb() - rss,
    }
    log(
        f"edition index loaded in {load_s:.2f} s: {info['index_pieces']} pieces,"
        f" {info['index_vertices']:,} vertices, RSS +{info['index_rss_mb']:.0f} MB"
    )
    for pid in ids[:40]:
        own_overlaps(session, edition, [pid])
        session.execute(text(NAIVE_SQL), {"id": pid, "e": edition.id}).all()
    session.rollback()
    return info


def measure_w1(session: Any, ids: list[int], edition: Any, rng: np.random.Generator) -> dict[str, Any]:
    """One parcel against all layers: own vs naive, alternating which goes first."""
    from sqlalchemy import text

    naive_stmt = text(NAIVE_SQL)
    own_ms: dict[int, float] = {}
    naive_ms: dict[int, float] = {}
    own: Areas = {}
    naive: Areas = {}
    order = [int(i) for i in rng.permutation(ids)]
    for k, pid in enumerate(order):
        for which in ("own", "naive") if k % 2 == 0 else ("naive", "own"):
            t = time.perf_counter()
            if which == "own":
                rows = own_overlaps(session, edition, [pid])
                own_ms[pid] = (time.perf_counter() - t) * 1e3
                own.update(_own_areas(rows))
            else:
                rows = session.execute(naive_stmt, {"id": pid, "e": edition.id}).all()
                naive_ms[pid] = (time.perf_counter() - t) * 1e3
                for layer, area in rows:
                    naive[(pid, layer)] = float(area)
            session.rollback()  # each call in its own transaction, as a request would run it
        if (k + 1) % 200 == 0:
            log(
                f"W1: {k + 1}/{len(order)} parcels; own p95 so far {_pct(list(own_ms.values()), 95):.1f} ms,"
                f" naive p95 {_pct(list(naive_ms.values()), 95):.1f} ms"
            )
    session.rollback()
    return {"own_ms": own_ms, "naive_ms": naive_ms, "own": own, "naive": naive}


def measure_w2_own(session: Any, ids: list[int], edition: Any) -> dict[str, Any]:
    """All parcels through layer_overlaps, in chunks of W2_CHUNK ids as the service checks them."""
    t = time.perf_counter()
    rows = []
    for start in range(0, len(ids), W2_CHUNK):
        rows.extend(own_overlaps(session, edition, ids[start : start + W2_CHUNK]))
    elapsed = time.perf_counter() - t
    session.rollback()
    return {"s": elapsed, "areas": _own_areas(rows)}


def measure_w2_own_single_call(session: Any, ids: list[int], edition: Any) -> dict[str, Any]:
    """All parcels in one layer_overlaps call (informational)."""
    t = time.perf_counter()
    rows = own_overlaps(session, edition, ids)
    elapsed = time.perf_counter() - t
    session.rollback()
    return {"s": elapsed, "areas": _own_areas(rows)}


def measure_sql_path(session: Any, ids: list[int], edition: Any) -> dict[str, Any]:
    """The SQL path (used when an edition is too big to cache) on the same parcels: areas, informational."""
    from server.repositories import land as land_repo

    rows = []
    t = time.perf_counter()
    for start in range(0, len(ids), W2_CHUNK):
        rows.extend(land_repo.plan_overlaps(session, ids[start : start + W2_CHUNK], edition.id))
    elapsed = time.perf_counter() - t
    session.rollback()
    return {"s": elapsed, "areas": _own_areas(rows)}


def read_geopandas_frames(engine: Any, edition_id: int) -> dict[str, Any]:
    """Parcels and plan layers as GeoDataFrames, read back from the database (not timed as W2)."""
    import geopandas

    t = time.perf_counter()
    parcels = geopandas.read_postgis(
        "SELECT id AS parcel_id, geom_area FROM land_parcels ORDER BY id", engine, geom_col="geom_area"
    )
    features = geopandas.read_postgis(
        f"SELECT id AS feature_id, layer, geom_area FROM plan_features WHERE edition_id = {int(edition_id)}"
        " ORDER BY id",
        engine,
        geom_col="geom_area",
    )
    layers = {layer: features[features["layer"] == layer].reset_index(drop=True) for layer in LAYERS}
    read_s = time.perf_counter() - t
    log(f"W2 geopandas: read {len(parcels)} parcels, {len(features)} features in {read_s:.1f} s (not timed)")
    return {"parcels": parcels, "layers": layers, "read_s": read_s}


def measure_w2_geopandas(frames: dict[str, Any]) -> dict[str, Any]:
    """geopandas.overlay of the parcels with each layer, areas summed per (parcel, layer)."""
    import geopandas

    areas: Areas = {}
    per_layer: dict[str, float] = {}
    t = time.perf_counter()
    for layer in LAYERS:
        tl = time.perf_counter()
        result = geopandas.overlay(
            frames["parcels"], frames["layers"][layer], how="intersection", keep_geom_type=True
        )
        sums = result.geometry.area.groupby(result["parcel_id"]).sum()
        for pid, area in sums.items():
            areas[(int(pid), layer)] = float(area)
        per_layer[layer] = time.perf_counter() - tl
    return {"s": time.perf_counter() - t, "per_layer_s": per_layer, "areas": areas}


def measure_w2(session: Any, engine: Any, ids: list[int], edition: Any) -> dict[str, Any]:
    """W2 own and geopandas, alternated W2_REPEATS times (best of each is reported, all runs kept)."""
    frames = read_geopandas_frames(engine, edition.id)
    own_runs: list[dict[str, Any]] = []
    gp_runs: list[dict[str, Any]] = []
    for rep in range(W2_REPEATS):
        for which in ("own", "geopandas") if rep % 2 == 0 else ("geopandas", "own"):
            if which == "own":
                own_runs.append(measure_w2_own(session, ids, edition))
            else:
                gp_runs.append(measure_w2_geopandas(frames))
        per_layer = {k: round(v, 2) for k, v in gp_runs[-1]["per_layer_s"].items()}
        log(
            f"W2 round {rep + 1}/{W2_REPEATS}: own {own_runs[-1]['s']:.2f} s (chunks of {W2_CHUNK}),"
            f" geopandas {gp_runs[-1]['s']:.2f} s {per_layer}"
        )
    single = measure_w2_own_single_call(session, ids, edition)
    sql_path = measure_sql_path(session, ids, edition)
    log(f"W2 SQL path (informational): {sql_path['s']:.2f} s")
    best_own = min(own_runs, key=lambda r: r["s"])
    best_gp = min(gp_runs, key=lambda r: r["s"])
    assert single["areas"].keys() == best_own["areas"].keys()
    return {
        "own": best_own,
        "geopandas": best_gp,
        "own_runs_s": [round(r["s"], 3) for r in own_runs],
        "geopandas_runs_s": [round(r["s"], 2) for r in gp_runs],
        "single_call_s": single["s"],
        "sql_path": sql_path,
        "read_s": frames["read_s"],
    }


def measure_full_check(session: Any, ids: list[int], edition_id: int) -> dict[str, Any]:
    """The whole ``_check_in_tx`` (overlaps, other parcels, county, verdict, storing) per parcel."""
    from server.models import LandParcel, PlanEdition
    from server.services.land import DEFAULT_RULES, _check_in_tx

    edition = session.get(PlanEdition, edition_id)
    times = []
    verdicts: dict[str, int] = defaultdict(int)
    for pid in ids:
        parcel = session.get(LandParcel, pid)
        t = time.perf_counter()
        checks = _check_in_tx(session, [parcel], edition, DEFAULT_RULES)
        times.append((time.perf_counter() - t) * 1e3)
        verdicts[checks[0].verdict] += 1
    session.rollback()
    return {"ms": times, "verdicts": dict(verdicts)}


def compare(a: Areas, b: Areas) -> dict[str, Any]:
    """Max |a - b| over (parcel, layer) pairs; pairs below SLIVER_M2 on both sides are slivers."""
    worst, worst_key, worst_all, compared, slivers = 0.0, None, 0.0, 0, 0
    for key in set(a) | set(b):
        x, y = a.get(key, 0.0), b.get(key, 0.0)
        worst_all = max(worst_all, abs(x - y))
        if x < SLIVER_M2 and y < SLIVER_M2:
            slivers += 1
            continue
        compared += 1
        if abs(x - y) > worst:
            worst, worst_key = abs(x - y), key
    return {
        "max_diff_m2": worst,
        "worst_pair": worst_key,
        "pairs": compared,
        "sliver_pairs": slivers,
        "max_diff_incl_slivers_m2": worst_all,
    }


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy.orm import Session

    from server.db import migrate
    from server.db.embedded import EmbeddedPostgres
    from server.db.session import make_engine
    from server.repositories import land as land_repo

    spec = Spec(scale=args.scale)
    load_start = os.getloadavg()[0]
    t = time.perf_counter()
    plan = synthesise(spec, args.seed)
    generate_s = time.perf_counter() - t
    log(f"synthesised in {generate_s:.1f} s")
    if args.check_coverage:
        t = time.perf_counter()
        plan.stats["farmland"]["coverage_valid"] = bool(
            shapely.coverage_is_valid(np.array(plan.farmland, dtype=object))
        )
        log(f"coverage valid: {plan.stats['farmland']['coverage_valid']} ({time.perf_counter() - t:.1f} s)")

    base = Path(tempfile.mkdtemp(prefix="sitewatch-bench-"))
    os.chmod(base, 0o755)
    cluster = EmbeddedPostgres(base / "pgdata", ephemeral=True)
    engine = None
    try:
        url = cluster.ensure_started()
        migrate.upgrade(url)
        engine = make_engine(url)
        log(f"cluster started and migrated in {base}")
        t = time.perf_counter()
        with Session(engine) as session:
            info = load(session, spec, plan)
        load_s = time.perf_counter() - t
        log(f"loaded in {load_s:.1f} s")
        edition_id = info["edition_id"]
        ids = info["parcel_ids"]
        rng = np.random.default_rng(args.seed + 1)
        with Session(engine) as session:
            edition = detached_edition(session, edition_id)
            index_info = warm_up(session, ids, edition)
            log("warmed up; W1 ...")
            w1 = measure_w1(session, ids, edition, rng)
            sample = ids[:: max(1, len(ids) // 100)][:100]
            full = measure_full_check(session, sample, edition_id)
            log(f"full check of {len(sample)} parcels: p50 {_pct(full['ms'], 50):.1f} ms; W2 ...")
            w2 = measure_w2(session, engine, ids, edition)
    finally:
        if engine is not None:
            engine.dispose()
        if args.keep:
            log(f"kept the cluster: data {base / 'pgdata'}, URL {cluster.url}")
        else:
            cluster.stop()
            shutil.rmtree(base, ignore_errors=True)
            log("cluster stopped and removed")

    w2_own, w2_gp = w2["own"], w2["geopandas"]
    vs_naive = compare(w1["own"], w1["naive"])
    w2_vs_naive = compare(w2_own["areas"], w1["naive"])
    sql_vs_naive = compare(w2["sql_path"]["areas"], w1["naive"])
    vs_gp = compare(w2_own["areas"], w2_gp["areas"])
    own_ms, naive_ms = list(w1["own_ms"].values()), list(w1["naive_ms"].values())
    kinds = info["parcel_kind_by_id"]
    by_kind = {}
    for kind in ("snapped", "straddling", "inside", "random"):
        o = [w1["own_ms"][i] for i in ids if kinds[i] == kind]
        n = [w1["naive_ms"][i] for i in ids if kinds[i] == kind]
        if o:
            by_kind[kind] = {"own_p95_ms": round(_pct(o, 95), 2), "naive_p95_ms": round(_pct(n, 95), 2)}
    f = plan.stats["farmland"]
    result = {
        "seed": args.seed,
        "scale": args.scale,
        "farmland_polygons": f["polygons"],
        "farmland_vertices": f["vertices"],
        "redline_multipolygons": plan.stats["redline"]["multipolygons"],
        "redline_vertices": plan.stats["redline"]["vertices"],
        "urban_polygons": plan.stats["urban"]["polygons"],
        "urban_vertices": plan.stats["urban"]["vertices"],
        "plan_vertices_stored": info["stored_vertices"],
        "pieces": info["pieces"],
        "piece_max_vertices": land_repo.PIECE_MAX_VERTICES,
        "parcels": len(ids),
        "generate_s": round(generate_s, 1),
        "load_s": round(load_s, 1),
        "build_pieces_s": round(info["build_pieces_s"], 1),
        "index_load_s": round(index_info["index_load_s"], 2),
        "index_vertices": index_info["index_vertices"],
        "index_rss_mb": round(index_info["index_rss_mb"], 1),
        "w1_p50_own_ms": round(_pct(own_ms, 50), 2),
        "w1_p95_own_ms": round(_pct(own_ms, 95), 2),
        "w1_p50_naive_ms": round(_pct(naive_ms, 50), 2),
        "w1_p95_naive_ms": round(_pct(naive_ms, 95), 2),
        "w1_p95_ratio_vs_naive": round(_pct(naive_ms, 95) / _pct(own_ms, 95), 1),
        "w1_p50_ratio_vs_naive": round(_pct(naive_ms, 50) / _pct(own_ms, 50), 1),
        "w1_full_check_p50_ms": round(_pct(full["ms"], 50), 2),
        "w1_full_check_p95_ms": round(_pct(full["ms"], 95), 2),
        "w1_full_check_sample": len(full["ms"]),
        "w2_own_s": round(w2_own["s"], 3),
        "w2_own_single_call_s": round(w2["single_call_s"], 3),
        "w2_geopandas_s": round(w2_gp["s"], 2),
        "w2_geopandas_read_s_excluded": round(w2["read_s"], 1),
        "w2_runs_own_s": w2["own_runs_s"],
        "w2_runs_geopandas_s": w2["geopandas_runs_s"],
        "w2_ratio_vs_geopandas": round(w2_gp["s"] / w2_own["s"], 1),
        "w2_sql_path_s": round(w2["sql_path"]["s"], 3),
        "max_area_diff_m2": vs_naive["max_diff_m2"],
        "max_area_diff_w2_vs_naive_m2": w2_vs_naive["max_diff_m2"],
        "max_area_diff_vs_geopandas_m2": vs_gp["max_diff_m2"],
        "max_area_diff_sql_path_vs_naive_m2": sql_vs_naive["max_diff_m2"],
        "pairs_compared": vs_naive["pairs"],
        "loadavg_1min_start_end": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "sliver_pairs": vs_naive["sliver_pairs"],
        "targets_met": {
            "w1_p95_20x": _pct(naive_ms, 95) / _pct(own_ms, 95) >= 20,
            "w2_10x": w2_gp["s"] / w2_own["s"] >= 10,
            "areas_0_01_m2": vs_naive["max_diff_m2"] <= 0.01 and w2_vs_naive["max_diff_m2"] <= 0.01,
        },
    }
    details = {
        "plan": plan.stats,
        "load": {k: v for k, v in info.items() if k not in ("parcel_ids", "parcel_kind_by_id")},
        "w1_by_kind": by_kind,
        "w2_geopandas_per_layer_s": {k: round(v, 2) for k, v in w2_gp["per_layer_s"].items()},
        "full_check_verdicts": full["verdicts"],
        "vs_naive": vs_naive,
        "vs_geopandas": vs_gp,
    }
    return {"result": result, "details": details}


def summary(out: dict[str, Any], total_s: float) -> str:
    """The human summary printed before the JSON line."""
    r, d = out["result"], out["details"]
    f = d["plan"]["farmland"]
    met = {k: "met" if v else "NOT met" for k, v in r["targets_met"].items()}
    by_kind = ", ".join(f"{k} {v['own_p95_ms']}/{v['naive_p95_ms']}" for k, v in d["w1_by_kind"].items())
    slivers_diff = d["vs_naive"]["max_diff_incl_slivers_m2"]
    lines = [
        "Sitewatch conflict-check benchmark",
        f"  seed {r['seed']}, scale {r['scale']}",
        f"  farmland: {r['farmland_polygons']} polygons, {r['farmland_vertices']:,} vertices "
        f"(cells p1/p50/p99 {f['cell_vertices_p1_p50_p99']} vertices, {f['cells_with_hole']} with a hole, "
        f"{f['merged']} merged of {f['merged_vertices_min_max']} vertices from {f['merged_cells']} cells, "
        f"giants {f['giant_vertices']})",
        f"  red line: {r['redline_multipolygons']} multipolygons, {r['redline_vertices']:,} vertices; "
        f"urban boundary: {r['urban_polygons']} polygons, {r['urban_vertices']:,} vertices",
        f"  parcels: {r['parcels']} ({d['plan']['parcels']})",
        f"  generate {r['generate_s']} s; load {r['load_s']} s (features {d['load']['features_s']:.1f} s, "
        f"build_pieces {r['build_pieces_s']} s -> {r['pieces']:,} pieces of <= "
        f"{r['piece_max_vertices']} vertices)",
        f"  edition index (per process, once per edition): loaded in {r['index_load_s']} s,"
        f" {r['index_vertices']:,} vertices, RSS +{r['index_rss_mb']} MB",
        f"W1 one parcel vs all layers ({r['parcels']} parcels, alternating order):",
        f"  own layer_overlaps p50 {r['w1_p50_own_ms']:8.2f} ms   p95 {r['w1_p95_own_ms']:8.2f} ms",
        f"  naive PostGIS      p50 {r['w1_p50_naive_ms']:8.2f} ms   p95 {r['w1_p95_naive_ms']:8.2f} ms",
        f"  p95 ratio naive/own {r['w1_p95_ratio_vs_naive']}x (target >= 20x: {met['w1_p95_20x']});"
        f" p50 ratio {r['w1_p50_ratio_vs_naive']}x",
        f"  by parcel kind (p95 ms own / naive): {by_kind}",
        f"  full _check_in_tx (informational, {r['w1_full_check_sample']} parcels):"
        f" p50 {r['w1_full_check_p50_ms']} ms, p95 {r['w1_full_check_p95_ms']} ms;"
        f" verdicts {d['full_check_verdicts']}",
        f"W2 all parcels vs all layers ({W2_REPEATS} rounds, alternating):",
        f"  own layer_overlaps {r['w2_own_s']:.2f} s (chunks of {W2_CHUNK}; best of {r['w2_runs_own_s']});"
        f" one call {r['w2_own_single_call_s']:.2f} s; SQL path {r['w2_sql_path_s']:.2f} s",
        f"  geopandas.overlay  {r['w2_geopandas_s']:.2f} s (best of {r['w2_runs_geopandas_s']}; per layer"
        f" {d['w2_geopandas_per_layer_s']}; reading {r['w2_geopandas_read_s_excluded']} s not counted)",
        f"  ratio geopandas/own {r['w2_ratio_vs_geopandas']}x (target >= 10x: {met['w2_10x']})",
        "Correctness ((parcel, layer) areas; pairs under 1 m2 on both sides are slivers, set apart):",
        f"  own vs naive: max |diff| {r['max_area_diff_m2']:.3g} m2 over {r['pairs_compared']} pairs"
        f" ({r['sliver_pairs']} sliver pairs; incl. slivers {slivers_diff:.3g} m2)"
        f" (target <= 0.01 m2: {met['areas_0_01_m2']})",
        f"  own vs geopandas: max |diff| {r['max_area_diff_vs_geopandas_m2']:.3g} m2;"
        f" SQL path vs naive: {r['max_area_diff_sql_path_vs_naive_m2']:.3g} m2",
        f"total run {total_s:.1f} s; 1-min load average at start/end {r['loadavg_1min_start_end']}"
        f" on {os.cpu_count()} CPUs",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.conflicts", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=20261127, help="seed of the synthetic county")
    parser.add_argument("--scale", type=float, default=1.0, help="scale of counts (0.1 for a quick run)")
    parser.add_argument("--keep", action="store_true", help="keep the cluster (print its URL) at the end")
    parser.add_argument(
        "--check-coverage",
        action="store_true",
        help="also check the farmland is a valid coverage (slow: ~90 s at scale 1)",
    )
    args = parser.parse_args(argv)
    out = run(args)
    total = time.perf_counter() - _T0
    out["result"]["total_run_s"] = round(total, 1)
    print(summary(out, total))
    print(json.dumps(out["result"], ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
