"""The application factory: ``create_app(settings)`` builds everything in its lifespan, nothing at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from mobile_api.router import router as mobile_router
from server.api import auth, directory, land, maps, projects, supervision, tile_fast_path, tiles
from server.api.deps import SessionDep
from server.body_limit import BodySizeLimit
from server.db.notify import AUTH_CHANNEL, TILES_CHANNEL, Listener
from server.db.runtime import database_url
from server.db.session import LookupChannel, make_async_engine, make_engine, make_sessionmaker, open_pool
from server.errors import install_error_handlers
from server.services.tiles import TileFreshness, TileMemory
from server.settings import Settings
from server.storage import open_blob_store

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent / "web"
API_PREFIX = "/api/v1"


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health")
    def health(session: SessionDep) -> dict[str, str]:
        """Liveness and database reachability (no login needed)."""
        postgis = session.execute(text("SELECT postgis_lib_version()")).scalar_one()
        return {"status": "ok", "postgis": str(postgis)}

    return router


def _listen_for_tile_changes(url: str, freshness: TileFreshness) -> Listener:
    return Listener(
        url,
        {TILES_CHANNEL: freshness.version_notified, AUTH_CHANNEL: freshness.logins_notified},
        on_up=freshness.start_listening,
        on_down=freshness.stop_listening,
    )


def create_app(
    settings: Settings | None = None, *, session_factory: sessionmaker[Session] | None = None
) -> FastAPI:
    """Build the Sitewatch app; tests pass their own ``session_factory``."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as stack:
            engine: Engine | None = None
            listener: Listener | None = None
            if session_factory is None:
                url = stack.enter_context(database_url(settings))
                engine = make_engine(url, pool_size=settings.db_pool_size)
                await run_in_threadpool(open_pool, engine, settings.db_pool_size)
                app.state.sessionmaker = make_sessionmaker(engine)
                # Tests passing their own session_factory (one rolled-back transaction) get no fast
                # path: it would read the database through other connections.
                if settings.tile_fast_path:
                    app.state.async_engine = make_async_engine(url)
                    app.state.tile_lookup = LookupChannel(url)
                    listener = app.state.tile_listener = _listen_for_tile_changes(
                        url, app.state.tile_freshness
                    )
                    await listener.start()
                    # This process's own writes show in its very next tile (others' by notification).
                    for each in (engine, app.state.async_engine.sync_engine):
                        event.listen(each, "commit", lambda _conn: app.state.tile_freshness.forget())
            try:
                yield
            finally:
                if listener is not None:
                    await listener.stop()
                if app.state.tile_lookup is not None:
                    await app.state.tile_lookup.close()
                if app.state.async_engine is not None:
                    await app.state.async_engine.dispose()
                if engine is not None:
                    engine.dispose()

    app = FastAPIOffline(
        telemetry=None if settings.opentelemetry else {"tracing": False, "metrics": False, "logs": False},
        title="Sitewatch 重点项目监管",
        version="0.1.0",
        description="清水县重点建设项目监管：项目清单、用地、督查与进度地图的 API。",
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=f"{API_PREFIX}/docs/oauth2-redirect",
    )
    app.state.settings = settings
    app.state.blob_store = open_blob_store(settings)
    if session_factory is not None:
        app.state.sessionmaker = session_factory
    app.state.async_engine = None
    app.state.tile_lookup = None
    app.state.tile_memory = TileMemory()
    app.state.tile_freshness = TileFreshness()
    app.state.tile_listener = None
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        prefix_limits={
            "/mobile/": settings.max_mobile_request_bytes,
            f"{API_PREFIX}/land/editions": settings.max_upload_bytes,
            f"{API_PREFIX}/land/parcels/import": settings.max_upload_bytes,
        },
    )

    # Plain tile requests are answered before the whole middleware stack (error pages, telemetry, body
    # limits): Starlette builds the stack on the first request with this method, wrapped here.
    build_stack = app.build_middleware_stack
    app.build_middleware_stack = lambda: tile_fast_path.TileFastPath(build_stack(), app)  # type: ignore[method-assign]

    api = APIRouter(prefix=API_PREFIX)
    api.include_router(_health_router())
    api.include_router(auth.router)
    api.include_router(projects.router)
    api.include_router(directory.router)
    api.include_router(land.router)
    api.include_router(supervision.router)
    api.include_router(tiles.router)
    api.include_router(maps.router)
    app.include_router(api)
    app.include_router(mobile_router)
    app.include_router(maps.pages)

    @app.api_route("/static/sw.js", methods=["GET", "HEAD"], include_in_schema=False)
    def service_worker() -> FileResponse:
        """The phone page's service worker, allowed to control /m so the page reloads offline."""
        return FileResponse(
            WEB_DIR / "static" / "sw.js",
            media_type="text/javascript",
            headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
        )

    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/m", include_in_schema=False)
    def phone_page() -> FileResponse:
        """The inspectors' phone page (offline queue, camera, receipts)."""
        return FileResponse(
            WEB_DIR / "mobile.html",
            media_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    return app
