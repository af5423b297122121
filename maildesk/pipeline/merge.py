"""Two tickets about the same thing become one, and one message becomes a ticket of its own.

A merge moves the source ticket's messages and events onto the target, puts its people on the target
as Cc, and closes the source with reason `merged` and a link to the target; mail that names or cites
the old number lands on the new one (`followed`). The source's requester and people are told once.
A split opens a new ticket, linked to the old one, from one message of it, its sender the requester.
Both go through the ticket writer (a `MoveThread` step) and are recorded as events on both tickets.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from maildesk.domain import Address, Direction, Status
from maildesk.domain.ticket import (
    AddParticipant,
    FieldName,
    MoveThread,
    Opening,
    Record,
    SetField,
    SetStatus,
    Step,
    TicketChange,
    TicketState,
)
from maildesk.errors import TicketNotFound, UsageProblem
from maildesk.mail.subject import without_reply_prefixes
from maildesk.mail.tags import make_tag, untagged
from maildesk.notices.notifier import Draft
from maildesk.pipeline import notices
from maildesk.pipeline.context import Desk
from maildesk.policy.lifecycle import closes
from maildesk.store import contacts, messages, participants, tickets
from maildesk.store.db import Session

MERGED = "merged"
#: How many merges in a row are followed to the ticket that holds the mail now.
MAX_HOPS = 10


def followed(session: Session, ticket_id: int, lock: bool = False) -> TicketState | None:
    """Ticket `ticket_id`, or the ticket it was merged into (and so on), or None when there is none."""
    ticket = tickets.load(session, ticket_id, lock=lock)
    for _ in range(MAX_HOPS):
        if ticket is None or ticket.close_reason != MERGED or ticket.linked_ticket_id is None:
            return ticket
        ticket = tickets.load(session, ticket.linked_ticket_id, lock=lock)
    return ticket


def followed_ids(session: Session, ticket_ids: Iterable[int]) -> frozenset[int]:
    """`ticket_ids` with each merged ticket replaced by the one it was merged into."""
    found = (followed(session, i) for i in ticket_ids)
    return frozenset(t.id for t in found if t is not None)


def merge(desk: Desk, session: Session, source: TicketState, into: TicketState, actor: str, reason: str,
          now: datetime) -> tuple[TicketState, list[Draft]]:
    """Merge `source` into `into` (both loaded locked); the target as it now is, and the one notice
    to the source's people. UsageProblem when the two cannot be merged."""
    problem = merge_problem(source, into)
    if problem:
        raise UsageProblem(problem)
    people = [a for a, _ in participants.of_ticket(session, source.id)]
    moved = MoveThread(source.id, event="merged_from", reason=reason, detail={"from": source.id})
    into = desk.writer.change(session, into, TicketChange(actor, (moved,), touch=True), now)
    linked = {"into": into.id}
    closing = TicketChange(actor, (SetField("linked_ticket_id", into.id),
                                   SetStatus(Status.CLOSED, reason, close_reason=MERGED, detail=linked),
                                   Record("merged_into", reason, linked)), touch=True)
    source = desk.writer.change(session, source, closing, now)
    if not people or source.spam:
        return into, []
    extra = {"into_tag": make_tag(into.id, desk.settings.desk.instance), "into_subject": into.subject}
    summary = notices.summary(session, source, people[0])
    thread = messages.threads(session, [into.id]).get(into.id, [])
    return into, [desk.notifier.ticket_notice(MERGED, summary, people, extra, thread, now)]


def merge_problem(source: TicketState, into: TicketState) -> str:
    """Why `source` cannot be merged into `into`, or ""."""
    if source.id == into.id:
        return f"#{source.id} cannot be merged into itself"
    if source.close_reason == MERGED:
        return f"#{source.id} is already merged into #{source.linked_ticket_id}"
    if closes(Status(source.status)):
        return f"#{source.id} is {source.status}: reopen it to merge it"
    if into.close_reason == MERGED:
        return f"#{into.id} is merged into #{into.linked_ticket_id}: merge into that one"
    return ""


def split(desk: Desk, session: Session, source: TicketState, number: int, actor: str,
          now: datetime) -> tuple[TicketState, list[Draft]]:
    """A new ticket from message `number` (from 1, as `tickets show` numbers them) of `source`, its
    sender the requester, linked to `source`; the message moves there, and its sender is told the new
    number. UsageProblem when it cannot."""
    row = _splittable(session, source, number)
    who = contacts.contact_for(session, Address(row.from_email, row.from_name), now)
    subject = untagged(without_reply_prefixes(row.subject), desk.settings.desk.instance) or source.subject
    where = f"message {number} of #{source.id}"
    steps: tuple[Step, ...] = (*(SetField(name, getattr(source, name)) for name in SPLIT_KEEPS),
             AddParticipant(who.id, "requester"),
             Record("created", f"split from #{source.id}", {"linked_to": source.id}),
             MoveThread(source.id, message=row.id, event="split_from", reason=where,
                        detail={"from": source.id, "message": number}))
    new = desk.writer.open(session, Opening(subject, who.id, source.language, source.id),
                           TicketChange(actor, steps), now)
    desk.writer.record(session, source.id, now, actor,
                       Record("split_to", f"{where} became #{new.id}", {"ticket": new.id, "message": number}))
    if source.spam:
        return new, []
    sender = Address(who.email, who.name)
    extra = {"from_tag": make_tag(source.id, desk.settings.desk.instance)}
    return new, [desk.notifier.ticket_notice("split", notices.summary(session, new, sender), [sender], extra,
                                             messages.thread_ids(session, new.id), now)]


#: What a ticket split off keeps of the one it came from.
SPLIT_KEEPS: tuple[FieldName, ...] = ("queue", "category", "priority", "type", "tier")


def _splittable(session: Session, source: TicketState, number: int) -> messages.ThreadRow:
    """Message `number` of `source` when it can become a ticket of its own; UsageProblem when not."""
    thread = messages.thread_rows(session, source.id)
    if not 1 <= number <= len(thread):
        raise UsageProblem(f"ticket #{source.id} has {len(thread)} messages; {number} is not one of them")
    if len(thread) == 1:
        raise UsageProblem(f"#{source.id} has only one message: there is nothing to split off")
    row = thread[number - 1]
    if row.direction != Direction.INBOUND:
        raise UsageProblem(f"message {number} of #{source.id} is {row.direction}: only mail people sent "
                           "can become a ticket")
    return row


def load_pair(session: Session, source_id: int, into_id: int) -> tuple[TicketState, TicketState]:
    """Both tickets of a merge, locked, the target followed through earlier merges."""
    source = tickets.load(session, source_id, lock=True)
    into = followed(session, into_id, lock=True)
    for wanted, found in ((source_id, source), (into_id, into)):
        if found is None:
            raise TicketNotFound(f"no ticket #{wanted}")
    assert source is not None and into is not None
    return source, into


