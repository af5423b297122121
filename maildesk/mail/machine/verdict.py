"""The values the machine-mail classifier hands out: a kind, the evidence, and report facts. Pure."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class MailKind(enum.Enum):
    """What produced a message; everything but HUMAN is a machine and is never answered."""

    HUMAN = "human"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    LIST = "list"
    OWN = "own"
    FEEDBACK = "feedback"
    READ_RECEIPT = "read_receipt"


@dataclass(frozen=True)
class OwnIdentity:
    """How our own outbound mail can be recognised when it comes back."""

    instance: str  # value we put in our X-Maildesk-Loop header
    addresses: frozenset[str]  # our own support addresses, lowercased
    message_id_domain: str  # domain of the Message-IDs we generate, e.g. "md.example.org"


@dataclass(frozen=True)
class RecipientStatus:
    """One recipient of a delivery report; ``hard`` is None when the report does not say."""

    address: str
    action: str
    status: str
    hard: bool | None


@dataclass(frozen=True)
class Verdict:
    """The classification of one message, with the evidence for it."""

    kind: MailKind
    reasons: tuple[str, ...] = ()
    hard_bounce: bool | None = None  # True if any recipient failed permanently, False if all were soft
    bounced_recipients: tuple[str, ...] = ()  # lowercased, failed or delayed
    original_message_id: str | None = None  # bare Message-ID of the mail this one reports on / answers
    delivery: tuple[RecipientStatus, ...] = field(default=())  # per-recipient detail of a DSN

    @property
    def machine(self) -> bool:
        """True for everything that must never be acknowledged."""
        return self.kind is not MailKind.HUMAN


@dataclass(frozen=True)
class Finding:
    """What one detector saw: reasons always, a kind only if it decides."""

    kind: MailKind | None = None
    reasons: tuple[str, ...] = ()
    hard: bool | None = None
    recipients: tuple[str, ...] = ()
    original: str | None = None
    delivery: tuple[RecipientStatus, ...] = ()


#: A detector that saw nothing.
NOTHING = Finding()
