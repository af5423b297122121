"""Rules: route, classify and prioritise a request from plain facts about its mail.

The config's `[[queues]]` and `[[rules]]` are compiled once into a frozen
:class:`RuleSet`: a table of small :class:`Rule` objects, each with a name, a
pure condition and the actions it takes. :func:`evaluate` routes the mail to a
queue by address, walks the rules in order and returns a :class:`RuleOutcome`
that records which rules hit and what each set, so a ticket can show why it
ended up where it is. Nothing here touches the mail parser, the store or the
clock: the caller supplies :class:`RuleFacts`, including which calendars are
in working hours at the mail's instant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from maildesk.config import (
    DEFAULT_CALENDAR,
    OTHER_CATEGORY,
    ActionSettings,
    ConditionSettings,
    RoutingSettings,
    RuleSettings,
)

__all__ = [
    "IMPORTANCE_RULE",
    "AllOf",
    "Always",
    "AnyOf",
    "Condition",
    "FieldMatch",
    "HasAttachment",
    "MailView",
    "Notice",
    "Queue",
    "Rule",
    "RuleFacts",
    "RuleHit",
    "RuleOutcome",
    "RuleSet",
    "WorkingHours",
    "compile_ruleset",
    "evaluate",
    "route",
]

#: The name of the built-in rule that honours the requester's own "high importance" flag.
IMPORTANCE_RULE = "requester-importance"


@dataclass(frozen=True)
class RuleFacts:
    """What rules may look at in one mail; addresses are lowercased by whoever builds this."""

    recipients: tuple[str, ...] = ()
    to_cc: tuple[str, ...] = ()
    sender: str = ""
    subject: str = ""
    text: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    has_attachment: bool = False
    working_calendars: frozenset[str] = frozenset()


class MailView:
    """The facts of one evaluation with per-field values prepared once, however many rules ask."""

    __slots__ = ("_cache", "_headers", "calendars", "default_calendar", "facts")

    def __init__(self, facts: RuleFacts, calendars: Mapping[str, str], default_calendar: str) -> None:
        self.facts = facts
        self.calendars = calendars
        self.default_calendar = default_calendar
        self._cache: dict[tuple[str, str, bool], tuple[str, ...]] = {}
        self._headers: dict[str, tuple[str, ...]] | None = None

    def values(self, name: str, header: str, case_sensitive: bool) -> tuple[str, ...]:
        """The strings condition field `name` tests, casefolded unless `case_sensitive`."""
        key = (name, header, case_sensitive)
        found = self._cache.get(key)
        if found is None:
            found = self._raw(name, header)
            if not case_sensitive:
                found = tuple(v.lower() for v in found)
            self._cache[key] = found
        return found

    def working(self, queue: str, calendar: str) -> bool:
        """Whether the mail's instant is in working hours of `calendar`, else of `queue`'s calendar."""
        name = calendar or self.calendars.get(queue, self.default_calendar)
        return name in self.facts.working_calendars

    def _raw(self, name: str, header: str) -> tuple[str, ...]:
        f = self.facts
        by_field: dict[str, tuple[str, ...]] = {
            "recipient": f.recipients, "to_cc": f.to_cc, "from": (f.sender,),
            "from_domain": (f.sender.rpartition("@")[2],), "subject": (f.subject,), "body": (f.text,),
            "text": (f.subject, f.text),
        }
        if name == "header":
            return self._header_values(header)
        return by_field[name]

    def _header_values(self, header: str) -> tuple[str, ...]:
        if self._headers is None:
            collected: dict[str, list[str]] = {}
            for key, value in self.facts.headers:
                collected.setdefault(key.lower(), []).append(value)
            self._headers = {k: tuple(v) for k, v in collected.items()}
        return self._headers.get(header.lower(), ())


class Condition(Protocol):
    """A pure test of one mail; `queue` is the queue chosen so far (for the working-hours test)."""

    def check(self, view: MailView, queue: str) -> bool:
        """True when the mail satisfies the condition."""
        ...


@dataclass(frozen=True, slots=True)
class Always:
    """A rule without `when` applies to every mail."""

    def check(self, view: MailView, queue: str) -> bool:
        """Always true."""
        return True


@dataclass(frozen=True, slots=True)
class FieldMatch:
    """One field against plain strings or regexes; `mode` says what a plain match means for it."""

    field: str
    needles: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()
    mode: str = "contains"  # "contains" for text, "equals" for addresses, "domain" for from_domain
    header: str = ""
    case_sensitive: bool = False
    negate: bool = False

    def check(self, view: MailView, queue: str) -> bool:
        """True when any value of the field matches any needle or pattern (inverted by `negate`)."""
        # Plain loops, not any(): this runs for every rule on every mail (see bench/rules.py).
        # A case-insensitive regex was compiled folded (see _folded_regex) and reads folded values.
        values = view.values(self.field, self.header, self.case_sensitive)
        for pattern in self.patterns:
            for value in values:
                if pattern.search(value):
                    return not self.negate
        contains = self.mode == "contains"
        for needle in self.needles:
            for value in values:
                if (needle in value) if contains else _plain_hit(self.mode, needle, value):
                    return not self.negate
        return self.negate


def _plain_hit(mode: str, needle: str, value: str) -> bool:
    if mode == "equals":
        return needle == value
    if mode == "domain":
        # A domain also covers its subdomains: example.org matches mail.example.org.
        return value == needle or value.endswith("." + needle)
    return needle in value


@dataclass(frozen=True, slots=True)
class HasAttachment:
    """The mail carries at least one attachment."""

    negate: bool = False

    def check(self, view: MailView, queue: str) -> bool:
        """True when there is an attachment (inverted by `negate`)."""
        return view.facts.has_attachment != self.negate


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """The mail arrived inside (or outside) working hours of a calendar, by default its queue's."""

    inside: bool
    calendar: str = ""
    negate: bool = False

    def check(self, view: MailView, queue: str) -> bool:
        """True when the working-hours state is the wanted one (inverted by `negate`)."""
        return (view.working(queue, self.calendar) == self.inside) != self.negate


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every child condition holds."""

    children: tuple[Condition, ...]
    negate: bool = False

    def check(self, view: MailView, queue: str) -> bool:
        """True when all children hold (inverted by `negate`)."""
        return all(c.check(view, queue) for c in self.children) != self.negate


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one child condition holds."""

    children: tuple[Condition, ...]
    negate: bool = False

    def check(self, view: MailView, queue: str) -> bool:
        """True when any child holds (inverted by `negate`)."""
        return any(c.check(view, queue) for c in self.children) != self.negate


@dataclass(frozen=True)
class Notice:
    """Mail `template` about the ticket to `to`, because rule `rule` said so."""

    to: str
    template: str
    rule: str


_SCALAR_ACTIONS = ("queue", "category", "type", "priority", "assignee", "tier", "language")


@dataclass(frozen=True)
class Rule:
    """One row of the rule table: when `when` holds, `then` is applied; `stop` ends the walk."""

    name: str
    when: Condition
    then: ActionSettings
    description: str = ""
    stop: bool = False
    on_followups: bool = False
    assignments: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The single-valued fields `then` sets, worked out once rather than on every hit.
        then = self.then
        pairs = [(name, getattr(then, name)) for name in _SCALAR_ACTIONS if getattr(then, name) is not None]
        pairs += [(flag, "true") for flag in ("suppress_ack", "spam") if getattr(then, flag)]
        object.__setattr__(self, "assignments", tuple(pairs))


@dataclass(frozen=True)
class Queue:
    """A queue: the support addresses it owns, its agents and calendar, and its ticket defaults."""

    name: str
    addresses: frozenset[str] = frozenset()
    agents: tuple[str, ...] = ()
    calendar: str = DEFAULT_CALENDAR
    default_category: str = OTHER_CATEGORY
    default_priority: str = "normal"


@dataclass(frozen=True)
class RuleSet:
    """Queues and rules, compiled once; the first queue takes mail no address routes elsewhere."""

    rules: tuple[Rule, ...] = ()
    queues: tuple[Queue, ...] = ()
    categories: tuple[str, ...] = (OTHER_CATEGORY,)
    default_calendar: str = DEFAULT_CALENDAR
    queue_calendars: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "queue_calendars", {q.name: q.calendar for q in self.queues})

    def queue(self, name: str) -> Queue | None:
        """The queue called `name`, if any."""
        return next((q for q in self.queues if q.name == name), None)


@dataclass(frozen=True)
class RuleHit:
    """A rule that matched, and the fields it set as (field, value) pairs."""

    name: str
    set_fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RuleOutcome:
    """What routing and the rules decided; for follow-ups only the fields in `changed` apply."""

    queue: str
    other_queues: tuple[str, ...]
    category: str
    priority: str
    type: str
    assignee: str
    tier: str
    language: str
    tags: tuple[str, ...]
    suppress_ack: bool
    spam: bool
    notify: tuple[Notice, ...]
    hits: tuple[RuleHit, ...]
    changed: frozenset[str]


class _State:
    """What the walk has set so far; local to one evaluate() call."""

    __slots__ = ("notify", "queue", "set", "tags")

    def __init__(self, queue: str) -> None:
        self.queue = queue
        self.set: dict[str, str] = {}
        self.tags: list[str] = []
        self.notify: list[Notice] = []

    def apply(self, rule: Rule) -> RuleHit:
        """Apply `rule`'s actions; later rules overwrite single fields, tags and notices accumulate."""
        done = list(rule.assignments)
        self.set.update(done)
        then = rule.then
        if then.tags:
            self.tags.extend(t for t in then.tags if t not in self.tags)
            done.append(("tags", ",".join(then.tags)))
        for n in then.notify:
            self.notify.append(Notice(n.to, n.template, rule.name))
            done.append(("notify", f"{n.to} ({n.template})"))
        self.queue = self.set.get("queue", self.queue)
        return RuleHit(rule.name, tuple(done))


@dataclass(frozen=True)
class MailboxDefaults:
    """Where mail fetched from one IMAP mailbox starts: its `[[imap]]` queue and category."""

    queue: str = ""
    category: str = ""


def route(ruleset: RuleSet, facts: RuleFacts) -> tuple[str, tuple[str, ...]]:
    """The queue for a new mail and the other queues it was also addressed to.

    Envelope recipients decide first, then To/Cc; within each, queues keep their
    config order. A mail no queue claims goes to the first queue ("" when none).
    """
    matched: list[str] = []
    for addresses in (facts.recipients, facts.to_cc):
        wanted = frozenset(addresses)
        matched.extend(q.name for q in ruleset.queues if q.addresses & wanted and q.name not in matched)
    if not matched:
        return (ruleset.queues[0].name if ruleset.queues else ""), ()
    return matched[0], tuple(matched[1:])


def evaluate(ruleset: RuleSet, facts: RuleFacts, *, ticket_queue: str | None = None,
             mailbox: MailboxDefaults | None = None) -> RuleOutcome:
    """Route and walk the rules for a new mail, or, given `ticket_queue`, for a follow-up.

    A follow-up keeps its ticket's queue and only meets rules marked `on_followups`. Mail
    fetched from an IMAP mailbox with defaults starts in that mailbox's queue and category,
    the way an envelope recipient would place it; rules may still change both.
    """
    followup = ticket_queue is not None
    routed, others = (ticket_queue or "", ()) if followup else route(ruleset, facts)
    if mailbox is not None and mailbox.queue and not followup:
        routed, others = mailbox.queue, tuple(q for q in (routed, *others) if q and q != mailbox.queue)
    view = MailView(facts, ruleset.queue_calendars, ruleset.default_calendar)
    state = _State(routed)
    hits: list[RuleHit] = []
    for rule in ruleset.rules:
        if followup and not rule.on_followups:
            continue
        if rule.when.check(view, state.queue):
            hits.append(state.apply(rule))
            if rule.stop:
                break
    category = mailbox.category if mailbox is not None and mailbox.category else ""
    return _outcome(ruleset, state, (routed, *others), tuple(hits), category)


def _outcome(ruleset: RuleSet, state: _State, addressed: tuple[str, ...],
             hits: tuple[RuleHit, ...], mailbox_category: str = "") -> RuleOutcome:
    s = state.set
    queue = ruleset.queue(state.queue)
    # Defaults fill what no rule set: the mailbox's category, else the final queue's.
    default_category = mailbox_category or (queue.default_category if queue else OTHER_CATEGORY)
    return RuleOutcome(
        queue=state.queue,
        other_queues=tuple(q for q in addressed if q and q != state.queue),
        category=s.get("category", default_category),
        priority=s.get("priority", queue.default_priority if queue else "normal"),
        type=s.get("type", "request"),
        assignee=s.get("assignee", ""),
        tier=s.get("tier", ""),
        language=s.get("language", ""),
        tags=tuple(state.tags),
        suppress_ack="suppress_ack" in s,
        spam="spam" in s,
        notify=tuple(state.notify),
        hits=hits,
        changed=frozenset(s) | ({"tags"} if state.tags else set()),
    )


# ---------------------------------------------------------------------------
# Compiling the config

_PLAIN_MODE = {"recipient": "equals", "to_cc": "equals", "from": "equals", "from_domain": "domain"}


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
