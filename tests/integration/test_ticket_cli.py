"""`maildesk tickets …` run in-process on a real SQLite desk: what admins see of a ticket and change on it."""

from __future__ import annotations

import getpass
import json
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import (
    ALICE,
    BOB,
    NOW,
    OUTAGE_RULE,
    SECRET,
    URGENT_AND_STANDARD_SLAS,
    DeskFactory,
    mail,
    make_mail,
    plain_text,
    query,
    receive,
    sent,
    token,
)

from maildesk.cli.app import main
from maildesk.runtime.wiring import Runtime
from maildesk.sweep.sla import sweep_tickets


def cli(rt: Runtime, *args: str) -> Result:
    """`maildesk --config … ARGS` in this process, as an admin types it."""
    return CliRunner().invoke(main, ["--config", str(rt.settings.path), *args], catch_exceptions=False)


def test_open_notice_says_again_only_for_a_ticket_that_was_open_before(make_desk: DeskFactory) -> None:
    # A new ticket taken up is "open"; one that comes back from pending is "open again".
    rt = make_desk()
    receive(rt, make_mail(message_id="b1"))
    for status in ("open", "pending", "open"):
        assert cli(rt, "tickets", "set-status", "1", status).exit_code == 0
    first, again = (plain_text(m) for m in sent(rt, "status_open"))
    assert "[#1] is open." in first and "again" not in first
    assert "[#1] is open again." in again


def test_sweep_at_a_future_instant_only_previews(make_desk: DeskFactory) -> None:
    # `sweep --at` next year refuses to act (one line, exit 2) and writes nothing; with --dry-run it previews.
    rt = make_desk()
    receive(rt, make_mail(message_id="b1"))
    refused = cli(rt, "sweep", "--at", "2999-01-01")
    assert refused.exit_code == 2 and refused.output.count("\n") == 1
    assert "is in the future: only --dry-run may look ahead" in refused.output
    assert query(rt.settings, "select count(*) from events where actor = 'system:sweep'") == [(0,)]
    preview = cli(rt, "sweep", "--at", "2999-01-01", "--dry-run")
    assert preview.exit_code == 0 and "would take" in preview.output


SLA = OUTAGE_RULE + URGENT_AND_STANDARD_SLAS


@pytest.fixture
def desk(make_desk: DeskFactory) -> Runtime:
    """Agents Alice (1) and Bob (2); ticket 1 a request from Carol, ticket 2 an incident from Dan."""
    rt = make_desk(SLA, agents=(ALICE, BOB), instance="CUSTOMS")
    receive(rt, make_mail(sender="Carol <carol@client.example>", message_id="c1"), "carol@client.example")
    receive(rt, make_mail(sender="dan@client.example", subject="Mail", body="The mail server is down.",
                          message_id="d1"), "dan@client.example")
    return rt


def test_assignee_shows_in_show_list_and_json_and_filters(desk: Runtime) -> None:
    # `tickets assign 1 alice --as root` gives ticket 1 to Alice: show, list and JSON name her; --assignee narrows.
    done = cli(desk, "tickets", "assign", "1", "alice", "--as", "root")
    assert done.exit_code == 0 and done.output == "#1 is now assigned to alice@example.org\n"
    assert "assignee Alice <alice@example.org>" in cli(desk, "tickets", "show", "1").output
    shown = json.loads(cli(desk, "tickets", "show", "1", "--json").output)
    assert shown["assignee"] == {"email": "alice@example.org", "name": "Alice"}
    listed = {r["id"]: r["assignee"] for r in json.loads(cli(desk, "tickets", "list", "--json").output)}
    assert listed == {1: "alice@example.org", 2: None}
    header, _, second = cli(desk, "tickets", "list").output.splitlines()  # newest first, under the header row
    assert header.split() == ["ID", "STATUS", "PRIORITY", "CATEGORY", "UPDATED", "REQUESTER", "ASSIGNEE", "SUBJECT"]
    assert "alice@example.org" in second
    for wanted, ids in (("alice@example.org", [1]), ("Alice", [1]), ("none", [2]), ("bob", [])):
        rows = json.loads(cli(desk, "tickets", "list", "--json", "--assignee", wanted).output)
        assert [r["id"] for r in rows] == ids, wanted
    mine = json.loads(cli(desk, "tickets", "list", "--json", "--assignee", "me", "--as", "alice").output)
    assert [r["id"] for r in mine] == [1]
    assert query(desk.settings, "select actor, kind, detail from events where kind = 'assign'") == [
        ("admin:root", "assign", '{"new": "alice@example.org"}')]


def test_assign_none_and_unknown_agents(desk: Runtime) -> None:
    # "none" takes a ticket back; an unknown agent is one line, exit 2, and changes nothing.
    cli(desk, "tickets", "assign", "1", "bob")
    assert cli(desk, "tickets", "assign", "#1", "none").output == "#1 is now unassigned\n"
    refused = cli(desk, "tickets", "assign", "1", "zed")
    assert (refused.exit_code, refused.output) == (2, "maildesk: no active agent 'zed'\n")
    assert query(desk.settings, "select assignee_id from tickets where id = 1") == [(None,)]


def test_the_acting_admin_defaults_to_the_login_name(desk: Runtime) -> None:
    # Without --as, the status change is recorded in the name of whoever ran the command.
    assert cli(desk, "tickets", "set-status", "2", "open").exit_code == 0
    (actor,) = query(desk.settings, "select actor from events where kind = 'status'")[0]
    assert actor == f"admin:{getpass.getuser()}"


def test_show_gives_the_sla_policy_due_times_and_breach(desk: Runtime) -> None:
    # The incident's 1h first response passes unanswered: show says so, and --breached and --due-before find it.
    shown = json.loads(cli(desk, "tickets", "show", "2", "--json").output)["sla"]
    assert shown["policy"] == "urgent" and shown["breached"] is False
    assert shown["first_response"] == {"due": "2026-11-20T11:00:00+00:00", "at": None, "state": "open"}
    assert shown["resolution"]["due"] == "2026-11-20T14:00:00+00:00" and shown["paused_seconds"] == 0
    due_soon = json.loads(cli(desk, "tickets", "list", "--json", "--due-before", "2026-11-20T12:00").output)
    assert [r["id"] for r in due_soon] == [2]
    sweep_tickets(desk.desk, NOW + timedelta(hours=2))
    text = cli(desk, "tickets", "show", "2").output
    assert "sla urgent · BREACHED · paused 0m" in text
    assert "first response due 2026-11-20 11:00 UTC · missed" in text
    assert "resolution     due 2026-11-20 14:00 UTC · open" in text
    assert [r["id"] for r in json.loads(cli(desk, "tickets", "list", "--json", "--breached").output)] == [2]


def test_the_number_as_the_requester_sees_it_and_the_type_filter(desk: Runtime) -> None:
    # "[CUSTOMS #1]", "#1" and "1" name ticket 1 in show and list --text; --type keeps incidents apart.
    for number in ("[CUSTOMS #1]", "#1", "1", "CUSTOMS #1"):
        assert json.loads(cli(desk, "tickets", "show", number, "--json").output)["id"] == 1
        rows = json.loads(cli(desk, "tickets", "list", "--json", "--text", number).output)
        assert [r["id"] for r in rows] == [1], number
    assert [r["id"] for r in json.loads(cli(desk, "tickets", "list", "--json", "--type", "incident").output)] == [2]
    assert [r["id"] for r in json.loads(cli(desk, "tickets", "list", "--json", "--type", "request").output)] == [1]


@pytest.mark.parametrize(("args", "message"), [
    (("tickets", "show", "[OTHER #1]"), "'[OTHER #1]' is not a ticket number of this desk"),
    (("tickets", "show", "one"), "'one' is not a ticket number of this desk"),
    (("tickets", "list", "--limit", "many"), "tickets list: Invalid value for '--limit': 'many' is not a valid"),
    (("tickets", "list", "--type", "problem"), "unknown type 'problem' (request or incident)"),
    (("tickets", "set-status", "1", "lost"), "tickets set-status: Invalid value for 'STATUS': 'lost' is not one of"),
    (("tickets", "assign", "1"), "tickets assign: Missing argument 'AGENT|me|none'."),
    (("tickets", "list", "--due-before", "soon"), "'soon' is not a date"),
])
def test_bad_values_are_one_line_and_exit_2(desk: Runtime, args: tuple[str, ...], message: str) -> None:
    # What click would answer with its usage and a hint is one line starting "maildesk:", as every other error.
    result = cli(desk, *args)
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert result.output.startswith("maildesk: ") and message in result.output


def _with_files(rt: Runtime) -> None:
    """Ticket 1 from Carol with invoice.pdf, then her reply with a file named to escape the folder."""
    receive(rt, mail("Carol <carol@client.example>", "support@example.org", "Invoice", "See attached.",
                     pdf=b"%PDF-1.4 invoice"), "carol@client.example")
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "carol@client.example", "support@example.org", "Re: [#1] Invoice"
    msg["Message-ID"] = "<c2@client.example>"
    msg.set_content("And the script they asked for.")
    msg.add_attachment(b"#!/bin/sh\necho hi\n", maintype="text", subtype="x-sh", filename="../../.profile.sh")
    receive(rt, msg.as_bytes(), "carol@client.example")


def test_show_numbers_the_files_and_attachment_writes_one_safely(make_desk: DeskFactory, tmp_path: Path) -> None:
    # File 2 ("../../.profile.sh") comes out as "profile.sh" in the folder given, once; again only with
    # --force; "-" is stdout.
    rt = make_desk()
    _with_files(rt)
    shown = cli(rt, "tickets", "show", "1").output
    assert "    1  invoice.pdf  application/pdf  16 B  (message 1)" in shown
    assert "    2  profile.sh  text/x-sh  18 B  (message 2)" in shown  # the name was made safe as it came
    files = json.loads(cli(rt, "tickets", "show", "1", "--json").output)["attachments"]
    assert [(f["index"], f["message"], f["size"]) for f in files] == [(1, 1, 16), (2, 2, 18)]
    out = tmp_path / "out"
    out.mkdir()
    assert cli(rt, "tickets", "attachment", "1", "2", "-o", str(out)).output == \
        f"{out / 'profile.sh'}: 18 bytes, text/x-sh\n"
    assert (out / "profile.sh").read_bytes() == b"#!/bin/sh\necho hi\n" and not (tmp_path / ".profile.sh").exists()
    again = cli(rt, "tickets", "attachment", "1", "2", "-o", str(out))
    assert (again.exit_code, again.output) == (2, f"maildesk: {out / 'profile.sh'} is already there (--force "
                                                  "overwrites it)\n")
    (out / "profile.sh").write_bytes(b"mine")
    assert cli(rt, "tickets", "attachment", "1", "2", "-o", str(out), "--force").exit_code == 0
    assert (out / "profile.sh").read_bytes() == b"#!/bin/sh\necho hi\n"
    assert cli(rt, "tickets", "attachment", "#1", "1", "-o", "-").stdout_bytes == b"%PDF-1.4 invoice"
    missing = cli(rt, "tickets", "attachment", "1", "3")
    assert (missing.exit_code, missing.output) == (2, "maildesk: ticket #1 has 2 files; 3 is not one of them\n")


def test_attachments_by_mail_carry_what_fits_and_name_the_rest(make_desk: DeskFactory) -> None:
    # "#attachments 2 1" sends file 2 and names the 11 MiB file 1, over a notice's 10 MiB; refused numbers say why.
    rt = make_desk(agents=(ALICE,), secret=SECRET)
    big = mail("carol@client.example", "support@example.org", "Dump", "Here.", pdf=b"%" * (11 << 20))
    receive(rt, big, "carol@client.example", max_size=len(big))
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "carol@client.example", "support@example.org", "Re: [#1] Dump"
    msg["Message-ID"] = "<c3@client.example>"
    msg.set_content("The log.")
    msg.add_attachment(b"line 1\n", maintype="text", subtype="plain", filename="app.log")
    receive(rt, msg.as_bytes(), "carol@client.example")
    receive(rt, mail("Alice <alice@example.org>", token(1, 1), "Re: [#1] Dump", "#attachments 2 1",
                     id_domain="example.org"), "alice@example.org", rcpt=token(1, 1))
    (notice,) = sent(rt, "agent_attachments")
    assert [a.get_filename() for a in notice.iter_attachments()] == ["app.log"]
    text = plain_text(notice)
    assert "2. app.log (7 B)" in text and "Not attached, as a notice carries at most 10.0 MiB:" in text
    assert "1. invoice.pdf (11.0 MiB)" in text and notice["Reply-To"].addresses[0].addr_spec == token(1, 1)
    assert query(rt.settings, "select detail from events where kind = 'attachments'") == [('{"files": [2, 1]}',)]
    receive(rt, mail("Alice <alice@example.org>", token(1, 1), "Re: [#1] Dump", "#attachments 7",
                     id_domain="example.org"), "alice@example.org", rcpt=token(1, 1))
    (error,) = sent(rt, "agent_error")
    assert "#attachments: this ticket has 2 files, not 7" in plain_text(error)


@pytest.fixture
def two(make_desk: DeskFactory) -> Runtime:
    """Ticket 1 from Carol (Dan copied, who replied), ticket 2 from Erin about the same outage."""
    rt = make_desk(agents=(ALICE,), secret=SECRET)
    receive(rt, make_mail(sender="Carol <carol@client.example>", subject="Printers down", message_id="c1",
                          Cc="dan@client.example"), "carol@client.example")
    receive(rt, make_mail(sender="erin@client.example", subject="No printing", message_id="e1"),
            "erin@client.example")
    receive(rt, make_mail(sender="dan@client.example", subject="Re: [#1] Printers down", message_id="d1",
                          body="Also my scanner is dead."), "dan@client.example")
    return rt


def test_merge_moves_the_thread_closes_with_a_link_and_tells_the_merged_tickets_people_once(two: Runtime) -> None:
    # `tickets merge 1 2`: #1's mail, events and people go to #2; #1 closes "merged"; Carol and Dan get one notice.
    done = cli(two, "tickets", "merge", "1", "[#2]", "--as", "root")
    assert done.stdout == "#1 is merged into #2; notice queued (1)\n"
    assert query(two.settings, "select id, status, close_reason, linked_ticket_id from tickets order by id") == [
        (1, "closed", "merged", 2), (2, "new", "", None)]
    assert query(two.settings, "select count(*) from messages where ticket_id = 2") == [(3,)]
    people = query(two.settings, "select c.email, p.role from participants p join contacts c on c.id = "
                                 "p.contact_id where p.ticket_id = 2 order by p.id")
    assert people == [("erin@client.example", "requester"), ("carol@client.example", "cc"),
                      ("dan@client.example", "cc")]
    (moved,) = [json.loads(str(d)) for (d,) in query(two.settings, "select detail from events "
                                                                   "where kind = 'merged_from' and ticket_id = 2")]
    assert moved == {"from": 1, "messages": 2, "events": 2,
                     "participants": ["carol@client.example", "dan@client.example"]}
    assert [k for (k,) in query(two.settings, "select kind from events where ticket_id = 1 order by id")] == [
        "status", "merged_into"]
    (notice,) = sent(two, "merged")
    assert (str(notice["To"]), str(notice["Cc"])) == ("Carol <carol@client.example>", "dan@client.example")
    assert "so we now handle both as [#2]" in plain_text(notice).replace("\n", " ")
    assert "merged into #2" in cli(two, "tickets", "show", "1").output
    assert json.loads(cli(two, "tickets", "show", "1", "--json").output)["linked_ticket"] == 2


@pytest.mark.parametrize(("args", "message"), [
    (("1", "1"), "#1 cannot be merged into itself"),
    (("1", "9"), "no ticket #9"),
    (("3", "1"), "no ticket #3"),
])
def test_a_merge_that_cannot_be_is_one_line(two: Runtime, args: tuple[str, str], message: str) -> None:
    # Nothing changes and the admin reads why.
    refused = cli(two, "tickets", "merge", *args)
    assert (refused.exit_code, refused.output) == (2, f"maildesk: {message}\n")
    assert query(two.settings, "select count(*) from events where kind like 'merged%'") == [(0,)]


def test_merging_twice_points_at_the_ticket_that_holds_the_mail(two: Runtime) -> None:
    # #1 into #2, then #2 asked as a target again is fine, but #1 cannot be merged a second time.
    cli(two, "tickets", "merge", "1", "2")
    again = cli(two, "tickets", "merge", "1", "2")
    assert again.output == "maildesk: #1 is already merged into #2\n"


def test_split_makes_one_message_a_ticket_of_its_own(two: Runtime) -> None:
    # Dan's "my scanner is dead" (message 2 of #1) becomes #3: his, linked to #1, and he is told the number.
    done = cli(two, "tickets", "split", "1", "2", "--as", "root")
    assert done.stdout == "message 2 of #1 is now #3; notice queued (1)\n"
    assert query(two.settings, "select subject, linked_ticket_id, status from tickets where id = 3") == [
        ("Printers down", 1, "new")]
    assert query(two.settings, "select ticket_id from messages where message_id = 'd1@client.example'") == [(3,)]
    assert json.loads(cli(two, "tickets", "show", "3", "--json").output)["participants"] == [
        {"email": "dan@client.example", "role": "requester"}]
    (notice,) = sent(two, "split")
    assert str(notice["To"]) == "dan@client.example" and str(notice["Subject"]) == "[#3] Printers down"
    assert "a ticket of its own, [#3], apart from [#1]" in plain_text(notice).replace("\n", " ")
    kinds = query(two.settings, "select ticket_id, actor, kind from events where kind like 'split%' order by id")
    assert kinds == [(3, "admin:root", "split_from"), (1, "admin:root", "split_to")]
    for args, message in ((("1", "9"), "ticket #1 has 1 messages; 9 is not one of them"),
                          (("2", "1"), "#2 has only one message: there is nothing to split off")):
        refused = cli(two, "tickets", "split", *args)
        assert (refused.exit_code, refused.output) == (2, f"maildesk: {message}\n")


def test_mail_about_the_merged_ticket_lands_on_the_one_it_went_into(two: Runtime) -> None:
    # After #1 went into #2, Carol's "Re: [#1]" and a reply citing only #1's acknowledgement both land on #2.
    ack = sent(two, "ack")[0]
    cli(two, "tickets", "merge", "1", "2")
    out = receive(two, make_mail(sender="carol@client.example", subject="Re: [#1] Printers down", message_id="c2",
                                 body="Any news?"), "carol@client.example")
    cited = receive(two, make_mail(sender="dan@client.example", subject="Printers", message_id="d2",
                                   body="Still down.", In_Reply_To=str(ack["Message-ID"])), "dan@client.example")
    assert (out.ticket_id, cited.ticket_id) == (2, 2)
    assert query(two.settings, "select count(*) from tickets") == [(2,)]
    assert query(two.settings, "select status from tickets where id = 1") == [("closed",)]


def test_a_third_partys_answer_to_a_merged_ticket_lands_on_the_one_it_went_into(two: Runtime) -> None:
    # Alice forwarded #1 to a vendor, then #1 went into #2: the vendor's answer is kept internal on #2.
    receive(two, mail("Alice <alice@example.org>", token(1, 1), "Re: [#1] Printers down",
                      "#forward vendor@printers.example\nCan you help with this model?", id_domain="example.org"),
            "alice@example.org", rcpt=token(1, 1))
    (forward,) = sent(two, "third_party_forward")
    reply_to = forward["Reply-To"].addresses[0].addr_spec
    cli(two, "tickets", "merge", "1", "2")
    answer = mail("vendor@printers.example", reply_to, "Re: [#1] forward", "Replace the cable.",
                  id_domain="printers.example")
    out = receive(two, answer, "vendor@printers.example", rcpt=reply_to)
    assert out.ticket_id == 2
    assert query(two.settings, "select ticket_id, direction, verdict from messages "
                               "where from_email = 'vendor@printers.example'") == [(2, "internal", "third_party")]
    (notice,) = sent(two, "third_party_reply")  # to Alice, who forwarded, about the ticket that holds it now
    assert "alice@example.org" in str(notice["To"]) and "[#2]" in str(notice["Subject"])
