"""Queries and writes the pipeline and services share; plain values in and out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached

from maildesk import metrics
from maildesk.domain import Address, Status
from maildesk.mail.parse import Attachment as MailAttachment
from maildesk.policy.threading import TicketView
from maildesk.store.models import (
    Agent,
    Attachment,
    Contact,
    Event,
    Inbound,
    KeyValue,
    Message,
    Outbox,
    Participant,
    Ticket,
)

# The hot path below talks to the connection with Core statements: the ORM session costs about
# 0.25 ms of CPU per statement, several times the work SQLite itself does (see docs/performance.md).
_contacts, _participants = cast(Table, Contact.__table__), cast(Table, Participant.__table__)
_events, _outbox = cast(Table, Event.__table__), cast(Table, Outbox.__table__)
_messages, _inbound = cast(Table, Message.__table__), cast(Table, Inbound.__table__)
_agents, _attachments = cast(Table, Agent.__table__), cast(Table, Attachment.__table__)
_tickets = cast(Table, Ticket.__table__)

# Built once: building a statement costs SQLAlchemy several times what running it costs
# (about 0.2 ms against 0.05 ms, measured in docs/performance.md). Values go in as bind parameters.
_CONTACT_BY_EMAIL = select(_contacts.c.id, _contacts.c.name).where(_contacts.c.email == bindparam("email"))
_CONTACT_NAME = update(_contacts).where(_contacts.c.id == bindparam("contact_id")).values(
    name=bindparam("new_name"))
_OURS_CITED = select(_outbox.c.message_id, _outbox.c.ticket_id).where(
    _outbox.c.message_id.in_(bindparam("ids", expanding=True)))
_THEIRS_CITED = select(_messages.c.message_id, _messages.c.ticket_id).where(
    _messages.c.message_id.in_(bindparam("ids", expanding=True)))
_PARTICIPANT_ROWS = (select(_contacts.c.email, _contacts.c.name, _participants.c.role)
                     .join(_participants, _participants.c.contact_id == _contacts.c.id)
                     .where(_participants.c.ticket_id == bindparam("ticket_id")).order_by(_participants.c.id))
_INSERT_EVENT = insert(_events)
_INSERT_TICKET = insert(_tickets).returning(_tickets.c.id)
_INSERT_MESSAGE = insert(_messages).returning(_messages.c.id)
_INSERT_ATTACHMENT = insert(_attachments)
_INSERT_OUTBOX = insert(_outbox).returning(_outbox.c.id)
_INSERT_INBOUND = insert(_inbound).returning(_inbound.c.id)
_LOCK_INBOUND = select(
    _inbound.c.id, _inbound.c.state, _inbound.c.received_at, _inbound.c.source, _inbound.c.mail_from,
    _inbound.c.rcpt_to, _inbound.c.raw, _inbound.c.message_id, _inbound.c.attempts,
).where(_inbound.c.id == bindparam("inbound_id")).with_for_update()
# The SET clause comes from the parameters' keys (every key but row_id).
_UPDATE_INBOUND = update(_inbound).where(_inbound.c.id == bindparam("row_id"))
_INBOUND_BATCH = select(_inbound.c.id, _inbound.c.state, _inbound.c.raw, _inbound.c.mail_from).where(
    _inbound.c.id.in_(bindparam("inbound_ids", expanding=True)))
_INBOUND_BY_DIGEST = select(_inbound.c.id).where(_inbound.c.sha256 == bindparam("digest"))
_CLAIM_OUTBOX = (
    update(_outbox)
    .where(_outbox.c.id.in_(bindparam("outbox_ids", expanding=True)), _outbox.c.state == "pending",
           _outbox.c.next_attempt_at <= bindparam("now"))
    .values(next_attempt_at=bindparam("lease_until"), attempts=_outbox.c.attempts + 1)
    .returning(_outbox.c.id, _outbox.c.ticket_id, _outbox.c.message_id, _outbox.c.mail_from,
               _outbox.c.rcpt_to, _outbox.c.raw, _outbox.c.attempts, _outbox.c.kind))
_OUTBOX_SENT = update(_outbox).where(_outbox.c.id == bindparam("outbox_id")).values(
    state="sent", sent_at=bindparam("sent_at"), last_error="")
_ACTIVE_AGENTS = (select(_agents.c.id, _agents.c.email, _agents.c.name).where(_agents.c.active.is_(True))
                  .order_by(_agents.c.id))
_UPSERTS: dict[tuple[str, str, bool], Any] = {}
_AGENTS_KEY = "maildesk.active_agents"


@dataclass(frozen=True)
class ContactRef:
    """A contact's row id and address."""

    id: int
    email: str
    name: str


def _insert_ignoring_duplicates(session: Session, table: Table, values: dict[str, Any],
                                unique: Sequence[str]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL; True when a row was added.

    Losing a race with another worker that inserts the same row is then not an error that would
    undo the rest of this transaction."""
    conn = session.connection()
    stmt = _insert_new_only(conn.dialect.name, table, unique)
    return bool(getattr(conn.execute(stmt, values), "rowcount", 0) == 1)


def _insert_new_only(dialect: str, table: Table, unique: Sequence[str], returning: Any = None) -> Any:
    """INSERT … ON CONFLICT (`unique`) DO NOTHING [RETURNING `returning`] for `dialect`, built once."""
    key = (dialect, table.name, returning is not None)
    stmt = _UPSERTS.get(key)
    if stmt is None:
        insert_for = sqlite_insert if dialect == "sqlite" else postgresql_insert
        stmt = insert_for(table).on_conflict_do_nothing(index_elements=list(unique))
        _UPSERTS[key] = stmt = stmt.returning(returning) if returning is not None else stmt
    return stmt


def contact_for(session: Session, address: Address, now: datetime) -> ContactRef:
    """The contact for `address`, created on first sight; a known contact gains a missing name."""
    conn = session.connection()
    found = conn.execute(_CONTACT_BY_EMAIL, {"email": address.key}).first()
    if found is None:
        stmt = _insert_new_only(conn.dialect.name, _contacts, ["email"], returning=_contacts.c.id)
        added = conn.execute(stmt, {"email": address.key, "name": address.name, "created_at": now}).first()
        if added is not None:
            return ContactRef(added.id, address.key, address.name)
        # Another worker added the same address a moment ago: read theirs.
        found = conn.execute(_CONTACT_BY_EMAIL, {"email": address.key}).one()
    elif address.name and not found.name:
        conn.execute(_CONTACT_NAME, {"contact_id": found.id, "new_name": address.name})
    return ContactRef(found.id, address.key, found.name or address.name)


def ticket_view(session: Session, ticket_id: int, lock: bool = False) -> TicketView | None:
    """What threading needs of ticket `ticket_id`, or None if there is no such ticket.

    With `lock`, the ticket row stays locked until the transaction ends, so two replies processed
    at once by different workers decide on the same ticket one after the other (PostgreSQL).
    """
    ticket = session.get(Ticket, ticket_id, with_for_update=lock or None, populate_existing=lock)
    if ticket is None:
        return None
    emails = [email for email, _, _ in _participant_rows(session, ticket_id)]
    return TicketView(id=ticket.id, status=Status(ticket.status), participants=frozenset(emails),
                      closed_at=ticket.closed_at)


def tickets_cited(session: Session, thread_ids: Sequence[str]) -> tuple[int | None, frozenset[int]]:
    """For the Message-IDs a mail answers: the ticket of the nearest known one, and the tickets
    whose mail *we sent* is among them (proof that the writer received our mail)."""
    if not thread_ids:
        return None, frozenset()
    conn = session.connection()
    ids = {"ids": list(thread_ids)}
    ours = {m: t for m, t in conn.execute(_OURS_CITED, ids)}
    theirs = {m: t for m, t in conn.execute(_THEIRS_CITED, ids)}
    nearest = next((ours.get(i) or theirs.get(i) for i in thread_ids if i in ours or i in theirs), None)
    return nearest, frozenset(t for t in ours.values() if t is not None)


def insert_ticket(session: Session, ticket: Ticket) -> None:
    """Write a new, fully set `ticket` with one Core INSERT and attach it to `session` as if it had
    just been loaded: later changes to it are flushed as usual. The ORM's own insert costs several
    times more CPU (its unit of work), and this runs for every new ticket."""
    values = {c.key: getattr(ticket, c.key) for c in _tickets.columns if c.key != "id"}
    ticket.id = int(session.connection().execute(_INSERT_TICKET, values).scalar_one())
    for column in _tickets.columns:  # every attribute loaded, so nothing is fetched again later
        setattr(ticket, column.key, getattr(ticket, column.key))
    make_transient_to_detached(ticket)
    session.add(ticket)


def add_participant(session: Session, ticket_id: int, contact_id: int, role: str) -> bool:
    """Put a contact on a ticket unless already there; True when added."""
    values = {"ticket_id": ticket_id, "contact_id": contact_id, "role": role}
    return _insert_ignoring_duplicates(session, _participants, values, ["ticket_id", "contact_id"])


def participants(session: Session, ticket_id: int) -> list[tuple[Address, str]]:
    """The ticket's participants with their roles, requester first."""
    return [(Address(email, name), role) for email, name, role in _participant_rows(session, ticket_id)]


def _participant_rows(session: Session, ticket_id: int) -> list[tuple[str, str, str]]:
    rows = session.connection().execute(_PARTICIPANT_ROWS, {"ticket_id": ticket_id})
    return [(e, n, r) for e, n, r in rows]


def add_event(session: Session, ticket_id: int, now: datetime, actor: str, kind: str,
              reason: str = "", **detail: Any) -> None:
    """Record who did what to a ticket and why."""
    metrics.count_event(kind)
    session.connection().execute(_INSERT_EVENT, _event_row(ticket_id, now, actor, kind, reason, detail))


def _event_row(ticket_id: int, now: datetime, actor: str, kind: str, reason: str,
               detail: dict[str, Any]) -> dict[str, Any]:
    return {"ticket_id": ticket_id, "at": now, "actor": actor, "kind": kind, "detail": detail,
            "reason": reason}


def _outbox_row(ticket_id: int | None, kind: str, message_id: str, mail_from: str, rcpt_to: Iterable[str],
                raw: bytes, now: datetime) -> dict[str, Any]:
    rcpts = list(rcpt_to)
    return {"ticket_id": ticket_id, "kind": kind, "message_id": message_id, "mail_from": mail_from,
            "rcpt_to": rcpts, "recipient": rcpts[0].lower() if rcpts else "", "raw": raw,
            "state": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now, "last_error": ""}


@dataclass
class Writes:
    """Events and outbox rows gathered over a batch and written with one executemany each.

    A sweep acting on thousands of tickets spends most of its time in per-row INSERTs otherwise."""

    events: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)

    def event(self, ticket_id: int, now: datetime, actor: str, kind: str, reason: str = "",
              **detail: Any) -> None:
        """Queue an event row (see add_event)."""
        metrics.count_event(kind)
        self.events.append(_event_row(ticket_id, now, actor, kind, reason, detail))

    def outbox_row(self, ticket_id: int | None, kind: str, message_id: str, mail_from: str,
                   rcpt_to: Iterable[str], raw: bytes, now: datetime) -> None:
        """Queue an outbox row (see add_outbox)."""
        self.outbox.append(_outbox_row(ticket_id, kind, message_id, mail_from, rcpt_to, raw, now))

    def flush(self, session: Session) -> list[int]:
        """Write everything queued; return the new outbox ids in the order they were queued."""
        conn = session.connection()
        if self.events:
            conn.execute(_INSERT_EVENT, self.events)
        ids: list[int] = []
        if self.outbox:
            rows = conn.execute(insert(_outbox).returning(_outbox.c.id, sort_by_parameter_order=True),
                                self.outbox)
            ids = [int(r[0]) for r in rows]
        self.events, self.outbox = [], []
        return ids


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


def add_message(session: Session, message: NewMessage, files: Sequence[MailAttachment],
                digests: Sequence[str]) -> int:
    """Store `message` with its attached files (whose bytes are already in the blob store under
    `digests`); return the message's id. The file name is display metadata only (S11)."""
    conn = session.connection()
    values = {f.name: getattr(message, f.name) for f in fields(NewMessage)}
    values["verdict_reasons"] = list(message.verdict_reasons)
    message_id = int(conn.execute(_INSERT_MESSAGE, values).scalar_one())
    rows = [{"message_id": message_id, "filename": part.filename[:512],
             "content_type": part.content_type[:255], "size": len(part.data), "sha256": digest}
            for part, digest in zip(files, digests, strict=True)]
    if rows:
        conn.execute(_INSERT_ATTACHMENT, rows)
    return message_id


def add_outbox(session: Session, ticket_id: int | None, kind: str, message_id: str, mail_from: str,
               rcpt_to: Iterable[str], raw: bytes, now: datetime) -> int:
    """Store a composed message for delivery; return its outbox id."""
    values = _outbox_row(ticket_id, kind, message_id, mail_from, rcpt_to, raw, now)
    return int(session.connection().execute(_INSERT_OUTBOX, values).scalar_one())


def thread_message_ids(session: Session, ticket_id: int) -> list[str]:
    """Message-IDs of the thread as the requester sees it, oldest first: their mails and what we sent
    them (never an agent's own Message-ID, which only the desk ever received)."""
    theirs = session.execute(select(Message.created_at, Message.message_id)
                             .where(Message.ticket_id == ticket_id, Message.message_id != "",
                                    Message.direction == "inbound")).all()
    ours = session.execute(select(Outbox.created_at, Outbox.message_id)
                           .where(Outbox.ticket_id == ticket_id, Outbox.kind.in_(("ack", "reply"))
                                  | Outbox.kind.like("status_%"))).all()
    return [mid for _, mid in sorted([*theirs, *ours])]


def find_inbound_by_digest(session: Session, digest: str) -> int | None:
    """The inbound row already holding these exact bytes, if any."""
    return session.connection().execute(_INBOUND_BY_DIGEST, {"digest": digest}).scalar()


def inbound_batch_to_process(session: Session,
                             inbound_ids: Sequence[int]) -> dict[int, tuple[str, bytes, str | None]]:
    """State, raw bytes and envelope sender of the inbound rows `inbound_ids`, by id; missing rows
    are left out."""
    rows = session.connection().execute(_INBOUND_BATCH, {"inbound_ids": list(inbound_ids)})
    return {row.id: (row.state, row.raw, row.mail_from) for row in rows}


def add_inbound(session: Session, values: dict[str, Any]) -> int:
    """Insert an inbound row (every column but `id`, `ticket_id` and `processed_at`); return its id."""
    return int(session.connection().execute(_INSERT_INBOUND, values).scalar_one())


def ticket_with_inbound_message(session: Session, message_id: str) -> int | None:
    """The ticket that already holds a received mail with this Message-ID (a re-delivery)."""
    return session.scalars(select(Message.ticket_id).where(
        Message.message_id == message_id, Message.direction == "inbound")).first()


@dataclass(frozen=True)
class ClaimedOutbox:
    """An outbox row this worker holds until its lease ends."""

    id: int
    ticket_id: int | None
    message_id: str
    mail_from: str
    rcpt_to: list[str]
    raw: bytes
    attempts: int
    kind: str = ""


def claim_outboxes(session: Session, outbox_ids: Sequence[int], now: datetime,
                   lease_until: datetime) -> list[ClaimedOutbox]:
    """Take the rows of `outbox_ids` that are pending and due, in one conditional UPDATE (two workers
    never both win a row); the rows taken, in the order asked for."""
    rows = session.connection().execute(
        _CLAIM_OUTBOX, {"outbox_ids": list(outbox_ids), "now": now, "lease_until": lease_until}).all()
    taken = {r[0]: ClaimedOutbox(r[0], r[1], r[2], r[3], list(r[4]), r[5], r[6], r[7]) for r in rows}
    return [taken[i] for i in outbox_ids if i in taken]


def mark_outboxes_sent(session: Session, outbox_ids: Sequence[int], now: datetime) -> None:
    """Record successful deliveries (one executemany)."""
    session.connection().execute(_OUTBOX_SENT, [{"outbox_id": i, "sent_at": now} for i in outbox_ids])


def mark_outbox_failed(session: Session, outbox_id: int, error: str, final: bool, retry_at: datetime) -> None:
    """Record a failed attempt: give up when `final`, else try again at `retry_at`."""
    values: dict[str, Any] = {"last_error": error[:4000], "next_attempt_at": retry_at}
    if final:
        values["state"] = "failed"
    session.execute(update(Outbox).where(Outbox.id == outbox_id).values(**values))


def stuck_inbound_ids(session: Session, received_before: datetime, limit: int) -> list[int]:
    """Inbound rows not yet processed that arrived before `received_before`, oldest first; rows a
    worker is processing right now (locked) are skipped."""
    return claim_rows(session, select(Inbound.id).where(
        Inbound.state == "received", Inbound.received_at <= received_before)
        .order_by(Inbound.id).limit(limit))


@dataclass(frozen=True)
class LockedInbound:
    """An inbound row as processing reads it; changes go back with `update_inbound`."""

    id: int
    state: str
    received_at: datetime
    source: str
    mail_from: str | None
    rcpt_to: list[str]
    raw: bytes
    message_id: str
    attempts: int


def lock_inbound(session: Session, inbound_id: int) -> LockedInbound | None:
    """Inbound row `inbound_id`, locked until the transaction ends: on PostgreSQL a second worker
    handed the same id (a redelivered message) waits here, then sees the row already done."""
    row = session.connection().execute(_LOCK_INBOUND, {"inbound_id": inbound_id}).first()
    return None if row is None else LockedInbound(*row)


def update_inbound(session: Session, inbound_id: int, **values: Any) -> None:
    """Set columns of inbound row `inbound_id` (state, error, verdict, ticket_id, ...)."""
    session.connection().execute(_UPDATE_INBOUND, {"row_id": inbound_id, **values})


def due_outbox_ids(session: Session, now: datetime, limit: int,
                   fresh_before: datetime | None = None) -> list[int]:
    """Pending outbox rows whose next attempt is due, oldest first, skipping rows another sweep holds.

    With `fresh_before`, a row never attempted counts only once it was due before that instant: it
    was queued when it was written, and queueing it again on every sweep would flood a busy broker.
    """
    due = (Outbox.next_attempt_at <= now) if fresh_before is None else (
        (Outbox.next_attempt_at <= now) & ((Outbox.attempts > 0) | (Outbox.next_attempt_at <= fresh_before)))
    return claim_rows(session, select(Outbox.id).where(Outbox.state == "pending", due)
                      .order_by(Outbox.id).limit(limit))


def claim_rows(session: Session, query: Select[Any], of: Any = None) -> list[Any]:
    """The rows of `query`, locked until this transaction ends; rows another transaction holds are
    skipped, so concurrent sweeps on several machines never act on the same row twice.

    PostgreSQL: FOR UPDATE SKIP LOCKED (`of` names the table to lock when the query joins).
    SQLite renders no FOR UPDATE: there a write transaction (BEGIN IMMEDIATE) already excludes all others.
    """
    return list(session.scalars(query.with_for_update(skip_locked=True, of=of)))


def set_value(session: Session, key: str, value: str) -> None:
    """Remember a small fact under `key`."""
    row = session.get(KeyValue, key)
    if row is None:
        session.add(KeyValue(key=key, value=value))
    else:
        row.value = value


def get_value(session: Session, key: str) -> str | None:
    """A fact remembered under `key`, if any."""
    row = session.get(KeyValue, key)
    return None if row is None else row.value


def active_agent_ids(session: Session) -> dict[str, int]:
    """Active agents by lowercased address."""
    return {address.key: agent_id for agent_id, address in active_agents_with_ids(session)}


def active_agents_with_ids(session: Session) -> list[tuple[int, Address]]:
    """Active agents with their ids, in the order they were added.

    Read once per session (a session is one transaction here): a batch of mail asks for them
    several times per mail, and nothing in a processing transaction adds or removes agents."""
    known: list[tuple[int, Address]] | None = session.info.get(_AGENTS_KEY)
    if known is None:
        rows = session.connection().execute(_ACTIVE_AGENTS)
        known = [(agent_id, Address(email, name)) for agent_id, email, name in rows]
        session.info[_AGENTS_KEY] = known
    return list(known)


def find_agent(session: Session, wanted: str) -> tuple[int, str] | None:
    """The active agent whose address, local part or name is `wanted` (case-insensitive), if exactly one."""
    key = wanted.strip().lower()
    rows = session.execute(select(Agent.id, Agent.email, Agent.name).where(Agent.active.is_(True))).all()
    hits = [(i, e) for i, e, n in rows if key in (e, e.partition("@")[0], n.lower())]
    return hits[0] if len(hits) == 1 else None


def remove_participant(session: Session, ticket_id: int, email: str) -> bool:
    """Take a CC participant off a ticket (never the requester); True when removed."""
    found = session.execute(
        select(Participant).join(Contact, Contact.id == Participant.contact_id)
        .where(Participant.ticket_id == ticket_id, Contact.email == email.lower(),
               Participant.role != "requester")
    ).scalars().first()
    if found is None:
        return False
    session.delete(found)
    session.flush()  # now: later reads of the participants go to the connection, not the session
    return True
