"""Our own mail bounced: a delivery report fails the outbox row it names, blocks an address that
failed for good, and tells the assignee (else the ticket's agents) — RELIABILITY.md L2d.

The report itself is filed on its ticket by the requester path (as internal machine mail); this is
what it means for what we send.
"""

from __future__ import annotations

from maildesk.domain import Address
from maildesk.domain.ticket import Record, TicketState
from maildesk.mail.machine import MailKind
from maildesk.notices.notifier import Draft
from maildesk.pipeline import notices
from maildesk.pipeline.turn import Turn
from maildesk.store import outbox, undeliverable
from maildesk.store.outbox import SentMail


def consequences(t: Turn, ticket: TicketState) -> list[Draft]:
    """What a report that our mail bounced changes; the notes for the agents."""
    verdict = t.mail.verdict
    if verdict.kind is not MailKind.BOUNCE or not verdict.original_message_id:
        return []
    sent = outbox.by_message_id(t.session, verdict.original_message_id)
    if sent is None:
        return []
    failed = [a for a in verdict.bounced_recipients if a in {r.lower() for r in sent.rcpt_to}] or \
        [r.lower() for r in sent.rcpt_to]
    why = "bounced: " + ", ".join(verdict.reasons)
    outbox.mark_bounced(t.session, sent.id, why)
    if verdict.hard_bounce:
        for address in failed:
            undeliverable.block(t.session, address, t.now + t.desk.undeliverable_for, why, sent.id, t.now)
    detail = {"outbox_id": sent.id, "mail_kind": sent.kind, "addresses": failed,
              "hard": bool(verdict.hard_bounce)}
    t.desk.writer.record(t.session, ticket.id, t.now, "system", Record("bounce", why, detail))
    return _tell_agents(t, ticket, sent, failed)


def _tell_agents(t: Turn, ticket: TicketState, sent: SentMail, failed: list[str]) -> list[Draft]:
    verdict, desk = t.mail.verdict, t.desk
    text = (f"Our {sent.kind} mail to {', '.join(failed)} bounced "
            f"({'permanent' if verdict.hard_bounce else 'temporary'} failure).\n" +
            (f"No more mail goes to that address for {desk.undeliverable_for.days} days.\n"
             if verdict.hard_bounce else "") + "Reasons: " + ", ".join(verdict.reasons))
    me = Address(desk.notifier.identity.address, desk.notifier.identity.name)
    summary = notices.summary(t.session, ticket)
    targets = notices.agents_to_notify(desk, t.session, ticket)
    assignee = [(i, a) for i, a in targets if i == ticket.assignee_id]
    return [desk.notifier.agent_note(summary, agent, me, text, t.now, reply_to=desk.reply_to(ticket.id,
                                                                                             agent_id))
            for agent_id, agent in assignee or targets]
