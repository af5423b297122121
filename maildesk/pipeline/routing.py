"""Rules at work on a real mail: the shell around the pure engine in maildesk.policy.rules.

Builds :class:`RuleFacts` from a parsed mail and its envelope, turns a
:class:`RuleOutcome` into steps of a ticket change with an event that records
which rules hit, picks the acknowledgement template for the ticket's category,
and renders the notices rules ask for. The pipeline and `maildesk rules test` both use it,
so a dry run decides exactly what processing would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from maildesk.config import Settings
from maildesk.domain import Address
from maildesk.domain.ticket import FieldName, Record, SetField, Step
from maildesk.errors import ConfigError
from maildesk.mail.parse import ParsedMail
from maildesk.notices.notifier import Draft, MailSummary, Notifier, TicketSummary, variant
from maildesk.notices.render import Renderer
from maildesk.policy.abuse import Lexicon, classify
from maildesk.policy.calendar import Calendar, build_calendars, working_calendars
from maildesk.policy.kb.text import guess_language
from maildesk.policy.rules import (
    MailboxDefaults,
    RuleFacts,
    RuleHit,
    RuleOutcome,
    RuleSet,
    compile_ruleset,
    evaluate,
)

#: The tag an abusive mail gives its ticket; rules may give it too, with the same consequences.
ABUSIVE = "abusive"
#: Public-holiday data is loaded for this many years around the start-up year.
HOLIDAY_YEARS_BEFORE, HOLIDAY_YEARS_AFTER = 1, 3

#: Body and text conditions read this many leading characters. What a request is about is
#: said at its start; the rest of a long body is pasted logs or quoted history, and scanning
#: it with every rule would cost milliseconds per mail.
RULES_TEXT_LIMIT = 8000
#: The language guess and the abusive-mail classifier read this much: what a person writes, insults
#: included, comes first; pasted logs and quoted history after it would only cost time
#: (bench/rules.py: about 2 ms more per 20 KB mail when they read the 8000 characters rules do).
WORDS_TEXT_LIMIT = 2000
#: A few sentences tell Ukrainian from Russian as well as a page does.
LANGUAGE_TEXT_LIMIT = 600


@dataclass(frozen=True)
class Routing:
    """The compiled rule set and the calendars its working-hours tests read, and, beside the rules,
    the abusive-mail lexicon (None: off) and whom an abusive mail is raised to, by queue."""

    ruleset: RuleSet
    calendars: Mapping[str, Calendar]
    mailboxes: Mapping[str, MailboxDefaults] = field(default_factory=dict)
    abuse: Lexicon | None = None
    leads: Mapping[str, str] = field(default_factory=dict)
    lead: str = ""

    @classmethod
    def from_settings(cls, settings: Settings, renderer: Renderer, today: date) -> Routing:
        """Compile the config's routing; ConfigError when a calendar or a notice template is wrong."""
        years = range(today.year - HOLIDAY_YEARS_BEFORE, today.year + HOLIDAY_YEARS_AFTER + 1)
        calendars = build_calendars(settings.routing.calendars, years)
        ruleset = compile_ruleset(settings.routing)
        for rule in ruleset.rules:
            for n in rule.then.notify:
                if not any(renderer.exists(n.template, lang) for lang in ("en", settings.desk.language)):
                    raise ConfigError(f"rule {rule.name!r}: no template {n.template!r} for its notify "
                                      f"(looked for en/{n.template}.txt.j2)")
        abuse = settings.abuse
        lexicon = Lexicon.with_extra(abuse.insults, abuse.threats, abuse.threshold) if abuse.enabled else None
        return cls(ruleset=ruleset, calendars=calendars, mailboxes=_mailbox_defaults(settings, ruleset),
                   abuse=lexicon, leads={q.name: q.lead for q in settings.routing.queues if q.lead},
                   lead=abuse.lead)

    def evaluate(self, parsed: ParsedMail, rcpt_to: Sequence[str], at: datetime,
                 ticket_queue: str | None = None, source: str = "") -> RuleOutcome:
        """Route and classify `parsed`, received at `at`; a follow-up passes its ticket's queue.

        `source` is the inbound row's source; ``imap:NAME`` applies that mailbox's defaults."""
        facts = facts_for(parsed, rcpt_to, working_calendars(self.calendars, at))
        said = f"{facts.subject}\n{facts.text[:WORDS_TEXT_LIMIT]}"
        verdict = classify(said, self.abuse) if self.abuse is not None else None
        if verdict is not None and verdict.abusive:
            facts = replace(facts, abusive=True)
        mailbox = self.mailboxes.get(source.removeprefix("imap:")) if source.startswith("imap:") else None
        outcome = evaluate(self.ruleset, facts, ticket_queue=ticket_queue, mailbox=mailbox)
        return self._raised(outcome, verdict.hits) if facts.abusive and verdict is not None else outcome

    def _raised(self, outcome: RuleOutcome, hits: tuple[str, ...]) -> RuleOutcome:
        """An abusive mail's outcome: tagged `abusive`, and given to the queue's lead unless a rule
        named an assignee."""
        tags = outcome.tags if ABUSIVE in outcome.tags else (*outcome.tags, ABUSIVE)
        return replace(outcome, tags=tags, assignee=outcome.assignee or self.lead_of(outcome.queue),
                       abuse=hits, changed=outcome.changed | {"tags"})

    def lead_of(self, queue: str) -> str:
        """Who an abusive mail in `queue` is raised to: its lead, else `[abuse] lead`, else nobody."""
        return self.leads.get(queue, self.lead)

    def queue_agents(self, queue: str) -> frozenset[str]:
        """The agents a queue names; empty means every active agent works it."""
        found = self.ruleset.queue(queue)
        return frozenset(found.agents) if found else frozenset()


def _mailbox_defaults(settings: Settings, ruleset: RuleSet) -> dict[str, MailboxDefaults]:
    """Each `[[imap]]` account's queue and category, checked against the configured ones."""
    found: dict[str, MailboxDefaults] = {}
    for account in settings.imap:
        if account.queue and ruleset.queue(account.queue) is None:
            raise ConfigError(f"imap {account.name!r}: queue {account.queue!r} is not a configured queue")
        if account.category and account.category not in ruleset.categories:
            raise ConfigError(f"imap {account.name!r}: category {account.category!r} is not a configured "
                              "category")
        if account.queue or account.category:
            found[account.name] = MailboxDefaults(account.queue, account.category)
    return found


def facts_for(parsed: ParsedMail, rcpt_to: Sequence[str], working: frozenset[str]) -> RuleFacts:
    """What the rules may see of one mail."""
    return RuleFacts(
        recipients=tuple(a.strip().lower() for a in rcpt_to),
        to_cc=tuple(a.key for a in (*parsed.to, *parsed.cc)),
        sender=parsed.sender.key if parsed.sender else "",
        subject=parsed.subject,
        text=parsed.text[:RULES_TEXT_LIMIT],
        headers=parsed.headers,
        has_attachment=bool(parsed.attachments),
        working_calendars=working,
        language=guess_language(f"{parsed.subject}\n{parsed.text[:LANGUAGE_TEXT_LIMIT]}", "", tie=""),
    )


def ack_template(renderer: Renderer, category: str, language: str, kind: str = "request") -> str:
    """The acknowledgement for a ticket of type `kind` in `category`: `ack/<type>/<category>`,
    `ack/<type>`, `ack/<category>`, the first that exists in the ticket's language, else `ack`."""
    ticket = TicketSummary(0, "", "", "", category, language, Address(""), type=kind)
    return variant(renderer, "ack", ticket)


@dataclass(frozen=True)
class RuleSteps:
    """What the rules decided, as steps on a ticket: the fields, and the `rules` event (None when no
    rule matched) that records which rules hit."""

    fields: tuple[SetField, ...]
    record: Record | None

    @property
    def records(self) -> tuple[Record, ...]:
        """The event, when there is one."""
        return (self.record,) if self.record is not None else ()

    @property
    def steps(self) -> tuple[Step, ...]:
        """The fields, then the event."""
        return (*self.fields, *self.records)


#: The fields a new ticket always takes from the outcome; a follow-up only those a rule set.
OUTCOME_FIELDS: tuple[FieldName, ...] = ("queue", "category", "priority", "type", "tier")


def rule_steps(tags: tuple[str, ...], outcome: RuleOutcome, new: bool, assignee_id: int | None) -> RuleSteps:
    """The steps for `outcome` on a ticket with `tags`; `assignee_id` is the active agent the outcome
    names, if any."""
    fields = [SetField(name, getattr(outcome,
                                     name)) for name in OUTCOME_FIELDS if new or name in outcome.changed]
    if outcome.language:
        fields.append(SetField("language", outcome.language))
    if outcome.tags:
        fields.append(SetField("tags", tuple(sorted({*tags, *outcome.tags}))))
    if outcome.spam:
        fields.append(SetField("spam", True))
    detail: dict[str, Any] = {"hits": [hit_json(h) for h in outcome.hits]}
    if outcome.abuse:
        detail["abuse"] = list(outcome.abuse)
    if new:
        detail |= {"queue": outcome.queue, "other_queues": list(outcome.other_queues)}
    if outcome.assignee and assignee_id is None:
        detail["unassigned"] = f"{outcome.assignee} is not an active agent"
    elif outcome.assignee:
        fields.append(SetField("assignee_id", assignee_id))
    record = None
    if outcome.hits or outcome.other_queues or outcome.abuse or "unassigned" in detail:
        names = ", ".join(h.name for h in outcome.hits) or "none"
        abusive = "; abusive mail" if outcome.abuse else ""
        record = Record("rules", f"rules matched: {names}{abusive}", detail, actor="system")
    return RuleSteps(tuple(fields), record)


def hit_json(hit: RuleHit) -> dict[str, Any]:
    """A rule hit as JSON: its name and what it set (repeated fields joined by "; ")."""
    set_fields: dict[str, str] = {}
    for name, value in hit.set_fields:
        set_fields[name] = f"{set_fields[name]}; {value}" if name in set_fields else value
    return {"rule": hit.name, "set": set_fields}


def rule_notices(notifier: Notifier, ticket: TicketSummary, mail: MailSummary, outcome: RuleOutcome,
                 now: datetime, signed: Callable[[str], Address | None] = lambda _: None) -> list[Draft]:
    """One draft per notify action of the rules that hit; `signed` gives the Reply-To of an address
    that is an agent's (None for anyone else)."""
    return [notifier.rule_notice(n.template, ticket, Address(n.to), mail, now, signed(n.to))
            for n in outcome.notify]
