"""The `tickets` table: rows in and out as TicketState values, written with Core only.

Only maildesk.tickets.apply writes through `insert_new` and `save_many` (one UPDATE of the
columns that changed); everything else reads.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select

from maildesk.domain.ticket import TicketState
from maildesk.store import sql
from maildesk.store.db import Session

_t = sql.tickets
COLUMNS = tuple(f.name for f in fields(TicketState))
_WRITTEN = tuple(name for name in COLUMNS if name != "id")
_SELECT = select(*(_t.c[name] for name in COLUMNS))
_BY_ID = _SELECT.where(_t.c.id == bindparam("ticket_id"))
_BY_ID_LOCKED = _BY_ID.with_for_update()
_INSERT = insert(_t).returning(_t.c.id)


def _state(row: Sequence[Any]) -> TicketState:
    values = dict(zip(COLUMNS, row, strict=True))
    values["tags"] = tuple(values["tags"] or ())
    return TicketState(**values)


def _column(name: str, value: Any) -> Any:
    return list(value) if name == "tags" else value


def load(session: Session, ticket_id: int, lock: bool = False) -> TicketState | None:
    """Ticket `ticket_id`, or None. With `lock` the row stays locked until the transaction ends, so
    two mails for one ticket processed at once by different workers act one after the other
    (PostgreSQL; SQLite's write transaction excludes all others anyway)."""
    row = session.connection().execute(_BY_ID_LOCKED if lock else _BY_ID, {"ticket_id": ticket_id}).first()
    return None if row is None else _state(row)


def insert_new(session: Session, ticket: TicketState) -> int:
    """Write a new, fully set ticket with one INSERT; return its id."""
    values = {name: _column(name, getattr(ticket, name)) for name in _WRITTEN}
    return int(session.connection().execute(_INSERT, values).scalar_one())


def changed_columns(old: TicketState, new: TicketState) -> dict[str, Any]:
    """The columns whose values differ between two states of one ticket."""
    return {name: getattr(new, name) for name in _WRITTEN if getattr(new, name) != getattr(old, name)}


def save_many(session: Session, pairs: Sequence[tuple[TicketState, TicketState]]) -> None:
    """`save` for many tickets: one executemany UPDATE per set of changed columns (a sweep batch has a
    handful of such sets: closed, reminded, escalated, …)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for old, new in pairs:
        changed = changed_columns(old, new)
        if changed:
            groups.setdefault(tuple(changed), []).append(
                {"v_id": new.id} | {f"v_{name}": _column(name, value) for name, value in changed.items()})
    for names, rows in groups.items():
        session.connection().execute(sql.update_by_id(_t, names), rows)


def due(session: Session, now: datetime, limit: int, skip: Collection[int] = (),
        lock: bool = True) -> list[TicketState]:
    """Tickets whose next check is due, earliest first, read through ix_tickets_next_check.

    With `lock` the rows are claimed for this transaction; on PostgreSQL rows another sweep holds
    are skipped (SKIP LOCKED), on SQLite the write transaction itself is the claim.
    """
    query = _SELECT.where(_t.c.next_check_at <= now)
    if skip:
        query = query.where(_t.c.id.not_in(list(skip)))
    query = query.order_by(_t.c.next_check_at).limit(limit)
    if lock:
        query = query.with_for_update(skip_locked=True)
    return [_state(row) for row in session.connection().execute(query)]


@dataclass(frozen=True)
class OwnTicket:
    """One line of a requester's status list."""

    id: int
    subject: str
    status: str
    updated_at: datetime
    queue: str = ""


def requested_by(session: Session, email: str, statuses: Sequence[str], since: datetime | None,
                 limit: int) -> list[OwnTicket]:
    """Tickets whose *requester* is `email` (not those it was only copied on), newest change first.

    Spam-flagged tickets are left out: they were never acknowledged as requests."""
    c = sql.contacts
    query = (select(_t.c.id, _t.c.subject, _t.c.status, _t.c.updated_at, _t.c.queue)
             .join(c, c.c.id == _t.c.requester_id)
             .where(c.c.email == email.lower(), _t.c.status.in_(list(statuses)), _t.c.spam.is_(False))
             .order_by(_t.c.updated_at.desc(), _t.c.id.desc()).limit(limit))
    if since is not None:
        query = query.where(_t.c.updated_at >= since)
    return [OwnTicket(*row) for row in session.connection().execute(query)]


def language_of(session: Session, ticket_id: int) -> str | None:
    """The language ticket `ticket_id` is answered in, if there is such a ticket."""
    return session.connection().execute(select(_t.c.language).where(_t.c.id == ticket_id)).scalar()
