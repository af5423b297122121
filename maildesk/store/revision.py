"""The schema revision this version of maildesk needs, and the check every process makes at start
that the database is at it, without Alembic.

Alembic finds the newest revision by importing every migration script: about 0.3 s of imports that
every command paid before it read a row. `maildesk init` still upgrades through Alembic
(`store.migrate`); a test checks that HEAD is the revision Alembic's scripts end at.
"""

from __future__ import annotations

from sqlalchemy import text

from maildesk.errors import StoreError
from maildesk.store.db import Database, translated

#: The newest migration in store/migrations/versions (a test holds the two together).
HEAD = "0012_report_covering"
_VERSION_TABLE = "alembic_version"


def current(db: Database) -> str | None:
    """The revision the database is at; None when `maildesk init` never ran on it."""
    with translated(), db.engine.connect() as conn:
        if not db.engine.dialect.has_table(conn, _VERSION_TABLE):
            return None
        return conn.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalar()


def check(db: Database) -> None:
    """StoreError, saying what to run, unless the database is at HEAD."""
    found = current(db)
    if found != HEAD:
        raise StoreError(f"database schema is at {found or 'nothing'}, this version needs {HEAD}: "
                         "run `maildesk init`")


def open_current(url: str) -> Database:
    """The database at `url`, its schema checked (StoreError when it is not current)."""
    db = Database(url)
    try:
        check(db)
    except BaseException:
        db.dispose()
        raise
    return db
