"""Store raw mail durably before anyone is told it arrived (DESIGN.md decision 1)."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32

from maildesk import metrics
from maildesk.domain import Envelope, InboundId, InboundState
from maildesk.errors import MessageRejected, StoreError
from maildesk.store.db import Database
from maildesk.store.repo import add_inbound, find_inbound_by_digest

log = logging.getLogger(__name__)
_MSGID = re.compile(r"<([^<>\s]{1,990})>")


@dataclass(frozen=True)
class Accepted:
    """The outcome of storing a message: its row, and whether these bytes were new."""

    inbound_id: InboundId
    new: bool


def accept_raw(db: Database, raw: bytes, envelope: Envelope, now: datetime, max_size: int) -> Accepted:
    """Commit `raw` with its envelope; the same bytes delivered again return the first row.

    Raises MessageRejected for empty or oversized mail, StoreUnavailable when the
    database cannot take it (the caller answers 451 / exits 75 so the sender retries).
    """
    if not raw.strip():
        raise MessageRejected("empty message")
    if len(raw) > max_size:
        raise MessageRejected(f"message of {len(raw)} bytes is over the limit of {max_size}")
    digest = hashlib.sha256(raw).hexdigest()
    for attempt in (1, 2):
        try:
            return _store(db, raw, envelope, digest, now)
        except StoreError:
            # A concurrent delivery of the same bytes won the unique index; the second look finds it.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _store(db: Database, raw: bytes, envelope: Envelope, digest: str, now: datetime) -> Accepted:
    # Durable: this commit is what the 250 (or the IMAP flag) stands on, so it must survive a power cut.
    with db.transaction(durable=True) as session:
        existing = find_inbound_by_digest(session, digest)
        if existing is not None:
            log.info("inbound=%s duplicate delivery of the same bytes via %s", existing, envelope.source)
            return Accepted(InboundId(existing), new=False)
        message_id = header_message_id(raw)
        inbound_id = InboundId(add_inbound(session, {
            "received_at": now, "source": envelope.source, "mail_from": envelope.mail_from,
            "rcpt_to": list(envelope.rcpt_to), "sha256": digest, "message_id": message_id, "size": len(raw),
            "raw": raw, "state": InboundState.RECEIVED, "attempts": 0, "error": "", "verdict": "",
            "verdict_reasons": []}))
    metrics.count("received")
    log.info("inbound=%s stored %d bytes from %s via %s message-id=<%s>", inbound_id, len(raw),
             envelope.mail_from, envelope.source, message_id)
    return Accepted(inbound_id, new=True)


def header_message_id(raw: bytes) -> str:
    """The Message-ID from the header section only (cheap; full parsing happens in the worker)."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:65536])
        match = _MSGID.search(str(headers.get("Message-ID", "")))
    except Exception:  # Any header the parser chokes on just means no id here; the worker will judge.
        return ""
    return match[1] if match else ""
