"""`maildesk agents …`: add, list and remove the agents who answer tickets."""

from __future__ import annotations

import click

from maildesk.admin.output import Column
from maildesk.cli.shared import echo_json, echo_table, json_option, reported, store_of, utcnow

COLUMNS = (Column("EMAIL", 40), Column("NAME", 30), Column("STATE"))


@click.group()
def agents() -> None:
    """Manage the agents who answer tickets."""


@agents.command("add")
@click.argument("email")
@click.option("--name", default="")
@click.pass_context
@reported
def agents_add(ctx: click.Context, email: str, name: str) -> None:
    """Add an agent (or re-activate one)."""
    from maildesk.admin import agents as agent_service

    row = agent_service.add_agent(store_of(ctx), email, name, utcnow())
    click.echo(f"agent {row.email} ({row.name or 'no name'}) active")


@agents.command("list")
@json_option
@click.pass_context
@reported
def agents_list(ctx: click.Context, as_json: bool) -> None:
    """List agents."""
    from maildesk.admin import agents as agent_service

    rows = agent_service.list_agents(store_of(ctx))
    if as_json:
        echo_json([r.__dict__ for r in rows])
        return
    echo_table(COLUMNS, [(r.email, r.name, "active" if r.active else "removed") for r in rows])


@agents.command("remove")
@click.argument("email")
@click.pass_context
@reported
def agents_remove(ctx: click.Context, email: str) -> None:
    """Remove an agent (kept in history, no longer notified)."""
    from maildesk.admin import agents as agent_service

    agent_service.remove_agent(store_of(ctx), email)
    click.echo(f"agent {email} removed")
