"""Read models for the CLI and the report: tickets as typed values, filtered in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from maildesk.store import events, participants, sql
from maildesk.store.db import Session

_t, _c, _m, _a = sql.tickets, sql.contacts, sql.messages, sql.attachments
_ROW = (_t.c.id, _t.c.status, _t.c.priority, _t.c.category, _t.c.subject, _c.c.email, _t.c.created_at,
        _t.c.updated_at, _t.c.queue, _t.c.type, _t.c.tier, _t.c.tags, _t.c.spam)


@dataclass(frozen=True)
class TicketRow:
    """One line of `tickets list`."""

    id: int
    status: str
    priority: str
    category: str
    subject: str
    requester: str
    created: datetime
    updated: datetime
    queue: str = ""
    type: str = "request"
    tier: str = ""
    tags: tuple[str, ...] = ()
    spam: bool = False

    def as_json(self) -> dict[str, Any]:
        """The JSON shape scripts rely on."""
        return {"id": self.id, "status": self.status, "priority": self.priority, "category": self.category,
                "subject": self.subject, "requester": self.requester, "created": self.created.isoformat(),
                "updated": self.updated.isoformat(), "queue": self.queue, "type": self.type,
                "tier": self.tier, "tags": list(self.tags), "spam": self.spam}


def _rows_query() -> Select[Any]:
    return select(*_ROW).join(_c, _c.c.id == _t.c.requester_id)


def _row(r: Any) -> TicketRow:
    return TicketRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], tuple(r[11] or ()),
                     r[12])


@dataclass(frozen=True)
class TicketFilter:
    """What `tickets list` narrows by; empty fields do not filter."""

    status: str = ""
    category: str = ""
    requester: str = ""
    text: str = ""
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    spam: bool = False  # list the tickets rules marked as spam instead of the others


def ticket_rows(session: Session, flt: TicketFilter) -> list[TicketRow]:
    """Tickets matching every filter of `flt`, newest first; spam only when asked, else never."""
    query = _rows_query().where(_t.c.spam.is_(flt.spam))
    if flt.status:
        query = query.where(_t.c.status.in_(flt.status.split(",")))
    if flt.category:
        query = query.where(_t.c.category == flt.category)
    if flt.requester:
        query = query.where(_c.c.email.contains(flt.requester.lower()))
    if flt.since:
        query = query.where(_t.c.created_at >= flt.since)
    if flt.until:
        query = query.where(_t.c.created_at < flt.until)
    if flt.text:
        pattern = f"%{flt.text.lower()}%"
        in_messages = select(_m.c.ticket_id).where(func.lower(_m.c.text).like(pattern))
        query = query.where(or_(func.lower(_t.c.subject).like(pattern), _t.c.id.in_(in_messages)))
    query = query.order_by(_t.c.id.desc()).limit(flt.limit)
    return [_row(r) for r in session.connection().execute(query)]


@dataclass(frozen=True)
class ThreadEntry:
    """One message of a ticket's thread."""

    sender: str
    direction: str
    date: datetime
    text: str
    attachments: tuple[str, ...]
    verdict: str


@dataclass(frozen=True)
class TicketDetail:
    """A ticket with its participants, thread and events."""

    row: TicketRow
    participants: tuple[tuple[str, str], ...]
    messages: tuple[ThreadEntry, ...]
    events: tuple[dict[str, Any], ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The JSON shape of `tickets show --json`."""
        return self.row.as_json() | {
            "participants": [{"email": e, "role": r} for e, r in self.participants],
            "messages": [{"from": m.sender, "direction": m.direction, "date": m.date.isoformat(),
                          "text": m.text, "attachments": list(m.attachments), "verdict": m.verdict}
                         for m in self.messages],
            "events": list(self.events),
            "rules": self.rule_hits,
        }

    @property
    def rule_hits(self) -> list[dict[str, Any]]:
        """Every rule that matched the ticket's mail, oldest first, as {"rule", "set", "at"}."""
        return [hit | {"at": e["at"]}
                for e in self.events if e["kind"] == "rules" for hit in e.get("hits", [])]


def ticket_detail(session: Session, ticket_id: int) -> TicketDetail | None:
    """One ticket's row, participants, thread and events, or None."""
    conn = session.connection()
    found = conn.execute(_rows_query().where(_t.c.id == ticket_id)).first()
    if found is None:
        return None
    people = tuple((a.email, role) for a, role in participants.of_ticket(session, ticket_id))
    entries = []
    thread = select(_m.c.id, _m.c.from_email, _m.c.direction, _m.c.created_at, _m.c.new_text, _m.c.text,
                    _m.c.verdict).where(_m.c.ticket_id == ticket_id).order_by(_m.c.id)
    for m in conn.execute(thread):
        names = conn.execute(select(_a.c.filename).where(_a.c.message_id == m.id).order_by(_a.c.id)).scalars()
        entries.append(ThreadEntry(m.from_email, m.direction, m.created_at, m.new_text or m.text,
                                   tuple(names),
                                   m.verdict))
    return TicketDetail(_row(found), people, tuple(entries), tuple(events.of_ticket(session, ticket_id)))


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
    created = (_t.c.created_at >= since) & (_t.c.created_at < until)
    closed = (_t.c.closed_at >= since) & (_t.c.closed_at < until)
    rows = session.connection().execute(
        select(_t.c.id, _t.c.queue, _t.c.category, _t.c.priority, _t.c.created_at, _t.c.first_response_at,
               _t.c.first_response_due, _t.c.resolved_at, _t.c.resolution_due, _t.c.closed_at,
               _t.c.close_reason)
        .where(_t.c.spam.is_(False), created | closed).order_by(_t.c.id))
    return [ReportRow(*r) for r in rows]
