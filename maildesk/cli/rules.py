"""`maildesk rules …`: check the rule set, and try it on a mail without writing anything."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from maildesk.cli.shared import echo_json, instant, json_option, reported, settings_of, utcnow

if TYPE_CHECKING:
    from maildesk.admin.rules import DryRun


@click.group()
def rules() -> None:
    """Check the rule set and try it on a mail."""


@rules.command("check")
@json_option
@click.pass_context
def rules_check(ctx: click.Context, as_json: bool) -> None:
    """Validate queues, categories, calendars and rules: one line per problem, exit 1 if any."""
    from maildesk.admin import rules as rules_service
    from maildesk.errors import ConfigError

    try:
        problems = rules_service.check_rules(settings_of(ctx))
    except ConfigError as exc:
        problems = str(exc).splitlines()
    if as_json:
        echo_json({"ok": not problems, "problems": problems})
    else:
        click.echo("\n".join(problems) if problems else "rules ok")
    if problems:
        sys.exit(1)


@rules.command("test")
@click.argument("mail_file", type=click.File("rb"))
@click.option("--rcpt", "rcpt_to", multiple=True, help="Envelope recipient (default: none, To/Cc decide).")
@click.option("--at", "at", default=None, help="Arrival instant, ISO (default: now; naive means UTC).")
@json_option
@click.pass_context
@reported
def rules_test(ctx: click.Context, mail_file: Any, rcpt_to: tuple[str, ...], at: str | None,
               as_json: bool) -> None:
    """Show, without writing anything, how a mail would be routed and answered."""
    from maildesk.admin import rules as rules_service

    run = rules_service.dry_run(settings_of(ctx), mail_file.read(), rcpt_to, instant(at) or utcnow())
    if as_json:
        echo_json(_as_json(run))
        return
    o = run.outcome
    for label, value in (("queue", o.queue or "-"), ("also addressed to", ", ".join(o.other_queues) or "-"),
                         ("category", o.category), ("priority", o.priority), ("type", o.type),
                         ("assignee", o.assignee or "-"), ("tier", o.tier or "-"), ("language", run.language),
                         ("tags", ", ".join(o.tags) or "-"), ("spam", "yes" if o.spam else "no"),
                         ("acknowledgement", run.acknowledgement),
                         ("notify", ", ".join(f"{n.to} ({n.template})" for n in o.notify) or "-")):
        click.echo(f"{label + ':':<19}{value}")
    if run.machine:
        click.echo(f"{'machine mail:':<19}{run.machine}")
    click.echo("rules matched:" + ("" if o.hits else " none"))
    for hit in o.hits:
        click.echo(f"  {hit.name}: " + ", ".join(f"{k}={v}" for k, v in hit.set_fields))


def _as_json(run: DryRun) -> dict[str, Any]:
    """`rules test --json`: the same facts as the text, absent values as null."""
    o = run.outcome
    return {"queue": o.queue or None, "also_addressed_to": list(o.other_queues), "category": o.category,
            "priority": o.priority, "type": o.type, "assignee": o.assignee or None, "tier": o.tier or None,
            "language": run.language, "tags": list(o.tags), "spam": o.spam,
            "acknowledgement": run.acknowledgement,
            "notify": [{"to": n.to, "template": n.template} for n in o.notify],
            "machine": run.machine or None,
            "rules": [{"name": h.name, "set": dict(h.set_fields)} for h in o.hits]}
