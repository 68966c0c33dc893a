"""The blob-store interface, on the local directory and on an S3-compatible store (moto's server on
loopback); the local store's durability steps; the orphan sweep."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from server.repositories import evidence as evidence_repo
from server.services import evidence
from server.storage import BlobStore, LocalBlobStore, S3BlobStore


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path) -> BlobStore:
    """Each implementation of the interface in turn."""
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    client, bucket = request.getfixturevalue("s3_bucket")
    return S3BlobStore(bucket, staging_dir=tmp_path / "staging", prefix="evidence", client=client)


@pytest.fixture()
def local_store(tmp_path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def _staged(store: BlobStore, data: bytes):
    handle, path = store.staging_file()
    with handle:
        handle.write(data)
    return path


def _read(store: BlobStore, key: str) -> bytes:
    handle = store.open(key)
    try:
        return handle.read()
    finally:
        handle.close()


def test_put_is_content_addressed_and_idempotent(store: BlobStore):
    data = b"evidence"
    key = hashlib.sha256(data).hexdigest()
    assert not store.exists(key)
    assert store.put_file(key, _staged(store, data)) is True
    second = _staged(store, data)
    assert store.put_file(key, second) is False
    assert not second.exists()  # a staged source is consumed either way
    assert store.exists(key)
    assert _read(store, key) == data
    assert store.put_bytes(f"{key}.w320", b"thumb") is True
    assert store.put_bytes(f"{key}.w320", b"other") is False
    assert _read(store, f"{key}.w320") == b"thumb"
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # missing is fine
    with pytest.raises(FileNotFoundError):
        store.open(key)
    assert store.local_path(key) is None
    assert list(store.staging.glob("up-*")) == []


def test_keys_are_checked(store: BlobStore):
    for bad in ("../../etc/passwd", "abc", "A" * 64, "a" * 64 + "/x"):
        with pytest.raises(ValueError):
            store.exists(bad)
        with pytest.raises(ValueError):
            store.put_bytes(bad, b"x")


def test_put_together_stores_a_photo_and_its_derivatives(store: BlobStore):
    data = b"original photo bytes"
    key = hashlib.sha256(data).hexdigest()
    store.put_together({f"{key}.w320": b"thumb", f"{key}.w1280": b"preview", key: _staged(store, data)})
    assert [_read(store, k) for k in (key, f"{key}.w320", f"{key}.w1280")] == [data, b"thumb", b"preview"]
    again = _staged(store, data)
    store.put_together({f"{key}.w320": b"other", key: again})  # already stored: left as they are
    assert not again.exists() and _read(store, f"{key}.w320") == b"thumb"
    assert list(store.staging.glob("up-*")) == []
    assert sorted(store.keys_older_than(-60)) == sorted([key, f"{key}.w320", f"{key}.w1280"])
    assert list(store.keys_older_than(3600)) == []  # all just written


def test_sweep_removes_only_orphans(store: BlobStore, session):
    known = next(iter(evidence_repo.blob_keys(session)))  # a demo photo's file: a row points at it
    orphan = hashlib.sha256(b"orphan").hexdigest()
    store.put_bytes(known, b"kept")
    store.put_bytes(f"{known}.w320", b"kept thumb")
    store.put_bytes(orphan, b"orphan")
    store.put_bytes(f"{orphan}.w320", b"orphan thumb")
    stale, _ = store.staging_file()
    stale.close()
    fresh = evidence.sweep_orphans(session, store, older_than_s=3600)
    assert fresh == {"orphans_removed": 0, "staging_removed": 0}  # too young to sweep
    result = evidence.sweep_orphans(session, store, older_than_s=-60)  # everything counts as old
    assert result == {"orphans_removed": 2, "staging_removed": 1}
    assert not store.exists(orphan) and not store.exists(f"{orphan}.w320")
    assert store.exists(known) and store.exists(f"{known}.w320")


def test_local_sweep_goes_by_file_age(local_store: LocalBlobStore, session):
    young, old_key = hashlib.sha256(b"young").hexdigest(), hashlib.sha256(b"old").hexdigest()
    local_store.put_bytes(young, b"young")
    local_store.put_bytes(old_key, b"old")
    old = time.time() - 3 * 24 * 3600
    os.utime(local_store.path(old_key), (old, old))
    stale, _ = local_store.staging_file()
    stale.close()
    for leftover in local_store.staging.glob("up-*"):
        os.utime(leftover, (old, old))
    local_store.staging_file()[0].close()  # a fresh upload in progress stays
    result = evidence.sweep_orphans(session, local_store, older_than_s=24 * 3600)
    assert result == {"orphans_removed": 1, "staging_removed": 1}
    assert local_store.exists(young) and not local_store.exists(old_key)
    assert len(list(local_store.staging.glob("up-*"))) == 1


def test_s3_objects_live_under_the_prefix(s3_bucket, tmp_path):
    client, bucket = s3_bucket
    store = S3BlobStore(bucket, staging_dir=tmp_path / "staging", prefix="/qingshui/evidence/", client=client)
    key = hashlib.sha256(b"x").hexdigest()
    store.put_together({f"{key}.w320": b"t", key: _staged(store, b"x")})
    client.put_object(Bucket=bucket, Key="qingshui/evidence/README.txt", Body=b"not a blob")
    client.put_object(Bucket=bucket, Key=f"elsewhere/{key}", Body=b"another prefix")
    names = sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"])
    assert f"qingshui/evidence/{key}" in names and f"qingshui/evidence/{key}.w320" in names
    assert sorted(store.keys_older_than(-60)) == [key, f"{key}.w320"]  # blobs under the prefix only
    assert store.local_path(key) is None and store.exists(key)


def test_local_put_together_syncs_each_directory_once(local_store, monkeypatch):
    import server.storage as storage

    store = local_store

    data = b"original photo bytes"
    key = hashlib.sha256(data).hexdigest()
    synced_dirs = []
    real = storage._fsync_dir
    monkeypatch.setattr(storage, "_fsync_dir", lambda path: (synced_dirs.append(path), real(path)))
    store.put_together({f"{key}.w320": b"thumb", f"{key}.w1280": b"preview", key: _staged(store, data)})
    stored = [store.path(k).read_bytes() for k in (key, f"{key}.w320", f"{key}.w1280")]
    assert stored == [data, b"thumb", b"preview"]
    assert synced_dirs == [store.path(key).parent]  # one directory sync for the three
    again = _staged(store, data)
    store.put_together({f"{key}.w320": b"other", key: again})  # already stored: left as they are
    assert not again.exists() and store.path(f"{key}.w320").read_bytes() == b"thumb"
    assert list(store.staging.glob("up-*")) == []


def test_local_put_together_skips_what_was_synced_already(local_store, monkeypatch):
    store = local_store
    data = b"another original"
    key = hashlib.sha256(data).hexdigest()
    staged = _staged(store, data)
    store.sync_staged(staged)
    synced = []
    monkeypatch.setattr(store, "sync_staged", lambda path: synced.append(path))
    store.put_together({f"{key}.w320": b"thumb", key: staged}, synced=(key,))
    assert synced == [] and store.path(key).read_bytes() == data  # the bytes thumb was synced inline
