"""Site photos for the demo county's inspections, taken in through the mobile upload's own use case.

For some projects inspected more than once, the first and the last visit photograph the same spots
(``before`` and ``after``: the project page pairs them); a few other visits bring two photos each, and two
photos are meant to be doubted: one taken far from the site, one whose coordinates were shifted into
GCJ-02 by a map app.  Photo ids are fixed per inspection, so loading again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
import uuid
from collections import defaultdict

from geoalchemy2.shape import to_shape
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_data.crs import AREA_SRID, STORAGE_SRID, reproject, wgs84_to_gcj02
from gis_data.demo_photos import photo_jpeg
from server.models import Inspection, Photo, Project, User
from server.photo_evidence.verdict import DeviceFix
from server.services import evidence
from server.storage import BlobStore

SEED = 2026
#: Namespace of the demo photos' client UUIDs.
PHOTO_NAMESPACE = uuid.UUID("5b0e7d2c-4a7e-4f8e-9a57-2f3c1d9e6a10")
PAIR_PROJECTS = 6
SINGLE_VISITS = 10
#: How far from the site the "wrong place" photo was taken, metres.
FAR_FROM_SITE_M = 900.0


def _spots_xy(rng: random.Random, site_xy: BaseGeometry, count: int) -> list[Point]:
    """Points on the site a photographer would stand at."""
    if isinstance(site_xy, LineString):
        return [site_xy.interpolate(rng.uniform(0.1, 0.9), normalized=True) for _ in range(count)]
    if isinstance(site_xy, Polygon):
        minx, miny, maxx, maxy = site_xy.bounds
        inner = site_xy.buffer(-10.0) if site_xy.buffer(-10.0).area > 0 else site_xy
        points: list[Point] = []
        while len(points) < count:
            p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if inner.contains(p):
                points.append(p)
        return points
    centre = site_xy.representative_point()
    return [Point(centre.x + rng.uniform(-25, 25), centre.y + rng.uniform(-25, 25)) for _ in range(count)]


def _jitter(rng: random.Random, p: Point, metres: float) -> Point:
    return Point(p.x + rng.uniform(-metres, metres), p.y + rng.uniform(-metres, metres))


def _lonlat(p: Point) -> Point:
    return reproject(p, AREA_SRID, STORAGE_SRID)


def _site_xy(project: Project) -> BaseGeometry:
    return reproject(to_shape(project.site), STORAGE_SRID, AREA_SRID)


def _extent_m(project: Project) -> float:
    minx, miny, maxx, maxy = _site_xy(project).bounds
    return max(maxx - minx, maxy - miny)


def _away_from_site(photo_id: uuid.UUID, project: Project) -> Point:
    """A spot well outside the site and its buffer (somebody photographed the wrong place)."""
    site_xy = _site_xy(project)
    angle = random.Random(photo_id.int).uniform(0, 2 * math.pi)
    centre = site_xy.centroid
    distance = FAR_FROM_SITE_M
    while True:
        spot = Point(centre.x + distance * math.cos(angle), centre.y + distance * math.sin(angle))
        if site_xy.distance(spot) >= FAR_FROM_SITE_M * 0.6:
            return spot
        distance += 200.0


def _photo_uuid(inspection: Inspection, index: int) -> uuid.UUID:
    return uuid.uuid5(PHOTO_NAMESPACE, f"{inspection.id}/{index}")


def load_demo_photos(session: Session, *, store: BlobStore) -> int:
    """Upload the demo photos that are missing; returns how many were received."""
    rng = random.Random(SEED)
    inspections = list(
        session.scalars(
            select(Inspection)
            .where(Inspection.status == "submitted")
            .order_by(Inspection.started_at, Inspection.project_id, Inspection.id)
        )
    )
    projects = {p.id: p for p in session.scalars(select(Project).where(Project.site.is_not(None))).unique()}
    by_project: dict[int, list[Inspection]] = defaultdict(list)
    for inspection in inspections:
        if inspection.project_id in projects:
            by_project[inspection.project_id].append(inspection)
    revisited = sorted(pid for pid, rows in by_project.items() if len({r.check_date for r in rows}) >= 2)
    pair_ids = rng.sample(revisited, min(PAIR_PROJECTS, len(revisited)))
    others = sorted(pid for pid in by_project if pid not in pair_ids)
    single_ids = rng.sample(others, min(SINGLE_VISITS, len(others)))

    # (inspection, stage, spot in the area CRS, kind): kind is "site", "far" or "gcj".
    shots: list[tuple[Inspection, str, Point, str]] = []
    for pid in sorted(pair_ids):
        rows = by_project[pid]
        site_xy = _site_xy(projects[pid])
        spots = _spots_xy(rng, site_xy, 2)
        first, last = rows[0], next(r for r in reversed(rows) if r.check_date != rows[0].check_date)
        for spot in spots:
            shots.append((first, "before", _jitter(rng, spot, 4.0), "site"))
        if len(rows) > 2 and rows[1] is not last:
            shots.append((rows[1], "during", _jitter(rng, spots[0], 4.0), "site"))
        for spot in spots:
            shots.append((last, "after", _jitter(rng, spot, 4.0), "site"))
    # The doubtful ones go to the smallest sites, where a shifted point is sure to leave the site.
    for n, pid in enumerate(sorted(single_ids, key=lambda pid: (_extent_m(projects[pid]), pid))):
        inspection = by_project[pid][-1]
        project = projects[pid]
        site_xy = _site_xy(project)
        stage = {"not_started": "before", "completed": "after"}.get(project.status, "during")
        for spot in _spots_xy(rng, site_xy, 2):
            shots.append((inspection, stage, spot, "site"))
        if n == 0:
            shots.append((inspection, stage, site_xy.centroid, "far"))
        elif n == 1:
            shots.append((inspection, stage, site_xy.representative_point(), "gcj"))

    counters: dict[uuid.UUID, int] = defaultdict(int)
    planned: list[tuple[uuid.UUID, Inspection, str, Point, str, int]] = []
    for inspection, stage, spot, kind in shots:
        index = counters[inspection.id]
        counters[inspection.id] += 1
        planned.append((_photo_uuid(inspection, index), inspection, stage, spot, kind, index))
    present = set(session.scalars(select(Photo.id).where(Photo.id.in_([p[0] for p in planned]))))
    users = {u.id: u for u in session.scalars(select(User))}
    rules = evidence.EvidenceRules()
    received = 0
    for photo_id, inspection, stage, spot, kind, index in planned:
        if photo_id in present:
            continue
        if kind == "far":
            spot = _away_from_site(photo_id, projects[inspection.project_id])
        where = _lonlat(spot)
        fix_at = where
        if kind == "gcj":  # a watermark app rewrote the EXIF in GCJ-02; the phone's own fix stayed WGS84
            where = wgs84_to_gcj02(where)
        taken = inspection.started_at + dt.timedelta(minutes=6 + 7 * index)
        data = photo_jpeg(stage, int(photo_id.int % 1_000_000), lat=where.y, lon=where.x, taken=taken)
        staged, size, sha256, _too_large = evidence.stream_to_staging(
            store, io.BytesIO(data), limit=rules.max_photo_bytes
        )
        item = evidence.IncomingPhoto(
            photo_id=str(photo_id),
            filename=f"IMG_{taken.astimezone(dt.timezone(dt.timedelta(hours=8))):%Y%m%d_%H%M%S}.jpg",
            staged=staged,
            size=size,
            sha256=sha256,
            device_fix=DeviceFix(fix_at.y, fix_at.x, 6.0, taken + dt.timedelta(minutes=1)),
        )
        actor = users[inspection.inspector_id]
        receipt = evidence.receive_photo(
            session,
            actor,
            inspection.id,
            item,
            store=store,
            rules=rules,
            now=taken + dt.timedelta(minutes=20),
        )
        received += receipt.status == "received" and not receipt.duplicate_retry
    return received
