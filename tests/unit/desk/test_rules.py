"""The rule engine: every condition and action, order and stop, negation, groups, queues, hours."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

from maildesk.config import routing_settings
from maildesk.policy.calendar import build_calendars, working_calendars
from maildesk.policy.rules import IMPORTANCE_RULE, RuleFacts, RuleOutcome, RuleSet, compile_ruleset, evaluate

QUEUES = """
[calendars.office]
tz = "Europe/Kyiv"
hours = { "mon-fri" = "09:00-18:00" }

[[queues]]
name = "general"
addresses = ["support@example.org"]

[[queues]]
name = "billing"
addresses = ["billing@example.org"]
default_category = "billing"
default_priority = "low"

[[queues]]
name = "services"
addresses = ["services@example.org"]
calendar = "office"

[[categories]]
name = "billing"

[[categories]]
name = "hardware"
"""


def _ruleset(rules: str, importance_high: bool = False) -> RuleSet:
    data = tomllib.loads(QUEUES + rules)
    return compile_ruleset(routing_settings(Path("t.conf"), data, {"importance_high": importance_high}))


def _run(rules: str, importance_high: bool = False, ticket_queue: str | None = None,
         **facts: object) -> RuleOutcome:
    return evaluate(_ruleset(rules, importance_high), RuleFacts(**facts), ticket_queue=ticket_queue)  # type: ignore[arg-type]


def _one(when: str, **facts: object) -> bool:
    """Whether a single rule with condition `when` hits the mail."""
    ruleset = _ruleset(f'[[rules]]\nname = "r"\nwhen = {when}\nthen = {{ priority = "high" }}\n')
    out = evaluate(ruleset, RuleFacts(**facts))  # type: ignore[arg-type]
    return [h.name for h in out.hits] == ["r"]


def test_subject_plain_match_is_case_insensitive_substring() -> None:
    # A plain match finds "urgent" inside "URGENT: printer" regardless of case.
    assert _one('{ field = "subject", match = "urgent" }', subject="URGENT: printer")
    assert not _one('{ field = "subject", match = "urgent" }', subject="printer")


def test_case_sensitive_plain_match() -> None:
    # case_sensitive = true makes "VIP" miss "vip".
    assert not _one('{ field = "subject", match = "VIP", case_sensitive = true }', subject="vip client")
    assert _one('{ field = "subject", match = "VIP", case_sensitive = true }', subject="VIP client")


def test_body_regex_ukrainian_and_russian() -> None:
    # Cyrillic regexes match case-insensitively in Ukrainian and Russian bodies.
    when = '{ field = "body", regex = ["не\\\\s+працює", "не\\\\s+работает"] }'
    assert _one(when, text="Принтер НЕ ПРАЦЮЄ з ранку")
    assert _one(when, text="Почта не   работает")
    assert not _one(when, text="Все працює")


def test_text_field_reads_subject_or_body() -> None:
    # field "text" hits a word in the subject or in the body.
    assert _one('{ field = "text", match = "принтер" }', subject="Принтер", text="")
    assert _one('{ field = "text", match = "принтер" }', subject="", text="мій принтер")


def test_non_ascii_plain_match_uses_casefold() -> None:
    # Plain matching casefolds, so "ТЕРМІНОВО" in the subject hits "терміново".
    assert _one('{ field = "subject", match = "терміново" }', subject="ТЕРМІНОВО: мережа")


def test_header_condition_any_value_and_absent_header() -> None:
    # A header test reads every value of that header; an absent header matches nothing.
    when = '{ field = "header", header = "X-Spam-Flag", match = "yes" }'
    assert _one(when, headers=(("X-Spam-Flag", "NO"), ("x-spam-flag", "YES")))
    assert not _one(when, headers=(("Subject", "yes"),))


def test_from_address_and_domain() -> None:
    # "from" matches the whole address; "from_domain" the domain and its subdomains, not look-alikes.
    assert _one('{ field = "from", match = "Boss@Client.example" }', sender="boss@client.example")
    assert not _one('{ field = "from", match = "boss@client.example" }', sender="boss@client.example.net")
    when = '{ field = "from_domain", match = "client.example" }'
    assert _one(when, sender="a@mail.client.example")
    assert not _one(when, sender="a@badclient.example")


def test_recipient_and_to_cc_conditions() -> None:
    # "recipient" reads the envelope only; "to_cc" reads To and Cc.
    assert _one('{ field = "recipient", match = "billing@example.org" }', recipients=("billing@example.org",))
    assert not _one('{ field = "recipient", match = "billing@example.org" }', to_cc=("billing@example.org",))
    assert _one('{ field = "to_cc", regex = "^billing@" }', to_cc=("x@y.org", "billing@example.org"))


def test_attachment_condition_and_its_negation() -> None:
    # field "attachment" holds when a file is attached; not = true when none is.
    assert _one('{ field = "attachment" }', has_attachment=True)
    assert not _one('{ field = "attachment" }', has_attachment=False)
    assert _one('{ field = "attachment", not = true }', has_attachment=False)


def test_negated_field_condition() -> None:
    # not = true inverts a match.
    assert _one('{ field = "subject", match = "invoice", not = true }', subject="printer")
    assert not _one('{ field = "subject", match = "invoice", not = true }', subject="Invoice 12")


def test_all_any_and_negated_group() -> None:
    # all needs every child, any needs one, and not inverts a whole group.
    both = '{ all = [{ field = "subject", match = "a" }, { field = "body", match = "b" }] }'
    either = '{ any = [{ field = "subject", match = "a" }, { field = "body", match = "b" }] }'
    neither = '{ not = true, any = [{ field = "subject", match = "a" }, { field = "body", match = "b" }] }'
    assert _one(both, subject="a", text="b") and not _one(both, subject="a", text="x")
    assert _one(either, subject="x", text="b") and not _one(either, subject="x", text="y")
    assert _one(neither, subject="x", text="y") and not _one(neither, subject="a", text="y")


def test_rule_without_when_hits_every_mail() -> None:
    # A rule with no condition applies to all mail.
    out = _run('[[rules]]\nname = "all"\nthen = { tags = ["seen"] }\n')
    assert out.tags == ("seen",) and out.hits[0].name == "all"


def _facts_at(instant: datetime, rules: str, **facts: object) -> RuleOutcome:
    ruleset = _ruleset(rules)
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


ORDERED = """
[[rules]]
name = "first"
when = { field = "subject", match = "printer" }
then = { priority = "high", category = "hardware", tags = ["a"] }

[[rules]]
name = "second"
when = { field = "subject", match = "printer" }
then = { priority = "urgent", tags = ["b", "a"] }
"""


def test_rules_run_in_order_and_later_rules_overwrite() -> None:
    # Both rules hit in order; the later priority wins, tags accumulate without repeats.
    out = _run(ORDERED, subject="printer")
    assert [h.name for h in out.hits] == ["first", "second"]
    assert out.priority == "urgent" and out.category == "hardware" and out.tags == ("a", "b")
    assert out.hits[0].set_fields == (("category", "hardware"), ("priority", "high"), ("tags", "a"))


def test_stop_ends_evaluation() -> None:
    # stop = true on the first rule keeps the second from running.
    out = _run(ORDERED.replace('tags = ["a"] }\n', 'tags = ["a"] }\nstop = true\n', 1), subject="printer")
    assert [h.name for h in out.hits] == ["first"] and out.priority == "high"


def test_every_action_is_recorded() -> None:
    # One rule sets every field; the outcome and its hit say so.
    out = _run("""
[[rules]]
name = "all-actions"
[rules.then]
queue = "billing"
category = "hardware"
type = "incident"
priority = "urgent"
assignee = "Alice@Example.org"
tags = ["VIP"]
tier = "gold"
language = "uk"
suppress_ack = true
notify = { to = "oncall@example.org", template = "notify_oncall" }
""")
    assert (out.queue, out.category, out.type, out.priority) == ("billing", "hardware", "incident", "urgent")
    assert (out.assignee, out.tags, out.tier, out.language) == ("alice@example.org", ("vip",), "gold", "uk")
    assert out.suppress_ack and not out.spam
    assert [(n.to, n.template, n.rule) for n in out.notify] == [("oncall@example.org", "notify_oncall",
                                                                  "all-actions")]
    assert {f for f, _ in out.hits[0].set_fields} >= {"queue", "assignee", "suppress_ack", "notify", "tier"}


def test_spam_action() -> None:
    # spam = true marks the outcome as spam.
    out = _run('[[rules]]\nname = "s"\nwhen = { field = "header", header = "X-Spam-Flag", match = "yes" }\n'
               'then = { spam = true }\n', headers=(("X-Spam-Flag", "YES"),))
    assert out.spam and out.hits[0].set_fields == (("spam", "true"),)


def test_queue_by_envelope_first_then_to_cc() -> None:
    # The envelope recipient decides before To/Cc; To/Cc decide when the envelope names no queue.
    out = _run("", recipients=("services@example.org",), to_cc=("billing@example.org",))
    assert out.queue == "services" and out.other_queues == ("billing",)
    assert _run("", to_cc=("x@y.org", "billing@example.org")).queue == "billing"


def test_two_support_addresses_make_one_queue_in_config_order() -> None:
    # A mail to billing@ and services@ lands in billing (declared first) and records services.
    out = _run("", recipients=("services@example.org", "billing@example.org"))
    assert out.queue == "billing" and out.other_queues == ("services",)


def test_unclaimed_mail_goes_to_first_queue_with_its_defaults() -> None:
    # No queue address: the first queue, category other, priority normal.
    out = _run("", recipients=("someone@else.org",))
    assert (out.queue, out.category, out.priority, out.other_queues) == ("general", "other", "normal", ())


def test_queue_defaults_follow_the_final_queue() -> None:
    # A rule moving a mail to billing gives it billing's default category and priority.
    out = _run('[[rules]]\nname = "m"\nthen = { queue = "billing" }\n', recipients=("support@example.org",))
    assert (out.queue, out.category, out.priority) == ("billing", "billing", "low")
    assert out.other_queues == ("general",)


def test_followups_only_meet_rules_marked_for_them() -> None:
    # On a follow-up only on_followups rules run, the queue stays, and `changed` says what to write.
    rules = ('[[rules]]\nname = "new-only"\nthen = { priority = "high" }\n'
             '[[rules]]\nname = "both"\nthen = { tier = "gold" }\non_followups = true\n')
    out = _run(rules, ticket_queue="services", recipients=("billing@example.org",))
    assert [h.name for h in out.hits] == ["both"]
    assert out.queue == "services" and out.changed == frozenset({"tier"})


def test_importance_high_default_rule() -> None:
    # Importance: high or X-Priority: 1 gives priority high; the default can be turned off.
    assert _run("", importance_high=True, headers=(("Importance", "High"),)).priority == "high"
    hit = _run("", importance_high=True, headers=(("X-Priority", "1 (Highest)"),))
    assert hit.priority == "high" and hit.hits[0].name == IMPORTANCE_RULE
    assert _run("", importance_high=True, headers=(("X-Priority", "3 (Normal)"),)).priority == "normal"
    assert _run("", importance_high=False, headers=(("Importance", "high"),)).priority == "normal"


def test_user_rule_overrides_importance() -> None:
    # The importance rule runs first, so an admin's rule can lower the priority again.
    out = _run('[[rules]]\nname = "low"\nwhen = { field = "from_domain", match = "robot.example" }\n'
               'then = { priority = "low" }\n', importance_high=True,
               headers=(("Importance", "high"),), sender="x@robot.example")
    assert out.priority == "low" and [h.name for h in out.hits] == [IMPORTANCE_RULE, "low"]
