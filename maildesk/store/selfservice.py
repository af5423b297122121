"""Rows and queries for requesters' self-service: third parties on tickets, one's own tickets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from maildesk.domain import Direction
from maildesk.store.models import Attachment, Base, Contact, Id, Message, Outbox, Ticket, UtcDateTime


class ThirdParty(Base):
    """Someone outside the desk (a vendor, another department) an agent brought into a ticket.

    Their id is the `x` number in their signed reply address, so a reply proves which ticket."""

    __tablename__ = "third_parties"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(Id, ForeignKey("tickets.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    added_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


def add_third_party(session: Session, ticket_id: int, email: str, added_by: str, now: datetime) -> int:
    """The id of `email` as a third party on the ticket, added on first use."""
    found = session.scalars(select(ThirdParty.id).where(
        ThirdParty.ticket_id == ticket_id, ThirdParty.email == email.lower())).first()
    if found is not None:
        return found
    row = ThirdParty(ticket_id=ticket_id, email=email.lower(), added_by=added_by, created_at=now)
    session.add(row)
    session.flush()
    return row.id


def third_party_email(session: Session, party_id: int, ticket_id: int) -> str | None:
    """The address of third party `party_id` if it belongs to ticket `ticket_id`."""
    row = session.get(ThirdParty, party_id)
    return row.email if row is not None and row.ticket_id == ticket_id else None


@dataclass(frozen=True)
class LastMessage:
    """The requester's latest mail on a ticket, as forwarded to a third party."""

    sender_name: str
    created_at: datetime
    text: str
    files: tuple[tuple[str, str, str], ...]  # (filename, content type, sha256)


def last_requester_message(session: Session, ticket_id: int, requester: str) -> LastMessage | None:
    """The newest mail the requester sent on the ticket, with its attachments."""
    message = session.scalars(select(Message).where(
        Message.ticket_id == ticket_id, Message.direction == Direction.INBOUND,
        Message.from_email == requester.lower())
        .order_by(Message.created_at.desc(), Message.id.desc())).first()
    if message is None:
        return None
    files = session.execute(select(Attachment.filename, Attachment.content_type, Attachment.sha256)
                            .where(Attachment.message_id == message.id).order_by(Attachment.id)).all()
    return LastMessage(message.from_name, message.created_at, message.text,
                       tuple((f, c, s) for f, c, s in files))


@dataclass(frozen=True)
class OwnTicket:
    """One line of a requester's status list."""

    id: int
    subject: str
    status: str
    updated_at: datetime


def requested_by(session: Session, email: str, statuses: Sequence[str], since: datetime | None,
                 limit: int) -> list[OwnTicket]:
    """Tickets whose *requester* is `email` (not those it was only copied on), newest change first.

    Spam-flagged tickets are left out: they were never acknowledged as requests."""
    query = (select(Ticket.id, Ticket.subject, Ticket.status, Ticket.updated_at)
             .join(Contact, Contact.id == Ticket.requester_id)
             .where(Contact.email == email.lower(), Ticket.status.in_(list(statuses)),
                    Ticket.spam.is_(False))
             .order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(limit))
    if since is not None:
        query = query.where(Ticket.updated_at >= since)
    return [OwnTicket(i, s, st, u) for i, s, st, u in session.execute(query).all()]


def forward_cited(session: Session, thread_ids: Sequence[str]) -> tuple[int, str] | None:
    """(ticket, third party) when the mail answers one of our forwards to a third party: a reply sent
    to the support address instead of the signed Reply-To still belongs to that ticket, internal."""
    if not thread_ids:
        return None
    row = session.execute(select(Outbox.ticket_id, Outbox.rcpt_to).where(
        Outbox.message_id.in_(list(thread_ids)), Outbox.kind == "third_party_forward")).first()
    if row is None or row[0] is None or not row[1]:
        return None
    return int(row[0]), str(row[1][0]).lower()


def has_message(session: Session, ticket_id: int, message_id: str) -> bool:
    """Whether the ticket already holds a message with this Message-ID (a re-delivered mail)."""
    return bool(message_id) and session.scalars(select(Message.id).where(
        Message.ticket_id == ticket_id, Message.message_id == message_id)).first() is not None


def forwarded_by(session: Session, ticket_id: int, email: str) -> str:
    """The agent who brought `email` into the ticket, or ""."""
    found = session.scalars(select(ThirdParty.added_by).where(
        ThirdParty.ticket_id == ticket_id, ThirdParty.email == email.lower())).first()
    return found or ""
