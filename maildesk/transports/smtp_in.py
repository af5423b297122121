"""The SMTP and LMTP listener. The only module that imports aiosmtpd.

The raw bytes are committed (in a thread, off the event loop) before the
client hears 250; when the store fails the answer is 451 so the sending MTA
keeps the message and retries. Internal details never reach the client.
"""

from __future__ import annotations

import asyncio
import logging
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

log = logging.getLogger(__name__)

Accept = Callable[[bytes, Envelope], int]
Enqueue = Callable[[int], None]
TEMPFAIL = "451 4.3.0 Temporary local problem, please try again later"


class DeskHandler:
    """aiosmtpd handler: recipient check at RCPT, durable store at DATA."""

    def __init__(self, accept: Accept, enqueue: Enqueue, accepts_recipient: Callable[[str], bool],
                 lmtp: bool) -> None:
        self.accept = accept
        self.enqueue = enqueue
        self.accepts_recipient = accepts_recipient
        self.lmtp = lmtp

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


class _LmtpController(Controller):
    def factory(self) -> SMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


class SmtpFront:
    """Runs the listener in its own thread with its own event loop (aiosmtpd's Controller)."""

    def __init__(self, settings: SmtpSettings, handler: DeskHandler) -> None:
        kwargs: dict[str, Any] = {
            "hostname": settings.host, "port": settings.port, "data_size_limit": settings.max_message_size,
            "enable_SMTPUTF8": True, "decode_data": False, "ident": "maildesk",
        }
        cls = _LmtpController if settings.lmtp else Controller
        self.controller = cls(handler, **kwargs)
        self.settings = settings

    def start(self) -> None:
        """Start listening; raises OSError when the address is taken."""
        self.controller.start()
        log.info("%s listening on %s:%s", "LMTP" if self.settings.lmtp else "SMTP",
                 self.settings.host, self.settings.port)

    def stop(self) -> None:
        """Stop accepting connections; transactions in flight finish or are dropped before 250."""
        self.controller.stop()
