"""Build outbound messages; every header value is checked so none can be injected, and none makes a
line longer than RFC 5322's 998 octets (a word too long to fold at a space is encoded and split)."""

from __future__ import annotations

import base64
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
from urllib.parse import quote

from maildesk.domain import Address
from maildesk.mail.addresses import is_addr_spec
from maildesk.mail.limits import without_bidi

LOOP_HEADER = "X-Maildesk-Loop"
_WIRE = compat32.clone(linesep="\r\n")
_MSG_ID = re.compile(r"^[^\s<>\x00-\x1f]+$")
#: A word longer than this cannot be folded onto a line of its own under 78 characters: it is
#: written as encoded words instead. An id we cite is at most `_ID_CHARS` long, so
#: "References: <id>" stays under 998 octets.
_LONG_WORD = 70
_ID_CHARS = 900
#: Characters of a percent-encoded file name per RFC 2231 continuation (`filename*0*=…`).
_PIECE = 60


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

    Every header value is checked here for CR, LF and NUL, so nothing in a
    subject or name can start a new header. A plain-text mail (acknowledgements,
    notices: nearly everything we send) is written directly, which is about ten
    times cheaper than the email package's generator; mail with files goes
    through the generator's MIME machinery.
    """
    headers = _headers(mail)
    if not mail.attachments:
        return _plain_text(headers, mail.text)
    body: Message = MIMEMultipart("mixed")
    body.attach(MIMEText(mail.text, "plain", "utf-8"))
    for att in mail.attachments:
        body.attach(_attachment(att))
    mime_headers = body.items()
    for name, _ in mime_headers:
        del body[name]
    # Ours first, then the MIME ones, the order mail clients and people expect to read.
    for name, value in [*headers, *mime_headers]:
        if value:
            body[name] = value
    return body.as_bytes(policy=_WIRE)


def _headers(mail: OutgoingMail) -> list[tuple[str, str]]:
    return [
        ("From", _address(mail.sender)),
        ("To", ", ".join(_address(a) for a in mail.to)),
        ("Cc", ", ".join(_address(a) for a in mail.cc)),
        ("Reply-To", _address(mail.reply_to) if mail.reply_to else ""),
        ("Subject", _text(mail.subject, "Subject")),
        ("Date", format_datetime(mail.date)),
        ("Message-ID", f"<{_id(mail.message_id)}>"),
        ("In-Reply-To", f"<{mail.in_reply_to}>" if _citable(mail.in_reply_to) else ""),
        ("References", " ".join(f"<{r}>" for r in _trimmed(tuple(filter(_citable, mail.references))))),
        # RFC 3834: tells well-behaved robots not to answer us, which keeps loops from starting.
        ("Auto-Submitted", mail.auto_submitted),
        ("X-Auto-Response-Suppress", "All" if mail.auto_submitted else ""),
        (LOOP_HEADER, _clean(mail.loop_token)),
    ]


def _plain_text(headers: list[tuple[str, str]], text: str) -> bytes:
    """A single text/plain part in UTF-8, base64-encoded so no line is ever too long."""
    lines = [_folded(name, value) for name, value in headers if value]
    lines += ['Content-Type: text/plain; charset="utf-8"', "MIME-Version: 1.0",
              "Content-Transfer-Encoding: base64", ""]
    body = base64.encodebytes(text.encode("utf-8")).decode("ascii").replace("\n", "\r\n")
    return ("\r\n".join(lines) + "\r\n" + body).encode("ascii")


def _folded(name: str, value: str) -> str:
    """`Name: value`, folded at spaces to keep lines near 78 characters (RFC 5322 2.2.3).

    Values are ASCII by now (encoded words for anything else); an encoded subject
    already carries its own folds as LF + space."""
    if "\n" in value:
        return f"{name}: " + value.replace("\n", "\r\n")
    if len(name) + len(value) < 77:
        return f"{name}: {value}"
    line, out = f"{name}:", []
    for word in value.split(" "):
        if len(line) + 1 + len(word) > 78 and line != f"{name}:":
            out.append(line)
            line = " " + word
        else:
            line = f"{line} {word}"
    out.append(line)
    return "\r\n".join(out)


def _trimmed(references: tuple[str, ...], keep: int = 10) -> tuple[str, ...]:
    # RFC 5322 3.6.4 lets a long thread keep its first id and the latest ones; clients thread on those.
    return references if len(references) <= keep else (references[0], *references[-(keep - 1):])


def _clean(value: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"line break or NUL in a header value: {value!r}")
    return value


def _text(value: str, name: str) -> str:
    """An unstructured header value without bidi controls, RFC 2047-encoded when it is not plain
    ASCII or has a word too long to fold."""
    value = without_bidi(_clean(value))
    if value.isascii() and not _has_long_word(value):
        return value
    # The name counts on the first line, so a generator that folds again keeps the first word there.
    return Header(value, "utf-8", header_name=name).encode()


def _has_long_word(value: str) -> bool:
    return any(len(word) > _LONG_WORD for word in value.split(" "))


class UnsendableAddress(ValueError):
    """Raised when an address cannot be written into a message we send."""


def _address(address: Address) -> str:
    name = without_bidi(_clean(address.name))
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
    if name.isascii() and not _has_long_word(name):
        return formataddr((name, f"{local}@{domain}"))
    return f"{_encoded_phrase(name)} <{local}@{domain}>"


def _encoded_phrase(name: str) -> str:
    """A display name as RFC 2047 encoded words of at most 75 characters, split only at spaces.

    The space before a split stays inside the encoded word, so a reader that keeps whitespace
    between encoded words in a phrase (Python's own parser does) still shows the name unchanged.
    A word too long for one encoded word is split inside: readers join adjacent encoded words."""
    words, chunks, current = name.split(" "), [], ""
    for index, word in enumerate(words):
        for piece in _pieces(word if index == len(words) - 1 else word + " "):
            if current and len((current + piece).encode()) > 45:  # 45 bytes -> 60 base64 characters
                chunks.append(current)
                current = ""
            current += piece
    chunks.append(current)
    return " ".join(Header(chunk, "utf-8").encode() for chunk in chunks)


def _pieces(word: str, most: int = 45) -> list[str]:
    """`word` cut into pieces of at most `most` UTF-8 bytes (one piece unless it is that long)."""
    pieces, current = [], ""
    for char in word:
        if current and len((current + char).encode()) > most:
            pieces.append(current)
            current = ""
        current += char
    return [*pieces, current]


def _id(message_id: str) -> str:
    if not _citable(message_id):
        raise ValueError(f"not a Message-ID: {message_id!r}")
    return message_id


def _citable(message_id: str) -> bool:
    """Whether a Message-ID someone else made can be cited in our headers: plain ASCII, one token.

    A requester's odd id (8-bit, spaces) is left out of In-Reply-To/References rather than
    stopping the reply; threading still has the subject tag (found by fuzzing)."""
    return (bool(message_id) and len(message_id) <= _ID_CHARS and message_id.isascii()
            and bool(_MSG_ID.match(message_id)))


def _attachment(att: OutgoingAttachment) -> Message:
    maintype, _, subtype = att.content_type.partition("/")
    part = MIMEBase(maintype or "application", subtype or "octet-stream")
    part.set_payload(att.data)
    encode_base64(part)
    part["Content-Disposition"] = _disposition(without_bidi(_clean(att.filename)))
    return part


def _disposition(filename: str) -> str:
    """`attachment` with the file name in RFC 2231 continuations (`filename*0*=utf-8''…;
    filename*1*=…`), each short enough to sit on a line of its own, however long the name."""
    encoded = quote(filename, safe="")
    pieces, start = [], 0
    while start < len(encoded):
        end = min(start + _PIECE, len(encoded))
        while end < len(encoded) and "%" in encoded[end - 2:end]:  # never split a %XX escape
            end -= 1
        pieces.append(encoded[start:end])
        start = end
    pieces[0] = "utf-8''" + pieces[0] if pieces else "utf-8''attachment"
    params = [f"filename*{i}*={piece}" for i, piece in enumerate(pieces or ["utf-8''attachment"])]
    return "; ".join(["attachment", *params])
