"""`maildesk kb …` and `maildesk macros …`: the self-service commands (issue #9), and the knowledge-base
re-index `maildesk serve` does at start."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from maildesk.admin.output import Column
from maildesk.cli.shared import echo_json, echo_table, json_option, reported, settings_of, store_of

if TYPE_CHECKING:
    from maildesk.runtime.wiring import Runtime

COLUMNS = (Column("SCORE", 5, right=True), Column("TITLE", 40), Column("URL"))


@click.group("kb")
def kb_group() -> None:
    """The knowledge base whose articles acknowledgements suggest."""


@kb_group.command("index")
@click.pass_context
@reported
def kb_index(ctx: click.Context) -> None:
    """Read every article under [kb] path and rebuild the search index."""
    from maildesk.pipeline import kb

    settings = settings_of(ctx)
    report = kb.rebuild(store_of(ctx), settings.selfservice)
    per = ", ".join(f"{lang} {n}" for lang, n in report.per_language) or "none"
    click.echo(f"indexed {report.total} articles ({per}) from {settings.selfservice.kb_path}")


@kb_group.command("search")
@click.argument("text")
@click.option("--language", default=None, help="Language when the text does not tell (en, uk, ru).")
@json_option
@click.pass_context
@reported
def kb_search(ctx: click.Context, text: str, language: str | None, as_json: bool) -> None:
    """Show which articles a request with this TEXT would be offered, with scores."""
    from maildesk.pipeline import kb

    settings = settings_of(ctx)
    floor = settings.selfservice.min_score
    with store_of(ctx).reading() as session:
        found = kb.ranked(session, text, "", language or settings.desk.language, 0.0, 10)
    if as_json:
        echo_json([{"score": round(s.score, 4), "title": s.title, "url": s.url, "shown": s.score >= floor}
                   for s in found])
        return
    echo_table(COLUMNS, [(f"{s.score:.2f}", s.title, s.url + ("" if s.score >= floor else
                                                              "   (below kb.min_score: not shown)"))
                         for s in found])


@click.group("macros")
def macros_group() -> None:
    """Canned replies agents insert with `#macro NAME`."""


@macros_group.command("list")
@json_option
@click.pass_context
@reported
def macros_list(ctx: click.Context, as_json: bool) -> None:
    """List the macros in [macros] path."""
    from maildesk.errors import ConfigError
    from maildesk.pipeline import macros

    settings = settings_of(ctx)
    names = macros.macro_names(settings)
    if settings.selfservice.macros_path is None:
        raise ConfigError("no macros configured: set [macros] path")
    if as_json:
        echo_json(names)
        return
    for name in names:
        click.echo(name)
    click.echo(f"{len(names)} macros in {settings.selfservice.macros_path}", err=True)


def reindex_on_start(runtime: Runtime) -> None:
    """`maildesk serve` rebuilds the knowledge-base index when its files changed since last time."""
    from maildesk.pipeline import kb

    report = kb.reindex_if_changed(runtime.db, runtime.settings.selfservice)
    if report is not None:
        click.echo(f"knowledge base re-indexed: {report.total} articles", err=True)
