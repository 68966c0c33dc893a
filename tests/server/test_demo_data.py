"""The demo county exercises land checks and photo evidence: plan edition, parcels, verdicts, photos."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_data.demo_land import EDITION_NAME, demo_land
from gis_data.photo_pairs import PhotoAt, group_spots
from server.models import ApprovalBatch, LandCheck, LandParcel, Photo, PlanEdition
from server.repositories import units as units_repo
from server.services import demo
from server.services import land as land_service
from server.storage import LocalBlobStore


def _counts(session: Session) -> dict[str, int]:
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in (PlanEdition, LandParcel, LandCheck, ApprovalBatch, Photo)
    }


def test_demo_has_an_illustrative_plan_edition_with_three_layers(session: Session) -> None:
    land_user = units_repo.user_by_username(session, "land")
    editions = [e for e in land_service.list_editions(session, land_user) if e.name == EDITION_NAME]
    assert len(editions) == 1
    edition = editions[0]
    assert "示意" in edition.name and "合成" in edition.description
    layers = edition.report["layers"]
    assert layers["farmland"] >= 200 and layers["redline"] >= 3 and layers["urban_boundary"] >= 3


def test_demo_parcels_have_every_verdict_as_designed(session: Session) -> None:
    land_user = units_repo.user_by_username(session, "land")
    data = demo_land()
    parcels = {p.parcel_code: p for p in land_service.list_parcels(session, land_user, year=data.year)}
    demo_parcels = [p for p in data.parcels if p.parcel_code in parcels]
    assert len(demo_parcels) == len(data.parcels)
    for expected in demo_parcels:
        stored = parcels[expected.parcel_code]
        assert stored.check is not None, expected.parcel_code
        assert stored.check.verdict == expected.expected_verdict, (expected.parcel_code, expected.intent)
    verdicts = Counter(parcels[p.parcel_code].check.verdict for p in demo_parcels)
    assert set(verdicts) == {"compliant", "needs_adjustment", "blocked"}
    reasons = {r["code"] for p in demo_parcels for r in parcels[p.parcel_code].check.reasons}
    assert {"farmland_overlap", "redline_overlap", "outside_urban_boundary", "parcel_overlap"} <= reasons
    statuses = Counter(parcels[p.parcel_code].status for p in demo_parcels)
    assert statuses["draft"] and statuses["submitted"] and statuses["in_batch"]
    assert any(parcels[p.parcel_code].submitted_late for p in demo_parcels)


def test_demo_photos_include_before_after_pairs_and_warnings(session: Session) -> None:
    photos = list(session.scalars(select(Photo)))
    assert 40 <= len(photos) <= 80
    verdicts = Counter(p.verdict for p in photos)
    assert 1 <= verdicts["suspicious"] <= 3 and verdicts["accepted"] >= len(photos) - 3
    by_project: dict[int, list[PhotoAt]] = defaultdict(list)
    for photo in photos:
        point = to_shape(photo.exif_point)
        by_project[photo.project_id].append(PhotoAt(str(photo.id), point.x, point.y, photo.taken_at))
    paired = [pid for pid, rows in by_project.items() if any(s.pair for s in group_spots(rows))]
    assert len(paired) >= 3


def test_loading_the_demo_again_adds_nothing(session: Session, tmp_path: Path) -> None:
    before = _counts(session)
    assert demo.load_demo(session, password="another-password-1") == 0
    assert demo.load_demo_history(session, store=LocalBlobStore(tmp_path)) is False
    assert _counts(session) == before
    assert not any(p for p in tmp_path.rglob("*") if p.is_file())
