"""Helpers the reliability scenarios share: mail in as the SMTP listener stores it, the outbox rows with
their state, maildesk's own SMTP listener in this process on loopback, and clients for it."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import conftest
from conftest import NOW, free_port, query

from maildesk.arrival.intake import accept_raw
from maildesk.arrival.smtp import DeskHandler, SmtpFront
from maildesk.config import SmtpSettings
from maildesk.domain import Envelope
from maildesk.runtime.wiring import Runtime

# As the SMTP listener stores mail (the IMAP fetcher: source="imap"), up to a 100 MB message.
receive = partial(conftest.receive, source="smtp", max_size=10**8)


def outbox(rt: Runtime, kind: str | None = None) -> list[tuple[str, list[str], bytes, str]]:
    """(kind, rcpt_to, raw, state) of every outbox row, oldest first."""
    rows = query(rt.settings, "select kind, rcpt_to, raw, state from outbox order by id")
    import json
    return [(str(k), json.loads(str(r)), bytes(raw), str(s)) for k, r, raw, s in rows  # type: ignore[arg-type]
            if kind is None or k == kind]


def count(rt: Runtime, sql: str, *args: object) -> int:
    """The single number a `select count(*)` returns."""
    return int(query(rt.settings, sql, *args)[0][0])  # type: ignore[call-overload]


@contextmanager
def listener(rt: Runtime, handler: DeskHandler | None = None, max_size: int = 10_240_000,
             **front: Any) -> Iterator[tuple[str, int]]:
    """maildesk's own SMTP listener (transports.smtp_in) in this process, storing into `rt`."""
    port = free_port()
    settings = SmtpSettings(host="127.0.0.1", port=port, lmtp=False, max_message_size=max_size, enabled=True)

    def accept(raw: bytes, envelope: Envelope) -> int:
        return accept_raw(rt.db, raw, envelope, NOW, max_size).inbound_id

    handler = handler or DeskHandler(accept, lambda _id: None, lambda _rcpt: True, lmtp=False)
    smtp = SmtpFront(settings, handler, **front)
    smtp.start()
    try:
        yield "127.0.0.1", port
    finally:
        smtp.stop()


def smtp_client(address: tuple[str, int]) -> smtplib.SMTP:
    """An smtplib client connected to `address`."""
    return smtplib.SMTP(*address, timeout=10)


def raw_session(address: tuple[str, int]) -> socket.socket:
    """A bare socket past the greeting, for protocol violations smtplib will not commit."""
    sock = socket.create_connection(address, timeout=10)
    assert sock.recv(1024).startswith(b"220")
    return sock


def read_replies(sock: socket.socket, want: int, timeout: float = 10) -> list[str]:
    """Read until `want` reply lines (final ones, `NNN `) have arrived or the socket closes."""
    sock.settimeout(timeout)
    buf = b""
    while buf.count(b"\r\n") < want or any(line[3:4] == b"-" for line in buf.split(b"\r\n")[-2:-1]):
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
        finals = [ln for ln in buf.split(b"\r\n") if ln[3:4] == b" " or len(ln) == 3]
        if len(finals) >= want:
            break
    return [ln.decode() for ln in buf.split(b"\r\n") if ln[3:4] == b" " or len(ln) == 3]
