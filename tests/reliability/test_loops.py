"""RELIABILITY.md B.2, L1-L8: never answer a robot, and stop a loop that the classifier misses."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from conftest import ALICE, NOW, SECRET, DeskFactory, make_mail, parsed, query
from kit import count, listener, outbox, receive

from maildesk.domain import InboundState, OutboxState
from maildesk.mail.tokens import reply_address
from maildesk.outbound.delivery import deliver
from maildesk.runtime.wiring import Runtime


@pytest.fixture
def desk(make_desk: DeskFactory) -> Runtime:
    """A desk with a signing secret and one agent, Alice (1)."""
    return make_desk(agents=[ALICE], secret=SECRET)


def test_L1_auto_submitted(runtime: Runtime) -> None:
    # Auto-Submitted other than "no" (any case, with parameters or comments) is recorded, never acknowledged.
    for i, value in enumerate(["auto-replied", "AUTO-GENERATED", "auto-replied; x=1 (comment)", "x-custom"]):
        out = receive(runtime, make_mail(subject=f"robot {i}", Auto_Submitted=value))
        assert out.state == InboundState.DONE and out.ticket_id is not None
    assert outbox(runtime, "ack") == []
    reasons = query(runtime.settings, "select verdict, verdict_reasons from inbound order by id")
    assert all(v == "auto_reply" and "auto-submitted" in str(r) for v, r in reasons)
    receive(runtime, make_mail(subject="a person", Auto_Submitted="no"))
    assert len(outbox(runtime, "ack")) == 1


def _dsn(ack_id: str, recipient: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.client.example>\r\nTo: support@example.org\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx.client.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=R\r\n\r\n"
        "--R\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be"
        " delivered.\r\n--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.client.example"
        f"\r\n\r\nFinal-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--R\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: support@example.org\r\nTo: {recipient}\r\n"
        f"Message-ID: <{ack_id}>\r\nSubject: [#1] Printer broken\r\n\r\n--R--\r\n").encode()


def test_L2_bounces_and_dsns(desk: Runtime) -> None:
    # Null sender, Return-Path <> (IMAP), MAILER-DAEMON: no ack. A DSN for our ack fails that outbox row,
    # blocks the address for the block period, tells the agent, and no more mail goes there.
    receive(desk, make_mail(subject="null path"), mail_from="")
    receive(desk, make_mail(subject="imap null", Return_Path="<>"), mail_from=None, source="imap")
    receive(desk, make_mail(sender="MAILER-DAEMON@mx.client.example", subject="failure"),
            mail_from="MAILER-DAEMON@mx.client.example")
    receive(desk, make_mail(sender="postmaster@mx.client.example", subject="notice"), mail_from="")
    assert outbox(desk, "ack") == []
    receive(desk, make_mail(sender="carol@client.example", subject="Printer broken", message_id="c1"),
            mail_from="carol@client.example")
    (ack,) = outbox(desk, "ack")
    ack_id = str(parsed(ack[2])["Message-ID"]).strip("<>")
    out = receive(desk, _dsn(ack_id, "carol@client.example"), mail_from="")
    ticket = query(desk.settings, "select ticket_id from outbox where kind = 'ack'")[0][0]
    assert out.ticket_id == ticket  # linked to the ticket of the mail it reports on, not a new ticket
    assert query(desk.settings, "select state, last_error from outbox where kind = 'ack'")[0][0] == "failed"
    assert query(desk.settings, "select address from undeliverable") == [("carol@client.example",)]
    assert [r[1] for r in outbox(desk, "agent_note")] == [["alice@example.org"]]
    assert query(desk.settings, "select direction from messages where inbound_id = ?", out.inbound_id) == \
        [("internal",)]
    # Carol writes again: the ticket and its ack are made, but the ack is not delivered to a dead address.
    nxt = receive(desk, make_mail(sender="carol@client.example", subject="Still broken"),
                  mail_from="carol@client.example")
    (ack_id2,) = [i for i in nxt.outbox_ids if outbox(desk)[i - 1][0] == "ack"]
    result = deliver(desk.db, desk.sender, desk.settings.outbound, ack_id2, NOW + timedelta(minutes=1))
    assert result.state == OutboxState.FAILED and "undeliverable" in str(
        query(desk.settings, "select last_error from outbox where id = ?", ack_id2)[0][0])


@pytest.mark.parametrize("headers", [
    {"List_Id": "<users.lists.example>"}, {"List_Unsubscribe": "<mailto:u@lists.example>"},
    {"Precedence": "bulk"}, {"Precedence": "list"}, {"Precedence": "junk"},
    {"X_Auto_Response_Suppress": "All"}, {"X_Auto_Response_Suppress": "OOF"}, {"X_Autoreply": "yes"},
    {"sender": "noreply@svc.example"}, {"sender": "no-reply+x@svc.example"}, {"sender": "abuse@svc.example"},
    {"sender": "root@svc.example"}, {"sender": "owner-x@lists.example"}, {"sender": "x-request@lists.example"},
    {"sender": "LISTSERV@lists.example"},
])
def test_L3_lists_bulk_noreply(runtime: Runtime, headers: dict[str, str]) -> None:
    # List, bulk and no-reply mail opens a ticket but is never acknowledged.
    out = receive(runtime, make_mail(**headers), mail_from=None)
    assert out.ticket_id is not None and outbox(runtime, "ack") == []


def test_L4_ping_pong_robot(runtime: Runtime) -> None:
    # An echo robot answers every ack with fresh mail (no Auto-Submitted, new subject, no threading);
    # the brakes stop the loop at 10 acks in 3 h; a person opening 30 tickets in 10 min gets 10 acks too.
    robot, rounds, mail = "echo@bots.example", 0, make_mail(sender="echo@bots.example", subject="Hello")
    while mail is not None and rounds < 40:  # hard stop: a regression cannot flood anything
        rounds += 1
        out = receive(runtime, mail, mail_from=robot, when=NOW + timedelta(seconds=rounds))
        acks = [o for o in outbox(runtime, "ack") if o[1] == [robot]]
        mail = make_mail(sender=robot, subject=f"Thanks, noted ({rounds})") if len(acks) == rounds else None
        assert out.state == InboundState.DONE
    assert rounds == 11 and len(outbox(runtime)) < 15
    brakes = query(runtime.settings, "select reason from events where kind = 'brake'")
    assert brakes and "limit 10" in str(brakes[0][0])
    for i in range(30):
        receive(runtime, make_mail(sender="carol@client.example", subject=f"Request {i}"),
                mail_from="carol@client.example", when=NOW + timedelta(seconds=20 * i))
    assert len([o for o in outbox(runtime, "ack") if o[1] == ["carol@client.example"]]) == 10
    # Four hours later the window has moved on: Carol is answered again.
    receive(runtime, make_mail(sender="carol@client.example", subject="Later"), mail_from="carol@client.example",
            when=NOW + timedelta(hours=4))
    assert len([o for o in outbox(runtime, "ack") if o[1] == ["carol@client.example"]]) == 11


def test_L5_own_mail_comes_back(runtime: Runtime) -> None:
    # Our ack returning (alias forwarding back to us) is recorded as ignored, never a ticket, never answered;
    # a Cc to our own address does not make us a participant.
    receive(runtime, make_mail(message_id="first", Cc="support@example.org"))
    (ack,) = outbox(runtime, "ack")
    out = receive(runtime, ack[2], mail_from="support@example.org")
    assert out.state == InboundState.IGNORED and "own" in out.reason
    assert count(runtime, "select count(*) from tickets") == 1 and len(outbox(runtime, "ack")) == 1
    assert query(runtime.settings, "select verdict from inbound where id = ?", out.inbound_id) == [("own",)]
    assert count(runtime, "select count(*) from contacts where email = 'support@example.org'") == 0


def test_L6_hop_count(runtime: Runtime) -> None:
    # 101 Received: over SMTP is refused with 554 5.4.0 at the end of DATA; fetched over IMAP it is quarantined.
    hops = "".join(f"Received: from hop{i}.example by hop{i + 1}.example; Fri, 20 Nov 2026 10:00:00 +0000\r\n"
                   for i in range(101)).encode()
    raw = hops + make_mail(subject="looping")
    with listener(runtime) as address, smtplib.SMTP(*address, timeout=10) as client:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("bob@client.example", ["support@example.org"], raw)
        assert refused.value.smtp_code == 554 and b"5.4.0" in refused.value.smtp_error
    out = receive(runtime, raw, mail_from=None, source="imap")
    assert out.state == InboundState.QUARANTINED and "too many hops" in out.reason
    assert outbox(runtime) == []


def test_L7_ack_shape(desk: Runtime) -> None:
    # Envelope C, From A, Reply-To B, Cc D, two attachments: one ack, to A only, from the desk, auto-replied,
    # threaded, tagged, carrying our loop header, no attachments and no quote of the long body.
    msg = make_mail(sender="Ann <ann@client.example>", message_id="a1", Reply_To="ben@elsewhere.example",
                    Cc="dan@client.example", body="SECRET-LINE\n" * 300)
    out = receive(desk, msg, mail_from="carl@bounce.client.example")
    (ack,) = outbox(desk, "ack")
    assert ack[1] == ["ann@client.example"]
    m = parsed(ack[2])
    assert m["Auto-Submitted"] == "auto-replied" and m["In-Reply-To"] == "<a1@client.example>"
    assert m["Subject"].startswith(f"[#{out.ticket_id}]") and m["X-Maildesk-Loop"] == "support@example.org"
    assert m["Cc"] is None and m["Bcc"] is None and not m.is_multipart()
    assert "SECRET-LINE" not in m.get_content()
    row = query(desk.settings, "select mail_from from outbox where kind = 'ack'")[0][0]
    assert row == "support@example.org"  # our own address, which never auto-replies to anything


def test_L8_agent_out_of_office(desk: Runtime) -> None:
    # Alice's out-of-office answers a notice with her valid token: kept as an internal note, nothing relayed.
    receive(desk, make_mail(sender="carol@client.example", message_id="c1"), mail_from="carol@client.example")
    token = reply_address("support@example.org", "test-secret", 1, 1)
    before = len(outbox(desk))
    ooo = make_mail(sender="alice@example.org", to=token, subject="Automatic reply: [#1] Printer broken",
                    body="I am away until Monday.", Auto_Submitted="auto-replied")
    receive(desk, ooo, mail_from="alice@example.org", rcpt=token)
    assert len(outbox(desk)) == before  # nothing relayed, no notice, no error reply
    assert query(desk.settings, "select direction from messages order by id desc limit 1") == [("internal",)]
    assert query(desk.settings, "select status from tickets where id = 1") == [("new",)]
