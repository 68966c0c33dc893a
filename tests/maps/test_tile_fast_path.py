"""The tile fast path (server.api.tile_fast_path): the same tiles as the full route, fresh after every
change, logins checked on every request, and everything unusual left to the full route.

These tests run apps on their own database connections (not the test's rolled-back transaction), so
they read the committed demo county and restore whatever they change.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from server.app import create_app
from server.repositories import tiles as tiles_repo
from server.services import tiles as tiles_service
from server.settings import Settings
from tests.conftest import DEMO_PASSWORD


def _app(database_url: str, tmp_path: Path, *, fast: bool) -> TestClient:
    settings = Settings(database_url=database_url, photo_dir=tmp_path / "photos", tile_fast_path=fast)
    return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.fixture()
def fast(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    with _app(database_url, tmp_path, fast=True) as client:
        yield client


@pytest.fixture()
def full(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    with _app(database_url, tmp_path, fast=False) as client:
        yield client


@pytest.fixture()
def served(monkeypatch) -> dict[str, int]:
    """How many tiles the fast path answered, and how many tiles were made (rendered) in all."""
    counts = {"fast": 0, "rendered": 0}
    fast_tile, render = tiles_service.fast_tile, tiles_service._render

    async def counting_fast_tile(*args, **kwargs):
        tile = await fast_tile(*args, **kwargs)
        counts["fast"] += tile is not None
        return tile

    def counting_render(*args, **kwargs):
        counts["rendered"] += 1
        return render(*args, **kwargs)

    monkeypatch.setattr(tiles_service, "fast_tile", counting_fast_tile)
    monkeypatch.setattr(tiles_service, "_render", counting_render)
    return counts


def _token(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


@pytest.fixture()
def project_tile(engine: Engine) -> tuple[int, str, str]:
    """A demo project (id, name) and the z14 projects tile holding its site."""
    with engine.connect() as conn:
        pid, name, lon, lat = conn.execute(
            text(
                "SELECT id, name, ST_X(ST_PointOnSurface(site)), ST_Y(ST_PointOnSurface(site))"
                " FROM projects WHERE site IS NOT NULL ORDER BY id LIMIT 1"
            )
        ).one()
    z, x, y = _tile_of(lon, lat, 14)
    return pid, name, f"/api/v1/tiles/projects/{z}/{x}/{y}.mvt"


def _names(data: bytes) -> dict[int, str]:
    layer = mapbox_vector_tile.decode(data).get("projects", {"features": []})
    return {f["id"]: f["properties"]["name"] for f in layer["features"]}


def test_same_tile_as_the_full_route_and_warm_tiles_from_memory(fast, full, served, project_tile):
    pid, name, path = project_tile
    leader_fast, leader_full = _token(fast, "leader_zhang"), _token(full, "leader_zhang")

    first = fast.get(path, headers=leader_fast)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == tiles_service.MVT_MEDIA_TYPE
    assert _names(first.content)[pid] == name
    assert served["fast"] == 1
    reference = full.get(path, headers=leader_full)
    assert reference.status_code == 200
    assert served["fast"] == 1, "the app without the fast path answered through the full route"
    assert reference.content == first.content
    assert reference.headers["etag"] == first.headers["etag"]

    rendered = served["rendered"]
    again = fast.get(path, headers=leader_fast)
    assert again.content == first.content
    assert served == {"fast": 2, "rendered": rendered}, "a warm tile comes from memory"

    not_modified = fast.get(path, headers={**leader_fast, "If-None-Match": first.headers["etag"]})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == first.headers["etag"]


def _eventually(fetch, expected, *, seconds: float = 10.0):
    """``fetch()`` until it returns ``expected`` (another process's change arrives by notification)."""
    deadline = time.monotonic() + seconds
    while True:
        got = fetch()
        if got == expected or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def _rename(engine: Engine, pid: int, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE projects SET name = :name WHERE id = :id"), {"id": pid, "name": name})


def test_own_writes_show_in_the_very_next_tile(fast, served, project_tile):
    pid, name, path = project_tile
    headers = _token(fast, "admin")
    assert _names(fast.get(path, headers=headers).content)[pid] == name
    assert fast.app.state.tile_freshness.listening
    try:
        r = fast.patch(f"/api/v1/projects/{pid}", json={"name": name + "（改）"}, headers=headers)
        assert r.status_code == 200, r.text
        changed = fast.get(path, headers=headers)  # no waiting: this process made the change
        assert _names(changed.content)[pid] == name + "（改）"
    finally:
        fast.patch(f"/api/v1/projects/{pid}", json={"name": name}, headers=headers)
    assert _names(fast.get(path, headers=headers).content)[pid] == name
    assert served["fast"] == 3


def test_another_process_change_arrives_by_notification(fast, engine, monkeypatch, project_tile):
    pid, name, path = project_tile
    headers = _token(fast, "admin")
    lookups = {"n": 0}
    fast_lookup = tiles_repo.fast_lookup

    async def counting_lookup(*args, **kwargs):
        lookups["n"] += 1
        return await fast_lookup(*args, **kwargs)

    monkeypatch.setattr(tiles_repo, "fast_lookup", counting_lookup)
    first = fast.get(path, headers=headers).content  # made (and maybe stored: a commit) ...
    assert fast.get(path, headers=headers).content == first  # ... so looked up again here
    lookups["n"] = 0
    assert fast.get(path, headers=headers).content == first
    assert fast.get(path, headers=headers).content == first
    assert lookups["n"] == 0, "a known login and version need no database round trip"
    try:
        _rename(engine, pid, name + "（改）")
        got = _eventually(lambda: _names(fast.get(path, headers=headers).content)[pid], name + "（改）")
        assert got == name + "（改）"
    finally:
        _rename(engine, pid, name)
    assert _eventually(lambda: _names(fast.get(path, headers=headers).content)[pid], name) == name


def test_without_notifications_every_tile_asks_the_database(fast, engine, project_tile):
    pid, name, path = project_tile
    headers = _token(fast, "admin")
    freshness = fast.app.state.tile_freshness
    assert fast.get(path, headers=headers).status_code == 200
    # The listening connection drops (database restart, network): nothing is trusted until it is back.
    fast.portal.call(_drop, fast.app.state.tile_listener)
    assert _eventually(lambda: freshness.listening, False) is False
    try:
        _rename(engine, pid, name + "（改）")
        # Not listening: the very next tile sees the change, no notification needed.
        assert _names(fast.get(path, headers=headers).content)[pid] == name + "（改）"
    finally:
        _rename(engine, pid, name)
    assert _names(fast.get(path, headers=headers).content)[pid] == name
    assert _eventually(lambda: freshness.listening, True) is True, "the listener reconnects"


async def _drop(listener) -> None:
    listener.drop_connection()


def test_a_revoked_login_is_refused_at_once(fast, served, project_tile):
    _, _, path = project_tile
    headers = _token(fast, "leader_zhang")
    assert fast.get(path, headers=headers).status_code == 200
    assert fast.post("/api/v1/auth/logout", headers=headers).status_code == 204
    refused = fast.get(path, headers=headers)
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "invalid_token"
    assert served["fast"] == 1
    missing = fast.get(path)
    assert missing.status_code == 401
    assert missing.json()["code"] == "not_authenticated"


def test_scoped_users_and_bad_addresses_take_the_full_route(fast, full, served, project_tile):
    _, _, path = project_tile
    unit_fast, unit_full = _token(fast, "unit"), _token(full, "unit")
    own = fast.get(path, headers=unit_fast)
    assert own.status_code == 200
    assert served["fast"] == 0, "a project unit's tiles are scoped: the full route makes them"
    assert own.content == full.get(path, headers=unit_full).content

    admin = _token(fast, "admin")
    for bad, code in (
        ("/api/v1/tiles/projects/23/0/0.mvt", "tile_out_of_range"),
        ("/api/v1/tiles/projects/3/8/0.mvt", "tile_out_of_range"),
        ("/api/v1/tiles/nosuch/3/1/1.mvt", "unknown_layer"),
    ):
        r = fast.get(bad, headers=admin)
        assert r.status_code in (400, 404), (bad, r.text)
        assert r.json()["code"] == code
    edition = fast.get("/api/v1/tiles/projects/3/1/1.mvt?edition=1", headers=admin)
    assert edition.json()["code"] == "edition_not_applicable"
    assert served["fast"] == 0


def _lookup(role: str = "leader", *, hours: float = 1.0, version: int = 7) -> tiles_repo.FastLookup:
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)
    return tiles_repo.FastLookup(user_id=1, role=role, expires_at=expires, version=version)


def test_freshness_remembers_only_what_it_may():
    fresh = tiles_service.TileFreshness()
    now = dt.datetime.now(dt.UTC)
    fresh.remember("t", _lookup(), "parcels", fresh.generation)
    assert fresh.known("t", "parcels", now) is None, "nothing is remembered before listening"

    fresh.start_listening()
    generation = fresh.generation
    fresh.remember("t", _lookup(), "parcels", generation)
    assert fresh.known("t", "parcels", now) == ("leader", 7)
    assert fresh.known("t", "plan", now) is None
    assert fresh.known("t", "parcels", now + dt.timedelta(hours=2)) is None, "an expired login"

    fresh.version_notified("parcels:9")
    assert fresh.known("t", "parcels", now) == ("leader", 9)
    fresh.remember("t", _lookup(version=8), "parcels", fresh.generation)
    assert fresh.known("t", "parcels", now) == ("leader", 9), "versions never go back"

    # A lookup that started before a logout is not remembered.
    stale = fresh.generation
    fresh.logins_notified("auth_tokens")
    fresh.remember("t", _lookup(), "parcels", stale)
    assert fresh.known("t", "parcels", now) is None

    fresh.remember("t", _lookup(), "parcels", fresh.generation)
    fresh.stop_listening()
    assert fresh.known("t", "parcels", now) is None
    fresh.version_notified("parcels:12")
    fresh.start_listening()
    assert fresh.known("t", "parcels", now) is None, "listening again starts from nothing"


def test_a_fresh_process_serves_slow_tiles_from_the_cache_table(database_url, tmp_path, served, project_tile):
    _, _, path = project_tile
    with _app(database_url, tmp_path, fast=True) as first:
        first.app.state.tile_memory.persist_after_ms = 0  # keep every tile made in the table
        made = first.get(path, headers=_token(first, "admin"))
    rendered = served["rendered"]
    with _app(database_url, tmp_path, fast=True) as second:  # a new process: nothing in memory
        again = second.get(path, headers=_token(second, "admin"))
    assert again.status_code == 200
    assert again.content == made.content
    assert served["rendered"] == rendered, "the second process read the tile from the cache table"
    assert served["fast"] == 2
