"""What the table modules of the store share: Core handles on the tables and statement builders.

The store talks to the connection with Core statements, built once with bind parameters: the ORM
session costs about 0.25 ms of CPU per statement and building a statement several times what running
it costs (docs/performance.md). The ORM models only declare the schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, Update, bindparam, func, select, update
from sqlalchemy.orm import Session

from maildesk.store import models
from maildesk.store.dates import aware

agents = cast(Table, models.Agent.__table__)
attachments = cast(Table, models.Attachment.__table__)
audit = cast(Table, models.Audit.__table__)
contacts = cast(Table, models.Contact.__table__)
events = cast(Table, models.Event.__table__)
inbound = cast(Table, models.Inbound.__table__)
kv = cast(Table, models.KeyValue.__table__)
messages = cast(Table, models.Message.__table__)
outbox = cast(Table, models.Outbox.__table__)
outbox_recipients = cast(Table, models.OutboxRecipient.__table__)
participants = cast(Table, models.Participant.__table__)
third_parties = cast(Table, models.ThirdParty.__table__)
tickets = cast(Table, models.Ticket.__table__)
undeliverable = cast(Table, models.Undeliverable.__table__)

_NEW_ONLY: dict[tuple[str, str, bool], Any] = {}
_UPDATES: dict[tuple[str, tuple[str, ...]], Update] = {}


def insert_new_only(dialect: str, table: Table, unique: Sequence[str], returning: Any = None) -> Any:
    """INSERT … ON CONFLICT (`unique`) DO NOTHING [RETURNING `returning`] for `dialect`, built once."""
    key = (dialect, table.name, returning is not None)
    stmt = _NEW_ONLY.get(key)
    if stmt is None:
        # Here, not at the top: the PostgreSQL dialect costs 25 ms of imports a read never needs.
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt = sqlite_insert(table).on_conflict_do_nothing(index_elements=list(unique))
        else:
            from sqlalchemy.dialects.postgresql import insert as postgresql_insert

            stmt = postgresql_insert(table).on_conflict_do_nothing(index_elements=list(unique))
        _NEW_ONLY[key] = stmt = stmt.returning(returning) if returning is not None else stmt
    return stmt


def insert_ignoring_duplicates(session: Session, table: Table, values: dict[str, Any],
                               unique: Sequence[str]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL; True when a row was added.

    Losing a race with another worker that inserts the same row is then not an error that would
    undo the rest of this transaction."""
    conn = session.connection()
    stmt = insert_new_only(conn.dialect.name, table, unique)
    return bool(getattr(conn.execute(stmt, values), "rowcount", 0) == 1)


def update_by_id(table: Table, names: tuple[str, ...]) -> Update:
    """UPDATE `table` SET `names` WHERE id = :v_id, built once per set of columns.

    Bound names differ from the column names: SQLAlchemy reserves those for the SET clause, so the
    values go in as ``v_<name>``."""
    key = (table.name, names)
    stmt = _UPDATES.get(key)
    if stmt is None:
        stmt = _UPDATES[key] = (update(table).where(table.c.id == bindparam("v_id"))
                                .values({name: bindparam(f"v_{name}") for name in names}))
    return stmt


@dataclass(frozen=True)
class Backlog:
    """Rows waiting, the oldest of them, and how many are overdue (stuck)."""

    waiting: int
    oldest: datetime | None
    stuck: int


def backlog(session: Session, table: Table, state: str, since: str, overdue: str,
            stuck_before: datetime) -> Backlog:
    """Rows of `table` in `state`: how many, the earliest `since`, and how many have `overdue` at or
    before `stuck_before`."""
    conn = session.connection()
    waiting = table.c.state == state
    count, oldest = conn.execute(select(func.count(), func.min(table.c[since])).where(waiting)).one()
    stuck = conn.execute(select(func.count()).where(waiting, table.c[overdue] <= stuck_before)).scalar()
    return Backlog(int(count), aware(oldest), int(stuck or 0))


def count_in(session: Session, table: Table, state: str) -> int:
    """Rows of `table` in `state`."""
    return int(session.connection().execute(select(func.count()).where(table.c.state == state)).scalar() or 0)


def claim_rows(session: Session, query: Select[Any], of: Any = None) -> list[Any]:
    """The rows of `query`, locked until this transaction ends; rows another transaction holds are
    skipped, so concurrent sweeps on several machines never act on the same row twice.

    PostgreSQL: FOR UPDATE SKIP LOCKED (`of` names the table to lock when the query joins).
    SQLite renders no FOR UPDATE: there a write transaction (BEGIN IMMEDIATE) already excludes all others.
    """
    return list(session.scalars(query.with_for_update(skip_locked=True, of=of)))
