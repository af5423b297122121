"""The SMTP and LMTP listener. The only module that imports aiosmtpd.

The raw bytes are committed (in a thread, off the event loop) before the
client hears 250; when the store fails the answer is 451 so the sending MTA
keeps the message and retries. Internal details never reach the client.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP
from aiosmtpd.smtp import Envelope as SmtpEnvelope
from aiosmtpd.smtp import Session as SmtpSession

from maildesk.config import SmtpSettings
from maildesk.domain import Envelope
from maildesk.errors import MessageRejected
from maildesk.mail.limits import MailLimits, hop_count

log = logging.getLogger(__name__)

Accept = Callable[[bytes, Envelope], int]
Enqueue = Callable[[int], None]
TEMPFAIL = "451 4.3.0 Temporary local problem, please try again later"
NO_SPACE = "452 4.3.1 Insufficient system storage"
TOO_MANY_SESSIONS = "421 4.7.0 Too many connections, try again later"
#: RELIABILITY.md C: 300 s idle (RFC 5321 4.5.3.2.7); 100 sessions at once (Postfix's process limit).
IDLE_TIMEOUT = 300.0
MAX_SESSIONS = 100


class DeskHandler:
    """aiosmtpd handler: recipient check at RCPT, durable store at DATA."""

    def __init__(self, accept: Accept, enqueue: Enqueue, accepts_recipient: Callable[[str], bool],
                 lmtp: bool, free_space: Callable[[], int] | None = None, max_size: int = 0,
                 max_hops: int = MailLimits.max_hops) -> None:
        self.accept = accept
        self.enqueue = enqueue
        self.accepts_recipient = accepts_recipient
        self.lmtp = lmtp
        self.free_space = free_space
        self.max_size = max_size
        self.max_hops = max_hops

    async def handle_MAIL(self, server: SMTP, session: SmtpSession, envelope: SmtpEnvelope, address: str,
                          mail_options: list[str]) -> str:
        # Postfix's queue_minfree: refuse for now, before the client sends data we could not keep.
        if self.free_space is not None and self.free_space() < 1.5 * self.max_size:
            log.error("less than 1.5 x %d bytes free for the store; answered 452 at MAIL", self.max_size)
            return NO_SPACE
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: SmtpSession, envelope: SmtpEnvelope, address: str,
                          rcpt_options: list[str]) -> str:
        if any(c in address for c in "\r\n\0") or not self.accepts_recipient(address):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: SmtpEnvelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        hops = hop_count(raw)
        if hops > self.max_hops:
            # RFC 5321 6.3: a loop between MTAs; refusing makes the last sender stop it.
            log.warning("refused mail from %s with %d Received: fields", envelope.mail_from, hops)
            return self._each(envelope, "554 5.4.0 Too many hops")
        ours = Envelope(mail_from=envelope.mail_from or "", rcpt_to=tuple(envelope.rcpt_tos),
                        source="lmtp" if self.lmtp else "smtp")
        loop = asyncio.get_running_loop()
        try:
            inbound_id = await loop.run_in_executor(None, self.accept, raw, ours)
        except MessageRejected as exc:
            return self._each(envelope, f"554 5.6.0 Message refused: {exc}")
        except Exception:
            log.exception("could not store a message from %s; answered 451", envelope.mail_from)
            return self._each(envelope, TEMPFAIL)
        try:
            self.enqueue(inbound_id)
        except Exception:  # Stored is what counts; the sweep will enqueue it.
            log.exception("inbound=%s stored but not enqueued; the sweep will pick it up", inbound_id)
        return self._each(envelope, f"250 2.0.0 Stored as {inbound_id}")

    async def handle_exception(self, error: Exception) -> str:
        # aiosmtpd would answer 500 with the exception text; never leak internals, and let the client retry.
        log.error("SMTP session error: %r", error)
        return TEMPFAIL

    def _each(self, envelope: SmtpEnvelope, status: str) -> str:
        # LMTP answers DATA once per recipient (RFC 2033); SMTP answers once.
        if not self.lmtp:
            return status
        return "\r\n".join(status for _ in envelope.rcpt_tos)


class _Sessions:
    """Connections open on one listener (touched only from its event loop thread)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0


class _DeskSmtp(SMTP):
    """aiosmtpd's server with two of our own limits.

    Text lines may be as long as the whole message may be: RFC 5321 asks servers to take at
    least 1,000 octets, and a broken client's bare-LF mail arrives as one long "line". aiosmtpd
    answers that with a 500, which makes the sender bounce the mail and the help desk never sees
    it; we store it and let the parser cope (RELIABILITY.md rule 1). Command lines stay at 512.
    Past `sessions.limit` connections the excess hears 421 and is closed."""

    def __init__(self, *args: Any, line_limit: int, sessions: _Sessions, **kwargs: Any) -> None:
        self.line_length_limit = line_limit
        self._sessions = sessions
        self._refused = False
        super().__init__(*args, **kwargs)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.transport is None:  # not the STARTTLS upgrade of a connection already counted
            self._refused = self._sessions.open >= self._sessions.limit
            self._sessions.open += 1
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self._sessions.open -= 1
        super().connection_lost(error)

    async def _handle_client(self) -> None:
        if self._refused:
            await self.push(TOO_MANY_SESSIONS)
            assert self.transport is not None
            self.transport.close()
            return
        await super()._handle_client()


class _DeskLmtp(_DeskSmtp, LMTP):
    pass


class _DeskController(Controller):
    def __init__(self, handler: DeskHandler, *, lmtp: bool, line_limit: int, sessions: _Sessions,
                 **kwargs: Any) -> None:
        self._server_class: type[_DeskSmtp] = _DeskLmtp if lmtp else _DeskSmtp
        self._extra: dict[str, Any] = {"line_limit": line_limit, "sessions": sessions}
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        return self._server_class(self.handler, **self._extra, **self.SMTP_kwargs)


class SmtpFront:
    """Runs the listener in its own thread with its own event loop (aiosmtpd's Controller)."""

    def __init__(self, settings: SmtpSettings, handler: DeskHandler, idle_timeout: float = IDLE_TIMEOUT,
                 max_sessions: int = MAX_SESSIONS) -> None:
        kwargs: dict[str, Any] = {
            "hostname": settings.host, "port": settings.port, "data_size_limit": settings.max_message_size,
            "enable_SMTPUTF8": True, "decode_data": False, "ident": "maildesk", "timeout": idle_timeout,
        }
        handler.max_size = handler.max_size or settings.max_message_size
        self.controller = _DeskController(handler, lmtp=settings.lmtp, sessions=_Sessions(max_sessions),
                                          line_limit=settings.max_message_size + 2, **kwargs)
        self.settings = settings

    def start(self) -> None:
        """Start listening; raises OSError at once when the address is taken."""
        _bindable(self.settings.host, self.settings.port)
        self.controller.start()
        log.info("%s listening on %s:%s", "LMTP" if self.settings.lmtp else "SMTP",
                 self.settings.host, self.settings.port)

    def stop(self) -> None:
        """Stop accepting connections; transactions in flight finish or are dropped before 250."""
        self.controller.stop()


def _bindable(host: str, port: int) -> None:
    """Bind host:port as the event loop will (SO_REUSEADDR; IPv6 sockets IPv6 only) and let go;
    raises OSError if it is taken. aiosmtpd reports a failed bind only after its 5 s ready timeout."""
    for family, kind, proto, _name, address in socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                                                  flags=socket.AI_PASSIVE):
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            probe.bind(address)
