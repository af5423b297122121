"""Queries for the SLA and auto-close sweep: due tickets by index, and what was done on a ticket."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, Update, bindparam, select, update
from sqlalchemy.orm import Session

from maildesk.domain import Address
from maildesk.store.models import Agent, Contact, Event, Message, Outbox, Participant, Ticket
from maildesk.store.repo import active_agents_with_ids

#: Event kinds a requester may read about in the closing notice (never internal notes).
PUBLIC_ACTIONS = ("status", "priority", "category")
_tickets = cast(Table, Ticket.__table__)


@dataclass(slots=True)
class DueTicket:
    """The columns of a due ticket the sweep reads and changes, as a plain value.

    Read with Core instead of as ORM objects (no identity map, no change tracking by attribute
    events) and written back by `save_due` with one executemany UPDATE per set of changed columns.
    It has the attributes maildesk.tickets.clock.ClockedTicket names, so the clock reads and updates it
    like a Ticket. `as_read` keeps the SAVED columns as they were read, to tell what changed.
    """

    id: int
    subject: str
    status: str
    priority: str
    category: str
    queue: str
    language: str
    tier: str
    spam: bool
    assignee_id: int | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    close_reason: str
    sla_policy: str
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    waiting_since: datetime | None
    paused_seconds: int
    clock_status: str
    sla_sent: str
    reminders_sent: int
    next_check_at: datetime | None
    as_read: tuple[object, ...] = field(default=(), init=False, repr=False, compare=False)


_DUE_COLUMNS = tuple(f.name for f in fields(DueTicket) if f.name != "as_read")
#: What the sweep may change on a ticket; `save_due` writes those of them that changed.
SAVED = ("status", "updated_at", "closed_at", "close_reason", "sla_policy", "first_response_due",
         "resolution_due", "first_response_at", "resolved_at", "waiting_since", "paused_seconds",
         "clock_status", "sla_sent", "reminders_sent", "next_check_at")
_SAVED_AT = tuple(_DUE_COLUMNS.index(name) for name in SAVED)


def due_tickets(session: Session, now: datetime, limit: int, skip: Collection[int] = (),
                lock: bool = True) -> list[DueTicket]:
    """Tickets whose next check is due, earliest first, read through ix_tickets_next_check.

    With `lock` the rows are claimed for this transaction; on PostgreSQL rows another sweep holds
    are skipped (SKIP LOCKED), on SQLite the write transaction itself is the claim.
    """
    query = select(*(_tickets.c[name] for name in _DUE_COLUMNS)).where(_tickets.c.next_check_at <= now)
    if skip:
        query = query.where(_tickets.c.id.not_in(list(skip)))
    query = query.order_by(_tickets.c.next_check_at).limit(limit)
    if lock:
        query = query.with_for_update(skip_locked=True)
    return [_due(row) for row in session.connection().execute(query)]


def _due(row: Sequence[Any]) -> DueTicket:
    ticket = DueTicket(*row)
    ticket.as_read = tuple(row[i] for i in _SAVED_AT)
    return ticket


def save_due(session: Session, tickets: Sequence[DueTicket]) -> None:
    """Write what changed on `tickets` since `due_tickets` read them: one executemany UPDATE for each
    set of changed columns (a batch has a handful: closed, reminded, escalated, ...)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for ticket in tickets:
        changed = _changed(ticket)
        if changed:
            groups.setdefault(tuple(changed), []).append(
                {"v_id": ticket.id} | {f"v_{name}": value for name, value in changed.items()})
    for names, rows in groups.items():
        session.connection().execute(_update(names), rows)


def _changed(ticket: DueTicket) -> dict[str, Any]:
    out = {}
    for name, old in zip(SAVED, ticket.as_read, strict=True):
        value = getattr(ticket, name)
        if value != old:
            out[name] = value
    return out


def _update(names: tuple[str, ...]) -> Update:
    # Bound names differ from the column names: SQLAlchemy reserves those for the SET clause.
    return (update(_tickets).where(_tickets.c.id == bindparam("v_id"))
            .values({name: bindparam(f"v_{name}") for name in names}))


@dataclass(frozen=True)
class HistoryLine:
    """One entry of the closing notice: when, who, and what."""

    at: datetime
    who: str
    what: str


def _agent_names(session: Session) -> dict[str, str]:
    return {f"agent:{i}": name or email for i, name, email in
            session.execute(select(Agent.id, Agent.name, Agent.email)).all()}


def agent_address(session: Session, agent_id: int | None) -> tuple[str, str] | None:
    """(email, name) of an active agent, or None."""
    if agent_id is None:
        return None
    row = session.execute(select(Agent.email, Agent.name).where(Agent.id == agent_id,
                                                                 Agent.active.is_(True))).first()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class ReportRow:
    """What the report needs of one ticket."""

    id: int
    queue: str
    category: str
    priority: str
    created_at: datetime
    first_response_at: datetime | None
    first_response_due: datetime | None
    resolved_at: datetime | None
    resolution_due: datetime | None
    closed_at: datetime | None
    close_reason: str


def report_rows(session: Session, since: datetime, until: datetime) -> list[ReportRow]:
    """Tickets (spam aside) created or closed in [since, until)."""
    created = (Ticket.created_at >= since) & (Ticket.created_at < until)
    closed = (Ticket.closed_at >= since) & (Ticket.closed_at < until)
    rows = session.execute(
        select(Ticket.id, Ticket.queue, Ticket.category, Ticket.priority, Ticket.created_at,
               Ticket.first_response_at, Ticket.first_response_due, Ticket.resolved_at, Ticket.resolution_due,
               Ticket.closed_at, Ticket.close_reason)
        .where(Ticket.spam.is_(False), created | closed).order_by(Ticket.id)).all()
    return [ReportRow(*r) for r in rows]


@dataclass(frozen=True)
class BatchContext:
    """What the sweep's notices need for a batch of tickets, loaded with a few queries instead of
    several per ticket: participants (requester first), thread Message-IDs, agents' history."""

    people: dict[int, list[Address]]
    threads: dict[int, list[str]]
    replies: dict[int, list[HistoryLine]]
    actions: dict[int, list[HistoryLine]]
    agents: list[tuple[int, Address]]


def batch_context(session: Session, ticket_ids: list[int], closing: list[int]) -> BatchContext:
    """Load the BatchContext for `ticket_ids`; history only for the `closing` ones."""
    people: dict[int, list[Address]] = {}
    for tid, email, name in session.execute(
            select(Participant.ticket_id, Contact.email, Contact.name)
            .join(Contact, Contact.id == Participant.contact_id)
            .where(Participant.ticket_id.in_(ticket_ids)).order_by(Participant.id)):
        people.setdefault(tid, []).append(Address(email, name))
    return BatchContext(people=people, threads=_threads(session, ticket_ids),
                        replies=_grouped(session, closing, agent_replies_query),
                        actions=_grouped(session, closing, public_actions_query),
                        agents=active_agents_with_ids(session))


def _threads(session: Session, ticket_ids: list[int]) -> dict[int, list[str]]:
    """Thread Message-IDs as repo.thread_message_ids gives them, for many tickets at once."""
    theirs = session.execute(select(Message.ticket_id, Message.created_at, Message.message_id)
                             .where(Message.ticket_id.in_(ticket_ids), Message.message_id != "",
                                    Message.direction == "inbound")).all()
    ours = session.execute(select(Outbox.ticket_id, Outbox.created_at, Outbox.message_id)
                           .where(Outbox.ticket_id.in_(ticket_ids),
                                  Outbox.kind.in_(("ack", "reply")) | Outbox.kind.like("status_%"))).all()
    out: dict[int, list[str]] = {}
    for tid, _, mid in sorted([*theirs, *ours], key=lambda r: (r[0] or 0, r[1])):
        out.setdefault(tid or 0, []).append(mid)
    return out


_Lines = Callable[[Session, list[int]], list[tuple[int, HistoryLine]]]


def _grouped(session: Session, ticket_ids: list[int], lines: _Lines) -> dict[int, list[HistoryLine]]:
    out: dict[int, list[HistoryLine]] = {}
    if ticket_ids:
        for tid, line in lines(session, ticket_ids):
            out.setdefault(tid, []).append(line)
    return out


def agent_replies_query(session: Session, ticket_ids: list[int]) -> list[tuple[int, HistoryLine]]:
    """Public agent answers on these tickets, oldest first."""
    rows = session.execute(select(Message.ticket_id, Message.created_at, Message.from_name,
                                  Message.from_email, Message.new_text)
                           .where(Message.ticket_id.in_(ticket_ids), Message.direction == "outbound")
                           .order_by(Message.created_at, Message.id)).all()
    return [(tid, HistoryLine(at, name or email, text)) for tid, at, name, email, text in rows]


def public_actions_query(session: Session, ticket_ids: list[int]) -> list[tuple[int, HistoryLine]]:
    """Status, priority and category changes on these tickets, oldest first."""
    rows = session.execute(select(Event.ticket_id, Event.at, Event.actor, Event.kind, Event.detail)
                           .where(Event.ticket_id.in_(ticket_ids), Event.kind.in_(PUBLIC_ACTIONS))
                           .order_by(Event.at, Event.id)).all()
    names = _agent_names(session)
    return [(tid, HistoryLine(at, names.get(actor, actor.partition(":")[0]),
                              f"{kind}: {detail.get('old', '')} → {detail.get('new', '')}"))
            for tid, at, actor, kind, detail in rows]
