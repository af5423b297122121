"""Who hears of a requester's mail: the acknowledgement, the agents' notices, the rules' notices.

Drafts only; they reach the outbox through maildesk.outbound.gate once the handler is done. A notice
whose template fails to render costs the mail nothing: the ticket stands, the failure is recorded on
it (`notice_failed`, with the file and line) and the admin is told, at most once an hour.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping

from maildesk.domain import Address
from maildesk.domain.ticket import Record, TicketState
from maildesk.errors import ConfigError
from maildesk.notices.alerts import admin_alert
from maildesk.notices.notifier import Draft, MailSummary, TicketSummary
from maildesk.pipeline import kb, proofs
from maildesk.pipeline.context import Desk
from maildesk.pipeline.routing import ABUSIVE, ack_template, rule_notices
from maildesk.pipeline.turn import Turn
from maildesk.policy.acks import AckMode, decide_ack
from maildesk.policy.rules import RuleOutcome
from maildesk.store import contacts, participants
from maildesk.store.db import Session

log = logging.getLogger(__name__)


def summary(session: Session, ticket: TicketState, requester: Address | None = None) -> TicketSummary:
    """The facts of `ticket` that notices show (`requester` when the caller knows it already)."""
    requester = requester or participants.of_ticket(session, ticket.id)[0][0]
    return TicketSummary(id=ticket.id, subject=ticket.subject, status=ticket.status, priority=ticket.priority,
                         category=ticket.category, language=ticket.language, requester=requester,
                         type=ticket.type, queue=ticket.queue)


def agents_to_notify(desk: Desk, session: Session, ticket: TicketState) -> list[tuple[int, Address]]:
    """`all`: every active agent; `queue`: the queue's team if it names one; `assignee`: the
    assignee once there is one, else as `queue`."""
    agents = contacts.active_agents(session)
    mode = desk.settings.agents.notify
    if mode == "assignee" and ticket.assignee_id is not None:
        return [(i, a) for i, a in agents if i == ticket.assignee_id]
    team = desk.routing.queue_agents(ticket.queue) if mode != "all" else frozenset()
    return [(i, a) for i, a in agents if not team or a.key in team]


def signed_for(desk: Desk, session: Session, ticket_id: int, address: str) -> Address | None:
    """The signed Reply-To of `address` on the ticket when it is an active agent's, else None: every
    mail the desk sends an agent lets them answer as that agent."""
    agent_id = contacts.active_agent_id(session, address)
    return desk.reply_to(ticket_id, agent_id) if agent_id is not None else None


def for_requester_mail(t: Turn, ticket: TicketState, summary_: TicketSummary, mail: MailSummary,
                       outcome: RuleOutcome, new: bool) -> list[Draft]:
    """A person's mail on `ticket`: the acknowledgement of a new ticket, a notice to each agent who
    should hear of it (never its own writer; nobody for spam), what the rules asked for, and the
    queue's lead for an abusive mail."""
    desk = t.desk
    drafts = rendered(t, ticket.id, "acknowledgement",
                      lambda: acknowledgement(t, ticket, summary_, mail, outcome)) if new else []
    kind = "agent_new" if new else "agent_reply"
    for agent_id, agent in [] if ticket.spam else agents_to_notify(desk, t.session, ticket):
        if agent.key != mail.sender.key:
            notice = functools.partial(_agent_notice, t, kind, summary_, agent_id, agent, mail)
            drafts += rendered(t, ticket.id, kind, notice)
    drafts += rendered(t, ticket.id, "rule notices", lambda: rule_notices(
        desk.notifier, summary_, mail, outcome, t.now, lambda to: signed_for(desk, t.session, ticket.id, to)))
    drafts += rendered(t, ticket.id, "abusive_lead", lambda: lead_notice(t, ticket, summary_, mail, outcome))
    return drafts


def _agent_notice(t: Turn, kind: str, summary_: TicketSummary, agent_id: int, agent: Address,
                  mail: MailSummary) -> list[Draft]:
    return [t.desk.notifier.agent_notice(kind, summary_, agent, mail, t.now,
                                         reply_to=t.desk.reply_to(summary_.id, agent_id))]


def lead_notice(t: Turn, ticket: TicketState, summary_: TicketSummary, mail: MailSummary,
                outcome: RuleOutcome) -> list[Draft]:
    """An abusive mail (by the classifier or a rule's `abusive` tag) raised to the queue's lead."""
    lead = t.desk.routing.lead_of(ticket.queue)
    if ABUSIVE not in outcome.tags or not lead or lead == mail.sender.key:
        return []
    reply_to = signed_for(t.desk, t.session, ticket.id, lead)
    return [t.desk.notifier.rule_notice("abusive_lead", summary_, Address(lead), mail, t.now, reply_to,
                                        extra={"abuse": list(outcome.abuse)}, kind="abusive_lead")]


def rendered(t: Turn, ticket_id: int, what: str, make: Callable[[], list[Draft]]) -> list[Draft]:
    """The drafts `make` renders; when a template fails, the failure on the ticket and an alert for
    the admin instead (held by the brakes after the first in an hour)."""
    try:
        return make()
    except ConfigError as exc:
        reason = f"{what} not sent: {exc}"
        log.error("ticket=%s %s", ticket_id, reason)
        t.desk.writer.record(t.session, ticket_id, t.now, "system", Record("notice_failed", reason,
                                                                          {"notice": what}))
        alert = admin_alert(t.desk.settings, "a notice template failed",
                            f"Ticket #{ticket_id}: {reason}\n\nRun `maildesk doctor` to see every template "
                            "that fails.", t.now, kind="template_failed")
        return [alert] if alert is not None else []


def acknowledgement(t: Turn, ticket: TicketState, summary_: TicketSummary, mail: MailSummary,
                    outcome: RuleOutcome) -> list[Draft]:
    """The acknowledgement of a new ticket, with knowledge-base suggestions; none when rules say so.
    A sender nothing vouches for gets a neutral one (or none), an abusive mail a neutral one."""
    if outcome.spam or outcome.suppress_ack:
        why = "spam" if outcome.spam else "suppress_ack"
        t.desk.writer.record(t.session, ticket.id, t.now, "system",
                             Record("suppressed", f"acknowledgement withheld by rules: {why}"))
        return []
    settings = t.desk.settings
    proof = proofs.sender_proof(t.mail.parsed.headers, settings.agents.trusted_hosts, mail.sender.email,
                                t.row.mail_from)
    decision = decide_ack(proof, settings.brakes.unverified_acks)
    reply_to = t.desk.requester_reply_to(ticket.id, ticket.requester_id)
    if decision.mode is not AckMode.FULL:
        detail = {"mode": decision.mode.value, "from_domain": proof.from_domain,
                  "envelope_domain": proof.envelope_domain}
        t.desk.writer.record(t.session, ticket.id, t.now, "system", Record("ack_unverified", decision.reason,
                                                                          detail))
        if decision.mode is AckMode.HOLD:
            return []
        return [t.desk.notifier.neutral_acknowledgement(summary_, summary_.requester, mail.message_id, t.now,
                                                        reply_to)]
    if ABUSIVE in ticket.tags:
        # Neutral, and quoting nothing of the mail: no subject, no suggestions drawn from its words.
        return [t.desk.notifier.acknowledgement(summary_, mail, t.now, "ack_abusive", reply_to=reply_to)]
    template = ack_template(t.desk.notifier.renderer, ticket.category, ticket.language, ticket.type)
    articles = suggestions(t, ticket, mail)
    return [t.desk.notifier.acknowledgement(summary_, mail, t.now, template, articles, reply_to=reply_to)]


def suggestions(t: Turn, ticket: TicketState, mail: MailSummary) -> list[Mapping[str, str]]:
    """Knowledge-base articles for a new ticket's acknowledgement, recorded as an event."""
    found = kb.suggest(t.session, t.desk.settings.selfservice, ticket.subject, mail.text, ticket.language)
    if found:
        detail = {"articles": [{"slug": s.slug, "score": s.score} for s in found]}
        t.desk.writer.record(t.session, ticket.id, t.now, "system", Record("kb_suggested", "", detail))
    return [{"title": s.title, "url": s.url} for s in found]
