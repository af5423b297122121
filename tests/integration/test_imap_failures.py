"""IMAP failures: a connection dropped during IDLE, and a wrong password that must not stop SMTP."""

from __future__ import annotations

from collections.abc import Callable

from conftest import ServeProcess, make_mail, query, send_smtp, wait_for
from dovecot import Dovecot, dovecot_fixture, imap_block  # noqa: F401 (fixture)

PROCESSED = "maildesk/processed"


def _log(daemon: ServeProcess) -> str:
    return daemon.log.read_text(encoding="utf-8", errors="replace")


def test_connection_dropped_during_idle_reconnects(dovecot: Dovecot, serve: Callable[..., ServeProcess]) -> None:
    # Scenario: the server drops the connection while the fetcher IDLEs; it reconnects and keeps fetching.
    daemon = serve(extra=imap_block(dovecot, poll_interval_seconds="300")).start()
    dovecot.append([make_mail(message_id="before-drop")])
    wait_for(lambda: dovecot.count(PROCESSED) == 1, 30, "the first message fetched")
    wait_for(lambda: _log(daemon).count("messages stored") >= 1, 10, "the fetcher back in IDLE")
    dovecot.kick()
    wait_for(lambda: "imap support: " in _log(daemon) and "IDLE failed" in _log(daemon), 20,
             "the dropped connection noticed")
    dovecot.append([make_mail(message_id="after-drop")])
    # A 300 s poll interval: only a reconnect followed by IDLE (or an immediate round) can fetch this in time.
    wait_for(lambda: dovecot.count(PROCESSED) == 2, 30, "the message sent after the drop fetched")
    assert query(daemon.settings, "SELECT count(*) FROM inbound") == [(2,)]
    status = daemon.cli("mailboxes", "status")
    assert status.returncode == 0, status.stdout
    assert b"last error" in status.stdout and b"recovered" in status.stdout
    assert daemon.stop() == 0


def test_wrong_password_is_reported_and_smtp_keeps_serving(
        dovecot: Dovecot, serve: Callable[..., ServeProcess]) -> None:
    # Scenario: a wrong IMAP password gives a clear error in the log and in `mailboxes status`, one admin
    # alert, a failing `doctor`, and SMTP mail is still accepted and acknowledged.
    daemon = serve(extra=imap_block(dovecot, password="wrong", alert_after_seconds="0"),
                   admin="admin@example.org").start()
    wait_for(lambda: _log(daemon).count("refused") >= 3, 30, "three refused logins")
    assert "login as desk at 127.0.0.1 refused" in _log(daemon)
    status = daemon.cli("mailboxes", "status")
    assert status.returncode == 1
    assert b"FAILING since" in status.stdout and b"refused" in status.stdout, status.stdout
    doctor = daemon.cli("doctor")
    assert doctor.returncode == 1
    assert b"ok   database" in doctor.stdout and b"FAIL imap support" in doctor.stdout, doctor.stdout
    send_smtp(daemon, make_mail(message_id="via-smtp"))
    wait_for(lambda: query(daemon.settings, "SELECT count(*) FROM outbox WHERE kind = 'ack'") == [(1,)], 30,
             "the SMTP mail acknowledged")
    assert query(daemon.settings, "SELECT source FROM inbound") == [("smtp",)]
    assert query(daemon.settings, "SELECT rcpt_to FROM outbox WHERE kind = 'admin_alert'") == [
        ('["admin@example.org"]',)]
    assert daemon.stop() == 0
