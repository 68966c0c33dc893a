"""The sitewatch CLI on a scratch database: demo (idempotent), create-user, export and import."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from server.cli import app
from server.models import AuditEvent, Project, User

runner = CliRunner()


@pytest.fixture(scope="module")
def scratch_url(engine, database_url):
    name = "sitewatch_cli_test"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    yield url
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture()
def cli_env(scratch_url, monkeypatch):
    monkeypatch.setenv("SITEWATCH_DATABASE_URL", scratch_url)
    monkeypatch.setenv("SITEWATCH_DEMO_PASSWORD", "cli-demo-pass")
    return scratch_url


def _count(url: str, model) -> int:
    eng = create_engine(url)
    try:
        with Session(eng) as s:
            return s.scalar(select(func.count()).select_from(model))
    finally:
        eng.dispose()


def test_demo_is_idempotent(cli_env):
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    projects = _count(cli_env, Project)
    assert 50 <= projects <= 80
    second = runner.invoke(app, ["demo"])
    assert second.exit_code == 0, second.output
    assert "0 projects added" in second.output
    assert _count(cli_env, Project) == projects


def test_create_user_and_refusals(cli_env):
    runner.invoke(app, ["demo"])
    ok = runner.invoke(
        app,
        [
            "create-user",
            "newadmin",
            "--role",
            "admin",
            "--unit",
            "清水县发展和改革局",
            "--full-name",
            "新管理员",
            "--password",
            "a-long-password",
        ],
    )
    assert ok.exit_code == 0, ok.output
    dup = runner.invoke(
        app,
        [
            "create-user",
            "newadmin",
            "--role",
            "admin",
            "--unit",
            "清水县发展和改革局",
            "--full-name",
            "新管理员",
            "--password",
            "a-long-password",
        ],
    )
    assert dup.exit_code == 1
    assert "username_duplicate" in dup.output
    bad_unit = runner.invoke(
        app,
        [
            "create-user",
            "x_user",
            "--role",
            "admin",
            "--unit",
            "没有这个单位",
            "--full-name",
            "某人",
            "--password",
            "a-long-password",
        ],
    )
    assert bad_unit.exit_code == 2
    assert "unknown_unit" in bad_unit.output
    eng = create_engine(cli_env)
    with Session(eng) as s:
        assert (
            s.scalars(select(User).where(User.username == "newadmin"))
            .one()
            .password_hash.startswith("$argon2")
        )
    eng.dispose()


@pytest.mark.parametrize("suffix", [".geojson", ".csv"])
def test_export_import_round_trip(cli_env, tmp_path, suffix):
    runner.invoke(app, ["demo"])
    prefix = {".geojson": "2030", ".csv": "2031"}[suffix]  # the module shares one scratch database
    out = tmp_path / f"projects{suffix}"
    exported = runner.invoke(app, ["export", str(out)])
    assert exported.exit_code == 0, exported.output
    raw = out.read_bytes()
    if suffix == ".csv":
        assert raw.startswith(b"\xef\xbb\xbf")  # BOM so Excel reads the Chinese text
        text_data = raw.decode("utf-8-sig")
        assert "清水县" in text_data
        rows = list(csv.reader(io.StringIO(text_data)))
        header, rows = rows[0], rows[1:]
        code_col = header.index("code")
        rows = [row for row in rows if not row[code_col].startswith("203")]  # only the demo's own
        for row in rows:
            row[code_col] = prefix + row[code_col][4:]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows([header, *rows])
        out.write_text(buffer.getvalue(), encoding="utf-8-sig")
        exported_count = len(rows)
    else:
        data = json.loads(raw)
        data["features"] = [f for f in data["features"] if not f["properties"]["code"].startswith("203")]
        for feature in data["features"]:
            feature["properties"]["code"] = prefix + feature["properties"]["code"][4:]
        out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        exported_count = len(data["features"])
    before = _count(cli_env, Project)
    imported = runner.invoke(app, ["import", str(out)])
    assert imported.exit_code == 0, imported.output
    assert _count(cli_env, Project) == before + exported_count
    refused = runner.invoke(app, ["import", str(out)])
    assert refused.exit_code == 1
    assert "project_code_duplicate" in refused.output
    updated = runner.invoke(app, ["import", str(out), "--update"])
    assert updated.exit_code == 0, updated.output
    assert "updated" in updated.output
    eng = create_engine(cli_env)
    with Session(eng) as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "import")) > 0
    eng.dispose()


def test_import_bad_files(cli_env, tmp_path):
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", ', encoding="utf-8")
    r = runner.invoke(app, ["import", str(broken)])
    assert r.exit_code == 1
    assert "malformed_json" in r.output
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text("code,name\n1,2\n", encoding="utf-8")
    r = runner.invoke(app, ["import", str(csv_file)])
    assert r.exit_code == 1
    assert "csv_columns" in r.output


def test_serve_stops_its_embedded_database_on_sigterm():
    """A service manager's SIGTERM ends `sitewatch serve` the way Ctrl-C does: database stopped too."""
    import os
    import shutil
    import signal
    import socket
    import subprocess
    import sys
    import tempfile
    import time
    from pathlib import Path

    import httpx

    # Not under pytest's tmp dir: as root the cluster runs as `postgres`, which cannot enter it.
    base = Path(tempfile.mkdtemp(prefix="sitewatch-serve-"))
    os.chmod(base, 0o755)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "SITEWATCH_DATABASE_URL"}
    env |= {"SITEWATCH_DATA_DIR": str(base), "SITEWATCH_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "server.cli", "serve", "--no-demo", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        assert (base / "pgdata" / "postmaster.pid").exists()  # its own cluster is running
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0].decode()
        assert proc.returncode == 128 + signal.SIGTERM, output
        assert not (base / "pgdata" / "postmaster.pid").exists(), output  # stopped with it
    finally:
        if proc.poll() is None:
            proc.kill()
        from server.db.embedded import EmbeddedPostgres

        EmbeddedPostgres(base / "pgdata").stop(force=True)
        shutil.rmtree(base, ignore_errors=True)
