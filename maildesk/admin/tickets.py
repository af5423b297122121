"""Ticket queries and status changes for the CLI; values out, never rows."""

from __future__ import annotations

from datetime import datetime

from maildesk.domain import OutboxId, Status
from maildesk.domain.ticket import SetStatus, TicketChange
from maildesk.errors import TicketNotFound
from maildesk.outbound.gate import Posting, admit
from maildesk.pipeline import notices
from maildesk.pipeline.context import Desk
from maildesk.policy.lifecycle import REQUESTER_NOTICE
from maildesk.store import messages, participants, reads, tickets
from maildesk.store.db import Database
from maildesk.store.reads import ThreadEntry, TicketDetail, TicketFilter, TicketRow

__all__ = ["ThreadEntry", "TicketDetail", "TicketFilter", "TicketRow", "list_tickets", "set_status",
           "show_ticket"]


def list_tickets(db: Database, flt: TicketFilter) -> list[TicketRow]:
    """Tickets matching `flt`, newest first."""
    with db.reading() as session:
        return reads.ticket_rows(session, flt)


def show_ticket(db: Database, ticket_id: int) -> TicketDetail:
    """Ticket `ticket_id` with its thread; raises TicketNotFound."""
    with db.reading() as session:
        found = reads.ticket_detail(session, ticket_id)
    if found is None:
        raise TicketNotFound(f"no ticket #{ticket_id}")
    return found


def set_status(desk: Desk, ticket_id: int, status: Status, actor: str, reason: str,
               now: datetime) -> list[OutboxId]:
    """Move a ticket to `status` (InvalidTransition when the lifecycle refuses), and queue the
    requester's notice; return the new outbox ids. A ticket that closes keeps `reason` as its close reason."""
    with desk.db.transaction() as session:
        ticket = tickets.load(session, ticket_id, lock=True)
        if ticket is None:
            raise TicketNotFound(f"no ticket #{ticket_id}")
        change = TicketChange(actor, (SetStatus(status, reason, close_reason=reason),))
        previous, ticket = ticket.status, desk.writer.change(session, ticket, change, now)
        if status not in REQUESTER_NOTICE:
            return []
        people = participants.of_ticket(session, ticket_id)
        summary = notices.summary(session, ticket, people[0][0])
        draft = desk.notifier.status_notice(summary, [a for a, _ in people], reason,
                                            messages.thread_ids(session, ticket_id), now, previous)
        return admit(session, desk.gate, [Posting(ticket_id, draft)], now)
