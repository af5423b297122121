"""RELIABILITY.md B.1, D1-D11: nothing that got 250 is lost or doubled, failures answer 451, outbox is
transactional. The IMAP scenarios (D6-D8) run against a real Dovecot in tests/integration and are
re-collected here under their scenario ids."""

from __future__ import annotations

import errno
import smtplib
import sys
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from conftest import NOW, DeskFactory, ServeProcess, make_mail, query, send_smtp, sink_server, wait_for
from kit import count, listener, outbox, receive

from maildesk.arrival.intake import accept_raw
from maildesk.arrival.smtp import DeskHandler
from maildesk.domain import Envelope, InboundState, OutboxState
from maildesk.outbound.delivery import deliver
from maildesk.runtime.wiring import Runtime
from maildesk.store.db import Database

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from dovecot import dovecot_fixture  # noqa: F401 (fixture for the re-collected IMAP scenarios)
from test_imap_crash import test_sigkill_mid_fetch_then_restart
from test_imap_fetch import test_uidvalidity_change_stores_no_duplicates

# D6 (crash before/after the commit of a fetched message) and D7 (UIDVALIDITY change) on real Dovecot.
test_D6_imap_crash_before_after_commit = pytest.mark.slow(test_sigkill_mid_fetch_then_restart)
test_D7_imap_uidvalidity_change = test_uidvalidity_change_stores_no_duplicates
del test_sigkill_mid_fetch_then_restart, test_uidvalidity_change_stores_no_duplicates


# The 9 MB message of D4 goes out in one session: a socket timeout of 30 s, not the usual 10.
_send = partial(send_smtp, timeout=30)


def test_D1_crash_around_the_250(serve: Callable[..., ServeProcess]) -> None:
    # The intake commit runs with synchronous=FULL; a resend after a lost 250 is one article; mail that got
    # 250 just before a SIGKILL is processed exactly once after the restart.
    daemon = serve().start()
    db = Database(daemon.settings.database.url)
    with db.transaction(durable=True) as session:
        assert session.connection().exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    with db.transaction() as session:
        assert session.connection().exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    db.dispose()
    raw = make_mail(message_id="resent")
    _send(daemon, raw)
    _send(daemon, raw)  # the client never saw our 250 and sent the same bytes again
    _send(daemon, make_mail(message_id="killed"))
    daemon.kill()
    daemon.start()
    wait_for(lambda: query(daemon.settings, "select state from inbound") == [("done",), ("done",)], 20,
             "both processed")
    assert query(daemon.settings, "select count(*) from messages") == [(2,)]
    wait_for(lambda: query(daemon.settings, "select count(*) from outbox where kind = 'ack' and state = 'sent'")
             == [(2,)], 20, "two acks sent")


def test_D2_storage_fails_during_data(runtime: Runtime) -> None:
    # ENOSPC or a plain bug while storing answers 451 4.3.0 without internals; the listener keeps serving;
    # with too little free space MAIL FROM answers 452 4.3.1.
    faults: list[BaseException] = [OSError(errno.ENOSPC, "No space left on device"), RuntimeError("bug x")]

    def accept(raw: bytes, envelope: Envelope) -> int:
        if faults:
            raise faults.pop(0)
        return accept_raw(runtime.db, raw, envelope, NOW, 10**7).inbound_id

    handler = DeskHandler(accept, lambda _id: None, lambda _rcpt: True, lmtp=False)
    with listener(runtime, handler) as address, smtplib.SMTP(*address, timeout=10) as client:
        for _ in range(2):
            with pytest.raises(smtplib.SMTPDataError) as err:
                client.sendmail("bob@client.example", ["support@example.org"], make_mail())
            assert err.value.smtp_code == 451 and err.value.smtp_error.startswith(b"4.3.0")
            assert b"space" not in err.value.smtp_error and b"bug" not in err.value.smtp_error
        client.sendmail("bob@client.example", ["support@example.org"], make_mail())
    assert count(runtime, "select count(*) from inbound") == 1
    full = DeskHandler(accept, lambda _id: None, lambda _rcpt: True, lmtp=False, free_space=lambda: 0)
    with listener(runtime, full) as address, smtplib.SMTP(*address, timeout=10) as client:
        client.ehlo()
        code, text = client.mail("bob@client.example")
        assert code == 452 and text.startswith(b"4.3.1")


def test_D3_parser_crash_on_one_message(runtime: Runtime) -> None:
    # A bare "headers:" field, a Cyrillic RFC 2231 file name, and a message past a limit: each is kept
    # (ticket or quarantine with its reason, raw intact); the normal mail after them becomes a ticket.
    bad = [
        b"headers: x\r\nFrom: a@client.example\r\nSubject: h\r\n\r\nbody\r\n",
        (b"From: a@client.example\r\nSubject: f\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n"
         b"\r\n--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B\r\nContent-Type: application/pdf\r\n"
         b"Content-Disposition: attachment; filename*=UTF-8''%D0%A0%D0%B0%D1%85%D1%83%D0%BD%D0%BE%D0%BA.pdf\r\n"
         b"\r\nPDF\r\n--B--\r\n"),
        b"From: a@client.example\r\n" + b"X-Filler: " + b"y" * 120_000 + b"\r\n\r\nbody\r\n",
    ]
    for raw in bad:
        out = receive(runtime, raw, mail_from="a@client.example")
        assert out.state in (InboundState.DONE, InboundState.QUARANTINED)
        assert query(runtime.settings, "select raw from inbound where id = ?", out.inbound_id) == [(raw,)]
    reasons = query(runtime.settings, "select error from inbound where state = 'quarantined'")
    assert reasons == [("header section over 102400 bytes",)]
    assert receive(runtime, make_mail()).state == InboundState.DONE


def test_D4_final_dot_latency(serve: Callable[..., ServeProcess]) -> None:
    # A 9 MB message and one with 5,000 parts are answered within 5 s of the final dot.
    daemon = serve().start()
    big = make_mail(body=("x" * 76 + "\n") * (9_000_000 // 77))
    parts = b"".join(b"--P\r\nContent-Type: text/plain\r\n\r\npart\r\n" for _ in range(5000))
    many = (b"From: bob@client.example\r\nTo: support@example.org\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=P\r\n\r\n" + parts + b"--P--\r\n")
    assert _send(daemon, big) < 5 and _send(daemon, many) < 5
    wait_for(lambda: query(daemon.settings, "select count(*) from inbound where state != 'received'") == [(2,)],
             30, "both processed")
    assert query(daemon.settings, "select state from inbound order by id") == [("done",), ("quarantined",)]


def test_D5_dedup_key(runtime: Runtime) -> None:
    # (a) same bytes twice: one article, one ack; (b) two different mails sharing a Message-ID: two articles;
    # (c) no Message-ID, fetched twice: one article; (d) To + Cc to two of our addresses: one ticket.
    raw = make_mail(message_id="same")
    receive(runtime, raw)
    receive(runtime, raw)
    receive(runtime, make_mail(message_id="same", subject="Another question", body="Different text."))
    no_id = b"From: nid@client.example\r\nTo: support@example.org\r\nSubject: no id\r\n\r\nhello\r\n"
    receive(runtime, no_id, source="imap")
    receive(runtime, no_id, source="imap")
    receive(runtime, make_mail(message_id="both", to="support@example.org", Cc="support+billing@example.org"))
    assert count(runtime, "select count(*) from messages where message_id = 'same@client.example'") == 2
    assert count(runtime, "select count(*) from messages where from_email = 'nid@client.example'") == 1
    assert count(runtime, "select count(*) from messages where message_id = 'both@client.example'") == 1
    assert len(outbox(runtime, "ack")) == 4


def test_D8_two_fetchers_one_mailbox(runtime: Runtime) -> None:
    # Two fetchers storing the same 50 messages at once: 50 articles, no duplicates (content key unique).
    import threading
    mails = [make_mail(message_id=f"f{i}", subject=f"fetch {i}") for i in range(50)]
    barrier = threading.Barrier(2)

    def fetcher() -> None:
        barrier.wait()
        for raw in mails:
            receive(runtime, raw, source="imap")

    threads = [threading.Thread(target=fetcher) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert count(runtime, "select count(*) from inbound") == 50
    assert count(runtime, "select count(*) from messages") == 50 and count(runtime, "select count(*) from tickets") == 50


def test_D9_outbound_relay_failures(make_desk: DeskFactory) -> None:
    # 451 three times then 250: delivered once, same Message-ID, growing backoff; 550: failed, never retried;
    # relay down: transient, retried later.
    with sink_server() as (sink, port):
        rt = make_desk(outbound=f'url = "smtp://127.0.0.1:{port}"\nmax_attempts = 5\n')
        (ack,) = receive(rt, make_mail(message_id="r1")).outbox_ids
        sink.answers = ["451 4.3.0 busy"] * 3
        at, waits = NOW, []
        for _ in range(4):
            deliver(rt.db, rt.sender, rt.settings.outbound, ack, at)
            nxt = query(rt.settings, "select next_attempt_at from outbox where id = ?", ack)[0][0]
            waits.append(str(nxt))
            at += timedelta(hours=2)
        assert len(sink.received) == 1 and query(rt.settings, "select state from outbox where id = ?", ack) == [("sent",)]
        assert waits[0] < waits[1] < waits[2]
        (ack2,) = receive(rt, make_mail(sender="x@client.example", message_id="r2"), mail_from="x@client.example").outbox_ids
        sink.answers = ["550 5.1.1 no such user"]
        assert deliver(rt.db, rt.sender, rt.settings.outbound, ack2, at).state == OutboxState.FAILED
        assert deliver(rt.db, rt.sender, rt.settings.outbound, ack2, at + timedelta(days=1)).state is None
        assert len(sink.received) == 1
    (ack3,) = receive(rt, make_mail(sender="y@client.example", message_id="r3"), mail_from="y@client.example").outbox_ids
    assert deliver(rt.db, rt.sender, rt.settings.outbound, ack3, at).state == OutboxState.PENDING  # relay is gone


def test_D10_no_ack_outside_the_transaction(runtime: Runtime) -> None:
    # The ticket transaction fails after the ack was composed: no ticket and no ack; after the fault is
    # gone the retry makes exactly one of each (the outbox row is written in the same transaction).
    path = runtime.settings.database.url.removeprefix("sqlite:///")
    import sqlite3
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TRIGGER fault BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'injected'); END")
    out = receive(runtime, make_mail(message_id="t1"))
    assert out.state is None and count(runtime, "select count(*) from tickets") == 0 and outbox(runtime) == []
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER fault")
    from maildesk.pipeline.process import process_inbound
    again = process_inbound(runtime.desk, out.inbound_id, NOW)
    assert again.state == InboundState.DONE and len(outbox(runtime, "ack")) == 1


def test_D11_reply_during_auto_close(runtime: Runtime) -> None:
    # The requester's reply to a pending ticket reopens it (the auto-close job then finds it open);
    # an auto-reply arriving instead changes nothing, so it cannot keep a ticket alive either.
    from maildesk.admin import tickets
    from maildesk.domain import Status
    receive(runtime, make_mail(message_id="p1"))
    tickets.set_status(runtime.desk, 1, Status.PENDING, "agent:test", "waiting", NOW)
    receive(runtime, make_mail(subject="Re: [#1] Printer broken", body="Away", Auto_Submitted="auto-replied"),
            when=NOW + timedelta(days=1))
    assert query(runtime.settings, "select status from tickets where id = 1") == [("pending",)]
    receive(runtime, make_mail(subject="Re: [#1] Printer broken", body="Here is the model."),
            when=NOW + timedelta(days=2))
    assert query(runtime.settings, "select status from tickets where id = 1") == [("open",)]
