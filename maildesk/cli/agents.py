"""`maildesk agents …`: add, list and remove the agents who answer tickets."""

from __future__ import annotations

import json

import click

from maildesk.admin import agents as agent_service
from maildesk.cli.shared import reported, settings_of
from maildesk.runtime.wiring import Runtime, utcnow


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
