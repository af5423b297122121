"""One IMAP connection to one `[[imap]]` account. The only module that imports imapclient.

Every imapclient, socket and TLS failure leaves this module as MailboxUnavailable
(or MailboxAuthError for a refused login), so the fetcher loop handles two
errors, not a library's worth. Bodies are fetched with BODY.PEEK[] so nothing is
marked read before it is stored.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from maildesk.config import ImapAccount
from maildesk.errors import MailboxAuthError, MailboxUnavailable
from maildesk.mail.mailbox_sync import HeaderFacts, header_message_id

log = logging.getLogger(__name__)

_SEEN = b"\\Seen"
# A server may end IDLE after 30 minutes (RFC 2177); re-issue it well before.
_IDLE_MAX_SECONDS = 25 * 60


@dataclass(frozen=True)
class Login:
    """What to log in with: a password, or an OAuth2 access token for XOAUTH2."""

    username: str
    password: str | None = None
    access_token: str | None = None


@dataclass(frozen=True)
class Selected:
    """The folder just selected: its UIDVALIDITY and how many messages it holds."""

    uidvalidity: int
    exists: int


@contextmanager
def _mapped(account: ImapAccount, doing: str) -> Iterator[None]:
    try:
        yield
    except LoginError as exc:
        raise MailboxAuthError(f"login as {account.username} at {account.host} "
                               f"refused: {_text(exc)}") from exc
    except (IMAPClientError, imaplib.IMAP4.error, OSError) as exc:
        # IMAP4.abort (connection dropped) and ssl.SSLError are subclasses of these.
        raise MailboxUnavailable(f"{doing} failed at {account.host}:{account.port}: "
                                 f"{_text(exc) or type(exc).__name__}") from exc


def _text(exc: BaseException) -> str:
    text = str(exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text


class ImapSession:
    """A logged-in connection; use `open()` and close with `close()` (or as a context manager)."""

    def __init__(self, account: ImapAccount, client: IMAPClient) -> None:
        self.account = account
        self._client = client
        with _mapped(account, "CAPABILITY"):
            self._caps = frozenset(client.capabilities())
        self._delimiter = "/"

    @classmethod
    def open(cls, account: ImapAccount, login: Login) -> ImapSession:
        """Connect with the account's TLS mode and log in; raise MailboxAuthError if refused."""
        with _mapped(account, "connect"):
            # ca_file replaces the system's CAs: the server's certificate must chain to it.
            context = ssl.create_default_context(cafile=account.ca_file)
            client = IMAPClient(account.host, account.port, ssl=account.tls == "imaps",
                                ssl_context=context if account.tls == "imaps" else None,
                                timeout=account.timeout)
        try:
            with _mapped(account, "STARTTLS" if account.tls == "starttls" else "login"):
                if account.tls == "starttls":
                    client.starttls(context)
                if login.access_token is not None:
                    client.oauth2_login(login.username, login.access_token)
                else:
                    client.login(login.username, login.password or "")
        except BaseException:
            _quietly_close(client)
            raise
        return cls(account, client)

    def __enter__(self) -> ImapSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def supports_idle(self) -> bool:
        """Whether the server offers IDLE (RFC 2177)."""
        return b"IDLE" in self._caps

    def select(self, folder: str) -> Selected:
        """Select `folder` read-write; its UIDVALIDITY tells whether remembered UIDs still hold."""
        with _mapped(self.account, f"SELECT {folder}"):
            info: dict[bytes, Any] = self._client.select_folder(self._server_name(folder))
        self._announced()  # SELECT's own count is known now; an EXISTS after it is news
        return Selected(uidvalidity=int(info[b"UIDVALIDITY"]), exists=int(info.get(b"EXISTS", 0)))

    def ensure_folder(self, folder: str) -> None:
        """Create `folder` (with "/" as the hierarchy separator in config) unless it exists."""
        with _mapped(self.account, f"CREATE {folder}"):
            listed = self._client.list_folders(directory="", pattern="")
            if listed and listed[0][1]:
                sep = listed[0][1]
                self._delimiter = sep.decode() if isinstance(sep, bytes) else str(sep)
            name = self._server_name(folder)
            if not self._client.folder_exists(name):
                self._client.create_folder(name)
                log.info("imap %s: created folder %s", self.account.name, folder)

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above `last_uid` that are not marked deleted (the server may add the highest one)."""
        with _mapped(self.account, "UID SEARCH"):
            criteria = ["UID", f"{last_uid + 1}:*", "UNDELETED"] if last_uid else ["UNDELETED"]
            found: list[int] = self._client.search(criteria)
        return found

    def header_facts(self, uids: Sequence[int]) -> list[HeaderFacts]:
        """Message-ID and size of `uids`, cheaply, to skip what is already stored."""
        if not uids:
            return []
        with _mapped(self.account, "FETCH headers"):
            data = self._client.fetch(list(uids), ["RFC822.SIZE", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        facts = []
        for uid, item in data.items():
            block = next((v for k, v in item.items() if k.startswith(b"BODY[")), b"") or b""
            facts.append(HeaderFacts(uid=int(uid), message_id=header_message_id(block),
                                     size=int(item.get(b"RFC822.SIZE", -1))))
        return facts

    def fetch_raw(self, uids: Sequence[int]) -> dict[int, bytes]:
        """The exact bytes of `uids`, without setting \\Seen; messages gone meanwhile are absent."""
        if not uids:
            return {}
        with _mapped(self.account, "FETCH bodies"):
            data = self._client.fetch(list(uids), ["BODY.PEEK[]"])
        return {int(uid): bytes(item[b"BODY[]"]) for uid, item in data.items() if b"BODY[]" in item}

    def move(self, uids: Sequence[int], folder: str) -> None:
        """Move `uids` to `folder`: MOVE when offered, else COPY + \\Deleted + (UID) EXPUNGE."""
        if not uids:
            return
        target = self._server_name(folder)
        with _mapped(self.account, f"MOVE to {folder}"):
            if b"MOVE" in self._caps:
                self._client.move(list(uids), target)
                return
            self._client.copy(list(uids), target)
            self._client.delete_messages(list(uids))
            # Without UIDPLUS, EXPUNGE also removes messages someone else marked \Deleted.
            self._client.expunge(list(uids) if b"UIDPLUS" in self._caps else None)

    def flag_seen(self, uids: Sequence[int]) -> None:
        """Mark `uids` \\Seen and leave them where they are."""
        if uids:
            with _mapped(self.account, "STORE \\Seen"):
                self._client.add_flags(list(uids), [_SEEN], silent=True)

    def wait_for_news(self, seconds: float, stop: threading.Event) -> None:
        """Return when the folder changes, `seconds` pass or `stop` is set; IDLE when offered.
        At once when the server already announced new mail with the answer to an earlier command."""
        if self._announced():
            return
        if not (self.account.idle and self.supports_idle):
            stop.wait(seconds)
            return
        deadline = time.monotonic() + min(seconds, _IDLE_MAX_SECONDS)
        with _mapped(self.account, "IDLE"):
            self._client.idle()
            try:
                while not stop.is_set() and time.monotonic() < deadline:
                    # A short check lets a shutdown end IDLE within a second.
                    if any(_is_news(r) for r in self._client.idle_check(timeout=1)):
                        break
            finally:
                self._client.idle_done()

    def _announced(self) -> bool:
        """Whether an untagged EXISTS came with the answers since the last call, forgetting it.

        A message that arrives after the round's UID SEARCH ran is announced with the answer to the
        next command (Dovecot, tests/integration/test_imap_session.py) and not again in IDLE, so a
        fetcher that only listened in IDLE would wait a whole poll interval for it. imaplib keeps
        such answers in `untagged_responses`, where imapclient reads SELECT's own."""
        kept = self._client._imap.untagged_responses
        return bool(kept.pop("EXISTS", None))

    def noop(self) -> None:
        """Ask the server anything, to prove the connection and login work."""
        with _mapped(self.account, "NOOP"):
            self._client.noop()

    def close(self) -> None:
        """Log out, ignoring a connection that is already gone."""
        _quietly_close(self._client)

    def _server_name(self, folder: str) -> str:
        return folder.replace("/", self._delimiter) if self._delimiter != "/" else folder


def _is_news(response: tuple[Any, ...]) -> bool:
    # Untagged "* n EXISTS" is new mail; "* BYE" means the server is going away.
    return any(part in (b"EXISTS", b"BYE") for part in response if isinstance(part, bytes))


def _quietly_close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # Already disconnected or never logged in: nothing left to close politely.
        try:
            client.shutdown()
        except Exception:  # The socket is gone; there is nothing more to release.
            log.debug("imap connection already closed")
