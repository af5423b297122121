"""`maildesk quarantine …`: the messages set aside (broken, over a limit, or failing) — list, show,
retry after a fix, drop."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from maildesk.admin.output import Column
from maildesk.cli.shared import (
    echo_json,
    echo_table,
    json_option,
    reported,
    runtime_of,
    store_of,
    utcnow,
)

if TYPE_CHECKING:
    from maildesk.store.inbound import InboundRow

COLUMNS = (Column("ID", 7, right=True), Column("RECEIVED", 16), Column("STATE", 11), Column("FROM", 30),
           Column("REASON"))


@click.group()
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
@json_option
@click.pass_context
@reported
def quarantine_list(ctx: click.Context, every: bool, limit: int, as_json: bool) -> None:
    """The quarantined messages, newest first, with the reason each was set aside."""
    from maildesk.admin import quarantine as quarantine_service

    rows = quarantine_service.listing(store_of(ctx), None if every else "quarantined", limit)
    if as_json:
        echo_json([_inbound_json(r) for r in rows])
        return
    if not rows:
        click.echo("nothing in quarantine")
        return
    echo_table(COLUMNS, [(str(r.id), f"{r.received_at:%Y-%m-%d %H:%M}", r.state, r.mail_from or "<>", r.error)
                         for r in rows])


@quarantine.command("show")
@click.argument("inbound_id", type=int)
@click.option("--raw", is_flag=True, help="Write the message's bytes exactly as received to stdout.")
@json_option
@click.pass_context
@reported
def quarantine_show(ctx: click.Context, inbound_id: int, raw: bool, as_json: bool) -> None:
    """One stored message (any state): its facts, one per line; with --raw its exact bytes."""
    from maildesk.admin import quarantine as quarantine_service

    row, data = quarantine_service.show(store_of(ctx), inbound_id)
    if raw:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    if as_json:
        echo_json(_inbound_json(row))
        return
    for label, value in _facts(row):
        click.echo(f"{label + ':':<17}{value}")


def _facts(row: InboundRow) -> list[tuple[str, str]]:
    """`quarantine show` as text: the same facts as --json, absent ones as "-"."""
    return [("inbound", str(row.id)), ("received", f"{row.received_at:%Y-%m-%d %H:%M:%S %Z}".strip()),
            ("source", row.source), ("from", row.mail_from or "<>"), ("to", ", ".join(row.rcpt_to) or "-"),
            ("message-id", row.message_id or "-"), ("size", f"{row.size} bytes"), ("state", row.state),
            ("attempts", str(row.attempts)), ("reason", row.error or "-"), ("verdict", row.verdict or "-"),
            ("verdict reasons", "; ".join(row.verdict_reasons) or "-"),
            ("ticket", f"#{row.ticket_id}" if row.ticket_id else "-")]


@quarantine.command("retry")
@click.argument("inbound_id", type=int)
@click.pass_context
@reported
def quarantine_retry(ctx: click.Context, inbound_id: int) -> None:
    """Process a quarantined message again now (after fixing what stopped it)."""
    from maildesk.admin import quarantine as quarantine_service

    runtime = runtime_of(ctx)
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
    from maildesk.admin import quarantine as quarantine_service

    quarantine_service.drop(store_of(ctx), inbound_id, _operator(), reason, utcnow())
    click.echo(f"inbound {inbound_id}: dropped")


def _operator() -> str:
    """Who acted, for the audit line: the login of whoever ran the command."""
    return f"cli:{os.environ.get('USER') or os.environ.get('LOGNAME') or 'unknown'}"
