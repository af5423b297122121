"""Queries and writes the pipeline and services share; plain values in and out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from maildesk import metrics
from maildesk.desk.threading import TicketView
from maildesk.domain import Address, Status
from maildesk.store.models import (
    Agent,
    Contact,
    Event,
    Inbound,
    KeyValue,
    Message,
    Outbox,
    Participant,
    Ticket,
)


def contact_for(session: Session, address: Address, now: datetime) -> Contact:
    """The contact for `address`, created on first sight; a known contact gains a missing name."""
    contact = session.scalars(select(Contact).where(Contact.email == address.key)).one_or_none()
    if contact is None:
        contact = Contact(email=address.key, name=address.name, created_at=now)
        try:
            # A savepoint: a worker on another machine may create the same contact at this moment,
            # and losing that race must not undo the rest of this transaction.
            with session.begin_nested():
                session.add(contact)
        except IntegrityError:
            return session.scalars(select(Contact).where(Contact.email == address.key)).one()
    elif address.name and not contact.name:
        contact.name = address.name
    return contact


def ticket_view(session: Session, ticket_id: int, lock: bool = False) -> TicketView | None:
    """What threading needs of ticket `ticket_id`, or None if there is no such ticket.

    With `lock`, the ticket row stays locked until the transaction ends, so two replies processed
    at once by different workers decide on the same ticket one after the other (PostgreSQL).
    """
    ticket = session.get(Ticket, ticket_id, with_for_update=lock or None, populate_existing=lock)
    if ticket is None:
        return None
    emails = session.scalars(
        select(Contact.email).join(Participant, Participant.contact_id == Contact.id)
        .where(Participant.ticket_id == ticket_id)
    ).all()
    return TicketView(id=ticket.id, status=Status(ticket.status), participants=frozenset(emails),
                      closed_at=ticket.closed_at)


def tickets_cited(session: Session, thread_ids: Sequence[str]) -> tuple[int | None, frozenset[int]]:
    """For the Message-IDs a mail answers: the ticket of the nearest known one, and the tickets
    whose mail *we sent* is among them (proof that the writer received our mail)."""
    if not thread_ids:
        return None, frozenset()
    ours = dict(session.execute(
        select(Outbox.message_id, Outbox.ticket_id).where(Outbox.message_id.in_(thread_ids))).all())
    theirs = dict(session.execute(
        select(Message.message_id, Message.ticket_id).where(Message.message_id.in_(thread_ids))).all())
    nearest = next((ours.get(i) or theirs.get(i) for i in thread_ids if i in ours or i in theirs), None)
    return nearest, frozenset(t for t in ours.values() if t is not None)


def add_participant(session: Session, ticket_id: int, contact_id: int, role: str) -> bool:
    """Put a contact on a ticket unless already there; True when added."""
    exists = session.scalars(select(Participant.id).where(
        Participant.ticket_id == ticket_id, Participant.contact_id == contact_id)).first()
    if exists is not None:
        return False
    session.add(Participant(ticket_id=ticket_id, contact_id=contact_id, role=role))
    return True


def participants(session: Session, ticket_id: int) -> list[tuple[Address, str]]:
    """The ticket's participants with their roles, requester first."""
    rows = session.execute(
        select(Contact.email, Contact.name, Participant.role)
        .join(Participant, Participant.contact_id == Contact.id)
        .where(Participant.ticket_id == ticket_id).order_by(Participant.id)).all()
    return [(Address(email, name), role) for email, name, role in rows]


def active_agents(session: Session) -> list[Address]:
    """Every active agent's address."""
    rows = session.execute(select(Agent.email, Agent.name).where(Agent.active.is_(True))
                           .order_by(Agent.id)).all()
    return [Address(email, name) for email, name in rows]


def add_event(session: Session, ticket_id: int, now: datetime, actor: str, kind: str,
              reason: str = "", **detail: Any) -> None:
    """Record who did what to a ticket and why."""
    metrics.count_event(kind)
    session.add(Event(ticket_id=ticket_id, at=now, actor=actor, kind=kind, detail=detail, reason=reason))


def add_outbox(session: Session, ticket_id: int | None, kind: str, message_id: str, mail_from: str,
               rcpt_to: Iterable[str], raw: bytes, now: datetime) -> int:
    """Store a composed message for delivery; return its outbox id."""
    rcpts = list(rcpt_to)
    row = Outbox(ticket_id=ticket_id, kind=kind, message_id=message_id, mail_from=mail_from,
                 rcpt_to=rcpts, recipient=rcpts[0].lower() if rcpts else "", raw=raw, state="pending",
                 attempts=0, created_at=now, next_attempt_at=now, last_error="")
    session.add(row)
    session.flush()
    return row.id


def thread_message_ids(session: Session, ticket_id: int) -> list[str]:
    """Message-IDs of the thread as the requester sees it, oldest first: their mails and what we sent
    them (never an agent's own Message-ID, which only the desk ever received)."""
    theirs = session.execute(select(Message.created_at, Message.message_id)
                             .where(Message.ticket_id == ticket_id, Message.message_id != "",
                                    Message.direction == "inbound")).all()
    ours = session.execute(select(Outbox.created_at, Outbox.message_id)
                           .where(Outbox.ticket_id == ticket_id, Outbox.kind.in_(("ack", "reply"))
                                  | Outbox.kind.like("status_%"))).all()
    return [mid for _, mid in sorted([*theirs, *ours])]


def find_inbound_by_digest(session: Session, digest: str) -> int | None:
    """The inbound row already holding these exact bytes, if any."""
    return session.scalars(select(Inbound.id).where(Inbound.sha256 == digest)).first()


def ticket_with_inbound_message(session: Session, message_id: str) -> int | None:
    """The ticket that already holds a received mail with this Message-ID (a re-delivery)."""
    return session.scalars(select(Message.ticket_id).where(
        Message.message_id == message_id, Message.direction == "inbound")).first()


@dataclass(frozen=True)
class ClaimedOutbox:
    """An outbox row this worker holds until its lease ends."""

    id: int
    ticket_id: int | None
    message_id: str
    mail_from: str
    rcpt_to: list[str]
    raw: bytes
    attempts: int
    kind: str = ""


def claim_outbox(session: Session, outbox_id: int, now: datetime,
                 lease_until: datetime) -> ClaimedOutbox | None:
    """Take row `outbox_id` if pending and due, in one conditional UPDATE: two workers never both win."""
    taken = session.execute(
        update(Outbox)
        .where(Outbox.id == outbox_id, Outbox.state == "pending", Outbox.next_attempt_at <= now)
        .values(next_attempt_at=lease_until, attempts=Outbox.attempts + 1)
        .returning(Outbox.id, Outbox.ticket_id, Outbox.message_id, Outbox.mail_from, Outbox.rcpt_to,
                   Outbox.raw, Outbox.attempts, Outbox.kind)
        .execution_options(synchronize_session=False)
    ).first()
    if taken is None:
        return None
    row_id, ticket_id, message_id, mail_from, rcpt_to, raw, attempts, kind = taken
    return ClaimedOutbox(row_id, ticket_id, message_id, mail_from, list(rcpt_to), raw, attempts, kind)


def mark_outbox_sent(session: Session, outbox_id: int, now: datetime) -> None:
    """Record a successful delivery."""
    session.execute(update(Outbox).where(Outbox.id == outbox_id)
                    .values(state="sent", sent_at=now, last_error=""))


def mark_outbox_failed(session: Session, outbox_id: int, error: str, final: bool, retry_at: datetime) -> None:
    """Record a failed attempt: give up when `final`, else try again at `retry_at`."""
    values: dict[str, Any] = {"last_error": error[:4000], "next_attempt_at": retry_at}
    if final:
        values["state"] = "failed"
    session.execute(update(Outbox).where(Outbox.id == outbox_id).values(**values))


def stuck_inbound_ids(session: Session, received_before: datetime, limit: int) -> list[int]:
    """Inbound rows not yet processed that arrived before `received_before`, oldest first; rows a
    worker is processing right now (locked) are skipped."""
    return claim_rows(session, select(Inbound.id).where(
        Inbound.state == "received", Inbound.received_at <= received_before)
        .order_by(Inbound.id).limit(limit))


def lock_inbound(session: Session, inbound_id: int) -> Inbound | None:
    """Inbound row `inbound_id`, locked until the transaction ends: on PostgreSQL a second worker
    handed the same id (a redelivered message) waits here, then sees the row already done."""
    return session.get(Inbound, inbound_id, with_for_update=True, populate_existing=True)


def due_outbox_ids(session: Session, now: datetime, limit: int,
                   fresh_before: datetime | None = None) -> list[int]:
    """Pending outbox rows whose next attempt is due, oldest first, skipping rows another sweep holds.

    With `fresh_before`, a row never attempted counts only once it was due before that instant: it
    was queued when it was written, and queueing it again on every sweep would flood a busy broker.
    """
    due = (Outbox.next_attempt_at <= now) if fresh_before is None else (
        (Outbox.next_attempt_at <= now) & ((Outbox.attempts > 0) | (Outbox.next_attempt_at <= fresh_before)))
    return claim_rows(session, select(Outbox.id).where(Outbox.state == "pending", due)
                      .order_by(Outbox.id).limit(limit))


def claim_rows(session: Session, query: Select[Any], of: Any = None) -> list[Any]:
    """The rows of `query`, locked until this transaction ends; rows another transaction holds are
    skipped, so concurrent sweeps on several machines never act on the same row twice.

    PostgreSQL: FOR UPDATE SKIP LOCKED (`of` names the table to lock when the query joins).
    SQLite renders no FOR UPDATE: there a write transaction (BEGIN IMMEDIATE) already excludes all others.
    """
    return list(session.scalars(query.with_for_update(skip_locked=True, of=of)))


def set_value(session: Session, key: str, value: str) -> None:
    """Remember a small fact under `key`."""
    row = session.get(KeyValue, key)
    if row is None:
        session.add(KeyValue(key=key, value=value))
    else:
        row.value = value


def get_value(session: Session, key: str) -> str | None:
    """A fact remembered under `key`, if any."""
    row = session.get(KeyValue, key)
    return None if row is None else row.value


def active_agent_ids(session: Session) -> dict[str, int]:
    """Active agents by lowercased address."""
    return dict(session.execute(select(Agent.email, Agent.id).where(Agent.active.is_(True))).all())


def active_agents_with_ids(session: Session) -> list[tuple[int, Address]]:
    """Active agents with their ids, in the order they were added."""
    rows = session.execute(select(Agent.id, Agent.email, Agent.name).where(Agent.active.is_(True))
                           .order_by(Agent.id)).all()
    return [(agent_id, Address(email, name)) for agent_id, email, name in rows]


def find_agent(session: Session, wanted: str) -> tuple[int, str] | None:
    """The active agent whose address, local part or name is `wanted` (case-insensitive), if exactly one."""
    key = wanted.strip().lower()
    rows = session.execute(select(Agent.id, Agent.email, Agent.name).where(Agent.active.is_(True))).all()
    hits = [(i, e) for i, e, n in rows if key in (e, e.partition("@")[0], n.lower())]
    return hits[0] if len(hits) == 1 else None


def remove_participant(session: Session, ticket_id: int, email: str) -> bool:
    """Take a CC participant off a ticket (never the requester); True when removed."""
    found = session.execute(
        select(Participant).join(Contact, Contact.id == Participant.contact_id)
        .where(Participant.ticket_id == ticket_id, Contact.email == email.lower(),
               Participant.role != "requester")
    ).scalars().first()
    if found is None:
        return False
    session.delete(found)
    return True
