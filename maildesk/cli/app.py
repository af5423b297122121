"""The `maildesk` command group: its --config and --version options, and the one place every
sub-command is added to it. Each command lives with its subject in a sibling module and only parses,
calls a service and prints; this package is the only one that imports click."""

from __future__ import annotations

import click

from maildesk.cli import agents, desk, mail_in, quarantine, report, rules, selfservice, sweep, tickets
from maildesk.cli.shared import fail


class _Desk(click.Group):
    """The `maildesk` group: a bad value or a missing argument of any sub-command is one line on stderr
    and exit status 2, like every other error (click prints the usage and a hint). A group called
    with nothing still shows its help."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None and exc.ctx.parent is not None else ""
            fail(f"{where.removeprefix(f'{ctx.info_name} ')}: " * bool(where) + exc.format_message())


@click.group(cls=_Desk)
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Config file (default: $MAILDESK_CONFIG, else ./maildesk.conf).")
@click.version_option(package_name="maildesk")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """maildesk: a help desk that lives in email."""
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
