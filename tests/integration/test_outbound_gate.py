"""The one gate for mail out, against the attacks that went through the old paths: a forged mail
copied to thousands of strangers, and a victim copied on many tickets."""

from __future__ import annotations

import json
from email import message_from_bytes, policy

import pytest
from conftest import BUSY_BRAKES, DeskFactory, make_mail, query, receive, recipients

from maildesk.domain import Status
from maildesk.runtime.wiring import Runtime

# Not the defaults (20 and 40): the limits the gate applies are the configured ones.
CAP, DAILY = 7, 12


@pytest.fixture
def runtime(make_desk: DeskFactory) -> Runtime:
    """A desk whose [brakes] are set to CAP recipients per mail and DAILY automatic mails a day."""
    return make_desk(f"[brakes]\nrecipients_per_mail = {CAP}\nautomatic_per_day = {DAILY}\n"
                     + BUSY_BRAKES.removeprefix("[brakes]\n"))


def test_eight_thousand_cc_and_a_forged_solved_send_at_most_the_cap(runtime: Runtime) -> None:
    # 8,000 addresses on Cc, then "solved" from the sender: one ack to the sender, one notice to the cap.
    strangers = [f"{i}@v.io" for i in range(8000)]
    first = receive(runtime, make_mail(sender="bob@client.example", message_id="flood",
                                       Cc=", ".join(strangers)), "bob@client.example")
    assert first.state is not None and first.ticket_id == 1
    assert query(runtime.settings, "select count(*) from participants where ticket_id = 1") == [(8001,)]
    # Bob answers our acknowledgement (citing it), so his "solved" counts.
    ack = str(query(runtime.settings, "select message_id from outbox where kind = 'ack'")[0][0])
    receive(runtime, make_mail(sender="bob@client.example", subject="Re: [#1] Printer broken", body="solved",
                               message_id="solved", In_Reply_To=f"<{ack}>"), "bob@client.example")
    assert query(runtime.settings, "select status from tickets where id = 1") == [(Status.CLOSED,)]
    assert recipients(runtime, "ack") == [["bob@client.example"]]
    notices = recipients(runtime, "status_closed")
    assert len(notices) == 1 and len(notices[0]) == CAP and notices[0][0] == "bob@client.example"
    sent_to = sum(len(r) for (r,) in [(json.loads(str(x)),) for (x,) in query(
        runtime.settings, "select rcpt_to from outbox")])
    assert sent_to <= CAP + 1  # the ack to bob, the notice to the cap (agents: none on this desk)
    # The mail itself names only those it went to, and the desk says what it held back and why.
    raw = query(runtime.settings, "select raw from outbox where kind = 'status_closed'")[0][0]
    assert isinstance(raw, bytes)
    shown = message_from_bytes(raw, policy=policy.default)
    named = [*shown["To"].addresses, *(shown["Cc"].addresses if shown["Cc"] else ())]  # type: ignore[union-attr]
    assert len(named) == CAP
    brakes = query(runtime.settings, "select reason, detail from events where ticket_id = 1 and kind = 'brake'")
    assert len(brakes) == 1 and f"limit of {CAP} per mail" in str(brakes[0][0])
    assert json.loads(str(brakes[0][1]))["held"] == 8001 - CAP


def test_a_victim_copied_on_many_tickets_gets_no_more_than_the_daily_cap(runtime: Runtime) -> None:
    # More requesters than the daily cap copy one victim, then each says "solved": the victim gets the daily cap, no more.
    victim = "victim@target.example"
    tickets = DAILY + 5
    for i in range(tickets):
        who = f"user{i}@client.example"
        out = receive(runtime, make_mail(sender=who, subject=f"Case {i}", message_id=f"case{i}", Cc=victim), who)
        ack = str(query(runtime.settings, "select message_id from outbox where kind = 'ack' and ticket_id = ?",
                        out.ticket_id)[0][0])
        receive(runtime, make_mail(sender=who, subject=f"Re: [#{out.ticket_id}] Case {i}", body="solved",
                                   message_id=f"solved{i}", In_Reply_To=f"<{ack}>"), who)
    notices = recipients(runtime, "status_closed")
    assert len(notices) == tickets  # every requester still hears that their ticket closed
    assert sum(victim in r for r in notices) == DAILY
    counted = query(runtime.settings, "select count(*) from outbox_recipients where address = ?", victim)
    assert counted == [(DAILY,)]
    held = query(runtime.settings, "select count(*) from events where kind = 'brake' and reason like ?",
                 f"%{DAILY} automatic mails to {victim}%")
    assert held == [(5,)]
