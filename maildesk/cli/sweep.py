"""`maildesk sweep`: one round of what `maildesk serve` does on a timer, for cron or a systemd timer —
queue again whatever is unfinished, then escalate, remind and auto-close."""

from __future__ import annotations

from datetime import datetime, timedelta

import click

from maildesk.cli.shared import fail, instant, reported, settings_of
from maildesk.config import Settings
from maildesk.runtime.queue import Jobs, make_broker
from maildesk.runtime.wiring import Runtime, utcnow
from maildesk.serve.pipeline_process import handlers_for
from maildesk.sweep.recover import recover
from maildesk.sweep.sla import sweep_tickets

#: How far ahead of this machine's clock --at may be without --dry-run (clocks of two machines differ).
FUTURE_GRACE = timedelta(minutes=1)


@click.command()
@click.option("--dry-run", is_flag=True, help="Only print what the SLA and auto-close round would do.")
@click.option("--at", default=None,
              help="Act as if it were this instant (ISO); one in the future needs --dry-run.")
@click.pass_context
@reported
def sweep(ctx: click.Context, dry_run: bool, at: str | None) -> None:
    """Queue again whatever is unfinished, then escalate, remind and auto-close, once (for cron or a
    systemd timer; safe on several machines). With --dry-run, only print what would be done."""
    settings = settings_of(ctx)
    now = utcnow()
    when = instant(at) or now
    if when > now + FUTURE_GRACE and not dry_run:
        # Tickets would close now, and their notices (stamped then) wait until that wall-clock time.
        fail(f"--at {at} is in the future: only --dry-run may look ahead")
    runtime = Runtime.build(settings)
    if not dry_run:
        click.echo(recover_stuck(settings, runtime))
    _sla_round(runtime, when, dry_run)


def recover_stuck(settings: Settings, runtime: Runtime) -> str:
    """The recovery part of `maildesk sweep`: queue again whatever is unfinished. Safe on several
    machines at once: rows are claimed with SKIP LOCKED, and queueing a row twice is harmless."""
    stuck = timedelta(seconds=settings.sweep.stuck_after_seconds)
    if settings.broker.url == "embedded":
        # No queue outside a running `serve`: do the work here, as `ingest` does.
        found = recover(runtime.db, utcnow(), stuck, lambda i: _process_now(runtime, i),
                        lambda o: _deliver_now(runtime, o))
    else:
        jobs = Jobs(make_broker(settings.broker.url), handlers_for(runtime))
        try:
            found = recover(runtime.db, utcnow(), stuck, jobs.enqueue_inbound, jobs.enqueue_outbox)
        finally:
            jobs.stop_workers()
    return f"recovered: {found.inbound} inbound and {found.outbox} outbox rows queued again"


def _process_now(runtime: Runtime, inbound_id: int) -> None:
    for outbox_id in runtime.process(inbound_id).outbox_ids:
        runtime.deliver(outbox_id)


def _deliver_now(runtime: Runtime, outbox_id: int) -> None:
    runtime.deliver(outbox_id)


def _sla_round(runtime: Runtime, now: datetime, dry_run: bool) -> None:
    """The SLA, reminder and auto-close part of `maildesk sweep`: act (or say what it would do) and print."""
    result = sweep_tickets(runtime.desk, now, dry_run=dry_run)
    for outbox_id in result.outbox_ids:
        runtime.deliver(outbox_id)  # A failed delivery stays queued for the daemon's retries.
    for action in result.actions:
        click.echo(f"#{action.ticket_id:<6} {action.action:<30} {action.reason}")
    verb = "would take" if dry_run else "took"
    click.echo(f"sla: {result.checked} tickets due, {verb} {len(result.actions)} actions"
               + ("" if dry_run else f", {len(result.outbox_ids)} notices queued"))
