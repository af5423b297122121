"""Find rows left unfinished (a crash, a lost queue message, a retry that is due) and queue them again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from maildesk.store import inbound, kv, outbox
from maildesk.store.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recovered:
    """How many rows one recovery round queued again."""

    inbound: int
    outbox: int


def recover(db: Database, now: datetime, stuck_after: timedelta, enqueue_inbound: Callable[[int], None],
            enqueue_outbox: Callable[[int], None], limit: int = 5000) -> Recovered:
    """Queue inbound rows still `received` after `stuck_after`, and outbox rows that are due."""
    with db.transaction() as session:
        stuck = inbound.stuck_ids(session, now - stuck_after, limit)
        due = outbox.due_ids(session, now, limit)
        kv.set_value(session, "last_sweep", now.isoformat())
    for inbound_id in stuck:
        enqueue_inbound(inbound_id)
    for outbox_id in due:
        enqueue_outbox(outbox_id)
    if stuck or due:
        log.info("sweep queued %d inbound and %d outbox rows again", len(stuck), len(due))
    return Recovered(len(stuck), len(due))
