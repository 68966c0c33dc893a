"""In-process overlay of parcels with the pieces of one plan edition, in the planar area CRS.

A plan edition is cut into small pieces in the database (each layer and land-use class dissolved
within tiles, then ``ST_Subdivide`` into pieces of at most a few dozen vertices); this module holds
those pieces in a shapely STRtree and answers "how much of each parcel lies in each plan layer (and
land-use class)" with vectorised GEOS calls.  The answer is the same
overlay PostGIS computes (GEOS in both, same coordinates, read as WKB): a piece inside a parcel
counts with its own area, a piece covering the parcel with the parcel's area, and only pieces
crossing the parcel boundary get a real intersection.

Pure: no database, no web framework; geometries come in as WKB or shapely objects in the area CRS.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

#: Rough bytes per vertex and per piece (GEOS coordinates, geometry objects, tree).
_BYTES_PER_VERTEX = 24
_BYTES_PER_PIECE = 800


@dataclass(frozen=True, slots=True)
class GroupOverlap:
    """Overlap area of the parcel at ``index`` (position in the query) with one layer/class group."""

    index: int
    layer: str
    class_code: str | None
    area_m2: float


#: Parcels per call at or above which the work is shared by the cores (GEOS runs without the GIL).
PARALLEL_PARCELS = 8
_PARTS_PER_WORKER = 4
_WORKERS = max(1, min(4, os.cpu_count() or 1))
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="plan-overlay")
        return _POOL


class PlanIndex:
    """The pieces of one plan edition in an STRtree, with their layer, land-use class and area."""

    def __init__(
        self, layers: Sequence[str], class_codes: Sequence[str | None], pieces: Sequence[BaseGeometry]
    ) -> None:
        """Index ``pieces`` (polygons in the area CRS); ``layers`` and ``class_codes`` run alongside."""
        if not len(layers) == len(class_codes) == len(pieces):
            raise ValueError("layers, class_codes and pieces must have the same length")
        keys = list(zip(layers, class_codes, strict=True))
        self._groups: list[tuple[str, str | None]] = list(dict.fromkeys(keys))
        number = {key: i for i, key in enumerate(self._groups)}
        self._group = np.fromiter((number[k] for k in keys), dtype=np.int64, count=len(keys))
        self._pieces = np.asarray(pieces, dtype=object)
        self._areas = shapely.area(self._pieces) if len(self._pieces) else np.zeros(0)
        self._tree = STRtree(self._pieces)
        self.layers = frozenset(layer for layer, _code in self._groups)
        self.vertices = int(shapely.get_num_coordinates(self._pieces).sum()) if len(self._pieces) else 0

    @classmethod
    def from_wkb(
        cls, layers: Sequence[str], class_codes: Sequence[str | None], wkbs: Sequence[bytes]
    ) -> PlanIndex:
        """Build from WKB pieces (exact coordinates, as the database stores them)."""
        pieces = shapely.from_wkb(np.asarray([bytes(w) for w in wkbs], dtype=object))
        return cls(layers, class_codes, pieces)

    def __len__(self) -> int:
        """Number of pieces."""
        return len(self._pieces)

    @property
    def nbytes(self) -> int:
        """An estimate of the memory the index holds."""
        return self.vertices * _BYTES_PER_VERTEX + len(self._pieces) * _BYTES_PER_PIECE

    def overlaps(self, parcels: Sequence[BaseGeometry]) -> list[GroupOverlap]:
        """Area of each parcel in each layer/class group it touches (a group touched only along its
        boundary comes back with 0 m2, as ``ST_Intersects`` + ``ST_Area(ST_Intersection)`` gives).

        Many parcels at once are shared out over the cores, in order."""
        geoms = np.asarray(parcels, dtype=object)
        if not len(geoms) or not len(self._pieces):
            return []
        if len(geoms) < PARALLEL_PARCELS or _WORKERS == 1:
            return self._overlaps(geoms, 0)
        # More parts than cores, so that a core that drew quick parcels takes up more of them.
        bounds = np.linspace(0, len(geoms), _WORKERS * _PARTS_PER_WORKER + 1).astype(int)
        parts = [
            _pool().submit(self._overlaps, geoms[lo:hi], int(lo))
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
            if hi > lo
        ]
        return [row for part in parts for row in part.result()]

    def _overlaps(self, geoms: np.ndarray, offset: int) -> list[GroupOverlap]:
        """``overlaps`` of ``geoms``, numbered from ``offset``."""
        # Prepared parcels make the tree's intersects test and the two containment tests cheap.
        shapely.prepare(geoms)
        try:
            which, piece = self._tree.query(geoms, predicate="intersects")
            parcel_geoms, piece_geoms = geoms[which], self._pieces[piece]
            inside = shapely.covers(parcel_geoms, piece_geoms)
            around = ~inside & shapely.covered_by(parcel_geoms, piece_geoms)
        finally:
            shapely.destroy_prepared(geoms)
        if not len(which):
            return []
        area = np.empty(len(which))
        crossing = ~(inside | around)
        area[inside] = self._areas[piece[inside]]
        area[around] = shapely.area(parcel_geoms[around])
        area[crossing] = shapely.area(shapely.intersection(piece_geoms[crossing], parcel_geoms[crossing]))
        groups = len(self._groups)
        key = which.astype(np.int64) * groups + self._group[piece]
        unique, position = np.unique(key, return_inverse=True)
        sums = np.bincount(position, weights=area, minlength=len(unique))
        out = []
        for k, total in zip(unique.tolist(), sums.tolist(), strict=True):
            layer, code = self._groups[k % groups]
            out.append(GroupOverlap(offset + k // groups, layer, code, float(total)))
        return out

    def overlap_geometry(self, parcel: BaseGeometry, layer: str) -> MultiPolygon | None:
        """The part of ``parcel`` inside ``layer`` (polygons only), or None when there is none."""
        piece = self._tree.query(parcel, predicate="intersects")
        piece = piece[[self._groups[g][0] == layer for g in self._group[piece]]] if len(piece) else piece
        if not len(piece):
            return None
        cut = shapely.intersection(self._pieces[piece], parcel)
        polygons = []
        for part in shapely.get_parts(shapely.union_all(cut)):
            if isinstance(part, Polygon | MultiPolygon) and not part.is_empty:
                polygons.extend(shapely.get_parts(part))
        return MultiPolygon(polygons) if polygons else None
