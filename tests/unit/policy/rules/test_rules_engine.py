"""The rule engine: rules in order and stop, every action, routing to queues, follow-ups."""

from __future__ import annotations

from rules_config import run

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
    out = run(ORDERED, subject="printer")
    assert [h.name for h in out.hits] == ["first", "second"]
    assert out.priority == "urgent" and out.category == "hardware" and out.tags == ("a", "b")
    assert out.hits[0].set_fields == (("category", "hardware"), ("priority", "high"), ("tags", "a"))


def test_stop_ends_evaluation() -> None:
    # stop = true on the first rule keeps the second from running.
    out = run(ORDERED.replace('tags = ["a"] }\n', 'tags = ["a"] }\nstop = true\n', 1), subject="printer")
    assert [h.name for h in out.hits] == ["first"] and out.priority == "high"


def test_every_action_is_recorded() -> None:
    # One rule sets every field; the outcome and its hit say so.
    out = run("""
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
    out = run('[[rules]]\nname = "s"\nwhen = { field = "header", header = "X-Spam-Flag", match = "yes" }\n'
              'then = { spam = true }\n', headers=(("X-Spam-Flag", "YES"),))
    assert out.spam and out.hits[0].set_fields == (("spam", "true"),)


def test_queue_by_envelope_first_then_to_cc() -> None:
    # The envelope recipient decides before To/Cc; To/Cc decide when the envelope names no queue.
    out = run("", recipients=("services@example.org",), to_cc=("billing@example.org",))
    assert out.queue == "services" and out.other_queues == ("billing",)
    assert run("", to_cc=("x@y.org", "billing@example.org")).queue == "billing"


def test_two_support_addresses_make_one_queue_in_config_order() -> None:
    # A mail to billing@ and services@ lands in billing (declared first) and records services.
    out = run("", recipients=("services@example.org", "billing@example.org"))
    assert out.queue == "billing" and out.other_queues == ("services",)


def test_unclaimed_mail_goes_to_first_queue_with_its_defaults() -> None:
    # No queue address: the first queue, category other, priority normal.
    out = run("", recipients=("someone@else.org",))
    assert (out.queue, out.category, out.priority, out.other_queues) == ("general", "other", "normal", ())


def test_queue_defaults_follow_the_final_queue() -> None:
    # A rule moving a mail to billing gives it billing's default category and priority.
    out = run('[[rules]]\nname = "m"\nthen = { queue = "billing" }\n', recipients=("support@example.org",))
    assert (out.queue, out.category, out.priority) == ("billing", "billing", "low")
    assert out.other_queues == ("general",)


def test_followups_only_meet_rules_marked_for_them() -> None:
    # On a follow-up only on_followups rules run, the queue stays, and `changed` says what to write.
    rules = ('[[rules]]\nname = "new-only"\nthen = { priority = "high" }\n'
             '[[rules]]\nname = "both"\nthen = { tier = "gold" }\non_followups = true\n')
    out = run(rules, ticket_queue="services", recipients=("billing@example.org",))
    assert [h.name for h in out.hits] == ["both"]
    assert out.queue == "services" and out.changed == frozenset({"tier"})

