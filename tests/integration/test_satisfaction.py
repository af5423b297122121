"""Satisfaction by mail on a real desk: who is asked and when, what a rating does, and the report."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import ALICE, NOW, SECRET, DeskFactory, make_mail, plain_text, query, receive, sent, token

from maildesk.admin import tickets
from maildesk.admin.report import build_report, format_text
from maildesk.domain import Status
from maildesk.runtime.wiring import Runtime

QUEUES = """
[satisfaction]
enabled = true

[[queues]]
name = "general"
addresses = ["support@example.org"]

[[queues]]
name = "internal"
addresses = ["it@example.org"]
satisfaction = false
"""


@pytest.fixture
def desk(make_desk: DeskFactory) -> Runtime:
    """Surveys on, but not for queue "internal"; agent Alice; ticket 1 from Carol, Dan copied."""
    rt = make_desk(QUEUES, agents=(ALICE,), secret=SECRET, aliases='["it@example.org"]')
    receive(rt, make_mail(sender="Carol <carol@client.example>", message_id="c1", Cc="dan@client.example"),
            "carol@client.example")
    return rt


def resolve(rt: Runtime, ticket: int, body: str = "#resolve\nThe driver is reinstalled.") -> None:
    receive(rt, make_mail(sender="alice@example.org", to=token(ticket, 1), subject=f"Re: [#{ticket}] x",
                          body=body, message_id=f"a{len(sent(rt, 'reply'))}{ticket}"),
            "alice@example.org", rcpt=token(ticket, 1))


def answer(rt: Runtime, who: str, text: str, mid: str) -> int | None:
    survey = sent(rt, "survey")[0]
    out = receive(rt, make_mail(sender=who, subject=f"Re: {survey['Subject']}", body=text, message_id=mid,
                                In_Reply_To=str(survey["Message-ID"])), who, when=NOW + timedelta(hours=2))
    return out.ticket_id


def test_a_resolved_ticket_asks_its_requester_once_and_a_rating_never_reopens_it(desk: Runtime) -> None:
    # Alice resolves #1: Carol alone is asked; her "4 - quick" is an event, the ticket stays resolved.
    resolve(desk, 1)
    (survey,) = sent(desk, "survey")
    assert str(survey["To"]) == "Carol <carol@client.example>" and survey["Cc"] is None
    assert "one number from 1 to 5" in plain_text(survey)
    assert answer(desk, "carol@client.example", "4 - quick, thanks", "c2") == 1
    assert query(desk.settings, "select status from tickets") == [("resolved",)]
    (rated,) = query(desk.settings, "select actor, detail from events where kind = 'satisfaction'")
    assert rated[0] == "contact:1" and json.loads(str(rated[1])) == {"rating": 4, "comment": "quick, thanks"}
    # Reopened by an ordinary reply and resolved again: no second survey.
    receive(desk, make_mail(sender="carol@client.example", subject="Re: [#1] Printer broken", body="Broken again.",
                            message_id="c3"), "carol@client.example")
    resolve(desk, 1, "#resolve\nFixed for good.")
    assert len(sent(desk, "survey")) == 1


def test_an_answer_without_a_rating_or_from_someone_else_is_an_ordinary_reply(desk: Runtime) -> None:
    # Dan's "5" is not Carol's rating; Carol's "it broke again" to the survey reopens the ticket.
    resolve(desk, 1)
    answer(desk, "dan@client.example", "5", "d1")
    assert query(desk.settings, "select count(*) from events where kind = 'satisfaction'") == [(0,)]
    answer(desk, "carol@client.example", "It broke again, sorry.", "c2")
    assert query(desk.settings, "select status from tickets") == [("open",)]


def test_the_cli_resolving_asks_too(desk: Runtime) -> None:
    # `tickets set-status 1 resolved` sends the status notice and the survey, recorded as the admin's.
    tickets.set_status(desk.desk, 1, Status.RESOLVED, "admin:root", "", NOW)
    assert len(sent(desk, "status_resolved")) == 1 and len(sent(desk, "survey")) == 1
    assert query(desk.settings, "select actor from events where kind = 'survey'") == [("admin:root",)]


@pytest.mark.parametrize("case", ["queue-off", "machine", "spam", "closed-by-requester"])
def test_nobody_is_asked_when_the_queue_does_not_or_no_person_would_answer(make_desk: DeskFactory,
                                                                           case: str) -> None:
    # Queue "internal" asks no one; a ticket a robot's mail opened, spam and the requester's own "solved" neither.
    rules = '[[rules]]\nname = "spam"\nwhen = { field = "subject", match = "WIN" }\nthen = { spam = true }\n'
    rt = make_desk(QUEUES + rules, agents=(ALICE,), secret=SECRET, aliases='["it@example.org"]')
    headers = {"machine": {"Auto_Submitted": "auto-generated"}}.get(case, {})
    receive(rt, make_mail(to="it@example.org" if case == "queue-off" else "support@example.org",
                          subject="WIN" if case == "spam" else "Printer broken", message_id="x1", **headers),
            rcpt="it@example.org" if case == "queue-off" else "support@example.org")
    if case == "closed-by-requester":
        ack = sent(rt, "ack")[0]  # citing it proves the "solved" the requester's
        receive(rt, make_mail(subject="Re: [#1] Printer broken", body="solved", message_id="x2",
                              In_Reply_To=str(ack["Message-ID"])))
    else:
        resolve(rt, 1)
    assert query(rt.settings, "select status from tickets where id = 1") == [
        ("closed" if case == "closed-by-requester" else "resolved",)]
    assert sent(rt, "survey") == []


def test_the_report_gives_the_ratings_of_the_period(desk: Runtime) -> None:
    # One rating of 4 in the period: the report's satisfaction line says so.
    resolve(desk, 1)
    answer(desk, "carol@client.example", "good", "c2")
    report = build_report(desk.db, NOW - timedelta(days=1), NOW + timedelta(days=1), NOW)
    assert report.ratings.by_score == (0, 0, 0, 1, 0)
    assert "satisfaction: 1 ratings, mean 4.0 of 5 (4: 1); good 1, bad 0, 100% good" in format_text(report)
