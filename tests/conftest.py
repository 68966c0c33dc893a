"""Test set-up: a real PostGIS (a throwaway embedded cluster, or TEST_DATABASE_URL), migrated once with
Alembic, the demo county loaded once, and one transaction per test rolled back at the end."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from server.app import create_app
from server.db import migrate
from server.db.embedded import EmbeddedPostgres
from server.db.session import make_engine
from server.settings import Settings
from server.storage import LocalBlobStore

DEMO_PASSWORD = "test-password-1"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A migrated, demo-loaded database for the whole run."""
    url = os.environ.get("TEST_DATABASE_URL")
    cluster = None
    if not url:
        # Not under pytest's tmp dir: as root the cluster runs as `postgres`, which cannot enter it.
        base = Path(tempfile.mkdtemp(prefix="sitewatch-test-"))
        os.chmod(base, 0o755)
        cluster = EmbeddedPostgres(base / "pgdata", ephemeral=True)
        url = cluster.ensure_started()
    migrate.upgrade(url)
    engine = make_engine(url)
    demo_photos = Path(tempfile.mkdtemp(prefix="sitewatch-demo-"))
    with Session(engine) as session:
        from server.services import demo

        demo.load_demo(session, password=DEMO_PASSWORD)
        demo.load_demo_history(session, store=LocalBlobStore(demo_photos))
    engine.dispose()
    try:
        yield url
    finally:
        shutil.rmtree(demo_photos, ignore_errors=True)
        if cluster is not None:
            cluster.stop()
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The engine on the test database."""
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture()
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    conn = engine.connect()
    trans = conn.begin()
    try:
        yield conn
    finally:
        trans.rollback()
        conn.close()


@pytest.fixture()
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions whose commits become savepoints of the test's transaction."""
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False
    )


@pytest.fixture()
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for the test's own reads and writes."""
    with session_factory() as s:
        yield s


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    """Settings for the app under test (the database comes from the fixtures)."""
    return Settings(
        database_url="postgresql://unused", max_body_bytes=256 * 1024, photo_dir=tmp_path / "photos"
    )


@pytest.fixture()
def client(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """An HTTP client on the app, sharing the test's transaction."""
    app = create_app(settings, session_factory=session_factory)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


_TOKENS: dict[tuple[int, str], str] = {}


@pytest.fixture()
def login(client: TestClient):
    """Return auth headers for a demo account (``login("admin")``)."""

    def _login(username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
        response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return _login


@pytest.fixture(scope="session")
def live_server(database_url: str) -> Iterator[str]:
    """Serve the app on a free loopback port for the browser."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    photo_dir = Path(tempfile.mkdtemp(prefix="sitewatch-live-photos-"))
    app = create_app(Settings(database_url=database_url, photo_dir=photo_dir))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    shutil.rmtree(photo_dir, ignore_errors=True)
