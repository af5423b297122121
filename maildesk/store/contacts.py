"""The `contacts` and `agents` tables: the people who write to the desk and those who answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update

from maildesk.domain import Address
from maildesk.store import sql
from maildesk.store.db import Session

_c, _a = sql.contacts, sql.agents
_BY_EMAIL = select(_c.c.id, _c.c.name).where(_c.c.email == bindparam("email"))
_NAME = update(_c).where(_c.c.id == bindparam("contact_id")).values(name=bindparam("new_name"))
_ACTIVE = select(_a.c.id, _a.c.email, _a.c.name).where(_a.c.active.is_(True)).order_by(_a.c.id)
_AGENTS_KEY = "maildesk.active_agents"


@dataclass(frozen=True)
class ContactRef:
    """A contact's row id and address."""

    id: int
    email: str
    name: str


def contact_for(session: Session, address: Address, now: datetime) -> ContactRef:
    """The contact for `address`, created on first sight; a known contact gains a missing name."""
    conn = session.connection()
    found = conn.execute(_BY_EMAIL, {"email": address.key}).first()
    if found is None:
        stmt = sql.insert_new_only(conn.dialect.name, _c, ["email"], returning=_c.c.id)
        added = conn.execute(stmt, {"email": address.key, "name": address.name, "created_at": now}).first()
        if added is not None:
            return ContactRef(added.id, address.key, address.name)
        # Another worker added the same address a moment ago: read theirs.
        found = conn.execute(_BY_EMAIL, {"email": address.key}).one()
    elif address.name and not found.name:
        conn.execute(_NAME, {"contact_id": found.id, "new_name": address.name})
    return ContactRef(found.id, address.key, found.name or address.name)


def active_agents(session: Session) -> list[tuple[int, Address]]:
    """Active agents with their ids, in the order they were added.

    Read once per session (a session is one transaction here): a batch of mail asks for them
    several times per mail, and no processing transaction adds or removes agents."""
    known: list[tuple[int, Address]] | None = session.info.get(_AGENTS_KEY)
    if known is None:
        rows = session.connection().execute(_ACTIVE)
        known = [(agent_id, Address(email, name)) for agent_id, email, name in rows]
        session.info[_AGENTS_KEY] = known
    return list(known)


def active_agent_ids(session: Session) -> dict[str, int]:
    """Active agents' ids by lowercased address."""
    return {address.key: agent_id for agent_id, address in active_agents(session)}


def find_agent(session: Session, wanted: str) -> tuple[int, str] | None:
    """The active agent whose address, local part or name is `wanted` (case-insensitive), if exactly one."""
    key = wanted.strip().lower()
    hits = [(i, a.key) for i, a in active_agents(session)
            if key in (a.key, a.key.partition("@")[0], a.name.lower())]
    return hits[0] if len(hits) == 1 else None


def active_agent_id(session: Session, email: str) -> int | None:
    """The id of the active agent with address `email` (any case), or None."""
    return active_agent_ids(session).get(email.strip().lower())


AgentTuple = tuple[int, str, str, bool]


def upsert_agent(session: Session, email: str, name: str, now: datetime) -> AgentTuple:
    """Create the agent or re-activate it (and update its name when given)."""
    conn = session.connection()
    found = conn.execute(select(_a.c.id, _a.c.name).where(_a.c.email == email)).first()
    if found is None:
        agent_id = int(conn.execute(insert(_a).returning(_a.c.id),
                                    {"email": email, "name": name, "active": True,
                                     "created_at": now}).scalar_one())
        return agent_id, email, name, True
    conn.execute(update(_a).where(_a.c.id == found.id).values(active=True, name=name or found.name))
    return found.id, email, name or found.name, True


def all_agents(session: Session) -> list[AgentTuple]:
    """Every agent, in the order they were added."""
    rows = session.connection().execute(select(_a.c.id, _a.c.email, _a.c.name, _a.c.active).order_by(_a.c.id))
    return [(i, e, n, bool(active)) for i, e, n, active in rows]


def deactivate_agent(session: Session, email: str) -> bool:
    """Mark the agent inactive; False when there is none."""
    done = session.connection().execute(update(_a).where(_a.c.email == email).values(active=False))
    return bool(getattr(done, "rowcount", 0))


def agent_names(session: Session) -> dict[str, str]:
    """Every agent's name (else address) by event actor ("agent:<id>")."""
    rows = session.connection().execute(select(_a.c.id, _a.c.name, _a.c.email))
    return {f"agent:{i}": name or email for i, name, email in rows}
