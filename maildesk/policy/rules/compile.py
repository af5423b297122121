"""Compiling the config's `[[queues]]` and `[[rules]]` into a frozen :class:`RuleSet`, once. Pure."""

from __future__ import annotations

import re

from maildesk.config import ActionSettings, ConditionSettings, RoutingSettings, RuleSettings
from maildesk.policy.rules.conditions import (
    AllOf,
    Always,
    AnyOf,
    Condition,
    FieldMatch,
    HasAttachment,
    IsAbusive,
    WorkingHours,
)
from maildesk.policy.rules.engine import Queue, Rule, RuleSet

#: The name of the built-in rule that honours the requester's own "high importance" flag.
IMPORTANCE_RULE = "requester-importance"

_PLAIN_MODE = {"recipient": "equals", "to_cc": "equals", "from": "equals", "from_domain": "domain",
               "language": "equals"}


def compile_ruleset(routing: RoutingSettings) -> RuleSet:
    """The RuleSet for validated settings; the importance rule comes first unless turned off."""
    rules = tuple(_rule(r) for r in routing.rules)
    if routing.importance_high:
        rules = (_importance_rule(), *rules)
    queues = tuple(Queue(name=q.name, addresses=frozenset(q.addresses), agents=q.agents, calendar=q.calendar,
                         default_category=q.default_category, default_priority=q.default_priority)
                   for q in routing.queues)
    return RuleSet(rules=rules, queues=queues, categories=tuple(c.name for c in routing.categories))


def _rule(spec: RuleSettings) -> Rule:
    when: Condition = Always() if spec.when is None else compile_condition(spec.when)
    return Rule(name=spec.name, when=when, then=spec.then, description=spec.description, stop=spec.stop,
                on_followups=spec.on_followups)


def compile_condition(spec: ConditionSettings) -> Condition:
    """The condition object for one validated `when` table."""
    if spec.group:
        children = tuple(compile_condition(c) for c in spec.children)
        return AllOf(children, spec.negate) if spec.group == "all" else AnyOf(children, spec.negate)
    if spec.field == "attachment":
        return HasAttachment(spec.negate)
    if spec.field == "abusive":
        return IsAbusive(spec.negate)
    if spec.field == "hours":
        return WorkingHours(inside=spec.patterns[0] == "inside", calendar=spec.calendar, negate=spec.negate)
    if spec.regex:
        patterns = tuple(re.compile(p) if spec.case_sensitive else _folded_regex(p) for p in spec.patterns)
        return FieldMatch(spec.field, patterns=patterns, header=spec.header,
                          case_sensitive=spec.case_sensitive, negate=spec.negate)
    needles = spec.patterns if spec.case_sensitive else tuple(p.lower() for p in spec.patterns)
    return FieldMatch(spec.field, needles=needles, mode=_PLAIN_MODE.get(spec.field, "contains"),
                      header=spec.header, case_sensitive=spec.case_sensitive, negate=spec.negate)


def _folded_regex(pattern: str) -> re.Pattern[str]:
    """A case-insensitive regex that searches lowercased text.

    re.IGNORECASE on non-ASCII text is about ten times slower than a plain
    search, and rules search Cyrillic bodies many times per mail. Lowercasing
    the pattern's literal characters (never an escape: \\S must stay \\S) and
    the text gives the same matches for ordinary patterns. Inline flags and
    escapes that name characters by number or name (\\N, \\x, \\u, octal,
    backreferences) could change meaning, so such patterns keep IGNORECASE;
    so does one whose folded form does not compile.
    """
    if re.search(r"\(\?[^:=!]|\\[NxuU0-9]", pattern):
        return re.compile(pattern, re.IGNORECASE)
    out: list[str] = []
    escaped = False
    for ch in pattern:
        out.append(ch if escaped else ch.lower())
        escaped = not escaped and ch == "\\"
    try:
        return re.compile("".join(out))
    except re.error:
        return re.compile(pattern, re.IGNORECASE)


def _importance_rule() -> Rule:
    # Outlook writes "Importance: high"; X-Priority 1 (highest) and 2 (high) come from
    # Thunderbird, Apple Mail and older clients; X-MSMail-Priority from Outlook Express.
    when = AnyOf((
        FieldMatch("header", header="importance", patterns=(re.compile(r"^\s*high\b"),)),
        FieldMatch("header", header="x-priority", patterns=(re.compile(r"^\s*[12]\b"),)),
        FieldMatch("header", header="x-msmail-priority", patterns=(re.compile(r"^\s*high\b"),)),
    ))
    return Rule(name=IMPORTANCE_RULE, when=when, then=ActionSettings(priority="high"),
                description="the requester marked the mail as high importance")
