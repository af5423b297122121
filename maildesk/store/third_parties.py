"""The `third_parties` table: people outside the desk an agent brought into a ticket with #forward."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select

from maildesk.store import sql
from maildesk.store.db import Session

_x = sql.third_parties


def add(session: Session, ticket_id: int, email: str, added_by: str, now: datetime) -> int:
    """The id of `email` as a third party on the ticket, added on first use."""
    conn = session.connection()
    found = conn.execute(select(_x.c.id).where(_x.c.ticket_id == ticket_id,
                                               _x.c.email == email.lower())).scalar()
    if found is not None:
        return int(found)
    values = {"ticket_id": ticket_id, "email": email.lower(), "added_by": added_by, "created_at": now}
    return int(conn.execute(insert(_x).returning(_x.c.id), values).scalar_one())


def email_of(session: Session, party_id: int, ticket_id: int) -> str | None:
    """The address of third party `party_id` if it belongs to ticket `ticket_id`."""
    return session.connection().execute(select(_x.c.email).where(_x.c.id == party_id,
                                                                 _x.c.ticket_id == ticket_id)).scalar()


def forwarded_by(session: Session, ticket_id: int, email: str) -> str:
    """The agent who brought `email` into the ticket, or ""."""
    found = session.connection().execute(select(_x.c.added_by).where(
        _x.c.ticket_id == ticket_id, _x.c.email == email.lower())).scalar()
    return found or ""
