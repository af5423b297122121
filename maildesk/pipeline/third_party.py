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

from maildesk.domain import Address, Direction, InboundState, TicketId
from maildesk.domain.ticket import Record, TicketState
from maildesk.mail.compose import OutgoingAttachment
from maildesk.mail.quotes import split_reply
from maildesk.mail.tokens import TokenClaim, parse_reply_address, verify
from maildesk.notices.notifier import Draft, TicketSummary
from maildesk.pipeline import merge, notices
from maildesk.pipeline.context import Desk
from maildesk.pipeline.outcome import Handled
from maildesk.pipeline.turn import Turn
from maildesk.policy.commands import Forward, ParsedCommands
from maildesk.store import contacts, messages, outbox, participants, third_parties

log = logging.getLogger(__name__)
#: Files bigger than this in total are named in the forward instead of attached.
FORWARD_ATTACHMENT_LIMIT = 10 * 1024 * 1024


def forwards(t: Turn, ticket: TicketState, summary: TicketSummary, agent: Address, actor: str,
             commands: ParsedCommands) -> list[Draft]:
    """One forward per `#forward` address: the requester's last mail and files, the agent's note on top."""
    desk, session, now = t.desk, t.session, t.now
    targets = [c.address for c in commands.commands if isinstance(c, Forward)]
    if not targets:
        return []
    last = messages.last_from(session, ticket.id, summary.requester.key)
    files = _files(desk, last.files) if last is not None else ()
    named = ", ".join(f for f, _, _ in last.files) if last is not None and not files else ""
    missing = f"\n\n[files not attached: {named}]" if named else ""
    extra = {"note": commands.text.strip(), "agent_name": agent.name or agent.email,
             "original_from": summary.requester.name or "(the requester)",
             "original_date": desk.wall_clock(last.created_at, ticket.queue) if last else "",
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


def recognise(t: Turn) -> ThirdPartyMail | None:
    """Whether this mail is a third party's answer: a valid `x` token among its recipients, or a
    reply citing our forward from the address we forwarded to."""
    for claim in _claims(t):
        party = third_parties.email_of(t.session, claim.who, claim.ticket_id)
        if party is not None and verify(claim, t.desk.secret):
            return ThirdPartyMail(claim.ticket_id, party, "token")
    cited = outbox.forward_cited(t.session, t.mail.parsed.thread_ids)
    if cited is not None and cited[1] == t.mail.sender.key:
        return ThirdPartyMail(cited[0], cited[1], "references")
    return None


def _claims(t: Turn) -> list[TokenClaim]:
    addresses = (*t.row.rcpt_to, *(a.email for a in (*t.mail.parsed.to, *t.mail.parsed.cc)))
    claims = [parse_reply_address(a, t.desk.settings.desk.address) for a in addresses]
    return [c for c in claims if c is not None and c.kind == "x"]


def take(t: Turn, answer: ThirdPartyMail) -> Handled:
    """Store the answer as an internal entry and tell the agents; a robot's answer is only stored."""
    reason = f"third party's answer kept internal ({answer.proof})"
    # The ticket forwarded may have been merged since: the answer belongs where its thread went.
    ticket = merge.followed(t.session, answer.ticket_id)
    parsed, sender, verdict = t.mail.parsed, t.mail.sender, t.mail.verdict
    if ticket is None or messages.has_message(t.session, ticket.id, parsed.message_id):
        return Handled(InboundState.DONE, TicketId(answer.ticket_id), (), reason)
    new_text = split_reply(parsed.text).new_text
    messages.add(t.session, messages.NewMessage(
        ticket_id=ticket.id, inbound_id=t.row.id, direction=Direction.INTERNAL, message_id=parsed.message_id,
        from_email=sender.key, from_name=sender.name, subject=parsed.subject, text=parsed.text,
        new_text=new_text, verdict="third_party", verdict_reasons=verdict.reasons, created_at=t.now),
        t.mail.files)
    detail = {"forwarded_to": answer.party_email, "machine": verdict.machine}
    t.desk.writer.record(t.session, ticket.id, t.now, f"third_party:{sender.key}",
                         Record("third_party_reply", answer.proof, detail))
    # A vendor's auto-acknowledgement is kept, but wakes nobody.
    drafts = () if verdict.machine else tuple(_tell_agents(t, ticket, answer, new_text))
    return Handled(InboundState.DONE, TicketId(ticket.id), drafts, reason)


def _tell_agents(t: Turn, ticket: TicketState, answer: ThirdPartyMail, text: str) -> list[Draft]:
    sender = t.mail.sender
    agents = contacts.active_agents(t.session)
    wanted = {third_parties.forwarded_by(t.session, answer.ticket_id, sender.key)}  # on the ticket forwarded
    chosen = [(i, a) for i, a in agents if i == ticket.assignee_id or a.key in wanted] or agents
    summary = notices.summary(t.session, ticket, participants.of_ticket(t.session, ticket.id)[0][0])
    files = tuple(OutgoingAttachment(a.filename, a.content_type, a.data) for a in t.mail.parsed.attachments)
    extra = {"text": text, "from_name": sender.name or sender.email, "from_email": sender.email}
    return [t.desk.notifier.third_party_reply(summary, agent, extra, t.desk.reply_to(ticket.id, i), files,
                                              t.now)
            for i, agent in chosen]
