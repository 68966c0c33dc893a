"""The phone API: idempotent inspections and photos, per-item receipts, verdicts, files served back."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from PIL import Image
from sqlalchemy import func, select

from server.models import AuditEvent, Photo, PhotoBlob
from tests.factories import project_payload
from tests.mobile.helpers import geotagged_jpeg, new_id


def unit_id(session) -> int:
    """A legal-person unit that is not the demo ``unit`` account's."""
    from gis_data import demo
    from tests.factories import unit

    return unit(session, demo.DEMO_LEGAL_PERSON_UNITS[1]).id


# Inside SEAT_POLYGON of tests.factories (106.135-106.1366 E, 34.750-34.751 N).
INSIDE = (34.7505, 106.1358)
FAR = (34.7600, 106.1358)  # about 1 km north


def _inspection(client, headers, project_id, **extra):
    body = {
        "id": new_id(),
        "project_id": project_id,
        "started_at": dt.datetime.now(dt.UTC).isoformat(),
        "device_fix": {"lat": INSIDE[0], "lon": INSIDE[1], "accuracy_m": 12},
        **extra,
    }
    r = client.post("/mobile/v1/inspections", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _upload(client, headers, inspection_id, files):
    """files: list of (photo_id, filename, bytes)."""
    meta = json.dumps([{"photo_id": pid} for pid, _, _ in files])
    parts = [("photos", (name, data, "image/jpeg")) for _, name, data in files]
    return client.post(
        f"/mobile/v1/inspections/{inspection_id}/photos", data={"meta": meta}, files=parts, headers=headers
    )


def test_inspection_is_idempotent(client, inspector, project_id):
    body = {"id": new_id(), "project_id": project_id, "started_at": "2026-11-20T09:00:00+08:00"}
    first = client.post("/mobile/v1/inspections", json=body, headers=inspector)
    again = client.post("/mobile/v1/inspections", json=body, headers=inspector)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()


def test_batch_answers_item_by_item(client, inspector, project_id, session):
    iid = _inspection(client, inspector, project_id)
    good = geotagged_jpeg(*INSIDE)
    png = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(png, "PNG")
    items = [
        (new_id(), "IMG_0001.jpg", good),
        (new_id(), "fake.jpg", png.getvalue()),
        (new_id(), "empty.jpg", b""),
        (new_id(), "cut.jpg", good[: len(good) // 3]),
        ("not-a-uuid", "x.jpg", good),
    ]
    r = _upload(client, inspector, iid, items)
    assert r.status_code == 200, r.text
    receipts = {x["photo_id"]: x for x in r.json()["receipts"]}
    ok = receipts[items[0][0]]
    assert ok["received"] is True
    assert ok["verdict"] == "accepted"
    assert "inside_site" in {reason["code"] for reason in ok["reasons"]}
    assert ok["exif"]["lat"] == pytest.approx(INSIDE[0], abs=1e-6)
    assert receipts[items[1][0]]["code"] == "unsupported_format"
    assert receipts[items[2][0]]["code"] == "empty_file"
    assert receipts[items[3][0]]["code"] == "truncated"
    assert receipts["not-a-uuid"]["code"] == "invalid_photo_id"
    assert r.json()["received"] == 1 and r.json()["rejected"] == 4
    assert session.scalar(select(func.count()).select_from(Photo).where(Photo.inspection_id == iid)) == 1


def test_retry_never_duplicates_and_bytes_are_kept(client, inspector, project_id, session, settings):
    iid = _inspection(client, inspector, project_id)
    data = geotagged_jpeg(*INSIDE, seed=7)
    pid = new_id()
    first = _upload(client, inspector, iid, [(pid, "a.jpg", data)]).json()["receipts"][0]
    second = _upload(client, inspector, iid, [(pid, "a.jpg", data)]).json()["receipts"][0]
    assert first["received"] and second["received"]
    assert second["duplicate_retry"] is True
    assert second["sha256"] == first["sha256"]
    assert session.scalar(select(func.count()).select_from(Photo).where(Photo.id == pid)) == 1
    # The photo, its blob and one audit event were written together; the retry wrote none of them again.
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "photo", AuditEvent.entity_id == pid)
    ).all()
    assert [(e.action, e.after["sha256"], e.after["inspection_id"]) for e in events] == [
        ("upload", first["sha256"], iid)
    ]
    assert events[0].after["verdict"] == first["verdict"] and events[0].actor_id is not None
    blob = session.get(PhotoBlob, first["sha256"])
    assert (
        blob is not None
        and blob.size_bytes == len(data)
        and blob.metadata_json["lat"] == pytest.approx(INSIDE[0])
    )
    original = client.get(f"/mobile/v1/photos/{pid}", headers=inspector)
    assert original.status_code == 200
    assert original.content == data
    thumb = client.get(f"/mobile/v1/photos/{pid}", params={"size": 320}, headers=inspector)
    assert max(Image.open(io.BytesIO(thumb.content)).size) == 320
    stored = settings.photos_path / first["sha256"][:2] / first["sha256"][2:4] / first["sha256"]
    assert stored.read_bytes() == data


def test_reused_photo_is_flagged(client, inspector, project_id, login, session):
    data = geotagged_jpeg(*INSIDE, seed=11)
    first_iid = _inspection(client, inspector, project_id)
    _upload(client, inspector, first_iid, [(new_id(), "a.jpg", data)])
    other_project = client.post(
        "/api/v1/projects", json=project_payload(session), headers=login("admin")
    ).json()
    later = _inspection(client, inspector, other_project["id"])
    receipt = _upload(client, inspector, later, [(new_id(), "a.jpg", data)]).json()["receipts"][0]
    assert receipt["received"]
    assert receipt["verdict"] == "suspicious"
    assert "reused_photo" in {r["code"] for r in receipt["reasons"]}
    assert (
        session.scalar(
            select(func.count()).select_from(PhotoBlob).where(PhotoBlob.sha256 == receipt["sha256"])
        )
        == 1
    )
    resized = io.BytesIO()
    Image.open(io.BytesIO(data)).resize((500, 375)).save(resized, "JPEG", quality=70)
    near = _upload(client, inspector, later, [(new_id(), "b.jpg", resized.getvalue())]).json()["receipts"][0]
    assert "near_duplicate" in {r["code"] for r in near["reasons"]}


def test_far_and_shifted_and_old_photos(client, inspector, project_id):
    iid = _inspection(client, inspector, project_id)
    far = geotagged_jpeg(*FAR, seed=21)
    # A GCJ-02 coordinate of a point inside the site: about 390 m east and 110 m south of the truth.
    import prcoords

    glat, glon = prcoords.wgs_gcj(INSIDE)
    shifted = geotagged_jpeg(glat, glon, seed=22)
    old = geotagged_jpeg(
        *INSIDE, seed=23, taken=dt.datetime(2025, 1, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    )
    items = [(new_id(), "far.jpg", far), (new_id(), "gcj.jpg", shifted), (new_id(), "old.jpg", old)]
    receipts = [x for x in _upload(client, inspector, iid, items).json()["receipts"]]
    codes = [{r["code"] for r in x["reasons"]} for x in receipts]
    assert "outside_site" in codes[0]
    assert "gcj02_shift_suspected" in codes[1]
    assert "taken_long_before" in codes[2]
    assert all(x["verdict"] == "suspicious" for x in receipts)


def test_sync_and_permissions(client, inspector, login, project_id, session):
    payload = client.get("/mobile/v1/sync", headers=inspector).json()
    assert any(p["id"] == project_id and p["site"]["type"] == "Polygon" for p in payload["projects"])
    # A project unit records site photos of its own projects (progress, rectification), not of others'.
    unit = login("unit")
    own = {"id": new_id(), "project_id": project_id, "started_at": "2026-11-20T09:00:00+08:00"}
    assert client.post("/mobile/v1/inspections", json=own, headers=unit).status_code == 201
    foreign = client.post(
        "/api/v1/projects",
        json=project_payload(session, legal_person_unit_id=unit_id(session)),
        headers=login("admin"),
    ).json()["id"]
    body = {"id": new_id(), "project_id": foreign, "started_at": "2026-11-20T09:00:00+08:00"}
    r = client.post("/mobile/v1/inspections", json=body, headers=unit)
    assert r.status_code == 403
    iid = _inspection(client, inspector, project_id)
    r = _upload(client, login("land"), iid, [(new_id(), "a.jpg", geotagged_jpeg(*INSIDE))])
    assert r.status_code == 403
    r = client.post(
        f"/mobile/v1/inspections/{iid}/photos",
        data={"meta": "[]"},
        files=[("photos", ("a.jpg", b"x", "image/jpeg"))],
        headers={"Authorization": "Bearer expired"},
    )
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_token"
    r = client.post(
        f"/mobile/v1/inspections/{iid}/photos",
        data={"meta": "[{}"},
        files=[("photos", ("a.jpg", b"x", "image/jpeg"))],
        headers=inspector,
    )
    assert r.json()["code"] == "malformed_json"


def test_filenames_are_never_paths(client, inspector, project_id, session):
    iid = _inspection(client, inspector, project_id)
    pid = new_id()
    receipt = _upload(
        client, inspector, iid, [(pid, "../../etc/passwd.jpg", geotagged_jpeg(*INSIDE, seed=31))]
    )
    assert receipt.json()["receipts"][0]["received"]
    assert session.get(Photo, pid).filename == "passwd.jpg"


def test_oversized_photo_refused_alone(client, inspector, project_id, settings, monkeypatch):
    iid = _inspection(client, inspector, project_id)
    big = geotagged_jpeg(*INSIDE, seed=41) + b"\0" * 300_000
    small = geotagged_jpeg(*INSIDE, seed=42)
    client.app.state.settings = settings.model_copy(update={"max_photo_bytes": 200_000})
    receipts = _upload(client, inspector, iid, [(new_id(), "big.jpg", big), (new_id(), "ok.jpg", small)])
    codes = [r["code"] for r in receipts.json()["receipts"]]
    assert codes == ["file_too_large", None]


def _staged(settings) -> list:
    return sorted((settings.photos_path / "staging").glob("up-*"))


def test_bomb_refused_from_its_header_before_anything_is_stored(
    client, inspector, project_id, settings, monkeypatch
):
    from server.photo_evidence import imaging
    from tests.photo_evidence.photos import jpeg_bytes, patch_sof_dimensions

    iid = _inspection(client, inspector, project_id)
    # A real small JPEG whose frame header claims 200 MP, followed by a long tail the server should drop.
    bomb = patch_sof_dimensions(jpeg_bytes((64, 48)), 16000, 12500) + b"\0" * 3_000_000
    good = geotagged_jpeg(*INSIDE, seed=51)
    staged_files = []
    real_staging_file = type(client.app.state.blob_store).staging_file

    def counting_staging_file(store):
        handle, path = real_staging_file(store)
        staged_files.append(path)
        return handle, path

    def no_decoding(*args, **kwargs):
        raise AssertionError("the bomb reached the pixel pipeline")

    monkeypatch.setattr(type(client.app.state.blob_store), "staging_file", counting_staging_file)
    r = _upload(client, inspector, iid, [(new_id(), "bomb.jpg", bomb)])
    assert r.status_code == 200
    receipt = r.json()["receipts"][0]
    assert receipt["code"] == "too_many_pixels" and "16000×12500" in receipt["message"]
    assert staged_files == []  # refused from its first bytes: not one byte written to disk
    # In a batch, the bomb is refused alone; the good photo goes through the usual pipeline.
    receipts = _upload(client, inspector, iid, [(new_id(), "b.jpg", bomb), (new_id(), "g.jpg", good)])
    assert [x["code"] for x in receipts.json()["receipts"]] == ["too_many_pixels", None]
    assert len(staged_files) == 3  # the good photo, then its two derivatives on their way to the store
    assert _staged(settings) == []
    monkeypatch.setattr(imaging, "decode_reduced", no_decoding)
    again = _upload(client, inspector, iid, [(new_id(), "bomb.jpg", bomb)])
    assert again.json()["receipts"][0]["code"] == "too_many_pixels"


def test_upload_form_checked_after_login_leaves_nothing(client, inspector, project_id, settings):
    iid = _inspection(client, inspector, project_id)
    data = geotagged_jpeg(*INSIDE, seed=52)
    url = f"/mobile/v1/inspections/{iid}/photos"
    meta = json.dumps([{"photo_id": new_id()}])
    files = [("photos", ("a.jpg", data, "image/jpeg"))]
    r = client.post(url, data={"meta": meta}, files=files, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    r = client.post(url, files=files, headers=inspector)
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("meta")
    r = client.post(url, data={"meta": meta}, headers=inspector)
    assert r.status_code == 422
    elsewhere = f"/mobile/v1/inspections/{new_id()}/photos"
    r = client.post(elsewhere, data={"meta": meta}, files=files, headers=inspector)
    assert r.status_code == 404
    assert _staged(settings) == []  # every refused request removed what it had staged
    # Fields other than photos/meta are ignored, files under other names are dropped unread.
    extra = [*files, ("other", ("x.bin", b"\1" * 5000, "application/octet-stream"))]
    r = client.post(url, data={"meta": meta, "note": "hi"}, files=extra, headers=inspector)
    assert r.status_code == 200 and r.json()["received"] == 1
    assert _staged(settings) == []


def test_preview_size_and_the_former_size(client, inspector, project_id, settings):
    iid = _inspection(client, inspector, project_id)
    pid = new_id()
    data = geotagged_jpeg(*INSIDE, seed=53, size=(2400, 1800))
    receipt = _upload(client, inspector, iid, [(pid, "a.jpg", data)]).json()["receipts"][0]
    sizes = {}
    for size in (320, 1000, 1280):
        r = client.get(f"/mobile/v1/photos/{pid}", params={"size": size}, headers=inspector)
        assert r.status_code == 200
        sizes[size] = Image.open(io.BytesIO(r.content)).size
    assert sizes == {320: (320, 240), 1000: (1280, 960), 1280: (1280, 960)}
    assert client.get(f"/mobile/v1/photos/{pid}", params={"size": 640}, headers=inspector).status_code == 422
    # A photo stored while the preview was 1000 px keeps being served from its .w1000 file.
    sha = receipt["sha256"]
    store = client.app.state.blob_store
    store.path(f"{sha}.w1280").rename(store.path(f"{sha}.w1000"))
    for size in (1000, 1280):
        r = client.get(f"/mobile/v1/photos/{pid}", params={"size": size}, headers=inspector)
        assert r.status_code == 200 and Image.open(io.BytesIO(r.content)).size == (1280, 960)


def test_start_up_warms_the_photo_pipeline(client):
    import gc
    import os
    import sys
    import threading

    from server.services import evidence

    # The client fixture ran the app's lifespan: SciPy (phash) is loaded, start-up objects are frozen.
    assert "scipy.fftpack" in sys.modules
    assert gc.get_freeze_count() > 0
    nice = evidence.pixel_pool().submit(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    assert nice.result() == evidence.PIXEL_NICE  # pixel work yields the CPU to the event loop
