"""Engine and session factory, built on demand from settings (never at import time)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create the SQLAlchemy engine for a PostgreSQL URL."""
    # JIT off: PostGIS functions carry high planner costs, so spatial queries cross jit_above_cost and
    # would spend up to seconds compiling queries that run in milliseconds.
    return create_engine(
        url, echo=echo, pool_pre_ping=True, future=True, connect_args={"options": "-c jit=off"}
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Create the session factory used by requests, the CLI and tests."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
