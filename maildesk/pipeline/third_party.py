"""Third parties on a ticket: `#forward ADDRESS` sends them the request, their answers come back
internal.

The forward goes out from the support address with a signed Reply-To of kind ``x``
(``support+t42.x7.<mac>@…``, 7 being the third party's row), so an answer proves which ticket it
belongs to without making its writer a participant. Answers are stored as INTERNAL messages and
shown to the agents; nothing a third party writes ever reaches the requester unless an agent
relays it in a reply of their own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from maildesk.domain import Address, Direction, InboundState, TicketId
from maildesk.domain.ticket import Record, TicketState
from maildesk.mail.compose import OutgoingAttachment
from maildesk.mail.quotes import split_reply
from maildesk.mail.tokens import TokenClaim, parse_reply_address, verify
from maildesk.notices.notifier import Draft, TicketSummary
from maildesk.pipeline import notices
from maildesk.pipeline.context import Desk
from maildesk.pipeline.outcome import Handled
from maildesk.pipeline.prepare import Arrival
from maildesk.policy.commands import Forward, ParsedCommands
from maildesk.store import contacts, messages, outbox, participants, third_parties, tickets
from maildesk.store.db import Session
from maildesk.store.inbound import LockedInbound

log = logging.getLogger(__name__)
#: Files bigger than this in total are named in the forward instead of attached.
FORWARD_ATTACHMENT_LIMIT = 10 * 1024 * 1024


def forwards(desk: Desk, session: Session, ticket: TicketState, summary: TicketSummary, agent: Address,
             actor: str, commands: ParsedCommands, now: datetime) -> list[Draft]:
    """One forward per `#forward` address: the requester's last mail and files, the agent's note on top."""
    targets = [c.address for c in commands.commands if isinstance(c, Forward)]
    if not targets:
        return []
    last = messages.last_from(session, ticket.id, summary.requester.key)
    files = _files(desk, last.files) if last is not None else ()
    named = ", ".join(f for f, _, _ in last.files) if last is not None and not files else ""
    missing = f"\n\n[files not attached: {named}]" if named else ""
    extra = {"note": commands.text.strip(), "agent_name": agent.name or agent.email,
             "original_from": summary.requester.name or "(the requester)",
             "original_date": last.created_at.strftime("%Y-%m-%d %H:%M UTC") if last else "",
             "original_text": (last.text if last else "") + missing}
    drafts = []
    for address in targets:
        party = third_parties.add(session, ticket.id, address, agent.key, now)
        desk.writer.record(session, ticket.id, now, actor, Record("forward", "agent command",
                                                                  {"to": address, "third_party": party}))
        drafts.append(desk.notifier.third_party_forward(summary, Address(address), extra,
                                                        desk.party_reply_to(ticket.id, party), files, now))
    return drafts


def _files(desk: Desk, files: tuple[tuple[str, str, str], ...]) -> tuple[OutgoingAttachment, ...]:
    loaded = tuple(OutgoingAttachment(name, ctype, desk.blobs.get(digest)) for name, ctype, digest in files)
    return () if sum(len(f.data) for f in loaded) > FORWARD_ATTACHMENT_LIMIT else loaded


@dataclass(frozen=True)
class ThirdPartyMail:
    """A mail proven to answer a forward: which ticket, and whom we forwarded to."""

    ticket_id: int
    party_email: str
    proof: str


def recognise(desk: Desk, session: Session, mail: Arrival, row: LockedInbound) -> ThirdPartyMail | None:
    """Whether this mail is a third party's answer: a valid `x` token among its recipients, or a
    reply citing our forward from the address we forwarded to."""
    for claim in _claims(desk, mail, row):
        party = third_parties.email_of(session, claim.who, claim.ticket_id)
        if party is not None and verify(claim, desk.secret):
            return ThirdPartyMail(claim.ticket_id, party, "token")
    cited = outbox.forward_cited(session, mail.parsed.thread_ids)
    if cited is not None and cited[1] == mail.sender.key:
        return ThirdPartyMail(cited[0], cited[1], "references")
    return None


def _claims(desk: Desk, mail: Arrival, row: LockedInbound) -> list[TokenClaim]:
    addresses = (*row.rcpt_to, *(a.email for a in (*mail.parsed.to, *mail.parsed.cc)))
    claims = [parse_reply_address(a, desk.settings.desk.address) for a in addresses]
    return [c for c in claims if c is not None and c.kind == "x"]


def take(desk: Desk, session: Session, answer: ThirdPartyMail, mail: Arrival, row: LockedInbound,
         now: datetime) -> Handled:
    """Store the answer as an internal entry and tell the agents; a robot's answer is only stored."""
    reason = f"third party's answer kept internal ({answer.proof})"
    ticket = tickets.load(session, answer.ticket_id)
    parsed, sender, verdict = mail.parsed, mail.sender, mail.verdict
    if ticket is None or messages.has_message(session, ticket.id, parsed.message_id):
        return Handled(InboundState.DONE, TicketId(answer.ticket_id), (), reason)
    new_text = split_reply(parsed.text).new_text
    messages.add(session, messages.NewMessage(
        ticket_id=ticket.id, inbound_id=row.id, direction=Direction.INTERNAL, message_id=parsed.message_id,
        from_email=sender.key, from_name=sender.name, subject=parsed.subject, text=parsed.text,
        new_text=new_text, verdict="third_party", verdict_reasons=verdict.reasons, created_at=now),
        mail.files)
    desk.writer.record(session, ticket.id, now, f"third_party:{sender.key}", Record(
        "third_party_reply", answer.proof, {"forwarded_to": answer.party_email, "machine": verdict.machine}))
    if verdict.machine:
        return Handled(InboundState.DONE, TicketId(ticket.id), (), reason)  # kept, but wakes nobody
    return Handled(InboundState.DONE, TicketId(ticket.id), tuple(_tell_agents(desk, session, ticket, mail,
                                                                              new_text,
                                                                              now)), reason)


def _tell_agents(desk: Desk, session: Session, ticket: TicketState, mail: Arrival, text: str,
                 now: datetime) -> list[Draft]:
    sender = mail.sender
    agents = contacts.active_agents(session)
    wanted = {third_parties.forwarded_by(session, ticket.id, sender.key)}
    chosen = [(i, a) for i, a in agents if i == ticket.assignee_id or a.key in wanted] or agents
    summary = notices.summary(session, ticket, participants.of_ticket(session, ticket.id)[0][0])
    files = tuple(OutgoingAttachment(a.filename, a.content_type, a.data) for a in mail.parsed.attachments)
    extra = {"text": text, "from_name": sender.name or sender.email, "from_email": sender.email}
    return [desk.notifier.third_party_reply(summary, agent, extra, desk.reply_to(ticket.id, i), files, now)
            for i, agent in chosen]
