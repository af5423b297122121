"""Deliver one outbox row, at most one worker at a time, with retries and backoff."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from maildesk import metrics
from maildesk.config import OutboundSettings
from maildesk.domain import OutboxState
from maildesk.errors import DeliveryError, PermanentDeliveryError
from maildesk.outbound import Sender
from maildesk.store import repo, safety
from maildesk.store.db import Database, Session

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class DeliveryOutcome:
    """What happened to one outbox row."""

    outbox_id: int
    state: OutboxState | None
    detail: str = ""


def lease_for(settings: OutboundSettings) -> timedelta:
    """How long a claimed row is ours: longer than any send can take, short enough to recover soon."""
    return timedelta(seconds=settings.timeout * 2 + 5)


def deliver(db: Database, sender: Sender, settings: OutboundSettings, outbox_id: int,
            now: datetime) -> DeliveryOutcome:
    """Send outbox row `outbox_id` if it is due and nobody else holds it; record the result."""
    with db.transaction() as session:
        claimed = repo.claim_outbox(session, outbox_id, now, now + lease_for(settings))
        rcpt_to = _deliverable(session, claimed.id, claimed.rcpt_to, now) if claimed else []
    if claimed is None:
        return DeliveryOutcome(outbox_id, None, "not due, already sent, or held by another worker")
    if not rcpt_to:
        return DeliveryOutcome(outbox_id, OutboxState.FAILED, "every recipient is undeliverable")
    try:
        sender.send(claimed.mail_from, rcpt_to, claimed.raw, claimed.message_id)
    except DeliveryError as exc:
        return _failed(db, settings, claimed.id, claimed.attempts, exc, now)
    with db.transaction() as session:
        repo.mark_outbox_sent(session, outbox_id, now)
    metrics.count("delivered")
    if claimed.kind == "ack":
        metrics.count("acknowledgements_sent")
    log.info("outbox=%s ticket=%s message-id=<%s> sent to %s", outbox_id, claimed.ticket_id,
             claimed.message_id, ", ".join(claimed.rcpt_to))
    return DeliveryOutcome(outbox_id, OutboxState.SENT)


def _deliverable(session: Session, outbox_id: int, rcpt_to: list[str], now: datetime) -> list[str]:
    """The recipients not blocked after a hard bounce; with none left the row ends failed, unsent.
    Checked in the claiming transaction: one write transaction fewer per mail."""
    blocked = safety.blocked(session, rcpt_to, now)
    left = [r for r in rcpt_to if r.lower() not in blocked]
    if not left:
        reason = "; ".join(f"{a}: {why}" for a, why in blocked.items())
        repo.mark_outbox_failed(session, outbox_id, reason, final=True, retry_at=now)
        log.warning("outbox=%s not sent: %s", outbox_id, reason)
    return left


def _failed(db: Database, settings: OutboundSettings, outbox_id: int, attempts: int, exc: DeliveryError,
            now: datetime) -> DeliveryOutcome:
    final = isinstance(exc, PermanentDeliveryError) or attempts >= settings.max_attempts
    delay = min(timedelta(seconds=settings.retry_base_seconds * 2 ** (attempts - 1)), MAX_BACKOFF)
    with db.transaction() as session:
        repo.mark_outbox_failed(session, outbox_id, str(exc), final, now + delay)
    state = OutboxState.FAILED if final else OutboxState.PENDING
    log.warning("outbox=%s attempt %d failed (%s): %s", outbox_id, attempts,
                "giving up" if final else f"retry in {delay}", exc)
    return DeliveryOutcome(outbox_id, state, str(exc))
