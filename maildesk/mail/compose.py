"""Build outbound messages; every header value is checked so none can be injected."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.encoders import encode_base64
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr

from maildesk.domain import Address
from maildesk.mail.addresses import is_addr_spec

LOOP_HEADER = "X-Maildesk-Loop"
_WIRE = compat32.clone(linesep="\r\n")
_MSG_ID = re.compile(r"^[^\s<>\x00-\x1f]+$")


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
    """The RFC 5322 bytes of `mail`, with CRLF line ends, ready for SMTP or a Maildir.

    Built with the compat32 classes, which are several times faster than the
    modern policy for writing; in exchange every header value is checked here
    for CR, LF and NUL, so nothing in a subject or name can start a new header.
    """
    body: Message = MIMEText(mail.text, "plain", "utf-8")
    if mail.attachments:
        outer: Message = MIMEMultipart("mixed")
        outer.attach(body)
        for att in mail.attachments:
            outer.attach(_attachment(att))
        body = outer
    headers = [
        ("From", _address(mail.sender)),
        ("To", ", ".join(_address(a) for a in mail.to)),
        ("Cc", ", ".join(_address(a) for a in mail.cc)),
        ("Reply-To", _address(mail.reply_to) if mail.reply_to else ""),
        ("Subject", _text(mail.subject)),
        ("Date", format_datetime(mail.date)),
        ("Message-ID", f"<{_id(mail.message_id)}>"),
        ("In-Reply-To", f"<{_id(mail.in_reply_to)}>" if mail.in_reply_to else ""),
        ("References", " ".join(f"<{_id(r)}>" for r in _trimmed(mail.references))),
        # RFC 3834: tells well-behaved robots not to answer us, which keeps loops from starting.
        ("Auto-Submitted", mail.auto_submitted),
        ("X-Auto-Response-Suppress", "All" if mail.auto_submitted else ""),
        (LOOP_HEADER, _clean(mail.loop_token)),
    ]
    mime_headers = body.items()
    for name, _ in mime_headers:
        del body[name]
    # Ours first, then the MIME ones, the order mail clients and people expect to read.
    for name, value in [*headers, *mime_headers]:
        if value:
            body[name] = value
    return body.as_bytes(policy=_WIRE)


def _trimmed(references: tuple[str, ...], keep: int = 10) -> tuple[str, ...]:
    # RFC 5322 3.6.4 lets a long thread keep its first id and the latest ones; clients thread on those.
    return references if len(references) <= keep else (references[0], *references[-(keep - 1):])


def _clean(value: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"line break or NUL in a header value: {value!r}")
    return value


def _text(value: str) -> str:
    """An unstructured header value, RFC 2047-encoded when it is not plain ASCII."""
    value = _clean(value)
    return value if value.isascii() else Header(value, "utf-8").encode()


class UnsendableAddress(ValueError):
    """Raised when an address cannot be written into a message we send."""


def _address(address: Address) -> str:
    _clean(address.name)
    if not is_addr_spec(address.email):
        raise UnsendableAddress(f"not a single mail address: {address.email!r}")
    local, _, domain = address.email.rpartition("@")
    if not local.isascii():
        # An internationalised local part needs SMTPUTF8 end to end, which we do not assume.
        raise UnsendableAddress(f"address needs SMTPUTF8: {address.email!r}")
    try:
        domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise UnsendableAddress(f"domain cannot be encoded: {address.email!r}") from exc
    return formataddr((address.name, f"{local}@{domain}"), charset="utf-8")


def _id(message_id: str) -> str:
    if not _MSG_ID.match(message_id):
        raise ValueError(f"not a Message-ID: {message_id!r}")
    return message_id


def _attachment(att: OutgoingAttachment) -> Message:
    maintype, _, subtype = att.content_type.partition("/")
    part = MIMEBase(maintype or "application", subtype or "octet-stream")
    part.set_payload(att.data)
    encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", _clean(att.filename)))
    return part
