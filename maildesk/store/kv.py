"""The `kv` table: small facts the daemon keeps between runs (when any process last swept)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from maildesk.store import sql
from maildesk.store.db import Session

_kv = sql.kv


def set_value(session: Session, key: str, value: str) -> None:
    """Remember a small fact under `key`."""
    conn = session.connection()
    if conn.execute(update(_kv).where(_kv.c.key == key).values(value=value)).rowcount == 0:
        conn.execute(insert(_kv), {"key": key, "value": value})


def get_value(session: Session, key: str) -> str | None:
    """A fact remembered under `key`, if any."""
    return session.connection().execute(select(_kv.c.value).where(_kv.c.key == key)).scalar()


def last_sweep(session: Session) -> datetime | None:
    """When any process last swept."""
    value = get_value(session, "last_sweep")
    return datetime.fromisoformat(value) if value else None
