"""Rule conditions: every field, plain and regex matches, negation, groups, and working hours."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

from rules_config import QUEUES, compiled, one_rule_hits, run

from maildesk.config import routing_settings
from maildesk.policy.calendar import build_calendars, working_calendars
from maildesk.policy.rules import RuleFacts, RuleOutcome, evaluate


def test_subject_plain_match_is_case_insensitive_substring() -> None:
    # A plain match finds "urgent" inside "URGENT: printer" regardless of case.
    assert one_rule_hits('{ field = "subject", match = "urgent" }', subject="URGENT: printer")
    assert not one_rule_hits('{ field = "subject", match = "urgent" }', subject="printer")


def test_case_sensitive_plain_match() -> None:
    # case_sensitive = true makes "VIP" miss "vip".
    assert not one_rule_hits('{ field = "subject", match = "VIP", case_sensitive = true }', subject="vip client")
    assert one_rule_hits('{ field = "subject", match = "VIP", case_sensitive = true }', subject="VIP client")


def test_body_regex_ukrainian_and_russian() -> None:
    # Cyrillic regexes match case-insensitively in Ukrainian and Russian bodies.
    when = '{ field = "body", regex = ["не\\\\s+працює", "не\\\\s+работает"] }'
    assert one_rule_hits(when, text="Принтер НЕ ПРАЦЮЄ з ранку")
    assert one_rule_hits(when, text="Почта не   работает")
    assert not one_rule_hits(when, text="Все працює")


def test_text_field_reads_subject_or_body() -> None:
    # field "text" hits a word in the subject or in the body.
    assert one_rule_hits('{ field = "text", match = "принтер" }', subject="Принтер", text="")
    assert one_rule_hits('{ field = "text", match = "принтер" }', subject="", text="мій принтер")


def test_non_ascii_plain_match_uses_casefold() -> None:
    # Plain matching casefolds, so "ТЕРМІНОВО" in the subject hits "терміново".
    assert one_rule_hits('{ field = "subject", match = "терміново" }', subject="ТЕРМІНОВО: мережа")


def test_header_condition_any_value_and_absent_header() -> None:
    # A header test reads every value of that header; an absent header matches nothing.
    when = '{ field = "header", header = "X-Spam-Flag", match = "yes" }'
    assert one_rule_hits(when, headers=(("X-Spam-Flag", "NO"), ("x-spam-flag", "YES")))
    assert not one_rule_hits(when, headers=(("Subject", "yes"),))


def test_from_address_and_domain() -> None:
    # "from" matches the whole address; "from_domain" the domain and its subdomains, not look-alikes.
    assert one_rule_hits('{ field = "from", match = "Boss@Client.example" }', sender="boss@client.example")
    assert not one_rule_hits('{ field = "from", match = "boss@client.example" }', sender="boss@client.example.net")
    when = '{ field = "from_domain", match = "client.example" }'
    assert one_rule_hits(when, sender="a@mail.client.example")
    assert not one_rule_hits(when, sender="a@badclient.example")


def test_recipient_and_to_cc_conditions() -> None:
    # "recipient" reads the envelope only; "to_cc" reads To and Cc.
    assert one_rule_hits('{ field = "recipient", match = "billing@example.org" }', recipients=("billing@example.org",))
    assert not one_rule_hits('{ field = "recipient", match = "billing@example.org" }', to_cc=("billing@example.org",))
    assert one_rule_hits('{ field = "to_cc", regex = "^billing@" }', to_cc=("x@y.org", "billing@example.org"))


def test_attachment_condition_and_its_negation() -> None:
    # field "attachment" holds when a file is attached; not = true when none is.
    assert one_rule_hits('{ field = "attachment" }', has_attachment=True)
    assert not one_rule_hits('{ field = "attachment" }', has_attachment=False)
    assert one_rule_hits('{ field = "attachment", not = true }', has_attachment=False)


def test_negated_field_condition() -> None:
    # not = true inverts a match.
    assert one_rule_hits('{ field = "subject", match = "invoice", not = true }', subject="printer")
    assert not one_rule_hits('{ field = "subject", match = "invoice", not = true }', subject="Invoice 12")


def test_all_any_and_negated_group() -> None:
    # all needs every child, any needs one, and not inverts a whole group.
    both = '{ all = [{ field = "subject", match = "a" }, { field = "body", match = "b" }] }'
    either = '{ any = [{ field = "subject", match = "a" }, { field = "body", match = "b" }] }'
    neither = '{ not = true, any = [{ field = "subject", match = "a" }, { field = "body", match = "b" }] }'
    assert one_rule_hits(both, subject="a", text="b") and not one_rule_hits(both, subject="a", text="x")
    assert one_rule_hits(either, subject="x", text="b") and not one_rule_hits(either, subject="x", text="y")
    assert one_rule_hits(neither, subject="x", text="y") and not one_rule_hits(neither, subject="a", text="y")


def test_rule_without_when_hits_every_mail() -> None:
    # A rule with no condition applies to all mail.
    out = run('[[rules]]\nname = "all"\nthen = { tags = ["seen"] }\n')
    assert out.tags == ("seen",) and out.hits[0].name == "all"


def _facts_at(instant: datetime, rules: str, **facts: object) -> RuleOutcome:
    ruleset = compiled(rules)
    settings = routing_settings(Path("t.conf"), tomllib.loads(QUEUES + rules), {"importance_high": False})
    working = working_calendars(build_calendars(settings.calendars, [2026]), instant)
    return evaluate(ruleset, RuleFacts(working_calendars=working, **facts))  # type: ignore[arg-type]


OUTSIDE = ('[[rules]]\nname = "night"\nwhen = { field = "hours", match = "outside" }\n'
           'then = { priority = "urgent" }\n')


def test_outside_hours_uses_the_queue_calendar_with_a_fixed_clock() -> None:
    # Saturday 23:30 in Kyiv is outside the services queue's Mon–Fri 9–18; Tuesday 10:00 is inside.
    saturday_night = datetime(2026, 11, 21, 21, 30, tzinfo=UTC)
    tuesday_morning = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    rcpt = ("services@example.org",)
    assert _facts_at(saturday_night, OUTSIDE, recipients=rcpt).priority == "urgent"
    assert _facts_at(tuesday_morning, OUTSIDE, recipients=rcpt).priority == "normal"


def test_default_calendar_is_round_the_clock() -> None:
    # The general queue names no calendar, so it is never outside working hours.
    saturday_night = datetime(2026, 11, 21, 21, 30, tzinfo=UTC)
    assert _facts_at(saturday_night, OUTSIDE, recipients=("support@example.org",)).hits == ()


def test_inside_hours_with_a_named_calendar() -> None:
    # calendar = "office" tests that calendar, whatever the queue.
    rules = ('[[rules]]\nname = "day"\nwhen = { field = "hours", match = "inside", calendar = "office" }\n'
             'then = { tags = ["day"] }\n')
    tuesday_morning = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert _facts_at(tuesday_morning, rules, recipients=("support@example.org",)).tags == ("day",)

