"""Mail out: the one gate into the outbox (`gate`), delivery with retries (`delivery`), and the
senders that hand composed mail to the world: a Maildir for one machine, or an SMTP relay."""

from __future__ import annotations

from typing import Protocol

from maildesk.config import OutboundSettings
from maildesk.errors import ConfigError


class Sender(Protocol):
    """Delivers one composed message; raises Transient/PermanentDeliveryError on failure."""

    def send(self, mail_from: str, rcpt_to: list[str], raw: bytes, message_id: str) -> None: ...

    def check(self) -> str:
        """Whether mail could be handed over now, sending none: a one-line summary, or DeliveryError."""
        ...


def make_sender(settings: OutboundSettings) -> Sender:
    """The sender configured by `[outbound] url`."""
    from maildesk.outbound.maildir import MaildirSender
    from maildesk.outbound.smtp import SmtpSender

    if settings.url.startswith("maildir:"):
        return MaildirSender(settings.url.removeprefix("maildir:"))
    if settings.url.startswith(("smtp://", "smtp+starttls://", "smtps://")):
        return SmtpSender(settings)
    raise ConfigError(f"outbound.url = {settings.url!r} is not supported")
