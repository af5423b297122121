"""`maildesk sweep`: one round of what `maildesk serve` does on a timer, for cron or a systemd timer —
queue again whatever is unfinished, then escalate, remind and auto-close."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from maildesk.admin.output import Column
from maildesk.cli.shared import (
    echo_json,
    echo_table,
    fail,
    instant,
    json_option,
    reported,
    runtime_of,
    utcnow,
)

if TYPE_CHECKING:
    from maildesk.runtime.wiring import Runtime
    from maildesk.sweep.recover import Recovered
    from maildesk.sweep.sla import SweepResult

#: How far ahead of this machine's clock --at may be without --dry-run (clocks of two machines differ).
FUTURE_GRACE = timedelta(minutes=1)
COLUMNS = (Column("TICKET", 7), Column("ACTION", 30), Column("REASON"))


@click.command()
@click.option("--dry-run", is_flag=True, help="Only print what the SLA and auto-close round would do.")
@click.option("--at", default=None,
              help="Act as if it were this instant (ISO); one in the future needs --dry-run.")
@json_option
@click.pass_context
@reported
def sweep(ctx: click.Context, dry_run: bool, at: str | None, as_json: bool) -> None:
    """Queue again whatever is unfinished, then escalate, remind and auto-close, once (for cron or a
    systemd timer; safe on several machines). With --dry-run, only print what would be done."""
    now = utcnow()
    when = instant(at) or now
    if when > now + FUTURE_GRACE and not dry_run:
        # Tickets would close now, and their notices (stamped then) wait until that wall-clock time.
        fail(f"--at {at} is in the future: only --dry-run may look ahead")
    runtime = runtime_of(ctx)
    found = None if dry_run else recover_stuck(runtime)
    result = _sla_round(runtime, when, dry_run)
    if as_json:
        echo_json(_as_json(found, result, dry_run))
        return
    if found is not None:
        click.echo(f"recovered: {found.inbound} inbound and {found.outbox} outbox rows queued again")
    if result.actions:
        echo_table(COLUMNS, [(f"#{a.ticket_id}", a.action, a.reason) for a in result.actions])
    verb = "would take" if dry_run else "took"
    click.echo(f"sla: {result.checked} tickets due, {verb} {len(result.actions)} actions"
               + ("" if dry_run else f", {len(result.outbox_ids)} notices queued"))


def recover_stuck(runtime: Runtime) -> Recovered:
    """The recovery part of `maildesk sweep`: queue again whatever is unfinished. Safe on several
    machines at once: rows are claimed with SKIP LOCKED, and queueing a row twice is harmless."""
    from maildesk.runtime.queue import Jobs, make_broker
    from maildesk.serve.pipeline_process import handlers_for
    from maildesk.sweep.recover import recover

    settings = runtime.settings
    stuck = timedelta(seconds=settings.sweep.stuck_after_seconds)
    if settings.broker.url == "embedded":
        # No queue outside a running `serve`: do the work here, as `ingest` does.
        return recover(runtime.db, utcnow(), stuck, lambda i: _process_now(runtime, i),
                       lambda o: _deliver_now(runtime, o))
    jobs = Jobs(make_broker(settings.broker.url), handlers_for(runtime))
    try:
        return recover(runtime.db, utcnow(), stuck, jobs.enqueue_inbound, jobs.enqueue_outbox)
    finally:
        jobs.stop_workers()


def _process_now(runtime: Runtime, inbound_id: int) -> None:
    for outbox_id in runtime.process(inbound_id).outbox_ids:
        runtime.deliver(outbox_id)


def _deliver_now(runtime: Runtime, outbox_id: int) -> None:
    runtime.deliver(outbox_id)


def _sla_round(runtime: Runtime, now: datetime, dry_run: bool) -> SweepResult:
    """The SLA, reminder and auto-close part of `maildesk sweep`: act (or only decide) and deliver."""
    from maildesk.sweep.sla import sweep_tickets

    result = sweep_tickets(runtime.desk, now, dry_run=dry_run)
    for outbox_id in result.outbox_ids:
        runtime.deliver(outbox_id)  # A failed delivery stays queued for the daemon's retries.
    return result


def _as_json(found: Recovered | None, result: SweepResult, dry_run: bool) -> dict[str, Any]:
    """`sweep --json`: what was queued again (null on a dry run), what was (or would be) done."""
    return {"dry_run": dry_run,
            "recovered": None if found is None else {"inbound": found.inbound, "outbox": found.outbox},
            "checked": result.checked,
            "actions": [{"ticket": a.ticket_id, "action": a.action, "reason": a.reason}
                        for a in result.actions],
            "notices_queued": None if dry_run else len(result.outbox_ids)}
