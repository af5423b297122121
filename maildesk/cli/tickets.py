"""`maildesk tickets …`: list, show and change tickets."""

from __future__ import annotations

import json

import click

from maildesk.admin import tickets as ticket_service
from maildesk.cli.shared import fail, instant, reported, settings_of
from maildesk.domain import Status
from maildesk.runtime.wiring import Runtime, utcnow


@click.group()
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
    ids = ticket_service.set_status(runtime.desk, ticket_id, Status(status), "admin:cli", reason, utcnow())
    for outbox_id in ids:
        runtime.deliver(outbox_id)  # Also recoverable by the daemon's sweep if this fails.
    click.echo(f"#{ticket_id} is now {status}" + (f"; notice queued ({len(ids)})" if ids else ""))
