"""`maildesk report`: tickets opened and closed, response and resolution times, SLA compliance."""

from __future__ import annotations

from pathlib import Path

import click

from maildesk.cli.shared import instant, reported, runtime_of, utcnow


@click.command()
@click.option("--since", default=None, help="Start of the period (ISO date; default: 30 days ago).")
@click.option("--until", default=None, help="End of the period, exclusive (ISO date; default: now).")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a self-contained HTML page with charts to this file.")
@click.pass_context
@reported
def report(ctx: click.Context, since: str | None, until: str | None, html_file: Path | None) -> None:
    """Tickets opened/closed, response and resolution times in working hours, SLA compliance."""
    from maildesk.admin import report as report_service
    from maildesk.admin.report_html import render_html

    runtime = runtime_of(ctx)
    now = utcnow()
    start, end = report_service.period(instant(since), instant(until), now)
    figures = report_service.build_report(runtime.db, runtime.desk.clock, start, end, now)
    click.echo(report_service.format_text(figures), nl=False)
    if html_file is not None:
        html_file.write_text(render_html(figures, runtime.settings.desk.name), encoding="utf-8")
        click.echo(f"wrote {html_file}")
