"""Self-service by mail on the real pipeline (issue #9): suggestions in the acknowledgement,
"solved"/cancel replies, the status address, #macro, #forward and third parties' answers."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import (
    ALICE,
    REPO,
    SECRET,
    DeskFactory,
    mail,
    make_mail,
    parsed,
    plain_text,
    query,
    receive,
    recipients,
    sent,
    token,
)

from maildesk.mail.tokens import reply_address
from maildesk.pipeline import kb
from maildesk.pipeline.outcome import Outcome
from maildesk.runtime.wiring import Runtime

STATUS = "support+status@example.org"
CAROL, DAN = "Carol <carol@client.example>", "dan@client.example"


@pytest.fixture
def desk(make_desk: DeskFactory, tmp_path: Path) -> Runtime:
    """A desk with the sample knowledge base, one macro, and agent Alice (1)."""
    macros = tmp_path / "macros"
    (macros / "uk").mkdir(parents=True)
    (macros / "printer.txt.j2").write_text(
        "Hello {{ requester_name }}, please follow {{ articles['printer-not-printing'].url }} "
        "for ticket {{ tag }}.\n", encoding="utf-8")
    (macros / "uk" / "printer.txt.j2").write_text(
        "Доброго дня, {{ requester_name }}! Дивіться {{ articles['printer-not-printing'].url }}\n", encoding="utf-8")
    extra = f'[kb]\npath = "{REPO / "examples" / "kb"}"\n[macros]\npath = "{macros}"\n'
    rt = make_desk(extra, agents=[ALICE], secret=SECRET)
    kb.rebuild(rt.db, rt.settings.selfservice)
    return rt


def answer_to(rt: Runtime, ticket: int) -> str:
    """The signed Reply-To of our acknowledgement on `ticket`: where the requester's mail client answers."""
    (raw,) = query(rt.settings, "select raw from outbox where ticket_id = ? and kind = 'ack'", ticket)[0]
    return str(parsed(bytes(raw))["Reply-To"].addresses[0].addr_spec)  # type: ignore[arg-type]


def open_ticket(rt: Runtime, sender: str = CAROL, subject: str = "Printer broken",
                text: str = "My printer does not print.", mid: str = "c1", **headers: str) -> int:
    out = receive(rt, make_mail(sender=sender, subject=subject, body=text, message_id=mid, **headers),
                  sender.split("<")[-1].strip(">"))
    assert out.ticket_id is not None
    return out.ticket_id


# --- suggestions in the acknowledgement ---------------------------------------------------------

def test_ack_suggests_the_printer_article_for_a_ukrainian_request(desk: Runtime) -> None:
    # "не працює принтер" finds the article "Принтер не друкує" (the desk's language is en).
    open_ticket(desk, subject="Не працює принтер", text="Добрий день! У бухгалтерії не працює принтер.")
    (ack,) = sent(desk, "ack")
    text = plain_text(ack)
    assert "Принтер не друкує" in text and "https://help.example.org/kb/uk/printer-not-printing" in text
    assert '"solved"' in text
    events = query(desk.settings, "select detail from events where kind = 'kb_suggested'")
    assert "printer-not-printing" in str(events[0][0])


@pytest.mark.parametrize(("subject", "text", "url"), [
    ("Forgot password", "I forgot my password and my account is locked.", "/kb/en/password-reset"),
    ("Не работает VPN", "Не могу подключиться к VPN из дома.", "/kb/ru/vpn-cannot-connect"),
])
def test_ack_suggests_in_the_requests_language(desk: Runtime, subject: str, text: str, url: str) -> None:
    # English and Russian requests get articles in their own language.
    open_ticket(desk, subject=subject, text=text)
    assert url in plain_text(sent(desk, "ack")[0])


@pytest.mark.parametrize(("language", "word", "template"), [
    ("uk", "«вирішено»", "ack"), ("ru", "«решено»", "ack"), ("uk", "«вирішено»", "ack/hardware"),
    ("ru", "«решено»", "ack/network"), ("en", '"solved"', "ack/access")])
def test_every_acknowledgement_explains_solved(language: str, word: str, template: str) -> None:
    # The default and per-category acknowledgements in en/uk/ru list articles and name the word.
    from maildesk.notices.render import Renderer
    context = {"tagged_subject": "[#1] x", "requester_name": "", "tag": "[#1]", "subject": "x", "desk_name": "D",
               "signature": "",
               "articles": [{"title": "Article", "url": "https://kb.example/a"}]}
    text = Renderer().render(template, language, context).body
    assert word in text and "https://kb.example/a" in text


def test_weak_matches_are_not_shown(desk: Runtime) -> None:
    # A request the knowledge base cannot answer gets no list, but still the "solved" sentence.
    open_ticket(desk, subject="Coffee machine", text="The coffee machine on the 2nd floor is leaking water.")
    text = plain_text(sent(desk, "ack")[0])
    assert "These articles" not in text and "help.example.org" not in text
    assert '"solved"' in text


# --- the requester's own commands ---------------------------------------------------------------

def test_requester_solved_closes_the_ticket(desk: Runtime) -> None:
    # "Solved, thanks!" with a signed name closes with reason requester_solved and a closing notice.
    open_ticket(desk, Cc=DAN)
    to = answer_to(desk, 1)
    receive(desk, mail(CAROL, to, "Re: [#1] Printer broken", "Solved, thanks!\n\nCarol\n\n"
                       "On Fri, Example Support wrote:\n> we have received your request"), "carol@client.example",
            rcpt=to)
    assert query(desk.settings, "select status, close_reason from tickets") == [("closed", "requester_solved")]
    (notice,) = sent(desk, "status_closed")
    assert "you told us the problem is solved" in plain_text(notice)
    assert recipients(desk, "status_closed") == [["carol@client.example", "dan@client.example"]]
    event = query(desk.settings, "select actor, reason from events where kind = 'status'")
    assert event == [("contact:1", "requester_solved")]


@pytest.mark.parametrize(("word", "language_text"), [("скасувати", "Не працює принтер"), ("Отменить", "Не работает")])
def test_requester_cancels_in_uk_and_ru(desk: Runtime, word: str, language_text: str) -> None:
    # "скасувати" / "отменить" cancel the ticket.
    open_ticket(desk, subject=language_text, text=language_text)
    to = answer_to(desk, 1)
    receive(desk, mail(CAROL, to, f"Re: [#1] {language_text}", word), "carol@client.example", rcpt=to)
    assert query(desk.settings, "select status, close_reason from tickets") == [("canceled", "requester_canceled")]
    assert len(sent(desk, "status_canceled")) == 1


def test_solved_does_not_reopen_a_resolved_ticket_first(desk: Runtime) -> None:
    # On a resolved ticket "вирішено" goes straight to closed: no reopening in between.
    open_ticket(desk)
    receive(desk, mail("alice@example.org", reply_address("support@example.org", "test-secret", 1, 1),
                       "Re: [#1] Printer broken", "#resolve\nFixed the driver."), "alice@example.org",
            rcpt=reply_address("support@example.org", "test-secret", 1, 1))
    to = answer_to(desk, 1)
    receive(desk, mail(CAROL, to, "Re: [#1] Printer broken", "Вирішено"), "carol@client.example", rcpt=to)
    statuses = query(desk.settings, "select json_extract(detail, '$.new') from events where kind = 'status' "
                     "order by id")
    assert statuses == [("resolved",), ("closed",)]


def test_cc_participant_cannot_close(desk: Runtime) -> None:
    # Dan was only copied: his "solved" is an ordinary reply, the ticket stays in work.
    open_ticket(desk, Cc=DAN)
    receive(desk, mail(DAN, "support@example.org", "Re: [#1] Printer broken", "solved"), "dan@client.example")
    assert query(desk.settings, "select status from tickets") == [("new",)]
    assert sent(desk, "status_closed") == []


def test_not_solved_is_an_ordinary_reply(desk: Runtime) -> None:
    # "не вирішено" never closes.
    open_ticket(desk)
    receive(desk, mail(CAROL, "support@example.org", "Re: [#1] Printer broken", "Не вирішено!"),
            "carol@client.example")
    assert query(desk.settings, "select status from tickets") == [("new",)]


# --- the status address -------------------------------------------------------------------------

def _three_tickets(rt: Runtime) -> None:
    open_ticket(rt, subject="Printer broken", mid="c1")
    open_ticket(rt, subject="VPN down", mid="c2")
    open_ticket(rt, sender=DAN, subject="Dan's secret salary question", mid="d1", Cc="carol@client.example")


def test_status_request_lists_only_own_tickets(desk: Runtime) -> None:
    # Carol gets her two tickets, not Dan's ticket she was copied on; no ticket is made.
    _three_tickets(desk)
    out = receive(desk, mail(CAROL, STATUS, "status", ""), "carol@client.example", rcpt=STATUS)
    assert out.ticket_id is None and out.reason == "status request answered"
    (reply,) = sent(desk, "status_list")
    text = plain_text(reply)
    assert "[#1]" in text and "[#2]" in text and "VPN down" in text
    assert "[#3]" not in text and "salary" not in text
    assert recipients(desk, "status_list") == [["carol@client.example"]]
    assert query(desk.settings, "select count(*) from tickets") == [(3,)]


def test_forged_from_sends_the_list_to_the_owner_only(desk: Runtime) -> None:
    # Mallory forges From: Carol with her own Reply-To and envelope: the list goes to Carol alone.
    _three_tickets(desk)
    receive(desk, mail(CAROL, STATUS, "status", "", Reply_To="mallory@evil.example"), "mallory@evil.example",
            rcpt=STATUS)
    assert recipients(desk, "status_list") == [["carol@client.example"]]
    reply = sent(desk, "status_list")[0]
    assert "mallory" not in reply.as_string()
    assert query(desk.settings, "select count(*) from outbox where rcpt_to like '%mallory%'") == [(0,)]


def test_cc_on_a_status_request_gets_nothing(desk: Runtime) -> None:
    # Carol copies Dan: only Carol is answered, and Dan's ticket is not in her list.
    _three_tickets(desk)
    receive(desk, mail(CAROL, STATUS, "open", "", Cc=DAN), "carol@client.example", rcpt=STATUS)
    assert recipients(desk, "status_list") == [["carol@client.example"]]
    reply = sent(desk, "status_list")[0]
    assert reply["Cc"] is None and "salary" not in plain_text(reply)


def test_status_request_from_a_stranger_lists_nothing(desk: Runtime) -> None:
    # Someone with no tickets learns only that they have none.
    _three_tickets(desk)
    receive(desk, mail("eve@other.example", STATUS, "status", ""), "eve@other.example", rcpt=STATUS)
    text = plain_text(sent(desk, "status_list")[0])
    assert "no requests" in text and "[#" not in text


def test_status_filters_open_and_closed(desk: Runtime) -> None:
    # "closed" in the subject lists only closed tickets; "відкриті" only open ones.
    _three_tickets(desk)
    to = answer_to(desk, 2)
    receive(desk, mail(CAROL, to, "Re: [#2] VPN down", "solved"), "carol@client.example", rcpt=to)
    receive(desk, mail(CAROL, STATUS, "closed", ""), "carol@client.example", rcpt=STATUS)
    receive(desk, mail(CAROL, STATUS, "відкриті", "x"), "carol@client.example", rcpt=STATUS)
    closed, still_open = (plain_text(m) for m in sent(desk, "status_list"))
    assert "[#2]" in closed and "[#1]" not in closed
    assert "[#1]" in still_open and "[#2]" not in still_open


def test_machine_mail_to_the_status_address_is_ignored(desk: Runtime) -> None:
    # An auto-reply to the status address gets no answer and makes no ticket.
    _three_tickets(desk)
    out = receive(desk, mail(CAROL, STATUS, "Out of office", "I am away", Auto_Submitted="auto-replied"),
                  "carol@client.example", rcpt=STATUS)
    assert out.state == "ignored" and sent(desk, "status_list") == []


# --- #macro -------------------------------------------------------------------------------------

def _as_alice(rt: Runtime, text: str, ticket: int = 1) -> Outcome:
    """Alice answers on ticket `ticket` from her own mail client, to her reply token."""
    to = token(ticket, 1)
    return receive(rt, mail("Alice <alice@example.org>", to, f"Re: [#{ticket}] x", text, id_domain="example.org"),
                   "alice@example.org", rcpt=to)


def test_macro_is_inserted_in_the_relayed_reply(desk: Runtime) -> None:
    # "#macro printer" renders with the requester's name and an article link, after Alice's own words.
    open_ticket(desk)
    _as_alice(desk, "#macro printer\nSorry for the trouble.")
    (reply,) = sent(desk, "reply")
    text = plain_text(reply)
    assert text.startswith("Sorry for the trouble.")
    assert "Hello Carol, please follow https://help.example.org/kb/en/printer-not-printing for ticket [#1]." in text
    assert "#macro" not in text
    assert query(desk.settings, "select status from tickets") == [("open",)]


def test_macro_in_the_tickets_language(desk: Runtime) -> None:
    # A Ukrainian ticket gets the uk/ version of the macro, its article link in Ukrainian.
    open_ticket(desk, subject="Не працює принтер", text="Не працює принтер")
    desk.db.engine.dispose()
    with desk.db.transaction() as session:
        from maildesk.store.models import Ticket
        ticket = session.get(Ticket, 1)
        assert ticket is not None
        ticket.language = "uk"
    _as_alice(desk, "#macro printer")
    assert "Доброго дня, Carol! Дивіться https://help.example.org/kb/uk/printer-not-printing" in plain_text(
        sent(desk, "reply")[0])


def test_unknown_macro_refuses_the_mail(desk: Runtime) -> None:
    # A macro that does not exist relays nothing and tells Alice which line was wrong.
    open_ticket(desk)
    _as_alice(desk, "#macro nosuch\nText.")
    assert sent(desk, "reply") == []
    assert "#macro nosuch" in plain_text(sent(desk, "agent_error")[0])


def test_macros_list_cli(desk: Runtime) -> None:
    # `maildesk macros list` prints the macro names.
    from click.testing import CliRunner

    from maildesk.cli.app import main
    result = CliRunner().invoke(main, ["--config", str(desk.settings.path), "macros", "list"])
    assert result.exit_code == 0 and result.output.splitlines()[0] == "printer"


# --- #forward and third parties -----------------------------------------------------------------

def test_forward_sends_the_request_and_its_file_to_the_third_party(desk: Runtime) -> None:
    # The vendor gets Carol's last mail and attachment with a signed x Reply-To; Carol gets nothing.
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = CAROL, "support@example.org", "Printer", "<c9@x>"
    msg.set_content("Error E-42 on the display.")
    msg.add_attachment(b"PNG", maintype="image", subtype="png", filename="display.png")
    receive(desk, msg.as_bytes(), "carol@client.example")
    _as_alice(desk, "#forward vendor@printers.example\nCan you read this error code?")
    (fwd,) = sent(desk, "third_party_forward")
    assert str(fwd["To"]) == "vendor@printers.example"
    assert fwd["Reply-To"].addresses[0].addr_spec == reply_address("support@example.org", "test-secret", 1, 1, "x")
    text = plain_text(fwd)
    assert "Can you read this error code?" in text and "Error E-42" in text
    assert "carol@client.example" not in text
    assert [a.get_filename() for a in fwd.iter_attachments()] == ["display.png"]
    assert sent(desk, "reply") == []
    assert query(desk.settings, "select direction from messages where from_email = 'alice@example.org'") == [
        ("internal",)]


def test_third_party_answer_is_internal_and_reaches_agents_only(desk: Runtime) -> None:
    # The vendor's reply on its token address is an internal entry; Alice hears, Carol does not.
    open_ticket(desk)
    _as_alice(desk, "#forward vendor@printers.example")
    x = reply_address("support@example.org", "test-secret", 1, 1, "x")
    out = receive(desk, mail("Vendor <vendor@printers.example>", x, "Re: Fwd: [#1] Printer broken",
                             "Replace the fuser unit."), "vendor@printers.example", rcpt=x)
    assert out.ticket_id == 1
    row = query(desk.settings, "select direction, verdict from messages where from_email = 'vendor@printers.example'")
    assert row == [("internal", "third_party")]
    (notice,) = sent(desk, "third_party_reply")
    assert str(notice["To"]) == "Alice <alice@example.org>" and "Replace the fuser unit." in plain_text(notice)
    assert query(desk.settings, "select count(*) from outbox where rcpt_to like '%carol%' and kind != 'ack'") == [
        (0,)]
    assert query(desk.settings, "select count(*) from participants where ticket_id = 1") == [(1,)]
    assert query(desk.settings, "select status from tickets") == [("new",)]


def test_third_party_answer_to_the_plain_address_is_still_internal(desk: Runtime) -> None:
    # A vendor whose client ignores Reply-To answers support@ citing our forward: still internal.
    open_ticket(desk)
    _as_alice(desk, "#forward vendor@printers.example")
    forward_id = str(sent(desk, "third_party_forward")[0]["Message-ID"])
    receive(desk, mail("vendor@printers.example", "support@example.org", "Re: Fwd: [#1] Printer broken", "Done.",
                       In_Reply_To=forward_id, References=forward_id), "vendor@printers.example")
    assert query(desk.settings, "select direction from messages where from_email = 'vendor@printers.example'") == [
        ("internal",)]
    assert query(desk.settings, "select count(*) from tickets") == [(1,)]


def test_forged_third_party_token_proves_nothing(desk: Runtime) -> None:
    # A made-up x token is ordinary mail: a new ticket, not an internal entry on ticket 1.
    open_ticket(desk)
    _as_alice(desk, "#forward vendor@printers.example")
    fake = "support+t1.x1.00000000000000000000@example.org"
    out = receive(desk, mail("mallory@evil.example", fake, "Re: [#1] Printer broken", "Pay here."),
                  "mallory@evil.example", rcpt=fake)
    assert out.ticket_id == 2
    assert query(desk.settings, "select count(*) from messages where verdict = 'third_party'") == [(0,)]


def test_forward_to_the_desk_itself_is_refused(desk: Runtime) -> None:
    # Forwarding to our own address would loop: refused with the line.
    open_ticket(desk)
    _as_alice(desk, "#forward support@example.org")
    assert sent(desk, "third_party_forward") == [] and len(sent(desk, "agent_error")) == 1
