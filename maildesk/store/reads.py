"""Read models for the CLI and the report: tickets as typed values, filtered in SQL."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Select, select, text, union_all

from maildesk.store import events, messages, participants, sql, ticket_text
from maildesk.store.db import Session

_t, _c, _m, _g = sql.tickets, sql.contacts, sql.messages, sql.agents
_ROW = (_t.c.id, _t.c.status, _t.c.priority, _t.c.category, _t.c.subject, _c.c.email, _t.c.created_at,
        _t.c.updated_at, _t.c.queue, _t.c.type, _t.c.tier, _t.c.tags, _t.c.spam, _g.c.email)
_CLOCK = (_t.c.sla_policy, _t.c.first_response_due, _t.c.first_response_at, _t.c.resolution_due,
          _t.c.resolved_at, _t.c.paused_seconds, _t.c.clock_status, _t.c.linked_ticket_id, _t.c.close_reason,
          _g.c.name, _t.c.sla_sent)


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
    assignee: str = ""  # the assigned agent's address, "" while unassigned

    def as_json(self) -> dict[str, Any]:
        """The JSON shape scripts rely on."""
        return {"id": self.id, "status": self.status, "priority": self.priority, "category": self.category,
                "subject": self.subject, "requester": self.requester, "created": self.created.isoformat(),
                "updated": self.updated.isoformat(), "queue": self.queue, "type": self.type,
                "tier": self.tier, "tags": list(self.tags), "spam": self.spam,
                "assignee": self.assignee or None}


def _rows_query(*more: Any) -> Select[Any]:
    # Every ticket has its requester: an outer join finds the same rows, and keeps SQLite from
    # reading the contacts first (100,000 of them) and the tickets per contact, then sorting.
    return (select(*_ROW, *more).outerjoin(_c, _c.c.id == _t.c.requester_id)
            .outerjoin(_g, _g.c.id == _t.c.assignee_id))


def _row(r: Any) -> TicketRow:
    return TicketRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], tuple(r[11] or ()),
                     r[12], r[13] or "")


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
    type: str = ""
    assignee_id: int | None = None
    unassigned: bool = False
    text_ticket: int | None = None  # `text` is also a ticket number as the requester sees it
    breached: bool = False  # only tickets that missed an SLA target
    due_before: datetime | None = None  # only tickets with a target still open and due before this


def ticket_rows(session: Session, flt: TicketFilter) -> list[TicketRow]:
    """Tickets matching every filter of `flt`, newest first; spam only when asked, else never."""
    statuses = list(dict.fromkeys(s for s in flt.status.split(",") if s))
    if len(statuses) < 2:
        return _ticket_rows(session, flt)
    # Each status is one range of ix_tickets_status, in ticket order; `status IN (…)` would make
    # SQLite read every ticket of every status and sort them. The newest of each, merged, are the
    # newest of all.
    each = [_ticket_rows(session, replace(flt, status=status)) for status in statuses]
    return list(islice(heapq.merge(*each, key=lambda row: row.id, reverse=True), flt.limit))


def _ticket_rows(session: Session, flt: TicketFilter) -> list[TicketRow]:
    # Not spam is nearly every ticket: said as `IS NOT true`, which no index answers, so the database
    # never reads a million rows by it and sorts them instead of walking the newest ones or using the
    # index of a narrower filter. Spam is rare: `IS true` reads ix_tickets_spam_status.
    query = _rows_query().where(_t.c.spam.is_(True) if flt.spam else _t.c.spam.is_not(True))
    for wanted, condition in ((flt.status, lambda: _t.c.status.in_(flt.status.split(","))),
                              (flt.category, lambda: _t.c.category == flt.category),
                              (flt.type, lambda: _t.c.type == flt.type),
                              (flt.requester, lambda: _t.c.requester_id.in_(
                                  select(_c.c.id).where(_c.c.email.contains(flt.requester.lower())))),
                              (flt.since, lambda: _t.c.created_at >= flt.since),
                              (flt.until, lambda: _t.c.created_at < flt.until),
                              (flt.assignee_id is not None, lambda: _t.c.assignee_id == flt.assignee_id),
                              (flt.unassigned, lambda: _t.c.assignee_id.is_(None)),
                              (flt.text, lambda: ticket_text.condition(session, flt.text, flt.text_ticket)),
                              (flt.breached, _breached),
                              (flt.due_before, lambda: _due_before(flt.due_before))):
        if wanted:
            query = query.where(condition())
    query = query.order_by(_t.c.id.desc()).limit(flt.limit)
    return [_row(r) for r in session.connection().execute(query)]


#: A missed target: the sweep recorded its breach (it knows the time spent paused), or it was met
#: after its due time. Literal SQL, word for word the condition of the partial index
#: ix_tickets_breached (migration 0010): a database uses a partial index only for the same condition.
BREACHED = ("sla_sent LIKE '%.breach%' OR first_response_at > first_response_due "
            "OR resolved_at > resolution_due")


def _breached() -> Any:
    """The same test as `target_state` below."""
    return text(f"({BREACHED})")


def _due_before(instant: datetime | None) -> Any:
    """A target still open and due before `instant`: the tickets the partial indexes of open targets
    (migration 0010) name, read from those indexes. Few tickets have a target open on a desk that
    keeps up; walking the newest tickets for them would read all the closed ones."""
    first = select(_t.c.id).where(_t.c.first_response_at.is_(None), _t.c.first_response_due < instant)
    resolution = select(_t.c.id).where(_t.c.resolved_at.is_(None), _t.c.resolution_due < instant)
    return _t.c.id.in_(union_all(first, resolution))


def target_state(due: datetime | None, done: datetime | None, breach_recorded: bool, stopped: bool) -> str:
    """One SLA target: "" (none), "met" (in time), "missed" (late, or its breach recorded by the
    sweep), "open" (not met, not breached) or "unmet" (the ticket ended before it was met, in time)."""
    if due is None:
        return ""
    if done is not None and done <= due:
        return "met"
    if breach_recorded or done is not None:
        return "missed"
    return "unmet" if stopped else "open"


@dataclass(frozen=True)
class SlaView:
    """A ticket's SLA policy, its two targets (due, when met, and their state at the instant of
    reading) and the working time it spent pending."""

    policy: str
    first_response_due: datetime | None
    first_response_at: datetime | None
    resolution_due: datetime | None
    resolved_at: datetime | None
    paused_seconds: int
    paused_now: bool
    first_response: str
    resolution: str

    @property
    def breached(self) -> bool:
        """Whether either target is missed."""
        return "missed" in (self.first_response, self.resolution)

    def as_json(self) -> dict[str, Any]:
        """The `sla` object of `tickets show --json`."""
        def when(at: datetime | None) -> str | None:
            return at.isoformat() if at else None

        return {"policy": self.policy or None, "breached": self.breached,
                "paused_seconds": self.paused_seconds, "paused_now": self.paused_now,
                "first_response": {"due": when(self.first_response_due), "at": when(self.first_response_at),
                                   "state": self.first_response or None},
                "resolution": {"due": when(self.resolution_due), "at": when(self.resolved_at),
                               "state": self.resolution or None}}


@dataclass(frozen=True)
class AttachmentEntry:
    """One file on a ticket, numbered across its thread from 1 in the order the mail came."""

    index: int
    message: int  # the number of its message in the thread, from 1
    filename: str
    content_type: str
    size: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        """One entry of `attachments` in `tickets show --json`."""
        return {"index": self.index, "message": self.message, "filename": self.filename,
                "content_type": self.content_type, "size": self.size}


@dataclass(frozen=True)
class ThreadEntry:
    """One message of a ticket's thread."""

    sender: str
    direction: str
    date: datetime
    text: str
    attachments: tuple[str, ...]
    verdict: str
    row_id: int = 0  # the message's row, for a split


@dataclass(frozen=True)
class TicketDetail:
    """A ticket with its participants, thread and events, its assignee, SLA and files."""

    row: TicketRow
    participants: tuple[tuple[str, str], ...]
    messages: tuple[ThreadEntry, ...]
    events: tuple[dict[str, Any], ...] = ()
    assignee_name: str = ""
    sla: SlaView | None = None
    files: tuple[AttachmentEntry, ...] = ()
    linked_ticket: int | None = None
    close_reason: str = ""

    def as_json(self) -> dict[str, Any]:
        """The JSON shape of `tickets show --json`."""
        assignee = {"email": self.row.assignee, "name": self.assignee_name} if self.row.assignee else None
        return self.row.as_json() | {
            "assignee": assignee,
            "linked_ticket": self.linked_ticket,
            "close_reason": self.close_reason,
            "sla": self.sla.as_json() if self.sla else None,
            "participants": [{"email": e, "role": r} for e, r in self.participants],
            "messages": [{"from": m.sender, "direction": m.direction, "date": m.date.isoformat(),
                          "text": m.text, "attachments": list(m.attachments), "verdict": m.verdict}
                         for m in self.messages],
            "attachments": [f.as_json() for f in self.files],
            "events": list(self.events),
            "rules": self.rule_hits,
        }

    @property
    def rule_hits(self) -> list[dict[str, Any]]:
        """Every rule that matched the ticket's mail, oldest first, as {"rule", "set", "at"}."""
        return [hit | {"at": e["at"]}
                for e in self.events if e["kind"] == "rules" for hit in e.get("hits", [])]


def ticket_detail(session: Session, ticket_id: int) -> TicketDetail | None:
    """One ticket's row, participants, thread, files, SLA and events, or None."""
    conn = session.connection()
    found = conn.execute(_rows_query(*_CLOCK).where(_t.c.id == ticket_id)).first()
    if found is None:
        return None
    people = tuple((a.email, role) for a, role in participants.of_ticket(session, ticket_id))
    entries, files = _thread(session, ticket_id)
    (policy, fr_due, fr_at, res_due, res_at, paused, clock, linked, reason, assignee_name,
     sent) = found[len(_ROW):]
    sla = SlaView(policy or "", fr_due, fr_at, res_due, res_at, paused or 0, clock == "pending",
                  target_state(fr_due, fr_at, "first_response.breach" in (sent or ""), res_at is not None),
                  target_state(res_due, res_at, "resolution.breach" in (sent or ""), res_at is not None))
    return TicketDetail(_row(found), people, entries, tuple(events.of_ticket(session, ticket_id)),
                        assignee_name or "", sla, files, linked, reason or "")


def _thread(session: Session, ticket_id: int) -> tuple[tuple[ThreadEntry, ...], tuple[AttachmentEntry, ...]]:
    """The ticket's messages, oldest first, and its files numbered across them as
    `messages.ticket_files` orders them (what `tickets attachment` and `#attachments` count by)."""
    thread = select(_m.c.id, _m.c.from_email, _m.c.direction, _m.c.created_at, _m.c.new_text, _m.c.text,
                    _m.c.verdict).where(_m.c.ticket_id == ticket_id).order_by(_m.c.id)
    rows = session.connection().execute(thread).all()
    number = {m.id: n for n, m in enumerate(rows, start=1)}
    files = tuple(AttachmentEntry(i, number[f.message_row], f.filename, f.content_type, f.size, f.sha256)
                  for i, f in enumerate(messages.ticket_files(session, ticket_id), start=1))
    entries = tuple(ThreadEntry(m.from_email, m.direction, m.created_at, m.new_text or m.text,
                                tuple(f.filename for f in files if f.message == number[m.id]), m.verdict,
                                m.id) for m in rows)
    return entries, files
