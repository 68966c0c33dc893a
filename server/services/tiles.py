"""Vector tiles of parcels, plan layers and project sites: validation, scope, caching and invalidation.

A tile is served from, in order: the process's memory (an LRU of bytes and entity tags), the
``tile_cache`` table (tiles that took ``PERSIST_AFTER_MS`` or more to make), or a fresh ``ST_AsMVT``
query; nothing is capped, every feature touching a tile is in it. Each cached tile carries the data
version of its layer group; triggers give the group a new version on every write to the tables it
reads, and the version is read (one primary-key lookup) on every request, so a changed parcel shows in
the very next tile and a stale tile is never served. Scoped users (project units, townships) get
tiles of their own projects only, cached apart from everyone else's.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from server.db.session import LookupChannel
from server.errors import AppError, BadRequest, NotFound
from server.models import User
from server.permissions import ProjectScope, project_scope, reads_all_projects
from server.repositories import projects as projects_repo
from server.repositories import reference as reference_repo
from server.repositories import tiles as tiles_repo
from server.repositories.tiles import StoredTile, TileKey
from server.security import token_digest
from server.services.transaction import unit_of_work

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
MIN_ZOOM = 0
MAX_ZOOM = 22
#: Browsers revalidate every time (a 304 costs no body), so a changed parcel is never shown stale.
CACHE_CONTROL = "private, max-age=0, must-revalidate"
#: Memory given to tiles in each process (bytes of MVT kept in the LRU).
MEMORY_BYTES = 64 * 1024 * 1024
#: Tiles slower than this to make are also written to the tile_cache table (shared by processes and
#: kept across restarts); quicker ones are cheaper to make again than to store and commit.
PERSIST_AFTER_MS = 50.0

_COORDINATE = re.compile(r"-?[0-9]{1,12}")


@dataclass(frozen=True, slots=True)
class TileLayer:
    """One tile layer: what it shows, who sees what, and its attribute fields (TileJSON ``fields``)."""

    name: str
    title: str
    description: str
    scoped: bool
    fields: dict[str, str]
    min_zoom: int = MIN_ZOOM
    max_zoom: int = MAX_ZOOM

    @property
    def is_plan(self) -> bool:
        """Whether the layer is a plan layer (read from a plan edition)."""
        return self.name in tiles_repo.PLAN_LAYERS


_PLAN_FIELDS = {
    "edition_id": "规划版本 id",
    "class_code": "用地用海分类代码（仅 landuse）",
    "class_name": "用地用海分类名称（仅 landuse）",
}

LAYERS: dict[str, TileLayer] = {
    layer.name: layer
    for layer in (
        TileLayer(
            "parcels",
            "用地需求地块",
            "各项目的用地需求地块，含最近一次核查结论；项目单位和乡镇只看到本单位/本乡镇项目的地块。",
            scoped=True,
            fields={
                "parcel_id": "地块 id（同要素 id）",
                "year": "年度",
                "status": "地块状态 draft/submitted/in_batch/approved",
                "project_code": "项目代码",
                "project_status": "项目建设状态",
                "verdict": "最近核查结论 compliant/needs_adjustment/blocked（未核查则无）",
            },
        ),
        TileLayer(
            "projects",
            "重点项目位置",
            "重点项目的选址（点、线或面）及建设状态；项目单位和乡镇只看到本单位/本乡镇的项目。",
            scoped=True,
            fields={
                "code": "项目代码",
                "name": "项目名称",
                "status": "建设状态",
                "category": "项目类别",
                "list_year": "清单年度",
            },
        ),
        TileLayer(
            "farmland",
            "永久基本农田",
            "永久基本农田保护图斑（最新规划版本，或 ?edition=）。",
            False,
            _PLAN_FIELDS,
        ),
        TileLayer(
            "redline", "生态保护红线", "生态保护红线（最新规划版本，或 ?edition=）。", False, _PLAN_FIELDS
        ),
        TileLayer(
            "urban_boundary",
            "城镇开发边界",
            "城镇开发边界（最新规划版本，或 ?edition=）。",
            False,
            _PLAN_FIELDS,
        ),
        TileLayer(
            "landuse",
            "国土空间规划用地",
            "规划用地用海分类（最新规划版本，或 ?edition=）。",
            False,
            _PLAN_FIELDS,
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Tile:
    """A tile ready to send: MVT bytes and their entity tag."""

    data: bytes
    etag: str


@dataclass(frozen=True, slots=True)
class TileAddress:
    """A checked tile address."""

    layer: TileLayer
    z: int
    x: int
    y: int


@dataclass
class TileMemory:
    """The per-process LRU of tiles (bytes + etag + data version), bounded by total bytes."""

    max_bytes: int = MEMORY_BYTES
    #: Tiles that took at least this long to make are also kept in the tile_cache table.
    persist_after_ms: float = PERSIST_AFTER_MS
    _items: OrderedDict[TileKey, StoredTile] = field(default_factory=OrderedDict)
    _bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    #: The newest version seen per group, to prune the cache table once per change.
    _seen: dict[str, int] = field(default_factory=dict)
    #: (plan version, newest edition id then): the newest edition changes only with a new plan version.
    _newest: tuple[int, int | None] | None = None

    def get(self, key: TileKey, version: int) -> StoredTile | None:
        """The tile for ``key`` if it was made from ``version``."""
        with self._lock:
            item = self._items.get(key)
            if item is None or item.version != version:
                return None
            self._items.move_to_end(key)
            return item

    def put(self, key: TileKey, tile: StoredTile) -> None:
        """Keep a tile, evicting the least recently used ones beyond the byte budget."""
        size = len(tile.data)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old.data)
            self._items[key] = tile
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= len(evicted.data)

    def newer_than_seen(self, group: str, version: int) -> bool:
        """Record ``version`` for ``group``; True if it is newer than the last one recorded."""
        with self._lock:
            seen = self._seen.get(group)
            if seen is not None and seen >= version:
                return False
            self._seen[group] = version
            return seen is not None

    def newest_edition(self, plan_version: int) -> int | None:
        """The newest edition id remembered for ``plan_version`` (None if not remembered)."""
        newest = self._newest
        return newest[1] if newest is not None and newest[0] == plan_version else None

    def remember_newest_edition(self, plan_version: int, edition_id: int | None) -> None:
        """Remember the newest edition id seen at ``plan_version``."""
        self._newest = (plan_version, edition_id)

    def clear(self) -> None:
        """Forget every tile."""
        with self._lock:
            self._items.clear()
            self._bytes = 0

    @property
    def size_bytes(self) -> int:
        """Bytes of MVT held."""
        return self._bytes


@dataclass
class TileFreshness:
    """What the fast path may know without asking the database, valid only while ``listening``.

    The newest data version of each tile group and the logins seen recently (token hash -> role and
    expiry), kept current by database notifications (migration 0006, server.db.notify): a new version
    replaces the old one, any change to tokens or users forgets every login. While the notifications are
    not heard (not connected yet, connection lost), nothing is remembered and every request asks the
    database. ``forget`` is also called on every commit made by this process, so its own writes show in
    its very next tile; another process's writes show once their notification arrives (milliseconds).
    A lookup that started before a ``forget`` is not remembered (``generation``).
    """

    max_logins: int = 10_000
    listening: bool = False
    generation: int = 0
    _versions: dict[str, int] = field(default_factory=dict)
    _logins: dict[str, tuple[str, dt.datetime]] = field(default_factory=dict)

    def forget(self) -> None:
        """Forget every version and login (the next requests ask the database)."""
        self.generation += 1
        self._versions.clear()
        self._logins.clear()

    def start_listening(self) -> None:
        """Notifications are heard from now on: start remembering (from nothing)."""
        self.forget()
        self.listening = True

    def stop_listening(self) -> None:
        """Notifications may be missed from now on: remember nothing."""
        self.listening = False
        self.forget()

    def version_notified(self, payload: str) -> None:
        """A ``group:version`` notification: the group's data changed."""
        group, _, version = payload.rpartition(":")
        if self.listening and group and version.isdigit():
            self._versions[group] = max(self._versions.get(group, 0), int(version))

    def logins_notified(self, payload: str = "") -> None:
        """Tokens or users changed: forget every login (versions stay: they did not change)."""
        self.generation += 1
        self._logins.clear()

    def known(self, token_hash: str, group: str, now: dt.datetime) -> tuple[str, int] | None:
        """(role, version) if both are known and the login has not expired."""
        if not self.listening:
            return None
        login = self._logins.get(token_hash)
        version = self._versions.get(group)
        if login is None or version is None or login[1] <= now:
            return None
        return login[0], version

    def remember(self, token_hash: str, found: tiles_repo.FastLookup, group: str, generation: int) -> None:
        """Remember a lookup made at ``generation`` (ignored if anything was forgotten since)."""
        if not self.listening or generation != self.generation:
            return
        if len(self._logins) >= self.max_logins:
            self._logins.clear()
        self._logins[token_hash] = (found.role, found.expires_at)
        self._versions[group] = max(self._versions.get(group, 0), found.version)


def _coordinate(name: str, value: str) -> int:
    if not _COORDINATE.fullmatch(value):
        raise BadRequest(
            f"瓦片坐标 {name} 应为整数（收到 {value[:20]!r}）。",
            code="tile_coordinate_invalid",
            extra={"field": name},
        )
    return int(value)


def parse_address(layer: str, z: str, x: str, y: str) -> TileAddress:
    """Check a tile address: a known layer and integer z/x/y inside the Web Mercator tile grid."""
    found = LAYERS.get(layer)
    if found is None:
        raise NotFound(
            f"没有名为 {layer[:40]!r} 的瓦片图层；可用图层：{'、'.join(LAYERS)}。",
            code="unknown_layer",
            extra={"layers": list(LAYERS)},
        )
    zi, xi, yi = _coordinate("z", z), _coordinate("x", x), _coordinate("y", y)
    if not found.min_zoom <= zi <= found.max_zoom:
        raise BadRequest(
            f"缩放级别 z={zi} 超出范围 {found.min_zoom}–{found.max_zoom}。",
            code="tile_out_of_range",
            extra={"field": "z"},
        )
    limit = 2**zi - 1
    for name, value in (("x", xi), ("y", yi)):
        if not 0 <= value <= limit:
            raise BadRequest(
                f"瓦片坐标 {name}={value} 超出第 {zi} 级的范围 0–{limit}。",
                code="tile_out_of_range",
                extra={"field": name},
            )
    return TileAddress(found, zi, xi, yi)


def _scope_key(scope: ProjectScope) -> str:
    if scope.all:
        return "all"
    if scope.township_id is not None:
        return f"township:{scope.township_id}"
    if scope.unit_id is not None:
        return f"unit:{scope.unit_id}"
    return "none"


def _visible_project_ids(session: Session, scope: ProjectScope) -> list[int] | None:
    """None for every project; else the ids the scope allows."""
    if scope.all:
        return None
    items, _ = projects_repo.list_projects(session, scope=scope, filters=projects_repo.ProjectFilter())
    return [p.id for p in items]


def _etag(data: bytes) -> str:
    return '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'


def _key(address: TileAddress, scope: ProjectScope, edition_id: int | None) -> TileKey:
    layer = address.layer
    return TileKey(
        layer=layer.name,
        scope=_scope_key(scope if layer.scoped else _ALL),
        variant=("newest" if edition_id is None else f"e{edition_id}") if layer.is_plan else "-",
        z=address.z,
        x=address.x,
        y=address.y,
    )


_ALL = ProjectScope(all=True)


def get_tile(
    session: Session,
    actor: User,
    address: TileAddress,
    *,
    edition_id: int | None = None,
    memory: TileMemory,
    only_projects: Sequence[int] | None = None,
) -> Tile:
    """The MVT of a tile the actor may see, from memory, the cache table or a fresh query.

    ``only_projects`` narrows the parcels and projects layers further (a filtered map); such tiles are
    made afresh every time, never cached (the filters read data outside the layer's version group).
    """
    scope = project_scope(actor)
    if only_projects is not None and address.layer.scoped:
        if edition_id is not None:
            raise BadRequest(
                f"图层 {address.layer.name} 没有规划版本，不能指定 edition。", code="edition_not_applicable"
            )
        visible = _visible_project_ids(session, scope)
        ids = list(only_projects) if visible is None else sorted(set(only_projects) & set(visible))
        data = _render_projects_layer(session, address, ids)
        return Tile(data, _etag(data))
    return tile_for_scope(session, scope, address, edition_id=edition_id, memory=memory)


def tile_for_scope(
    session: Session,
    scope: ProjectScope,
    address: TileAddress,
    *,
    edition_id: int | None = None,
    memory: TileMemory,
) -> Tile:
    """The MVT of a tile as seen with ``scope``, from memory, the cache table or a fresh query."""
    layer = address.layer
    if edition_id is not None and not layer.is_plan:
        raise BadRequest(f"图层 {layer.name} 没有规划版本，不能指定 edition。", code="edition_not_applicable")
    if not layer.scoped:
        scope = _ALL
    group = tiles_repo.VERSION_GROUPS[layer.name]
    key = _key(address, scope, edition_id)
    version, cached_etag = tiles_repo.version_and_cached_etag(session, group, key)
    stored = memory.get(key, version)
    if stored is None and cached_etag is not None:
        stored = tiles_repo.cached_tile(session, key, version)
    if stored is None:
        stored = _make_tile(session, scope, address, key, version, edition_id=edition_id, memory=memory)
    memory.put(key, stored)
    return Tile(stored.data, stored.etag)


def _make_tile(
    session: Session,
    scope: ProjectScope,
    address: TileAddress,
    key: TileKey,
    version: int,
    *,
    edition_id: int | None,
    memory: TileMemory,
) -> StoredTile:
    """Make a tile from the data (at ``version`` or newer); keep it in the cache table if it was slow."""
    layer = address.layer
    group = tiles_repo.VERSION_GROUPS[layer.name]
    started = time.perf_counter()
    data = _render(
        session, layer, address, scope=scope, edition_id=edition_id, memory=memory, version=version
    )
    stored = StoredTile(version, _etag(data), data)
    if (time.perf_counter() - started) * 1000 >= memory.persist_after_ms:
        with unit_of_work(session):
            tiles_repo.store_tile(session, key, stored)
            if memory.newer_than_seen(group, version):
                tiles_repo.prune_tiles(session, _layers_of(group), version)
    return stored


@functools.lru_cache(maxsize=65_536)
def _read_all_address(layer: str, z: str, x: str, y: str) -> tuple[TileAddress, TileKey, str] | None:
    """A fast-path address checked once: (address, cache key for a read-all user, version group), or None
    for a bad one (the full route then answers with its coded error)."""
    try:
        address = parse_address(layer, z, x, y)
    except AppError:
        return None
    return address, _key(address, _ALL, None), tiles_repo.VERSION_GROUPS[address.layer.name]


async def fast_tile(
    lookup: LookupChannel,
    engine: AsyncEngine,
    memory: TileMemory,
    freshness: TileFreshness,
    token: str,
    layer: str,
    z: str,
    x: str,
    y: str,
) -> StoredTile | None:
    """A tile for a user who reads every project, answered on the event loop; None to take the full route.

    The full route (``server.api.tiles``) checks the login, the address and the scope in a worker
    thread with the ORM; this does the same for the common case: the token's user and the layer's data
    version come from ``freshness`` (kept current by notifications) or else from one query, and the tile
    from memory or the cache table when it was made from that version, else it is made with the same
    code as the full route. It answers None (and the full
    route then answers, with its errors) for anything else: an unknown or invalid token, a scoped user,
    a bad address.
    """
    checked = _read_all_address(layer, z, x, y)
    if checked is None:
        return None
    address, key, group = checked
    token_hash, now = token_digest(token), dt.datetime.now(dt.UTC)
    known = freshness.known(token_hash, group, now)
    if known is None:
        generation = freshness.generation
        found = await tiles_repo.fast_lookup(lookup, token_hash, group, now)
        if found is None:
            return None
        freshness.remember(token_hash, found, group, generation)
        known = found.role, found.version
    role, version = known
    if not reads_all_projects(role):
        return None
    stored = memory.get(key, version)
    if stored is not None:
        return stored
    stored = await tiles_repo.fast_cached_tile(lookup, key, version)
    if stored is None:
        # Made from data at least as new as ``version`` (read before): never labelled newer than it is.
        # Each statement on its own (autocommit): no BEGIN or ROLLBACK round trips around the query;
        # storing a slow tile is one statement too.
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            stored = await autocommit.run_sync(
                lambda sync: _make_tile(
                    Session(bind=sync, expire_on_commit=False, autoflush=False),
                    _ALL,
                    address,
                    key,
                    version,
                    edition_id=None,
                    memory=memory,
                )
            )
    memory.put(key, stored)
    return stored


def _layers_of(group: str) -> list[str]:
    return [name for name, g in tiles_repo.VERSION_GROUPS.items() if g == group]


def _render(
    session: Session,
    layer: TileLayer,
    address: TileAddress,
    *,
    scope: ProjectScope,
    edition_id: int | None,
    memory: TileMemory,
    version: int,
) -> bytes:
    z, x, y = address.z, address.x, address.y
    if layer.is_plan:
        if edition_id is None:
            edition_id = memory.newest_edition(version)
            if edition_id is None:
                edition_id = tiles_repo.newest_edition_id(session)
                memory.remember_newest_edition(version, edition_id)
            if edition_id is None:
                return b""
        elif not tiles_repo.edition_exists(session, edition_id):
            raise NotFound(f"规划版本 {edition_id} 不存在。", code="edition_not_found")
        return tiles_repo.plan_tile(session, layer.name, edition_id, z, x, y)
    return _render_projects_layer(session, address, _visible_project_ids(session, scope))


def _render_projects_layer(session: Session, address: TileAddress, project_ids: list[int] | None) -> bytes:
    """A parcels or projects tile of the given projects (None: every project)."""
    z, x, y = address.z, address.x, address.y
    if address.layer.name == "parcels":
        return tiles_repo.parcels_tile(session, z, x, y, project_ids=project_ids)
    return tiles_repo.projects_tile(session, z, x, y, project_ids=project_ids)


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (weak comparison, ``*`` matches all)."""
    if not if_none_match:
        return False
    candidates = [c.strip() for c in if_none_match.split(",")]
    return any(c == "*" or c.removeprefix("W/") == etag for c in candidates)


def list_layers(session: Session, actor: User, *, tiles_url: str) -> dict[str, Any]:
    """The tile layers as TileJSON-like descriptions, with URL templates under ``tiles_url``."""
    scope = project_scope(actor)
    county = reference_repo.get_county(session)
    bounds = None
    if county is not None:
        bounds = [round(v, 6) for v in to_shape(county.geom).bounds]
    newest = tiles_repo.newest_edition_id(session)
    layers = []
    for layer in LAYERS.values():
        layers.append(
            {
                "tilejson": "3.0.0",
                "id": layer.name,
                "name": layer.title,
                "description": layer.description,
                "scheme": "xyz",
                "format": "pbf",
                "content_type": MVT_MEDIA_TYPE,
                "tiles": [f"{tiles_url}/{layer.name}/{{z}}/{{x}}/{{y}}.mvt"],
                "minzoom": layer.min_zoom,
                "maxzoom": layer.max_zoom,
                "bounds": bounds,
                "scope": "own_projects" if layer.scoped and not scope.all else "all",
                "edition_id": newest if layer.is_plan else None,
                "vector_layers": [
                    {
                        "id": layer.name,
                        "description": layer.title,
                        "minzoom": layer.min_zoom,
                        "maxzoom": layer.max_zoom,
                        "fields": layer.fields,
                    }
                ],
            }
        )
    return {
        "extent": tiles_repo.EXTENT,
        "buffer": tiles_repo.BUFFER,
        "feature_id": "每个要素的 id 为其数据库 id",
        "layers": layers,
    }
