"""Our own mail bounced: a delivery report fails the outbox row it names, blocks an address that
failed for good, and tells the assignee (else the ticket's agents) — RELIABILITY.md L2d.

The report itself is filed on its ticket by the requester path (as internal machine mail); this is
what it means for what we send.
"""

from __future__ import annotations

from datetime import datetime

from maildesk.domain import Address
from maildesk.domain.ticket import Record, TicketState
from maildesk.mail.machine import MailKind, Verdict
from maildesk.notices.notifier import Draft
from maildesk.pipeline import notices
from maildesk.pipeline.context import Desk
from maildesk.store import outbox, undeliverable
from maildesk.store.db import Session
from maildesk.store.outbox import SentMail


def consequences(desk: Desk, session: Session, ticket: TicketState, verdict: Verdict,
                 now: datetime) -> list[Draft]:
    """What a report that our mail bounced changes; the notes for the agents."""
    if verdict.kind is not MailKind.BOUNCE or not verdict.original_message_id:
        return []
    sent = outbox.by_message_id(session, verdict.original_message_id)
    if sent is None:
        return []
    failed = [a for a in verdict.bounced_recipients if a in {r.lower() for r in sent.rcpt_to}] or \
        [r.lower() for r in sent.rcpt_to]
    why = "bounced: " + ", ".join(verdict.reasons)
    outbox.mark_bounced(session, sent.id, why)
    if verdict.hard_bounce:
        for address in failed:
            undeliverable.block(session, address, now + desk.undeliverable_for, why, sent.id, now)
    detail = {"outbox_id": sent.id, "mail_kind": sent.kind, "addresses": failed,
              "hard": bool(verdict.hard_bounce)}
    desk.writer.record(session, ticket.id, now, "system", Record("bounce", why, detail))
    return _tell_agents(desk, session, ticket, sent, failed, verdict, now)


def _tell_agents(desk: Desk, session: Session, ticket: TicketState, sent: SentMail, failed: list[str],
                 verdict: Verdict, now: datetime) -> list[Draft]:
    text = (f"Our {sent.kind} mail to {', '.join(failed)} bounced "
            f"({'permanent' if verdict.hard_bounce else 'temporary'} failure).\n" +
            (f"No more mail goes to that address for {desk.undeliverable_for.days} days.\n"
             if verdict.hard_bounce else "") + "Reasons: " + ", ".join(verdict.reasons))
    me = Address(desk.notifier.identity.address, desk.notifier.identity.name)
    summary = notices.summary(session, ticket)
    targets = notices.agents_to_notify(desk, session, ticket)
    assignee = [(i, a) for i, a in targets if i == ticket.assignee_id]
    return [desk.notifier.agent_note(summary, agent, me, text, now, reply_to=desk.reply_to(ticket.id,
                                                                                           agent_id))
            for agent_id, agent in assignee or targets]
