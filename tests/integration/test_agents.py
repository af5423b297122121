"""Agents answering from their mail client: tokens, relayed replies, commands, notes, forgeries."""

from __future__ import annotations

import pytest
from conftest import ALICE, BOB, SECRET, TRUSTED_MX, DeskFactory, mail, make_mail, query, receive, sent, token

from maildesk.runtime.wiring import Runtime


@pytest.fixture
def desk(make_desk: DeskFactory) -> Runtime:
    """A desk with agents Alice (1) and Bob (2) and ticket 1 from Carol, who copied Dan."""
    rt = make_desk(TRUSTED_MX, agents=(ALICE, BOB), secret=SECRET)
    receive(rt, make_mail(sender="Carol <carol@client.example>", message_id="c1", Cc="dan@client.example"),
            "carol@client.example")
    return rt


def agent_reply(sender: str, to: str, body: str, subject: str = "Re: [#1] New request: Printer broken",
                attachment: bytes | None = None, **headers: str) -> bytes:
    """An agent's answer from their own mail client, with an invoice attached when given."""
    return mail(sender, to, subject, body, pdf=attachment, id_domain="example.org", **headers)


def test_notice_carries_a_token_for_that_agent_and_ticket(desk: Runtime) -> None:
    # Each agent's notice has a Reply-To signed for that agent on ticket 1.
    notices = sent(desk, "agent_new")
    assert sorted(str(n["To"]) for n in notices) == ["Alice <alice@example.org>", "Bob <bob@example.org>"]
    by_agent = {str(n["To"]): n["Reply-To"].addresses[0].addr_spec for n in notices}
    assert by_agent["Alice <alice@example.org>"] == token(1, 1)
    assert by_agent["Bob <bob@example.org>"] == token(1, 2)


def test_reply_is_relayed_without_commands_or_quotes(desk: Runtime) -> None:
    # Alice answers with a command, text, a quote and a file: the requester and CC get text and file only.
    ack_id = str(sent(desk, "ack")[0]["Message-ID"])
    body = ("#pending\n#priority high\n\nWhich printer model is it?\n\n"
            "On Fri, 20 Nov 2026 at 10:00, Example Support wrote:\n> My printer does not print.\n")
    out = receive(desk, agent_reply("Alice <alice@example.org>", token(1, 1), body, attachment=b"%PDF-1"),
                  "alice@example.org", rcpt=token(1, 1))
    assert out.ticket_id == 1
    (relayed,) = sent(desk, "reply")
    assert str(relayed["From"]) == "Alice via Example Support <support@example.org>"
    assert str(relayed["To"]) == "Carol <carol@client.example>" and str(relayed["Cc"]) == "dan@client.example"
    assert str(relayed["Subject"]) == "Re: [#1] Printer broken"
    assert str(relayed["In-Reply-To"]) == ack_id and ack_id in str(relayed["References"])
    text = relayed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("Which printer model is it?")
    assert "#pending" not in text and "> My printer" not in text and "wrote:" not in text
    assert "test-secret" not in relayed.as_string() and "+t1.a" not in relayed.as_string()
    assert [a.get_filename() for a in relayed.iter_attachments()] == ["invoice.pdf"]
    assert query(desk.settings, "select status, priority from tickets") == [("pending", "high")]
    actors = query(desk.settings, "select distinct actor from events where kind in ('status','priority')")
    assert actors == [("agent:1",)]


def test_first_plain_reply_opens_a_new_ticket(desk: Runtime) -> None:
    # An answer without commands puts a new ticket in work.
    receive(desk, agent_reply("alice@example.org", token(1, 1), "Restart it, please."),
            "alice@example.org", rcpt=token(1, 1))
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
    forged_ticket = token(1, 1).replace("+t1.", "+t2.")
    receive(desk, agent_reply("alice@example.org", forged_ticket, "#close\nx", subject="Re: [#2] Second"),
            "alice@example.org", rcpt=forged_ticket)
    receive(desk, agent_reply("bob@example.org", token(1, 1), "#close\nx"), "bob@example.org",
            rcpt=token(1, 1))
    # The refused mails are handled as requesters' mails (tickets of their own); 1 and 2 are untouched.
    assert query(desk.settings, "select id, status from tickets where id <= 2 order by id") == [(1, "new"), (2, "new")]
    assert query(desk.settings, "select count(*) from tickets where status != 'new'") == [(0,)]
    assert sent(desk, "reply") == []


def test_note_stays_internal(desk: Runtime) -> None:
    # #note goes to the other agents only; the requester receives nothing.
    receive(desk, agent_reply("alice@example.org", token(1, 1), "#note\nCustomer is on the old driver."),
            "alice@example.org", rcpt=token(1, 1))
    assert sent(desk, "reply") == [] and sent(desk, "status_pending") == []
    (note,) = sent(desk, "agent_note")
    assert str(note["To"]) == "Bob <bob@example.org>"
    assert "old driver" in note.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert query(desk.settings, "select direction from messages where from_email = 'alice@example.org'") == [
        ("internal",)]


def test_unknown_command_is_refused_with_the_line(desk: Runtime) -> None:
    # A typo changes nothing, relays nothing, and the agent hears which line was wrong.
    receive(desk, agent_reply("alice@example.org", token(1, 1), "#pendig\nPlease send the model."),
            "alice@example.org", rcpt=token(1, 1))
    assert sent(desk, "reply") == []
    assert query(desk.settings, "select status from tickets") == [("new",)]
    (error,) = sent(desk, "agent_error")
    assert str(error["To"]) == "alice@example.org"
    assert "line 1: #pendig: unknown command #pendig" in error.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_error_mail_about_no_ticket_is_signed_for_ticket_0_and_its_answer_stays_with_the_agent(desk: Runtime) -> None:
    # Alice answers an error about a mail naming no ticket: her answer is an agent's again, not a new ticket.
    receive(desk, mail("Alice <alice@example.org>", "support@example.org", "Lunch?", "Which ticket?",
                       id_domain="example.org", Authentication_Results="mx.example.org; dkim=pass header.d=example.org"),
            "alice@example.org")
    (error,) = sent(desk, "agent_error")
    assert error["Reply-To"].addresses[0].addr_spec == token(0, 1)
    out = receive(desk, agent_reply("alice@example.org", token(0, 1), "#close", subject=f"Re: {error['Subject']}"),
                  "alice@example.org", rcpt=token(0, 1))
    assert (out.ticket_id, out.reason) == (None, "agent mail without a ticket")
    assert query(desk.settings, "select count(*) from tickets") == [(1,)]


def test_a_rule_notice_to_an_agent_carries_their_signed_reply_to(make_desk: DeskFactory) -> None:
    # A rule that tells Bob of urgent mail gives him his token for the new ticket; the on-call address gets none.
    rule = ('[[rules]]\nname = "urgent"\nwhen = { field = "text", regex = "urgent" }\n'
            'then = { notify = [{ to = "bob@example.org", template = "notify_oncall" },'
            ' { to = "oncall@example.org", template = "notify_oncall" }] }\n')
    rt = make_desk(rule, agents=(ALICE, BOB), secret=SECRET)
    receive(rt, make_mail(body="Urgent: the printer is on fire.", message_id="u1"))
    notices = {str(n["To"]): n["Reply-To"].addresses[0].addr_spec for n in sent(rt, "rule_notify")}
    assert notices == {"bob@example.org": token(1, 2), "oncall@example.org": "support@example.org"}


def test_commands_only_send_the_status_notice(desk: Runtime) -> None:
    # "#resolve" alone changes the status and sends the requester the resolved notice.
    receive(desk, agent_reply("alice@example.org", token(1, 1), "#resolve\n#assign me\n#cc remove dan@client.example"),
            "alice@example.org", rcpt=token(1, 1))
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
    receive(desk, agent_reply("alice@example.org", token(1, 1), "#pending\nModel?"), "alice@example.org",
            rcpt=token(1, 1))
    relayed = sent(desk, "reply")[0]
    out = receive(desk, make_mail(sender="carol@client.example", subject=str(relayed["Subject"]), message_id="c2",
                                  In_Reply_To=str(relayed["Message-ID"]), body="HP 1020"), "carol@client.example")
    assert out.ticket_id == 1
    assert query(desk.settings, "select status from tickets") == [("open",)]
    assert len(sent(desk, "agent_reply")) == 2
