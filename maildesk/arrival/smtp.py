"""The SMTP and LMTP listener. The only module that imports aiosmtpd.

The raw bytes are committed (in a thread, off the event loop) before the
client hears 250; when the store fails the answer is 451 so the sending MTA
keeps the message and retries. Internal details never reach the client.

A public address must stay open to everyone while someone misbehaves: connections are limited in
all and per client address (Postfix's anvil: a count and a rate per client), silent clients are
cut off sooner than RFC 5321's 5 minutes (sooner still when the listener is nearly full), and DATA
is read into a spool (maildesk.arrival.spool) that keeps only its first megabyte in memory.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP
from aiosmtpd.smtp import Envelope as SmtpEnvelope
from aiosmtpd.smtp import Session as SmtpSession

from maildesk.arrival.spool import DataEnd, Spool, read_data
from maildesk.config import SmtpSettings
from maildesk.domain import Envelope
from maildesk.errors import MessageRejected
from maildesk.mail.limits import MailLimits, hop_count

log = logging.getLogger(__name__)

Accept = Callable[[Spool, Envelope], int]
Enqueue = Callable[[int], None]
TEMPFAIL = "451 4.3.0 Temporary local problem, please try again later"
NO_SPACE = "452 4.3.1 Insufficient system storage"
TOO_MANY_SESSIONS = "421 4.7.0 Too many connections, try again later"
TOO_MANY_FROM_YOU = "421 4.7.0 Too many connections from your address, try again later"
#: Between commands once three quarters of the sessions are taken (Postfix's smtpd_timeout under stress).
STRESS_TIMEOUT = 10.0
#: The reader's buffer: a longer line is read in pieces (commands past it hear 500).
STREAM_LIMIT = 64 * 1024


class DeskHandler:
    """aiosmtpd handler: recipient check at RCPT, durable store at DATA."""

    def __init__(self, accept: Accept, enqueue: Enqueue, accepts_recipient: Callable[[str], bool],
                 lmtp: bool, free_space: Callable[[], int] | None = None, max_size: int = 0,
                 max_hops: int = MailLimits.max_hops, spool_dir: Path | None = None) -> None:
        self.accept = accept
        self.spool_dir = spool_dir
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
        # Our server reads DATA into a spool itself (`handle_spool`); this is aiosmtpd's own path.
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        return await self.handle_spool(session, envelope, Spool.of(raw))

    async def handle_spool(self, session: SmtpSession, envelope: SmtpEnvelope, spool: Spool) -> str:
        """Store the message in `spool` (closed afterwards) and answer for it."""
        try:
            hops = hop_count(spool.head(MailLimits.header_bytes * 4 + 4))
            if hops > self.max_hops:
                # RFC 5321 6.3: a loop between MTAs; refusing makes the last sender stop it.
                log.warning("refused mail from %s with %d Received: fields", envelope.mail_from, hops)
                return self._each(envelope, "554 5.4.0 Too many hops")
            ours = Envelope(mail_from=envelope.mail_from or "", rcpt_to=tuple(envelope.rcpt_tos),
                            source="lmtp" if self.lmtp else "smtp", client_ip=peer_address(session))
            return await self._stored(envelope, spool, ours)
        finally:
            spool.close()

    async def _stored(self, envelope: SmtpEnvelope, spool: Spool, ours: Envelope) -> str:
        loop = asyncio.get_running_loop()
        try:
            inbound_id = await loop.run_in_executor(None, self.accept, spool, ours)
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


def peer_address(session: SmtpSession) -> str:
    """The client's IP address ("" when the transport gave none, as for a Unix socket)."""
    peer: Any = session.peer
    return str(peer[0]) if isinstance(peer, tuple) and len(peer) > 0 else ""


@dataclass
class Sessions:
    """Connections open on one listener, in all and per client address, and when each client last
    connected (touched only from the listener's event loop thread)."""

    limit: int
    per_client: int = 50
    per_minute: int = 60
    open: int = 0
    by_client: collections.Counter[str] = field(default_factory=collections.Counter)
    recent: dict[str, collections.deque[float]] = field(default_factory=dict)

    def connect(self, client: str, counted: bool, now: float) -> str:
        """Count a new connection; the 421 to answer it with, or "" to serve it."""
        self.open += 1
        if counted:
            self.by_client[client] += 1
        if self.open > self.limit:
            return TOO_MANY_SESSIONS
        if not counted:
            return ""
        if len(self.recent) > 10_000:  # many clients (a botnet, IPv6): forget those quiet for a minute
            self.recent = {c: t for c, t in self.recent.items() if t and t[-1] > now - 60}
        times = self.recent.setdefault(client, collections.deque())
        while times and times[0] <= now - 60:
            times.popleft()
        times.append(now)
        if self.by_client[client] > self.per_client or len(times) > self.per_minute:
            return TOO_MANY_FROM_YOU
        return ""

    def disconnect(self, client: str, counted: bool) -> None:
        """Forget a connection that ended."""
        self.open -= 1
        if counted:
            self.by_client[client] -= 1
            if self.by_client[client] <= 0:
                del self.by_client[client]
                if not self.recent.get(client):
                    self.recent.pop(client, None)

    @property
    def stressed(self) -> bool:
        """Three quarters of the sessions taken: time to cut idle clients off sooner."""
        return self.open * 4 >= self.limit * 3


@dataclass(frozen=True)
class Timeouts:
    """Seconds of silence allowed between commands and while DATA flows."""

    idle: float
    data: float


class _DeskSmtp(SMTP):
    """aiosmtpd's server with our own limits.

    Text lines may be as long as the whole message may be: RFC 5321 asks servers to take at
    least 1,000 octets, and a broken client's bare-LF mail arrives as one long "line". aiosmtpd
    answers that with a 500, which makes the sender bounce the mail and the help desk never sees
    it; we store it and let the parser cope (RELIABILITY.md rule 1). Command lines stay at 512.
    Past the session limits (in all, per client, per client and minute) the client hears 421 and
    is closed. DATA goes to a spool, with its own idle timeout that bytes in flight keep at bay."""

    line_length_limit = STREAM_LIMIT
    per_client = True  # LMTP: the peer is our own MTA, not a client on the internet

    def __init__(self, *args: Any, sessions: Sessions, timeouts: Timeouts, max_size: int,
                 **kwargs: Any) -> None:
        self._sessions, self._timeouts, self._max_size = sessions, timeouts, max_size
        self._refusal = ""
        self._client = ""
        self._in_data = False
        super().__init__(*args, timeout=timeouts.idle, **kwargs)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.transport is None:  # not the STARTTLS upgrade of a connection already counted
            peer = transport.get_extra_info("peername")
            self._client = str(peer[0]) if isinstance(peer, tuple) and peer else ""
            self._refusal = self._sessions.connect(self._client, self.per_client, time.monotonic())
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self._sessions.disconnect(self._client, self.per_client)
        super().connection_lost(error)

    def _reset_timeout(self, duration: float | None = None) -> None:
        if duration is None:
            duration = self._timeouts.data if self._in_data else self._timeouts.idle
            if not self._in_data and self._sessions.stressed:
                duration = min(duration, STRESS_TIMEOUT)
        super()._reset_timeout(duration)

    async def _handle_client(self) -> None:
        if self._refusal:
            log.warning("%s from %s", self._refusal, self._client or "an unknown peer")
            await self.push(self._refusal)
            assert self.transport is not None
            self.transport.close()
            return
        await super()._handle_client()

    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None and self.session is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        handler: DeskHandler = self.event_handler
        spool = Spool(handler.spool_dir)
        self._in_data = True
        self._reset_timeout()
        try:
            ended = await read_data(self._reader, spool, self._max_size, self._progress())
        except BaseException:
            spool.close()
            raise
        finally:
            self._in_data = False
            self._reset_timeout()
        envelope = self.envelope
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        if ended is DataEnd.TOO_MUCH:
            spool.close()
            await self.push("552 Error: Too much mail data")
            return
        await self.push(await handler.handle_spool(self.session, envelope, spool))

    def _progress(self) -> Callable[[], None]:
        """Keeps the DATA timer from firing while bytes flow, resetting it at most once a second."""
        last = [time.monotonic()]

        def moved() -> None:
            now = time.monotonic()
            if now - last[0] >= 1.0:
                last[0] = now
                self._reset_timeout()

        return moved


class _DeskLmtp(_DeskSmtp, LMTP):
    per_client = False


class _DeskController(Controller):
    def __init__(self, handler: DeskHandler, *, lmtp: bool, sessions: Sessions, timeouts: Timeouts,
                 max_size: int, **kwargs: Any) -> None:
        self._server_class: type[_DeskSmtp] = _DeskLmtp if lmtp else _DeskSmtp
        self._extra: dict[str, Any] = {"sessions": sessions, "timeouts": timeouts, "max_size": max_size}
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        return self._server_class(self.handler, **self._extra, **self.SMTP_kwargs)


class SmtpFront:
    """Runs the listener in its own thread with its own event loop (aiosmtpd's Controller).

    `idle_timeout` and `max_sessions` override the settings (tests use short ones)."""

    def __init__(self, settings: SmtpSettings, handler: DeskHandler, idle_timeout: float | None = None,
                 max_sessions: int | None = None) -> None:
        kwargs: dict[str, Any] = {
            "hostname": settings.host, "port": settings.port, "data_size_limit": settings.max_message_size,
            "enable_SMTPUTF8": True, "decode_data": False, "ident": "maildesk",
        }
        handler.max_size = handler.max_size or settings.max_message_size
        sessions = Sessions(max_sessions or settings.max_sessions, settings.sessions_per_client,
                            settings.connections_per_client_per_minute)
        timeouts = Timeouts(idle_timeout or settings.idle_timeout, settings.data_timeout)
        self.controller = _DeskController(handler, lmtp=settings.lmtp, sessions=sessions, timeouts=timeouts,
                                          max_size=settings.max_message_size, **kwargs)
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
