"""The `events` table: who did what to a ticket, when, and why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from maildesk import metrics
from maildesk.store import sql
from maildesk.store.db import Session

_e = sql.events
_INSERT = insert(_e)
#: Event kinds a requester may read about in the closing notice (never internal notes).
PUBLIC_ACTIONS = ("status", "priority", "category")


@dataclass(frozen=True)
class EventRow:
    """One event to write."""

    ticket_id: int
    at: datetime
    actor: str
    kind: str
    reason: str
    detail: Mapping[str, Any]


def add(session: Session, rows: Sequence[EventRow]) -> None:
    """Write `rows` (one executemany) and count them by kind."""
    if not rows:
        return
    for row in rows:
        metrics.count_event(row.kind)
    session.connection().execute(_INSERT, [
        {"ticket_id": r.ticket_id, "at": r.at, "actor": r.actor, "kind": r.kind, "reason": r.reason,
         "detail": dict(r.detail)} for r in rows])


def has_kind(session: Session, ticket_id: int, kind: str) -> bool:
    """Whether the ticket has an event of `kind`."""
    found = session.connection().execute(select(_e.c.id).where(_e.c.ticket_id == ticket_id, _e.c.kind == kind)
                                         .limit(1)).first()
    return found is not None


def move(session: Session, source: int, target: int) -> int:
    """Put the events of ticket `source` on ticket `target` (a merge); how many moved."""
    done = session.connection().execute(update(_e).where(_e.c.ticket_id == source).values(ticket_id=target))
    return int(done.rowcount or 0)


def of_ticket(session: Session, ticket_id: int) -> list[dict[str, Any]]:
    """A ticket's events, oldest first, each as {"at", "actor", "kind", "reason", **detail}."""
    rows = session.connection().execute(select(_e.c.at, _e.c.actor, _e.c.kind, _e.c.reason, _e.c.detail)
                                        .where(_e.c.ticket_id == ticket_id).order_by(_e.c.id))
    return [{"at": at.isoformat(), "actor": actor, "kind": kind, "reason": reason, **detail}
            for at, actor, kind, reason, detail in rows]


def public_actions(session: Session, ticket_ids: Sequence[int]) -> list[tuple[int, datetime, str, str,
                                                                              dict[str, Any]]]:
    """Status, priority and category changes on these tickets, oldest first:
    (ticket, at, actor, kind, detail)."""
    rows = session.connection().execute(
        select(_e.c.ticket_id, _e.c.at, _e.c.actor, _e.c.kind, _e.c.detail)
        .where(_e.c.ticket_id.in_(list(ticket_ids)), _e.c.kind.in_(PUBLIC_ACTIONS)).order_by(_e.c.at,
                                                                                             _e.c.id))
    return [(t, at, actor, kind, detail) for t, at, actor, kind, detail in rows]
