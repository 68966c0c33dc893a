"""Engine and session factory, built on demand from settings (never at import time)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

from gis_data.crs import STORAGE_SRID

logger = logging.getLogger(__name__)

#: Connections an engine keeps open between requests (SQLAlchemy's default is 5), and how many more
#: it may open for a burst (closed again once returned).
POOL_SIZE = 5
POOL_OVERFLOW = 10
#: Loads PostGIS into a new backend (its library, the SRID's definition): the first spatial call of a
#: connection otherwise pays it, ~25 ms of the database's CPU.
_WARM_STATEMENT = text(
    "SELECT ST_Distance(ST_SetSRID(ST_MakePoint(106.1, 34.7), :srid)::geography,"
    " ST_SetSRID(ST_MakePoint(106.2, 34.8), :srid)::geography)"
).bindparams(srid=STORAGE_SRID)


def make_engine(url: str, *, echo: bool = False, pool_size: int = POOL_SIZE) -> Engine:
    """Create the SQLAlchemy engine for a PostgreSQL URL, keeping up to ``pool_size`` connections open."""
    # JIT off: PostGIS functions carry high planner costs, so spatial queries cross jit_above_cost and
    # would spend up to seconds compiling queries that run in milliseconds.
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=POOL_OVERFLOW,
        future=True,
        connect_args={"options": "-c jit=off"},
    )


def open_pool(engine: Engine, connections: int) -> None:
    """Open ``connections`` of the engine's pooled connections now, PostGIS loaded in each (blocking).

    A burst of requests on a cold pool starts that many backends at once, each spending ~25 ms of CPU
    on start-up and loading PostGIS, all in the same few milliseconds: on a small machine the server's
    event loop then waits for a CPU (stalls of 20-30 ms at 8 photo uploads).  Opened at start-up, they
    stay in the pool (up to its size) and requests find them ready.
    """
    held = []
    try:
        for _ in range(connections):
            connection = engine.connect()
            held.append(connection)
            connection.execute(_WARM_STATEMENT)
            connection.rollback()
    except DBAPIError as exc:  # the database is down or refuses: requests will connect (and say so) later
        logger.warning("could not open the connection pool at start-up: %s", exc)
    finally:
        for connection in held:
            connection.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Create the session factory used by requests, the CLI and tests."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def make_async_engine(url: str) -> AsyncEngine:
    """An asyncio engine (asyncpg) on the same database, for the few paths served on the event loop.

    No pre-ping: its callers fall back to the synchronous path on any error, and a connection that
    turns out to be broken is discarded by the pool.
    """
    async_url = make_url(url).set(drivername="postgresql+asyncpg")
    return create_async_engine(
        async_url, pool_size=5, max_overflow=5, connect_args={"server_settings": {"jit": "off"}}
    )


def asyncpg_connect_kwargs(url: str) -> dict[str, Any]:
    """``asyncpg.connect`` arguments for a SQLAlchemy PostgreSQL URL (a unix socket as ``?host=``)."""
    parsed = make_url(url)
    query = dict(parsed.query)
    host = query.get("host", parsed.host)
    port = query.get("port", parsed.port)
    return {
        "host": str(host) if host else None,
        "port": int(str(port)) if port else None,
        "user": parsed.username,
        "password": parsed.password,
        "database": parsed.database,
        "server_settings": {"jit": "off"},
    }


class LookupChannel:
    """One asyncpg connection for single-statement lookups on the event loop, used one at a time.

    The tile fast path runs one tiny read-only statement per request; a pool's acquire/release
    bookkeeping would cost more than the statement (0.23 against 0.10 ms here). Statements are prepared
    once (asyncpg's statement cache). A broken connection is dropped and the next call reconnects; the
    caller falls back to the synchronous path meanwhile.
    """

    def __init__(self, url: str):
        self._connect_kwargs = asyncpg_connect_kwargs(url)
        self._connection: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()

    async def fetchrow(self, sql: str, *args: object) -> asyncpg.Record | None:
        """Run one statement and return its first row."""
        async with self._lock:
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(**self._connect_kwargs)
            try:
                return await self._connection.fetchrow(sql, *args)
            except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError):
                await self._drop()
                raise

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.terminate()

    async def close(self) -> None:
        """Close the connection (if open)."""
        async with self._lock:
            connection, self._connection = self._connection, None
            if connection is not None:
                await connection.close()
