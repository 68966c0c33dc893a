"""Where evidence files live: a content-addressed blob store behind one small interface.

``LocalBlobStore`` keeps files in a directory (``<root>/ab/cd/<sha256>``).  An S3-compatible store
can replace it by implementing the same five methods (``put_file`` must make the object durable
before returning: for S3 a completed PUT; here write, fsync, rename, fsync the directory).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

_KEY = re.compile(r"^[0-9a-f]{64}(\.[a-z0-9_]{1,20})?$")


class BlobStore(Protocol):
    """A durable, content-addressed store of evidence files and their derivatives."""

    def put_file(self, key: str, source: Path) -> bool:
        """Store ``source`` under ``key`` durably (moving it); False if the key already existed."""

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""

    def open(self, key: str) -> BinaryIO:
        """Open a stored object for reading."""

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


class LocalBlobStore:
    """Blobs in a local directory, written atomically and fsynced before they are acknowledged."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.staging = self.root / "staging"
        self.staging.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """Where a key lives on disk."""
        check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def staging_file(self) -> tuple[BinaryIO, Path]:
        """An open temporary file on the same filesystem, to stream an upload into."""
        fd, name = tempfile.mkstemp(dir=self.staging, prefix="up-")
        return os.fdopen(fd, "w+b"), Path(name)

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

    def sync_staged(self, source: Path) -> None:
        """Make a staged file's data durable now (``put_together(..., synced=...)`` then skips it)."""
        with source.open("rb") as handle:
            os.fsync(handle.fileno())

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

    def clear_staging(self, seconds: float) -> int:
        """Remove abandoned partial uploads older than ``seconds``."""
        limit = time.time() - seconds
        removed = 0
        for path in self.staging.glob("up-*"):
            if path.stat().st_mtime < limit:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
        return removed

    def wipe(self) -> None:
        """Delete everything (tests only)."""
        shutil.rmtree(self.root, ignore_errors=True)
