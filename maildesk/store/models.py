"""Every table: SQLAlchemy 2 typed models with named constraints and indexes.

Only maildesk.store imports this module (an import contract says so): the rest of the package sees
plain values, never a live row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from maildesk.store.dates import UtcDateTime
from maildesk.store.outcomes import opened_groups
from maildesk.store.spans import seconds_between

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite needs INTEGER (not BIGINT) for a rowid alias; PostgreSQL gets BIGINT.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Inbound(Base):
    """A raw message exactly as it arrived, committed before the sender hears 250."""

    __tablename__ = "inbound"
    __table_args__ = (
        Index("ix_inbound_state_received", "state", "received_at"),
        Index("ix_inbound_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    source: Mapped[str] = mapped_column(String(32))
    mail_from: Mapped[str | None] = mapped_column(String(512))
    rcpt_to: Mapped[list[str]] = mapped_column(JSON)
    # The SMTP/LMTP peer that handed the mail over; None for IMAP, the pipe and imports.
    client_ip: Mapped[str | None] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[str] = mapped_column(String(998), default="")
    size: Mapped[int] = mapped_column(Integer)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(16), default="received")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    verdict: Mapped[str] = mapped_column(String(32), default="")
    verdict_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ticket_id: Mapped[int | None] = mapped_column(Id, ForeignKey("tickets.id"))


class Contact(Base):
    """A person (or robot) who wrote to us or whom we wrote to."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Agent(Base):
    """Someone who answers tickets; managed with `maildesk agents`."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(256), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


#: The partial indexes of open and missed SLA targets (--due-before, --breached).
_OPEN_AND_MISSED = (
    ("ix_tickets_first_response_open", "first_response_due", "first_response_at IS NULL"),
    ("ix_tickets_resolution_open", "resolution_due", "resolved_at IS NULL"),
    ("ix_tickets_breached", "id",
     "sla_sent LIKE '%.breach%' OR first_response_at > first_response_due OR resolved_at > resolution_due"),
)


class Ticket(Base):
    """One request; its id is the number in the tag and is never reused."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_updated", "status", "updated_at"),
        Index("ix_tickets_requester", "requester_id"),
        # Carries what the report reads of the open tickets (migration 0012).
        Index("ix_tickets_spam_status", "spam", "status", "created_at", "assignee_id"),
        # The sweep reads only tickets whose next check is due; NULL means nothing to check.
        Index("ix_tickets_next_check", "next_check_at"),
        # What `tickets list` filters by (migration 0010, which also makes the trigram indexes of
        # the subject and the messages' text; the conditions are store.reads' word for word).
        Index("ix_tickets_status", "status"),
        Index("ix_tickets_category", "category"),
        Index("ix_tickets_type", "type"),
        Index("ix_tickets_assignee", "assignee_id"),
        Index("ix_tickets_created", "created_at"),
        Index("ix_tickets_closed", "closed_at", "spam", "assignee_id", "close_reason"),  # report's closures
        *(Index(name, column, sqlite_where=text(where), postgresql_where=text(where))
          for name, column, where in _OPEN_AND_MISSED),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    category: Mapped[str] = mapped_column(String(64), default="other")
    queue: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    requester_id: Mapped[int] = mapped_column(Id, ForeignKey("contacts.id"))
    assignee_id: Mapped[int | None] = mapped_column(Id, ForeignKey("agents.id"))
    linked_ticket_id: Mapped[int | None] = mapped_column(Id, ForeignKey("tickets.id"))
    close_reason: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Set by rules (issue #5): request or incident, free-form tags, the customer tier SLAs
    # read, and a spam flag that keeps the ticket stored but out of lists and unanswered.
    type: Mapped[str] = mapped_column(String(16), default="request")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    tier: Mapped[str] = mapped_column(String(32), default="")
    spam: Mapped[bool] = mapped_column(Boolean, default=False)
    # The SLA and auto-close clock (issue #6, docs/sla.md). `clock_status` is the status the clock
    # last saw, so recomputing after any change is idempotent; `waiting_since` is when the ticket
    # went pending or resolved; `paused_seconds` the working time spent pending; `sla_sent` the
    # warnings and breaches already sent ("first_response.warning,…").
    sla_policy: Mapped[str] = mapped_column(String(64), default="")
    first_response_due: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolution_due: Mapped[datetime | None] = mapped_column(UtcDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    waiting_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    clock_status: Mapped[str] = mapped_column(String(16), default="")
    sla_sent: Mapped[str] = mapped_column(String(128), default="")
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    next_check_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


# The durations `maildesk report` ranks, each held in order (migration 0011, store/report.py: walks):
# a percentile is the k-th entry of its index, read without a sort; spam, created_at and the end
# instant ride along so a walk never reads a ticket row. The expression is the one the report compiles.
_tickets = Ticket.__table__.c
for _name, _lead, _end in (
        ("ix_tickets_first_response_s", None, _tickets.first_response_at),
        ("ix_tickets_agent_first_response_s", _tickets.assignee_id, _tickets.first_response_at),
        ("ix_tickets_resolution_s", None, _tickets.resolved_at)):
    Index(_name, *([_lead] if _lead is not None else []), seconds_between(_end, _tickets.created_at),
          _tickets.spam, _tickets.created_at, _end)
# The tickets created, in the order the report groups them (migration 0012): SQLite groups only by
# sorting, and this hands it the groups in order; what the groups count rides along. PostgreSQL hashes.
Index("ix_tickets_opened", *opened_groups(_tickets)).ddl_if(dialect="sqlite")


class Participant(Base):
    """Who may write on a ticket and receives its public updates."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("ticket_id", "contact_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(Id, ForeignKey("tickets.id"))
    contact_id: Mapped[int] = mapped_column(Id, ForeignKey("contacts.id"))
    role: Mapped[str] = mapped_column(String(16))


class Message(Base):
    """One entry in a ticket's thread: a mail in, a reply out, or an internal note."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_ticket", "ticket_id", "created_at"),
        Index("ix_messages_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(Id, ForeignKey("tickets.id"))
    inbound_id: Mapped[int | None] = mapped_column(Id, ForeignKey("inbound.id"), unique=True)
    direction: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str] = mapped_column(String(998), default="")
    from_email: Mapped[str] = mapped_column(String(320), default="")
    from_name: Mapped[str] = mapped_column(String(256), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    new_text: Mapped[str] = mapped_column(Text, default="")
    verdict: Mapped[str] = mapped_column(String(32), default="human")
    verdict_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Attachment(Base):
    """A file on a message; its bytes live in the blob store under their sha256."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int] = mapped_column(Id, ForeignKey("messages.id"), index=True)
    filename: Mapped[str] = mapped_column(String(512))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))


class Event(Base):
    """Who did what to a ticket, when, and why."""

    __tablename__ = "events"
    # ix_events_kind_at: the report finds the period's ratings without reading every event.
    __table_args__ = (Index("ix_events_ticket", "ticket_id", "at"), Index("ix_events_kind_at", "kind", "at"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(Id, ForeignKey("tickets.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")


class Outbox(Base):
    """A composed message waiting to go out; its Message-ID is fixed so a retry sends the same mail."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_next", "state", "next_attempt_at"),
        Index("ix_outbox_recipient_created", "recipient", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(Id, ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    mail_from: Mapped[str] = mapped_column(String(320))
    rcpt_to: Mapped[list[str]] = mapped_column(JSON)
    # The first recipient, lowercased: what the brakes on automatic mail count by.
    recipient: Mapped[str] = mapped_column(String(320), default="")
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")


class OutboxRecipient(Base):
    """One recipient of one automatic outbox row: what the brakes count, across tickets, for every
    address a mail went to (To and Cc alike), not only the first."""

    __tablename__ = "outbox_recipients"
    __table_args__ = (Index("ix_outbox_recipients_address_created", "address", "created_at"),
                      Index("ix_outbox_recipients_domain_created", "domain", "created_at"),
                      Index("ix_outbox_recipients_client_ip_created", "client_ip", "created_at"),
                      Index("ix_outbox_recipients_fingerprint_created", "fingerprint", "created_at"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(Id, ForeignKey("outbox.id"))
    address: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # For answers to inbound mail (acknowledgements …): the recipient's domain, the client address
    # of the mail answered and its fingerprint, which the brakes on answers count by ("" otherwise).
    domain: Mapped[str] = mapped_column(String(255), default="", server_default="")
    client_ip: Mapped[str] = mapped_column(String(64), default="", server_default="")
    fingerprint: Mapped[str] = mapped_column(String(64), default="", server_default="")


class Undeliverable(Base):
    """An address that bounced our mail for good: nothing is sent to it until `until`."""

    __tablename__ = "undeliverable"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    until: Mapped[datetime] = mapped_column(UtcDateTime())
    reason: Mapped[str] = mapped_column(Text, default="")
    outbox_id: Mapped[int | None] = mapped_column(Id)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Audit(Base):
    """An operator's action on stored mail (a quarantined message dropped or retried)."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    inbound_id: Mapped[int | None] = mapped_column(Id)
    detail: Mapped[str] = mapped_column(Text, default="")


class KeyValue(Base):
    """Small facts the daemon keeps between runs (last sweep, fetch state)."""

    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ImapFolderState(Base):
    """How far the fetcher got in one IMAP account's folder, and how healthy that account is."""

    __tablename__ = "imap_state"
    __table_args__ = (UniqueConstraint("account", "folder"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    folder: Mapped[str] = mapped_column(String(512))
    # UIDs mean something only under the UIDVALIDITY they were seen with (RFC 3501 2.3.1.1).
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    backlog: Mapped[int] = mapped_column(Integer, default=0)
    fetched: Mapped[int] = mapped_column(BigInteger, default=0)
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    failing_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    token_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ThirdParty(Base):
    """Someone outside the desk (a vendor, another department) an agent brought into a ticket.

    Their id is the `x` number in their signed reply address, so a reply proves which ticket."""

    __tablename__ = "third_parties"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(Id, ForeignKey("tickets.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    added_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class KbArticle(Base):
    """An article of the knowledge base as indexed by `maildesk kb index`."""

    __tablename__ = "kb_articles"
    __table_args__ = (Index("uq_kb_articles_language_slug", "language", "slug", unique=True),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    slug: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    title_stems: Mapped[str] = mapped_column(Text, default="")
    tag_stems: Mapped[str] = mapped_column(Text, default="")
    body_stems: Mapped[str] = mapped_column(Text, default="")


class ImapLease(Base):
    """Which process may fetch an IMAP account right now: one at a time, across every front end."""

    __tablename__ = "imap_lease"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    leased_by: Mapped[str] = mapped_column(String(255), default="")
    lease_until: Mapped[datetime] = mapped_column(UtcDateTime())
