"""Read models for the CLI: tickets as plain dicts of values, filtered in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from maildesk.store.models import Attachment, Contact, Event, Message, Ticket
from maildesk.store.repo import participants


def _rows_query() -> Select[Ticket, str]:
    return select(Ticket, Contact.email).join(Contact, Contact.id == Ticket.requester_id)


def _row(ticket: Ticket, requester: str) -> dict[str, Any]:
    return {"id": ticket.id, "status": ticket.status, "priority": ticket.priority,
            "category": ticket.category, "subject": ticket.subject, "requester": requester,
            "created": ticket.created_at, "updated": ticket.updated_at, "queue": ticket.queue,
            "type": ticket.type, "tier": ticket.tier, "tags": tuple(ticket.tags or ()), "spam": ticket.spam}


def ticket_rows(session: Session, status: str, category: str, requester: str, text: str,
                since: datetime | None, until: datetime | None, limit: int,
                spam: bool = False) -> list[dict[str, Any]]:
    """Tickets matching every given filter, newest first; spam only when `spam`, else never."""
    query = _rows_query().where(Ticket.spam.is_(spam))
    if status:
        query = query.where(Ticket.status.in_(status.split(",")))
    if category:
        query = query.where(Ticket.category == category)
    if requester:
        query = query.where(Contact.email.contains(requester.lower()))
    if since:
        query = query.where(Ticket.created_at >= since)
    if until:
        query = query.where(Ticket.created_at < until)
    if text:
        pattern = f"%{text.lower()}%"
        in_messages = select(Message.ticket_id).where(func.lower(Message.text).like(pattern))
        query = query.where(or_(func.lower(Ticket.subject).like(pattern), Ticket.id.in_(in_messages)))
    query = query.order_by(Ticket.id.desc()).limit(limit)
    return [_row(t, email) for t, email in session.execute(query).all()]


Detail = tuple[dict[str, Any], list[tuple[str, str]], list[dict[str, Any]], list[dict[str, Any]]]


def ticket_detail(session: Session, ticket_id: int) -> Detail | None:
    """One ticket's row, participants, thread and events, or None."""
    found = session.execute(_rows_query().where(Ticket.id == ticket_id)).first()
    if found is None:
        return None
    people = [(a.email, role) for a, role in participants(session, ticket_id)]
    messages = []
    for m in session.scalars(select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id)):
        names = session.scalars(select(Attachment.filename).where(Attachment.message_id == m.id)).all()
        messages.append({"sender": m.from_email, "direction": m.direction, "date": m.created_at,
                         "text": m.new_text or m.text, "attachments": tuple(names), "verdict": m.verdict})
    events = [{"at": e.at.isoformat(), "actor": e.actor, "kind": e.kind, "reason": e.reason, **e.detail}
              for e in session.scalars(select(Event).where(Event.ticket_id == ticket_id).order_by(Event.id))]
    ticket, requester = found
    return _row(ticket, requester), people, messages, events


def ticket_for_update(session: Session, ticket_id: int) -> Ticket | None:
    """The ticket row, locked for this transaction where the database can lock rows."""
    return session.scalars(select(Ticket).where(Ticket.id == ticket_id).with_for_update()).one_or_none()


def apply_status(session: Session, ticket: Ticket, status: str, reason: str, now: datetime,
                 final: bool) -> None:
    """Write a status change to the ticket row."""
    ticket.status = status
    ticket.updated_at = now
    ticket.closed_at = now if final else None
    ticket.close_reason = reason if final else ""
