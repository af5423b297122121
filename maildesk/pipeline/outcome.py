"""What processing made of one inbound row, and the ways a row ends without a ticket."""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from datetime import datetime

from maildesk import metrics
from maildesk.domain import InboundState, OutboxId, TicketId
from maildesk.notices.notifier import Draft
from maildesk.pipeline.context import Desk
from maildesk.store import inbound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What processing one inbound row did; `outbox_ids` are to be delivered after the commit."""

    inbound_id: int
    state: InboundState | None
    ticket_id: TicketId | None = None
    outbox_ids: tuple[OutboxId, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class Handled:
    """What a handler made of one mail inside the transaction: the row's new state, the ticket it
    is on, the drafts for the outbound gate, and why."""

    state: InboundState
    ticket_id: TicketId | None
    drafts: tuple[Draft, ...]
    reason: str


def gone(inbound_id: int, reason: str) -> Outcome:
    """The row was handled elsewhere (another worker, an earlier run) or does not exist."""
    return Outcome(inbound_id, None, reason=reason)


def quarantine(desk: Desk, inbound_id: int, reason: str, now: datetime) -> Outcome:
    """Keep the raw mail with the reason it could not be processed."""
    return set_aside(desk, inbound_id, InboundState.QUARANTINED, reason, now)


def set_aside(desk: Desk, inbound_id: int, state: InboundState, reason: str, now: datetime) -> Outcome:
    """Keep the raw mail but make no ticket of it: quarantined (broken) or ignored (a robot's)."""
    with desk.db.transaction() as session:
        row = inbound.lock(session, inbound_id)
        if row is None or row.state != InboundState.RECEIVED:
            return gone(inbound_id, "handled by another worker")
        inbound.set_aside(session, inbound_id, state, reason, now)
    metrics.count("quarantined" if state is InboundState.QUARANTINED else "processed")
    log.warning("inbound=%s %s: %s", inbound_id, state, reason)
    return Outcome(inbound_id, state, reason=reason)


def record_failure(desk: Desk, inbound_id: int, exc: Exception, now: datetime) -> Outcome:
    """Count a failed attempt; after the configured number, quarantine the row with the error."""
    detail = "".join(traceback.format_exception_only(exc)).strip()
    try:
        with desk.db.transaction() as session:
            row = inbound.lock(session, inbound_id)
            if row is None or row.state != InboundState.RECEIVED:
                return gone(inbound_id, "handled by another worker")
            attempts = row.attempts + 1
            inbound.count_attempt(session, inbound_id, attempts, detail)
            if attempts >= desk.settings.sweep.max_process_attempts:
                inbound.set_aside(session, inbound_id, InboundState.QUARANTINED, detail, now)
                metrics.count("quarantined")
                log.error("inbound=%s quarantined after %d attempts: %s", inbound_id, attempts, detail)
                return Outcome(inbound_id, InboundState.QUARANTINED, reason=detail)
    except Exception:  # The store itself is down: the sweep will find the row still received.
        log.exception("inbound=%s could not record the failure", inbound_id)
    return Outcome(inbound_id, None, reason=detail)


def counted(outcome: Outcome) -> Outcome:
    """`outcome`, counted. Counted after the commit: a batch rolled back and retried must not count twice."""
    if outcome.state is not None:
        metrics.count("processed")
    return outcome
