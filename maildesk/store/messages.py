"""The `messages` and `attachments` tables: a ticket's thread, and the Message-IDs it is known by."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update

from maildesk.domain import Direction, StoredFile
from maildesk.store import sql
from maildesk.store.db import Session

_m, _a, _o = sql.messages, sql.attachments, sql.outbox
_INSERT = insert(_m).returning(_m.c.id)
_INSERT_FILES = insert(_a)
_OURS_CITED = select(_o.c.message_id, _o.c.ticket_id).where(_o.c.message_id.in_(bindparam("ids",
                                                                                          expanding=True)))
_THEIRS_CITED = select(_m.c.message_id, _m.c.ticket_id).where(
    _m.c.message_id.in_(bindparam("ids", expanding=True)))
_SAME_MAIL = select(_m.c.ticket_id).where(
    _m.c.message_id == bindparam("message_id"), _m.c.from_email == bindparam("from_email"),
    _m.c.subject == bindparam("subject"), _m.c.text == bindparam("text"), _m.c.inbound_id.is_not(None))
_HOLD_ID = select(func.pg_advisory_xact_lock(bindparam("key")))
# What the requester sees of a thread: their mail, and what we sent them (never an agent's own
# Message-ID, which only the desk ever received).
_THEIRS = (_m.c.message_id != "") & (_m.c.direction == Direction.INBOUND)
_OURS = _o.c.kind.in_(("ack", "reply")) | _o.c.kind.like("status_%")


@dataclass(frozen=True)
class NewMessage:
    """A mail to keep on a ticket's thread (received, an agent's, a third party's)."""

    ticket_id: int
    inbound_id: int | None
    direction: str
    message_id: str
    from_email: str
    from_name: str
    subject: str
    text: str
    new_text: str
    verdict: str
    created_at: datetime
    verdict_reasons: tuple[str, ...] = ()


def add(session: Session, message: NewMessage, files: Sequence[StoredFile]) -> int:
    """Store `message` with its attached files (their bytes already in the blob store); return its id."""
    conn = session.connection()
    values = {f.name: getattr(message, f.name) for f in fields(NewMessage)}
    values["verdict_reasons"] = list(message.verdict_reasons)
    message_id = int(conn.execute(_INSERT, values).scalar_one())
    if files:
        conn.execute(_INSERT_FILES, [
            {"message_id": message_id, "filename": f.filename[:512], "content_type": f.content_type[:255],
             "size": f.size, "sha256": f.sha256} for f in files])
    return message_id


def thread_ids(session: Session, ticket_id: int) -> list[str]:
    """Message-IDs of the thread as the requester sees it, oldest first."""
    return threads(session, [ticket_id]).get(ticket_id, [])


def threads(session: Session, ticket_ids: Sequence[int]) -> dict[int, list[str]]:
    """`thread_ids` for many tickets at once, by ticket."""
    conn = session.connection()
    ids = list(ticket_ids)
    theirs = conn.execute(select(_m.c.ticket_id, _m.c.created_at, _m.c.message_id)
                          .where(_m.c.ticket_id.in_(ids), _THEIRS).order_by(_m.c.id)).all()
    ours = conn.execute(select(_o.c.ticket_id, _o.c.created_at, _o.c.message_id)
                        .where(_o.c.ticket_id.in_(ids), _OURS).order_by(_o.c.id)).all()
    out: dict[int, list[str]] = {}
    # By time; at the same instant their mail before our answer to it, each in the order written.
    for tid, _, mid in sorted([*theirs, *ours], key=lambda r: (r[0] or 0, r[1])):
        out.setdefault(tid or 0, []).append(mid)
    return out


def tickets_cited(session: Session, cited: Sequence[str]) -> tuple[int | None, frozenset[int]]:
    """For the Message-IDs a mail answers: the ticket of the nearest known one, and the tickets
    whose mail *we sent* is among them (proof that the writer received our mail)."""
    if not cited:
        return None, frozenset()
    conn = session.connection()
    ids = {"ids": list(cited)}
    ours = {m: t for m, t in conn.execute(_OURS_CITED, ids)}
    theirs = {m: t for m, t in conn.execute(_THEIRS_CITED, ids)}
    nearest = next((ours.get(i) or theirs.get(i) for i in cited if i in ours or i in theirs), None)
    return nearest, frozenset(t for t in ours.values() if t is not None)


def ticket_with_same_mail(session: Session, message_id: str, from_email: str, subject: str,
                          text: str) -> int | None:
    """The ticket already holding this very mail: same Message-ID, sender, subject and text."""
    return session.connection().execute(_SAME_MAIL, {"message_id": message_id, "from_email": from_email,
                                                     "subject": subject, "text": text}).scalar()


def tickets_opened_by(session: Session, inbound_ids: Sequence[int]) -> list[int]:
    """The tickets whose first message is one of these inbound rows (the tickets they opened), in
    ticket order."""
    ids = list(inbound_ids)
    touched = select(_m.c.ticket_id).where(_m.c.inbound_id.in_(ids))
    first = select(func.min(_m.c.id)).where(_m.c.ticket_id.in_(touched)).group_by(_m.c.ticket_id)
    opened = (select(_m.c.ticket_id).where(_m.c.id.in_(first), _m.c.inbound_id.in_(ids))
              .order_by(_m.c.ticket_id))
    return [int(i) for i in session.connection().execute(opened).scalars()]


def hold_message_id(session: Session, message_id: str) -> None:
    """Make every other transaction that holds the same Message-ID wait until this one ends.

    Two copies of one mail (a retransmission, a second MX path: different bytes, so two inbound rows)
    processed at the same instant by two workers would each find no ticket holding it and open one
    each; with this, the second looks only after the first committed. PostgreSQL only: SQLite's
    single writer already runs one transaction after the other. Unrelated ids that share a key
    merely wait for each other."""
    if session.connection().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(message_id.encode()).digest()[:8], "big", signed=True)
    session.connection().execute(_HOLD_ID, {"key": key})


def survey_cited(session: Session, cited: Sequence[str]) -> int | None:
    """The ticket of the satisfaction survey among the Message-IDs a mail answers, if any."""
    if not cited:
        return None
    return session.connection().execute(select(_o.c.ticket_id).where(
        _o.c.message_id.in_(list(cited)), _o.c.kind == "survey").limit(1)).scalar()


def opening_verdict(session: Session, ticket_id: int) -> str | None:
    """What the mail that opened the ticket was (human, auto_reply, bounce, …), or None without one."""
    return session.connection().execute(select(_m.c.verdict).where(
        _m.c.ticket_id == ticket_id, _m.c.direction == Direction.INBOUND).order_by(_m.c.id).limit(1)).scalar()


def has_message(session: Session, ticket_id: int, message_id: str) -> bool:
    """Whether the ticket already holds a message with this Message-ID (a re-delivered mail)."""
    return bool(message_id) and session.connection().execute(select(_m.c.id).where(
        _m.c.ticket_id == ticket_id, _m.c.message_id == message_id).limit(1)).first() is not None


@dataclass(frozen=True)
class LastMessage:
    """The requester's latest mail on a ticket, as forwarded to a third party."""

    sender_name: str
    created_at: datetime
    text: str
    files: tuple[tuple[str, str, str], ...]  # (filename, content type, sha256)


def last_from(session: Session, ticket_id: int, sender: str) -> LastMessage | None:
    """The newest mail `sender` sent on the ticket, with its attachments."""
    conn = session.connection()
    found = conn.execute(select(_m.c.id, _m.c.from_name, _m.c.created_at, _m.c.text).where(
        _m.c.ticket_id == ticket_id, _m.c.direction == Direction.INBOUND, _m.c.from_email == sender.lower())
        .order_by(_m.c.created_at.desc(), _m.c.id.desc()).limit(1)).first()
    if found is None:
        return None
    files = conn.execute(select(_a.c.filename, _a.c.content_type, _a.c.sha256)
                         .where(_a.c.message_id == found.id).order_by(_a.c.id)).all()
    return LastMessage(found.from_name, found.created_at, found.text, tuple((f, c, s) for f, c, s in files))


def move(session: Session, source: int, target: int, message_row: int | None = None) -> int:
    """Put the messages of ticket `source` (only row `message_row` when given) on ticket `target`;
    how many moved. Their attachments go with them."""
    where = _m.c.ticket_id == source
    if message_row is not None:
        where &= _m.c.id == message_row
    return int(session.connection().execute(update(_m).where(where).values(ticket_id=target)).rowcount or 0)


@dataclass(frozen=True)
class ThreadRow:
    """One message of a ticket as a split needs it."""

    id: int
    direction: str
    from_email: str
    from_name: str
    subject: str


def thread_rows(session: Session, ticket_id: int) -> list[ThreadRow]:
    """The ticket's messages in the order they came (message N of `tickets show` is element N - 1)."""
    rows = session.connection().execute(
        select(_m.c.id, _m.c.direction, _m.c.from_email, _m.c.from_name, _m.c.subject)
        .where(_m.c.ticket_id == ticket_id).order_by(_m.c.id))
    return [ThreadRow(*row) for row in rows]


@dataclass(frozen=True)
class TicketFile:
    """A file on a ticket: the message row it came with, and what the attachments table keeps."""

    message_row: int
    filename: str
    content_type: str
    size: int
    sha256: str


def ticket_files(session: Session, ticket_id: int) -> list[TicketFile]:
    """The ticket's files in the order the mail came (message, then its attachments): file N of
    `tickets show` is element N - 1."""
    rows = session.connection().execute(
        select(_a.c.message_id, _a.c.filename, _a.c.content_type, _a.c.size, _a.c.sha256)
        .join(_m, _m.c.id == _a.c.message_id).where(_m.c.ticket_id == ticket_id).order_by(_m.c.id, _a.c.id))
    return [TicketFile(*row) for row in rows]


def agent_answers(session: Session, ticket_ids: Sequence[int]) -> list[tuple[int, datetime, str, str]]:
    """Public agent answers on these tickets, oldest first: (ticket, at, who, new text)."""
    rows = session.connection().execute(
        select(_m.c.ticket_id, _m.c.created_at, _m.c.from_name, _m.c.from_email, _m.c.new_text)
        .where(_m.c.ticket_id.in_(list(ticket_ids)), _m.c.direction == Direction.OUTBOUND)
        .order_by(_m.c.created_at, _m.c.id))
    return [(tid, at, name or email, text) for tid, at, name, email, text in rows]
