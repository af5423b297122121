"""The `participants` table: who may write on a ticket and receives its public updates."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, delete, select

from maildesk.domain import Address
from maildesk.store import sql
from maildesk.store.db import Session

_p, _c = sql.participants, sql.contacts
_ROWS = (select(_c.c.email, _c.c.name, _p.c.role).join(_p, _p.c.contact_id == _c.c.id)
         .where(_p.c.ticket_id == bindparam("ticket_id")).order_by(_p.c.id))
_CC_OF = (select(_p.c.id).join(_c, _c.c.id == _p.c.contact_id)
          .where(_p.c.ticket_id == bindparam("ticket_id"), _c.c.email == bindparam("email"),
                 _p.c.role != "requester").limit(1))
_DELETE = delete(_p).where(_p.c.id == bindparam("row_id"))


def add(session: Session, ticket_id: int, contact_id: int, role: str) -> bool:
    """Put a contact on a ticket unless already there; True when added."""
    values = {"ticket_id": ticket_id, "contact_id": contact_id, "role": role}
    return sql.insert_ignoring_duplicates(session, _p, values, ["ticket_id", "contact_id"])


def copy(session: Session, source: int, target: int) -> list[str]:
    """Put everyone on ticket `source` on ticket `target` as Cc (those already there stay as they
    are); the addresses added, in the order they joined `source`."""
    rows = session.connection().execute(
        select(_p.c.contact_id, _c.c.email).join(_c, _c.c.id == _p.c.contact_id)
        .where(_p.c.ticket_id == source).order_by(_p.c.id)).all()
    return [email for contact_id, email in rows if add(session, target, contact_id, "cc")]


def remove_cc(session: Session, ticket_id: int, email: str) -> bool:
    """Take a Cc participant off a ticket (never the requester); True when removed."""
    conn = session.connection()
    found = conn.execute(_CC_OF, {"ticket_id": ticket_id, "email": email.lower()}).scalar()
    if found is None:
        return False
    conn.execute(_DELETE, {"row_id": found})
    return True


def of_ticket(session: Session, ticket_id: int) -> list[tuple[Address, str]]:
    """The ticket's participants with their roles, requester first."""
    rows = session.connection().execute(_ROWS, {"ticket_id": ticket_id})
    return [(Address(email, name), role) for email, name, role in rows]


def of_tickets(session: Session, ticket_ids: Sequence[int]) -> dict[int, list[Address]]:
    """The participants of many tickets at once (requester first), by ticket."""
    people: dict[int, list[Address]] = {}
    rows = session.connection().execute(
        select(_p.c.ticket_id, _c.c.email, _c.c.name).join(_c, _c.c.id == _p.c.contact_id)
        .where(_p.c.ticket_id.in_(list(ticket_ids))).order_by(_p.c.id))
    for tid, email, name in rows:
        people.setdefault(tid, []).append(Address(email, name))
    return people
