"""Ticket changes for the CLI; values out, never rows. Every change goes through the ticket writer
and every mail through the outbound gate, in one transaction each, in the name of the acting admin.
The queries (`tickets list`, `show`) are in admin/ticket_reads.py, re-exported here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from maildesk.admin.ticket_reads import Admin, agent_named, list_tickets, show_ticket
from maildesk.domain import OutboxId, Status
from maildesk.domain.ticket import SetField, SetStatus, TicketChange, TicketState
from maildesk.errors import TicketNotFound, UsageProblem
from maildesk.mail.limits import safe_filename
from maildesk.outbound.gate import Posting, admit
from maildesk.pipeline import merge as merge_service
from maildesk.pipeline import notices, satisfaction
from maildesk.pipeline.context import Desk
from maildesk.policy.lifecycle import REQUESTER_NOTICE
from maildesk.store import messages, participants, tickets
from maildesk.store.db import Session
from maildesk.store.reads import ThreadEntry, TicketDetail, TicketFilter, TicketRow

__all__ = ["Admin", "ThreadEntry", "TicketDetail", "TicketFilter", "TicketRow", "assign", "attachment",
           "list_tickets", "merge", "set_status", "show_ticket", "split"]
#: The reason admins' assignments and merges record.
ASSIGNED = MERGE_REASON = "admin command"


def set_status(desk: Desk, ticket_id: int, status: Status, actor: str, reason: str,
               now: datetime) -> list[OutboxId]:
    """Move a ticket to `status` (InvalidTransition when the lifecycle refuses), and queue the
    requester's notice; return the new outbox ids. A ticket that closes keeps `reason` as its close reason."""
    with desk.db.transaction() as session:
        ticket = _locked(session, ticket_id)
        change = TicketChange(actor, (SetStatus(status, reason, close_reason=reason),))
        before, ticket = ticket, desk.writer.change(session, ticket, change, now)
        if status not in REQUESTER_NOTICE:
            return []
        people = participants.of_ticket(session, ticket_id)
        summary = notices.summary(session, ticket, people[0][0])
        draft = desk.notifier.status_notice(summary, [a for a, _ in people], reason,
                                            messages.thread_ids(session, ticket_id), now, before.status,
                                            reply_to=desk.requester_reply_to(ticket_id, ticket.requester_id))
        drafts = [draft, *satisfaction.survey(desk, session, before, ticket, actor, now)]
        return admit(session, desk.gate, [Posting(ticket_id, d) for d in drafts], now)


def assign(desk: Desk, ticket_id: int, agent: str, admin: Admin, now: datetime) -> str:
    """Give the ticket to `agent` (address, local part, name, "me" or "none"); returns who has it now
    ("" for nobody). Recorded as an `assign` event, as an agent's `#assign` is."""
    with desk.db.transaction() as session:
        ticket = _locked(session, ticket_id)
        agent_id, label = (None, "") if agent.lower() == "none" else agent_named(session, agent, admin, True)
        step = SetField("assignee_id", agent_id, event="assign", reason=ASSIGNED, detail={"new": label})
        desk.writer.change(session, ticket, TicketChange(admin.actor, (step,)), now)
        return label


def merge(desk: Desk, source_id: int, into_id: int, admin: Admin,
          now: datetime) -> tuple[int, list[OutboxId]]:
    """Merge ticket `source_id` into `into_id` (or the ticket that one was merged into): the ticket
    it went into, and the notice to the merged ticket's people, queued."""
    with desk.db.transaction() as session:
        source, into = merge_service.load_pair(session, source_id, into_id)
        into, drafts = merge_service.merge(desk, session, source, into, admin.actor, MERGE_REASON, now)
        return into.id, admit(session, desk.gate, [Posting(source_id, d) for d in drafts], now)


def split(desk: Desk, ticket_id: int, number: int, admin: Admin, now: datetime) -> tuple[int, list[OutboxId]]:
    """Make message `number` of ticket `ticket_id` a ticket of its own: its id, and the notice telling
    the message's sender the new number, queued."""
    with desk.db.transaction() as session:
        source = _locked(session, ticket_id)
        new, drafts = merge_service.split(desk, session, source, number, admin.actor, now)
        return new.id, admit(session, desk.gate, [Posting(new.id, d) for d in drafts], now)


@dataclass(frozen=True)
class FileOut:
    """One file of a ticket, with a name safe to write on disk."""

    name: str
    content_type: str
    data: bytes


def attachment(desk: Desk, ticket_id: int, number: int) -> FileOut:
    """File `number` (from 1, as `tickets show` lists them) of ticket `ticket_id`."""
    with desk.db.reading() as session:
        if tickets.load(session, ticket_id) is None:
            raise TicketNotFound(f"no ticket #{ticket_id}")
        files = messages.ticket_files(session, ticket_id)
    if not 1 <= number <= len(files):
        raise UsageProblem(f"ticket #{ticket_id} has {len(files) or 'no'} file{'s' * (len(files) != 1)}"
                           + (f"; {number} is not one of them" if files else ""))
    found = files[number - 1]
    # Names were made safe when the mail was parsed; again here, for rows an older version stored.
    name = safe_filename(found.filename)
    return FileOut(name if name != "attachment" else f"attachment-{number}", found.content_type,
                   desk.blobs.get(found.sha256))


def _locked(session: Session, ticket_id: int) -> TicketState:
    ticket = tickets.load(session, ticket_id, lock=True)
    if ticket is None:
        raise TicketNotFound(f"no ticket #{ticket_id}")
    return ticket
