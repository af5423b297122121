"""Satisfaction by mail: when a ticket is resolved its requester is asked, once, to rate it by
replying with a digit or a word; the answer lands on the ticket as a `satisfaction` event and never
reopens it.

The survey goes to the requester alone, only for a queue that asks for it (`[[queues]]
satisfaction`, else `[satisfaction] enabled`), never for spam or for a ticket a robot's mail opened.
An answer counts when it cites the survey and comes from the requester; an answer that does not
open with a rating (maildesk.policy.satisfaction) is an ordinary reply.
"""

from __future__ import annotations

from datetime import datetime

from maildesk.domain import Direction, InboundState, Status, TicketId
from maildesk.domain.ticket import Record, TicketState
from maildesk.mail.quotes import split_reply
from maildesk.notices.notifier import Draft
from maildesk.pipeline import merge, notices
from maildesk.pipeline.context import Desk
from maildesk.pipeline.outcome import Handled
from maildesk.pipeline.turn import Turn
from maildesk.policy.satisfaction import parse_rating
from maildesk.store import events, messages, participants
from maildesk.store.db import Session

SURVEY = "survey"
RATING = "satisfaction"
_DONE = (Status.RESOLVED, Status.CLOSED)
#: Endings that are not the work resolved: the requester's own, a merge, the sweep's.
_NOT_RESOLVED = frozenset({"requester_solved", "requester_canceled", merge.MERGED, "no_response",
                           "resolved_timeout"})


def asks(desk: Desk, queue: str) -> bool:
    """Whether tickets of `queue` get the survey."""
    own = next((q.satisfaction for q in desk.settings.routing.queues if q.name == queue), None)
    return desk.settings.satisfaction.enabled if own is None else own


def survey(desk: Desk, session: Session, before: TicketState, after: TicketState, actor: str,
           now: datetime) -> list[Draft]:
    """The survey owed now that an agent or an admin resolved (or closed) the ticket, recorded as a
    `survey` event; none when one was sent before, or the queue does not ask, or nobody human would
    get it."""
    if after.status not in _DONE or before.status in (*_DONE, Status.CANCELED) or after.spam:
        return []
    if after.close_reason in _NOT_RESOLVED or not asks(desk, after.queue):
        return []
    if events.has_kind(session, after.id, SURVEY) or messages.opening_verdict(session, after.id) != "human":
        return []
    people = participants.of_ticket(session, after.id)
    if not people:
        return []
    requester = people[0][0]
    asked = Record(SURVEY, "ticket resolved", {"to": requester.email})
    desk.writer.record(session, after.id, now, actor, asked)
    return [desk.notifier.ticket_notice(SURVEY, notices.summary(session, after, requester), [requester], {},
                                        messages.thread_ids(session, after.id), now)]


def recognise(t: Turn) -> TicketState | None:
    """The ticket whose survey this mail answers with a rating, from its requester; else None."""
    if t.mail.verdict.machine:
        return None
    asked = messages.survey_cited(t.session, t.mail.parsed.thread_ids)
    ticket = merge.followed(t.session, asked, lock=True) if asked is not None else None
    if ticket is None or parse_rating(split_reply(t.mail.parsed.text).new_text) is None:
        return None
    people = participants.of_ticket(t.session, ticket.id)
    return ticket if people and people[0][0].key == t.mail.sender.key else None


def take(t: Turn, ticket: TicketState) -> Handled:
    """Keep the rating and its comment on the ticket: an event and the message, nothing else changes."""
    parsed = t.mail.parsed
    new_text = split_reply(parsed.text).new_text
    rating = parse_rating(new_text)
    assert rating is not None  # recognise() said so
    t.desk.writer.record(t.session, ticket.id, t.now, f"contact:{ticket.requester_id}", Record(
        RATING, f"rated {rating.score} of 5", {"rating": rating.score, "comment": rating.comment}))
    messages.add(t.session, messages.NewMessage(
        ticket_id=ticket.id, inbound_id=t.row.id, direction=Direction.INBOUND, message_id=parsed.message_id,
        from_email=t.mail.sender.key, from_name=t.mail.sender.name, subject=parsed.subject, text=parsed.text,
        new_text=new_text, verdict=t.mail.verdict.kind.value, created_at=t.now), t.mail.files)
    return Handled(InboundState.DONE, TicketId(ticket.id), (), f"satisfaction rating {rating.score}")
