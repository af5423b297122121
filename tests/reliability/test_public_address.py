"""A public support address under attack, against the real daemon over SMTP: forged senders aimed at
strangers, robots that change their address, a forged "solved", idle connections, large mail, broken
templates and hostile parsing edges. In every test nothing is lost: each mail that got 250 is on a
ticket or in quarantine with its reason."""

from __future__ import annotations

import email.policy
import hashlib
import json
import os
import re
import smtplib
import socket
import time
from collections.abc import Callable
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import ServeProcess, make_mail, outbox_files, query, send_smtp, wait_for

from maildesk.config import Settings

BRAKES = ("[brakes]\nanswers_per_domain_per_hour = 5\nanswers_per_client_per_hour = 8\n"
          "answers_per_fingerprint_per_day = 3\n")
Serve = Callable[..., ServeProcess]


def assert_nothing_lost(settings: Settings, received: int) -> None:
    """Every stored mail is done on a ticket or quarantined with its reason, and all `received` are there."""
    rows = query(settings, "select state, ticket_id, error from inbound")
    assert len(rows) == received
    lost = [r for r in rows if not ((r[0] == "done" and r[1] is not None) or (r[0] == "quarantined" and r[2]))]
    assert not lost, lost


def processed(settings: Settings, count: int) -> Callable[[], bool]:
    return lambda: query(settings, "select count(*) from inbound where state != 'received'") == [(count,)]


def acks(settings: Settings) -> list[EmailMessage]:
    rows = query(settings, "select raw from outbox where kind = 'ack' order by id")
    return [message_from_bytes(bytes(raw), policy=email.policy.default) for (raw,) in rows]  # type: ignore


def events(settings: Settings, kind: str) -> list[str]:
    return [str(r) for (r,) in query(settings, "select reason from events where kind = ? order by id", kind)]


def client(daemon: ServeProcess, source: str = "127.0.0.1") -> smtplib.SMTP:
    """An SMTP client of the daemon connecting from loopback address `source`."""
    smtp = daemon.settings.smtp
    return smtplib.SMTP(smtp.host, smtp.port, timeout=10, source_address=(source, 0))


def test_forged_senders_get_no_backscatter(serve: Serve) -> None:
    # 12 mails in one session forge From: at victim.example (envelope elsewhere): acks stop at the
    # domain limit and carry none of the attacker's text; 10 more from another client, each at its own
    # domain, stop at the client limit; an aligned sender still gets the usual acknowledgement.
    daemon = serve(BRAKES.replace("fingerprint_per_day = 3", "fingerprint_per_day = 50")).start()
    spam = "CHEAP PILLS at pills.example"
    with client(daemon) as smtp:
        for i in range(12):
            raw = make_mail(sender=f'"{spam}" <victim{i}@victim.example>', subject=spam, body=f"{spam}\nBuy now")
            smtp.sendmail("bulk@spammer.example", [daemon.settings.desk.address], raw)
    with client(daemon, "127.0.0.2") as smtp:
        for i in range(10):
            raw = make_mail(sender=f"v@victim{i}.example", subject=spam, body=f"Order {i}: {spam}")
            smtp.sendmail("bulk@spammer.example", [daemon.settings.desk.address], raw)
    send_smtp(daemon, make_mail(sender="Bob <bob@client.example>"), mail_from="bounces@mx.client.example")
    wait_for(processed(daemon.settings, 23), 30, "23 mails processed")
    sent = acks(daemon.settings)
    to_victim = [m for m in sent if str(m["To"]).endswith("@victim.example")]
    to_others = [m for m in sent if "@victim" in str(m["To"]) and m not in to_victim]
    assert len(to_victim) == 5 and len(to_others) == 8
    for ack in to_victim + to_others:
        text = ack.as_string() + str(ack.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        assert "PILLS" not in text and "pills" not in text and "Buy" not in text and "Order" not in text
    (bob,) = [m for m in sent if "bob@client.example" in str(m["To"])]
    assert "Printer broken" in str(bob["Subject"]) and "Bob" in str(bob["To"])
    brakes = events(daemon.settings, "brake")
    assert len(brakes) == 9 and any("to victim.example" in b for b in brakes)
    assert any("from that client" in b for b in brakes)
    assert len(events(daemon.settings, "ack_unverified")) == 22
    assert_nothing_lost(daemon.settings, 23)


def _robot_round(daemon: ServeProcess, seen: int) -> list[bytes]:
    """Our mail delivered to the outbox since `seen` (the robot's inbox), once every mail the daemon
    received is processed and nothing waits to be delivered."""
    received = len(query(daemon.settings, "select id from inbound"))
    wait_for(processed(daemon.settings, received), 30, "every mail processed")
    wait_for(lambda: query(daemon.settings, "select count(*) from outbox where state = 'pending'") == [(0,)],
             30, "every answer delivered")
    return outbox_files(daemon.settings)[seen:]


def test_robot_at_a_new_address_every_time_is_stopped(serve: Serve) -> None:
    # A robot answers every mail of ours from a new address at a new domain, without Auto-Submitted
    # or threading: the fingerprint brake stops the loop after 3 other addresses; a brake event says so.
    daemon = serve(BRAKES).start()
    rounds, seen = 0, 0
    mail = make_mail(sender="robot0@bots0.example", subject="Hello")
    while mail is not None and rounds < 30:  # hard stop: a regression cannot flood anything
        rounds += 1
        send_smtp(daemon, mail, mail_from=f"robot{rounds}@bots{rounds}.example")
        ours = _robot_round(daemon, seen)
        seen += len(ours)
        mail = make_mail(sender=f"robot{rounds}@bots{rounds}.example", subject=f"Re: Thanks, noted ({rounds})",
                         body=f"Your message {rounds * 7919} was received. Reference {rounds}.") if ours else None
    assert rounds <= 6
    assert any("fingerprint" in b for b in events(daemon.settings, "brake"))
    assert_nothing_lost(daemon.settings, rounds)


def test_robot_at_one_address_is_stopped(serve: Serve) -> None:
    # An echo robot at one address answers every ack with a fresh subject: the per-address brake stops it.
    daemon = serve(BRAKES).start()
    rounds, seen, mail = 0, 0, make_mail(sender="echo@bots.example", subject="Hello")
    while mail is not None and rounds < 30:
        rounds += 1
        send_smtp(daemon, mail, mail_from="echo@bots.example")
        ours = _robot_round(daemon, seen)
        seen += len(ours)
        mail = make_mail(sender="echo@bots.example", subject=f"Thanks, noted ({rounds})",
                         body=f"Noted as case {rounds}.") if ours else None
    assert rounds <= 6 and any("brake" in b for b in events(daemon.settings, "brake"))
    assert_nothing_lost(daemon.settings, rounds)


def _relayed(raw: bytes, sender: str, to: str) -> bytes:
    """A desk's mail as a careless forwarder passes it on: no loop or threading headers, and no ticket
    tags in the subject (so neither desk sees its own ticket in it)."""
    msg = message_from_bytes(raw, policy=email.policy.default)
    out = EmailMessage()
    out["From"], out["To"] = sender, to
    out["Subject"] = re.sub(r"\[[^\]]*\]\s*", "", str(msg["Subject"]))
    out["Message-ID"] = f"<{os.urandom(8).hex()}@relay.example>"
    out.set_content(str(msg.get_body(("plain",)).get_content()))  # type: ignore[union-attr]
    return out.as_bytes()


def test_two_desks_looping_through_a_forwarder_stop(serve: Serve, tmp_path: Path) -> None:
    # Two desks acknowledge each other's acknowledgements through a forwarder that drops Auto-Submitted,
    # our loop header, threading and ticket tags: the brakes end the loop within their limits.
    ours = serve(BRAKES).start()
    (tmp_path / "b").mkdir()
    other_conf = tmp_path / "b" / "maildesk.conf"
    other_conf.write_text(ours.config_path.read_text().replace("support@example.org", "help@other.example")
                          .replace(str(ours.settings.smtp.port), str(_free_port())), encoding="utf-8")
    other = ServeProcess(other_conf)
    assert other.cli("init").returncode == 0
    other.start()
    try:
        desks, seen = [ours, other], [0, 0]
        send_smtp(ours, make_mail(sender="help@other.example", subject="Hello"), mail_from="help@other.example")
        rounds = 0
        for rounds in range(1, 40):  # hard stop: a regression cannot flood anything
            index = (rounds - 1) % 2
            daemon, target = desks[index], desks[1 - index]
            new = _robot_round(daemon, seen[index])
            seen[index] += len(new)
            if not new:
                break
            sender, to = daemon.settings.desk.address, target.settings.desk.address
            for raw in new:  # the forwarder: what one desk sends the other gets, stripped
                send_smtp(target, _relayed(raw, sender, to), mail_from=sender, rcpt=(to,))
        assert rounds < 30
        for desk in desks:
            _robot_round(desk, 0)
            assert_nothing_lost(desk.settings, len(query(desk.settings, "select id from inbound")))
        assert seen[0] + seen[1] <= 22 and any(events(d.settings, "brake") for d in desks)
    finally:
        other.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _open_ticket(daemon: ServeProcess) -> EmailMessage:
    send_smtp(daemon, make_mail(sender="Carol <carol@client.example>", message_id="c1"),
              mail_from="carol@client.example")
    wait_for(lambda: len(acks(daemon.settings)) == 1, 20, "the acknowledgement")
    return acks(daemon.settings)[0]


def test_forged_solved_does_not_close_the_ticket(serve: Serve) -> None:
    # Anyone can write "solved" as Carol with [#1] in the subject: kept as a reply, the ticket stays open,
    # Carol is told how to close it; her answer to that notice (its signed Reply-To) closes it.
    daemon = serve().start()
    ack = _open_ticket(daemon)
    assert "+t1.r" in str(ack["Reply-To"])
    forged = make_mail(sender="Carol <carol@client.example>", subject="Re: [#1] Printer broken", body="solved")
    send_smtp(daemon, forged, mail_from="carol@client.example")
    wait_for(processed(daemon.settings, 2), 20, "the forged mail processed")
    assert query(daemon.settings, "select status from tickets where id = 1") != [("closed",)]
    assert any("not carried out" in r for r in events(daemon.settings, "requester_command"))
    rows = query(daemon.settings, "select raw from outbox where kind = 'how_to_close'")
    assert len(rows) == 1
    notice = message_from_bytes(bytes(rows[0][0]), policy=email.policy.default)  # type: ignore[arg-type]
    token = notice["Reply-To"].addresses[0].addr_spec
    answer = make_mail(sender="Carol <carol@client.example>", to=token, subject="Re: [#1] Printer broken",
                       body="Solved, thanks!")
    send_smtp(daemon, answer, mail_from="carol@client.example", rcpt=(token,))
    wait_for(lambda: query(daemon.settings, "select status from tickets where id = 1") == [("closed",)], 20,
             "the proven solved to close the ticket")
    assert_nothing_lost(daemon.settings, 3)


def test_solved_citing_our_mail_closes_the_ticket(serve: Serve) -> None:
    # A reply that cites the acknowledgement we sent Carol (References) proves itself without the token.
    daemon = serve().start()
    ack = _open_ticket(daemon)
    reply = make_mail(sender="carol@client.example", subject="Re: [#1] Printer broken", body="solved",
                      In_Reply_To=str(ack["Message-ID"]), References=str(ack["Message-ID"]))
    send_smtp(daemon, reply, mail_from="carol@client.example")
    wait_for(lambda: query(daemon.settings, "select status from tickets where id = 1") == [("closed",)], 20,
             "the cited solved to close the ticket")
    assert_nothing_lost(daemon.settings, 2)


def test_idle_sessions_from_one_address_leave_others_served(serve: Serve) -> None:
    # 200 idle connections from 127.0.0.1: past the per-client limits they hear 421 at once; a fresh
    # client from 127.0.0.2 is served at once and its mail is stored.
    daemon = serve().start()
    address = (daemon.settings.smtp.host, daemon.settings.smtp.port)
    idle, refused = [], 0
    try:
        for _ in range(200):
            sock = socket.create_connection(address, timeout=5, source_address=("127.0.0.1", 0))
            greeting = sock.recv(1024)
            refused += greeting.startswith(b"421")
            idle.append(sock)
        assert refused >= 150
        started = time.monotonic()
        with client(daemon, "127.0.0.2") as smtp:
            smtp.sendmail("bob@client.example", [daemon.settings.desk.address], make_mail())
        assert time.monotonic() - started < 2
    finally:
        for sock in idle:
            sock.close()
    wait_for(processed(daemon.settings, 1), 20, "the mail processed")
    assert_nothing_lost(daemon.settings, 1)


def test_large_mail_is_spooled_to_disk_and_stored_whole(serve: Serve) -> None:
    # A 23 MB message passes through a spool file under data_dir (not held whole in memory) and is
    # stored byte for byte; the spool is empty afterwards.
    daemon = serve().start()
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "bob@client.example", "support@example.org", "Big file"
    msg["Message-ID"] = "<big@client.example>"
    msg.set_content("The scan is attached.")
    msg.add_attachment(os.urandom(17 * 1024 * 1024), maintype="application", subtype="octet-stream",
                       filename="scan.bin")
    raw = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    send_smtp(daemon, raw, timeout=60)
    stored = query(daemon.settings, "select raw from inbound")[0][0]
    assert hashlib.sha256(bytes(stored)).digest() == hashlib.sha256(raw).digest()  # type: ignore[arg-type]
    spool = daemon.settings.desk.data_dir / "spool"
    assert spool.is_dir() and not list(spool.iterdir())
    wait_for(processed(daemon.settings, 1), 60, "the mail processed")
    assert_nothing_lost(daemon.settings, 1)


def test_a_broken_template_stops_serve_and_doctor(serve: Serve, tmp_path: Path) -> None:
    # A syntax error in one override and an unknown variable in another: serve refuses to start and
    # doctor exits 1, each naming the file and line.
    folder = tmp_path / "tpl"
    (folder / "uk").mkdir(parents=True)
    (folder / "uk" / "ack.txt.j2").write_text("Subject: {{ tagged_subject }}\n\n{% if x %}\n", encoding="utf-8")
    (folder / "en").mkdir()
    (folder / "en" / "reminder.txt.j2").write_text("Subject: x\n\nHi\n{{ ticket_owner }}\n", encoding="utf-8")
    daemon = serve(templates_dir=str(folder))
    doctor = daemon.cli("doctor")
    out = doctor.stdout.decode()
    assert doctor.returncode == 1 and "FAIL templates" in out
    assert f"{folder}/uk/ack.txt.j2:3" in out and f"{folder}/en/reminder.txt.j2:4" in out
    with pytest.raises(AssertionError, match="exited"):
        daemon.start()
    assert daemon.proc is not None and daemon.proc.returncode != 0
    assert "uk/ack.txt.j2:3" in daemon.log.read_text()


def test_a_template_failing_at_run_time_costs_no_ticket(serve: Serve, tmp_path: Path) -> None:
    # An override that renders with the samples but divides by zero for a mail without files: the
    # ticket is made, the failure is on it with file and line, and the admin is told once.
    folder = tmp_path / "tpl"
    (folder / "en").mkdir(parents=True)
    (folder / "en" / "ack.txt.j2").write_text("Subject: {{ tagged_subject }}\n\n{{ 100 // attachments|length }}\n",
                                              encoding="utf-8")
    daemon = serve(templates_dir=str(folder), admin="admin@example.org").start()
    send_smtp(daemon, make_mail(subject="One"))
    send_smtp(daemon, make_mail(subject="Two"))
    wait_for(processed(daemon.settings, 2), 20, "two mails processed")
    assert query(daemon.settings, "select count(*) from tickets") == [(2,)]
    failed = events(daemon.settings, "notice_failed")
    assert len(failed) == 2 and all(f"{folder}/en/ack.txt.j2:3" in f for f in failed)
    alerts = query(daemon.settings, "select rcpt_to from outbox where kind = 'template_failed'")
    assert [json.loads(str(r)) for (r,) in alerts] == [["admin@example.org"]]
    assert_nothing_lost(daemon.settings, 2)


def test_parsing_edges(serve: Serve) -> None:
    # A byte-order mark before the header, a right-to-left override in a file name, a 20,000-character
    # subject without spaces, and an Authentication-Results whose quoted string hides "dkim=pass":
    # the mail is read, the name reaches agents without the override, every line we write is at most
    # 998 octets, and the forged pass does not make the sender an agent.
    daemon = serve('[agents]\ntrusted_hosts = ["mx.example.org"]\nproofs = ["token", "auth-results"]\n')
    assert daemon.cli("agents", "add", "alice@example.org", "--name", "Alice").returncode == 0
    daemon.start()
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Carol <carol@client.example>", "support@example.org", "S" * 20000
    msg["Message-ID"] = "<edge@client.example>"
    msg.set_content("See the invoice.")
    msg.add_attachment(b"MZ", maintype="application", subtype="octet-stream", filename="invoice\u202egpj.exe")
    send_smtp(daemon, b"\xef\xbb\xbf" + msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")),
              mail_from="carol@client.example")
    # Ticket 1 exists before the forgery naming it arrives (worker threads could otherwise finish
    # the small forged mail first).
    wait_for(processed(daemon.settings, 1), 20, "the first mail processed")
    forged = make_mail(sender="alice@example.org", subject="Re: [#1] x", body="#close",
                       Authentication_Results='mx.example.org; dkim=fail reason="; dkim=pass header.d=example.org"')
    send_smtp(daemon, forged, mail_from="alice@example.org")
    wait_for(processed(daemon.settings, 2), 20, "two mails processed")
    assert query(daemon.settings, "select subject from tickets where id = 1") == [("S" * 2000,)]  # kept whole up to 2000
    assert query(daemon.settings, "select filename from attachments") == [("invoicegpj.exe",)]
    for (raw,) in query(daemon.settings, "select raw from outbox"):
        assert max(len(line) for line in bytes(raw).split(b"\r\n")) <= 998  # type: ignore[arg-type]
    assert events(daemon.settings, "agent_auth_failed")
    assert query(daemon.settings, "select status from tickets where id = 1") != [("closed",)]
    assert_nothing_lost(daemon.settings, 2)
