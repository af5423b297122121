"""Queries behind the loop brakes, the undeliverable list, bounces and quarantine. Plain values out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from maildesk.policy.brakes import BRAKED_KINDS, BRAKED_PREFIXES
from maildesk.store.models import Audit, Inbound, Message, Outbox, Undeliverable


def _braked_kind() -> ColumnElement[bool]:
    # Equalities, not IN: an IN list is re-rendered into the SQL at every execution (about 40 µs).
    return or_(*(Outbox.kind == k for k in sorted(BRAKED_KINDS)),
               *(Outbox.kind.like(p + "%") for p in BRAKED_PREFIXES))


# Built once (these run for every automatic mail); values go in as bind parameters.
# Both brake counts in one pass over the recipient's rows: of one kind since one instant, and of
# every braked kind since another.
_SENT_COUNTS = select(
    func.coalesce(func.sum(case(((Outbox.kind == bindparam("kind"))
                                 & (Outbox.created_at >= bindparam("kind_since")), 1), else_=0)), 0),
    func.coalesce(func.sum(case((_braked_kind() & (Outbox.created_at >= bindparam("all_since")), 1),
                                else_=0)), 0),
).where(Outbox.recipient == bindparam("recipient"), Outbox.created_at >= bindparam("earliest"))
_BLOCKED = select(Undeliverable.address, Undeliverable.until, Undeliverable.reason).where(
    Undeliverable.address.in_(bindparam("keys", expanding=True)), Undeliverable.until > bindparam("now"))
_SAME_MAIL = select(Message.ticket_id).where(
    Message.message_id == bindparam("message_id"), Message.from_email == bindparam("from_email"),
    Message.subject == bindparam("subject"), Message.text == bindparam("text"),
    Message.inbound_id.is_not(None))


def sent_counts(session: Session, recipient: str, kind: str, kind_since: datetime | None,
                all_since: datetime) -> tuple[int, int]:
    """(rows of `kind` since `kind_since`, rows of every braked kind since `all_since`) to
    `recipient`, in one query; no `kind_since`: the first count is 0.

    Failed rows count too: a robot we keep writing to is a loop whether or not our mail arrives."""
    earliest = min(all_since, kind_since) if kind_since is not None else all_since
    row = session.connection().execute(_SENT_COUNTS, {
        "recipient": recipient.lower(), "kind": kind, "kind_since": kind_since or earliest,
        "all_since": all_since, "earliest": earliest}).one()
    return (int(row[0]) if kind_since is not None else 0), int(row[1])


@dataclass(frozen=True)
class SentMail:
    """An outbox row found by its Message-ID (the mail a bounce reports on)."""

    id: int
    ticket_id: int | None
    kind: str
    rcpt_to: tuple[str, ...]


def outbox_by_message_id(session: Session, message_id: str) -> SentMail | None:
    """Our outbox row with Message-ID `message_id`, if we sent one."""
    row = session.execute(select(Outbox.id, Outbox.ticket_id, Outbox.kind, Outbox.rcpt_to)
                          .where(Outbox.message_id == message_id)).first()
    return None if row is None else SentMail(row[0], row[1], row[2], tuple(row[3]))


def mark_bounced(session: Session, outbox_id: int, reason: str) -> None:
    """A delivered-then-bounced outbox row ends failed with the report's reason."""
    session.execute(update(Outbox).where(Outbox.id == outbox_id)
                    .values(state="failed", last_error=reason[:4000]))


def block_address(session: Session, address: str, until: datetime, reason: str, outbox_id: int | None,
                  now: datetime) -> None:
    """Send nothing to `address` until `until` (extends an existing block, never shortens it)."""
    key = address.lower()
    row = session.get(Undeliverable, key)
    if row is None:
        session.add(Undeliverable(address=key, until=until, reason=reason[:4000], outbox_id=outbox_id,
                                  created_at=now))
    elif row.until < until:
        row.until, row.reason, row.outbox_id = until, reason[:4000], outbox_id


def blocked(session: Session, addresses: list[str], now: datetime) -> dict[str, str]:
    """Which of `addresses` are undeliverable right now, with the reason."""
    rows = session.connection().execute(_BLOCKED, {"keys": [a.lower() for a in addresses], "now": now}).all()
    return {address: f"undeliverable until {until:%Y-%m-%d}: {reason}" for address, until, reason in rows}


def add_audit(session: Session, now: datetime, actor: str, action: str, inbound_id: int | None,
              detail: str) -> None:
    """One audit line for an operator's action."""
    session.add(Audit(at=now, actor=actor, action=action, inbound_id=inbound_id, detail=detail))


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


def _row(r: Inbound) -> InboundRow:
    return InboundRow(r.id, r.received_at, r.source, r.mail_from or "", tuple(r.rcpt_to), r.message_id,
                      r.size, r.state, r.attempts, r.error, r.verdict, tuple(r.verdict_reasons or ()),
                      r.ticket_id)


def inbound_rows(session: Session, state: str | None, limit: int) -> list[InboundRow]:
    """Inbound rows (without their bytes) in `state`, newest first."""
    query = select(Inbound).order_by(Inbound.id.desc()).limit(limit)
    if state is not None:
        query = query.where(Inbound.state == state)
    return [_row(r) for r in session.scalars(query)]


def inbound_row(session: Session, inbound_id: int) -> tuple[InboundRow, bytes] | None:
    """One inbound row with its raw bytes exactly as stored."""
    row = session.get(Inbound, inbound_id)
    return None if row is None else (_row(row), row.raw)


def set_inbound_state(session: Session, inbound_id: int, state: str, error: str,
                      reset_attempts: bool) -> None:
    """Move an inbound row to `state` (the operator's retry or drop)."""
    values: dict[str, object] = {"state": state, "error": error}
    if reset_attempts:
        values |= {"attempts": 0, "processed_at": None}
    session.execute(update(Inbound).where(Inbound.id == inbound_id).values(**values))



def ticket_with_same_mail(session: Session, message_id: str, from_email: str, subject: str,
                          text: str) -> int | None:
    """The ticket already holding this very mail: same Message-ID, sender, subject and text."""
    return session.connection().execute(_SAME_MAIL, {"message_id": message_id, "from_email": from_email,
                                                     "subject": subject, "text": text}).scalar()
