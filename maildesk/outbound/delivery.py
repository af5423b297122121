"""Deliver one outbox row, at most one worker at a time, with retries and backoff."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from maildesk import metrics
from maildesk.config import OutboundSettings
from maildesk.domain import OutboxState
from maildesk.errors import DeliveryError, PermanentDeliveryError
from maildesk.outbound import Sender
from maildesk.store import outbox, undeliverable
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
    return deliver_many(db, sender, settings, [outbox_id], now)[0]


def deliver_many(db: Database, sender: Sender, settings: OutboundSettings, outbox_ids: Sequence[int],
                 now: datetime) -> list[DeliveryOutcome]:
    """`deliver` for several rows: one transaction claims them all, one records every success."""
    outcomes: dict[int, DeliveryOutcome] = {}
    with db.transaction() as session:
        claimed = outbox.claim(session, outbox_ids, now, now + lease_for(settings))
        ready = _deliverable(session, claimed, now, outcomes)
    sent: list[outbox.ClaimedOutbox] = []
    for row, rcpt_to in ready:
        try:
            sender.send(row.mail_from, rcpt_to, row.raw, row.message_id)
            sent.append(row)
        except DeliveryError as exc:
            outcomes[row.id] = _failed(db, settings, row.id, row.attempts, exc, now)
    if sent:
        with db.transaction() as session:
            outbox.mark_sent(session, [row.id for row in sent], now)
    for row in sent:
        outcomes[row.id] = _sent(row)
    missing = DeliveryOutcome(0, None, "not due, already sent, or held by another worker")
    return [outcomes.get(i, dataclasses.replace(missing, outbox_id=i)) for i in outbox_ids]


def _sent(row: outbox.ClaimedOutbox) -> DeliveryOutcome:
    metrics.count("delivered")
    if row.kind == "ack":
        metrics.count("acknowledgements_sent")
    log.info("outbox=%s ticket=%s message-id=<%s> sent to %s", row.id, row.ticket_id, row.message_id,
             ", ".join(row.rcpt_to))
    return DeliveryOutcome(row.id, OutboxState.SENT)


def _deliverable(session: Session, claimed: list[outbox.ClaimedOutbox], now: datetime,
                 outcomes: dict[int, DeliveryOutcome]) -> list[tuple[outbox.ClaimedOutbox, list[str]]]:
    """Each claimed row with its recipients not blocked after a hard bounce; a row with none left
    ends failed, unsent. Checked in the claiming transaction: one write transaction fewer per mail."""
    blocked = undeliverable.blocked(session, [r for row in claimed for r in row.rcpt_to],
                                    now) if claimed else {}
    ready = []
    for row in claimed:
        left = [r for r in row.rcpt_to if r.lower() not in blocked]
        if left:
            ready.append((row, left))
            continue
        mine = {r.lower() for r in row.rcpt_to}
        reason = "; ".join(f"{a}: {why}" for a, why in blocked.items() if a in mine)
        outbox.mark_failed(session, row.id, reason, final=True, retry_at=now)
        log.warning("outbox=%s not sent: %s", row.id, reason)
        outcomes[row.id] = DeliveryOutcome(row.id, OutboxState.FAILED, "every recipient is undeliverable")
    return ready


def _failed(db: Database, settings: OutboundSettings, outbox_id: int, attempts: int, exc: DeliveryError,
            now: datetime) -> DeliveryOutcome:
    final = isinstance(exc, PermanentDeliveryError) or attempts >= settings.max_attempts
    delay = min(timedelta(seconds=settings.retry_base_seconds * 2 ** (attempts - 1)), MAX_BACKOFF)
    with db.transaction() as session:
        outbox.mark_failed(session, outbox_id, str(exc), final, now + delay)
    state = OutboxState.FAILED if final else OutboxState.PENDING
    log.warning("outbox=%s attempt %d failed (%s): %s", outbox_id, attempts,
                "giving up" if final else f"retry in {delay}", exc)
    return DeliveryOutcome(outbox_id, state, str(exc))
