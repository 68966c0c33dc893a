"""The per-process edition index: same answers as the SQL path, never stale, bounded, loaded once."""

from __future__ import annotations

import datetime as dt
import threading
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from server.models import LandCheck, LandParcel, PlanEdition
from server.repositories import land as land_repo
from server.services import land as land_service
from server.services import plan_index_cache
from tests.factories import user
from tests.land.test_land_api import (
    URBAN,
    _fc,
    _feature,
    _import_parcels,
    _import_plan,
    _project,
    _sq,
    _txt,
)


@pytest.fixture(autouse=True)
def _empty_cache():
    plan_index_cache.clear()
    yield
    plan_index_cache.clear()


@pytest.fixture()
def land(login):
    return login("land")


PARCELS = [
    ("C1", "农田内", _sq(100, 100, 100, 100), "0701"),
    ("C2", "跨农田边", _sq(350, 350, 100, 100), "0701"),
    ("C3", "跨红线和用地分类", _sq(1250, 100, 100, 100), "0701"),
    ("C4", "城镇内", _sq(-500, 100, 100, 100), "0701"),
    ("C5", "贴农田边", _sq(-100, 0, 100, 100), "0701"),
]


def _parcels(client, land, session):
    r = _import_parcels(client, land, _project(session).id, _txt(PARCELS))
    assert r.status_code == 201, r.text
    return [p["id"] for p in r.json()["created"]]


def _areas(rows):
    return {(r.parcel_id, r.layer, r.class_code): r.area_m2 for r in rows}


def test_in_memory_overlay_equals_sql(client, land, session):
    edition = session.get(PlanEdition, _import_plan(client, land)["id"])
    ids = _parcels(client, land, session)
    memory = _areas(land_service.layer_overlaps(session, edition, ids))
    sql = _areas(land_repo.plan_overlaps(session, ids, edition.id))
    assert memory.keys() == sql.keys()
    for key, area in sql.items():
        assert memory[key] == pytest.approx(area, abs=1e-6), key
    assert plan_index_cache.edition_key(session, edition) in plan_index_cache.cached_editions()
    # The same, given the geometries the check already holds.
    parcels = [session.get(LandParcel, pid) for pid in ids]
    from geoalchemy2.shape import to_shape

    given = land_service.layer_overlaps(
        session, edition, ids, area_geometries=[to_shape(p.geom_area) for p in parcels]
    )
    assert _areas(given) == memory


def test_new_edition_gives_new_results(client, land, session):
    first = session.get(PlanEdition, _import_plan(client, land, "第一版")["id"])
    ids = _parcels(client, land, session)
    before = _areas(land_service.layer_overlaps(session, first, ids))
    assert any(layer == "farmland" for _pid, layer, _code in before)
    second = client.post(
        "/api/v1/land/editions",
        data={"name": "第二版（调出农田）", "kinds": ["urban_boundary"]},
        files=[("files", ("CZKFBJ.geojson", _fc([_feature(URBAN)]), "application/geo+json"))],
        headers=land,
    )
    assert second.status_code == 201, second.text
    new = session.get(PlanEdition, second.json()["id"])
    after = _areas(land_service.layer_overlaps(session, new, ids))
    assert {layer for _pid, layer, _code in after} == {"urban_boundary"}
    # The old edition still answers with its own pieces, and both are cached under their own keys.
    assert _areas(land_service.layer_overlaps(session, first, ids)) == before
    keys = plan_index_cache.cached_editions()
    assert plan_index_cache.edition_key(session, first) in keys
    assert plan_index_cache.edition_key(session, new) in keys
    checks = session.scalars(select(LandCheck).where(LandCheck.parcel_id.in_(ids), LandCheck.is_latest)).all()
    assert sorted(c.parcel_id for c in checks) == sorted(ids)
    assert {c.edition_id for c in checks} == {new.id}


def test_an_id_that_comes_back_is_another_key(session):
    a = SimpleNamespace(id=41, created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    b = SimpleNamespace(id=41, created_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    assert plan_index_cache.edition_key(session, a) != plan_index_cache.edition_key(session, b)
    assert plan_index_cache.edition_key(session, a) == plan_index_cache.edition_key(session, a)


def test_memory_is_bounded_and_big_editions_run_in_sql(client, land, session, monkeypatch):
    monkeypatch.setattr(plan_index_cache, "MAX_EDITIONS", 1)
    first = session.get(PlanEdition, _import_plan(client, land, "第一版")["id"])
    second = session.get(PlanEdition, _import_plan(client, land, "第二版")["id"])
    ids = _parcels(client, land, session)
    assert plan_index_cache.edition_index(session, first) is not None
    assert plan_index_cache.edition_index(session, second) is not None
    assert plan_index_cache.cached_editions() == [plan_index_cache.edition_key(session, second)]
    expected = _areas(land_service.layer_overlaps(session, second, ids))

    plan_index_cache.clear()
    monkeypatch.setattr(plan_index_cache, "MAX_VERTICES", 10)
    assert plan_index_cache.edition_index(session, second) is None
    assert plan_index_cache.cached_editions() == []
    fallback = _areas(land_service.layer_overlaps(session, second, ids))
    assert fallback.keys() == expected.keys()
    for key, area in expected.items():
        assert fallback[key] == pytest.approx(area, abs=1e-6)
    # A whole check on the SQL path gives the same verdicts and overlap pieces.
    checked = land_service.check_parcels(session, user(session, "land"), parcel_ids=ids + ids[:1])
    verdicts = {p.parcel_code: p.check.verdict for p in checked}
    assert verdicts == {
        "C1": "blocked",
        "C2": "blocked",
        "C3": "blocked",
        "C4": "compliant",
        "C5": "compliant",
    }
    blocked = next(p for p in checked if p.parcel_code == "C1")
    assert any(o.target_ref == "farmland" for o in blocked.check.overlaps)


def test_check_results_equal_on_both_paths(client, land, session, monkeypatch):
    _import_plan(client, land)
    ids = _parcels(client, land, session)
    actor = user(session, "land")
    in_memory = land_service.check_parcels(session, actor, parcel_ids=ids)
    plan_index_cache.clear()
    monkeypatch.setattr(plan_index_cache, "MAX_VERTICES", 10)
    in_sql = land_service.check_parcels(session, actor, parcel_ids=ids)
    for a, b in zip(in_memory, in_sql, strict=True):
        assert a.check.verdict == b.check.verdict
        assert [r["code"] for r in a.check.reasons] == [r["code"] for r in b.check.reasons]
        assert [(o.target, o.target_ref) for o in a.check.overlaps] == [
            (o.target, o.target_ref) for o in b.check.overlaps
        ]
        for x, y in zip(a.check.overlaps, b.check.overlaps, strict=True):
            assert x.area_m2 == pytest.approx(y.area_m2, abs=1e-6)
    pieces = land_repo.overlap_pieces_geojson(session, ids)
    assert pieces  # blocked parcels keep their overlap geometry on the SQL path too


def test_one_load_under_concurrent_callers(monkeypatch):
    calls = []

    def piece_size(session, edition_id):
        calls.append(edition_id)
        time.sleep(0.05)
        return 1, 5

    def pieces(session, edition_id):
        from shapely.geometry import box

        yield land_repo.EditionPieces(["farmland"], [None], [box(0, 0, 1, 1).wkb])

    monkeypatch.setattr(land_repo, "edition_piece_size", piece_size)
    monkeypatch.setattr(land_repo, "edition_pieces", pieces)

    class FakeEngine:  # weakly referenced by the cache, as engines are
        url = SimpleNamespace(render_as_string=lambda hide_password: "fake://db")

    engine = FakeEngine()
    fake_session = SimpleNamespace(get_bind=lambda: SimpleNamespace(engine=engine))
    edition = SimpleNamespace(id=7, created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(plan_index_cache.edition_index(fake_session, edition)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [7]
    assert len({id(r) for r in results}) == 1 and results[0] is not None
