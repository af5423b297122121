"""Amplification under attack: how many mails the desk sends per mail an attacker sends it.

    .venv/bin/python bench/abuse.py [--flood 300]

Starts a fresh `maildesk serve` with the default limits (SQLite, Maildir outbox) and plays each
attack against it over SMTP: forged From: addresses at one domain (backscatter), forged senders at a
new domain each time from one client, a robot that answers every mail of ours from one address, a
robot that answers from a new address at a new domain each time, and "solved" forged in the name of
a ticket's requester. For each it prints the mails in, the mails out (outbox rows, each recipient
counted), the factor, and the mails out for the mails past the limit that applies. Every factor is
at most 1, and past the limit the backscatter rows are 0. Exits 1 when a row says otherwise.
"""

from __future__ import annotations

import argparse
import os
import random
import smtplib
import sqlite3
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ingest.py's helpers, run from anywhere
from ingest import free_port, wait_port

ROOT = Path(__file__).resolve().parents[1]
DESK = "support@example.org"


def mail(sender: str, subject: str, body: str, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, DESK, subject
    msg["Message-ID"] = f"<{os.urandom(8).hex()}@attacker.example>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


@dataclass
class Desk:
    """A running daemon and its database."""

    port: int
    db: Path
    proc: subprocess.Popen[bytes]

    def rows(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.db, timeout=30) as conn:
            return conn.execute(sql, args).fetchall()

    def send(self, raws: list[bytes], mail_from: str, client_address: str = "127.0.0.1") -> None:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=60, source_address=(client_address, 0)) as client:
            for raw in raws:
                client.sendmail(mail_from, [DESK], raw)

    def settle(self) -> None:
        """Until every mail received is processed and nothing waits to be delivered."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            waiting = self.rows("select (select count(*) from inbound where state = 'received') + "
                                "(select count(*) from outbox where state = 'pending')")[0][0]
            if waiting == 0:
                return
            time.sleep(0.1)
        raise SystemExit("the desk did not settle in 300 s")

    def out_since(self, outbox_id: int) -> int:
        """Recipients of the mail written after outbox row `outbox_id`."""
        return sum(len(str(r).split(",")) for (r,) in self.rows("select rcpt_to from outbox where id > ?",
                                                                 outbox_id))

    def last_outbox(self) -> int:
        return int(self.rows("select coalesce(max(id), 0) from outbox")[0][0])  # type: ignore[call-overload]


@dataclass(frozen=True)
class Row:
    attack: str
    mails_in: int
    mails_out: int
    limit: str
    past_limit_in: int
    past_limit_out: int


def word() -> str:
    """A random word: the flood varies its text, so no fingerprint brake stops it before the limit."""
    return "".join(random.choices(string.ascii_lowercase, k=10))


def backscatter_one_domain(desk: Desk, flood: int) -> Row:
    """Forged From: at one victim domain, the envelope sender elsewhere, one SMTP session."""
    start = desk.last_outbox()
    raws = [mail(f'"WIN A PRIZE {word()}" <victim{i}@victim.example>', f"WIN A PRIZE {word()}",
                 f"Claim it now at {word()}.example") for i in range(flood)]
    desk.send(raws[:100], "bulk@spammer.example")
    desk.settle()
    middle = desk.last_outbox()
    desk.send(raws[100:], "bulk@spammer.example")
    desk.settle()
    return Row("backscatter: forged From: at one domain", flood, desk.out_since(start),
               "100 answers/h per domain", flood - 100, desk.out_since(middle))


def backscatter_many_domains(desk: Desk, flood: int) -> Row:
    """Forged senders at a new domain each time, all from one client (another than the first flood's)."""
    start = desk.last_outbox()
    raws = [mail(f"someone@victim{i}.example", f"Invoice {word()}", f"Pay it at {word()}.example") for i in
            range(flood)]
    desk.send(raws[:100], "bulk@spammer.example", "127.0.0.2")
    desk.settle()
    middle = desk.last_outbox()
    desk.send(raws[100:], "bulk@spammer.example", "127.0.0.2")
    desk.settle()
    return Row("backscatter: a new domain each time, one client", flood, desk.out_since(start),
               "100 answers/h per client", flood - 100, desk.out_since(middle))


def robot(desk: Desk, name: str, address: Callable[[int], str], limit: str, text: str, client: str) -> Row:
    """A robot at client address `client` that answers every mail of ours with a fresh one (no
    Auto-Submitted, no threading), until a mail of its own gets no answer."""
    start, rounds, answered = desk.last_outbox(), 0, True
    while answered and rounds < 60:
        rounds += 1
        before = desk.last_outbox()
        sender = address(rounds)
        desk.send([mail(sender, f"Re: {text} ({rounds})", f"{text}: case {rounds * 7919} received.")], sender,
                  client)
        desk.settle()
        answered = desk.last_outbox() > before
    return Row(name, rounds, desk.out_since(start), limit, 0 if answered else 1, 0)


def forged_solved(desk: Desk, count: int) -> Row:
    """A ticket's requester writes once; then "solved" arrives `count` times in their name, from
    another client (each client here has its own address, so no row stops at another's limit)."""
    carol = "carol@customer.example"
    desk.send([mail(carol, "Printer broken", "My printer does not print.")], carol, "127.0.0.5")
    desk.settle()
    ticket = desk.rows("select max(id) from tickets")[0][0]
    start = desk.last_outbox()
    desk.send([mail(carol, f"Re: [#{ticket}] Printer broken", "solved") for _ in range(count)], carol, "127.0.0.6")
    desk.settle()
    status = desk.rows("select status from tickets where id = ?", ticket)[0][0]
    print(f"  ticket #{ticket} after {count} forged \"solved\": {status}")
    return Row('forged "solved" as the requester', count, desk.out_since(start), "1 how-to-close/day per address",
               count - 1, max(0, desk.out_since(start) - 1))


def run(work: Path, flood: int) -> list[Row]:
    port = free_port()
    conf = work / "maildesk.conf"
    conf.write_text(f'[desk]\naddress = "{DESK}"\nsecret = "bench"\n[smtp]\nlisten = "127.0.0.1:{port}"\n'
                    '[log]\nlevel = "WARNING"\n', encoding="utf-8")
    cli = [sys.executable, "-m", "maildesk", "--config", str(conf)]
    subprocess.run([*cli, "init"], check=True, capture_output=True)
    # What the desk holds back it logs as an error, one line per mail: kept out of the table.
    proc = subprocess.Popen([*cli, "serve"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        desk = Desk(port, work / "var" / "maildesk.sqlite3", proc)
        return [backscatter_one_domain(desk, flood), backscatter_many_domains(desk, flood),
                robot(desk, "robot at one address", lambda _: "echo@bots.example", "10 acks/3 h per address",
                      "Thanks, noted", "127.0.0.3"),
                robot(desk, "robot at a new address and domain each time", lambda i: f"r{i}@bots{i}.example",
                      "5 addresses/day per fingerprint", "Your ticket was opened", "127.0.0.4"),
                forged_solved(desk, 20)]
    finally:
        proc.terminate()
        proc.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=300, help="mails in each backscatter flood (over 100)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = run(Path(tmp), args.flood)
    print(f"{'attack':48} {'in':>5} {'out':>5} {'factor':>7}   {'past the limit (' + 'in/out)':>22}  limit")
    ok = True
    for r in rows:
        factor = r.mails_out / r.mails_in
        print(f"{r.attack:48} {r.mails_in:5d} {r.mails_out:5d} {factor:7.2f}   {r.past_limit_in:10d} / "
              f"{r.past_limit_out:<9d}  {r.limit}")
        ok = ok and factor <= 1 and (not r.attack.startswith("backscatter") or r.past_limit_out == 0)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
