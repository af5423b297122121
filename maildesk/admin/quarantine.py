"""The operator's view of stored inbound mail: list the quarantine, show or export a message's exact
bytes, re-run processing after a fix, or drop a message for good (keeping its bytes and an audit line)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from maildesk.domain import InboundState
from maildesk.errors import MaildeskError
from maildesk.store import inbound
from maildesk.store.db import Database
from maildesk.store.inbound import InboundRow

if TYPE_CHECKING:
    from maildesk.pipeline.outcome import Outcome
    from maildesk.runtime.wiring import Runtime

log = logging.getLogger(__name__)
#: States an operator may send back through processing.
RETRYABLE = frozenset({InboundState.QUARANTINED, InboundState.IGNORED, InboundState.DROPPED})


class InboundNotFound(MaildeskError):
    """Raised when an inbound id names no stored message."""


def listing(db: Database, state: str | None = InboundState.QUARANTINED, limit: int = 100) -> list[InboundRow]:
    """Stored inbound messages in `state` (None: any), newest first, without their bytes."""
    with db.reading() as session:
        return inbound.listing(session, state, limit)


def show(db: Database, inbound_id: int) -> tuple[InboundRow, bytes]:
    """One stored message and its raw bytes exactly as they arrived."""
    with db.reading() as session:
        found = inbound.one(session, inbound_id)
    if found is None:
        raise InboundNotFound(f"no inbound message {inbound_id}")
    return found


def retry(runtime: Runtime, inbound_id: int, actor: str, now: datetime) -> Outcome:
    """Put a quarantined (or ignored, or dropped) message back in line and process it now."""
    row, _ = show(runtime.db, inbound_id)
    if row.state not in RETRYABLE:
        raise MaildeskError(f"inbound {inbound_id} is {row.state}; only {', '.join(sorted(RETRYABLE))} "
                            "messages can be retried")
    with runtime.db.transaction() as session:
        inbound.set_state(session, inbound_id, InboundState.RECEIVED, "", reset_attempts=True)
        inbound.add_audit(session, now, actor, "retry", inbound_id, f"was {row.state}: {row.error}")
    log.info("inbound=%s retried by %s (was %s: %s)", inbound_id, actor, row.state, row.error)
    from maildesk.pipeline.process import process_inbound  # here: listing and showing need no pipeline

    return process_inbound(runtime.desk, inbound_id, now)


def drop(db: Database, inbound_id: int, actor: str, reason: str, now: datetime) -> InboundRow:
    """Give up on a quarantined message: it leaves the list; its bytes and an audit line stay."""
    row, _ = show(db, inbound_id)
    if row.state != InboundState.QUARANTINED:
        raise MaildeskError(f"inbound {inbound_id} is {row.state}; only quarantined messages can be dropped")
    detail = f"{reason or 'no reason given'} (quarantined for: {row.error})"
    with db.transaction() as session:
        inbound.set_state(session, inbound_id, InboundState.DROPPED, row.error, reset_attempts=False)
        inbound.add_audit(session, now, actor, "drop", inbound_id, detail)
    log.warning("inbound=%s dropped by %s: %s", inbound_id, actor, detail)
    return row
