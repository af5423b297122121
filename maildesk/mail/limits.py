"""Limits on what one inbound message may cost us, checked before and after parsing. Pure.

Every check returns a reason (a short sentence an operator can act on) or None,
so the pipeline can quarantine a message past a limit with that reason while
the others keep flowing (RELIABILITY.md P2-P4, defaults in section C).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message

CONTROL_HEADER_PREFIXES = ("x-maildesk-", "rt-")
#: Unicode's bidirectional controls (embeddings, overrides, isolates, marks): `invoice\u202egpj.exe`
#: shows as `invoiceexe.jpg`. Never meant in a file name or a header; dropped wherever we show one.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class MailLimits:
    """Ceilings for one message; the defaults are RELIABILITY.md section C."""

    header_bytes: int = 102_400  # Postfix DEF_HEADER_LIMIT
    max_hops: int = 100  # RFC 5321 6.3: "at least 100"
    mime_depth: int = 100  # Postfix DEF_MIME_MAXDEPTH
    mime_parts: int = 1_000  # a real help-desk mail has a handful; 10,000 tiny parts is an attack
    boundary_length: int = 2_048  # Postfix DEF_MIME_BOUND_LEN
    process_seconds: float = 180.0  # Zammad PROZESS_TIME_MAX, rt-mailgate --timeout
    filename_chars: int = 255


_RECEIVED = re.compile(rb"^received:", re.IGNORECASE | re.MULTILINE)
_CONTENT_TYPE = re.compile(rb"^content-type:", re.IGNORECASE | re.MULTILINE)
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def without_bidi(text: str) -> str:
    """`text` without bidirectional control characters."""
    return BIDI_CONTROLS.sub("", text)


def without_bom(raw: bytes) -> bytes:
    """`raw` without a leading UTF-8 byte-order mark: some Windows tools write one in front of a
    saved message, and a parser would then see no header section at all."""
    return raw[len(BOM):] if raw.startswith(BOM) else raw


def header_section(raw: bytes, limit: int) -> bytes:
    """The header section of `raw` (up to the first empty line), at most `limit` + 1 bytes of it."""
    start = len(BOM) if raw.startswith(BOM) else 0
    end = _HEADER_END.search(raw, start, start + limit + 4)
    return raw[start: end.start()] if end else raw[start: start + limit + 1]


def hop_count(raw: bytes, limit: int = MailLimits.header_bytes) -> int:
    """How many Received: fields the header section carries (each MTA on the way adds one)."""
    return len(_RECEIVED.findall(header_section(raw, limit * 4)))


def raw_problem(raw: bytes, limits: MailLimits) -> str | None:
    """A reason to set `raw` aside before any parser sees it, or None: cheap byte scans only."""
    head = header_section(raw, limits.header_bytes)
    if len(head) > limits.header_bytes:
        return f"header section over {limits.header_bytes} bytes"
    hops = len(_RECEIVED.findall(head))
    if hops > limits.max_hops:
        return f"too many hops: {hops} Received: fields (limit {limits.max_hops}), probably a mail loop"
    # Every MIME part starts with its own Content-Type (or defaults); this bounds the parts from above.
    declared = len(_CONTENT_TYPE.findall(raw))
    if declared > limits.mime_parts:
        return f"{declared} MIME parts declared (limit {limits.mime_parts})"
    return None


def shape_problem(msg: Message, limits: MailLimits) -> str | None:
    """A reason to set a parsed message aside for its MIME shape (depth, part count), or None.

    Walks the tree with an explicit stack, so a hostile nesting cannot exhaust Python's recursion."""
    stack: list[tuple[Message, int]] = [(msg, 1)]
    parts = 0
    while stack:
        part, depth = stack.pop()
        parts += 1
        if depth > limits.mime_depth:
            return f"MIME nesting deeper than {limits.mime_depth}"
        if parts > limits.mime_parts:
            return f"more than {limits.mime_parts} MIME parts"
        boundary = part.get_param("boundary") if part.is_multipart() else None
        if isinstance(boundary, str) and len(boundary) > limits.boundary_length:
            return f"MIME boundary longer than {limits.boundary_length} characters"
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend((p, depth + 1) for p in payload if isinstance(p, Message))
    return None


def is_control_header(name: str) -> bool:
    """maildesk's own (and RT-style) control headers: meaningful only when we wrote them (S3)."""
    return name.strip().lower().startswith(CONTROL_HEADER_PREFIXES)


def without_control_headers(headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """`headers` minus every control header, so rules and threading never see forged ones."""
    return tuple((k, v) for k, v in headers if not is_control_header(k))


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                       *(f"lpt{i}" for i in range(1, 10))})


def safe_filename(name: str, limit: int = MailLimits.filename_chars) -> str:
    """A mail-supplied attachment name as display metadata: its last path component, no control or
    path characters, no leading dots, no device names, at most `limit` characters. Never a path
    (RFC 2183 2.3); files are stored under their sha256 whatever this says."""
    name = without_bidi(unicodedata.normalize("NFC", name[: limit * 8]))
    last = re.split(r"[/\\]", name)[-1]
    cleaned = _UNSAFE.sub("_", last).strip(" .")
    stem, dot, ext = cleaned.rpartition(".")
    if stem.lower() in _RESERVED or cleaned.lower() in _RESERVED:
        cleaned = "_" + cleaned
    if len(cleaned) > limit:
        # Keep a short extension: it is what people and mail clients look at.
        ext = ext[:16] if dot else ""
        cleaned = cleaned[: limit - len(ext) - 1] + ("." + ext if ext else "")
    return cleaned or "attachment"
