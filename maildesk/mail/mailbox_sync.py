"""Pure decisions for reading an IMAP folder: which UIDs to fetch, how far we got, when to retry.

The fetcher (maildesk.arrival.imap_fetch) is a thin loop around these; nothing
here opens a socket or a session, so every rule can be tested on plain values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32

from maildesk.domain import FolderState
from maildesk.errors import MailboxAuthError
from maildesk.mail.parse import parse_date

_MSGID = re.compile(r"<([^<>\s]{1,990})>")


@dataclass(frozen=True)
class RoundPlan:
    """One fetch round: forget `last_uid` when `reset`, fetch `uids`, `backlog` left after them."""

    reset: bool
    uids: tuple[int, ...]
    backlog: int


def plan_round(state: FolderState, uidvalidity: int, found: Iterable[int], batch_size: int) -> RoundPlan:
    """The next bounded batch, oldest first.

    UIDs are only comparable within one UIDVALIDITY: when it changed (mailbox
    recreated), every message is a candidate again and duplicates are caught by
    Message-ID and size before download, and by content hash on storage.
    `found` may hold UIDs at or below `last_uid` (a search for `N:*` always
    returns the highest message), so they are filtered here.
    """
    reset = state.uidvalidity is not None and state.uidvalidity != uidvalidity
    floor = 0 if reset else state.last_uid
    pending = sorted(uid for uid in set(found) if uid > floor)
    batch = tuple(pending[:batch_size])
    return RoundPlan(reset=reset, uids=batch, backlog=len(pending) - len(batch))


@dataclass(frozen=True)
class HeaderFacts:
    """What a cheap header fetch says about one message."""

    uid: int
    message_id: str
    size: int


def known_uids(facts: Iterable[HeaderFacts], stored: Collection[tuple[str, int]]) -> frozenset[int]:
    """UIDs whose (Message-ID, size) is already in the inbound table: no need to download them.

    A message without a Message-ID is always downloaded; the content hash then decides.
    """
    return frozenset(f.uid for f in facts if f.message_id and (f.message_id, f.size) in stored)


def advance_last_uid(last_uid: int, batch: Iterable[int], settled: Collection[int]) -> int:
    """The highest UID below which every message of `batch` is settled (stored or refused for good).

    Stops at the first unsettled UID, so a message that failed to store is fetched again next round.
    """
    result = last_uid
    for uid in sorted(batch):
        if uid not in settled:
            break
        result = max(result, uid)
    return result


def backoff_seconds(failures: int, base: float = 1.0, cap: float = 300.0) -> float:
    """The wait before reconnecting after `failures` consecutive failures: doubling, capped."""
    if failures <= 0:
        return 0.0
    return float(min(cap, base * 2 ** min(failures - 1, 30)))


def should_alert(failing_since: datetime | None, alerted: bool, now: datetime, after: timedelta) -> bool:
    """Whether an account failing since `failing_since` has failed long enough to tell the admin (once)."""
    return failing_since is not None and not alerted and now - failing_since >= after


@dataclass(frozen=True)
class OAuthToken:
    """An OAuth2 access token and, when known, when it expires."""

    access_token: str
    expires_at: datetime | None


def parse_token(text: str, now: datetime) -> OAuthToken:
    """Read a token helper's output: a bare token, or JSON with `access_token` and
    `expires_at` (ISO 8601 or Unix seconds) or `expires_in` (seconds from `now`).

    `now` is when the token was written (the file's mtime, or the command's run).
    """
    text = text.strip()
    if not text.startswith("{"):
        token = text.splitlines()[0].strip() if text else ""
        if not token:
            raise MailboxAuthError("the OAuth2 token helper gave an empty token")
        return OAuthToken(token, None)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise MailboxAuthError(f"the OAuth2 token helper gave invalid JSON: {exc}") from exc
    found = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(found, str) or not found:
        raise MailboxAuthError("the OAuth2 token helper's JSON has no access_token")
    return OAuthToken(found, _expiry(data, now))


def _expiry(data: Mapping[str, object], now: datetime) -> datetime | None:
    at, within = data.get("expires_at"), data.get("expires_in")
    if isinstance(at, (int, float)) and not isinstance(at, bool):
        return datetime.fromtimestamp(at, UTC)
    if isinstance(at, str):
        try:
            parsed = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError as exc:
            raise MailboxAuthError(f"the OAuth2 token's expires_at {at!r} is not a date") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if isinstance(within, (int, float)) and not isinstance(within, bool):
        return now + timedelta(seconds=within)
    return None


def return_path(raw: bytes) -> str | None:
    """The envelope sender the delivering server recorded, "" for a null one, None when absent."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:65536], headersonly=True)
        value = headers.get("Return-Path")
    except Exception:  # An unreadable header only means we do not know; the parser judges later.
        return None
    if value is None:
        return None
    match = re.search(r"<([^<>]*)>", str(value))
    return (match[1] if match else str(value)).strip()


def header_date(raw: bytes) -> datetime | None:
    """The instant a message's Date: header names, in UTC; None when absent or unreadable."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:65536], headersonly=True)
        value = headers.get("Date")
    except Exception:  # An unreadable header only means we do not know.
        return None
    return parse_date(str(value)) if value is not None else None


def header_message_id(header_block: bytes) -> str:
    """The bare Message-ID from a fetched header block, or "" when it has none."""
    match = _MSGID.search(header_block.decode("latin-1"))
    return match[1] if match else ""
