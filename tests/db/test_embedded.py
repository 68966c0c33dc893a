"""Tests of the embedded PostgreSQL + PostGIS cluster manager against a real server (no mocks)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.db.embedded import (
    EmbeddedDatabaseError,
    EmbeddedPostgres,
    find_pg_bin_dir,
    postgis_available,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not postgis_available(), reason="PostgreSQL + PostGIS binaries not installed")


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def _wait_gone(pid: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not _process_gone(pid):
        assert time.monotonic() < deadline, f"process {pid} still alive"
        time.sleep(0.05)


def _scalar(url: str, query: str) -> object:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(query)).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture
def base_dir(tmp_path: Path) -> Iterator[Path]:
    """A scratch directory the cluster's OS user can reach.

    As root the cluster runs as ``postgres``, which cannot enter pytest's ``/tmp/pytest-of-root``
    (mode 0700, and any concurrent pytest run resets it to 0700): use a private dir under /tmp then.
    """
    if os.geteuid() != 0:
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="sw-pgtest-", dir="/tmp"))
    path.chmod(0o711)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def clusters(base_dir: Path) -> Iterator[list[EmbeddedPostgres]]:
    """Objects to clean up: every cluster a test registers is force-stopped at teardown."""
    created: list[EmbeddedPostgres] = []
    yield created
    for pg in reversed(created):
        pg.stop(force=True)


@pytest.fixture
def new_pg(base_dir: Path, clusters: list[EmbeddedPostgres]):
    """Factory of EmbeddedPostgres objects on ``<tmp>/pgdata`` (ephemeral), stopped at teardown."""

    def make(**kwargs: object) -> EmbeddedPostgres:
        kwargs.setdefault("ephemeral", True)
        pg = EmbeddedPostgres(base_dir / "pgdata", **kwargs)  # type: ignore[arg-type]
        clusters.append(pg)
        return pg

    return make


def test_helpers_find_binaries_and_postgis(tmp_path: Path) -> None:
    bin_dir = find_pg_bin_dir()
    assert (bin_dir / "initdb").is_file()
    assert (bin_dir / "pg_ctl").is_file()
    assert postgis_available(bin_dir)
    assert not postgis_available(tmp_path / "no-such-bin")


def test_start_postgis_and_data_survives_restart(new_pg) -> None:
    pg = new_pg()
    url = pg.ensure_started()
    assert pg.started_here
    assert url.startswith("postgresql+psycopg2://sitewatch@/sitewatch?host=/tmp/sw-pg-")
    assert url == pg.url
    assert "POSTGIS=" in str(_scalar(url, "SELECT postgis_full_version()"))
    assert _scalar(url, "SHOW listen_addresses") == ""
    assert len(str(pg.socket_dir)) < 60

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE site (id int PRIMARY KEY, geom geometry(Point, 4326))"))
        conn.execute(sa.text("INSERT INTO site VALUES (1, ST_SetSRID(ST_MakePoint(117.2, 31.8), 4326))"))
    engine.dispose()

    socket_dir = pg.socket_dir
    assert socket_dir is not None
    pg.stop()
    assert not pg.started_here
    assert pg.url is None
    assert not (pg.data_dir / "postmaster.pid").exists()
    assert not socket_dir.exists()
    pg.stop()  # idempotent

    again = new_pg()
    url2 = again.ensure_started()
    assert again.started_here
    assert _scalar(url2, "SELECT ST_AsText(geom) FROM site WHERE id = 1") == "POINT(117.2 31.8)"
    assert pg.log_path.is_file()
    assert not pg.log_path.is_relative_to(pg.data_dir)


def test_second_object_attaches_and_does_not_stop(new_pg) -> None:
    owner = new_pg()
    url = owner.ensure_started()

    other = new_pg()
    assert other.ensure_started() == url
    assert not other.started_here
    assert other.pid == owner.pid
    other.stop()
    assert _scalar(url, "SELECT 1") == 1

    with new_pg() as url3:
        assert url3 == url
    assert _scalar(url, "SELECT 1") == 1

    assert owner.ensure_started() == url  # still ours
    assert owner.started_here


def test_context_manager_stops_what_it_started(new_pg) -> None:
    pg = new_pg()
    with pg as url:
        assert pg.started_here
        assert _scalar(url, "SELECT count(*) FROM pg_extension WHERE extname = 'postgis'") == 1
        pid = pg.pid
    assert pid is not None
    _wait_gone(pid)
    assert not (pg.data_dir / "postmaster.pid").exists()


def test_missing_binaries_raise_with_package_names(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "pgdata", pg_bin_dir=tmp_path / "bogus" / "bin")
    with pytest.raises(EmbeddedDatabaseError) as info:
        pg.ensure_started()
    message = str(info.value)
    assert "postgresql-15" in message
    assert "postgresql-15-postgis-3" in message
    assert not pg.started_here
    pg.stop(force=True)  # nothing running: a no-op


def test_restart_after_sigkill_stale_pid(new_pg) -> None:
    # Durable settings: with ephemeral (synchronous_commit=off) a SIGKILL may lose the last commits.
    pg = new_pg(ephemeral=False)
    url = pg.ensure_started()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE kept (v text)"))
        conn.execute(sa.text("INSERT INTO kept VALUES ('before kill')"))
    engine.dispose()

    pid = pg.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    _wait_gone(pid)
    assert (pg.data_dir / "postmaster.pid").exists()  # left behind by the killed server

    fresh = new_pg(ephemeral=False)
    url2 = fresh.ensure_started()
    assert fresh.started_here
    assert fresh.pid != pid
    assert _scalar(url2, "SELECT v FROM kept") == "before kill"

    pg.stop()  # the old object must not stop the new server
    assert _scalar(url2, "SELECT 1") == 1


def test_missing_socket_dir_starts_fresh(new_pg) -> None:
    pg = new_pg()
    url = pg.ensure_started()
    assert pg.socket_dir is not None
    shutil.rmtree(pg.socket_dir)  # e.g. a /tmp cleaner removed it: the server is unreachable

    fresh = new_pg()
    url2 = fresh.ensure_started()
    assert url2 != url
    assert fresh.started_here
    assert _scalar(url2, "SELECT 1") == 1


def test_concurrent_processes_start_one_server(base_dir: Path, clusters: list[EmbeddedPostgres]) -> None:
    data_dir = base_dir / "pgdata"
    clusters.append(EmbeddedPostgres(data_dir))  # force-stops whatever runs there at teardown
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from server.db.embedded import EmbeddedPostgres\n"
        "pg = EmbeddedPostgres(Path(sys.argv[1]), ephemeral=True)\n"
        "print(json.dumps({'url': pg.ensure_started(), 'started_here': pg.started_here}))\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(data_dir)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    assert results[0]["url"] == results[1]["url"]
    assert sorted(r["started_here"] for r in results) == [False, True]
    assert _scalar(results[0]["url"], "SELECT 1") == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the cluster as the postgres user")
def test_unreachable_data_dir_as_root(base_dir: Path) -> None:
    private = base_dir / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    pg = EmbeddedPostgres(private / "deeper" / "pgdata")
    with pytest.raises(EmbeddedDatabaseError) as info:
        pg.ensure_started()
    message = str(info.value)
    assert "postgres" in message
    assert str(private) in message
    assert "data directory" in message
