"""Raw bytes to a typed, frozen message. The only module that imports mail-parser.

mail-parser turns any attribute name into a header lookup and logs a warning
for every MIME type it does not render; both are contained here, and what
leaves this module is a :class:`ParsedMail` whose fields mean what they say.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import mailparser

from maildesk.domain import Address
from maildesk.errors import MailParseError
from maildesk.mail.addresses import is_addr_spec
from maildesk.mail.html_text import html_to_text
from maildesk.mail.limits import safe_filename, without_bom

# mail-parser warns once per unhandled MIME part ("Email content 'png' not handled"): noise for us.
logging.getLogger("mailparser").setLevel(logging.ERROR)

# No control characters: an id we keep may go into our own In-Reply-To/References (found by fuzzing).
_MSGID = re.compile(r"<([^<>\s\x00-\x1f\x7f]+)>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LOOSE_ADDRESS = re.compile(r"[A-Za-z0-9._%+'=-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_BARE_ID = re.compile(r"^[^<>\s@\x00-\x1f\x7f]+@[^<>\s\x00-\x1f\x7f]+$")


@dataclass(frozen=True)
class Attachment:
    """One attached file: its name is metadata only, never a path."""

    filename: str
    content_type: str
    data: bytes
    content_id: str = ""
    inline: bool = False


@dataclass(frozen=True)
class ParsedMail:
    """What the desk needs from one message, decoded."""

    message_id: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    sender: Address | None
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: datetime | None
    text: str
    html: bool
    attachments: tuple[Attachment, ...]
    headers: tuple[tuple[str, str], ...]
    defects: tuple[str, ...]
    message: Message = field(compare=False, repr=False)

    def header(self, name: str) -> str:
        """The first value of header `name` (case-insensitive), or ''."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), "")

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this mail answers, nearest first (In-Reply-To, then References backwards)."""
        seen: dict[str, None] = dict.fromkeys(self.in_reply_to)
        seen.update(dict.fromkeys(reversed(self.references)))
        return tuple(seen)


def parse_message(raw: bytes) -> ParsedMail:
    """Parse `raw` into a ParsedMail; raise MailParseError when nothing sensible can be read."""
    raw = without_bom(raw)
    if not raw or raw.isspace():
        raise MailParseError("empty message")
    try:
        parsed = mailparser.parse_from_bytes(raw)
        msg: Message = parsed.message
        text_plain: list[str] = list(parsed.text_plain)
        text_html: list[str] = list(parsed.text_html)
        attachments = tuple(_attachment(a) for a in parsed.attachments)
        defects = tuple(sorted(str(d) for d in parsed.defects_categories))
    except Exception as exc:  # mail-parser raises bare exceptions of many kinds on broken input
        raise MailParseError(f"mail-parser failed: {type(exc).__name__}: {exc}") from exc
    text = "\n".join(t.strip("\r\n") for t in text_plain).strip()
    if not text and text_html:
        text = html_to_text("\n".join(text_html))
    return ParsedMail(
        message_id=_first_id(_header(msg, "Message-ID")),
        in_reply_to=_ids(_header(msg, "In-Reply-To")),
        references=_ids(" ".join(_all_headers(msg, "References"))),
        subject=_one_line(_header(msg, "Subject")),
        sender=_sender(msg),
        reply_to=_addresses(msg, "Reply-To"),
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        date=parse_date(_header(msg, "Date")),
        text=text.replace("\r\n", "\n"),
        html=bool(text_html),
        attachments=attachments,
        headers=tuple((k, _decoded(v)) for k, v in msg.items()),
        defects=defects,
        message=msg,
    )


def _header(msg: Message, name: str) -> str:
    value = msg.get(name)
    return "" if value is None else _decoded(value)


def _all_headers(msg: Message, name: str) -> list[str]:
    return [_decoded(v) for v in msg.get_all(name) or []]


def _decoded(value: Any) -> str:
    """A header value as text: RFC 2047 words decoded, undecodable bytes replaced, never raising."""
    try:
        return str(make_header(decode_header(str(value))))
    except (ValueError, LookupError, UnicodeError, binascii.Error, AssertionError, MessageError):
        return str(value)


def _one_line(value: str) -> str:
    # Control characters (NUL included) in a subject or name are never meant; they would only
    # come back to haunt us in the headers we write (the fuzzer found this).
    return " ".join(_CONTROL.sub(" ", value).split())


def _ids(value: str) -> tuple[str, ...]:
    found = _MSGID.findall(value)
    if not found and _BARE_ID.match(value.strip()):
        found = [value.strip()]  # Some clients omit the angle brackets.
    return tuple(dict.fromkeys(found))


def _first_id(value: str) -> str:
    ids = _ids(value)
    return ids[0] if ids else ""


def _addresses(msg: Message, name: str) -> tuple[Address, ...]:
    values = [str(v) for v in msg.get_all(name) or []]
    out: list[Address] = []
    for display, addr in email.utils.getaddresses(values):
        if is_addr_spec(addr):
            out.append(Address(email=addr, name=_one_line(_decoded(display))))
    return tuple(out)


def _first(addresses: tuple[Address, ...]) -> Address | None:
    return addresses[0] if addresses else None


def _sender(msg: Message) -> Address | None:
    """From:, else an address found in a malformed From: ("Big Bug bb@bug.com"), else Sender:,
    Reply-To: or Return-Path:. A person behind a sloppy client still gets a ticket."""
    found = _first(_addresses(msg, "From"))
    if found is None:
        loose = _LOOSE_ADDRESS.search(_header(msg, "From"))
        found = Address(loose[0]) if loose and is_addr_spec(loose[0]) else None
    for name in ("Sender", "Reply-To", "Return-Path"):
        found = found or _first(_addresses(msg, name))
    return found


def parse_date(value: str) -> datetime | None:
    """A Date: header's instant in UTC (no zone means UTC), or None when it cannot be read."""
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _attachment(part: dict[str, Any]) -> Attachment:
    payload = part.get("payload") or ""
    if part.get("binary"):
        try:
            data = base64.b64decode(payload)
        except (binascii.Error, ValueError):
            data = payload.encode("utf-8", "replace")
    else:
        data = payload.encode(part.get("charset") or "utf-8", "replace") if isinstance(payload, str) else b""
    disposition = str(part.get("content-disposition") or "")
    return Attachment(
        filename=safe_filename(_one_line(str(part.get("filename") or "attachment"))),
        content_type=str(part.get("mail_content_type") or "application/octet-stream").lower(),
        data=data,
        content_id=str(part.get("content-id") or "").strip("<>"),
        inline=disposition.lower().startswith("inline"),
    )
