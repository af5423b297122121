"""Values shared by every layer: statuses, priorities, ids, addresses, envelopes, stored files."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NewType

TicketId = NewType("TicketId", int)
InboundId = NewType("InboundId", int)
OutboxId = NewType("OutboxId", int)


class Status(enum.StrEnum):
    """Where a ticket stands; see DESIGN.md decision 7."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELED = "canceled"


#: Statuses after which a ticket takes no more work unless it is reopened.
FINAL_STATUSES = frozenset({Status.CLOSED, Status.CANCELED})


class Priority(enum.StrEnum):
    """How urgent a ticket is."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class InboundState(enum.StrEnum):
    """Where a stored raw message is in its processing."""

    RECEIVED = "received"
    DONE = "done"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    QUARANTINED = "quarantined"
    DROPPED = "dropped"  # an operator gave up on a quarantined message; its bytes and an audit line stay


class OutboxState(enum.StrEnum):
    """Where a composed outbound message is in its delivery."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Direction(enum.StrEnum):
    """Which way a message on a ticket travelled."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


@dataclass(frozen=True)
class Address:
    """A mailbox with an optional display name; `email` is kept as given, compare with `key`."""

    email: str
    name: str = ""

    @property
    def key(self) -> str:
        """The form used to compare addresses: lowercased."""
        return self.email.strip().lower()


@dataclass(frozen=True)
class Envelope:
    """What the SMTP transaction (or the pipe, or the IMAP source) said about a message."""

    mail_from: str | None
    rcpt_to: tuple[str, ...]
    source: str
    # The SMTP/LMTP peer's address; "" where none is known (IMAP, the pipe, an import).
    client_ip: str = ""


@dataclass(frozen=True)
class StoredFile:
    """An attachment kept on a message: its bytes are in the blob store under `sha256`; the name is
    display metadata only, never a path."""

    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class FolderState:
    """What the desk remembers of one IMAP folder: its UIDVALIDITY and the highest UID settled."""

    uidvalidity: int | None
    last_uid: int


@dataclass(frozen=True)
class SentCounts:
    """How many automatic mails already went (or wait to go) to one recipient.

    `same_kind` counts mails of the kind in question within that kind's window; `automatic_day`
    counts every braked kind within the last day."""

    same_kind: int
    automatic_day: int


@dataclass(frozen=True)
class AnswerCounts:
    """How many answers to inbound mail (acknowledgements and the like) already went to one
    recipient domain and to mail from one client address, and to how many other addresses answers
    to mail with one fingerprint went, each within its window."""

    domain: int
    client: int
    fingerprint: int
