"""`maildesk report`: backlog, workload, volume, SLA compliance and breaches, weekly trend and
satisfaction for a period, as text, one JSON document, CSV files or an HTML page."""

from __future__ import annotations

from pathlib import Path

import click

from maildesk.cli.shared import echo_json, instant, json_option, reported, settings_of, store_of, utcnow


@click.command()
@click.option("--since", default=None, help="Start of the period (ISO date; default: 30 days ago).")
@click.option("--until", default=None, help="End of the period, exclusive (ISO date; default: now).")
@click.option("--goal", type=click.FloatRange(0, 100), default=90.0, show_default=True,
              help="SLA compliance (percent of tickets) below which a group is shown as a miss.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a self-contained HTML page with charts to this file.")
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write one CSV file per section (header row first) into this folder.")
@json_option
@click.pass_context
@reported
def report(ctx: click.Context, since: str | None, until: str | None, goal: float, html_file: Path | None,
           csv_dir: Path | None, as_json: bool) -> None:
    """Backlog, workload, volume, SLA per ticket and breaches, weekly trend, satisfaction."""
    from maildesk.admin import report as report_service
    from maildesk.admin.report.html import render_html
    from maildesk.admin.report.tables import as_document, write_csv

    # The store alone: the report only reads, and the whole desk (templates, rules, sender) would
    # cost more to build than the report's queries on a month of tickets.
    db = store_of(ctx)
    now = utcnow()
    start, end = report_service.period(instant(since), instant(until), now)
    figures = report_service.build_report(db, start, end, now, goal=goal)
    if as_json:
        echo_json(as_document(figures))
    else:
        click.echo(report_service.format_text(figures), nl=False)
    # With --json, stdout is the one document; what was written goes to stderr.
    if html_file is not None:
        html_file.write_text(render_html(figures, settings_of(ctx).desk.name), encoding="utf-8")
        click.echo(f"wrote {html_file}", err=as_json)
    if csv_dir is not None:
        for path in write_csv(figures, csv_dir):
            click.echo(f"wrote {path}", err=as_json)
