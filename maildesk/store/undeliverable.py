"""The `undeliverable` table: addresses that bounced our mail for good get nothing for a while."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select, update

from maildesk.store import sql
from maildesk.store.db import Session

_u = sql.undeliverable
_BLOCKED = select(_u.c.address, _u.c.until, _u.c.reason).where(
    _u.c.address.in_(bindparam("keys", expanding=True)), _u.c.until > bindparam("now"))


def block(session: Session, address: str, until: datetime, reason: str, outbox_id: int | None,
          now: datetime) -> None:
    """Send nothing to `address` until `until` (extends an existing block, never shortens it)."""
    key = address.lower()
    conn = session.connection()
    found = conn.execute(select(_u.c.until).where(_u.c.address == key)).first()
    if found is None:
        conn.execute(insert(_u), {"address": key, "until": until, "reason": reason[:4000],
                                  "outbox_id": outbox_id,
                                  "created_at": now})
    elif found.until < until:
        conn.execute(update(_u).where(_u.c.address == key).values(until=until, reason=reason[:4000],
                                                                  outbox_id=outbox_id))


def blocked(session: Session, addresses: list[str], now: datetime) -> dict[str, str]:
    """Which of `addresses` are undeliverable right now, with the reason."""
    rows = session.connection().execute(_BLOCKED, {"keys": [a.lower() for a in addresses], "now": now}).all()
    return {address: f"undeliverable until {until:%Y-%m-%d}: {reason}" for address, until, reason in rows}
