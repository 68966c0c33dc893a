"""Which database to use: the configured server, or the embedded cluster started on demand."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from server.db.embedded import EmbeddedPostgres
from server.settings import Settings

logger = logging.getLogger(__name__)


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield the database URL; with none configured, run the embedded cluster for the duration."""
    if settings.database_url:
        yield settings.database_url
        return
    cluster = EmbeddedPostgres(settings.pgdata)
    url = cluster.ensure_started()
    logger.info("embedded PostgreSQL + PostGIS in %s", settings.pgdata)
    try:
        yield url
    finally:
        cluster.stop()
