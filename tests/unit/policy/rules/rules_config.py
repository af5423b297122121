"""A small routing config for the rule tests: three queues, two categories, an office calendar."""

from __future__ import annotations

import tomllib
from pathlib import Path

from maildesk.config import routing_settings
from maildesk.policy.rules import RuleFacts, RuleOutcome, RuleSet, compile_ruleset, evaluate

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


def compiled(rules: str, importance_high: bool = False) -> RuleSet:
    """The compiled RuleSet of the queues above plus `rules` (TOML)."""
    data = tomllib.loads(QUEUES + rules)
    return compile_ruleset(routing_settings(Path("t.conf"), data, {"importance_high": importance_high}))


def run(rules: str, importance_high: bool = False, ticket_queue: str | None = None,
        **facts: object) -> RuleOutcome:
    """Evaluate `rules` for a mail with `facts` (a follow-up when `ticket_queue` is given)."""
    return evaluate(compiled(rules, importance_high), RuleFacts(**facts), ticket_queue=ticket_queue)  # type: ignore[arg-type]


def one_rule_hits(when: str, **facts: object) -> bool:
    """Whether a single rule with condition `when` hits the mail."""
    ruleset = compiled(f'[[rules]]\nname = "r"\nwhen = {when}\nthen = {{ priority = "high" }}\n')
    out = evaluate(ruleset, RuleFacts(**facts))  # type: ignore[arg-type]
    return [h.name for h in out.hits] == ["r"]
