"""Header access and MIME walking for the machine-mail classifier: never raises, never reads too much.

The classifier looks at stdlib ``compat32`` messages straight from the wire, so every accessor here
treats a broken value, an unknown charset or a hostile nesting as "nothing there" instead of raising,
and bounds how many parts and how much text it reads.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterator
from email.header import decode_header
from email.message import Message
from email.parser import HeaderParser

MAX_TEXT = 16_384  # bounce phrases and returned headers sit at the top of the text
MAX_RECIPIENTS = 50  # recipient blocks read from one report, and recipients a verdict lists
_MAX_PARTS = 200  # a report has a handful; this bounds work on hostile nesting

_COMMENT = re.compile(r"\([^()]*\)")
_TOKEN_CHARS = re.compile(r"[^a-z0-9._-]+")
_MSGID = re.compile(r"<([^<>\s]+)>")
_BARE_MSGID = re.compile(r"^[^<>\s@]+@[^<>\s]+$")


# --- safe header access -------------------------------------------------------------------------------


def as_text(value: object) -> str:
    """Any header value (str, Header, None) as one unfolded line of valid text; never raises."""
    if value is None:
        return ""
    try:
        raw = value if isinstance(value, str) else str(value)
    except Exception:  # a Header with a charset Python cannot handle: treat as absent
        return ""
    # Undeclared 8-bit bytes arrive as lone surrogates; they would break re and encode() later.
    clean = raw.encode("utf-8", "replace").decode("utf-8", "replace")
    return " ".join(clean.split())


def raw_headers(msg: Message, name: str) -> list[object]:
    """Every value of header `name` as compat32 holds it (str or Header)."""
    try:
        return list(msg.get_all(name) or [])
    except Exception:  # a malformed part can make even header lookup fail
        return []


def header_values(msg: Message, name: str) -> list[str]:
    """Every value of header `name` as one line of text each."""
    return [as_text(v) for v in raw_headers(msg, name)]


def header_value(msg: Message, name: str) -> str:
    """The first value of header `name` as one line of text, "" when absent."""
    values = header_values(msg, name)
    return values[0] if values else ""


def first_raw(msg: Message, name: str) -> object:
    """The first value of header `name` undecoded (for :func:`decoded`), "" when absent."""
    values = raw_headers(msg, name)
    return values[0] if values else ""


def decoded(value: object) -> str:
    """A header with its RFC 2047 encoded-words decoded; unknown charsets degrade, never raise."""
    text = as_text(value)
    try:
        chunks = decode_header(text)
    except Exception:
        return text
    out = []
    for chunk, charset in chunks:
        out.append(_bytes_to_text(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return as_text("".join(out))


def _bytes_to_text(data: bytes, charset: str | None) -> str:
    try:
        return data.decode(charset or "utf-8", "replace")
    except (LookupError, ValueError):  # unknown-8bit, unicode-1-1-utf-7, "utf-8content-transfer..."
        return data.decode("utf-8", "replace")


def first_token(value: str) -> str:
    """First token of a structured value, lowercased, comments and ``;parameters`` dropped."""
    text = value
    for _ in range(5):  # nested comments peel from the inside out
        text = _COMMENT.sub(" ", text)
    text = text.split("(", 1)[0].split(";", 1)[0].split(",", 1)[0]
    return text.strip().strip('"').lower()


def reason_token(token: str) -> str:
    """`token` cut down to the characters and length a reason may carry."""
    return _TOKEN_CHARS.sub("", token)[:40] or "other"


def first_address(value: str) -> tuple[str, str]:
    """(display name, lowercased addr-spec) of the first address in a header value."""
    try:
        display, addr = email.utils.parseaddr(value)
    except Exception:
        return "", ""
    return as_text(display), addr.strip().strip("<>").lower()


def local_part(addr: str) -> str:
    """What comes before the last @ of `addr` (all of it when there is none)."""
    return addr.rpartition("@")[0] if "@" in addr else addr


def _message_ids(value: str) -> list[str]:
    found = _MSGID.findall(value)
    if not found and _BARE_MSGID.match(value.strip()):
        found = [value.strip()]  # some clients drop the angle brackets
    return found


def first_id(value: str) -> str | None:
    """The first Message-ID in `value`, bare (no angle brackets), or None."""
    ids = _message_ids(value)
    return ids[0] if ids else None


# --- MIME structure -------------------------------------------------------------------------------------


def content_type(part: Message) -> str:
    """The part's content type, text/plain when it cannot be read."""
    try:
        return part.get_content_type()
    except Exception:
        return "text/plain"


def param(part: Message, name: str) -> str:
    """Content-Type parameter `name` as a token (RFC 2231 values collapsed), "" when absent."""
    try:
        value = part.get_param(name)
    except Exception:
        return ""
    if isinstance(value, tuple):
        value = email.utils.collapse_rfc2231_value(value)
    return first_token(as_text(value))


def parts(msg: Message) -> Iterator[Message]:
    """Parts in document order, without descending into attached messages (they are someone else's mail)."""
    stack: list[Message] = [msg]
    seen = 0
    while stack and seen < _MAX_PARTS:
        part = stack.pop()
        seen += 1
        yield part
        if content_type(part).startswith("message/"):
            continue
        payload = payload_of(part)
        if isinstance(payload, list):
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))


def payload_of(part: Message) -> object:
    """The part's payload (a list of parts or a string), None when it cannot be read."""
    try:
        return part.get_payload()
    except Exception:
        return None


def field_blocks(part: Message) -> list[Message]:
    """The header-style blocks of a message/delivery-status, /feedback-report or /disposition part."""
    payload = payload_of(part)
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    if isinstance(payload, str):  # compat32 leaves some report parts as text: parse the blocks ourselves
        blocks = re.split(r"\r?\n[ \t]*\r?\n", payload.strip())
        return [HeaderParser().parsestr(block) for block in blocks[:MAX_RECIPIENTS] if block.strip()]
    return []


def text_of(part: Message) -> str:
    """The decoded text of one leaf part, truncated; "" when it has none."""
    try:
        data = part.get_payload(decode=True)
    except Exception:
        return ""
    if not isinstance(data, bytes):
        return ""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return _bytes_to_text(data[:MAX_TEXT], charset)


def body_text(msg: Message) -> str:
    """The first human-readable text part (a report's explanation), truncated."""
    for part in parts(msg):
        if content_type(part) in ("text/plain", "text/html"):
            return text_of(part)
    return ""
