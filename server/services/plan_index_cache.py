"""Per-process cache of plan editions' piece indexes, so a conflict check overlays in memory.

A plan edition never changes once imported (a new delivery is a new edition), so its pieces can be
read once and kept.  Entries are keyed by the database, the edition id and the edition's creation
time: an id that came back after a deletion, or the same id in another database, is another key and
never meets a stale entry.  Memory is bounded: at most ``MAX_EDITIONS`` indexes and
``MAX_VERTICES`` vertices in all, least recently used evicted first; an edition larger than the
whole budget is not cached and its checks run in SQL.  Thread-safe: one lock guards the table and one
lock per key lets a single caller load an edition while others wait for it.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis_data.plan_index import PlanIndex
from server.models import PlanEdition
from server.repositories import land as land_repo

#: Editions kept at once (the current one and the one before it, while a new delivery is checked).
MAX_EDITIONS = 2
#: Vertices kept in all.  Measured: a county plan of 5.9 M vertices (95,000 pieces) takes 3-5 s to
#: load; its geometries hold about 170 MB and the process grows by some 300 MB while reading it (the
#: rows go through the driver), so the budget is about two such editions.
MAX_VERTICES = 12_000_000
#: Layer counts of editions kept (tiny; read on every check).
MAX_COUNTS = 64


@dataclass(frozen=True, slots=True)
class EditionKey:
    """What identifies an edition's contents for good."""

    database: str
    edition_id: int
    created_at: Any


_lock = threading.Lock()
_indexes: OrderedDict[EditionKey, PlanIndex] = OrderedDict()
_too_big: OrderedDict[EditionKey, int] = OrderedDict()
_counts: OrderedDict[EditionKey, dict[str, int]] = OrderedDict()
_loading: dict[EditionKey, threading.Lock] = {}
#: Each engine's database, as it appears in keys (rendering a URL costs about as much as a small check's
#: tree query, and the engine of a process does not change).
_databases: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def edition_key(session: Session, edition: PlanEdition) -> EditionKey:
    """The cache key of an edition read through ``session``."""
    engine = session.get_bind().engine
    database = _databases.get(engine)
    if database is None:
        database = _databases.setdefault(engine, engine.url.render_as_string(hide_password=True))
    return EditionKey(database, edition.id, edition.created_at)


def edition_counts(session: Session, edition: PlanEdition) -> dict[str, int]:
    """Feature counts by layer of an edition (read once per edition)."""
    key = edition_key(session, edition)
    with _lock:
        counts = _counts.get(key)
        if counts is not None:
            _counts.move_to_end(key)
            return dict(counts)
    counts = land_repo.edition_counts(session, edition.id)
    with _lock:
        _counts[key] = counts
        _trim(_counts, MAX_COUNTS)
    return dict(counts)


def edition_index(session: Session, edition: PlanEdition) -> PlanIndex | None:
    """The in-memory index of an edition's pieces, loaded on first use; None if it is too big to keep."""
    key = edition_key(session, edition)
    found, index = _lookup(key)
    if found:
        return index
    with _lock:
        loading = _loading.setdefault(key, threading.Lock())
    try:
        with loading:
            found, index = _lookup(key)
            if not found:
                index = _load(session, key)
    finally:
        with _lock:
            _loading.pop(key, None)
    return index


def _lookup(key: EditionKey) -> tuple[bool, PlanIndex | None]:
    with _lock:
        index = _indexes.get(key)
        if index is not None:
            _indexes.move_to_end(key)
            return True, index
        return key in _too_big, None


def _load(session: Session, key: EditionKey) -> PlanIndex | None:
    _pieces, vertices = land_repo.edition_piece_size(session, key.edition_id)
    if vertices > MAX_VERTICES:
        with _lock:
            _too_big[key] = vertices
            _trim(_too_big, MAX_COUNTS)
        return None
    with _lock:
        # Make room before reading, so that memory never holds more than the budget plus one load.
        total = sum(index.vertices for index in _indexes.values())
        while _indexes and (len(_indexes) >= MAX_EDITIONS or total + vertices > MAX_VERTICES):
            _key, evicted = _indexes.popitem(last=False)
            total -= evicted.vertices
    layers: list[str] = []
    class_codes: list[str | None] = []
    geoms = []
    for batch in land_repo.edition_pieces(session, key.edition_id):
        layers += batch.layers
        class_codes += batch.class_codes
        geoms.append(shapely.from_wkb(batch.wkbs))
    index = PlanIndex(layers, class_codes, np.concatenate(geoms) if geoms else np.empty(0, dtype=object))
    with _lock:
        _indexes[key] = index
        while len(_indexes) > MAX_EDITIONS:
            _indexes.popitem(last=False)
    return index


def _trim(table: OrderedDict[EditionKey, Any], size: int) -> None:
    while len(table) > size:
        table.popitem(last=False)


def cached_editions() -> list[EditionKey]:
    """Keys of the indexes held now, least recently used first (for diagnostics and tests)."""
    with _lock:
        return list(_indexes)


def clear() -> None:
    """Drop every cached index and count."""
    with _lock:
        _indexes.clear()
        _too_big.clear()
        _counts.clear()
