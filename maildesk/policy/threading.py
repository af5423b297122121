"""Decide which ticket an inbound mail belongs to (DESIGN.md decision 4). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from maildesk.domain import FINAL_STATUSES, Status


@dataclass(frozen=True)
class TicketView:
    """What threading needs to know about an existing ticket."""

    id: int
    status: Status
    participants: frozenset[str]
    closed_at: datetime | None


@dataclass(frozen=True)
class ThreadFacts:
    """What the pipeline found for one mail: the tagged ticket, the referenced one, our ids it cites."""

    sender: str
    tagged: TicketView | None
    referenced: TicketView | None
    cites_our_mail_on: frozenset[int]
    machine: bool
    now: datetime
    reopen_closed_days: int


@dataclass(frozen=True)
class NewTicket:
    """Open a new ticket; `linked_to` names an older ticket it continues, if any."""

    reason: str
    linked_to: int | None = None


@dataclass(frozen=True)
class FollowUp:
    """Append to ticket `ticket_id`; `new_status` is set when the reply moves it."""

    ticket_id: int
    reason: str
    new_status: Status | None = None


ThreadDecision = NewTicket | FollowUp


def decide_thread(facts: ThreadFacts) -> ThreadDecision:
    """Follow up on the tagged (else referenced) ticket when the sender may; otherwise a new ticket."""
    candidate, how = (facts.tagged, "subject tag") if facts.tagged else (facts.referenced, "references")
    if candidate is None:
        return NewTicket("no tag or reference to a known ticket")
    proven = candidate.id in facts.cites_our_mail_on
    if facts.sender not in candidate.participants and not proven:
        # Anyone can type [#42]; only people on the ticket, or who hold our mail, may add to it.
        return NewTicket(f"sender is not on #{candidate.id} and cites none of its mail ({how})")
    return _follow_up(candidate, facts, how if not proven else f"{how}, cites our mail")


def _follow_up(ticket: TicketView, facts: ThreadFacts, how: str) -> ThreadDecision:
    if facts.machine:
        # Robots never move a ticket: an out-of-office is not the requester's answer.
        return FollowUp(ticket.id, f"{how}; machine mail changes nothing")
    if ticket.status in FINAL_STATUSES:
        return _reply_to_closed(ticket, facts, how)
    if ticket.status in (Status.PENDING, Status.RESOLVED):
        return FollowUp(ticket.id, f"{how}; requester reply reopens", Status.OPEN)
    return FollowUp(ticket.id, how)


def _reply_to_closed(ticket: TicketView, facts: ThreadFacts, how: str) -> ThreadDecision:
    window = timedelta(days=facts.reopen_closed_days)
    if ticket.closed_at is not None and facts.now - ticket.closed_at <= window:
        return FollowUp(ticket.id, f"{how}; reply within {facts.reopen_closed_days} days of closing reopens",
                        Status.OPEN)
    return NewTicket(f"#{ticket.id} is {ticket.status} for more than {facts.reopen_closed_days} days",
                     linked_to=ticket.id)
