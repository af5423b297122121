"""The `maildesk` command: parse, call a service, print. The only module that imports click."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from maildesk import config
from maildesk.admin import agents as agent_service
from maildesk.admin import importer
from maildesk.admin import mailboxes as mailbox_service
from maildesk.admin import quarantine as quarantine_service
from maildesk.admin import report as report_service
from maildesk.admin import rules as rules_service
from maildesk.admin import status as status_service
from maildesk.admin import tickets as ticket_service
from maildesk.admin.doctor import checks as doctor_checks
from maildesk.admin.doctor import run_checks
from maildesk.admin.report_html import render_html
from maildesk.arrival.intake import accept_raw
from maildesk.cli import selfservice as cli_selfservice
from maildesk.cli.shared import fail, instant, reported, settings_of
from maildesk.config import Settings
from maildesk.domain import Envelope, Status
from maildesk.errors import ConfigError, MaildeskError, MessageRejected, StoreError
from maildesk.runtime.queue import Jobs, make_broker, queue_depth
from maildesk.runtime.wiring import Runtime, utcnow
from maildesk.serve.daemon import Daemon
from maildesk.serve.pipeline_process import handlers_for
from maildesk.serve.workers import WorkerPool
from maildesk.store import migrate
from maildesk.store.db import Database
from maildesk.store.safety import InboundRow
from maildesk.sweep import run as sla_service
from maildesk.sweep.recover import recover

# sysexits.h: what an MTA's pipe transport understands.
EX_DATAERR = 65
EX_TEMPFAIL = 75


@click.group()
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Config file (default: $MAILDESK_CONFIG, else ./maildesk.conf).")
@click.version_option(package_name="maildesk")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """maildesk: a help desk that lives in email."""
    ctx.ensure_object(dict)["config_path"] = config_path


@main.command()
@click.pass_context
@reported
def init(ctx: click.Context) -> None:
    """Create the data directory and create or upgrade the database."""
    settings = settings_of(ctx)
    settings.desk.data_dir.mkdir(parents=True, exist_ok=True)
    config.resolve_secret(settings)
    db = Database(settings.database.url)
    before, after = migrate.upgrade(db)
    db.dispose()
    if before is None:
        state = "created"
    else:
        state = "already current" if before == after else f"upgraded from {before}"
    click.echo(f"database {state} at revision {after}; data in {settings.desk.data_dir}")


@main.command()
@click.option("--no-workers", is_flag=True,
              help="Front end only: accept mail and queue it for `maildesk worker` (Redis or RabbitMQ).")
@click.pass_context
@reported
def serve(ctx: click.Context, no_workers: bool) -> None:
    """Receive mail over SMTP/LMTP, process it and send replies, until SIGTERM."""
    runtime = Runtime.build(settings_of(ctx))
    cli_selfservice.reindex_on_start(runtime)
    Daemon(runtime, workers=not no_workers).run()


@main.command()
@click.option("--processes", "-p", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: [broker] processes).")
@click.option("--threads", "-t", type=click.IntRange(min=1), default=None,
              help="Threads per process (default: [broker] worker_threads).")
@click.pass_context
@reported
def worker(ctx: click.Context, processes: int | None, threads: int | None) -> None:
    """Process queued mail from Redis or RabbitMQ in several processes, until SIGTERM."""
    settings = settings_of(ctx)
    Runtime.build(settings).db.dispose()  # the schema is current, or say so before forking
    pool = WorkerPool(settings, processes or settings.broker.processes,
                      threads or settings.broker.worker_threads)
    sys.exit(pool.run())


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


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
@reported
def status(ctx: click.Context, as_json: bool) -> None:
    """Queue depth, waiting and stuck rows, quarantine, last sweep, mailboxes; exit 1 if anything is stuck."""
    settings = settings_of(ctx)
    runtime = Runtime.build(settings)
    broker = make_broker(settings.broker.url)
    try:
        depth = queue_depth(broker)
    finally:
        broker.close()
    report = status_service.desk_status(runtime.db, settings, utcnow(), depth)
    click.echo(json.dumps(report.as_json(), indent=2) if as_json else "\n".join(report.lines()))
    if report.stuck:
        sys.exit(1)


@main.command()
@click.option("--sender", "-f", "mail_from", default=None, help="Envelope sender (MTA's ${sender}).")
@click.option("--recipient", "-r", "rcpt_to", multiple=True, help="Envelope recipient (MTA's ${recipient}).")
@click.pass_context
def ingest(ctx: click.Context, mail_from: str | None, rcpt_to: tuple[str, ...]) -> None:
    """Store one message from stdin (for an MTA pipe). Exit 0 stored, 75 try later, 65 refused."""
    try:
        settings = settings_of(ctx)
        runtime = Runtime.build(settings)
    except (ConfigError, StoreError) as exc:
        # Temporary for the MTA: the mail stays queued there while the admin fixes this.
        fail(str(exc), EX_TEMPFAIL)
    raw = sys.stdin.buffer.read(settings.smtp.max_message_size + 1)
    envelope = Envelope(mail_from=mail_from, rcpt_to=rcpt_to, source="pipe")
    try:
        accepted = accept_raw(runtime.db, raw, envelope, utcnow(), settings.smtp.max_message_size)
    except MessageRejected as exc:
        fail(str(exc), EX_DATAERR)
    except MaildeskError as exc:
        fail(f"could not store the message: {exc}", EX_TEMPFAIL)
    if settings.broker.url != "embedded":
        _enqueue_or_defer(settings, runtime, accepted.inbound_id)
    else:
        # No separate worker exists: process now. Stored is what the exit status promises;
        # a failure here is left for the daemon's sweep.
        try:
            for outbox_id in runtime.process(accepted.inbound_id).outbox_ids:
                runtime.deliver(outbox_id)
        except MaildeskError as exc:
            click.echo(f"maildesk: stored as {accepted.inbound_id}, processing deferred: {exc}", err=True)
    click.echo(f"stored as inbound {accepted.inbound_id}" + ("" if accepted.new else " (duplicate)"))


def _enqueue_or_defer(settings: Settings, runtime: Runtime, inbound_id: int) -> None:
    """Hand a stored message to the workers; if the broker is down, the sweep will."""
    jobs = Jobs(make_broker(settings.broker.url), handlers_for(runtime))
    try:
        jobs.enqueue_inbound(inbound_id)
    except Exception as exc:  # Stored is what the exit status promises; the broker's error type varies.
        click.echo(f"maildesk: stored as {inbound_id}, not queued ({exc}); the sweep will queue it", err=True)
    finally:
        jobs.stop_workers()


@main.group()
def tickets() -> None:
    """List, show and change tickets."""


@tickets.command("list")
@click.option("--status", default="", help="Comma-separated statuses.")
@click.option("--category", default="")
@click.option("--requester", default="", help="Part of the requester's address.")
@click.option("--text", default="", help="Words in the subject or any message.")
@click.option("--since", default=None, help="Created at or after (ISO date).")
@click.option("--until", default=None, help="Created before (ISO date).")
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--spam", is_flag=True, help="List the tickets rules marked as spam (hidden otherwise).")
@click.pass_context
@reported
def tickets_list(ctx: click.Context, status: str, category: str, requester: str, text: str,
                 since: str | None, until: str | None, limit: int, as_json: bool, spam: bool) -> None:
    """List tickets, newest first."""
    for s in filter(None, status.split(",")):
        if s not in Status.__members__.values():
            fail(f"unknown status {s!r} (one of {', '.join(Status)})")
    rows = ticket_service.list_tickets(
        Runtime.build(settings_of(ctx)).db,
        ticket_service.TicketFilter(status=status, category=category, requester=requester, text=text,
                                    since=instant(since), until=instant(until), limit=limit, spam=spam))
    if as_json:
        click.echo(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"#{r.id:<6} {r.status:<9} {r.priority:<7} {r.category:<12} {r.updated:%Y-%m-%d %H:%M} "
                   f"{r.requester:<30} {r.subject}")


@tickets.command("show")
@click.argument("ticket_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
@reported
def tickets_show(ctx: click.Context, ticket_id: int, as_json: bool) -> None:
    """Show a ticket and its thread."""
    detail = ticket_service.show_ticket(Runtime.build(settings_of(ctx)).db, ticket_id)
    if as_json:
        click.echo(json.dumps(detail.as_json(), ensure_ascii=False, indent=2))
        return
    r = detail.row
    click.echo(f"#{r.id} {r.subject}\nstatus {r.status} · priority {r.priority} · category {r.category}")
    tags = ", ".join(r.tags) or "-"
    click.echo(f"queue {r.queue or '-'} · type {r.type} · tier {r.tier or '-'} · tags {tags}"
               + (" · SPAM" if r.spam else ""))
    click.echo("participants: " + ", ".join(f"{e} ({role})" for e, role in detail.participants))
    for hit in detail.rule_hits:
        click.echo(f"rule {hit['rule']}: " + ", ".join(f"{k}={v}" for k, v in hit["set"].items()))
    for m in detail.messages:
        click.echo(f"\n--- {m.direction} from {m.sender} at {m.date:%Y-%m-%d %H:%M} [{m.verdict}]")
        if m.attachments:
            click.echo("attachments: " + ", ".join(m.attachments))
        click.echo(m.text)
    click.echo("\nevents:")
    for e in detail.events:
        click.echo(f"  {e['at']} {e['actor']} {e['kind']} {e.get('reason', '')}")


@tickets.command("set-status")
@click.argument("ticket_id", type=int)
@click.argument("status", type=click.Choice([s.value for s in Status]))
@click.option("--reason", default="", help="Why; shown to the requester.")
@click.pass_context
@reported
def tickets_set_status(ctx: click.Context, ticket_id: int, status: str, reason: str) -> None:
    """Change a ticket's status and send the requester the status notice."""
    runtime = Runtime.build(settings_of(ctx))
    ids = ticket_service.set_status(runtime.db, runtime.desk.notifier, ticket_id, Status(status),
                                    "admin:cli", reason, utcnow(), clock=runtime.desk.clock)
    for outbox_id in ids:
        runtime.deliver(outbox_id)  # Also recoverable by the daemon's sweep if this fails.
    click.echo(f"#{ticket_id} is now {status}" + (f"; notice queued ({len(ids)})" if ids else ""))


@main.group()
def agents() -> None:
    """Manage the agents who answer tickets."""


@agents.command("add")
@click.argument("email")
@click.option("--name", default="")
@click.pass_context
@reported
def agents_add(ctx: click.Context, email: str, name: str) -> None:
    """Add an agent (or re-activate one)."""
    row = agent_service.add_agent(Runtime.build(settings_of(ctx)).db, email, name, utcnow())
    click.echo(f"agent {row.email} ({row.name or 'no name'}) active")


@agents.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@reported
def agents_list(ctx: click.Context, as_json: bool) -> None:
    """List agents."""
    rows = agent_service.list_agents(Runtime.build(settings_of(ctx)).db)
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in rows], ensure_ascii=False))
        return
    for r in rows:
        click.echo(f"{r.email:<40} {r.name:<30} {'active' if r.active else 'removed'}")


@agents.command("remove")
@click.argument("email")
@click.pass_context
@reported
def agents_remove(ctx: click.Context, email: str) -> None:
    """Remove an agent (kept in history, no longer notified)."""
    agent_service.remove_agent(Runtime.build(settings_of(ctx)).db, email)
    click.echo(f"agent {email} removed")


@main.group()
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


@main.group()
def mailboxes() -> None:
    """The IMAP mailboxes maildesk reads ([[imap]] in the config)."""


@mailboxes.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
@reported
def mailboxes_status(ctx: click.Context, as_json: bool) -> None:
    """Per account: last successful fetch, errors, backlog, token expiry. Exit 1 if any is failing."""
    settings = settings_of(ctx)
    reports = mailbox_service.account_reports(Runtime.build(settings).db, settings)
    if as_json:
        click.echo(json.dumps([r.as_json() for r in reports], ensure_ascii=False, indent=2))
    elif not reports:
        click.echo("no [[imap]] mailboxes configured")
    now = utcnow()
    for report in [] if as_json else reports:
        click.echo("\n".join(report.lines(now)))
    if any(r.state is not None and r.state.failing_since is not None for r in reports):
        sys.exit(1)


@main.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check the config, the database schema and the login to every IMAP mailbox; exit 1 on any failure."""
    try:
        settings = settings_of(ctx)
    except ConfigError as exc:
        click.echo(f"FAIL config: {exc}")
        sys.exit(1)
    failed = False
    for result in run_checks(doctor_checks(settings)):
        click.echo(f"{'ok  ' if result.ok else 'FAIL'} {result.name}: {result.detail}")
        failed = failed or not result.ok
    if failed:
        sys.exit(1)


@main.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.pass_context
@reported
def import_backlog(ctx: click.Context, path: Path) -> None:
    """Load a backlog from an mbox file or a Maildir; running it again creates nothing new."""
    runtime = Runtime.build(settings_of(ctx))
    backlog = importer.open_backlog(path)
    tally = importer.ImportTally()
    with click.progressbar(backlog.messages(), length=len(backlog), label=f"importing {backlog.kind}",
                           file=sys.stderr) as messages:
        for raw in messages:
            importer.import_one(runtime, raw, tally)
    deferred = f", {tally.deferred} left for the sweep" if tally.deferred else ""
    click.echo(f"{len(backlog)} messages: {tally.new} new, {tally.duplicate} already stored, "
               f"{tally.refused} refused{deferred}")



@main.command()
@click.option("--dry-run", is_flag=True, help="Only print what the SLA and auto-close round would do.")
@click.option("--at", default=None, help="Act as if it were this instant (ISO), e.g. to preview Monday.")
@click.pass_context
@reported
def sweep(ctx: click.Context, dry_run: bool, at: str | None) -> None:
    """Queue again whatever is unfinished, then escalate, remind and auto-close, once (for cron or a
    systemd timer; safe on several machines). With --dry-run, only print what would be done."""
    settings = settings_of(ctx)
    runtime = Runtime.build(settings)
    if not dry_run:
        click.echo(recover_stuck(settings, runtime))
    _sla_round(runtime, instant(at) or utcnow(), dry_run)


def _sla_round(runtime: Runtime, now: datetime, dry_run: bool) -> None:
    """The SLA, reminder and auto-close part of `maildesk sweep`: act (or say what it would do) and print."""
    result = sla_service.run_sweep(runtime, now, dry_run=dry_run)
    for outbox_id in result.outbox_ids:
        runtime.deliver(outbox_id)  # A failed delivery stays queued for the daemon's retries.
    for action in result.actions:
        click.echo(f"#{action.ticket_id:<6} {action.action:<30} {action.reason}")
    verb = "would take" if dry_run else "took"
    click.echo(f"sla: {result.checked} tickets due, {verb} {len(result.actions)} actions"
               + ("" if dry_run else f", {len(result.outbox_ids)} notices queued"))


@main.command()
@click.option("--since", default=None, help="Start of the period (ISO date; default: 30 days ago).")
@click.option("--until", default=None, help="End of the period, exclusive (ISO date; default: now).")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a self-contained HTML page with charts to this file.")
@click.pass_context
@reported
def report(ctx: click.Context, since: str | None, until: str | None, html_file: Path | None) -> None:
    """Tickets opened/closed, response and resolution times in working hours, SLA compliance."""
    runtime = Runtime.build(settings_of(ctx))
    now = utcnow()
    start, end = report_service.period(instant(since), instant(until), now)
    figures = report_service.build_report(runtime.db, runtime.desk.clock, start, end, now)
    click.echo(report_service.format_text(figures), nl=False)
    if html_file is not None:
        html_file.write_text(render_html(figures, runtime.settings.desk.name), encoding="utf-8")
        click.echo(f"wrote {html_file}")


@main.group()
def quarantine() -> None:
    """Messages set aside (broken, over a limit, or failing): list, show, retry after a fix, drop."""


def _inbound_json(row: InboundRow) -> dict[str, Any]:
    return {"id": row.id, "received_at": row.received_at.isoformat(), "source": row.source,
            "mail_from": row.mail_from, "rcpt_to": list(row.rcpt_to), "message_id": row.message_id,
            "size": row.size, "state": row.state, "attempts": row.attempts, "reason": row.error,
            "verdict": row.verdict, "verdict_reasons": list(row.verdict_reasons), "ticket_id": row.ticket_id}


@quarantine.command("list")
@click.option("--all", "every", is_flag=True, help="Every stored inbound message, not only the quarantined.")
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
@reported
def quarantine_list(ctx: click.Context, every: bool, limit: int, as_json: bool) -> None:
    """The quarantined messages, newest first, with the reason each was set aside."""
    db = Runtime.build(settings_of(ctx)).db
    rows = quarantine_service.listing(db, None if every else "quarantined", limit)
    if as_json:
        click.echo(json.dumps([_inbound_json(r) for r in rows], ensure_ascii=False, indent=2))
        return
    for r in rows:
        sender = r.mail_from or "<>"
        click.echo(f"{r.id:>7}  {r.received_at:%Y-%m-%d %H:%M}  {r.state:<11} {sender}  {r.error}")
    if not rows:
        click.echo("nothing in quarantine")


@quarantine.command("show")
@click.argument("inbound_id", type=int)
@click.option("--raw", is_flag=True, help="Write the message's bytes exactly as received to stdout.")
@click.pass_context
@reported
def quarantine_show(ctx: click.Context, inbound_id: int, raw: bool) -> None:
    """One stored message (any state): its facts as JSON, or with --raw its exact bytes."""
    row, data = quarantine_service.show(Runtime.build(settings_of(ctx)).db, inbound_id)
    if raw:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    click.echo(json.dumps(_inbound_json(row), ensure_ascii=False, indent=2))


@quarantine.command("retry")
@click.argument("inbound_id", type=int)
@click.pass_context
@reported
def quarantine_retry(ctx: click.Context, inbound_id: int) -> None:
    """Process a quarantined message again now (after fixing what stopped it)."""
    runtime = Runtime.build(settings_of(ctx))
    outcome = quarantine_service.retry(runtime, inbound_id, _operator(), utcnow())
    for outbox_id in outcome.outbox_ids:
        runtime.deliver(outbox_id)
    click.echo(f"inbound {inbound_id}: {outcome.state or 'unchanged'}"
               + (f", ticket #{outcome.ticket_id}" if outcome.ticket_id else "")
               + (f" ({outcome.reason})" if outcome.reason else ""))
    if outcome.state == "quarantined":
        sys.exit(1)


@quarantine.command("drop")
@click.argument("inbound_id", type=int)
@click.option("--reason", default="", help="Why; kept in the audit line.")
@click.pass_context
@reported
def quarantine_drop(ctx: click.Context, inbound_id: int, reason: str) -> None:
    """Give up on a quarantined message: its bytes stay stored, an audit line records who and why."""
    quarantine_service.drop(Runtime.build(settings_of(ctx)).db, inbound_id, _operator(), reason, utcnow())
    click.echo(f"inbound {inbound_id}: dropped")


def _operator() -> str:
    return f"cli:{os.environ.get('USER') or os.environ.get('LOGNAME') or 'unknown'}"


main.add_command(cli_selfservice.kb_group)
main.add_command(cli_selfservice.macros_group)
