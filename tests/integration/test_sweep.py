"""The SLA and auto-close sweep on a real desk: pipeline + sweep on SQLite with explicit instants."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import ALICE, SECRET, DeskFactory, make_mail, parsed, plain_text, query, receive, token

from maildesk.runtime.wiring import Runtime
from maildesk.sweep.sla import SweepResult, sweep_tickets


def run_sweep(rt: Runtime, now: datetime, dry_run: bool = False) -> SweepResult:
    return sweep_tickets(rt.desk, now, dry_run=dry_run)

ASTANA = ZoneInfo("Asia/Almaty")
SLA_CONFIG = """
[calendars.astana]
tz = "Asia/Almaty"
hours = { "mon-fri" = "09:00-18:00" }
holidays = [2026-12-16]

[[queues]]
name = "support"
addresses = ["support@example.org"]
calendar = "astana"

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
"""


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ASTANA)


@pytest.fixture
def desk(make_desk: DeskFactory) -> Runtime:
    """A desk counting in Astana office hours, with agent Alice (1)."""
    return make_desk(SLA_CONFIG, agents=[ALICE], since=local(1, 9), secret=SECRET)


def open_ticket(rt: Runtime, now: datetime, who: str = "bob") -> int:
    out = receive(rt, make_mail(sender=f"{who} <{who}@client.example>", subject=f"Help {who}"),
                  f"{who}@client.example", when=now)
    assert out.ticket_id is not None
    return int(out.ticket_id)


def agent_says(rt: Runtime, ticket: int, body: str, now: datetime) -> None:
    raw = make_mail(sender="Alice <alice@example.org>", to=token(ticket, 1), subject=f"Re: [#{ticket}] Help",
                    body=body)
    receive(rt, raw, "alice@example.org", when=now)


def requester_says(rt: Runtime, ticket: int, now: datetime, who: str = "bob", subject: str = "Re:",
                   **headers: str) -> None:
    raw = make_mail(sender=f"{who} <{who}@client.example>", subject=f"{subject} [#{ticket}] Help",
                    body="Here is the model: LaserJet 4.", **headers)
    receive(rt, raw, f"{who}@client.example", when=now)


def status(rt: Runtime, ticket: int) -> tuple[object, ...]:
    return query(rt.settings, "select status, close_reason from tickets where id = ?", ticket)[0]


def kinds(rt: Runtime, ticket: int) -> list[object]:
    return [k for (k,) in query(rt.settings, "select kind from outbox where ticket_id = ? order by id", ticket)]


def test_friday_evening_pending_closes_monday_after_eight_working_hours(desk: Runtime) -> None:
    # Pending Friday 17:00 Astana: reminders Monday 12:00 and 15:12, closed Monday 16:00 with the history.
    ticket = open_ticket(desk, local(20, 15))
    agent_says(desk, ticket, "#pending\nWhich printer model is it?", local(20, 17))
    assert run_sweep(desk, local(21, 12)).actions == ()  # Saturday: nothing counts
    assert [a.action for a in run_sweep(desk, local(23, 12)).actions] == ["remind:1"]
    assert [a.action for a in run_sweep(desk, local(23, 15, 12)).actions] == ["remind:2"]
    assert run_sweep(desk, local(23, 15, 59)).actions == ()
    assert [a.action for a in run_sweep(desk, local(23, 16)).actions] == ["close:no_response"]
    assert status(desk, ticket) == ("closed", "no_response")
    assert kinds(desk, ticket).count("reminder") == 2
    notice = query(desk.settings, "select raw from outbox where kind = 'autoclosed'")[0][0]
    assert isinstance(notice, bytes)
    text = plain_text(parsed(notice))
    assert "no response from the customer received" in text and "Which printer model is it?" in text
    assert "status: new → pending" in text and "→ closed" not in text
    # Its times are on the queue's wall clock, as the reminders' are: Friday 17:00 in Astana.
    assert "2026-11-20 17:00 +05, Alice" in text and "UTC" not in text


def test_out_of_office_does_not_stop_the_clock(desk: Runtime) -> None:
    # The requester's auto-reply on Monday morning leaves the ticket pending; it closes on time.
    ticket = open_ticket(desk, local(20, 15))
    agent_says(desk, ticket, "#pending\nWhich printer model is it?", local(20, 17))
    requester_says(desk, ticket, local(23, 9, 30), subject="Automatic reply:", Auto_Submitted="auto-replied")
    assert status(desk, ticket) == ("pending", "")
    run_sweep(desk, local(23, 16))
    assert status(desk, ticket) == ("closed", "no_response")


def test_real_reply_stops_the_clock(desk: Runtime) -> None:
    # A genuine requester answer reopens the ticket: no reminder, no closure at Monday 16:00.
    ticket = open_ticket(desk, local(20, 15))
    agent_says(desk, ticket, "#pending\nWhich printer model is it?", local(20, 17))
    requester_says(desk, ticket, local(23, 9, 30))
    assert status(desk, ticket) == ("open", "")
    actions = [a.action for a in run_sweep(desk, local(23, 16)).actions]
    assert not [a for a in actions if a.startswith(("remind", "close"))]
    assert status(desk, ticket) == ("open", "")


def test_reminders_each_sent_once(desk: Runtime) -> None:
    # Sweeping every few minutes all day sends exactly two reminders and one closure.
    ticket = open_ticket(desk, local(23, 8))
    agent_says(desk, ticket, "#pending\nPlease send a photo.", local(23, 9))
    now = local(23, 9)
    while now <= local(23, 18):
        run_sweep(desk, now)
        now += timedelta(minutes=7)
    assert kinds(desk, ticket).count("reminder") == 2
    assert kinds(desk, ticket).count("autoclosed") == 1
    events = query(desk.settings, "select count(*) from events where ticket_id = ? and kind = 'reminder'", ticket)
    assert events == [(2,)]


def test_two_sweeps_at_once_never_act_twice(desk: Runtime) -> None:
    # Two sweeps in threads over 20 overdue pending tickets: one closure and one notice per ticket.
    tickets = [open_ticket(desk, local(23, 8), who=f"user{i}") for i in range(20)]
    for ticket in tickets:
        agent_says(desk, ticket, "#pending\nAny news?", local(23, 9))
    barrier = threading.Barrier(2)

    def sweep() -> None:
        barrier.wait()
        run_sweep(desk, local(24, 12))

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    closes = query(desk.settings, "select count(*) from events where kind = 'status' and actor = 'system:sweep'")
    assert closes == [(20,)]
    assert query(desk.settings, "select count(*) from outbox where kind = 'autoclosed'") == [(20,)]


def test_sla_warning_and_breach_each_once(desk: Runtime) -> None:
    # First response 2h from Monday 9:00: warning at 10:36, breach at 11:00, to the queue's agents, once.
    ticket = open_ticket(desk, local(23, 9))
    for minute in range(0, 180, 5):
        run_sweep(desk, local(23, 9) + timedelta(minutes=minute))
    assert kinds(desk, ticket).count("sla_warning") == 1
    assert kinds(desk, ticket).count("sla_breach") == 1
    rows = query(desk.settings, "select kind, detail from events where ticket_id = ? and kind like 'sla_%'",
                 ticket)
    assert [r[0] for r in rows] == ["sla_warning", "sla_breach"]
    assert "alice@example.org" in str(rows[0][1])


def test_first_public_reply_meets_first_response(desk: Runtime) -> None:
    # Alice answers within the hour: no first-response warning or breach ever.
    ticket = open_ticket(desk, local(23, 9))
    agent_says(desk, ticket, "Looking into it.", local(23, 9, 30))
    first = query(desk.settings, "select first_response_at is not null, sla_policy from tickets where id = ?",
                  ticket)
    assert first == [(1, "standard")]
    run_sweep(desk, local(23, 12))
    assert [k for k in kinds(desk, ticket) if str(k).startswith("sla_")] == []


def test_resolved_closes_after_three_days(desk: Runtime) -> None:
    # #resolve on Friday: closed Monday at the same hour with reason resolved_timeout.
    ticket = open_ticket(desk, local(20, 9))
    agent_says(desk, ticket, "#resolve\nFixed by a driver update.", local(20, 10))
    run_sweep(desk, local(23, 9, 59))
    assert status(desk, ticket) == ("resolved", "")
    run_sweep(desk, local(23, 10))
    assert status(desk, ticket) == ("closed", "resolved_timeout")


def test_reply_to_auto_closed_ticket_follows_reopen_policy(desk: Runtime) -> None:
    # Within reopen_closed_days (7) a reply reopens; later it opens a new ticket linked to the old one.
    ticket = open_ticket(desk, local(20, 15))
    agent_says(desk, ticket, "#pending\nWhich model?", local(20, 17))
    run_sweep(desk, local(23, 16))
    requester_says(desk, ticket, local(25, 10))
    assert status(desk, ticket) == ("open", "")
    other = open_ticket(desk, local(20, 15), who="carol")
    agent_says(desk, other, "#pending\nWhich model?", local(20, 17))
    run_sweep(desk, local(23, 16))
    requester_says(desk, other, local(23, 16) + timedelta(days=8), who="carol")
    assert status(desk, other) == ("closed", "no_response")
    linked = query(desk.settings, "select linked_ticket_id from tickets order by id desc limit 1")
    assert linked == [(other,)]


def test_dry_run_changes_nothing(desk: Runtime) -> None:
    # `--dry-run` lists the closure but the ticket stays pending and nothing is queued.
    ticket = open_ticket(desk, local(20, 15))
    agent_says(desk, ticket, "#pending\nWhich model?", local(20, 17))
    before = kinds(desk, ticket)
    result = run_sweep(desk, local(23, 16), dry_run=True)
    assert [a.action for a in result.actions] == ["close:no_response"]
    assert status(desk, ticket) == ("pending", "") and kinds(desk, ticket) == before
