"""Agents: the people who answer tickets, kept in the database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from maildesk.errors import MaildeskError
from maildesk.store import contacts
from maildesk.store.db import Database

_ADDRESS = re.compile(r"^[^@\s<>\"(),;:\\\[\]]+@[A-Za-z0-9.-]+$")


class AgentError(MaildeskError):
    """Raised when an agent command cannot be carried out (bad address, unknown agent)."""


@dataclass(frozen=True)
class AgentRow:
    """One agent as `agents list` shows it."""

    id: int
    email: str
    name: str
    active: bool


def add_agent(db: Database, email: str, name: str, now: datetime) -> AgentRow:
    """Add (or re-activate) the agent with `email`."""
    if not _ADDRESS.match(email):
        raise AgentError(f"{email!r} is not a mail address")
    with db.transaction() as session:
        return AgentRow(*contacts.upsert_agent(session, email.lower(), name, now))


def list_agents(db: Database) -> list[AgentRow]:
    """All agents, active or not."""
    with db.transaction() as session:
        return [AgentRow(*row) for row in contacts.all_agents(session)]


def remove_agent(db: Database, email: str) -> None:
    """Deactivate the agent with `email`; tickets keep naming them, so the row stays."""
    with db.transaction() as session:
        if not contacts.deactivate_agent(session, email.lower()):
            raise AgentError(f"no agent {email}")
