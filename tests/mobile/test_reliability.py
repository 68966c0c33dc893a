"""Reliability on a real server: 20 concurrent retries make one photo; a server killed mid-upload loses
nothing acknowledged and the retry yields exactly one photo."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import Photo
from tests.conftest import DEMO_PASSWORD
from tests.mobile.helpers import geotagged_jpeg, new_id


def _token(base: str) -> str:
    r = httpx.post(f"{base}/mobile/v1/login", json={"username": "inspector", "password": DEMO_PASSWORD})
    r.raise_for_status()
    return r.json()["access_token"]


def _site_point(base: str, headers: dict[str, str]) -> tuple[int, float, float]:
    sync = httpx.get(f"{base}/mobile/v1/sync", headers=headers, timeout=30).json()
    project = next(p for p in sync["projects"] if p["site"] and p["site"]["type"] == "Polygon")
    point = shape(project["site"]).representative_point()
    return project["id"], point.y, point.x


def _new_inspection(base: str, headers: dict[str, str], project_id: int) -> str:
    body = {"id": new_id(), "project_id": project_id, "started_at": dt.datetime.now(dt.UTC).isoformat()}
    r = httpx.post(f"{base}/mobile/v1/inspections", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return body["id"]


def _multipart(photo_id: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    meta = json.dumps([{"photo_id": photo_id}]).encode()
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="meta"\r\n\r\n'.encode()
        + meta
        + b"\r\n"
        + f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _count(engine, photo_id: str) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(Photo).where(Photo.id == uuid.UUID(photo_id)))


def test_twenty_concurrent_retries_make_one_photo(live_server, engine):
    headers = {"Authorization": f"Bearer {_token(live_server)}"}
    project_id, lat, lon = _site_point(live_server, headers)
    iid = _new_inspection(live_server, headers, project_id)
    photo_id = new_id()
    body, ctype = _multipart(photo_id, geotagged_jpeg(lat, lon, seed=101))

    def send(_: int) -> dict:
        r = httpx.post(
            f"{live_server}/mobile/v1/inspections/{iid}/photos",
            content=body,
            headers={**headers, "content-type": ctype},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        return r.json()["receipts"][0]

    with ThreadPoolExecutor(max_workers=20) as pool:
        receipts = list(pool.map(send, range(20)))
    assert all(r["received"] for r in receipts)
    assert len({r["sha256"] for r in receipts}) == 1
    assert sum(1 for r in receipts if not r["duplicate_retry"]) == 1
    assert _count(engine, photo_id) == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(database_url: str, photo_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "SITEWATCH_DATABASE_URL": database_url, "SITEWATCH_PHOTO_DIR": str(photo_dir)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "server.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def test_kill_mid_upload_then_retry_yields_one_photo(database_url, engine):
    photo_dir = Path(tempfile.mkdtemp(prefix="sitewatch-kill-"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start_server(database_url, photo_dir, port)
    try:
        headers = {"Authorization": f"Bearer {_token(base)}"}
        project_id, lat, lon = _site_point(base, headers)
        iid = _new_inspection(base, headers, project_id)
        photo_id = new_id()
        data = geotagged_jpeg(lat, lon, seed=202, size=(2000, 1500))
        body, ctype = _multipart(photo_id, data)
        # Send the headers and half the body, then kill the server hard.
        with socket.create_connection(("127.0.0.1", port)) as sock:
            head = (
                f"POST /mobile/v1/inspections/{iid}/photos HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: {headers['Authorization']}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            sock.sendall(head + body[: len(body) // 2])
            time.sleep(0.5)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        assert _count(engine, photo_id) == 0
        proc = _start_server(database_url, photo_dir, port)
        r = httpx.post(
            f"{base}/mobile/v1/inspections/{iid}/photos",
            content=body,
            headers={**headers, "content-type": ctype},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        receipt = r.json()["receipts"][0]
        assert receipt["received"] and not receipt["duplicate_retry"]
        again = httpx.post(
            f"{base}/mobile/v1/inspections/{iid}/photos",
            content=body,
            headers={**headers, "content-type": ctype},
            timeout=60,
        ).json()["receipts"][0]
        assert again["duplicate_retry"] is True
        assert _count(engine, photo_id) == 1
        stored = photo_dir / receipt["sha256"][:2] / receipt["sha256"][2:4] / receipt["sha256"]
        assert stored.read_bytes() == data
    finally:
        proc.kill()
        proc.wait(timeout=10)
        import shutil

        shutil.rmtree(photo_dir, ignore_errors=True)
