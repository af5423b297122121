"""Mail through a test desk: in through the real intake and pipeline, out of its outbox read back the way a
mail client would, and its database read directly. conftest re-exports all of it."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses

from maildesk.arrival.intake import accept_raw
from maildesk.config import Settings
from maildesk.domain import Envelope
from maildesk.mail.tokens import reply_address
from maildesk.pipeline.outcome import Outcome
from maildesk.pipeline.process import process_inbound
from maildesk.runtime.wiring import Runtime

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
SECRET = "test-secret"  # the signing secret of every desk whose tests forge or check reply tokens


def query(settings: Settings, sql: str, *args: object) -> list[tuple[object, ...]]:
    """Read the database directly, the way an admin with sqlite3 or psql would (`?` placeholders)."""
    if settings.database.url.startswith("postgresql"):
        import psycopg  # only for the PostgreSQL runs (tests/integration/servers.py)

        with psycopg.connect(settings.database.url.replace("+psycopg", "")) as pg:
            return [tuple(r) for r in pg.execute(sql.replace("?", "%s"), args).fetchall()]  # type: ignore[arg-type]
    path = settings.database.url.removeprefix("sqlite:///")
    with sqlite3.connect(path, timeout=30) as conn:
        return conn.execute(sql, args).fetchall()


#: The envelope sender default of `store`, `receive` and conftest's `send_smtp`: the mail's From: address.
FROM = "(the From: address)"


def from_address(raw: bytes) -> str:
    """The address in `raw`'s From: (the envelope sender a person's MTA uses), else bob@client.example."""
    found = getaddresses([str(v) for v in message_from_bytes(raw, policy=policy.compat32).get_all("From", [])])
    return next((a for _, a in found if "@" in a), "bob@client.example")


def store(rt: Runtime, raw: bytes, mail_from: str | None = FROM, *,
          rcpt: str | tuple[str, ...] = "support@example.org", when: datetime = NOW, source: str = "test",
          max_size: int = 10**7) -> int:
    """Store `raw` as the SMTP listener or the IMAP fetcher would; the inbound row's id. The envelope
    sender is the From: address unless given (None: none, as for IMAP mail without Return-Path)."""
    mail_from = from_address(raw) if mail_from == FROM else mail_from
    envelope = Envelope(mail_from, (rcpt,) if isinstance(rcpt, str) else rcpt, source)
    return accept_raw(rt.db, raw, envelope, when, max_size).inbound_id


def receive(rt: Runtime, raw: bytes, mail_from: str | None = FROM, *,
            rcpt: str | tuple[str, ...] = "support@example.org", when: datetime = NOW, source: str = "test",
            max_size: int = 10**7) -> Outcome:
    """Store `raw`, then run the pipeline on it at the same instant."""
    inbound_id = store(rt, raw, mail_from, rcpt=rcpt, when=when, source=source, max_size=max_size)
    return process_inbound(rt.desk, inbound_id, when)


def parsed(raw: bytes) -> EmailMessage:
    """Outbound bytes read back the way a mail client would."""
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def sent(rt: Runtime, kind: str) -> list[EmailMessage]:
    """The outbox rows of `kind`, oldest first, as parsed messages."""
    return [parsed(bytes(raw)) for (raw,) in  # type: ignore[arg-type]
            query(rt.settings, "select raw from outbox where kind = ? order by id", kind)]


def recipients(rt: Runtime, kind: str) -> list[list[str]]:
    """The envelope recipients of each outbox row of `kind`, oldest first."""
    rows = query(rt.settings, "select rcpt_to from outbox where kind = ? order by id", kind)
    return [json.loads(str(rcpt_to)) for (rcpt_to,) in rows]


def plain_text(msg: EmailMessage) -> str:
    """The plain-text body of `msg`."""
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def token(ticket: int, agent: int, kind: str = "a") -> str:
    """The reply address of an agent (or, kind "x", a third party) on a ticket of a desk signing with SECRET."""
    return reply_address("support@example.org", SECRET, ticket, agent, kind)
