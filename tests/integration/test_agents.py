"""Agents answering from their mail client: tokens, relayed replies, commands, notes, forgeries."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import NOW, make_mail, query, write_config

from maildesk import config
from maildesk.admin import agents
from maildesk.arrival.intake import accept_raw
from maildesk.domain import Envelope
from maildesk.mail.tokens import reply_address
from maildesk.pipeline.outcome import Outcome
from maildesk.pipeline.process import process_inbound
from maildesk.runtime.wiring import Runtime
from maildesk.store import migrate
from maildesk.store.db import Database


@pytest.fixture
def desk(tmp_path: Path) -> Runtime:
    """A desk with agents Alice (1) and Bob (2) and ticket 1 from Carol, who copied Dan."""
    path = write_config(tmp_path, secret="test-secret")
    path.write_text(path.read_text() + '[agents]\ntrusted_hosts = ["mx.example.org"]\n'
                    'proofs = ["token", "auth-results"]\n')
    settings = config.load(path)
    migrate.upgrade(Database(settings.database.url))
    rt = Runtime.build(settings)
    agents.add_agent(rt.db, "alice@example.org", "Alice", NOW)
    agents.add_agent(rt.db, "bob@example.org", "Bob", NOW)
    receive(rt, make_mail(sender="Carol <carol@client.example>", message_id="c1", Cc="dan@client.example"),
            "carol@client.example")
    return rt


def receive(rt: Runtime, raw: bytes, mail_from: str, rcpt: str = "support@example.org") -> Outcome:
    accepted = accept_raw(rt.db, raw, Envelope(mail_from, (rcpt,), "test"), NOW, 10**7)
    return process_inbound(rt.desk, accepted.inbound_id, NOW)


def sent(rt: Runtime, kind: str) -> list[EmailMessage]:
    rows = query(rt.settings, "select raw from outbox where kind = ? order by id", kind)
    return [message_from_bytes(r[0], policy=policy.default) for r in rows]  # type: ignore[misc]


def agent_reply(sender: str, to: str, body: str, subject: str = "Re: [#1] New request: Printer broken",
                attachment: bytes | None = None, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = f"<{abs(hash((sender, to, subject, body)))}@example.org>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="pdf", filename="invoice.pdf")
    return msg.as_bytes()


def token(rt: Runtime, ticket: int, agent: int) -> str:
    return reply_address("support@example.org", "test-secret", ticket, agent)


def test_notice_carries_a_token_for_that_agent_and_ticket(desk: Runtime) -> None:
    # Each agent's notice has a Reply-To signed for that agent on ticket 1.
    notices = sent(desk, "agent_new")
    assert sorted(str(n["To"]) for n in notices) == ["Alice <alice@example.org>", "Bob <bob@example.org>"]
    by_agent = {str(n["To"]): n["Reply-To"].addresses[0].addr_spec for n in notices}
    assert by_agent["Alice <alice@example.org>"] == token(desk, 1, 1)
    assert by_agent["Bob <bob@example.org>"] == token(desk, 1, 2)


def test_reply_is_relayed_without_commands_or_quotes(desk: Runtime) -> None:
    # Alice answers with a command, text, a quote and a file: the requester and CC get text and file only.
    ack_id = str(sent(desk, "ack")[0]["Message-ID"])
    body = ("#pending\n#priority high\n\nWhich printer model is it?\n\n"
            "On Fri, 20 Nov 2026 at 10:00, Example Support wrote:\n> My printer does not print.\n")
    out = receive(desk, agent_reply("Alice <alice@example.org>", token(desk, 1, 1), body, attachment=b"%PDF-1"),
                  "alice@example.org", rcpt=token(desk, 1, 1))
    assert out.ticket_id == 1
    (relayed,) = sent(desk, "reply")
    assert str(relayed["From"]) == "Alice via Example Support <support@example.org>"
    assert str(relayed["To"]) == "Carol <carol@client.example>" and str(relayed["Cc"]) == "dan@client.example"
    assert str(relayed["Subject"]) == "Re: [#1] Printer broken"
    assert str(relayed["In-Reply-To"]) == ack_id and ack_id in str(relayed["References"])
    text = relayed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("Which printer model is it?")
    assert "#pending" not in text and "> My printer" not in text and "wrote:" not in text
    assert "test-secret" not in relayed.as_string() and "+t1." not in relayed.as_string()
    assert [a.get_filename() for a in relayed.iter_attachments()] == ["invoice.pdf"]
    assert query(desk.settings, "select status, priority from tickets") == [("pending", "high")]
    actors = query(desk.settings, "select distinct actor from events where kind in ('status','priority')")
    assert actors == [("agent:1",)]


def test_first_plain_reply_opens_a_new_ticket(desk: Runtime) -> None:
    # An answer without commands puts a new ticket in work.
    receive(desk, agent_reply("alice@example.org", token(desk, 1, 1), "Restart it, please."),
            "alice@example.org", rcpt=token(desk, 1, 1))
    assert query(desk.settings, "select status from tickets") == [("open",)]
    assert len(sent(desk, "reply")) == 1


def test_forged_agent_mail_changes_nothing(desk: Runtime) -> None:
    # From: Alice with no token (or a made-up one) is a requester's mail: no relay, no change, logged.
    for rcpt in ("support@example.org", "support+t1.a1.00000000000000000000@example.org"):
        receive(desk, agent_reply("alice@example.org", rcpt, "#close\nDone, closing.",
                                  subject="Re: [#1] Printer broken"), "alice@example.org", rcpt=rcpt)
    assert sent(desk, "reply") == []
    assert query(desk.settings, "select status from tickets where id = 1") == [("new",)]
    failures = query(desk.settings, "select reason from events where kind = 'agent_auth_failed'")
    assert len(failures) == 2 and "invalid reply token" in str(failures[1][0])


def test_token_works_only_for_its_ticket_and_agent(desk: Runtime) -> None:
    # Ticket 1's token altered to name ticket 2, or used by Bob, proves nothing.
    receive(desk, make_mail(sender="erin@client.example", subject="Second", message_id="e1"), "erin@client.example")
    forged_ticket = token(desk, 1, 1).replace("+t1.", "+t2.")
    receive(desk, agent_reply("alice@example.org", forged_ticket, "#close\nx", subject="Re: [#2] Second"),
            "alice@example.org", rcpt=forged_ticket)
    receive(desk, agent_reply("bob@example.org", token(desk, 1, 1), "#close\nx"), "bob@example.org",
            rcpt=token(desk, 1, 1))
    # The refused mails are handled as requesters' mails (tickets of their own); 1 and 2 are untouched.
    assert query(desk.settings, "select id, status from tickets where id <= 2 order by id") == [(1, "new"), (2, "new")]
    assert query(desk.settings, "select count(*) from tickets where status != 'new'") == [(0,)]
    assert sent(desk, "reply") == []


def test_note_stays_internal(desk: Runtime) -> None:
    # #note goes to the other agents only; the requester receives nothing.
    receive(desk, agent_reply("alice@example.org", token(desk, 1, 1), "#note\nCustomer is on the old driver."),
            "alice@example.org", rcpt=token(desk, 1, 1))
    assert sent(desk, "reply") == [] and sent(desk, "status_pending") == []
    (note,) = sent(desk, "agent_note")
    assert str(note["To"]) == "Bob <bob@example.org>"
    assert "old driver" in note.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert query(desk.settings, "select direction from messages where from_email = 'alice@example.org'") == [
        ("internal",)]


def test_unknown_command_is_refused_with_the_line(desk: Runtime) -> None:
    # A typo changes nothing, relays nothing, and the agent hears which line was wrong.
    receive(desk, agent_reply("alice@example.org", token(desk, 1, 1), "#pendig\nPlease send the model."),
            "alice@example.org", rcpt=token(desk, 1, 1))
    assert sent(desk, "reply") == []
    assert query(desk.settings, "select status from tickets") == [("new",)]
    (error,) = sent(desk, "agent_error")
    assert str(error["To"]) == "alice@example.org"
    assert "line 1: #pendig: unknown command #pendig" in error.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_commands_only_send_the_status_notice(desk: Runtime) -> None:
    # "#resolve" alone changes the status and sends the requester the resolved notice.
    receive(desk, agent_reply("alice@example.org", token(desk, 1, 1), "#resolve\n#assign me\n#cc remove dan@client.example"),
            "alice@example.org", rcpt=token(desk, 1, 1))
    assert query(desk.settings, "select status, assignee_id from tickets") == [("resolved", 1)]
    (notice,) = sent(desk, "status_resolved")
    assert str(notice["To"]) == "Carol <carol@client.example>" and notice["Cc"] is None


def test_authentication_results_from_trusted_host(desk: Runtime) -> None:
    # Our MTA's Authentication-Results pass for example.org lets Alice act through the tag, without a token.
    mail = agent_reply("alice@example.org", "support@example.org", "#priority urgent\nOn it.",
                       Authentication_Results="mx.example.org; dkim=pass header.d=example.org")
    receive(desk, mail, "alice@example.org")
    assert query(desk.settings, "select priority, status from tickets") == [("urgent", "open")]
    assert len(sent(desk, "reply")) == 1


def test_requester_reply_to_relayed_answer_threads_back(desk: Runtime) -> None:
    # Carol answers the relayed reply: it lands on ticket 1 and the agents are told, with their tokens.
    receive(desk, agent_reply("alice@example.org", token(desk, 1, 1), "#pending\nModel?"), "alice@example.org",
            rcpt=token(desk, 1, 1))
    relayed = sent(desk, "reply")[0]
    out = receive(desk, make_mail(sender="carol@client.example", subject=str(relayed["Subject"]), message_id="c2",
                                  In_Reply_To=str(relayed["Message-ID"]), body="HP 1020"), "carol@client.example")
    assert out.ticket_id == 1
    assert query(desk.settings, "select status from tickets") == [("open",)]
    assert len(sent(desk, "agent_reply")) == 2
