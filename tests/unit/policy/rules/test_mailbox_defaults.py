"""IMAP mailbox defaults: mail fetched from a mailbox starts in its queue and category."""

from __future__ import annotations

import tomllib
from pathlib import Path

from maildesk.config import routing_settings
from maildesk.policy.rules import MailboxDefaults, RuleFacts, RuleSet, compile_ruleset, evaluate

CONFIG = """
[[queues]]
name = "general"
addresses = ["support@example.org"]

[[queues]]
name = "billing"
addresses = ["billing@example.org"]
default_category = "billing"

[[categories]]
name = "billing"

[[categories]]
name = "hardware"
"""


def _ruleset(rules: str = "") -> RuleSet:
    return compile_ruleset(routing_settings(Path("t.conf"), tomllib.loads(CONFIG + rules), {"importance_high": False}))


def test_mailbox_queue_wins_over_the_desk_address() -> None:
    # The billing mailbox's mail carries the desk address as recipient, yet lands in billing.
    out = evaluate(_ruleset(), RuleFacts(recipients=("support@example.org",)), mailbox=MailboxDefaults("billing"))
    assert (out.queue, out.category, out.other_queues) == ("billing", "billing", ("general",))


def test_mailbox_category_fills_what_no_rule_set() -> None:
    # A mailbox category is the default; the queue's own default does not override it.
    out = evaluate(_ruleset(), RuleFacts(), mailbox=MailboxDefaults("billing", "hardware"))
    assert (out.queue, out.category) == ("billing", "hardware")


def test_rules_still_override_mailbox_defaults() -> None:
    # A rule that sets the category has the last word.
    rules = '[[rules]]\nname = "r"\nwhen = { field = "subject", match = "invoice" }\nthen = { category = "billing" }\n'
    out = evaluate(_ruleset(rules), RuleFacts(subject="invoice 42"), mailbox=MailboxDefaults("general", "hardware"))
    assert (out.queue, out.category) == ("general", "billing")


def test_follow_up_keeps_its_ticket_queue() -> None:
    # A reply fetched from another mailbox does not move an existing ticket.
    out = evaluate(_ruleset(), RuleFacts(), ticket_queue="general", mailbox=MailboxDefaults("billing"))
    assert out.queue == "general"
