"""Hand-written mail for the machine-mail classifier's tests: our identity and a message builder."""

from __future__ import annotations

import email
from email.message import Message

from maildesk.mail.machine import MailKind, OwnIdentity

OWN = OwnIdentity(
    instance="md-7f3a",
    addresses=frozenset({"support@example.org", "billing@example.org"}),
    message_id_domain="md.example.org",
)

HUMAN, AUTO, BOUNCE, LIST = MailKind.HUMAN, MailKind.AUTO_REPLY, MailKind.BOUNCE, MailKind.LIST
OWN_KIND, FEEDBACK, RECEIPT = MailKind.OWN, MailKind.FEEDBACK, MailKind.READ_RECEIPT


def mail(
    *extra: str,
    sender: str = "Alice Example <alice@customer.test>",
    subject: str = "Printer on floor 3 is broken",
    message_id: str = "<a1.2026@customer.test>",
    body: str = "Hello, the printer jams on every page.\n",
) -> Message:
    """A compat32-parsed message, exactly as mail-parser hands it over."""
    lines = [f"From: {sender}", "To: support@example.org", f"Subject: {subject}", f"Message-ID: {message_id}"]
    raw = "\r\n".join([*lines, *extra, "", body])
    return email.message_from_bytes(raw.encode("utf-8"))


def reparse(msg: Message) -> Message:
    """Serialize a built message and parse it back with the default compat32 policy."""
    return email.message_from_bytes(msg.as_bytes())
