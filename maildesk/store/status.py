"""What `maildesk status` reads: backlog sizes and ages, straight from the source of truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from maildesk.store import repo
from maildesk.store.db import Session
from maildesk.store.models import Inbound, Outbox


@dataclass(frozen=True)
class Backlog:
    """Rows waiting, the oldest of them, and how many are overdue (stuck)."""

    waiting: int
    oldest: datetime | None
    stuck: int


def inbound_backlog(session: Session, stuck_before: datetime) -> Backlog:
    """Inbound rows not processed yet; stuck = received before `stuck_before`."""
    waiting, oldest = session.execute(select(func.count(), func.min(Inbound.received_at))
                                      .where(Inbound.state == "received")).one()
    stuck = session.scalar(select(func.count()).where(Inbound.state == "received",
                                                      Inbound.received_at <= stuck_before)) or 0
    return Backlog(int(waiting), _aware(oldest), int(stuck))


def outbox_backlog(session: Session, stuck_before: datetime) -> Backlog:
    """Outbox rows not sent yet; stuck = due since before `stuck_before` and still not taken."""
    waiting, oldest = session.execute(select(func.count(), func.min(Outbox.created_at))
                                      .where(Outbox.state == "pending")).one()
    stuck = session.scalar(select(func.count()).where(Outbox.state == "pending",
                                                      Outbox.next_attempt_at <= stuck_before)) or 0
    return Backlog(int(waiting), _aware(oldest), int(stuck))


def count_inbound(session: Session, state: str) -> int:
    """Inbound rows in `state` (e.g. quarantined)."""
    return int(session.scalar(select(func.count()).where(Inbound.state == state)) or 0)


def count_outbox(session: Session, state: str) -> int:
    """Outbox rows in `state` (e.g. failed)."""
    return int(session.scalar(select(func.count()).where(Outbox.state == state)) or 0)


def last_sweep(session: Session) -> datetime | None:
    """When any process last swept."""
    value = repo.get_value(session, "last_sweep")
    return datetime.fromisoformat(value) if value else None


def _aware(value: object) -> datetime | None:
    # func.min() bypasses the column type, so SQLite hands back a naive string or datetime.
    if value is None:
        return None
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(when, datetime)
    return when if when.tzinfo else when.replace(tzinfo=UTC)
