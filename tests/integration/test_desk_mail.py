"""What requesters, agents and leads get from a running `maildesk serve`, mail in over SMTP, mail out of its
Maildir: one daemon for the module, each test on its own requesters and tickets."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import (
    ALICE,
    BOB,
    NOW,
    SECRET,
    ServeProcess,
    mail,
    make_mail,
    open_desk,
    outbox_files,
    query,
    send_smtp,
    wait_for,
    write_config,
)

from maildesk.admin.agents import add_agent

CONFIG = """
[agents]
notify = "all"

[[queues]]
name = "general"
addresses = ["support@example.org"]
lead = "bob@example.org"

[[queues]]
name = "billing"
addresses = ["billing@example.org"]
display_name = "Example Billing"
signature = "Accounts department, room 214"
satisfaction = true

[[rules]]
name = "abusive-first"
when = { field = "abusive" }
then = { priority = "high" }

[[rules]]
name = "outage"
when = { field = "text", regex = 'is\\s+down' }
then = { type = "incident", priority = "urgent" }
"""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """A running desk with agents Alice (1) and Bob (2), signing reply addresses with SECRET."""
    folder = tmp_path_factory.mktemp("desk")
    desk = ServeProcess(write_config(folder, CONFIG, secret=SECRET, aliases='["billing@example.org"]'))
    rt = open_desk(desk.settings)
    for address, name in (ALICE, BOB):
        add_agent(rt.db, address, name, NOW)
    rt.db.dispose()
    desk.start()
    yield desk
    desk.stop()


def mails(desk: ServeProcess) -> list[EmailMessage]:
    """Everything the desk has sent, oldest first, as a mail client reads it."""
    return [message_from_bytes(raw, policy=policy.default) for raw in outbox_files(desk.settings)]  # type: ignore[misc]


def text_of(message: EmailMessage) -> str:
    """The plain-text body of `message`."""
    return str(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def mail_to(desk: ServeProcess, who: str, count: int = 1) -> list[EmailMessage]:
    """Wait until `who` has `count` mails from the desk; return them."""
    def theirs() -> list[EmailMessage]:
        return [m for m in mails(desk) if who in str(m["To"])]
    wait_for(lambda: len(theirs()) >= count, 10, f"{count} mails to {who}")
    return theirs()


def _mutt() -> str:
    found = shutil.which("mutt")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but mutt is not installed (.ci/run installs it)")
    pytest.skip("mutt is not installed (apt-get install mutt)")


def mutt_reply(desk: ServeProcess, notice: EmailMessage, body: str, folder: Path,
               agent: tuple[str, str] = ALICE, files: tuple[Path, ...] = ()) -> None:
    """`agent` answers `notice` from mutt as they would: to its Reply-To, threaded, `body` on top of the quote."""
    mutt = _mutt()
    address, name = agent
    quoted = "\n".join(f"> {line}" for line in text_of(notice).splitlines())
    draft, muttrc = folder / "draft", folder / "muttrc"
    draft.write_text(f"From: {name} <{address}>\nTo: {notice['Reply-To'].addresses[0].addr_spec}\n"
                     f"Subject: Re: {notice['Subject']}\nIn-Reply-To: {notice['Message-ID']}\n"
                     f"References: {notice['Message-ID']}\n\n{body}\n\nOn Fri, 20 Nov 2026, the desk wrote:\n"
                     f"{quoted}\n", encoding="utf-8")
    muttrc.write_text(
        f'set smtp_url="smtp://{desk.settings.smtp.host}:{desk.settings.smtp.port}/"\n'
        f'set ssl_starttls=no\nset ssl_force_tls=no\nset use_from=yes\nset from="{address}"\n'
        f'set realname="{name}"\nset charset="utf-8"\nset send_charset="utf-8"\nset record=""\n'
        "set copy=no\nset edit_headers=yes\n", encoding="utf-8")
    attach = [arg for f in files for arg in ("-a", str(f))]
    result = subprocess.run([mutt, "-n", "-F", str(muttrc), "-H", str(draft), *attach],
                            stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
                            env={**os.environ, "HOME": str(folder)})
    assert result.returncode == 0, result.stderr


def notice_for(desk: ServeProcess, agent: str, subject_part: str, count: int = 1) -> EmailMessage:
    """The newest of the first `count` mails to `agent` whose subject holds `subject_part`."""
    def found() -> list[EmailMessage]:
        return [m for m in mails(desk) if agent in str(m["To"]) and subject_part in str(m["Subject"])]
    wait_for(lambda: len(found()) >= count, 10, f"mail to {agent} about {subject_part!r}")
    return found()[count - 1]


def ticket_of(desk: ServeProcess, requester: str) -> int:
    """The newest ticket `requester` opened."""
    rows = query(desk.settings, "select t.id from tickets t join contacts c on c.id = t.requester_id "
                                "where c.email = ? order by t.id desc", requester)
    return int(str(rows[0][0]))


def test_reply_shaped_mail_opens_a_ticket_without_the_prefixes(daemon: ServeProcess) -> None:
    # "Re: AW: Printer on floor 3" from someone with no ticket becomes "[#N] Printer on floor 3".
    send_smtp(daemon, make_mail(sender="Gus <gus@client.example>", subject="Re: AW: Printer on floor 3",
                                message_id="gus1"), "gus@client.example")
    (ack,) = mail_to(daemon, "gus@client.example")
    number = ticket_of(daemon, "gus@client.example")
    assert str(ack["Subject"]) == f"[#{number}] Printer on floor 3"
    assert query(daemon.settings, "select subject from tickets where id = ?", number) == [("Printer on floor 3",)]


def test_note_text_may_stand_on_the_command_line(daemon: ServeProcess, tmp_path: Path) -> None:
    # Alice answers from mutt with "#note handing over to Bob" alone: Bob gets the note, the requester nothing.
    send_smtp(daemon, make_mail(sender="Hal <hal@client.example>", subject="Scanner jams", message_id="hal1"),
              "hal@client.example")
    notice = notice_for(daemon, "alice@example.org", "Scanner jams")
    mutt_reply(daemon, notice, "#note handing over to Bob, he knows this scanner", tmp_path)
    note = notice_for(daemon, "bob@example.org", "Scanner jams", count=2)
    assert "handing over to Bob, he knows this scanner" in text_of(note)
    number = ticket_of(daemon, "hal@client.example")
    kinds = [k for (k,) in query(daemon.settings, "select kind from events where ticket_id = ?", number)]
    assert "note" in kinds and "command_error" not in kinds
    assert len(mail_to(daemon, "hal@client.example")) == 1  # the acknowledgement, nothing relayed


def test_answering_the_error_mail_works_like_answering_the_notice(daemon: ServeProcess, tmp_path: Path) -> None:
    # Alice's typo gets "Not applied"; she answers that mail from mutt with the fix: it is applied as hers.
    send_smtp(daemon, make_mail(sender="Ivy <ivy@client.example>", subject="Monitor flickers", message_id="ivy1"),
              "ivy@client.example")
    notice = notice_for(daemon, "alice@example.org", "Monitor flickers")
    mutt_reply(daemon, notice, "#pendig\nWhich monitor model is it?", tmp_path)
    error = notice_for(daemon, "alice@example.org", "Not applied")
    number = ticket_of(daemon, "ivy@client.example")
    assert f"+t{number}.a1." in error["Reply-To"].addresses[0].addr_spec
    mutt_reply(daemon, error, "#pending\n#assign me\nWhich monitor model is it?", tmp_path)
    relayed = mail_to(daemon, "ivy@client.example", count=2)[1]
    assert str(relayed["From"]).startswith("Alice via") and "Which monitor model" in text_of(relayed)
    assert query(daemon.settings, "select status from tickets where id = ?", number) == [("pending",)]
    people = query(daemon.settings, "select c.email from participants p join contacts c on c.id = p.contact_id "
                                    "where p.ticket_id = ?", number)
    assert people == [("ivy@client.example",)]
    shown = daemon.cli("tickets", "show", str(number)).stdout.decode()
    assert "assignee Alice <alice@example.org>" in shown and "status pending" in shown
    assert not [m for m in mails(daemon) if "bob@" in str(m["To"]) and "Reply from" in text_of(m)]


def test_an_incident_and_a_request_are_acknowledged_and_resolved_differently(daemon: ServeProcess) -> None:
    # "The VPN is down" is acknowledged as an incident and resolved as one; a request nobody classified
    # gets the "other" guidance; `tickets list --type incident` tells them apart.
    send_smtp(daemon, make_mail(sender="jo@client.example", subject="VPN", body="The VPN is down since 9:00.",
                                message_id="jo1"), "jo@client.example")
    send_smtp(daemon, make_mail(sender="kim@client.example", subject="Mouse", body="I would like a new mouse.",
                                message_id="kim1"), "kim@client.example")
    (incident_ack,) = mail_to(daemon, "jo@client.example")
    (request_ack,) = mail_to(daemon, "kim@client.example")
    incident, request = ticket_of(daemon, "jo@client.example"), ticket_of(daemon, "kim@client.example")
    assert f"registered your report as incident [#{incident}]" in text_of(incident_ack)
    assert "We could not tell yet what your request is about" in text_of(request_ack)
    # Two clients, two tickets: which one the desk numbers first is not fixed.
    kind = "select type from tickets where id = ?"
    assert query(daemon.settings, kind, incident) + query(daemon.settings, kind, request) == [
        ("incident",), ("request",)]
    listed = daemon.cli("tickets", "list", "--type", "incident", "--text", f"[#{incident}]").stdout.decode()
    header, *rows = listed.splitlines()
    assert header.split()[0] == "ID" and [line.split()[0] for line in rows] == [f"#{incident}"]
    assert daemon.cli("tickets", "set-status", str(incident), "resolved", "--as", "root").returncode == 0
    resolved = mail_to(daemon, "jo@client.example", count=2)[1]
    assert f"the incident [#{incident}] is resolved: it should work again for you." in text_of(resolved)


def test_a_queue_signs_its_notices_with_its_own_name_and_signature(daemon: ServeProcess, tmp_path: Path) -> None:
    # Mail to billing@ is acknowledged and answered as "Example Billing", signed by the accounts department.
    send_smtp(daemon, make_mail(sender="Lea <lea@client.example>", to="billing@example.org", subject="Invoice 7",
                                message_id="lea1"), "lea@client.example", rcpt=("billing@example.org",))
    (ack,) = mail_to(daemon, "lea@client.example")
    assert str(ack["From"]) == "Example Billing <support@example.org>"
    assert text_of(ack).endswith("-- \nExample Billing\nAccounts department, room 214\n")
    mutt_reply(daemon, notice_for(daemon, "alice@example.org", "Invoice 7"), "It is paid, see the receipt.", tmp_path)
    relayed = mail_to(daemon, "lea@client.example", count=2)[1]
    assert str(relayed["From"]) == "Alice via Example Billing <support@example.org>"
    assert "Example Billing · ticket" in text_of(relayed) and "Accounts department, room 214" in text_of(relayed)
    send_smtp(daemon, make_mail(sender="mo@client.example", subject="Keyboard", message_id="mo1"), "mo@client.example")
    (general,) = mail_to(daemon, "mo@client.example")  # the general queue keeps the desk's name, unsigned
    assert str(general["From"]) == "Example Support <support@example.org>"
    assert text_of(general).endswith("-- \nExample Support\n")


def test_an_agent_gets_the_tickets_files_by_asking_for_them(daemon: ServeProcess, tmp_path: Path) -> None:
    # Alice answers with "#attachments" from mutt: a notice to her alone carries the requester's invoice.pdf.
    send_smtp(daemon, mail("Nia <nia@client.example>", "support@example.org", "Refund", "Invoice attached.",
                           pdf=b"%PDF-1.4 refund"), "nia@client.example")
    notice = notice_for(daemon, "alice@example.org", "Refund")
    mutt_reply(daemon, notice, "#attachments", tmp_path)
    files = notice_for(daemon, "alice@example.org", "Files: Refund")
    assert {a.get_filename(): a.get_payload(decode=True) for a in files.iter_attachments()} == {
        "invoice.pdf": b"%PDF-1.4 refund"}
    assert "1. invoice.pdf (15 B)" in text_of(files)
    assert len(mail_to(daemon, "nia@client.example")) == 1  # the requester hears nothing of it


def test_an_agent_merges_a_duplicate_by_mail_and_its_requester_is_told_once(daemon: ServeProcess,
                                                                            tmp_path: Path) -> None:
    # Two people report the same outage; Alice answers the second's notice with "#merge N": one ticket remains,
    # the second requester is told once, and their reply to the old number lands on the first.
    send_smtp(daemon, make_mail(sender="Ola <ola@client.example>", subject="Wi-Fi on floor 4", message_id="ola1"),
              "ola@client.example")
    mail_to(daemon, "ola@client.example")
    first = ticket_of(daemon, "ola@client.example")
    send_smtp(daemon, make_mail(sender="Pat <pat@client.example>", subject="No wifi", message_id="pat1"),
              "pat@client.example")
    (ack,) = mail_to(daemon, "pat@client.example")
    second = ticket_of(daemon, "pat@client.example")
    mutt_reply(daemon, notice_for(daemon, "alice@example.org", "No wifi"),
               f"#merge {first}\nSame access point as the floor 4 report.", tmp_path)
    told = mail_to(daemon, "pat@client.example", count=2)[1]
    assert f"so we now handle both as [#{first}]" in text_of(told).replace("\n", " ")
    assert query(daemon.settings, "select status, close_reason, linked_ticket_id from tickets where id = ?",
                 second) == [("closed", "merged", first)]
    send_smtp(daemon, make_mail(sender="pat@client.example", subject=f"Re: {ack['Subject']}", message_id="pat2",
                                body="It works again, thanks.", In_Reply_To=str(ack["Message-ID"])),
              "pat@client.example")
    wait_for(lambda: query(daemon.settings, "select ticket_id from messages where message_id = ?",
                           "pat2@client.example") == [(first,)], 10, "Pat's reply on the first ticket")
    assert len(mail_to(daemon, "pat@client.example")) == 2  # the ack and the one merge notice, nothing more
    assert query(daemon.settings, "select count(*) from tickets where id > ?", second) == [(0,)]


def test_abusive_mail_is_tagged_raised_to_the_lead_and_answered_neutrally(daemon: ServeProcess) -> None:
    # Insults and a threat: a neutral ack quoting nothing, the ticket tagged and given to the lead, Bob, who
    # gets the mail with his Reply-To; a rule on `abusive` raised its priority. "Killing me" stays ordinary.
    send_smtp(daemon, make_mail(sender="Quinn Angry <quinn@client.example>", subject="Useless printer desk",
                                body="You stupid morons, I will come and smash your office.", message_id="q1"),
              "quinn@client.example")
    send_smtp(daemon, make_mail(sender="ray@client.example", subject="Printer",
                                body="This printer is killing me, it jams every page.", message_id="r1"),
              "ray@client.example")
    (ack,) = mail_to(daemon, "quinn@client.example")
    number = ticket_of(daemon, "quinn@client.example")
    assert str(ack["Subject"]) == f"[#{number}] Your message"
    for quoted in ("Useless", "printer", "morons", "smash", "Quinn"):
        assert quoted not in str(ack["Subject"]) and quoted not in text_of(ack)
    assert query(daemon.settings, "select t.tags, t.priority, a.email from tickets t join agents a on "
                                  "a.id = t.assignee_id where t.id = ?", number) == [('["abusive"]', "high",
                                                                                       "bob@example.org")]
    lead = notice_for(daemon, "bob@example.org", "Abusive mail: Useless printer desk")
    assert "You stupid morons" in text_of(lead) and "insult:moron" in text_of(lead)
    assert lead["Reply-To"].addresses[0].addr_spec.startswith(f"support+t{number}.a2.")
    (ordinary,) = mail_to(daemon, "ray@client.example")
    assert str(ordinary["Subject"]).endswith("] Printer") and "registered it as ticket" in text_of(ordinary)
    assert query(daemon.settings, "select tags from tickets where id = ?", ticket_of(daemon, "ray@client.example")) \
        == [("[]",)]


def test_a_resolved_ticket_is_rated_by_mail_and_the_rating_shows_in_the_report(daemon: ServeProcess,
                                                                               tmp_path: Path) -> None:
    # Billing asks for ratings: Alice resolves from mutt, Sam answers the survey "5 stars", the ticket stays
    # resolved, nobody is mailed again, and `maildesk report` counts the rating.
    send_smtp(daemon, make_mail(sender="Sam <sam@client.example>", to="billing@example.org", subject="Refund for order 77",
                                message_id="sam1"), "sam@client.example", rcpt=("billing@example.org",))
    mutt_reply(daemon, notice_for(daemon, "alice@example.org", "order 77"), "#resolve\nThe refund is sent.",
               tmp_path)
    survey = next(m for m in mail_to(daemon, "sam@client.example", count=3) if "How did we do?" in str(m["Subject"]))
    number = ticket_of(daemon, "sam@client.example")
    send_smtp(daemon, make_mail(sender="sam@client.example", to="billing@example.org", message_id="sam2",
                                subject=f"Re: {survey['Subject']}", body="5 stars, thanks to Alice",
                                In_Reply_To=str(survey["Message-ID"])), "sam@client.example",
              rcpt=("billing@example.org",))
    wait_for(lambda: query(daemon.settings, "select count(*) from events where kind = 'satisfaction' "
                                            "and ticket_id = ?", number) == [(1,)], 10, "the rating on the ticket")
    assert query(daemon.settings, "select status from tickets where id = ?", number) == [("resolved",)]
    assert len(mail_to(daemon, "sam@client.example")) == 3  # ack, answer, survey: nothing for the rating
    report = daemon.cli("report").stdout.decode()
    assert "satisfaction: 1 ratings, mean 5.0 of 5 (5: 1)" in report


def test_a_message_split_off_becomes_its_senders_ticket_and_they_hear_its_number(daemon: ServeProcess) -> None:
    # Uma's second mail raises something new: `tickets split N 2` makes it her new ticket and tells her so.
    send_smtp(daemon, make_mail(sender="Uma <uma@client.example>", subject="Laptop slow", message_id="uma1"),
              "uma@client.example")
    (ack,) = mail_to(daemon, "uma@client.example")
    first = ticket_of(daemon, "uma@client.example")
    send_smtp(daemon, make_mail(sender="Uma <uma@client.example>", subject=f"Re: {ack['Subject']}",
                                body="Also, my badge does not open the door.", message_id="uma2",
                                In_Reply_To=str(ack["Message-ID"])), "uma@client.example")
    wait_for(lambda: query(daemon.settings, "select count(*) from messages where ticket_id = ?", first) == [(2,)],
             10, "Uma's second mail on her ticket")
    done = daemon.cli("tickets", "split", str(first), "2", "--as", "root")
    assert done.returncode == 0, done.stderr
    second = ticket_of(daemon, "uma@client.example")
    told = mail_to(daemon, "uma@client.example", count=2)[1]
    assert str(told["Subject"]) == f"[#{second}] Laptop slow" and f"apart from [#{first}]" in text_of(told)
    assert query(daemon.settings, "select ticket_id from messages where message_id = 'uma2@client.example'") == [
        (second,)]
