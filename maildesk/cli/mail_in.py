"""Mail handed to maildesk on the command line: `ingest` (one message from an MTA's pipe) and
`import` (a backlog from an mbox file or a Maildir)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from maildesk.cli.shared import fail, reported, runtime_of, settings_of, utcnow
from maildesk.policy import imports
from maildesk.serve.local import EX_DATAERR, EX_TEMPFAIL
from maildesk.serve.logs import fold

if TYPE_CHECKING:
    from maildesk.config import Settings
    from maildesk.runtime.wiring import Runtime

log = logging.getLogger(__name__)


@click.command()
@click.option("--sender", "-f", "mail_from", default=None, help="Envelope sender (MTA's ${sender}).")
@click.option("--recipient", "-r", "rcpt_to", multiple=True, help="Envelope recipient (MTA's ${recipient}).")
@click.pass_context
def ingest(ctx: click.Context, mail_from: str | None, rcpt_to: tuple[str, ...]) -> None:
    """Store one message from stdin (for an MTA pipe). Prints nothing when it is stored (exit 0) and
    one line when not, which the MTA shows: exit 75 try later, 65 refused for good. Logs go to
    syslog's mail facility. With `maildesk serve` running, the daemon stores and processes it."""
    from maildesk.cli.pipe import DAEMON_ASKED, PIPED_MAIL, daemon_status

    obj = ctx.ensure_object(dict)  # what `maildesk.cli.main` found before click ran (cli/pipe.py)
    raw = obj[PIPED_MAIL] if PIPED_MAIL in obj else sys.stdin.buffer.read()
    status = None if obj.get(DAEMON_ASKED) else daemon_status(obj.get("config_path"), raw, mail_from, rcpt_to)
    if status is not None:
        sys.exit(status)
    _store_here(ctx, raw, mail_from, rcpt_to)


def _store_here(ctx: click.Context, raw: bytes, mail_from: str | None, rcpt_to: tuple[str, ...]) -> None:
    """No daemon: store the mail in this process, then process it or queue it (as before there was one)."""
    from maildesk.arrival.intake import accept_raw
    from maildesk.domain import Envelope
    from maildesk.errors import ConfigError, MessageRejected, StoreError
    from maildesk.serve.logs import configure_mta_logging

    try:
        settings = settings_of(ctx)
        configure_mta_logging(settings.log_level)
        runtime = runtime_of(ctx)
        envelope = Envelope(mail_from=mail_from, rcpt_to=rcpt_to, source="pipe")
        accepted = accept_raw(runtime.db, raw, envelope, utcnow(), settings.smtp.max_message_size)
    except MessageRejected as exc:
        fail(str(exc), EX_DATAERR)
    except (ConfigError, StoreError) as exc:
        # Temporary for the MTA: the mail stays queued there while the admin fixes this.
        fail(fold(str(exc)), EX_TEMPFAIL)
    except Exception as exc:  # Whatever else failed before the commit, the MTA must keep the mail.
        fail(f"could not store the message: {fold(str(exc)) or type(exc).__name__}", EX_TEMPFAIL)
    log.info("inbound=%s stored from %s%s", accepted.inbound_id, mail_from or "<>",
             "" if accepted.new else " (a duplicate)")
    _hand_on(settings, runtime, accepted.inbound_id)


def _hand_on(settings: Settings, runtime: Runtime, inbound_id: int) -> None:
    """After the commit: queue the message for the workers or, with no separate worker (the embedded
    broker), process it now. Stored is what the exit status promises: a failure here is logged
    and left to the sweep."""
    from maildesk.runtime.queue import Jobs, make_broker
    from maildesk.serve.pipeline_process import handlers_for

    try:
        if settings.broker.url != "embedded":
            jobs = Jobs(make_broker(settings.broker.url), handlers_for(runtime))
            try:
                jobs.enqueue_inbound(inbound_id)
            finally:
                jobs.stop_workers()
            return
        for outbox_id in runtime.process(inbound_id).outbox_ids:
            runtime.deliver(outbox_id)
    except Exception as exc:  # The broker's and the pipeline's errors vary; the row is safe either way.
        log.warning("inbound=%s stored, not handed on (%s); the sweep will take it", inbound_id, exc)


@click.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--notify", is_flag=True,
              help="Send what the same mail arriving now would (acknowledgements, agent and rule notices). "
                   "Without it nobody is mailed.")
@click.option("--status", type=click.Choice([s.value for s in imports.STATUSES]), default=None,
              help="File the tickets the import opens as STATUS, at the date of their last mail.")
@click.pass_context
@reported
def import_backlog(ctx: click.Context, path: Path, notify: bool, status: str | None) -> None:
    """Load a backlog from an mbox file or a Maildir: dated by each mail's Date:, threaded in date
    order, mailing nobody. Running it again creates nothing new."""
    from maildesk.admin import importer
    from maildesk.cli.progress import Progress
    from maildesk.domain import Status

    runtime = runtime_of(ctx)
    backlog = importer.open_backlog(path)
    job = importer.Importer(runtime, notify)
    with Progress(len(backlog), f"importing {backlog.kind}", sys.stderr) as bar:
        tally = job.run(backlog, bar.advance)
    filed = f", {job.file_as(tally.opened, Status(status))} filed as {status}" if status else ""
    deferred = f", {tally.deferred} left for the sweep" if tally.deferred else ""
    click.echo(f"{len(backlog)} messages: {tally.new} new, {tally.duplicate} already stored, "
               f"{tally.refused} refused{deferred}; {len(tally.opened)} tickets opened{filed}")
