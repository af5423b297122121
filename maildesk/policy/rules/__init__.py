"""Rules: route, classify and prioritise a request from plain facts about its mail.

The config's `[[queues]]` and `[[rules]]` are compiled once into a frozen
:class:`RuleSet`: a table of small :class:`Rule` objects, each with a name, a
pure condition and the actions it takes. :func:`evaluate` routes the mail to a
queue by address, walks the rules in order and returns a :class:`RuleOutcome`
that records which rules hit and what each set, so a ticket can show why it
ended up where it is. Nothing here touches the mail parser, the store or the
clock: the caller supplies :class:`RuleFacts`, including which calendars are
in working hours at the mail's instant.

The parts: :mod:`.facts` (what rules may look at), :mod:`.conditions` (the pure tests),
:mod:`.engine` (queues, rules, routing and the walk) and :mod:`.compile` (from settings).
"""

from maildesk.policy.rules.compile import IMPORTANCE_RULE, compile_condition, compile_ruleset
from maildesk.policy.rules.conditions import (
    AllOf,
    Always,
    AnyOf,
    Condition,
    FieldMatch,
    HasAttachment,
    WorkingHours,
)
from maildesk.policy.rules.engine import (
    MailboxDefaults,
    Notice,
    Queue,
    Rule,
    RuleHit,
    RuleOutcome,
    RuleSet,
    evaluate,
    route,
)
from maildesk.policy.rules.facts import MailView, RuleFacts

__all__ = [
    "IMPORTANCE_RULE",
    "AllOf",
    "Always",
    "AnyOf",
    "Condition",
    "FieldMatch",
    "HasAttachment",
    "MailView",
    "MailboxDefaults",
    "Notice",
    "Queue",
    "Rule",
    "RuleFacts",
    "RuleHit",
    "RuleOutcome",
    "RuleSet",
    "WorkingHours",
    "compile_condition",
    "compile_ruleset",
    "evaluate",
    "route",
]
