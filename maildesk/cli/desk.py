"""The commands that set up, run and check the desk itself: `init`, `serve`, `worker`, `status`,
`doctor` and `mailboxes status`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from maildesk.cli.shared import echo_json, json_option, reported, runtime_of, settings_of, store_of, utcnow

if TYPE_CHECKING:
    from maildesk.admin.doctor import CheckResult


@click.command()
@click.pass_context
@reported
def init(ctx: click.Context) -> None:
    """Create the data directory (0750) and create or upgrade the database."""
    from maildesk import config
    from maildesk.admin.private import make_private
    from maildesk.store import migrate
    from maildesk.store.db import Database

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
    from maildesk.cli import selfservice
    from maildesk.serve.daemon import Daemon
    from maildesk.serve.memory import give_large_blocks_back

    give_large_blocks_back()
    runtime = runtime_of(ctx)
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
    from maildesk.serve.workers import WorkerPool

    settings = settings_of(ctx)
    runtime_of(ctx).db.dispose()  # the schema is current and the rules compile, or say so before forking
    pool = WorkerPool(settings, processes or settings.broker.processes,
                      threads or settings.broker.worker_threads)
    sys.exit(pool.run())


@click.command()
@json_option
@click.pass_context
@reported
def status(ctx: click.Context, as_json: bool) -> None:
    """Queue depth, waiting and stuck rows, quarantine, last sweep, mailboxes; exit 1 if anything is stuck."""
    from maildesk.admin import status as status_service

    settings = settings_of(ctx)
    report = status_service.desk_status(store_of(ctx), settings, utcnow(), *_queue_depth(settings.broker.url))
    if as_json:
        echo_json(report.as_json())
    else:
        click.echo("\n".join(report.lines()))
    if report.stuck:
        sys.exit(1)


def _queue_depth(url: str) -> tuple[int | None, str]:
    """The broker's queue depth, or None and why it could not be read."""
    from maildesk.errors import BrokerUnavailable
    from maildesk.runtime.queue import make_broker, queue_depth

    broker = make_broker(url)
    try:
        return queue_depth(broker), ""
    except BrokerUnavailable as exc:
        return None, str(exc)
    finally:
        broker.close()


@click.command()
@json_option
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check what a deploy needs: config, schema, broker, outbound relay, IMAP logins, data directory.
    One line per check; exit 1 on any failure."""
    results = _checked(ctx)
    failed = not all(r.ok for r in results)
    if as_json:
        echo_json({"ok": not failed, "checks": [r.as_json() for r in results]})
    for result in [] if as_json else results:
        click.echo(f"{_MARK[result.state]} {result.name}: {result.detail}")
    if failed:
        sys.exit(1)


def _checked(ctx: click.Context) -> list[CheckResult]:
    from maildesk.admin.doctor import CheckResult, checks, run_checks
    from maildesk.errors import ConfigError

    try:
        return list(run_checks(checks(settings_of(ctx))))
    except ConfigError as exc:
        return [CheckResult("config", "fail", str(exc))]


_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


@click.group()
def mailboxes() -> None:
    """The IMAP mailboxes maildesk reads ([[imap]] in the config)."""


@mailboxes.command("status")
@json_option
@click.pass_context
@reported
def mailboxes_status(ctx: click.Context, as_json: bool) -> None:
    """Per account: last successful fetch, errors, backlog, token expiry. Exit 1 if any is failing."""
    from maildesk.admin import mailboxes as mailbox_service

    settings = settings_of(ctx)
    reports = mailbox_service.account_reports(store_of(ctx), settings)
    if as_json:
        echo_json([r.as_json() for r in reports])
    elif not reports:
        click.echo("no [[imap]] mailboxes configured")
    now = utcnow()
    for report in [] if as_json else reports:
        click.echo("\n".join(report.lines(now)))
    if any(r.state is not None and r.state.failing_since is not None for r in reports):
        sys.exit(1)
