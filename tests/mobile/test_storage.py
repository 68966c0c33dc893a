"""The blob-store interface on the local implementation, and the orphan sweep."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from server.services import evidence
from server.storage import BlobStore, LocalBlobStore


@pytest.fixture()
def store(tmp_path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def _staged(store: LocalBlobStore, data: bytes):
    handle, path = store.staging_file()
    with handle:
        handle.write(data)
    return path


def test_put_is_content_addressed_and_idempotent(store: BlobStore):
    data = b"evidence"
    key = hashlib.sha256(data).hexdigest()
    assert store.put_file(key, _staged(store, data)) is True
    second = _staged(store, data)
    assert store.put_file(key, second) is False
    assert not second.exists()
    assert store.exists(key)
    with store.open(key) as handle:
        assert handle.read() == data
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)


def test_keys_are_checked(store):
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")
    with pytest.raises(ValueError):
        store.put_bytes("abc", b"x")


def test_sweep_removes_only_orphans(store, session):
    data = b"orphan"
    key = hashlib.sha256(data).hexdigest()
    store.put_bytes(key, data)
    old = time.time() - 3 * 24 * 3600
    os.utime(store.path(key), (old, old))
    stale, _ = store.staging_file()
    stale.close()
    for leftover in store.staging.glob("up-*"):
        os.utime(leftover, (old, old))
    result = evidence.sweep_orphans(session, store, older_than_s=24 * 3600)
    assert result == {"orphans_removed": 1, "staging_removed": 1}
    assert not store.exists(key)


def test_put_together_stores_a_photo_and_its_derivatives(store, monkeypatch):
    import server.storage as storage

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


def test_put_together_skips_what_was_synced_already(store, monkeypatch):
    data = b"another original"
    key = hashlib.sha256(data).hexdigest()
    staged = _staged(store, data)
    store.sync_staged(staged)
    synced = []
    monkeypatch.setattr(store, "sync_staged", lambda path: synced.append(path))
    store.put_together({f"{key}.w320": b"thumb", key: staged}, synced=(key,))
    assert synced == [] and store.path(key).read_bytes() == data  # the bytes thumb was synced inline
