"""`maildesk serve` as a real process, spoken to over real SMTP/LMTP on loopback."""

from __future__ import annotations

import json
import smtplib
import time
from collections.abc import Callable
from email import message_from_bytes, policy

import pytest
from conftest import ServeProcess, make_mail, outbox_files, query, send_smtp, wait_for
from servers import backend, postgres_server, redis_server, serve_on_backend  # noqa: F401


@pytest.fixture
def serve(serve: Callable[..., ServeProcess], backend: str) -> Callable[..., ServeProcess]:  # noqa: F811
    """Every test here runs on SQLite + embedded queue and again on PostgreSQL + Redis."""
    return serve_on_backend(serve, backend)


def _acks(daemon: ServeProcess) -> list[object]:
    return [m for m in (message_from_bytes(b, policy=policy.default) for b in outbox_files(daemon.settings))
            if m["Auto-Submitted"] == "auto-replied"]


def test_readme_scenario(serve: Callable[..., ServeProcess]) -> None:
    # Mail to :port makes ticket 1 within 2 s with an [#1] ack; a reply lands on it; a stranger's does not.
    daemon = serve().start()
    started = time.monotonic()
    send_smtp(daemon, make_mail(message_id="first"))
    wait_for(lambda: len(_acks(daemon)) == 1, 2.0, "the acknowledgement in the outbox")
    assert time.monotonic() - started < 2.0
    ack = _acks(daemon)[0]
    assert ack["Subject"] == "[#1] Printer broken"  # type: ignore[index]
    reply = make_mail(subject="Re: [#1] Printer broken", body="More detail.", message_id="second",
                      In_Reply_To=ack["Message-ID"], References=f"<first@client.example> {ack['Message-ID']}")  # type: ignore[index]
    send_smtp(daemon, reply)
    stranger = make_mail(sender="mallory@evil.example", subject="Re: [#1] Printer broken", message_id="third")
    send_smtp(daemon, stranger, mail_from="mallory@evil.example")
    wait_for(lambda: query(daemon.settings, "select count(*) from inbound where state != 'received'") == [(3,)],
             5, "three processed mails")
    # Workers on a shared broker may finish the second and third mail in either order.
    rows = sorted(query(daemon.settings, "select m.message_id, m.ticket_id from messages m"))
    assert rows == [("first@client.example", 1), ("second@client.example", 1), ("third@client.example", 2)]
    shown = json.loads(daemon.cli("tickets", "show", "1", "--json").stdout)
    assert [m["text"] for m in shown["messages"]] == ["My printer does not print.", "More detail."]
    assert daemon.stop() == 0


def test_unknown_recipient_is_refused_at_rcpt(serve: Callable[..., ServeProcess]) -> None:
    # Mail for an address that is not ours is refused before DATA, so nothing is stored.
    daemon = serve().start()
    with pytest.raises(smtplib.SMTPRecipientsRefused) as err:
        send_smtp(daemon, make_mail(), rcpt=("someone@else.example",))
    assert err.value.recipients["someone@else.example"][0] == 550
    send_smtp(daemon, make_mail(), rcpt=("support+billing@example.org",))  # subaddresses are ours
    assert query(daemon.settings, "select count(*) from inbound") == [(1,)]


def test_oversized_mail_is_refused_with_552(serve: Callable[..., ServeProcess]) -> None:
    # Over max_message_size the server answers 552 and stores nothing.
    daemon = serve(smtp="max_message_size = 4000\n").start()
    big = make_mail(body=("x" * 70 + "\n") * 80)
    with pytest.raises(smtplib.SMTPSenderRefused) as declared:
        send_smtp(daemon, big)  # smtplib declares SIZE=, so the server refuses at MAIL FROM
    assert declared.value.smtp_code == 552
    with smtplib.SMTP(daemon.settings.smtp.host, daemon.settings.smtp.port, timeout=10) as client:
        client.ehlo()
        client.mail("bob@client.example")  # no SIZE: the overflow is found while streaming
        client.rcpt("support@example.org")
        assert client.data(big)[0] == 552
    assert query(daemon.settings, "select count(*) from inbound") == [(0,)]
    send_smtp(daemon, make_mail(body="small"))
    assert query(daemon.settings, "select count(*) from inbound") == [(1,)]


def test_lmtp_answers_once_per_recipient(serve: Callable[..., ServeProcess]) -> None:
    # Over LMTP, DATA gets one status per accepted recipient (RFC 2033), and the mail is stored once.
    daemon = serve(smtp="lmtp = true\n", aliases='["billing@example.org"]').start()
    with smtplib.LMTP(daemon.settings.smtp.host, daemon.settings.smtp.port, timeout=10) as client:
        client.ehlo_or_helo_if_needed()
        client.mail("bob@client.example")
        assert client.rcpt("support@example.org")[0] == 250
        assert client.rcpt("billing@example.org")[0] == 250
        client.putcmd("data")
        assert client.getreply()[0] == 354
        client.send(make_mail().replace(b"\n.", b"\n..") + b"\r\n.\r\n")
        replies = [client.getreply(), client.getreply()]
    assert [code for code, _ in replies] == [250, 250]
    wait_for(lambda: len(_acks(daemon)) == 1, 5, "one acknowledgement for two recipients")
    assert query(daemon.settings, "select count(*) from tickets") == [(1,)]


def test_sigterm_stops_cleanly_and_restart_finishes_work(serve: Callable[..., ServeProcess]) -> None:
    # SIGTERM stops the daemon with status 0; mail stored before is processed by the next start.
    daemon = serve().start()
    send_smtp(daemon, make_mail())
    assert daemon.stop() == 0
    daemon.start()
    wait_for(lambda: len(_acks(daemon)) == 1, 5, "the acknowledgement after restart")
    assert query(daemon.settings, "select state from inbound") == [("done",)]
