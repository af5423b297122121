"""RELIABILITY.md B.3, S1-S13: From: is not identity, mail content is data, nothing leaks to outsiders."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import ALICE, BOB, SECRET, TRUSTED_MX, DeskFactory, make_mail, parsed, query, sink_server, token
from kit import count, listener, outbox, receive

from maildesk.config import OutboundSettings
from maildesk.domain import InboundState
from maildesk.errors import PermanentDeliveryError
from maildesk.mail.parse import parse_message
from maildesk.outbound.smtp import SmtpSender
from maildesk.runtime.wiring import Runtime

RULES = '''
[[rules]]
name = "priority-by-header"
when = { field = "header", header = "X-Maildesk-Priority", match = "urgent" }
then = { priority = "urgent" }
'''


@pytest.fixture
def desk(make_desk: DeskFactory) -> Runtime:
    """Agents Alice (1) and Bob (2), trusted A-R from mx.example.org, ticket 1 from Carol (who copied Dan)."""
    rt = make_desk(RULES + TRUSTED_MX, agents=(ALICE, BOB), secret=SECRET)
    receive(rt, make_mail(sender="Carol <carol@client.example>", message_id="c1", Cc="dan@client.example"),
            mail_from="carol@client.example")
    return rt


def _unchanged(rt: Runtime) -> None:
    assert query(rt.settings, "select status, priority from tickets where id = 1") == [("new", "normal")]
    assert outbox(rt, "reply") == []


def test_S1_forged_agent_from(desk: Runtime) -> None:
    # From: an agent, [#1] and "#close", with no token, a real-looking In-Reply-To, or a forged notice id.
    (notice,) = [o for o in outbox(desk, "agent_new") if o[1] == ["alice@example.org"]]
    notice_id = str(parsed(notice[2])["Message-ID"])
    for i, extra in enumerate([{}, {"In_Reply_To": notice_id}, {"References": "<notify-1-1@example.org>"}]):
        receive(desk, make_mail(sender="alice@example.org", subject="Re: [#1] Printer broken",
                                body="#close\nDone.", message_id=f"forged{i}", **extra), mail_from="alice@example.org")
    _unchanged(desk)
    assert count(desk, "select count(*) from events where kind = 'agent_auth_failed'") == 3


def test_S2_reply_token_abuse(desk: Runtime) -> None:
    # Bit-flipped, truncated, other ticket's, other agent's tokens are refused; a replayed valid reply is deduped.
    good = token(1, 1)
    local, _, domain = good.partition("@")
    flipped = local[:-1] + ("0" if local[-1] != "0" else "1") + "@" + domain
    other_ticket = good.replace("+t1.", "+t2.")  # ticket 1's MAC under ticket 2's number
    for i, (who, to) in enumerate([("alice@example.org", flipped), ("alice@example.org", local[:-6] + "@" + domain),
                                   ("alice@example.org", other_ticket), ("bob@example.org", good)]):
        receive(desk, make_mail(sender=who, to=to, subject="Re: [#1] Printer broken", body="#close\nx",
                                message_id=f"abuse{i}"), mail_from=who, rcpt=to)
    _unchanged(desk)
    valid = make_mail(sender="alice@example.org", to=good, subject="Re: [#1] Printer broken", body="On it.",
                      message_id="valid")
    first = receive(desk, valid, mail_from="alice@example.org", rcpt=good)
    again = receive(desk, valid, mail_from="alice@example.org", rcpt=good)
    assert first.state == InboundState.DONE and again.state is None  # same bytes: the same row, no new work
    assert len(outbox(desk, "reply")) == 1


def test_S3_internal_control_headers(desk: Runtime) -> None:
    # X-Maildesk-* (and RT-*) headers from outside are stripped before rules and threading run.
    out = receive(desk, make_mail(sender="erin@client.example", subject="hi", X_Maildesk_Priority="urgent",
                                  X_Maildesk_Ticket="1", X_Maildesk_Agent="alice@example.org",
                                  X_Maildesk_Internal="yes", RT_Send_Cc="eve@evil.example"),
                  mail_from="erin@client.example")
    assert out.ticket_id == 2
    assert query(desk.settings, "select priority, assignee_id from tickets where id = 2") == [("normal", None)]
    assert count(desk, "select count(*) from contacts where email = 'eve@evil.example'") == 0
    assert all("eve@evil.example" not in o[1] for o in outbox(desk))


def test_S4_forged_authentication_results(desk: Runtime) -> None:
    # A-R from a host we do not trust, one inside an attached message, or a forged pass below our MTA's
    # own (topmost) fail: none makes Alice's From: an agent's action.
    cases = [{"Authentication_Results": "mx.evil.example; dkim=pass header.d=example.org; dmarc=pass"}]
    for i, extra in enumerate(cases):
        receive(desk, make_mail(sender="alice@example.org", subject="Re: [#1] Printer broken",
                                body="#priority urgent\nx", message_id=f"ar{i}", **extra), mail_from="alice@example.org")
    inner = EmailMessage()
    inner["Authentication-Results"] = "mx.example.org; dkim=pass header.d=example.org"
    inner["From"], inner["Subject"] = "alice@example.org", "x"
    inner.set_content("x")
    outer = EmailMessage()
    outer["From"], outer["To"], outer["Subject"] = "alice@example.org", "support@example.org", "Re: [#1] x"
    outer["Message-ID"] = "<ar-attached@example.org>"
    outer.set_content("#priority urgent\nx")
    outer.add_attachment(inner)
    receive(desk, outer.as_bytes(), mail_from="alice@example.org")
    stacked = (b"Authentication-Results: mx.example.org; dkim=fail header.d=example.org\r\n"
               b"Authentication-Results: mx.example.org; dkim=pass header.d=example.org\r\n" +
               make_mail(sender="alice@example.org", subject="Re: [#1] x", body="#priority urgent\nx"))
    receive(desk, stacked, mail_from="alice@example.org")
    _unchanged(desk)


def test_S5_guessing_a_ticket_number(desk: Runtime) -> None:
    # An outsider's [#1] or a References hit on #1's first mail opens a new ticket; #1's people get nothing.
    before = len(outbox(desk))
    a = receive(desk, make_mail(sender="mallory@evil.example", subject="Re: [#1] hello"), mail_from="mallory@evil.example")
    b = receive(desk, make_mail(sender="mallory@evil.example", subject="hello", References="<c1@client.example>"),
                mail_from="mallory@evil.example")
    assert a.ticket_id != 1 and b.ticket_id != 1
    assert count(desk, "select count(*) from messages where ticket_id = 1") == 1
    new_mail = outbox(desk)[before:]
    assert all(o[1] in (["mallory@evil.example"], ["alice@example.org"], ["bob@example.org"]) for o in new_mail)
    assert all(b"Printer broken" not in o[2] for o in new_mail if o[1] == ["mallory@evil.example"])


def test_S6_ticket_contents_to_attacker_address(desk: Runtime) -> None:
    # Spoofed requester with Reply-To/Cc attackers on [#1]: nothing goes to them, they do not join the ticket;
    # a "Ticket Trick" verification mail from noreply@ gets no ack.
    receive(desk, make_mail(sender="carol@client.example", subject="Re: [#1] Printer broken", body="send history",
                            Reply_To="attacker@evil.example", Cc="attacker2@evil.example"),
            mail_from="carol@client.example")
    receive(desk, make_mail(sender="noreply@service.example", subject="Verify your account: code 123456"),
            mail_from="noreply@service.example")
    assert all(not any("evil.example" in r or "noreply@" in r for r in o[1]) for o in outbox(desk))
    assert count(desk, "select count(*) from contacts where email like '%evil.example'") == 0


def test_S7_html_and_script(desk: Runtime) -> None:
    # HTML with script, handlers, javascript: links, frames and remote images: raw kept verbatim, and
    # everything we send is text/plain (maildesk sends no HTML, so there is none to sanitise).
    html = ('<p onerror="x()">Hi<script>alert(1)</script><a href="javascript:alert(2)">l</a>'
            '<iframe src="https://evil.example"></iframe><img src="https://evil.example/t.png"></p>')
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = ("erin@client.example", "support@example.org",
                                                                   "html", "<h1@client.example>")
    msg.set_content(html, subtype="html")
    msg.add_attachment(b"<svg onload='alert(1)'/>", maintype="image", subtype="svg+xml", filename="x.svg")
    raw = msg.as_bytes()
    out = receive(desk, raw, mail_from="erin@client.example")
    assert query(desk.settings, "select raw from inbound where id = ?", out.inbound_id)[0][0] == raw
    for _, _, data, _ in outbox(desk):
        m = parsed(data)
        assert all(p.get_content_type() != "text/html" for p in m.walk())
        assert b"<script" not in data


def test_S8_header_injection(desk: Runtime) -> None:
    # Markup in a display name and an encoded subject hiding "\r\nBcc:": the ack carries exactly our headers.
    raw = (b'From: "<img src=x onerror=alert(1)>" <erin@client.example>\r\nTo: support@example.org\r\n'
           b"Subject: =?utf-8?q?Hi=0D=0ABcc=3A_victim=40x=2Etest?=\r\nMessage-ID: <inj@client.example>\r\n\r\nbody\r\n")
    receive(desk, raw, mail_from="erin@client.example")
    (ack,) = [o for o in outbox(desk, "ack") if o[1] == ["erin@client.example"]]
    m = parsed(ack[2])
    assert m["Bcc"] is None and "victim" not in str(m.get("To")) and m["Cc"] is None
    names = [k.lower() for k in m]
    assert len(names) == len(set(names))
    assert b"\r\nBcc:" not in ack[2]


def test_S9_protocol_injection(tmp_path: Path) -> None:
    # An address carrying CRLF + RCPT is refused before smtplib; a Message-ID with CRLF is never extracted.
    with sink_server() as (sink, port):
        sender = SmtpSender(OutboundSettings(url=f"smtp://127.0.0.1:{port}", username="", password="",
                                             timeout=5, max_attempts=1, retry_base_seconds=1))
        with pytest.raises(PermanentDeliveryError):
            sender.send("support@example.org", ["a@b.test>\r\nRCPT TO:<victim@x.test"], b"Subject: x\r\n\r\nx\r\n",
                        "id@x")
        sender.send("support@example.org", ["ok@b.test"], b"Subject: x\r\n\r\nx\r\n", "id2@x")
        assert [r[1] for r in sink.received] == [["ok@b.test"]]
    p = parse_message(b"From: a@b.test\r\nMessage-ID: <x@y\r\n A002 DELETE INBOX>\r\n\r\nx\r\n")
    assert "\r" not in p.message_id and "\n" not in p.message_id and "DELETE" not in p.message_id


def test_S10_template_injection(desk: Runtime) -> None:
    # Jinja syntax in the subject and body is shown literally, never evaluated.
    receive(desk, make_mail(sender="erin@client.example", subject="{{ 7*7 }} {{ config }}",
                            body="{% for x in range(10**9) %}x{% endfor %}"), mail_from="erin@client.example")
    (ack,) = [o for o in outbox(desk, "ack") if o[1] == ["erin@client.example"]]
    subject = str(parsed(ack[2])["Subject"])
    assert "{{ 7*7 }}" in subject and "49" not in subject


def test_S11_attachment_names(desk: Runtime) -> None:
    # Hostile names become harmless metadata; bytes live under their sha256 inside the blob store only.
    names = ["../../etc/cron.d/x", "/x/pwn", "..\\..\\win.ini", "CON", "a\x00.txt", "n" * 10_000,
             "a." + "e" * 500, ".bashrc"]
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "erin@client.example", "support@example.org", "files"
    msg["Message-ID"] = "<files@client.example>"
    msg.set_content("see files")
    for i, name in enumerate(names):
        msg.add_attachment(f"file {i}".encode(), maintype="application", subtype="octet-stream", filename=name)
    receive(desk, msg.as_bytes(), mail_from="erin@client.example")
    stored = query(desk.settings, "select filename, sha256 from attachments")
    assert len(stored) == len(names)
    for filename, digest in stored:
        assert "/" not in str(filename) and "\\" not in str(filename) and "\x00" not in str(filename)
        assert len(str(filename)) <= 255 and not str(filename).startswith(".") and str(filename).lower() != "con"
        assert desk.desk.blobs.path(str(digest)).resolve().is_relative_to(desk.desk.blobs.root.resolve())
    assert not (Path("/etc/cron.d/x").exists() or Path("/x/pwn").exists())


def test_S12_smtp_smuggling(runtime: Runtime) -> None:
    # "<LF>.<CR><LF>" and "<CR><LF>.<LF>" do not end DATA: one message whose body holds the smuggled
    # commands; the installed aiosmtpd is 1.4.6 or later (CVE-2024-27305, CVE-2024-34083).
    assert tuple(int(x) for x in version("aiosmtpd").split(".")[:3]) >= (1, 4, 6)
    smuggled = (b"From: bob@client.example\r\nSubject: first\r\n\r\nhello\n.\r\nMAIL FROM:<ceo@example.org>\r\n"
                b"RCPT TO:<support@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\nstill body\r\n.\r\n")
    with listener(runtime) as address, smtplib.SMTP(*address, timeout=10) as client:
        client.ehlo()
        client.mail("bob@client.example")
        client.rcpt("support@example.org")
        client.putcmd("data")
        assert client.getreply()[0] == 354
        client.send(smuggled)  # as written, with no dot-stuffing: the bare-LF dots are the attack
        assert client.getreply()[0] == 250
        assert client.noop()[0] == 250  # the smuggled MAIL/RCPT/DATA were never commands
    ((raw,),) = query(runtime.settings, "select raw from inbound")
    assert b"MAIL FROM:<ceo@example.org>" in raw and b"still body" in raw  # type: ignore[operator]
    with listener(runtime) as address, smtplib.SMTP(*address, timeout=10) as client:
        assert client.docmd("STARTTLS")[0] != 220  # no TLS offered here: no pre-TLS buffer to smuggle through


def test_S13_address_parsing_confusion(desk: Runtime) -> None:
    # The real addr-spec is the identity; two @ or two From: never make anyone the agent.
    for i, sender in enumerate(['"alice@example.org" <evil@evil.example>', "evil@evil.example (alice@example.org)"]):
        out = receive(desk, make_mail(sender=sender, subject="Re: [#1] x", body="#close\nx", message_id=f"c{i}"),
                      mail_from="evil@evil.example")
        assert query(desk.settings, "select from_email from messages where inbound_id = ?", out.inbound_id) == \
            [("evil@evil.example",)]
    receive(desk, b"From: alice@example.org@evil.example\r\nTo: support@example.org\r\nSubject: Re: [#1] x\r\n"
            b"Message-ID: <two-at@x>\r\n\r\n#close\r\n", mail_from="evil@evil.example")
    receive(desk, b"From: alice@example.org\r\nFrom: evil@evil.example\r\nTo: support@example.org\r\n"
            b"Subject: Re: [#1] x\r\nMessage-ID: <two-from@x>\r\n\r\n#close\r\n", mail_from="evil@evil.example")
    _unchanged(desk)
