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

from maildesk.config import Settings
from maildesk.domain import Address, Direction
from maildesk.mail.compose import OutgoingAttachment
from maildesk.mail.machine import Verdict
from maildesk.mail.parse import ParsedMail
from maildesk.mail.quotes import split_reply
from maildesk.mail.tokens import TokenClaim, parse_reply_address, reply_address, verify
from maildesk.notices.notifier import Draft, Notifier, TicketSummary
from maildesk.policy.commands import Forward, ParsedCommands
from maildesk.store import repo
from maildesk.store import selfservice as store
from maildesk.store.blobs import BlobStore
from maildesk.store.db import Session
from maildesk.store.models import Ticket
from maildesk.store.repo import LockedInbound

log = logging.getLogger(__name__)
#: Files bigger than this in total are named in the forward instead of attached.
FORWARD_ATTACHMENT_LIMIT = 10 * 1024 * 1024


@dataclass(frozen=True)
class Outreach:
    """What talking to third parties needs from the desk."""

    settings: Settings
    notifier: Notifier
    blobs: BlobStore
    secret: str

    def reply_to(self, ticket_id: int, party_id: int) -> Address:
        """The signed address a third party answers to."""
        return Address(reply_address(self.settings.desk.address, self.secret, ticket_id, party_id, kind="x"),
                       self.settings.desk.name)


def forwards(out: Outreach, session: Session, ticket: Ticket, summary: TicketSummary, agent: Address,
             actor: str, commands: ParsedCommands, now: datetime) -> list[Draft]:
    """One forward per `#forward` address: the requester's last mail and files, the agent's note on top."""
    targets = [c.address for c in commands.commands if isinstance(c, Forward)]
    if not targets:
        return []
    last = store.last_requester_message(session, ticket.id, summary.requester.key)
    files = _files(out.blobs, last.files) if last is not None else ()
    named = ", ".join(f for f, _, _ in last.files) if last is not None and not files else ""
    missing = f"\n\n[files not attached: {named}]" if named else ""
    extra = {"note": commands.text.strip(), "agent_name": agent.name or agent.email,
             "original_from": summary.requester.name or "(the requester)",
             "original_date": last.created_at.strftime("%Y-%m-%d %H:%M UTC") if last else "",
             "original_text": (last.text if last else "") + missing}
    drafts = []
    for address in targets:
        party = store.add_third_party(session, ticket.id, address, agent.key, now)
        repo.add_event(session, ticket.id, now, actor, "forward", "agent command",
                       to=address, third_party=party)
        drafts.append(out.notifier.third_party_forward(summary, Address(address), extra,
                                                       out.reply_to(ticket.id, party), files, now))
    return drafts


def _files(blobs: BlobStore, files: tuple[tuple[str, str, str], ...]) -> tuple[OutgoingAttachment, ...]:
    loaded = tuple(OutgoingAttachment(name, ctype, blobs.get(digest)) for name, ctype, digest in files)
    return () if sum(len(f.data) for f in loaded) > FORWARD_ATTACHMENT_LIMIT else loaded


@dataclass(frozen=True)
class ThirdPartyMail:
    """A mail proven to answer a forward: which ticket, and whom we forwarded to."""

    ticket_id: int
    party_email: str
    proof: str


def recognise(out: Outreach, session: Session, parsed: ParsedMail, row: LockedInbound,
              sender: Address) -> ThirdPartyMail | None:
    """Whether this mail is a third party's answer: a valid `x` token among its recipients, or a
    reply citing our forward from the address we forwarded to."""
    for claim in _claims(out, parsed, row):
        party = store.third_party_email(session, claim.who, claim.ticket_id)
        if party is not None and verify(claim, out.secret):
            return ThirdPartyMail(claim.ticket_id, party, "token")
    cited = store.forward_cited(session, parsed.thread_ids)
    if cited is not None and cited[1] == sender.key:
        return ThirdPartyMail(cited[0], cited[1], "references")
    return None


def _claims(out: Outreach, parsed: ParsedMail, row: LockedInbound) -> list[TokenClaim]:
    addresses = (*row.rcpt_to, *(a.email for a in (*parsed.to, *parsed.cc)))
    claims = [parse_reply_address(a, out.settings.desk.address) for a in addresses]
    return [c for c in claims if c is not None and c.kind == "x"]


def receive(out: Outreach, session: Session, mail: ThirdPartyMail, parsed: ParsedMail, row: LockedInbound,
            sender: Address, verdict: Verdict, blobs: tuple[str, ...], now: datetime) -> list[Draft]:
    """Store the answer as an internal entry and tell the agents; a robot's answer is only stored."""
    ticket = session.get(Ticket, mail.ticket_id)
    if ticket is None or store.has_message(session, ticket.id, parsed.message_id):
        return []
    new_text = split_reply(parsed.text).new_text
    repo.add_message(session, repo.NewMessage(
        ticket_id=ticket.id, inbound_id=row.id, direction=Direction.INTERNAL, message_id=parsed.message_id,
        from_email=sender.key, from_name=sender.name, subject=parsed.subject, text=parsed.text,
        new_text=new_text, verdict="third_party", verdict_reasons=verdict.reasons, created_at=now),
        parsed.attachments, blobs)
    repo.add_event(session, ticket.id, now, f"third_party:{sender.key}", "third_party_reply", mail.proof,
                   forwarded_to=mail.party_email, machine=verdict.machine)
    if verdict.machine:
        return []  # A vendor's auto-acknowledgement is kept, but wakes nobody.
    return _tell_agents(out, session, ticket, sender, new_text, parsed, now)


def _tell_agents(out: Outreach, session: Session, ticket: Ticket, sender: Address, text: str,
                 parsed: ParsedMail, now: datetime) -> list[Draft]:
    agents = repo.active_agents_with_ids(session)
    wanted = {store.forwarded_by(session, ticket.id, sender.key)}
    chosen = [(i, a) for i, a in agents if i == ticket.assignee_id or a.key in wanted] or agents
    people = repo.participants(session, ticket.id)
    summary = TicketSummary(id=ticket.id, subject=ticket.subject, status=ticket.status,
                            priority=ticket.priority, category=ticket.category, language=ticket.language,
                            requester=people[0][0])
    files = tuple(OutgoingAttachment(a.filename, a.content_type, a.data) for a in parsed.attachments)
    extra = {"text": text, "from_name": sender.name or sender.email, "from_email": sender.email}
    desk = out.settings.desk
    return [out.notifier.third_party_reply(
        summary, agent, extra, Address(reply_address(desk.address, out.secret, ticket.id, i), desk.name),
        files, now) for i, agent in chosen]
