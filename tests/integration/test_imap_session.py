"""One IMAP connection against a real Dovecot: what the server says between commands is not lost."""

from __future__ import annotations

import threading
import time

from conftest import make_mail
from dovecot import Dovecot, dovecot_fixture  # noqa: F401 (fixture)

from maildesk.arrival.imap import ImapSession, Login
from maildesk.config import ImapAccount


def test_mail_announced_with_another_answer_is_not_waited_for_in_idle(dovecot: Dovecot) -> None:
    # Scenario: a message arrives after the round's UID SEARCH; the server announces it (* EXISTS) with
    # the answer to the next command and not again in IDLE: the wait returns at once, not after the
    # poll interval, so the next round fetches it.
    account = ImapAccount(host=dovecot.host, port=dovecot.port, tls="plain", username=dovecot.user,
                          password=dovecot.password)
    with ImapSession.open(account, Login(dovecot.user, dovecot.password)) as session:
        session.select("INBOX")
        assert session.uids_after(0) == []
        dovecot.append([make_mail(message_id="between-search-and-idle")])
        session.uids_after(0)  # any command: its answer carries the server's news
        started = time.monotonic()
        session.wait_for_news(20, threading.Event())
        waited = time.monotonic() - started
        session.select("INBOX")
        assert len(session.uids_after(0)) == 1
    assert waited < 5, f"waited {waited:.1f} s in IDLE for mail the server had already announced"
