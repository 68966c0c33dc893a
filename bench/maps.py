"""Maps benchmark: the county map's first view and vector-tile latency against tipg, at county scale.

Run ``.venv/bin/python -m bench.maps`` (``--scale 0.1`` for a quick run, ``--keep`` to keep the throwaway
cluster, ``--skip-tipg`` / ``--skip-browser`` to leave a part out).  Progress goes to stderr, a human
summary to stdout, and the last stdout line is one JSON object.

Data (from ``--seed``): the plan layers of the land benchmark (``bench.conflicts``: about 41,000
farmland polygons of 5.2 M vertices with five giants of 65k-150k vertices, ten red-line
multipolygons of 0.5 M vertices, five urban-boundary polygons), 3,000 projects (70 % point sites,
20 % polygons, 10 % lines) and 30,000 parcels of 0.2-12 ha clustered around their projects (half
rotated rectangles, half irregular polygons, a fifth of all densified to surveyed-boundary detail),
85 % with a latest conflict check. Everything is bulk-inserted into a migrated throwaway cluster; the
plan goes through ``land_repo.add_plan_features`` (so the tile triggers of migration 0005 run).

Measured, in one run:

1. First view of the county map: headless Chromium (1280 x 800) opens ``/map`` signed in as admin and
   every response is counted until the map frame has loaded and the network is idle: HTML documents,
   API data (JSON, GeoJSON, the map HTML) and vector tiles; JS/CSS/font assets are counted apart
   (cacheable libraries; folium's page loads its own from CDNs). Compared with a folium page embedding
   all 30,000 parcels as ``folium.GeoJson`` with the same attributes (bytes of its HTML).
2. Tile latency, cold and warm, over a fixed list: ``--tiles-per-zoom`` random tiles over the county at
   each zoom 8-16, for the parcels, farmland, red line, urban boundary and projects layers. Ours: the
   app under uvicorn (one process), tile cache emptied and process restarted before the cold pass;
   tipg (installed with pip into a virtualenv inside the benchmark's temp dir, one uvicorn process)
   serving the same tables (``plan_features`` filtered by ``layer`` and ``edition_id``), with
   ``TIPG_MAX_FEATURES_PER_TILE`` raised so that it returns whole tiles too. Cold = the first request
   of each tile after start (tipg has no cache); warm = the median of ``--warm-repeats`` more.
   Requests alternate between the two servers, which goes first alternating tile by tile.
3. Truncation: for every tile of ours, the distinct feature ids in the MVT against a plain
   ``ST_Intersects(ST_Transform(geom, Web Mercator), ST_TileEnvelope(z, x, y))`` in SQL; any
   difference (missing, extra or duplicated ids) counts the tile as truncated.

The ratios are of medians (p50): tipg / ours. Other benchmarks may share the machine: the 1-minute
load average at start and end is reported.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pycurl
import shapely
from shapely.geometry import LineString, Point, Polygon

from bench import conflicts
from bench.processes import stop_process
from gis_data import crs

_T0 = time.perf_counter()
REPO = Path(__file__).resolve().parent.parent

#: Layers timed against tipg: ours -> (tipg collection, geometry column, properties, extra filters).
TIPG_LAYERS: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "parcels": ("public.land_parcels", "geom", "id,year,status,project_id", {}),
    "farmland": (
        "public.plan_features",
        "geom",
        "id,edition_id,class_code,class_name",
        {"layer": "farmland"},
    ),
    "redline": ("public.plan_features", "geom", "id,edition_id,class_code,class_name", {"layer": "redline"}),
    "urban_boundary": (
        "public.plan_features",
        "geom",
        "id,edition_id,class_code,class_name",
        {"layer": "urban_boundary"},
    ),
    "projects": ("public.projects", "site", "id,code,name,status,category,list_year", {}),
}
ZOOMS = tuple(range(8, 17))
PASSWORD = "bench-password-1"
VIEWPORT = {"width": 1280, "height": 800}
#: How long the first view may take before it is reported as not finished.
FIRST_VIEW_TIMEOUT_MS = 300_000
#: tipg's default cap of features per tile (it silently truncates beyond it).
TIPG_DEFAULT_MAX_FEATURES = 10_000


def log(message: str) -> None:
    """A progress line on stderr."""
    print(f"[{time.perf_counter() - _T0:7.1f}s] {message}", file=sys.stderr, flush=True)


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


# --------------------------------------------------------------------------------------------------
# Synthesis (area CRS, metres)
# --------------------------------------------------------------------------------------------------


@dataclass
class County:
    """The synthetic county: the land benchmark's plan, projects and parcels."""

    spec: conflicts.Spec
    plan: conflicts.Plan
    project_centres: np.ndarray
    project_sites: list[Any]
    parcels: list[Polygon]
    parcel_project: np.ndarray


def synthesise(scale: float, seed: int, *, projects: int, parcels: int) -> County:
    """Plan layers as in bench.conflicts, then projects and parcels clustered around them."""
    spec = conflicts.Spec(scale=scale)
    rng = np.random.default_rng(seed)
    plan = conflicts.Plan()
    conflicts.synthesise_farmland(spec, rng, plan)
    conflicts.synthesise_urban_and_redline(spec, rng, plan)
    xmin, ymin, xmax, ymax = spec.extent.bounds
    margin = 1500.0
    centres = np.column_stack(
        [
            rng.uniform(xmin + margin, xmax - margin, projects),
            rng.uniform(ymin + margin, ymax - margin, projects),
        ]
    )
    owner = rng.integers(0, projects, parcels)
    out: list[Polygon] = []
    for i in range(parcels):
        cx, cy = centres[owner[i]]
        r = rng.uniform(0, 1200.0)
        a = rng.uniform(0, 2 * math.pi)
        px = min(max(cx + r * math.cos(a), xmin + 400), xmax - 400)
        py = min(max(cy + r * math.sin(a), ymin + 400), ymax - 400)
        area = math.exp(rng.uniform(math.log(0.2e4), math.log(12e4)))
        poly = conflicts._random_parcel(rng, px, py, area)
        if rng.random() < 0.2:  # surveyed boundary: a point every 5-15 m
            poly = shapely.segmentize(poly, rng.uniform(5.0, 15.0))
        out.append(poly)
    sites: list[Any] = []
    for i in range(projects):
        cx, cy = centres[i]
        kind = rng.random()
        if kind < 0.7:
            sites.append(Point(cx, cy))
        elif kind < 0.9:
            sites.append(conflicts._rect(rng, cx, cy, math.exp(rng.uniform(math.log(2e4), math.log(60e4)))))
        else:
            pts = [(cx, cy)]
            heading = rng.uniform(0, 2 * math.pi)
            for _ in range(int(rng.integers(3, 8))):
                heading += rng.normal(0, 0.4)
                step = rng.uniform(200, 900)
                x = min(max(pts[-1][0] + step * math.cos(heading), xmin + 100), xmax - 100)
                y = min(max(pts[-1][1] + step * math.sin(heading), ymin + 100), ymax - 100)
                pts.append((x, y))
            line = LineString(pts)
            sites.append(line if line.is_valid and line.length > 0 else Point(cx, cy))
    log(
        f"synthesised {len(out)} parcels"
        f" ({int(shapely.get_num_coordinates(np.array(out, dtype=object)).sum()):,}"
        f" vertices) and {projects} project sites"
    )
    return County(spec, plan, centres, sites, out, owner)


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


def _storage(geoms: list[Any]) -> np.ndarray:
    t = crs.transformer(crs.AREA_SRID, crs.STORAGE_SRID)
    return shapely.transform(np.array(geoms, dtype=object), t.transform, interleaved=False)


def load(engine: Any, county: County) -> dict[str, Any]:
    """Reference rows, users, 3,000 projects, the plan edition, 30,000 parcels and their checks."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from server.models import PlanEdition
    from server.repositories import land as land_repo
    from server.security import hash_password

    info: dict[str, Any] = {}
    spec = county.spec
    xmin, ymin, xmax, ymax = spec.extent.bounds
    outline = crs.reproject(spec.extent.buffer(2000, join_style="mitre"), crs.AREA_SRID, crs.STORAGE_SRID)
    with Session(engine) as session:
        t0 = time.perf_counter()
        session.execute(
            text(
                "INSERT INTO county_boundaries (adcode, name, source, geom)"
                " VALUES ('620521', '清水县（地图基准测试）', 'bench.maps',"
                " ST_Multi(ST_GeomFromWKB(:g, :srid)))"
            ),
            {"g": shapely.to_wkb(outline), "srid": crs.STORAGE_SRID},
        )
        # Twelve townships: a 4 x 3 grid over the county.
        cols, rows = 4, 3
        towns = []
        for j in range(rows):
            for i in range(cols):
                cell = shapely.box(
                    xmin - 2000 + (spec.width + 4000) * i / cols,
                    ymin - 2000 + (spec.height + 4000) * j / rows,
                    xmin - 2000 + (spec.width + 4000) * (i + 1) / cols,
                    ymin - 2000 + (spec.height + 4000) * (j + 1) / rows,
                )
                towns.append(crs.reproject(cell, crs.AREA_SRID, crs.STORAGE_SRID))
        town_ids = []
        for k, geom in enumerate(towns):
            town_ids.append(
                session.execute(
                    text(
                        "INSERT INTO townships (code, name, illustrative, geom)"
                        " VALUES (:code, :name, true, ST_Multi(ST_GeomFromWKB(:g, :srid))) RETURNING id"
                    ),
                    {
                        "code": f"620521{100 + k:03d}",
                        "name": f"基准镇{k + 1}",
                        "g": shapely.to_wkb(geom),
                        "srid": crs.STORAGE_SRID,
                    },
                ).scalar_one()
            )
        unit_ids = [
            session.execute(
                text("INSERT INTO units (name, kind) VALUES (:n, 'legal_person') RETURNING id"),
                {"n": f"基准测试项目单位{k + 1:02d}"},
            ).scalar_one()
            for k in range(60)
        ]
        office = session.execute(
            text("INSERT INTO units (name, kind) VALUES ('基准测试发改局', 'department') RETURNING id")
        ).scalar_one()
        password_hash = hash_password(PASSWORD)
        admin_id = session.execute(
            text(
                "INSERT INTO users (username, full_name, password_hash, role, unit_id)"
                " VALUES ('bench_admin', '基准测试管理员', :h, 'admin', :u) RETURNING id"
            ),
            {"h": password_hash, "u": office},
        ).scalar_one()
        session.execute(
            text(
                "INSERT INTO users (username, full_name, password_hash, role, unit_id)"
                " VALUES ('bench_unit', '基准测试项目单位', :h, 'project_unit', :u)"
            ),
            {"h": password_hash, "u": unit_ids[0]},
        )
        # Projects.
        rng = np.random.default_rng(7)
        sites = _storage(county.project_sites)
        centres_ll = _storage([Point(c) for c in county.project_centres])
        statuses = ("not_started", "under_construction", "completed", "suspended")
        categories = ("new_start", "continuing", "preparatory")
        industries = ("城镇建设", "交通运输", "农业农村", "工业", "社会事业", "水利", "能源")
        town_of = shapely.STRtree(np.array(towns, dtype=object))
        rows_p = []
        for i, site in enumerate(sites):
            hit = town_of.query(centres_ll[i], predicate="intersects")
            total = Decimal(int(rng.integers(6, 300)) * 1_000_000)
            rows_p.append(
                {
                    "code": f"2027-620521-48-01-{i + 1:06d}",
                    "name": f"基准测试{industries[i % len(industries)]}项目{i + 1}号（合成数据）",
                    "category": categories[i % 3],
                    "industry": industries[i % len(industries)],
                    "township_id": town_ids[int(hit[0]) if len(hit) else 0],
                    "unit": unit_ids[i % len(unit_ids)],
                    "leader_id": admin_id,
                    "total": total,
                    "annual": total / 3,
                    "status": statuses[int(rng.integers(0, 4))],
                    "site": shapely.to_wkb(site),
                }
            )
        session.execute(
            text(
                f"""
                INSERT INTO projects (code, name, category, industry, township_id, lead_unit_id,
                    legal_person_unit_id, leader_id, content, total_investment_yuan, annual_plan_yuan,
                    planned_start, list_year, status, list_tier, energy_review_level, site)
                VALUES (:code, :name, :category, :industry, :township_id, :unit, :unit, :leader_id,
                    '合成数据', :total, :annual, DATE '2027-04-01', 2027, :status, 'county', 'none',
                    ST_GeomFromWKB(:site, {crs.STORAGE_SRID}))
                """
            ),
            rows_p,
        )
        project_ids = [
            int(r[0]) for r in session.execute(text("SELECT id FROM projects ORDER BY code")).all()
        ]
        info["projects"] = len(project_ids)
        info["projects_s"] = time.perf_counter() - t0
        log(f"load: {len(project_ids)} projects in {info['projects_s']:.1f} s")

        # The plan, through the land repository (the tile triggers fill tile_plan_pieces/_features).
        t1 = time.perf_counter()
        edition = land_repo.add_edition(
            session,
            PlanEdition(name="地图基准测试规划", description="bench.maps", created_by_id=admin_id, report={}),
        )
        info["edition_id"] = edition.id
        features = 0
        for layer, geoms in (
            (conflicts.FARMLAND, county.plan.farmland),
            (conflicts.REDLINE, county.plan.redline),
            (conflicts.URBAN, county.plan.urban),
        ):
            stored, _fixed = conflicts._to_storage(geoms)
            wkbs = shapely.to_wkb(stored)
            batch = [
                {
                    "edition_id": edition.id,
                    "layer": layer,
                    "class_code": None,
                    "class_name": None,
                    "source_file": conflicts.SOURCE_FILES[layer],
                    "source_index": i,
                    "repaired": False,
                    "attributes": {},
                    "wkb": wkb,
                }
                for i, wkb in enumerate(wkbs)
            ]
            for start in range(0, len(batch), 500):
                land_repo.add_plan_features(session, batch[start : start + 500])
            features += len(batch)
            log(f"load: {len(batch)} {layer} features")
        info["plan_features"] = features
        info["plan_s"] = time.perf_counter() - t1
        log(f"load: plan in {info['plan_s']:.1f} s (with the tile geometry triggers)")

        # Parcels and their latest checks.
        t2 = time.perf_counter()
        stored = _storage(county.parcels)
        bad = ~shapely.is_valid(stored)
        for k in np.nonzero(bad)[0]:
            stored[k] = max(conflicts._polygonal_parts(shapely.make_valid(stored[k])), key=lambda g: g.area)
        wkbs = shapely.to_wkb(stored)
        statuses_l = ("draft", "submitted", "approved")
        rows_l = [
            {
                "project_id": project_ids[int(county.parcel_project[i])],
                "code": f"BM-{i + 1:06d}",
                "status": statuses_l[i % 3],
                "wkb": wkb,
            }
            for i, wkb in enumerate(wkbs)
        ]
        insert = text(
            f"""
            INSERT INTO land_parcels (project_id, year, parcel_code, name, land_class, construction_land,
                status, zone, geom, geom_area, area_m2, ellipsoidal_area_m2, source, created_by_id)
            SELECT r.project_id, 2027, r.code, r.code, '0701', 'new', r.status, 35, s.g,
                   ST_Multi(ST_Transform(s.g, {crs.AREA_SRID})), ST_Area(ST_Transform(s.g, {crs.AREA_SRID})),
                   ST_Area(s.g::geography), 'bench', :admin
            FROM unnest(CAST(:project_ids AS int[]), CAST(:codes AS text[]), CAST(:statuses AS text[]),
                        CAST(:wkbs AS bytea[])) AS r (project_id, code, status, wkb)
            CROSS JOIN LATERAL (SELECT ST_Multi(ST_GeomFromWKB(r.wkb, {crs.STORAGE_SRID})) AS g) s
            """
        )
        for start in range(0, len(rows_l), 5000):
            chunk = rows_l[start : start + 5000]
            session.execute(
                insert,
                {
                    "admin": admin_id,
                    "project_ids": [r["project_id"] for r in chunk],
                    "codes": [r["code"] for r in chunk],
                    "statuses": [r["status"] for r in chunk],
                    "wkbs": [r["wkb"] for r in chunk],
                },
            )
        verdicts = "(ARRAY['compliant','needs_adjustment','blocked'])[1 + (id % 7) % 3]"
        session.execute(
            text(
                f"""
                INSERT INTO land_checks
                    (parcel_id, edition_id, sliver_m2, verdict, reasons, summary, is_latest)
                SELECT id, :e, 1.0, {verdicts}, '[]', '{{}}', true FROM land_parcels WHERE id % 20 < 17
                """
            ),
            {"e": edition.id},
        )
        info["parcels"] = len(rows_l)
        info["parcels_repaired"] = int(bad.sum())
        info["parcels_s"] = time.perf_counter() - t2
        session.commit()
        log(f"load: {len(rows_l)} parcels with checks in {info['parcels_s']:.1f} s")
        t3 = time.perf_counter()
        session.execute(text("ANALYZE"))
        session.commit()
        info["analyze_s"] = time.perf_counter() - t3
        row = session.execute(
            text(
                "SELECT (SELECT sum(ST_NPoints(geom)) FROM plan_features),"
                " (SELECT count(*) FROM tile_plan_pieces),"
                " (SELECT sum(ST_NPoints(geom)) FROM land_parcels),"
                " (SELECT pg_total_relation_size('tile_plan_pieces')"
                " + pg_total_relation_size('tile_plan_features'))"
            )
        ).one()
        info["plan_vertices"] = int(row[0])
        info["tile_plan_pieces"] = int(row[1])
        info["parcel_vertices"] = int(row[2])
        info["tile_plan_mb"] = round(int(row[3]) / 2**20, 1)
        info["project_ids"] = project_ids
    return info


# --------------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A uvicorn subprocess, stopped with SIGTERM (then SIGKILL) by its own pid."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path, health: str):
        self.name = name
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.argv = [*argv, "--host", "127.0.0.1", "--port", str(self.port)]
        self.env = env
        self.log_path = log_path
        self.health = health
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> None:
        """Start and wait until ``health`` answers."""
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}); see {self.log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + self.health, timeout=5).status_code < 500:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start in {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        """Stop the process this object started."""
        if self.proc is not None:
            stop_process(self.proc)


def our_server(url: str, base: Path) -> Server:
    """The Sitewatch app, as ``uvicorn server.app:create_app --factory`` (one process)."""
    env = {
        **os.environ,
        "SITEWATCH_DATABASE_URL": url,
        "SITEWATCH_DATA_DIR": str(base / "data"),
        "SITEWATCH_LOG_LEVEL": "WARNING",
    }
    argv = [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory"]
    argv += ["--log-level", "warning", "--no-access-log"]
    return Server("sitewatch", argv, env, base / "sitewatch.log", "/api/v1/health")


def floor_server(base: Path) -> Server:
    """The bare ASGI app of ``bench.floor_asgi`` under the same uvicorn command line (the HTTP floor)."""
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.floor_asgi:app",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return Server("floor", argv, dict(os.environ), base / "floor.log", "/health")


def install_tipg(base: Path) -> tuple[Path | None, str]:
    """A virtualenv with tipg and uvicorn[standard] in the benchmark's temp dir; (python, what happened)."""
    venv = base / "tipg-venv"
    t = time.perf_counter()
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300
        )
        pip = subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "-q",
                "tipg",
                # The same server stack as ours (uvloop + httptools), so only the apps differ.
                "uvicorn[standard]",
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        return None, f"could not create the tipg virtualenv: {exc}"
    if pip.returncode != 0:
        tail = (pip.stderr or pip.stdout).strip().splitlines()[-5:]
        return None, f"pip install tipg uvicorn[standard] failed (exit {pip.returncode}): {' | '.join(tail)}"
    version = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import tipg; print(tipg.__version__)"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return venv / "bin" / "python", f"tipg {version} installed in {time.perf_counter() - t:.0f} s"


def tipg_server(python: Path, url: str, base: Path) -> Server:
    """tipg on the same database (unix socket as a percent-encoded host, which asyncpg accepts)."""
    parsed = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parsed.query)
    host = urllib.parse.quote(query["host"][0], safe="")
    port = query.get("port", ["5432"])[0]
    user = parsed.username or "postgres"
    dsn = f"postgresql://{user}@{host}:{port}{parsed.path}"
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "TIPG_DB_TABLES": '["public.land_parcels", "public.plan_features", "public.projects"]',
        "TIPG_MAX_FEATURES_PER_TILE": "1000000",
        "TIPG_DB_MAX_CONN_SIZE": "4",
    }
    argv = [str(python), "-m", "uvicorn", "tipg.main:app", "--log-level", "warning", "--no-access-log"]
    return Server("tipg", argv, env, base / "tipg.log", "/healthz")


# --------------------------------------------------------------------------------------------------
# Tiles
# --------------------------------------------------------------------------------------------------


def _lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def county_bounds(spec: conflicts.Spec) -> tuple[float, float, float, float]:
    """The county extent in lon/lat."""
    return crs.reproject(spec.extent, crs.AREA_SRID, crs.STORAGE_SRID).bounds


def tile_list(
    bounds: tuple[float, float, float, float], per_zoom: int, seed: int
) -> list[tuple[int, int, int]]:
    """``per_zoom`` random tiles over the county at each zoom 8-16 (all of them where fewer)."""
    rng = np.random.default_rng(seed)
    out = []
    for z in ZOOMS:
        x0, y0 = _lonlat_to_tile(bounds[0], bounds[3], z)
        x1, y1 = _lonlat_to_tile(bounds[2], bounds[1], z)
        tiles = [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
        if len(tiles) > per_zoom:
            tiles = [tiles[i] for i in sorted(rng.choice(len(tiles), per_zoom, replace=False))]
        out.extend(tiles)
    return out


def _our_url(server: Server, layer: str, z: int, x: int, y: int) -> str:
    return f"{server.base}/api/v1/tiles/{layer}/{z}/{x}/{y}.mvt"


def _tipg_url(server: Server, layer: str, z: int, x: int, y: int, edition_id: int) -> str:
    collection, geom, props, filters = TIPG_LAYERS[layer]
    params = {"geom-column": geom, "properties": props, **filters}
    if layer in ("farmland", "redline", "urban_boundary"):
        params["edition_id"] = str(edition_id)
    query = urllib.parse.urlencode(params)
    return f"{server.base}/collections/{collection}/tiles/WebMercatorQuad/{z}/{x}/{y}?{query}"


class KeepAlive:
    """One kept-alive HTTP/1.1 connection per server (a libcurl handle each, via pycurl), for timing tiles.

    The client's own cost is in every figure, for both servers alike, and it compresses their ratio
    towards 1: against the bare ASGI app of ``bench.floor_asgi`` under the same uvicorn, a 2 KB body took
    about 0.20 ms through libcurl on this machine, 0.35 ms through ``http.client`` and 1.1 ms through
    httpx. libcurl is what the figures are taken with; the floor is measured in the same run.
    """

    def __init__(self) -> None:
        self._handles: dict[str, pycurl.Curl] = {}

    def get(self, url: str, headers: dict[str, str]) -> tuple[int, bytes]:
        netloc = urllib.parse.urlsplit(url).netloc
        handle = self._handles.get(netloc)
        if handle is None:
            handle = self._handles[netloc] = pycurl.Curl()
            handle.setopt(pycurl.TIMEOUT, 600)
            handle.setopt(pycurl.TCP_NODELAY, 1)
        body = io.BytesIO()
        handle.setopt(pycurl.URL, url)
        handle.setopt(pycurl.HTTPHEADER, [f"{k}: {v}" for k, v in headers.items()])
        handle.setopt(pycurl.WRITEDATA, body)
        handle.perform()  # reuses the handle's kept-alive connection; reconnects if it was closed
        return int(handle.getinfo(pycurl.RESPONSE_CODE)), body.getvalue()

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()


def _timed_get(client: KeepAlive, url: str, headers: dict[str, str]) -> tuple[float, bytes, int]:
    t = time.perf_counter()
    status, data = client.get(url, headers)
    return (time.perf_counter() - t) * 1e3, data, status


def measure_latency(
    ours: Server,
    tipg: Server | None,
    token: str,
    tiles: list[tuple[str, int, int, int]],
    *,
    edition_id: int,
    warm_repeats: int,
    floor: Server | None = None,
) -> dict[str, Any]:
    """Cold then warm latency per tile, alternating the two servers and which goes first.

    In the warm pass, ``floor`` (the bare app) is also asked for a body of the size of our tile, after
    the two servers, the same number of times."""
    # No compression on either side: the servers' work is timed, not gzip (tipg compresses by default).
    auth = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    plain = {"Accept-Encoding": "identity"}
    result: dict[str, Any] = {
        "ours_cold": {},
        "ours_warm": {},
        "tipg_cold": {},
        "tipg_warm": {},
        "floor_warm": {},
        "bytes": {},
    }
    errors: list[str] = []
    client = KeepAlive()
    try:
        for phase in ("cold", "warm"):
            for k, (layer, z, x, y) in enumerate(tiles):
                key = (layer, z, x, y)
                order = ("ours", "tipg") if k % 2 == 0 else ("tipg", "ours")
                if phase == "warm" and floor is not None:
                    order += ("floor",)
                for who in order:
                    if who == "tipg" and tipg is None:
                        continue
                    if who == "ours":
                        url, headers = _our_url(ours, *key), auth
                    elif who == "tipg":
                        url, headers = _tipg_url(tipg, *key, edition_id), plain
                    else:
                        url, headers = f"{floor.base}/bytes/{len(result['bytes'][key]['ours'])}", plain
                    runs = 1 if phase == "cold" else warm_repeats
                    times = []
                    for _ in range(runs):
                        ms, data, status = _timed_get(client, url, headers)
                        if status != 200:
                            errors.append(f"{who} {layer} {z}/{x}/{y}: HTTP {status} {data[:200]!r}")
                        times.append(ms)
                    result[f"{who}_{phase}"][key] = float(np.median(times))
                    if phase == "cold":
                        result["bytes"].setdefault(key, {})[who] = data
                    elif who == "floor" and len(data) != len(result["bytes"][key]["ours"]):
                        errors.append(f"floor {layer} {z}/{x}/{y}: {len(data)} bytes")
                if (k + 1) % 50 == 0:
                    log(f"latency {phase}: {k + 1}/{len(tiles)} tiles")
    finally:
        client.close()
    result["errors"] = errors
    return result


def reference_ids(engine: Any, layer: str, z: int, x: int, y: int, edition_id: int) -> list[int]:
    """Plain ST_Intersects in SQL: the ids a complete tile must hold."""
    from sqlalchemy import text

    if layer == "parcels":
        source = "SELECT id, geom FROM land_parcels"
    elif layer == "projects":
        source = "SELECT id, site AS geom FROM projects WHERE site IS NOT NULL"
    else:
        source = (
            f"SELECT id, geom FROM plan_features WHERE layer = '{layer}' AND edition_id = {int(edition_id)}"
        )
    sql = text(
        f"SELECT s.id FROM ({source}) s WHERE"
        f" ST_Intersects(ST_Transform(s.geom, {crs.WEB_MERCATOR_SRID}), ST_TileEnvelope(:z, :x, :y))"
    )
    with engine.connect() as conn:
        return [int(r[0]) for r in conn.execute(sql, {"z": z, "x": x, "y": y})]


def mvt_ids(data: bytes) -> list[int] | None:
    """Feature ids of every layer of an MVT (None if the bytes are not an MVT)."""
    import mapbox_vector_tile
    from google.protobuf.message import DecodeError

    if not data:
        return []
    try:
        decoded = mapbox_vector_tile.decode(data)
    except DecodeError:
        return None
    return [f.get("id") for layer in decoded.values() for f in layer["features"]]


def check_truncation(
    engine: Any, tiles_bytes: dict[tuple[str, int, int, int], dict[str, bytes]], edition_id: int
) -> dict[str, Any]:
    """Tiles whose distinct MVT ids differ from the ST_Intersects ids (or hold an id twice)."""
    truncated = []
    over_tipg_default = 0
    tipg_incomplete = 0
    features = 0
    for (layer, z, x, y), by_server in tiles_bytes.items():
        expected = reference_ids(engine, layer, z, x, y, edition_id)
        features += len(expected)
        over_tipg_default += len(expected) > TIPG_DEFAULT_MAX_FEATURES
        ours = mvt_ids(by_server.get("ours", b"")) or []
        if len(ours) != len(set(ours)) or set(ours) != set(expected):
            truncated.append(
                {
                    "tile": f"{layer}/{z}/{x}/{y}",
                    "expected": len(expected),
                    "in_tile": len(set(ours)),
                    "missing": len(set(expected) - set(ours)),
                    "extra": len(set(ours) - set(expected)),
                }
            )
        if "tipg" in by_server:
            theirs = mvt_ids(by_server["tipg"])
            tipg_incomplete += theirs is None or len(set(theirs)) != len(expected)
    return {
        "tiles_checked": len(tiles_bytes),
        "features_expected": features,
        "truncated": truncated,
        "tiles_over_tipg_default_cap": over_tipg_default,
        "tipg_tiles_with_other_count": tipg_incomplete,
    }


# --------------------------------------------------------------------------------------------------
# First view
# --------------------------------------------------------------------------------------------------


def _kind(url: str, content_type: str) -> str:
    path = urllib.parse.urlsplit(url).path
    if path.startswith("/api/v1/tiles/"):
        return "tiles"
    if path.startswith("/static/") or path.startswith("/vendor/") or "/vendor/" in path:
        return "assets"
    if content_type.startswith("text/html") and not path.startswith("/api/"):
        return "page"
    if path.startswith("/api/") or path.startswith("/mobile/"):
        return "data"
    if any(
        content_type.startswith(t)
        for t in ("text/css", "application/javascript", "text/javascript", "font/", "image/")
    ):
        return "assets"
    return "other"


def measure_first_view(ours: Server, token: str) -> dict[str, Any]:
    """Everything Chromium fetches to show /map, by kind, until the map frame has loaded."""
    from playwright.sync_api import sync_playwright

    from tests.web.conftest import CHROMIUM_ARGS, chromium_path

    records: list[dict[str, Any]] = []
    timed_out = None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
            context.add_init_script(f"window.sessionStorage.setItem('sitewatch-token', {json.dumps(token)});")
            page = context.new_page()

            def on_finished(request: Any) -> None:
                # Bytes on the wire from the browser's own accounting (neither server compresses here);
                # response.body() loses the bodies of multi-megabyte responses.
                response = request.response()
                sizes = request.sizes()
                ctype = (response.headers.get("content-type") or "").split(";")[0] if response else ""
                records.append(
                    {
                        "url": request.url,
                        "status": response.status if response else 0,
                        "bytes": int(sizes.get("responseBodySize") or 0),
                        "type": ctype,
                    }
                )

            def on_failed(request: Any) -> None:
                records.append({"url": request.url, "status": 0, "bytes": 0, "type": "failed"})

            page.on("requestfinished", on_finished)
            page.on("requestfailed", on_failed)
            t = time.perf_counter()
            page.goto(f"{ours.base}/map", wait_until="load", timeout=FIRST_VIEW_TIMEOUT_MS)
            try:
                page.wait_for_selector(
                    "#map-frame[data-loaded='1']", state="attached", timeout=FIRST_VIEW_TIMEOUT_MS
                )
            except Exception as exc:  # report what arrived, say that the map never finished
                timed_out = f"the map frame had not loaded after {FIRST_VIEW_TIMEOUT_MS / 1000:.0f} s: {exc}"
            # Then until no response has arrived for 3 s (Leaflet requests tiles after the frame's load;
            # "networkidle" never comes when the page keeps a request open).
            quiet_since, seen = time.perf_counter(), len(records)
            deadline = time.perf_counter() + 120
            while time.perf_counter() < deadline and time.perf_counter() - quiet_since < 3.0:
                page.wait_for_timeout(250)
                if len(records) != seen:
                    quiet_since, seen = time.perf_counter(), len(records)
            elapsed = time.perf_counter() - t
            frame_zoom = None
            with contextlib.suppress(Exception):
                frame = page.frame_locator("#map-frame")
                frame_zoom = frame.locator("body").evaluate(
                    "() => { for (const k of Object.keys(window)) { const v = window[k];"
                    " if (v && v instanceof window.L.Map) return v.getZoom(); } return null; }"
                )
            context.close()
        finally:
            browser.close()
    by_kind: dict[str, int] = {}
    for r in records:
        kind = _kind(r["url"], r["type"])
        r["kind"] = kind
        by_kind[kind] = by_kind.get(kind, 0) + r["bytes"]
    data_bytes = sum(v for k, v in by_kind.items() if k in ("page", "data", "tiles", "other"))
    return {
        "requests": len(records),
        "tile_requests": sum(1 for r in records if r["kind"] == "tiles"),
        "bytes_by_kind": by_kind,
        "first_view_bytes": data_bytes,
        "first_view_bytes_with_assets": sum(by_kind.values()),
        "seconds": round(elapsed, 1),
        "zoom": frame_zoom,
        "largest": sorted(records, key=lambda r: -r["bytes"])[:5],
        "timed_out": timed_out,
        "errors": [r for r in records if r["status"] >= 400 or r["status"] == 0],
    }


def tile_first_view(ours: Server, token: str, bounds: tuple[float, float, float, float]) -> dict[str, Any]:
    """What a tile-based county map fetches: parcels and projects tiles over a 1280 x 800 view of the
    county at the zoom Leaflet's fitBounds picks (12 px padding). A second figure, not the page."""
    to_merc = crs.transformer(crs.STORAGE_SRID, crs.WEB_MERCATOR_SRID)
    x0, y0 = to_merc.transform(bounds[0], bounds[1])
    x1, y1 = to_merc.transform(bounds[2], bounds[3])
    world = 2 * to_merc.transform(180.0, 0.0)[0]
    width, height = VIEWPORT["width"], VIEWPORT["height"]
    zoom = max(
        z
        for z in range(0, 19)
        if (x1 - x0) * 256 * 2**z / world <= width - 24 and (y1 - y0) * 256 * 2**z / world <= height - 24
    )
    scale = 256 * 2**zoom / world
    cx, cy = ((x0 + x1) / 2 + world / 2) * scale, (world / 2 - (y0 + y1) / 2) * scale
    tx0, tx1 = int((cx - width / 2) // 256), int((cx + width / 2) // 256)
    ty0, ty1 = int((cy - height / 2) // 256), int((cy + height / 2) // 256)
    total, count = 0, 0
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    with httpx.Client(timeout=600) as client:
        for layer in ("parcels", "projects"):
            for tx in range(tx0, tx1 + 1):
                for ty in range(ty0, ty1 + 1):
                    r = client.get(_our_url(ours, layer, zoom, tx, ty), headers=headers)
                    total += len(r.content)
                    count += 1
    return {"zoom": zoom, "tiles": count, "bytes": total}


def folium_all_parcels(engine: Any, path: Path, bounds: tuple[float, float, float, float]) -> dict[str, Any]:
    """A folium page embedding every parcel as GeoJSON, with the attributes our tiles carry."""
    import folium
    import geopandas

    t = time.perf_counter()
    frame = geopandas.read_postgis(
        """
        SELECT p.id, p.year, p.status, pr.code AS project_code, pr.status AS project_status,
               lc.verdict, p.geom
        FROM land_parcels p JOIN projects pr ON pr.id = p.project_id
        LEFT JOIN land_checks lc ON lc.parcel_id = p.id AND lc.is_latest
        ORDER BY p.id
        """,
        engine,
        geom_col="geom",
    )
    m = folium.Map(
        location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom_start=10, tiles=None
    )
    folium.GeoJson(frame.to_json(), name="用地需求地块").add_to(m)
    m.save(str(path))
    return {
        "bytes": path.stat().st_size,
        "features": len(frame),
        "seconds": round(time.perf_counter() - t, 1),
    }


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


def _login(server: Server, username: str) -> str:
    r = httpx.post(
        f"{server.base}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=60
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


def _warm_database(engine: Any) -> None:
    from sqlalchemy import text

    with engine.connect() as conn:
        for sql in (
            "SELECT sum(ST_NPoints(geom)) FROM plan_features",
            "SELECT sum(ST_NPoints(geom)) FROM tile_plan_pieces",
            "SELECT sum(ST_NPoints(geom_z12)) FROM tile_plan_features",
            "SELECT sum(ST_NPoints(geom)) FROM land_parcels",
            "SELECT sum(ST_NPoints(site)) FROM projects",
            "SELECT count(*) FROM land_checks",
        ):
            conn.execute(text(sql)).all()


def _stats(values: dict[Any, float]) -> dict[str, float]:
    """p50, p95 and mean, unrounded (ratios and targets are computed from these; output rounds)."""
    v = list(values.values())
    return {"p50": _pct(v, 50), "p95": _pct(v, 95), "mean": float(np.mean(v)) if v else float("nan")}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import text

    from server.db import migrate
    from server.db.embedded import EmbeddedPostgres
    from server.db.session import make_engine

    load_start = os.getloadavg()[0]
    projects = max(30, round(3000 * args.scale))
    parcels = max(300, round(30000 * args.scale))
    t = time.perf_counter()
    county = synthesise(args.scale, args.seed, projects=projects, parcels=parcels)
    generate_s = time.perf_counter() - t
    log(f"synthesised in {generate_s:.1f} s")

    base = Path(tempfile.mkdtemp(prefix="sitewatch-bench-"))
    os.chmod(base, 0o755)
    cluster = EmbeddedPostgres(base / "pgdata", ephemeral=True)
    engine = None
    servers: list[Server] = []
    out: dict[str, Any] = {"notes": []}
    try:
        url = cluster.ensure_started()
        migrate.upgrade(url)
        engine = make_engine(url)
        log(f"cluster started and migrated in {base}")
        t = time.perf_counter()
        info = load(engine, county)
        load_s = time.perf_counter() - t
        log(f"loaded in {load_s:.1f} s")
        edition_id = info["edition_id"]
        bounds = county_bounds(county.spec)

        # tipg's virtualenv, installed while nothing else is measured.
        tipg_python, tipg_note = (None, "skipped (--skip-tipg)") if args.skip_tipg else install_tipg(base)
        log(f"tipg: {tipg_note}")

        # 1. First view of our county map vs a folium page embedding every parcel.
        folium_page = folium_all_parcels(engine, base / "folium_all_parcels.html", bounds)
        log(f"folium page with all parcels: {folium_page['bytes']:,} bytes")
        ours = our_server(url, base)
        servers.append(ours)
        ours.start()
        token = _login(ours, "bench_admin")
        first_view: dict[str, Any] | None = None
        if args.skip_browser:
            out["notes"].append("first view not measured (--skip-browser)")
        else:
            try:
                first_view = measure_first_view(ours, token)
                log(
                    f"first view: {first_view['first_view_bytes']:,} bytes of pages and data"
                    f" ({first_view['tile_requests']} tiles) in {first_view['seconds']} s"
                )
            except Exception as exc:  # a missing browser must not hide the tile figures
                out["notes"].append(f"first view not measured: {type(exc).__name__}: {exc}")
                log(out["notes"][-1])
        tile_view = tile_first_view(ours, token, bounds)
        log(
            f"tile-based view: {tile_view['tiles']} parcels/projects tiles at z{tile_view['zoom']},"
            f" {tile_view['bytes']:,} bytes"
        )
        ours.stop()

        # 2. Tile latency: our cache emptied and a fresh process; tipg freshly started.
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE tile_cache"))
        _warm_database(engine)
        ours = our_server(url, base)
        servers.append(ours)
        ours.start()
        token = _login(ours, "bench_admin")
        tipg = None
        if tipg_python is not None:
            tipg = tipg_server(tipg_python, url, base)
            servers.append(tipg)
            try:
                tipg.start(timeout=180)
            except RuntimeError as exc:
                tipg_note += f"; did not start: {exc}"
                out["notes"].append(f"tipg: {tipg_note}")
                tipg = None
        else:
            out["notes"].append(f"tipg: {tipg_note}")
        floor = floor_server(base)
        servers.append(floor)
        floor.start()
        tiles = tile_list(bounds, args.tiles_per_zoom, args.seed)
        rng = np.random.default_rng(args.seed + 2)
        keyed = [(layer, z, x, y) for (z, x, y) in tiles for layer in TIPG_LAYERS]
        keyed = [keyed[i] for i in rng.permutation(len(keyed))]
        log(f"latency: {len(keyed)} tiles ({len(tiles)} addresses x {len(TIPG_LAYERS)} layers), zooms 8-16")
        latency = measure_latency(
            ours, tipg, token, keyed, edition_id=edition_id, warm_repeats=args.warm_repeats, floor=floor
        )
        for server in servers:
            server.stop()

        # 3. Truncation.
        t = time.perf_counter()
        truncation = check_truncation(engine, latency["bytes"], edition_id)
        log(f"truncation check of {truncation['tiles_checked']} tiles in {time.perf_counter() - t:.1f} s")
    finally:
        for server in servers:
            server.stop()
        if engine is not None:
            engine.dispose()
        if args.keep:
            log(f"kept the cluster: data {base / 'pgdata'}, URL {cluster.url}")
        else:
            cluster.stop()
            shutil.rmtree(base, ignore_errors=True)
            log("cluster stopped and removed")

    ours_cold, ours_warm = _stats(latency["ours_cold"]), _stats(latency["ours_warm"])
    floor_warm = _stats(latency["floor_warm"]) if latency["floor_warm"] else None
    above_floor = (
        _stats({k: latency["ours_warm"][k] - v for k, v in latency["floor_warm"].items()})
        if floor_warm
        else None
    )
    per_layer = {}
    for layer in TIPG_LAYERS:
        sel = {k: v for k, v in latency["ours_cold"].items() if k[0] == layer}
        row = {
            "ours_cold_p50": round(_stats(sel)["p50"], 2),
            "ours_warm_p50": round(_stats({k: latency["ours_warm"][k] for k in sel})["p50"], 3),
        }
        if tipg is not None or latency["tipg_cold"]:
            row["tipg_cold_p50"] = round(
                _stats({k: latency["tipg_cold"][k] for k in sel if k in latency["tipg_cold"]})["p50"], 2
            )
            row["tipg_warm_p50"] = round(
                _stats({k: latency["tipg_warm"][k] for k in sel if k in latency["tipg_warm"]})["p50"], 2
            )
        per_layer[layer] = row
    per_zoom = {}
    for z in ZOOMS:
        sel = [k for k in latency["ours_cold"] if k[1] == z]
        row = {"ours_cold_p50": round(_stats({k: latency["ours_cold"][k] for k in sel})["p50"], 2)}
        if latency["tipg_cold"]:
            row["tipg_cold_p50"] = round(_stats({k: latency["tipg_cold"][k] for k in sel})["p50"], 2)
        per_zoom[z] = row
    has_tipg = bool(latency["tipg_cold"])
    tipg_cold = _stats(latency["tipg_cold"]) if has_tipg else None
    tipg_warm = _stats(latency["tipg_warm"]) if has_tipg else None
    tile_bytes = [len(v.get("ours", b"")) for v in latency["bytes"].values()]
    result: dict[str, Any] = {
        "seed": args.seed,
        "scale": args.scale,
        "projects": info["projects"],
        "parcels": info["parcels"],
        "plan_features": info["plan_features"],
        "plan_vertices": info["plan_vertices"],
        "generate_s": round(generate_s, 1),
        "load_s": round(load_s, 1),
        "first_view_bytes": first_view["first_view_bytes"] if first_view else None,
        "first_view_bytes_with_assets": first_view["first_view_bytes_with_assets"] if first_view else None,
        "first_view_tile_requests": first_view["tile_requests"] if first_view else None,
        "folium_all_parcels_bytes": folium_page["bytes"],
        "first_view_bytes_ratio": (
            round(folium_page["bytes"] / first_view["first_view_bytes"], 1) if first_view else None
        ),
        "tile_view_bytes": tile_view["bytes"],
        "tile_view_zoom": tile_view["zoom"],
        "tile_view_bytes_ratio": round(folium_page["bytes"] / max(1, tile_view["bytes"]), 1),
        "tiles_timed": len(latency["ours_cold"]),
        "tile_cold_p50_ms": round(ours_cold["p50"], 3),
        "tile_cold_p95_ms": round(ours_cold["p95"], 3),
        "tile_warm_p50_ms": round(ours_warm["p50"], 3),
        "tile_warm_p95_ms": round(ours_warm["p95"], 3),
        "floor_warm_p50_ms": round(floor_warm["p50"], 3) if floor_warm else None,
        "tile_warm_above_floor_p50_ms": round(above_floor["p50"], 3) if above_floor else None,
        "tipg_cold_p50_ms": round(tipg_cold["p50"], 3) if tipg_cold else None,
        "tipg_cold_p95_ms": round(tipg_cold["p95"], 3) if tipg_cold else None,
        "tipg_warm_p50_ms": round(tipg_warm["p50"], 3) if tipg_warm else None,
        "tipg_warm_p95_ms": round(tipg_warm["p95"], 3) if tipg_warm else None,
        "tile_cold_ratio_vs_tipg": round(tipg_cold["p50"] / ours_cold["p50"], 2) if tipg_cold else None,
        "tile_warm_ratio_vs_tipg": round(tipg_warm["p50"] / ours_warm["p50"], 2) if tipg_warm else None,
        "tile_cold_p95_ratio_vs_tipg": round(tipg_cold["p95"] / ours_cold["p95"], 1) if tipg_cold else None,
        "tile_warm_p95_ratio_vs_tipg": round(tipg_warm["p95"] / ours_warm["p95"], 1) if tipg_warm else None,
        "tile_cold_mean_ratio_vs_tipg": (
            round(tipg_cold["mean"] / ours_cold["mean"], 1) if tipg_cold else None
        ),
        "tile_warm_mean_ratio_vs_tipg": (
            round(tipg_warm["mean"] / ours_warm["mean"], 1) if tipg_warm else None
        ),
        "truncated_tiles": len(truncation["truncated"]),
        "tiles_checked": truncation["tiles_checked"],
        "features_in_checked_tiles": truncation["features_expected"],
        "tiles_over_tipg_default_cap": truncation["tiles_over_tipg_default_cap"],
        "largest_tile_bytes": max(tile_bytes) if tile_bytes else 0,
        "http_errors": len(latency["errors"]),
        "tipg": tipg_note,
        "loadavg_1min_start_end": [round(load_start, 2), round(os.getloadavg()[0], 2)],
    }
    # Targets judged on the unrounded ratios (a printed 1.5x may be 1.46x).
    result["targets_met"] = {
        "first_view_10x": bool(first_view and folium_page["bytes"] >= 10 * first_view["first_view_bytes"]),
        "cold_1_5x": bool(tipg_cold and tipg_cold["p50"] >= 1.5 * ours_cold["p50"]),
        "warm_20x": bool(tipg_warm and tipg_warm["p50"] >= 20 * ours_warm["p50"]),
        "no_truncated_tiles": result["truncated_tiles"] == 0,
    }
    details = {
        "load": {k: v for k, v in info.items() if k != "project_ids"},
        "first_view": {k: v for k, v in (first_view or {}).items()},
        "folium": folium_page,
        "per_layer": per_layer,
        "per_zoom": per_zoom,
        "truncated": truncation["truncated"][:10],
        "errors": latency["errors"][:10],
        "notes": out["notes"],
    }
    return {"result": result, "details": details}


def summary(out: dict[str, Any], total_s: float) -> str:
    """The human summary printed before the JSON line."""
    r, d = out["result"], out["details"]
    met = {k: "met" if v else "NOT met" for k, v in r["targets_met"].items()}
    fv = d["first_view"]
    lines = [
        "Sitewatch maps benchmark",
        f"  seed {r['seed']}, scale {r['scale']}: {r['projects']} projects, {r['parcels']} parcels,"
        f" {r['plan_features']} plan features ({r['plan_vertices']:,} vertices)",
        f"  generate {r['generate_s']} s; load {r['load_s']} s (plan with tile triggers"
        f" {d['load']['plan_s']:.1f} s; {d['load']['tile_plan_pieces']:,} tile pieces,"
        f" tile copies {d['load']['tile_plan_mb']} MB)",
        "First view of the county map (/map in Chromium 1280x800, signed in as admin):",
    ]
    if fv and fv.get("timed_out"):
        lines.append(f"  NOT finished: {fv['timed_out']}")
    if fv:
        kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(fv["bytes_by_kind"].items()))
        lines += [
            f"  {fv['requests']} responses ({fv['tile_requests']} tiles) in {fv['seconds']} s,"
            f" zoom {fv['zoom']};"
            f" bytes by kind: {kinds}",
            f"  pages + data + tiles: {r['first_view_bytes']:,} bytes"
            f" (with JS/CSS assets {r['first_view_bytes_with_assets']:,})",
            "  largest: "
            + "; ".join(f"{x['url'].split('?')[0][-60:]} {x['bytes']:,}" for x in fv["largest"][:3]),
        ]
    lines += [
        f"  folium page embedding all {d['folium']['features']} parcels as GeoJSON:"
        f" {r['folium_all_parcels_bytes']:,} bytes",
        f"  ratio folium / ours: {r['first_view_bytes_ratio']}x (target >= 10x: {met['first_view_10x']})",
        f"  for comparison, the parcels + projects tiles of a 1280x800 county view at z{r['tile_view_zoom']}:"
        f" {r['tile_view_bytes']:,} bytes ({r['tile_view_bytes_ratio']}x smaller than the folium page)",
        f"Tile latency ({r['tiles_timed']} tiles: zooms 8-16 x"
        " parcels/farmland/redline/urban_boundary/projects):",
        f"  ours   cold p50 {r['tile_cold_p50_ms']:8.2f} ms  p95 {r['tile_cold_p95_ms']:8.2f} ms;"
        f"  warm p50 {r['tile_warm_p50_ms']:6.2f} ms  p95 {r['tile_warm_p95_ms']:6.2f} ms",
    ]
    if r["floor_warm_p50_ms"] is not None:
        lines.append(
            f"  floor (bare ASGI app, same uvicorn and body sizes) warm p50 {r['floor_warm_p50_ms']:.2f} ms;"
            f" ours above the floor p50 {r['tile_warm_above_floor_p50_ms']:.2f} ms"
        )
    if r["tipg_cold_p50_ms"] is not None:
        lines += [
            f"  tipg   cold p50 {r['tipg_cold_p50_ms']:8.2f} ms  p95 {r['tipg_cold_p95_ms']:8.2f} ms;"
            f"  warm p50 {r['tipg_warm_p50_ms']:6.2f} ms  p95 {r['tipg_warm_p95_ms']:6.2f} ms",
            f"  cold ratio tipg/ours {r['tile_cold_ratio_vs_tipg']}x p50,"
            f" {r['tile_cold_p95_ratio_vs_tipg']}x p95,"
            f" {r['tile_cold_mean_ratio_vs_tipg']}x mean (target >= 1.5x: {met['cold_1_5x']})",
            f"  warm ratio tipg/ours {r['tile_warm_ratio_vs_tipg']}x p50,"
            f" {r['tile_warm_p95_ratio_vs_tipg']}x p95, {r['tile_warm_mean_ratio_vs_tipg']}x mean"
            f" (target >= 20x: {met['warm_20x']})",
        ]
    else:
        lines.append(f"  tipg not measured: {r['tipg']}")
    lines.append("  per layer p50 ms: " + "; ".join(f"{k} {v}" for k, v in d["per_layer"].items()))
    lines.append("  per zoom cold p50 ms: " + "; ".join(f"z{k} {v}" for k, v in d["per_zoom"].items()))
    lines += [
        f"Truncation: {r['truncated_tiles']} of {r['tiles_checked']} tiles differ from ST_Intersects"
        f" ({r['features_in_checked_tiles']:,} features; target 0: {met['no_truncated_tiles']});"
        f" {r['tiles_over_tipg_default_cap']} tiles hold more than tipg's default cap of"
        f" {TIPG_DEFAULT_MAX_FEATURES:,} features; largest tile {r['largest_tile_bytes']:,} bytes",
    ]
    for note in d["notes"]:
        lines.append(f"Note: {note}")
    if d["errors"]:
        lines.append(f"HTTP errors ({r['http_errors']}): " + " | ".join(d["errors"][:3]))
    lines.append(
        f"total run {total_s:.1f} s; 1-min load average at start/end {r['loadavg_1min_start_end']}"
        f" on {os.cpu_count()} CPUs (other benchmarks may share the machine)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.maps", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=20261127, help="seed of the synthetic county")
    parser.add_argument("--scale", type=float, default=1.0, help="scale of counts (0.1 for a quick run)")
    parser.add_argument("--tiles-per-zoom", type=int, default=5, help="tile addresses per zoom 8-16")
    parser.add_argument("--warm-repeats", type=int, default=3, help="warm requests per tile (median taken)")
    parser.add_argument("--skip-tipg", action="store_true", help="do not install and time tipg")
    parser.add_argument("--skip-browser", action="store_true", help="do not measure the first view")
    parser.add_argument("--keep", action="store_true", help="keep the cluster (print its URL) at the end")
    args = parser.parse_args(argv)
    # A background job ignores SIGINT: let SIGTERM unwind too, so the servers and the cluster stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    out = run(args)
    total = time.perf_counter() - _T0
    out["result"]["total_run_s"] = round(total, 1)
    print(summary(out, total))
    print(json.dumps(out["result"], ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
