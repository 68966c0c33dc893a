"""The whole photo path on an S3-compatible store: the app built with ``SITEWATCH_BLOB_STORE=s3``
receives a photo through /mobile/v1, keeps the original and its derivatives in the bucket (nothing
but staging on the local disk), and serves them back from there."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image
from pydantic import ValidationError

from server.settings import Settings
from server.storage import S3BlobStore, open_blob_store
from tests.mobile.conftest import REGION
from tests.mobile.helpers import geotagged_jpeg, new_id
from tests.mobile.test_upload import INSIDE, _inspection, _upload

PREFIX = "qingshui/evidence"


@pytest.fixture()
def settings(tmp_path, s3_endpoint, s3_bucket) -> Settings:
    """The app's settings, with the evidence store in a fresh bucket (overrides the suite's)."""
    _client, bucket = s3_bucket
    return Settings(
        database_url="postgresql://unused",
        max_body_bytes=256 * 1024,
        photo_dir=tmp_path / "photos",
        blob_store="s3",
        s3_bucket=bucket,
        s3_prefix=PREFIX,
        s3_endpoint_url=s3_endpoint,
        s3_region=REGION,
    )


def test_photos_go_to_the_bucket_and_come_back(client, inspector, project_id, settings, s3_bucket):
    s3, bucket = s3_bucket
    assert isinstance(client.app.state.blob_store, S3BlobStore)
    iid = _inspection(client, inspector, project_id)
    data = geotagged_jpeg(*INSIDE, seed=23)
    pid = new_id()
    receipt = _upload(client, inspector, iid, [(pid, "a.jpg", data)]).json()["receipts"][0]
    assert receipt["received"] is True, receipt
    sha = hashlib.sha256(data).hexdigest()
    assert receipt["sha256"] == sha

    names = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert names == [f"{PREFIX}/{sha}", f"{PREFIX}/{sha}.w1280", f"{PREFIX}/{sha}.w320"]
    assert s3.get_object(Bucket=bucket, Key=f"{PREFIX}/{sha}")["Body"].read() == data
    # Nothing but the (empty) staging directory on the local disk.
    assert [p.relative_to(settings.photos_path) for p in settings.photos_path.rglob("*")] == [
        settings.photos_path.joinpath("staging").relative_to(settings.photos_path)
    ]

    original = client.get(f"/mobile/v1/photos/{pid}", headers=inspector)
    assert original.status_code == 200
    assert original.content == data and original.headers["content-type"] == "image/jpeg"
    thumb = client.get(f"/mobile/v1/photos/{pid}", params={"size": 320}, headers=inspector)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.content)).size) == 320

    # A retry is answered from the row; the bucket is unchanged.
    again = _upload(client, inspector, iid, [(pid, "a.jpg", data)]).json()["receipts"][0]
    assert again["duplicate_retry"] is True
    assert len(s3.list_objects_v2(Bucket=bucket)["Contents"]) == 3

    # An object lost from the bucket is a clear 404, not a 500.
    s3.delete_object(Bucket=bucket, Key=f"{PREFIX}/{sha}.w320")
    gone = client.get(f"/mobile/v1/photos/{pid}", params={"size": 320}, headers=inspector)
    assert gone.status_code == 404 and gone.json()["code"] == "photo_file_missing"


def test_s3_settings_are_checked(tmp_path):
    with pytest.raises(ValidationError, match="s3_bucket"):
        Settings(blob_store="s3", photo_dir=tmp_path)
    with pytest.raises(ValidationError):
        Settings(blob_store="nfs", photo_dir=tmp_path)
    local = open_blob_store(Settings(photo_dir=tmp_path / "p"))
    assert local.local_path("a" * 64) is None and (tmp_path / "p" / "staging").is_dir()


def test_an_object_gone_between_lookup_and_read_is_a_404(s3_bucket, tmp_path):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from server.api.blobs import blob_response
    from server.errors import install_error_handlers

    client, bucket = s3_bucket
    store = S3BlobStore(bucket, staging_dir=tmp_path / "staging", client=client)
    key = hashlib.sha256(b"doc").hexdigest()
    store.put_bytes(key, b"doc")
    app = FastAPI()
    install_error_handlers(app)
    app.get("/blob")(lambda: blob_response(store, key, media_type="application/octet-stream"))
    with TestClient(app) as http:
        assert http.get("/blob").content == b"doc"
        store.delete(key)
        gone = http.get("/blob")
    assert gone.status_code == 404 and gone.json()["code"] == "file_missing"
