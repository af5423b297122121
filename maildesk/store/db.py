"""Engines and transactions, with the SQLite settings a mail store needs.

SQLite runs in WAL mode so readers never block the writer, with
``synchronous=NORMAL`` (durable across process crashes, which is what a
killed daemon is) and every transaction opened with ``BEGIN IMMEDIATE``:
the default deferred transaction upgrades its lock on the first write and
then fails at once with "database is locked" instead of waiting its turn.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from maildesk.errors import StoreError, StoreUnavailable

__all__ = ["Database", "Session", "make_engine"]

log = logging.getLogger(__name__)

SQLITE_BUSY_MS = 30_000


def make_engine(url: str) -> Engine:
    """An engine for `url`; for SQLite, creates the directory and sets the pragmas above."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": SQLITE_BUSY_MS / 1000,
                                                                  "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module so BEGIN IMMEDIATE below is ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """An engine with a session factory; `transaction()` is the unit of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        """Whether this is the embedded SQLite store."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits on a clean exit and rolls back on error.

        Database failures leave as StoreUnavailable (connection lost, locked:
        worth retrying) or StoreError, so callers never see SQLAlchemy types.
        """
        session = self._sessions()
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise StoreUnavailable(f"database unavailable: {exc.orig}") from exc
        except DBAPIError as exc:
            session.rollback()
            if exc.connection_invalidated:
                raise StoreUnavailable(f"database connection lost: {exc.orig}") from exc
            raise StoreError(f"database error: {exc.orig}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        """Close pooled connections (before exit or fork)."""
        self.engine.dispose()
