"""The `maildesk` command group: its --config and --version options, and the one place every
sub-command is added to it. Each command lives with its subject in a sibling module and only parses,
calls a service and prints; this package is the only one that imports click.

The command modules import click and `cli.shared` at the top and everything else inside the
command that uses it, so `maildesk --help` (which reads every command's help) loads no more than
click, and each command loads only what it runs (tests/integration/test_cli_start.py guards both).
"""

from __future__ import annotations

import os

import click

from maildesk.admin.private import UMASK
from maildesk.cli import (
    agents,
    completion,
    desk,
    mail_in,
    quarantine,
    report,
    rules,
    selfservice,
    sweep,
    tickets,
)
from maildesk.cli.shared import OneLineErrors


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Config file (default: $MAILDESK_CONFIG, else ./maildesk.conf).")
@click.version_option(package_name="maildesk")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """maildesk: a help desk that lives in email."""
    os.umask(UMASK)  # tickets and raw mail are private whatever umask we were started with
    ctx.ensure_object(dict)["config_path"] = config_path


# `maildesk --help` lists the commands by name, so the order here is only for the reader.
main.add_command(desk.init)
main.add_command(desk.serve)
main.add_command(desk.worker)
main.add_command(desk.status)
main.add_command(desk.doctor)
main.add_command(desk.mailboxes)
main.add_command(mail_in.ingest)
main.add_command(mail_in.import_backlog)
main.add_command(sweep.sweep)
main.add_command(tickets.tickets)
main.add_command(agents.agents)
main.add_command(quarantine.quarantine)
main.add_command(rules.rules)
main.add_command(report.report)
main.add_command(selfservice.kb_group)
main.add_command(selfservice.macros_group)
main.add_command(completion.completion)
