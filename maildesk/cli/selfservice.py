"""`maildesk kb …` and `maildesk macros …`: the self-service commands (issue #9), and the knowledge-base
re-index `maildesk serve` does at start."""

from __future__ import annotations

import click

from maildesk.cli.shared import reported, settings_of
from maildesk.errors import ConfigError
from maildesk.pipeline import kb, macros
from maildesk.runtime.wiring import Runtime


@click.group("kb")
def kb_group() -> None:
    """The knowledge base whose articles acknowledgements suggest."""


@kb_group.command("index")
@click.pass_context
@reported
def kb_index(ctx: click.Context) -> None:
    """Read every article under [kb] path and rebuild the search index."""
    settings = settings_of(ctx)
    report = kb.rebuild(Runtime.build(settings).db, settings.selfservice)
    per = ", ".join(f"{lang} {n}" for lang, n in report.per_language) or "none"
    click.echo(f"indexed {report.total} articles ({per}) from {settings.selfservice.kb_path}")


@kb_group.command("search")
@click.argument("text")
@click.option("--language", default=None, help="Language when the text does not tell (en, uk, ru).")
@click.pass_context
@reported
def kb_search(ctx: click.Context, text: str, language: str | None) -> None:
    """Show which articles a request with this TEXT would be offered, with scores."""
    settings = settings_of(ctx)
    runtime = Runtime.build(settings)
    cfg = settings.selfservice
    with runtime.db.reading() as session:
        found = kb.ranked(session, text, "", language or settings.desk.language, 0.0, 10)
    for s in found:
        mark = "" if s.score >= cfg.min_score else "   (below kb.min_score: not shown)"
        click.echo(f"{s.score:.2f}  {s.title}  {s.url}{mark}")


@click.group("macros")
def macros_group() -> None:
    """Canned replies agents insert with `#macro NAME`."""


@macros_group.command("list")
@click.pass_context
@reported
def macros_list(ctx: click.Context) -> None:
    """List the macros in [macros] path."""
    settings = settings_of(ctx)
    names = macros.macro_names(settings)
    if settings.selfservice.macros_path is None:
        raise ConfigError("no macros configured: set [macros] path")
    for name in names:
        click.echo(name)
    click.echo(f"{len(names)} macros in {settings.selfservice.macros_path}", err=True)


def reindex_on_start(runtime: Runtime) -> None:
    """`maildesk serve` rebuilds the knowledge-base index when its files changed since last time."""
    report = kb.reindex_if_changed(runtime.db, runtime.settings.selfservice)
    if report is not None:
        click.echo(f"knowledge base re-indexed: {report.total} articles", err=True)
