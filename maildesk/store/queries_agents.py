"""Agent rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from maildesk.store.models import Agent

AgentTuple = tuple[int, str, str, bool]


def upsert(session: Session, email: str, name: str, now: datetime) -> AgentTuple:
    """Create the agent or re-activate it (and update its name when given)."""
    agent = session.scalars(select(Agent).where(Agent.email == email)).one_or_none()
    if agent is None:
        agent = Agent(email=email, name=name, active=True, created_at=now)
        session.add(agent)
    else:
        agent.active = True
        agent.name = name or agent.name
    session.flush()
    return agent.id, agent.email, agent.name, agent.active


def all_agents(session: Session) -> list[AgentTuple]:
    """Every agent, in the order they were added."""
    return [(a.id, a.email, a.name, a.active) for a in session.scalars(select(Agent).order_by(Agent.id))]


def deactivate(session: Session, email: str) -> bool:
    """Mark the agent inactive; False when there is none."""
    agent = session.scalars(select(Agent).where(Agent.email == email)).one_or_none()
    if agent is None:
        return False
    agent.active = False
    return True


def active_agent_id(session: Session, email: str) -> int | None:
    """The id of the active agent with address `email` (any case), or None."""
    return session.scalars(select(Agent.id).where(Agent.email == email.strip().lower(),
                                                  Agent.active.is_(True))).first()
