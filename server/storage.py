"""Where evidence files live: a content-addressed blob store behind one interface, :class:`BlobStore`.

Two implementations:

* :class:`LocalBlobStore` (the default) keeps files in a directory (``<root>/ab/cd/<sha256>``): write,
  fsync, rename, fsync the directory, before anything is acknowledged.
* :class:`S3BlobStore` keeps them in a bucket of an S3-compatible object store (MinIO, Ceph, a cloud's
  S3), for when a province outgrows one disk: an object is durable once its PUT has completed.

Uploads are streamed to a local staging directory first whatever the store (the pixel work and the
header checks read the staged file); the services and routers use nothing but this interface, and
serve a stored object from its local path where there is one (:meth:`BlobStore.local_path`), streamed
from :meth:`BlobStore.open` otherwise.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import tempfile
import time
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol

_KEY = re.compile(r"^[0-9a-f]{64}(\.[a-z0-9_]{1,20})?$")


class BlobStore(Protocol):
    """A durable, content-addressed store of evidence files and their derivatives."""

    def staging_file(self) -> tuple[BinaryIO, Path]:
        """An open local temporary file to stream an upload into, and its path."""

    def sync_staged(self, source: Path) -> None:
        """Make a staged file's data durable on the local disk now."""

    def clear_staging(self, seconds: float) -> int:
        """Remove abandoned staged uploads older than ``seconds``; how many."""

    def put_file(self, key: str, source: Path) -> bool:
        """Store the staged ``source`` under ``key`` durably (it is consumed); False if the key existed."""

    def put_bytes(self, key: str, data: bytes) -> bool:
        """Store ``data`` under ``key`` durably; False if the key existed."""

    def put_together(self, files: dict[str, Path | bytes], *, synced: Collection[str] = ()) -> None:
        """Store several objects durably (a photo and its derivatives); existing keys are left as they are."""

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""

    def open(self, key: str) -> BinaryIO:
        """A stored object for reading (``FileNotFoundError`` if it is not stored)."""

    def local_path(self, key: str) -> Path | None:
        """The object's file on this machine's disk, if the store has one and the object exists."""

    def delete(self, key: str) -> None:
        """Remove an object (missing is fine)."""

    def keys_older_than(self, seconds: float) -> Iterator[str]:
        """Keys of objects last written more than ``seconds`` ago (for sweeping orphans)."""


def check_key(key: str) -> str:
    """Refuse anything that is not a SHA-256 hex digest with an optional short suffix."""
    if not _KEY.match(key):
        raise ValueError(f"invalid blob key {key!r}")
    return key


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _StagingArea:
    """The local directory uploads are streamed into before they are stored (shared by every store)."""

    def __init__(self, staging: Path):
        self.staging = Path(staging)
        self.staging.mkdir(parents=True, exist_ok=True)

    def staging_file(self) -> tuple[BinaryIO, Path]:
        """An open temporary file in the staging directory, to stream an upload into."""
        fd, name = tempfile.mkstemp(dir=self.staging, prefix="up-")
        return os.fdopen(fd, "w+b"), Path(name)

    def sync_staged(self, source: Path) -> None:
        """Make a staged file's data durable now (``put_together(..., synced=...)`` then skips it)."""
        with source.open("rb") as handle:
            os.fsync(handle.fileno())

    def clear_staging(self, seconds: float) -> int:
        """Remove abandoned partial uploads older than ``seconds``."""
        limit = time.time() - seconds
        removed = 0
        for path in self.staging.glob("up-*"):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
        return removed


class LocalBlobStore(_StagingArea):
    """Blobs in a local directory, written atomically and fsynced before they are acknowledged."""

    def __init__(self, root: Path):
        self.root = Path(root)
        super().__init__(self.root / "staging")  # same filesystem: a stored upload is a rename

    def path(self, key: str) -> Path:
        """Where a key lives (or would live) on disk."""
        check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def put_file(self, key: str, source: Path) -> bool:
        """Move ``source`` into place durably; False (and ``source`` removed) if already stored."""
        target = self.path(key)
        if target.exists():
            with contextlib.suppress(FileNotFoundError):
                source.unlink()
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        with source.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(source, target)
        _fsync_dir(target.parent)
        return True

    def put_bytes(self, key: str, data: bytes) -> bool:
        """Store small bytes (derivatives) durably."""
        handle, path = self.staging_file()
        with handle:
            handle.write(data)
        return self.put_file(key, path)

    def put_together(self, files: dict[str, Path | bytes], *, synced: Collection[str] = ()) -> None:
        """Store several objects durably with one directory sync per directory (a photo and its derivatives).

        Each new object's data is fsynced (unless its key is in ``synced``: already done with
        :meth:`sync_staged`), all are renamed into place, then each directory they went into is
        fsynced once: as durable as ``put_file`` one by one, with fewer journal commits.  Objects
        already stored are left as they are (their staged source is removed).
        """
        moves: list[tuple[Path, Path]] = []
        try:
            for key, source in files.items():
                target = self.path(key)
                if isinstance(source, bytes):
                    if target.exists():
                        continue
                    handle, staged = self.staging_file()
                    with handle:
                        handle.write(source)
                        handle.flush()
                        os.fsync(handle.fileno())
                else:
                    staged = source
                    if target.exists():
                        with contextlib.suppress(FileNotFoundError):
                            staged.unlink()
                        continue
                    if key not in synced:
                        self.sync_staged(staged)
                moves.append((staged, target))
        except BaseException:
            for staged, _target in moves:
                with contextlib.suppress(FileNotFoundError):
                    staged.unlink()
            raise
        directories: dict[Path, None] = {}
        for staged, target in moves:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
            directories[target.parent] = None
        for directory in directories:
            _fsync_dir(directory)

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        return self.path(key).exists()

    def open(self, key: str) -> BinaryIO:
        """Open a stored object for reading."""
        return self.path(key).open("rb")

    def local_path(self, key: str) -> Path | None:
        """The object's file, if it is stored."""
        path = self.path(key)
        return path if path.is_file() else None

    def delete(self, key: str) -> None:
        """Remove an object (missing is fine)."""
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()

    def keys_older_than(self, seconds: float) -> Iterator[str]:
        """Keys last written more than ``seconds`` ago."""
        limit = time.time() - seconds
        for path in self.root.glob("??/??/*"):
            if path.is_file() and _KEY.match(path.name) and path.stat().st_mtime < limit:
                yield path.name

    def wipe(self) -> None:
        """Delete everything (tests only)."""
        shutil.rmtree(self.root, ignore_errors=True)


#: Error codes S3-compatible stores answer for a missing object (HEAD has no body, hence "404").
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


class S3BlobStore(_StagingArea):
    """Blobs in a bucket of an S3-compatible object store, under ``prefix``; uploads staged locally.

    ``client`` is a boto3 S3 client (made from ``endpoint_url`` / ``region`` and the standard AWS
    credential chain when not given: ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` in the
    environment, never in settings files).  A PUT that has returned is durable; objects are written
    only under a content address, so a repeated PUT is skipped, and a crash between PUT and the row's
    commit leaves an orphan for :func:`server.services.evidence.sweep_orphans`.
    """

    def __init__(
        self,
        bucket: str,
        *,
        staging_dir: Path,
        prefix: str = "",
        client: Any = None,
        endpoint_url: str | None = None,
        region: str | None = None,
    ):
        super().__init__(staging_dir)
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        if client is None:
            try:
                import boto3
            except ImportError as exc:  # an optional dependency: pip install 'sitewatch[s3]'
                raise RuntimeError("the S3 blob store needs boto3: pip install 'sitewatch[s3]'") from exc
            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        self.client = client

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    @staticmethod
    def _missing(exc: Exception) -> bool:
        error = getattr(exc, "response", {}).get("Error", {})
        return str(error.get("Code")) in _MISSING

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored (a HEAD request)."""
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except Exception as exc:
            if self._missing(exc):
                return False
            raise
        return True

    def put_file(self, key: str, source: Path) -> bool:
        """Upload ``source`` (multipart for big files) and remove it; False if the key was stored."""
        try:
            if self.exists(key):
                return False
            self.client.upload_file(str(source), self.bucket, self._name(key))
            return True
        finally:
            with contextlib.suppress(FileNotFoundError):
                source.unlink()

    def put_bytes(self, key: str, data: bytes) -> bool:
        """Upload small bytes (derivatives); False if the key was stored."""
        if self.exists(key):
            return False
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)
        return True

    def put_together(self, files: dict[str, Path | bytes], *, synced: Collection[str] = ()) -> None:
        """Upload each object in turn (each PUT is durable when it returns); staged sources are consumed."""
        pending = [source for source in files.values() if isinstance(source, Path)]
        try:
            for key, source in files.items():
                if isinstance(source, bytes):
                    self.put_bytes(key, source)
                else:
                    self.put_file(key, source)
        finally:
            for source in pending:
                with contextlib.suppress(FileNotFoundError):
                    source.unlink()

    def open(self, key: str) -> BinaryIO:
        """The object's body, streamed from the store."""
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        except Exception as exc:
            if self._missing(exc):
                raise FileNotFoundError(key) from exc
            raise

    def local_path(self, key: str) -> Path | None:
        """None: objects live in the bucket, not on this machine."""
        return None

    def delete(self, key: str) -> None:
        """Remove an object (deleting a missing object is not an error in S3)."""
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def keys_older_than(self, seconds: float) -> Iterator[str]:
        """Keys of objects under the prefix last modified more than ``seconds`` ago."""
        limit = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix) :]
                if _KEY.match(key) and item["LastModified"] < limit:
                    yield key


def open_blob_store(settings: Any) -> BlobStore:
    """The store the settings ask for: the local directory by default, or an S3 bucket."""
    if settings.blob_store == "s3":
        return S3BlobStore(
            settings.s3_bucket,
            staging_dir=settings.photos_path / "staging",
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
        )
    return LocalBlobStore(settings.photos_path)
