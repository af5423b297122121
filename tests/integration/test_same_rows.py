"""Same rows before and after: one scripted scenario per way a ticket changes, compared with the rows
recorded before the redesign moved the code (tests/integration/same_rows/*.json).

Each scenario runs on a fresh SQLite desk at fixed instants and snapshots the tickets, events,
participants, messages, contacts, inbound and outbox tables (outbox bytes included) and the CLI's
`tickets list` / `tickets show` output. Only what is random by design is normalised: generated
Message-IDs become <mid-N> in order of first appearance, and MIME boundaries become one constant.
A scenario that changes any row, event detail, mail byte or CLI line fails here.

To record anew (only when a behaviour change is intended, and say so in the commit):
    MAILDESK_RECORD_ROWS=1 .venv/bin/python -m pytest tests/integration/test_same_rows.py
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import REPO, make_mail, query, write_config
from same_rows_driver import SECRET, Driver

from maildesk.mail.tokens import reply_address

GOLDEN = Path(__file__).with_name("same_rows")
ASTANA = ZoneInfo("Asia/Almaty")
CONFIG = f"""
[calendars.astana]
tz = "Asia/Almaty"
hours = {{ "mon-fri" = "09:00-18:00" }}
holidays = [2026-12-16]

[[queues]]
name = "support"
addresses = ["support@example.org"]
calendar = "astana"

[[queues]]
name = "billing"
addresses = ["billing@example.org"]
calendar = "astana"
agents = ["bob@example.org"]
default_category = "billing"

[[categories]]
name = "hardware"
title = {{ en = "Printers and hardware" }}

[[categories]]
name = "billing"
title = {{ en = "Invoices and payments" }}

[[categories]]
name = "access"
title = {{ en = "Accounts and access" }}

[[rules]]
name = "spam"
when = {{ field = "header", header = "X-Spam-Flag", match = "yes" }}
then = {{ spam = true, tags = ["spam"] }}
stop = true

[[rules]]
name = "printers"
when = {{ field = "text", regex = ['printer', 'toner'] }}
then = {{ category = "hardware" }}

[[rules]]
name = "access"
when = {{ field = "text", regex = ['password', 'vpn'] }}
then = {{ category = "access", assignee = "alice@example.org" }}

[[rules]]
name = "urgent-words"
when = {{ field = "text", regex = ['urgent', 'is\\s+down'] }}
then = {{ priority = "urgent", type = "incident", tags = ["urgent"] }}

[[rules]]
name = "urgent-outside-hours"
when = {{ all = [
  {{ field = "text", regex = ['urgent', 'is\\s+down'] }},
  {{ field = "hours", match = "outside" }},
] }}
then = {{ notify = {{ to = "oncall@example.org", template = "notify_oncall" }}, tags = ["after-hours"] }}

[[rules]]
name = "vip-customer"
when = {{ field = "from_domain", match = "bigclient.example" }}
then = {{ tier = "gold" }}
on_followups = true

[[sla]]
name = "gold"
tier = ["gold"]
first_response = "1h"
resolution = "8h"

[[sla]]
name = "standard"
first_response = "2h"
resolution = "16h"

[sla_defaults]
warn_at = 0.8
notify = "queue"

[autoclose]
pending_hours = 8
reminders = [0.5, 0.9]
resolved_days = 3

[kb]
path = "{(REPO / 'examples' / 'kb').as_posix()}"
"""


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in Astana, in November 2026 (the 23rd is a Monday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=ASTANA)


def mail(who: str, subject: str, body: str, mid: str, to: str = "support@example.org", **headers: str) -> bytes:
    return make_mail(sender=who, to=to, subject=subject, body=body, message_id=mid, **headers)


# --- the scenarios: one per writer of ticket changes -------------------------------------------


def requester_path(d: Driver) -> None:
    """The pipeline's requester path: new tickets (with Cc, rules, an urgent one after hours),
    follow-ups, a reopen, a stranger citing the tag, an auto-reply, a duplicate, a bounce of our ack."""
    d.add_agent("alice@example.org", "Alice", local(20, 8))
    d.add_agent("bob@example.org", "Bob", local(20, 8))
    d.receive(mail("Carol <carol@client.example>", "Printer on floor 2", "The printer shows error 79.",
                   "c1", Cc="Dan <dan@client.example>"), "carol@client.example", local(20, 10))
    d.receive(mail("Erin <erin@bigclient.example>", "Mail server is down", "Our mail server is down, urgent!",
                   "e1"), "erin@bigclient.example", local(21, 3))
    d.receive(mail("Carol <carol@client.example>", "Re: [#1] Printer on floor 2", "It is a LaserJet 4.\n\n"
                   "> The printer shows error 79.", "c2", In_Reply_To="<c1@client.example>"),
              "carol@client.example", local(20, 11))
    d.set_status(1, "resolved", "toner replaced", local(20, 12))
    d.receive(mail("Dan <dan@client.example>", "Re: [#1] Printer on floor 2", "Still broken for me.", "d1"),
              "dan@client.example", local(20, 13))
    d.receive(mail("Mallory <mallory@evil.example>", "Re: [#1] Printer on floor 2", "Let me in.", "m1"),
              "mallory@evil.example", local(20, 14))
    d.receive(mail("Carol <carol@client.example>", "Automatic reply: [#1] Printer on floor 2",
                   "I am away until Monday.", "c3", Auto_Submitted="auto-replied"),
              "carol@client.example", local(20, 15))
    d.receive(mail("Carol <carol@client.example>", "Re: [#1] Printer on floor 2", "It is a LaserJet 4.\n\n"
                   "> The printer shows error 79.", "c2", In_Reply_To="<c1@client.example>"),
              "carol@client.example", local(20, 16))
    d.receive(mail("Spammer <win@lottery.example>", "You won", "Claim your prize", "s1", X_Spam_Flag="yes"),
              "win@lottery.example", local(20, 17))
    d.bounce_first("ack", local(20, 18))
    d.receive(mail("Fay <fay@client.example>", "VPN password expired", "My VPN password expired.", "f1",
                   to="billing@example.org"), "fay@client.example", local(20, 19), rcpt="billing@example.org")


def agent_path(d: Driver) -> None:
    """An agent's mail: commands, relayed answers, notes, Cc changes, a refusal, an answer without a
    ticket, an out-of-office, closing and reopening by the agent."""
    d.add_agent("alice@example.org", "Alice", local(20, 8))
    d.add_agent("bob@example.org", "Bob", local(20, 8))
    d.receive(mail("Carol <carol@client.example>", "Printer on floor 2", "The printer shows error 79.",
                   "c1", Cc="dan@client.example"), "carol@client.example", local(23, 9))
    d.agent(1, 1, "#priority high\n#assign me\n#cc add ed@client.example\n\nWhich model is it?\n\n"
            "> The printer shows error 79.", local(23, 10))
    d.agent(1, 2, "#note\nI saw this one last week: it is the fuser.", local(23, 10, 30))
    d.agent(1, 1, "#cc remove dan@client.example\n#category hardware\n#pending\nPlease send a photo.",
            local(23, 11))
    d.agent(1, 1, "#status new\nThis must be refused.", local(23, 11, 30))
    d.agent(1, 2, "#frobnicate\nUnknown command.", local(23, 11, 40))
    d.receive(mail("Alice <alice@example.org>", "A question", "Which ticket is this?", "a9"),
              "alice@example.org", local(23, 11, 50))
    d.agent(1, 2, "I am out of the office.", local(23, 11, 55), Auto_Submitted="auto-replied")
    d.agent(1, 1, "#assign bob\n#resolve\nThe fuser is replaced.", local(23, 12))
    d.agent(1, 2, "#close", local(23, 13))
    d.agent(1, 2, "#open\nReopened: it broke again.", local(23, 14))
    d.receive(mail("Mallory <alice@example.org>", "Re: [#1] Printer on floor 2", "#close\nforged", "f1"),
              "alice@example.org", local(23, 15))


def self_service(d: Driver) -> None:
    """The requester's own commands ("solved", "#cancel", a Cc's "solved"), the status address,
    and a third party's answer to a forward."""
    d.add_agent("alice@example.org", "Alice", local(20, 8))
    d.receive(mail("Carol <carol@client.example>", "Printer on floor 2", "The printer shows error 79.", "c1",
                   Cc="dan@client.example"), "carol@client.example", local(23, 9))
    d.receive(mail("Carol <carol@client.example>", "Forgot my VPN password", "Please reset my password.", "c2"),
              "carol@client.example", local(23, 9, 5))
    d.receive(mail("Dan <dan@client.example>", "Re: [#1] Printer on floor 2", "solved", "d1"),
              "dan@client.example", local(23, 9, 10))
    # Carol (contact 1) answers our mail: to her signed Reply-To on each ticket.
    first, second = (reply_address("support@example.org", SECRET, ticket, 1, kind="r") for ticket in (1, 2))
    d.receive(mail("Carol <carol@client.example>", "Re: [#1] Printer on floor 2", "Solved\n\n> old text", "c3",
                   to=first), "carol@client.example", local(23, 9, 20), rcpt=first)
    d.receive(mail("Carol <carol@client.example>", "Re: [#2] Forgot my VPN password", "#cancel", "c4", to=second),
              "carol@client.example", local(23, 9, 30), rcpt=second)
    d.receive(mail("Carol <carol@client.example>", "Re: [#2] Forgot my VPN password", "solved", "c5", to=second),
              "carol@client.example", local(23, 9, 35), rcpt=second)
    d.receive(mail("Carol <carol@client.example>", "status", "", "c6", to="support+status@example.org"),
              "carol@client.example", local(23, 9, 40), rcpt="support+status@example.org")
    d.receive(mail("Gil <gil@client.example>", "Screen flickers", "My screen flickers.", "g1"),
              "gil@client.example", local(23, 10))
    d.agent(3, 1, "#forward vendor@printers.example\nCan you help with this model?", local(23, 10, 30))
    d.third_party_answer(3, "vendor@printers.example", "Replace the cable.", local(23, 11))


def sweep(d: Driver) -> None:
    """The SLA and auto-close sweep: warnings and breaches, reminders, a no-response closure, a
    resolved ticket closing after its days, a gold-tier policy."""
    d.add_agent("alice@example.org", "Alice", local(20, 8))
    d.receive(mail("Bob <bob@client.example>", "Help bob", "Nothing works.", "b1"), "bob@client.example",
              local(20, 15))
    d.agent(1, 1, "#pending\nWhich printer model is it?", local(20, 17))
    d.receive(mail("Erin <erin@bigclient.example>", "Help erin", "Nothing works.", "e1"),
              "erin@bigclient.example", local(23, 9))
    d.receive(mail("Fay <fay@client.example>", "Help fay", "Nothing works.", "f1"), "fay@client.example",
              local(23, 9, 5))
    d.agent(3, 1, "#resolve\nDone.", local(23, 9, 30))
    now = local(21, 12)
    while now <= local(27, 12):
        d.sweep(now)
        now += timedelta(minutes=47)


def cli_writer(d: Driver) -> None:
    """The CLI's status changes, an admin alert, and its read commands."""
    d.add_agent("alice@example.org", "Alice", local(20, 8))
    d.receive(mail("Carol <carol@client.example>", "Printer on floor 2", "The printer shows error 79.", "c1",
                   Cc="dan@client.example"), "carol@client.example", local(23, 9))
    d.receive(mail("Erin <erin@client.example>", "Password", "Reset my password, please.", "e1"),
              "erin@client.example", local(23, 9, 10))
    d.set_status(1, "open", "", local(23, 10))
    d.set_status(1, "pending", "waiting for the part", local(23, 11))
    d.set_status(1, "resolved", "part fitted", local(23, 12))
    d.set_status(1, "closed", "", local(23, 13))
    d.set_status(2, "canceled", "duplicate of #1", local(23, 14))
    d.admin_alert("mailbox imap1 failing", "for 30 minutes", local(23, 15))


SCENARIOS: dict[str, Callable[[Driver], None]] = {
    "requester_path": requester_path, "agent_path": agent_path, "self_service": self_service,
    "sweep": sweep, "cli_writer": cli_writer,
}


# --- snapshot and normalisation ----------------------------------------------------------------

TABLES = {
    "tickets": "select * from tickets order by id",
    "events": "select ticket_id, at, actor, kind, reason, detail from events order by id",
    "participants": "select ticket_id, contact_id, role from participants order by id",
    "contacts": "select id, email, name, created_at from contacts order by id",
    "messages": "select ticket_id, inbound_id, direction, message_id, from_email, from_name, subject, text, "
                "new_text, verdict, verdict_reasons, created_at from messages order by id",
    "inbound": "select id, state, ticket_id, error, verdict, verdict_reasons, processed_at from inbound "
               "order by id",
    "outbox": "select ticket_id, kind, message_id, mail_from, rcpt_to, recipient, state, created_at, raw "
              "from outbox order by id",
    "undeliverable": "select address, until, reason from undeliverable order by address",
}
_GENERATED_ID = re.compile(r"[0-9a-f]{12,}(?:\.[0-9a-f]+)*@maildesk\.example\.org")
_BOUNDARY = re.compile(r"={10,}\d+==")


class Normaliser:
    """Replaces what is random by design with stable names, in order of first appearance."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    def text(self, value: str) -> str:
        value = _BOUNDARY.sub("==BOUNDARY==", value)
        return _GENERATED_ID.sub(self._mid, value)

    def _mid(self, match: re.Match[str]) -> str:
        return self.ids.setdefault(match.group(0), f"mid-{len(self.ids) + 1}@maildesk.example.org")

    def value(self, value: object) -> Any:
        if isinstance(value, bytes):
            return self.text(value.decode("utf-8", "replace")).splitlines()
        if isinstance(value, str):
            return self.text(value)
        return value


def snapshot(d: Driver) -> dict[str, Any]:
    norm = Normaliser()
    out: dict[str, Any] = {}
    for table, sql in TABLES.items():
        out[table] = [[norm.value(v) for v in row] for row in query(d.settings, sql)]
    out["cli"] = {" ".join(args): norm.text(d.cli(*args)) for args in _cli_reads(d)}
    return out


def _cli_reads(d: Driver) -> list[tuple[str, ...]]:
    ids = [int(i) for (i,) in query(d.settings, "select id from tickets order by id")]
    reads: list[tuple[str, ...]] = [("tickets", "list"), ("tickets", "list", "--json"),
                                    ("tickets", "list", "--spam")]
    for i in ids:
        reads += [("tickets", "show", str(i)), ("tickets", "show", str(i), "--json")]
    return reads


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_gives_the_recorded_rows(name: str, tmp_path: Path) -> None:
    # The scenario's rows, mail and CLI output are exactly those recorded before the redesign.
    driver = Driver(write_config(tmp_path, CONFIG, secret="test-secret"), CliRunner())
    SCENARIOS[name](driver)
    got = snapshot(driver)
    driver.close()
    path = GOLDEN / f"{name}.json"
    if os.environ.get("MAILDESK_RECORD_ROWS") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    recorded = json.loads(path.read_text(encoding="utf-8"))
    got = json.loads(json.dumps(got, default=str))
    for part in recorded:
        assert got[part] == recorded[part], f"{name}: {part} differs from the recorded rows"
    assert set(got) == set(recorded)
