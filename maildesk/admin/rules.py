"""`maildesk rules check` and `maildesk rules test`: validate the rule set, dry-run a mail. Never writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from maildesk.config import Settings
from maildesk.errors import MaildeskError
from maildesk.mail.machine import OwnIdentity, classify
from maildesk.mail.parse import parse_message
from maildesk.notices.notifier import Identity
from maildesk.notices.render import Renderer
from maildesk.pipeline.routing import Routing, ack_template
from maildesk.policy.rules import RuleOutcome
from maildesk.store import contacts
from maildesk.store.db import Database


@dataclass(frozen=True)
class DryRun:
    """What processing a mail would decide, without a database."""

    outcome: RuleOutcome
    language: str
    acknowledgement: str  # the template name, or why there would be none
    machine: str  # "" for a person's mail, else the classifier's verdict and reasons


def dry_run(settings: Settings, raw: bytes, rcpt_to: tuple[str, ...], at: datetime) -> DryRun:
    """Route and classify `raw` as if it arrived at `at` for `rcpt_to`; raises MailParseError."""
    renderer = Renderer(settings.desk.templates_dir)
    routing = Routing.from_settings(settings, renderer, at.date())
    parsed = parse_message(raw)
    identity = Identity.from_settings(settings)
    verdict = classify(parsed.message, parsed.sender.email if parsed.sender else None,
                       OwnIdentity(identity.loop_token, settings.desk.own_addresses,
                                   identity.message_id_domain))
    outcome = routing.evaluate(parsed, rcpt_to, at)
    language = outcome.language or settings.desk.language
    machine = f"{verdict.kind.value}: {', '.join(verdict.reasons)}" if verdict.machine else ""
    if machine:
        ack = "none (machine mail is never answered)"
    elif outcome.spam or outcome.suppress_ack:
        ack = "none (spam)" if outcome.spam else "none (suppressed by a rule)"
    else:
        ack = f"{language}/{ack_template(renderer, outcome.category, language, outcome.type)}"
    return DryRun(outcome=outcome, language=language, acknowledgement=ack, machine=machine)


def check_rules(settings: Settings) -> list[str]:
    """Problems with the (already loaded) rule set that need more than the file: templates, calendars,
    agents. One line each, naming the rule or queue; empty when all is well."""
    try:
        routing = Routing.from_settings(settings, Renderer(settings.desk.templates_dir),
                                        datetime.now(UTC).date())
    except MaildeskError as exc:
        return [str(exc)]
    wanted = [(f"queue {q.name!r}: agent", a) for q in routing.ruleset.queues for a in q.agents]
    wanted += [(f"rule {r.name!r}: assignee", r.then.assignee)
               for r in routing.ruleset.rules if r.then.assignee]
    if not wanted:
        return []
    db = Database(settings.database.url)
    try:
        with db.transaction() as session:
            return [f"{where} {email} is not an active agent (maildesk agents add {email})"
                    for where, email in wanted if contacts.active_agent_id(session, email) is None]
    except MaildeskError as exc:
        return [f"cannot check agents against the database: {exc}"]
    finally:
        db.dispose()
