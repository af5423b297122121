"""IMAP fetching against a real Dovecot: every message stored once, then moved or flagged, never lost."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from conftest import ServeProcess, make_mail, outbox_files, query, wait_for
from dovecot import Dovecot, dovecot_fixture, imap_block  # noqa: F401 (fixture)

TOTAL = 500
PROCESSED = "maildesk/processed"

pytestmark = pytest.mark.slow


def _mails(prefix: str, n: int) -> list[bytes]:
    return [make_mail(sender=f"{prefix}{i}@client.example", subject=f"Request {prefix}{i}",
                      message_id=f"{prefix}{i}") for i in range(n)]


def _inbound(daemon: ServeProcess) -> int:
    return int(query(daemon.settings, "SELECT count(*) FROM inbound")[0][0])  # type: ignore[call-overload]


def test_500_messages_appended_while_serving(dovecot: Dovecot, serve: Callable[..., ServeProcess]) -> None:
    # Scenario: 500 messages appended to INBOX while `maildesk serve` runs become 500 tickets, all moved.
    daemon = serve(extra=imap_block(dovecot, batch_size="100")).start()
    dovecot.append(_mails("live", TOTAL))
    wait_for(lambda: dovecot.count(PROCESSED) == TOTAL, 180, "all 500 messages moved to the processed folder")
    assert dovecot.count("INBOX") == 0
    wait_for(lambda: len(outbox_files(daemon.settings)) >= TOTAL, 240, "500 acknowledgements delivered")
    assert query(daemon.settings, "SELECT count(*), count(DISTINCT message_id), min(source) FROM inbound") == [
        (TOTAL, TOTAL, "imap:support")]
    assert query(daemon.settings, "SELECT count(*) FROM tickets") == [(TOTAL,)]
    assert query(daemon.settings, "SELECT count(*) FROM outbox WHERE kind = 'ack'") == [(TOTAL,)]
    assert daemon.stop() == 0


def _batches(log_text: str) -> list[int]:
    """The batch sizes the fetcher logged ("N of M messages stored"): M per round."""
    return [int(m) for m in re.findall(r"\d+ of (\d+) messages stored", log_text)]


def test_flag_mode_keeps_messages_and_never_refetches(dovecot: Dovecot,
                                                      serve: Callable[..., ServeProcess]) -> None:
    # Scenario: `flag` mode leaves messages in INBOX marked \Seen and never fetches a stored one twice,
    # not even after a restart.
    daemon = serve(extra=imap_block(dovecot, after="flag")).start()
    dovecot.append(_mails("flag", 20))
    wait_for(lambda: dovecot.seen_count("INBOX") == 20, 60, "20 messages flagged \\Seen")
    assert _inbound(daemon) == 20
    assert daemon.stop() == 0
    offset = len(daemon.log.read_text())
    daemon.start()
    dovecot.append(_mails("late", 1))
    wait_for(lambda: dovecot.seen_count("INBOX") == 21, 30, "the new message flagged")
    assert _inbound(daemon) == 21
    assert dovecot.count("INBOX") == 21 and dovecot.count(PROCESSED) == 0
    assert _batches(daemon.log.read_text()[offset:]) == [1], "the restarted fetcher looked at more than the new mail"
    assert daemon.stop() == 0


def test_uidvalidity_change_stores_no_duplicates(dovecot: Dovecot, serve: Callable[..., ServeProcess]) -> None:
    # Scenario: the folder is recreated with the same messages (new UIDVALIDITY): nothing is stored twice.
    with dovecot.client() as client:
        client.create_folder("Support")
    mails = _mails("uv", 10)
    dovecot.append(mails, "Support")
    daemon = serve(extra=imap_block(dovecot, after="flag", folder="Support")).start()
    wait_for(lambda: dovecot.seen_count("Support") == 10, 60, "10 messages fetched")
    before = query(daemon.settings, "SELECT uidvalidity FROM imap_state")
    with dovecot.client() as client:
        client.delete_folder("Support")
        client.create_folder("Support")
    dovecot.append([*mails, *_mails("uv-new", 1)], "Support")
    wait_for(lambda: _inbound(daemon) == 11 and dovecot.seen_count("Support") == 11, 60,
             "the recreated folder re-checked and the one new message stored")
    assert query(daemon.settings, "SELECT uidvalidity FROM imap_state") != before
    assert "UIDVALIDITY of Support changed" in daemon.log.read_text()
    wait_for(lambda: query(daemon.settings, "SELECT count(*) FROM tickets") == [(11,)], 30, "11 tickets")
    assert daemon.stop() == 0
