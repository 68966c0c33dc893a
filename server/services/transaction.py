"""The unit of work every service runs in: commit at the end, roll back whole on any failure."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from server.errors import translate_db_error


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """Commit on success; on failure roll back everything and translate database errors once."""
    try:
        yield session
        session.commit()
    except DBAPIError as exc:
        session.rollback()
        translated = translate_db_error(exc)
        if translated is not None:
            raise translated from exc
        raise
    except BaseException:
        session.rollback()
        raise
