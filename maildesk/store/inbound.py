"""The `inbound` table (raw mail as it arrived) and its `audit` lines. Plain values in and out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, insert, select, update

from maildesk.domain import Envelope, InboundState
from maildesk.store import sql
from maildesk.store.db import Session
from maildesk.store.sql import Backlog

_t = sql.inbound
_BY_DIGEST = select(_t.c.id).where(_t.c.sha256 == bindparam("digest"))
_INSERT = insert(_t).returning(_t.c.id)
#: Rows up to this size are read with their bytes in a batch; a larger one alone, when its turn comes.
LARGE = 2 * 1024 * 1024
_BATCH = select(_t.c.id, _t.c.state, _t.c.size, _t.c.mail_from,
                case((_t.c.size <= bindparam("large"), _t.c.raw), else_=None)).where(
    _t.c.id.in_(bindparam("inbound_ids", expanding=True)))
_RAW = select(_t.c.raw).where(_t.c.id == bindparam("inbound_id"))
_LOCK = select(_t.c.id, _t.c.state, _t.c.received_at, _t.c.source, _t.c.mail_from, _t.c.rcpt_to,
               _t.c.message_id, _t.c.attempts, _t.c.client_ip).where(
    _t.c.id == bindparam("inbound_id")).with_for_update()
# The SET clause comes from the parameters' keys (every key but row_id).
_UPDATE = update(_t).where(_t.c.id == bindparam("row_id"))
_LISTED = (_t.c.id, _t.c.received_at, _t.c.source, _t.c.mail_from, _t.c.rcpt_to, _t.c.message_id, _t.c.size,
           _t.c.state, _t.c.attempts, _t.c.error, _t.c.verdict, _t.c.verdict_reasons, _t.c.ticket_id)


def find_by_digest(session: Session, digest: str) -> int | None:
    """The inbound row already holding these exact bytes, if any."""
    return session.connection().execute(_BY_DIGEST, {"digest": digest}).scalar()


def add(session: Session, raw: bytes, envelope: Envelope, digest: str, message_id: str, now: datetime) -> int:
    """Store `raw` as it arrived, waiting to be processed; return the new row's id."""
    return int(session.connection().execute(_INSERT, {
        "received_at": now, "source": envelope.source, "mail_from": envelope.mail_from,
        "rcpt_to": list(envelope.rcpt_to),
        "client_ip": envelope.client_ip or None, "sha256": digest, "message_id": message_id, "size": len(raw),
        "raw": raw, "state": InboundState.RECEIVED, "attempts": 0, "error": "", "verdict": "",
        "verdict_reasons": []}).scalar_one())


@dataclass(frozen=True)
class StoredInbound:
    """What processing reads first of a row, outside any write transaction: its bytes, unless it is
    larger than LARGE (None: read them with `raw_of` when the row's turn comes)."""

    id: int
    state: str
    raw: bytes | None
    mail_from: str | None
    size: int = 0


def to_process(session: Session, inbound_ids: Sequence[int]) -> dict[int, StoredInbound]:
    """The rows `inbound_ids` by id (missing rows are left out); a large row comes without its bytes, so a
    batch never holds many large mails at once."""
    rows = session.connection().execute(_BATCH, {"inbound_ids": list(inbound_ids), "large": LARGE})
    return {row[0]: StoredInbound(row[0], row[1], row[4], row[3], row[2]) for row in rows}


def raw_of(session: Session, inbound_id: int) -> bytes:
    """The bytes of row `inbound_id` (b"" when it is gone)."""
    found = session.connection().execute(_RAW, {"inbound_id": inbound_id}).scalar()
    return bytes(found) if found is not None else b""


@dataclass(frozen=True)
class LockedInbound:
    """An inbound row as processing reads it inside its write transaction."""

    id: int
    state: str
    received_at: datetime
    source: str
    mail_from: str | None
    rcpt_to: list[str]
    message_id: str
    attempts: int
    client_ip: str | None = None


def lock(session: Session, inbound_id: int) -> LockedInbound | None:
    """Inbound row `inbound_id`, locked until the transaction ends: on PostgreSQL a second worker
    handed the same id (a redelivered message) waits here, then sees the row already done."""
    row = session.connection().execute(_LOCK, {"inbound_id": inbound_id}).first()
    return None if row is None else LockedInbound(**row._mapping)


def finish(session: Session, inbound_id: int, state: InboundState, ticket_id: int | None, verdict: str,
           reasons: Sequence[str], now: datetime) -> None:
    """Record what processing made of the row (done, duplicate, ignored) with the classifier's verdict."""
    _set(session, inbound_id, state=state, ticket_id=ticket_id, processed_at=now, error="", verdict=verdict,
         verdict_reasons=list(reasons))


def set_aside(session: Session, inbound_id: int, state: InboundState, reason: str, now: datetime) -> None:
    """Keep the row but make nothing of it: quarantined (broken) or ignored (a robot's), with why."""
    _set(session, inbound_id, state=state, error=reason, processed_at=now)


def count_attempt(session: Session, inbound_id: int, attempts: int, error: str) -> None:
    """Record a failed attempt at processing the row."""
    _set(session, inbound_id, attempts=attempts, error=error)


def set_state(session: Session, inbound_id: int, state: str, error: str, reset_attempts: bool) -> None:
    """Move a row to `state` (the operator's retry or drop)."""
    values: dict[str, Any] = {"state": state, "error": error}
    if reset_attempts:
        values |= {"attempts": 0, "processed_at": None}
    _set(session, inbound_id, **values)


def _set(session: Session, inbound_id: int, **values: Any) -> None:
    session.connection().execute(_UPDATE, {"row_id": inbound_id, **values})


def stuck_ids(session: Session, received_before: datetime, limit: int) -> list[int]:
    """Rows not yet processed that arrived before `received_before`, oldest first; rows a worker is
    processing right now (locked) are skipped."""
    waiting = (_t.c.state == InboundState.RECEIVED) & (_t.c.received_at <= received_before)
    return sql.claim_rows(session, select(_t.c.id).where(waiting).order_by(_t.c.id).limit(limit))


@dataclass(frozen=True)
class InboundRow:
    """A stored inbound message as the quarantine commands show it."""

    id: int
    received_at: datetime
    source: str
    mail_from: str
    rcpt_to: tuple[str, ...]
    message_id: str
    size: int
    state: str
    attempts: int
    error: str
    verdict: str
    verdict_reasons: tuple[str, ...]
    ticket_id: int | None


def _row(r: Any) -> InboundRow:
    return InboundRow(r.id, r.received_at, r.source, r.mail_from or "", tuple(r.rcpt_to), r.message_id,
                      r.size,
                      r.state, r.attempts, r.error, r.verdict, tuple(r.verdict_reasons or ()), r.ticket_id)


def listing(session: Session, state: str | None, limit: int) -> list[InboundRow]:
    """Rows (without their bytes) in `state`, newest first."""
    query = select(*_LISTED).order_by(_t.c.id.desc()).limit(limit)
    if state is not None:
        query = query.where(_t.c.state == state)
    return [_row(r) for r in session.connection().execute(query)]


def one(session: Session, inbound_id: int) -> tuple[InboundRow, bytes] | None:
    """One row with its raw bytes exactly as stored."""
    found = session.connection().execute(select(*_LISTED, _t.c.raw).where(_t.c.id == inbound_id)).first()
    return None if found is None else (_row(found), found.raw)


def add_audit(session: Session, now: datetime, actor: str, action: str, inbound_id: int | None,
              detail: str) -> None:
    """One audit line for an operator's action on stored mail."""
    session.connection().execute(insert(sql.audit), {"at": now, "actor": actor, "action": action,
                                                     "inbound_id": inbound_id, "detail": detail})


def backlog(session: Session, stuck_before: datetime) -> Backlog:
    """Rows not processed yet; stuck = received before `stuck_before`."""
    return sql.backlog(session, _t, InboundState.RECEIVED, "received_at", "received_at", stuck_before)


def count(session: Session, state: str) -> int:
    """Rows in `state` (e.g. quarantined)."""
    return sql.count_in(session, _t, state)
