"""The ``sitewatch`` command: a thin wrapper over the services (serve, db, demo, users, import, export)."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from sqlalchemy.orm import Session

from server.cli_land import land_app
from server.db import migrate
from server.db.runtime import database_url
from server.db.session import make_engine, make_sessionmaker
from server.domain import Role
from server.errors import AppError
from server.models import User
from server.photo_evidence.cli import photo_app
from server.repositories import units as units_repo
from server.settings import Settings

app = typer.Typer(help="Sitewatch: 清水县重点建设项目监管系统", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database: migrations and the embedded cluster.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(land_app, name="land")
app.add_typer(photo_app, name="photo")
console = Console(stderr=True)

DEMO_PASSWORD_ENV = "SITEWATCH_DEMO_PASSWORD"
DEFAULT_DEMO_PASSWORD = "sitewatch-demo"


def _demo_password() -> str:
    return os.environ.get(DEMO_PASSWORD_ENV, DEFAULT_DEMO_PASSWORD)


@contextmanager
def _session(settings: Settings) -> Iterator[tuple[str, Session]]:
    """A database URL (migrated to head) and a session on it."""
    with database_url(settings) as url:
        migrate.upgrade(url)
        engine = make_engine(url)
        try:
            with make_sessionmaker(engine)() as session:
                yield url, session
        finally:
            engine.dispose()


def _actor(session: Session, username: str) -> User:
    user = units_repo.user_by_username(session, username)
    if user is None:
        console.print(
            f"[red]error:[/] user {username!r} does not exist (create it, or run `sitewatch demo`)."
        )
        raise typer.Exit(2)
    return user


def _fail(error: AppError) -> None:
    console.print(f"[red]error {error.code}:[/] {error.detail}")
    if error.extra.get("errors"):
        for item in error.extra["errors"]:
            console.print(f"  - {item}")
    raise typer.Exit(1)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default from SITEWATCH_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from SITEWATCH_PORT, 8000).")] = None,
    demo: Annotated[bool, typer.Option(help="Load the demo county into an empty database.")] = True,
) -> None:
    """Start the database if needed, migrate, load the demo county when empty, and serve the app."""
    import uvicorn

    from server.app import create_app
    from server.services import demo as demo_service

    # SIGTERM (a service manager, ``kill``) must stop the embedded database too, as Ctrl-C does.
    # uvicorn shuts down gracefully on it, then raises the signal again once it has finished; with
    # the default action the process would end there, before the database is stopped.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    settings = Settings()
    host = host or settings.host
    port = port or settings.port
    with _session(settings) as (url, session):
        if demo and settings.demo_on_empty and demo_service.database_is_empty(session):
            _load_demo(session)
        accounts = demo_service.demo_accounts()
        session.close()
        app_settings = settings.model_copy(update={"database_url": url})
        print(
            f"Sitewatch is running at http://{host}:{port}/  (API docs: http://{host}:{port}/api/v1/docs)",
            flush=True,
        )
        where = (
            "SITEWATCH_DATABASE_URL" if settings.database_url else f"embedded PostgreSQL in {settings.pgdata}"
        )
        print(f"Database: {where}", flush=True)
        print(f"Demo accounts (password {_demo_password()!r} unless changed):", flush=True)
        for account in accounts:
            print(f"  {account.username:<14} {account.role.value:<13} {account.full_name}", flush=True)
        print("Press Ctrl-C to stop (the embedded database stops too).", flush=True)
        uvicorn.run(create_app(app_settings), host=host, port=port, log_level=settings.log_level.lower())


def _load_demo(session: Session) -> int:
    from server.services import demo as demo_service

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Loading the demo county", total=None)

        def step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        added = demo_service.load_demo(session, password=_demo_password(), progress=step)
        progress.update(task, description="Adding the supervision history")
        from server.storage import open_blob_store

        demo_service.load_demo_history(session, store=open_blob_store(Settings()))
        return added


@app.command()
def demo() -> None:
    """Load the demo county (reference layers, units, accounts, ~60 projects); safe to repeat."""
    settings = Settings()
    with _session(settings) as (_url, session):
        added = _load_demo(session)
    console.print(f"demo county loaded: {added} projects added")


@app.command("create-user")
def create_user(
    username: str,
    role: Annotated[Role, typer.Option(help="admin, leader, land_bureau, inspector, project_unit, township")],
    unit: Annotated[str, typer.Option(help="Name of the user's unit (it must exist).")],
    full_name: Annotated[str, typer.Option(help="Full name.")],
    title: Annotated[str | None, typer.Option(help="Title, e.g. 副县长.")] = None,
    password: Annotated[str | None, typer.Option(help="Password (asked for when omitted).")] = None,
) -> None:
    """Create a user (for the first admin of a production database, among others)."""
    from server.schemas.auth import UserCreate
    from server.services import directory

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = Settings()
    with _session(settings) as (_url, session):
        unit_row = units_repo.unit_by_name(session, unit)
        if unit_row is None:
            console.print(f"[red]error unknown_unit:[/] no unit named {unit!r}")
            raise typer.Exit(2)
        try:
            data = UserCreate(
                username=username,
                full_name=full_name,
                title=title,
                password=password,
                role=role,
                unit_id=unit_row.id,
            )
            user = directory.create_user(session, None, data)
        except AppError as error:
            _fail(error)
        except ValueError as error:
            console.print(f"[red]error validation_error:[/] {error}")
            raise typer.Exit(2) from error
    console.print(f"user {user.username} ({user.role.value}) created")


@app.command("import")
def import_projects(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    update: Annotated[bool, typer.Option(help="Update projects whose code already exists.")] = False,
    as_user: Annotated[
        str, typer.Option("--as", help="Admin account recorded in the audit trail.")
    ] = "admin",
) -> None:
    """Import projects from GeoJSON (.geojson/.json) or CSV (.csv), all or nothing."""
    from gis_data.project_table import TableProblem, csv_to_features, decode_table
    from server.services import projects as project_service

    data = path.read_bytes()
    try:
        if path.suffix.lower() == ".csv":
            collection = {"type": "FeatureCollection", "features": csv_to_features(decode_table(data))}
        else:
            collection = json.loads(data.decode("utf-8-sig"))
    except TableProblem as problem:
        console.print(f"[red]error {problem.code}:[/] {path}: {problem.message}")
        raise typer.Exit(1) from problem
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        console.print(f"[red]error malformed_json:[/] {path}: {exc}")
        raise typer.Exit(1) from exc
    settings = Settings()
    with _session(settings) as (_url, session):
        actor = _actor(session, as_user)
        total = len(collection.get("features") or []) if isinstance(collection, dict) else 0
        try:
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task(f"Importing {path.name}", total=total)
                report = project_service.import_feature_collection(
                    session,
                    actor,
                    collection,
                    update_existing=update,
                    progress=lambda done: progress.update(task, completed=done),
                )
        except AppError as error:
            _fail(error)
    console.print(f"imported {path}: {report.created} created, {report.updated} updated")


@app.command("export")
def export_projects(
    path: Annotated[Path, typer.Argument(dir_okay=False, help="Output file; '-' for standard output.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="geojson or csv (default: from the suffix)")
    ] = None,
    as_user: Annotated[str, typer.Option("--as", help="Account whose view is exported.")] = "admin",
) -> None:
    """Export the project list as GeoJSON or CSV."""
    from gis_data.project_table import features_to_csv
    from server.repositories.projects import ProjectFilter
    from server.services import projects as project_service

    kind = (fmt or ("csv" if path.suffix.lower() == ".csv" else "geojson")).lower()
    if kind not in {"geojson", "csv"}:
        console.print("[red]error bad_format:[/] --format must be geojson or csv")
        raise typer.Exit(2)
    settings = Settings()
    with _session(settings) as (_url, session):
        collection = project_service.export_feature_collection(
            session, _actor(session, as_user), ProjectFilter()
        )
    if kind == "csv":
        payload = features_to_csv(collection["features"]).encode("utf-8-sig")
    else:
        payload = json.dumps(collection, ensure_ascii=False, indent=1).encode("utf-8")
    if str(path) == "-":
        sys.stdout.buffer.write(payload)
    else:
        path.write_bytes(payload)
        console.print(f"exported {len(collection['features'])} projects to {path}")


@photo_app.command("sweep")
def photo_sweep(
    older_than_hours: Annotated[float, typer.Option(help="Only files older than this are swept.")] = 24.0,
) -> None:
    """Delete stored photo files that no record points at (left by a crash before commit)."""
    from server.services import evidence
    from server.storage import open_blob_store

    settings = Settings()
    with _session(settings) as (_url, session):
        result = evidence.sweep_orphans(
            session, open_blob_store(settings), older_than_s=older_than_hours * 3600
        )
    console.print(f"swept {result}")


@land_app.command("import-plan")
def land_import_plan(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    name: Annotated[str, typer.Option(help="Name of the plan edition, e.g. 2024年国土空间规划（批复版）.")],
    kind: Annotated[
        str | None, typer.Option(help="farmland, redline, urban_boundary or landuse (default: from names)")
    ] = None,
    as_user: Annotated[str, typer.Option("--as", help="Land-bureau account in the audit trail.")] = "land",
) -> None:
    """Import plan layers (GeoJSON, GeoPackage, zipped Shapefile) as a new edition; re-checks open parcels."""
    from server.services import land as land_service

    specs = [land_service.PlanFileSpec(path=f, display_name=f.name, kind=kind) for f in files]
    with _session(Settings()) as (_url, session):
        try:
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("Importing plan layers", total=len(specs))
                edition = land_service.import_plan_edition(
                    session,
                    _actor(session, as_user),
                    name=name,
                    files=specs,
                    progress=lambda done, total: progress.update(task, completed=done, total=total),
                )
        except AppError as error:
            _fail(error)
    console.print(f"plan edition {edition.id} imported: {json.dumps(edition.report, ensure_ascii=False)}")


@land_app.command("import-parcels")
def land_import_parcels(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    project: Annotated[str, typer.Option(help="National project code of the project.")],
    year: Annotated[int, typer.Option(help="Year the land is needed for.")],
    stock: Annotated[bool, typer.Option(help="Existing (stock) construction land.")] = False,
    as_user: Annotated[str, typer.Option("--as", help="Account recorded in the audit trail.")] = "land",
) -> None:
    """Add a project's land-demand parcels from a boundary TXT, GeoJSON, GeoPackage or zipped Shapefile."""
    from server.repositories import projects as projects_repo
    from server.services import land as land_service

    with _session(Settings()) as (_url, session):
        row = projects_repo.project_by_code(session, project)
        if row is None:
            console.print(f"[red]error project_not_found:[/] no project with code {project}")
            raise typer.Exit(2)
        try:
            result = land_service.import_parcels(
                session,
                _actor(session, as_user),
                project_id=row.id,
                year=year,
                filename=path.name,
                data=path.read_bytes(),
                construction_land="stock" if stock else "new",
            )
        except AppError as error:
            _fail(error)
    for warning in result.warnings:
        console.print(f"[yellow]warning {warning['code']}:[/] {warning['message']}")
    for parcel in result.created:
        verdict = parcel.check.verdict if parcel.check else "unchecked"
        console.print(
            f"parcel {parcel.parcel_code}: {parcel.area_m2:.2f} m2, {parcel.area_mu:.2f} mu -> {verdict}"
        )


@land_app.command("check")
def land_check(
    year: Annotated[int, typer.Option(help="Check every parcel of this year's list.")],
    sliver: Annotated[float, typer.Option(help="Overlaps below this many m2 are slivers.")] = 1.0,
    report: Annotated[
        Path | None, typer.Option(help="Write the .xlsx report here (and .geojson beside).")
    ] = None,
    as_user: Annotated[str, typer.Option("--as", help="Land-bureau account in the audit trail.")] = "land",
) -> None:
    """Check a year's land-demand list against the newest plan edition, with a progress bar."""
    from server.land_rules import LandCheckRules
    from server.services import land as land_service

    with _session(Settings()) as (_url, session):
        actor = _actor(session, as_user)
        try:
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task(f"Checking {year} parcels", total=None)
                results = land_service.check_parcels(
                    session,
                    actor,
                    year=year,
                    rules=LandCheckRules(sliver_m2=sliver),
                    progress=lambda done, total: progress.update(task, completed=done, total=total),
                )
            if report is not None:
                workbook, pieces = land_service.year_report(session, actor, year=year)
                report.write_bytes(workbook)
                report.with_suffix(".geojson").write_text(
                    json.dumps(pieces, ensure_ascii=False), encoding="utf-8"
                )
        except AppError as error:
            _fail(error)
    counts: dict[str, int] = {}
    for parcel in results:
        verdict = parcel.check.verdict if parcel.check else "unchecked"
        counts[verdict] = counts.get(verdict, 0) + 1
        print(
            json.dumps(
                {
                    "parcel": parcel.parcel_code,
                    "project": parcel.project_code,
                    "verdict": verdict,
                    "reasons": [r["code"] for r in parcel.check.reasons] if parcel.check else [],
                },
                ensure_ascii=False,
            )
        )
    console.print(f"{len(results)} parcels checked: {counts}")


@land_app.command("export-txt")
def land_export_txt(
    path: Annotated[Path, typer.Argument(dir_okay=False)],
    year: Annotated[int, typer.Option(help="Year of the parcels.")],
    as_user: Annotated[str, typer.Option("--as", help="Account whose view is exported.")] = "land",
) -> None:
    """Write the year's parcels as a boundary-point TXT (GBK, CRLF) for submission."""
    from server.services import land as land_service

    with _session(Settings()) as (_url, session):
        try:
            data = land_service.export_parcels_txt(session, _actor(session, as_user), year=year)
        except AppError as error:
            _fail(error)
    path.write_bytes(data)
    console.print(f"wrote {path}")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate the database up (default: to head)."""
    with database_url(Settings()) as url:
        migrate.upgrade(url, revision)
    console.print(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")]) -> None:
    """Migrate the database down."""
    with database_url(Settings()) as url:
        migrate.downgrade(url, revision)
    console.print(f"database at {revision}")


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision."""
    with database_url(Settings()) as url:
        migrate.current(url)


def main() -> None:
    """Console-script entry point."""
    logging.basicConfig(
        level=os.environ.get("SITEWATCH_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # pyogrio logs every file it writes at INFO ("Created 445 records"): not news to an operator.
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    app()


if __name__ == "__main__":
    main()
