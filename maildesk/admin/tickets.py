"""Ticket queries and status changes for the CLI; values out, never rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from maildesk.domain import Address, Status
from maildesk.errors import TicketNotFound
from maildesk.notices.notifier import Notifier, TicketSummary
from maildesk.policy.lifecycle import REQUESTER_NOTICE, check_transition, closes
from maildesk.store import queries, repo
from maildesk.store.db import Database
from maildesk.tickets.clock import TicketClock


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
    """A ticket with its thread and its events."""

    row: TicketRow
    participants: tuple[tuple[str, str], ...]
    messages: tuple[ThreadEntry, ...]
    events: tuple[dict[str, Any], ...] = field(default=())

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


def list_tickets(db: Database, flt: TicketFilter) -> list[TicketRow]:
    """Tickets matching `flt`, newest first."""
    with db.reading() as session:
        return [TicketRow(**r) for r in queries.ticket_rows(session, flt.status, flt.category,
                                                              flt.requester, flt.text, flt.since,
                                                              flt.until, flt.limit, flt.spam)]


def show_ticket(db: Database, ticket_id: int) -> TicketDetail:
    """Ticket `ticket_id` with its thread; raises TicketNotFound."""
    with db.reading() as session:
        found = queries.ticket_detail(session, ticket_id)
        if found is None:
            raise TicketNotFound(f"no ticket #{ticket_id}")
        row, people, messages, events = found
        return TicketDetail(row=TicketRow(**row), participants=tuple(people),
                            messages=tuple(ThreadEntry(**m) for m in messages), events=tuple(events))


def set_status(db: Database, notifier: Notifier, ticket_id: int, status: Status, actor: str, reason: str,
               now: datetime, clock: TicketClock | None = None) -> list[int]:
    """Move a ticket to `status`, record the event, and queue the requester's notice; return outbox ids.

    With `clock`, the ticket's SLA and auto-close clock follow the change."""
    with db.transaction() as session:
        ticket = queries.ticket_for_update(session, ticket_id)
        if ticket is None:
            raise TicketNotFound(f"no ticket #{ticket_id}")
        old = Status(ticket.status)
        check_transition(old, status)
        queries.apply_status(session, ticket, status, reason, now, closes(status))
        repo.add_event(session, ticket_id, now, actor, "status", reason, old=old, new=status)
        if clock is not None:
            clock.update(ticket, now)
        if status not in REQUESTER_NOTICE:
            return []
        people = repo.participants(session, ticket_id)
        summary = TicketSummary(id=ticket.id, subject=ticket.subject, status=status, priority=ticket.priority,
                                category=ticket.category, language=ticket.language, requester=people[0][0])
        to: list[Address] = [a for a, _ in people]
        draft = notifier.status_notice(summary, to, reason, repo.thread_message_ids(session, ticket_id), now)
        return [repo.add_outbox(session, ticket_id, draft.kind, draft.message_id, draft.mail_from,
                                draft.rcpt_to, draft.raw, now)]
