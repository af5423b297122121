"""`maildesk tickets …`: list, show and change tickets, in the name of the acting admin (`--as`)."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from maildesk.cli.shared import (
    daemon_answer,
    fail,
    finish,
    instant,
    json_option,
    reported,
    runtime_of,
    settings_of,
    store_of,
    utcnow,
)
from maildesk.domain import Status
from maildesk.mail.tags import ticket_number

if TYPE_CHECKING:
    from maildesk.admin.ticket_reads import Admin

F = TypeVar("F", bound=Callable[..., Any])
TYPES = ("request", "incident")


def acting(fn: F) -> F:
    """The `--as NAME` option of every command that changes a ticket: who the events name."""
    return click.option("--as", "admin", default="", metavar="NAME",
                        help="Who acts, as events record it (default: your login name).")(fn)


def acting_name(name: str) -> str:
    """The acting admin's name: `--as NAME`, else the login name of whoever runs the command."""
    if name.strip():
        return name.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "unknown"


def admin_named(name: str) -> Admin:
    """The acting admin (see acting_name)."""
    from maildesk.admin.ticket_reads import Admin

    return Admin(acting_name(name))


def ticket_id(ctx: click.Context, text: str) -> int:
    """The ticket `text` names as the requester sees it (`[ACME #12]`, `#12`, `12`), or a one-line error."""
    found = ticket_number(text, settings_of(ctx).desk.instance)
    if found is None:
        fail(f"{text!r} is not a ticket number of this desk (like 12, #12 or [#12])")
    return found


@click.group()
def tickets() -> None:
    """List, show and change tickets."""


@tickets.command("list")
@click.option("--status", default="", help="Comma-separated statuses.")
@click.option("--category", default="")
@click.option("--type", "kind", default="", help="request or incident.")
@click.option("--requester", default="", help="Part of the requester's address.")
@click.option("--assignee", default="", metavar="AGENT|me|none",
              help="The agent's address, local part or name; me (see --as); none for unassigned.")
@click.option("--text", default="", help="Words in the subject or any message, or a ticket's number ([#12]).")
@click.option("--breached", is_flag=True, help="Only tickets that missed an SLA target.")
@click.option("--due-before", default=None, help="Only tickets with an SLA target open and due before (ISO).")
@click.option("--since", default=None, help="Created at or after (ISO date).")
@click.option("--until", default=None, help="Created before (ISO date).")
@click.option("--limit", default=100, show_default=True)
@json_option
@click.option("--spam", is_flag=True, help="List the tickets rules marked as spam (hidden otherwise).")
@acting
@click.pass_context
@reported
def tickets_list(ctx: click.Context, status: str, category: str, kind: str, requester: str, assignee: str,
                 text: str, breached: bool, due_before: str | None, since: str | None, until: str | None,
                 limit: int, as_json: bool, spam: bool, admin: str) -> None:
    """List tickets, newest first (a running daemon answers when there is one)."""
    from maildesk.admin.ticket_request import ListRequest

    for s in filter(None, status.split(",")):
        if s not in Status.__members__.values():
            fail(f"unknown status {s!r} (one of {', '.join(Status)})")
    if kind and kind not in TYPES:
        fail(f"unknown type {kind!r} (request or incident)")
    request = ListRequest(status=status, category=category, type=kind, requester=requester, assignee=assignee,
                          text=text, breached=breached, due_before=instant(due_before), since=instant(since),
                          until=instant(until), limit=limit, spam=spam, admin=acting_name(admin))
    answer = daemon_answer(ctx, {"op": "tickets.list", "list": request.as_json(), "json": as_json})
    if answer is not None:
        finish(answer)
        return
    from maildesk.admin import ticket_reads

    instance = settings_of(ctx).desk.instance
    click.echo(ticket_reads.list_text(store_of(ctx), instance, request, as_json), nl=False)


@tickets.command("show")
@click.argument("ticket")
@json_option
@click.pass_context
@reported
def tickets_show(ctx: click.Context, ticket: str, as_json: bool) -> None:
    """Show a ticket: its owner, SLA, files, thread and events. TICKET is 12, #12 or [#12]. A running
    daemon answers when there is one."""
    answer = daemon_answer(ctx, {"op": "tickets.show", "ticket": ticket, "json": as_json})
    if answer is not None:
        finish(answer)
        return
    from maildesk.admin import ticket_reads

    instance = settings_of(ctx).desk.instance
    click.echo(ticket_reads.show_text(store_of(ctx), instance, ticket, as_json), nl=False)


@tickets.command("set-status")
@click.argument("ticket")
@click.argument("status", type=click.Choice([s.value for s in Status]), metavar="STATUS")
@click.option("--reason", default="", help="Why; shown to the requester.")
@acting
@click.pass_context
@reported
def tickets_set_status(ctx: click.Context, ticket: str, status: str, reason: str, admin: str) -> None:
    """Change a ticket's status and send the requester the status notice."""
    from maildesk.admin import tickets as ticket_service

    runtime, number = runtime_of(ctx), ticket_id(ctx, ticket)
    ids = ticket_service.set_status(runtime.desk, number, Status(status), admin_named(admin).actor, reason,
                                    utcnow())
    for outbox_id in ids:
        runtime.deliver(outbox_id)  # Also recoverable by the daemon's sweep if this fails.
    click.echo(f"#{number} is now {status}" + (f"; notice queued ({len(ids)})" if ids else ""))


@tickets.command("merge")
@click.argument("source", metavar="FROM")
@click.argument("into", metavar="INTO")
@acting
@click.pass_context
@reported
def tickets_merge(ctx: click.Context, source: str, into: str, admin: str) -> None:
    """Merge ticket FROM into ticket INTO: its mail, events and people move, FROM closes with a link,
    mail about FROM lands on INTO, and FROM's requester is told once."""
    from maildesk.admin import tickets as ticket_service

    runtime = runtime_of(ctx)
    source_id, into_id = ticket_id(ctx, source), ticket_id(ctx, into)
    target, ids = ticket_service.merge(runtime.desk, source_id, into_id, admin_named(admin), utcnow())
    for outbox_id in ids:
        runtime.deliver(outbox_id)
    click.echo(f"#{source_id} is merged into #{target}" + (f"; notice queued ({len(ids)})" if ids else ""))


@tickets.command("split")
@click.argument("ticket")
@click.argument("message", type=int)
@acting
@click.pass_context
@reported
def tickets_split(ctx: click.Context, ticket: str, message: int, admin: str) -> None:
    """Make MESSAGE of a ticket (as `tickets show` numbers them) a new ticket, its sender the requester."""
    from maildesk.admin import tickets as ticket_service

    runtime, number = runtime_of(ctx), ticket_id(ctx, ticket)
    new, ids = ticket_service.split(runtime.desk, number, message, admin_named(admin), utcnow())
    for outbox_id in ids:
        runtime.deliver(outbox_id)
    queued = f"; notice queued ({len(ids)})" if ids else ""
    click.echo(f"message {message} of #{number} is now #{new}{queued}")


@tickets.command("attachment")
@click.argument("ticket")
@click.argument("number", type=int)
@click.option("-o", "--output", default="", metavar="PATH",
              help="File or folder to write to, - for standard output (default: the file's name, here).")
@click.option("--force", is_flag=True, help="Overwrite a file that is already there.")
@click.pass_context
@reported
def tickets_attachment(ctx: click.Context, ticket: str, number: int, output: str, force: bool) -> None:
    """Write out file NUMBER of a ticket (as `tickets show` numbers them) under a safe name."""
    from maildesk.admin import tickets as ticket_service

    found = ticket_service.attachment(runtime_of(ctx).desk, ticket_id(ctx, ticket), number)
    if output == "-":
        sys.stdout.buffer.write(found.data)
        sys.stdout.buffer.flush()
        return
    target = Path(output or found.name)
    if target.is_dir():
        target = target / found.name
    try:
        with open(target, "wb" if force else "xb") as fh:
            fh.write(found.data)
    except FileExistsError:
        fail(f"{target} is already there (--force overwrites it)")
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror}")
    click.echo(f"{target}: {len(found.data)} bytes, {found.content_type}")


@tickets.command("assign")
@click.argument("ticket")
@click.argument("agent", metavar="AGENT|me|none")
@acting
@click.pass_context
@reported
def tickets_assign(ctx: click.Context, ticket: str, agent: str, admin: str) -> None:
    """Give a ticket to an agent (address, local part or name; me; none to take it back)."""
    from maildesk.admin import tickets as ticket_service

    number = ticket_id(ctx, ticket)
    who = ticket_service.assign(runtime_of(ctx).desk, number, agent, admin_named(admin),
                                utcnow())
    click.echo(f"#{number} is now assigned to {who}" if who else f"#{number} is now unassigned")
