"""Engines and transactions, with the SQLite settings a mail store needs.

SQLite runs in WAL mode so readers never block the writer, with
``synchronous=NORMAL`` (durable across process crashes, which is what a
killed daemon is) except for transactions opened with ``durable=True``: those
run with ``synchronous=FULL`` so their commit is on disk before it returns, as
a 250 after DATA promises (RFC 5321 4.1.1.4; RELIABILITY.md D1). Every
transaction is opened with ``BEGIN IMMEDIATE``:
the default deferred transaction upgrades its lock on the first write and
then fails at once with "database is locked" instead of waiting its turn.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from maildesk.errors import StoreError, StoreUnavailable

__all__ = ["Database", "Session", "make_engine", "sqlite_file", "translated"]

log = logging.getLogger(__name__)

SQLITE_BUSY_MS = 30_000
SQLITE_SORT_THREADS = 2
READ_ONLY = "maildesk_read_only"
DURABLE = "maildesk_durable"


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite `url`; None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def make_engine(url: str) -> Engine:
    """An engine for `url`; for SQLite, creates the directory and sets the pragmas above."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # A pool of open connections: closing the last connection to a WAL database checkpoints it,
    # which would otherwise happen after every transaction.
    engine = create_engine(url, pool_size=8, max_overflow=8,
                           connect_args={"timeout": SQLITE_BUSY_MS / 1000, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, record: Any) -> None:
    # Take transaction control away from the sqlite3 module so BEGIN IMMEDIATE below is ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    # Sorts too large for memory (the report's GROUP BYs over a period of a million tickets) merge
    # on a second core (docs/performance.md: that report 16 s → 13 s); small sorts start no thread.
    cursor.execute(f"PRAGMA threads={SQLITE_SORT_THREADS}")
    cursor.close()
    record.info["synchronous"] = "NORMAL"


def _sqlite_on_begin(conn: Any) -> None:
    # Readers take no write lock: in WAL mode they see the last commit and never wait.
    # Straight to the driver: this runs for every transaction, and SQLAlchemy's statement
    # machinery would cost more than the work itself.
    options = conn.get_execution_options()
    reading = options.get(READ_ONLY, False)
    driver = conn.connection.dbapi_connection
    if not reading:
        # Per transaction on a pooled connection: set both ways so FULL never leaks into the next
        # one; the level last set is remembered on the connection so an unchanged one costs nothing.
        level = "FULL" if options.get(DURABLE) else "NORMAL"
        info = conn.connection.info
        if info.get("synchronous") != level:
            _run(driver, f"PRAGMA synchronous={level}")
            info["synchronous"] = level
    _run(driver, "BEGIN" if reading else "BEGIN IMMEDIATE")


def _run(driver: sqlite3.Connection, sql: str) -> None:
    try:
        driver.execute(sql)
    except sqlite3.Error as exc:  # as SQLAlchemy would have wrapped it, so `translated` sees it
        raise OperationalError(sql, None, exc) from exc


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise database failures as ours: StoreUnavailable when retrying may help, else StoreError."""
    try:
        yield
    except OperationalError as exc:
        raise StoreUnavailable(f"database unavailable: {exc.orig}") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StoreUnavailable(f"database connection lost: {exc.orig}") from exc
        raise StoreError(f"database error: {exc.orig}") from exc
    except OSError as exc:  # SQLite's directory cannot be created, a socket path is wrong...
        raise StoreUnavailable(f"database unavailable: {exc}") from exc


class WriterLock:
    """The SQLite writer's turn, for the threads of this process and for other processes.

    A thread lock orders this process's threads; an flock on a file beside the database orders
    processes (`serve` and its pipeline process, the CLI). The kernel drops the flocks when a
    process dies, even by SIGKILL, so a crash never leaves the store locked.

    flock hands the lock to no one in particular, and a process that releases it and asks again at
    once usually wins. So a second flock, the turnstile, lets `priority` writers (the durable
    intake commits a 250 waits for) go first: such a writer holds the turnstile while it waits,
    and every other writer passes through the turnstile before it queues for the lock itself.
    """

    def __init__(self, database: str | None) -> None:
        self._threads = threading.Lock()
        on_disk = bool(database) and database != ":memory:"
        self._paths = (f"{database}-writer.lock", f"{database}-turnstile.lock") if on_disk else None
        self._fds: tuple[int, int] | None = None  # (writer, turnstile)

    @contextmanager
    def held(self, priority: bool = False) -> Iterator[None]:
        """Hold the writer's turn for the body of the `with`."""
        with self._threads:
            fds = self._files()
            if fds is None:
                yield
                return
            writer, turnstile = fds
            _flock(turnstile, fcntl.LOCK_EX)
            if priority:
                _flock(writer, fcntl.LOCK_EX)
                _flock(turnstile, fcntl.LOCK_UN)
            else:
                _flock(turnstile, fcntl.LOCK_UN)
                _flock(writer, fcntl.LOCK_EX)
            try:
                yield
            finally:
                _flock(writer, fcntl.LOCK_UN)

    def priority_waiting(self) -> bool:
        """Whether a priority writer (another process's intake) is waiting for the lock now: a
        long writer holding it should commit what it has and let that one go first."""
        fds = self._files()
        if fds is None:
            return False
        try:
            fcntl.flock(fds[1], fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        fcntl.flock(fds[1], fcntl.LOCK_UN)
        return False

    def _files(self) -> tuple[int, int] | None:
        if self._paths is None:
            return None
        if self._fds is None:
            try:
                self._fds = (_open(self._paths[0]), _open(self._paths[1]))
            except OSError as exc:
                raise StoreUnavailable(f"database writer lock {self._paths[0]}: {exc}") from exc
        return self._fds


def _open(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


def _flock(fd: int, operation: int) -> None:
    try:
        fcntl.flock(fd, operation)
    except OSError as exc:
        raise StoreUnavailable(f"database writer lock: {exc}") from exc


class Database:
    """An engine with a session factory; `transaction()` is the unit of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        with translated():
            self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._durable = sessionmaker(self.engine.execution_options(**{DURABLE: True}), expire_on_commit=False)
        reader_engine = self.engine.execution_options(**{READ_ONLY: True})
        self._readers = sessionmaker(reader_engine, expire_on_commit=False)
        # SQLite has one writer at a time. Writers queue on a lock instead of SQLite's busy handler,
        # which sleeps in growing steps and wastes most of the time under contention.
        self._write_lock = WriterLock(self.engine.url.database) if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        """Whether this is the embedded SQLite store."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self, durable: bool = False) -> Iterator[Session]:
        """A session that commits on a clean exit and rolls back on error.

        `durable`: on SQLite the commit is fsynced (synchronous=FULL) before this returns; use it
        for what backs a 250 or an IMAP delete. PostgreSQL commits are durable anyway.

        Database failures leave as StoreUnavailable or StoreError (see `translated`),
        so callers never see SQLAlchemy types.
        """
        # PostgreSQL has row locks and many writers: no writer lock there.
        turn: AbstractContextManager[None] = (
            self._write_lock.held(priority=durable) if self._write_lock else nullcontext())
        with turn:
            session = self._durable() if durable else self._sessions()
            try:
                with translated():
                    yield session
                    session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    def writer_waiting(self) -> bool:
        """Whether an urgent writer in another process waits for this one's transaction to end
        (see WriterLock.priority_waiting); always False on PostgreSQL."""
        return self._write_lock is not None and self._write_lock.priority_waiting()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only: it never waits for writers (nor blocks them) on SQLite."""
        session = self._readers()
        try:
            with translated():
                yield session
        finally:
            session.rollback()
            session.close()

    def dispose(self) -> None:
        """Close pooled connections (before exit or fork)."""
        self.engine.dispose()
