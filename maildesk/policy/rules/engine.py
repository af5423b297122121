"""The rule engine: route a mail to a queue, walk the rule table, record what each rule set. Pure.

A frozen :class:`RuleSet` is a table of small :class:`Rule` objects, each with a name, a pure
condition and the actions it takes. :func:`evaluate` routes the mail to a queue by address, walks
the rules in order and returns a :class:`RuleOutcome` that records which rules hit and what each
set, so a ticket can show why it ended up where it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from maildesk.config import DEFAULT_CALENDAR, OTHER_CATEGORY, ActionSettings
from maildesk.policy.rules.conditions import Condition
from maildesk.policy.rules.facts import MailView, RuleFacts


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
    abuse: tuple[str, ...] = ()  # what made maildesk.policy.abuse call the mail abusive (kind:stem)


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

