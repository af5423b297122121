"""Deliver through an SMTP relay with smtplib (plain, STARTTLS or implicit TLS)."""

from __future__ import annotations

import smtplib
import ssl
from urllib.parse import unquote, urlsplit

from maildesk.config import OutboundSettings
from maildesk.errors import ConfigError, PermanentDeliveryError, TransientDeliveryError
from maildesk.mail.addresses import is_addr_spec

_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class SmtpSender:
    """One connection per message: simple, and a broken relay never poisons later sends."""

    def __init__(self, settings: OutboundSettings) -> None:
        url = urlsplit(settings.url)
        if url.scheme not in _DEFAULT_PORTS or not url.hostname:
            raise ConfigError(f"outbound.url = {settings.url!r} should be smtp://HOST:PORT")
        self.scheme = url.scheme
        self.host = url.hostname
        self.port = url.port or _DEFAULT_PORTS[url.scheme]
        self.username = unquote(url.username or "") or settings.username
        self.password = unquote(url.password or "") or settings.password
        self.timeout = settings.timeout

    def send(self, mail_from: str, rcpt_to: list[str], raw: bytes, message_id: str) -> None:
        """Hand `raw` to the relay; 5xx answers are permanent, everything else transient."""
        # smtplib writes these into MAIL/RCPT lines as they are (bpo-43124): a CR/LF in one would be
        # a second command. Only single plain addresses pass (RELIABILITY.md S9).
        for address in (mail_from, *rcpt_to):
            if not is_addr_spec(address):
                raise PermanentDeliveryError(f"not a single mail address, refused before SMTP: {address!r}")
        try:
            with self._connect() as client:
                if self.username:
                    client.login(self.username, self.password)
                refused = client.sendmail(mail_from, rcpt_to, raw)
        except smtplib.SMTPRecipientsRefused as exc:
            lowest = min(code for code, _ in exc.recipients.values())
            raise _by_code(lowest, f"all refused: {exc.recipients}") from exc
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientDeliveryError(f"relay {self.host}:{self.port}: {exc}") from exc
        if refused:
            # Some recipients took it; retrying would duplicate it for them, so report and stop.
            raise PermanentDeliveryError(f"some recipients refused: {refused}")

    def check(self) -> str:
        """Connect, say EHLO (after STARTTLS or over TLS as configured) and, with a username, log in;
        send nothing. TransientDeliveryError says what failed."""
        where = f"relay {self.host}:{self.port}"
        try:
            with self._connect() as client:
                code, answer = client.ehlo()
                if code != 250:
                    raise TransientDeliveryError(f"{where} answered EHLO with {code} {_text(answer)}")
                offered = sorted(k.upper() for k in client.esmtp_features)
                if self.username:
                    client.login(self.username, self.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise TransientDeliveryError(f"{where} refused the login as {self.username}: "
                                         f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientDeliveryError(f"{where}: {str(exc) or repr(exc)}") from exc
        login = f"; logged in as {self.username}" if self.username else ""
        return f"{where} ({self.scheme}) answers EHLO: {' '.join(offered) or 'no extensions'}{login}"

    def _connect(self) -> smtplib.SMTP:
        if self.scheme == "smtps":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=ssl.create_default_context())
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
        return client


def _text(answer: bytes | str) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer


def _by_code(code: int, text: str) -> TransientDeliveryError | PermanentDeliveryError:
    return PermanentDeliveryError(text) if 500 <= code < 600 else TransientDeliveryError(text)
