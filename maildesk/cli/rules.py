"""`maildesk rules …`: check the rule set, and try it on a mail without writing anything."""

from __future__ import annotations

import sys
from typing import Any

import click

from maildesk.admin import rules as rules_service
from maildesk.cli.shared import instant, reported, settings_of
from maildesk.errors import ConfigError
from maildesk.runtime.wiring import utcnow


@click.group()
def rules() -> None:
    """Check the rule set and try it on a mail."""


@rules.command("check")
@click.pass_context
def rules_check(ctx: click.Context) -> None:
    """Validate queues, categories, calendars and rules: one line per problem, exit 1 if any."""
    try:
        problems = rules_service.check_rules(settings_of(ctx))
    except ConfigError as exc:
        problems = str(exc).splitlines()
    for line in problems:
        click.echo(line)
    if problems:
        sys.exit(1)
    click.echo("rules ok")


@rules.command("test")
@click.argument("mail_file", type=click.File("rb"))
@click.option("--rcpt", "rcpt_to", multiple=True, help="Envelope recipient (default: none, To/Cc decide).")
@click.option("--at", "at", default=None, help="Arrival instant, ISO (default: now; naive means UTC).")
@click.pass_context
@reported
def rules_test(ctx: click.Context, mail_file: Any, rcpt_to: tuple[str, ...], at: str | None) -> None:
    """Show, without writing anything, how a mail would be routed and answered."""
    run = rules_service.dry_run(settings_of(ctx), mail_file.read(), rcpt_to, instant(at) or utcnow())
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
