"""Who hears of a requester's mail: the acknowledgement, the agents' notices, the rules' notices.

Drafts only; they reach the outbox through maildesk.outbound.gate once the handler is done.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from maildesk.domain import Address
from maildesk.domain.ticket import Record, TicketState
from maildesk.notices.notifier import Draft, MailSummary, TicketSummary
from maildesk.pipeline import kb
from maildesk.pipeline.context import Desk
from maildesk.pipeline.routing import ack_template, rule_notices
from maildesk.policy.rules import RuleOutcome
from maildesk.store import contacts, participants
from maildesk.store.db import Session

log = logging.getLogger(__name__)


def summary(session: Session, ticket: TicketState, requester: Address | None = None) -> TicketSummary:
    """The facts of `ticket` that notices show (`requester` when the caller knows it already)."""
    requester = requester or participants.of_ticket(session, ticket.id)[0][0]
    return TicketSummary(id=ticket.id, subject=ticket.subject, status=ticket.status, priority=ticket.priority,
                         category=ticket.category, language=ticket.language, requester=requester)


def agents_to_notify(desk: Desk, session: Session, ticket: TicketState) -> list[tuple[int, Address]]:
    """`all`: every active agent; `queue`: the queue's team if it names one; `assignee`: the
    assignee once there is one, else as `queue`."""
    agents = contacts.active_agents(session)
    mode = desk.settings.agents.notify
    if mode == "assignee" and ticket.assignee_id is not None:
        return [(i, a) for i, a in agents if i == ticket.assignee_id]
    team = desk.routing.queue_agents(ticket.queue) if mode != "all" else frozenset()
    return [(i, a) for i, a in agents if not team or a.key in team]


def for_requester_mail(desk: Desk, session: Session, ticket: TicketState, summary_: TicketSummary,
                       mail: MailSummary, outcome: RuleOutcome, new: bool, now: datetime) -> list[Draft]:
    """A person's mail on `ticket`: the acknowledgement of a new ticket, a notice to each agent who
    should hear of it (never its own writer; nobody for spam), and what the rules asked for."""
    drafts = acknowledgement(desk, session, ticket, summary_, mail, outcome, now) if new else []
    kind = "agent_new" if new else "agent_reply"
    for agent_id, agent in [] if ticket.spam else agents_to_notify(desk, session, ticket):
        if agent.key != mail.sender.key:
            drafts.append(desk.notifier.agent_notice(kind, summary_, agent, mail, now,
                                                     reply_to=desk.reply_to(ticket.id, agent_id)))
    drafts.extend(rule_notices(desk.notifier, summary_, mail, outcome, now))
    return drafts


def acknowledgement(desk: Desk, session: Session, ticket: TicketState, summary_: TicketSummary,
                    mail: MailSummary, outcome: RuleOutcome, now: datetime) -> list[Draft]:
    """The acknowledgement of a new ticket, with knowledge-base suggestions; none when rules say so."""
    if outcome.spam or outcome.suppress_ack:
        why = "spam" if outcome.spam else "suppress_ack"
        desk.writer.record(session, ticket.id, now, "system",
                           Record("suppressed", f"acknowledgement withheld by rules: {why}"))
        return []
    template = ack_template(desk.notifier.renderer, ticket.category, ticket.language)
    articles = suggestions(desk, session, ticket, mail, now)
    return [desk.notifier.acknowledgement(summary_, mail, now, template, articles)]


def suggestions(desk: Desk, session: Session, ticket: TicketState, mail: MailSummary,
                now: datetime) -> list[Mapping[str, str]]:
    """Knowledge-base articles for a new ticket's acknowledgement, recorded as an event."""
    found = kb.suggest(session, desk.settings.selfservice, ticket.subject, mail.text, ticket.language)
    if found:
        desk.writer.record(session, ticket.id, now, "system", Record(
            "kb_suggested", "", {"articles": [{"slug": s.slug, "score": s.score} for s in found]}))
    return [{"title": s.title, "url": s.url} for s in found]
