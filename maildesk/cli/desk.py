"""The commands that set up, run and check the desk itself: `init`, `serve`, `worker`, `status`,
`doctor` and `mailboxes status`."""

from __future__ import annotations

import json
import sys

import click

from maildesk import config
from maildesk.admin import mailboxes as mailbox_service
from maildesk.admin import status as status_service
from maildesk.admin.doctor import CheckResult, run_checks
from maildesk.admin.doctor import checks as doctor_checks
from maildesk.admin.private import make_private
from maildesk.cli import selfservice
from maildesk.cli.shared import reported, settings_of
from maildesk.errors import BrokerUnavailable, ConfigError
from maildesk.runtime.queue import make_broker, queue_depth
from maildesk.runtime.wiring import Runtime, utcnow
from maildesk.serve.daemon import Daemon
from maildesk.serve.memory import give_large_blocks_back
from maildesk.serve.workers import WorkerPool
from maildesk.store import migrate
from maildesk.store.db import Database


@click.command()
@click.pass_context
@reported
def init(ctx: click.Context) -> None:
    """Create the data directory (0750) and create or upgrade the database."""
    settings = settings_of(ctx)
    tightened = make_private(settings)  # what an earlier version left open to other users
    config.resolve_secret(settings)
    db = Database(settings.database.url)
    before, after = migrate.upgrade(db)
    db.dispose()
    if before is None:
        state = "created"
    else:
        state = "already current" if before == after else f"upgraded from {before}"
    click.echo(f"database {state} at revision {after}; data in {settings.desk.data_dir}")
    if tightened:
        click.echo(f"closed to other users: {', '.join(map(str, tightened))}")


@click.command()
@click.option("--no-workers", is_flag=True,
              help="Front end only: accept mail and queue it for `maildesk worker` (Redis or RabbitMQ).")
@click.pass_context
@reported
def serve(ctx: click.Context, no_workers: bool) -> None:
    """Receive mail over SMTP/LMTP, process it and send replies, until SIGTERM."""
    give_large_blocks_back()
    runtime = Runtime.build(settings_of(ctx))
    selfservice.reindex_on_start(runtime)
    Daemon(runtime, workers=not no_workers).run()


@click.command()
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


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
@reported
def status(ctx: click.Context, as_json: bool) -> None:
    """Queue depth, waiting and stuck rows, quarantine, last sweep, mailboxes; exit 1 if anything is stuck."""
    settings = settings_of(ctx)
    runtime = Runtime.build(settings)
    report = status_service.desk_status(runtime.db, settings, utcnow(), *_queue_depth(settings.broker.url))
    click.echo(json.dumps(report.as_json(), indent=2) if as_json else "\n".join(report.lines()))
    if report.stuck:
        sys.exit(1)


def _queue_depth(url: str) -> tuple[int | None, str]:
    """The broker's queue depth, or None and why it could not be read."""
    broker = make_broker(url)
    try:
        return queue_depth(broker), ""
    except BrokerUnavailable as exc:
        return None, str(exc)
    finally:
        broker.close()


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check what a deploy needs: config, schema, broker, outbound relay, IMAP logins, data directory.
    One line per check; exit 1 on any failure."""
    try:
        results = list(run_checks(doctor_checks(settings_of(ctx))))
    except ConfigError as exc:
        results = [CheckResult("config", "fail", str(exc))]
    failed = not all(r.ok for r in results)
    if as_json:
        click.echo(json.dumps({"ok": not failed, "checks": [r.as_json() for r in results]}, indent=2))
    for result in [] if as_json else results:
        click.echo(f"{_MARK[result.state]} {result.name}: {result.detail}")
    if failed:
        sys.exit(1)


_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


@click.group()
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
