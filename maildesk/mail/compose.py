"""Build outbound messages with the email package's policy, so no header can be injected."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from maildesk.domain import Address

LOOP_HEADER = "X-Maildesk-Loop"


@dataclass(frozen=True)
class OutgoingAttachment:
    """A file to attach to an outbound message."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class OutgoingMail:
    """Everything needed to write one outbound message; ids are bare (no angle brackets)."""

    sender: Address
    to: tuple[Address, ...]
    subject: str
    text: str
    message_id: str
    date: datetime
    loop_token: str
    cc: tuple[Address, ...] = ()
    reply_to: Address | None = None
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    auto_submitted: str = "auto-replied"
    attachments: tuple[OutgoingAttachment, ...] = field(default=())


def new_message_id(domain: str) -> str:
    """A fresh, globally unique Message-ID (bare) in our own domain."""
    return f"md.{uuid.uuid4().hex}@{domain}"


def compose(mail: OutgoingMail) -> bytes:
    """The RFC 5322 bytes of `mail`, with CRLF line ends, ready for SMTP or a Maildir."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = _header_address(mail.sender)
    msg["To"] = [_header_address(a) for a in mail.to]
    if mail.cc:
        msg["Cc"] = [_header_address(a) for a in mail.cc]
    if mail.reply_to:
        msg["Reply-To"] = _header_address(mail.reply_to)
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(mail.date)
    msg["Message-ID"] = f"<{mail.message_id}>"
    if mail.in_reply_to:
        msg["In-Reply-To"] = f"<{mail.in_reply_to}>"
    if mail.references:
        msg["References"] = " ".join(f"<{r}>" for r in mail.references)
    if mail.auto_submitted:
        # RFC 3834: tells well-behaved robots not to answer us, which keeps loops from starting.
        msg["Auto-Submitted"] = mail.auto_submitted
        msg["X-Auto-Response-Suppress"] = "All"
    msg[LOOP_HEADER] = mail.loop_token
    msg.set_content(mail.text, charset="utf-8")
    for att in mail.attachments:
        maintype, _, subtype = att.content_type.partition("/")
        msg.add_attachment(att.data, maintype=maintype or "application",
                           subtype=subtype or "octet-stream", filename=att.filename)
    return msg.as_bytes()


def _header_address(address: Address) -> HeaderAddress:
    # HeaderAddress validates the addr-spec and refuses CR/LF, so a hostile name cannot add headers.
    return HeaderAddress(display_name=address.name, addr_spec=address.email)
