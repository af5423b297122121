"""What every `maildesk` command shares: the settings it loads, the store or the runtime it opens,
the one line it prints on an error, how it prints JSON and tables, and how it reads an instant given
on the command line.

Importing this module (and any command module) costs no more than click: the settings, the store
and the runtime are imported by the function that opens them, when a command runs, so `--help`
and a command that only reads tickets never load the pipeline, the templates or the broker.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import click

from maildesk.admin.output import Column, as_json, table_lines
from maildesk.errors import MaildeskError
from maildesk.serve.logs import fold

if TYPE_CHECKING:
    from maildesk.config import Settings
    from maildesk.runtime.wiring import Runtime
    from maildesk.serve.local import Answer
    from maildesk.store.db import Database

P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)
#: sysexits.h: an error in maildesk itself.
EX_SOFTWARE = 70


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one clear line and exit; the only way maildesk exits with an error."""
    click.echo(f"maildesk: {message}", err=True)
    sys.exit(code)


def reported(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn maildesk errors into one line on stderr and exit status 2."""
    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except MaildeskError as exc:
            fail(str(exc))
    return wrapper


class OneLineErrors(click.Group):
    """The `maildesk` group: whatever a command raises ends as one line on stderr, never a traceback —
    maildesk's errors and a bad value or missing argument on the command line with status 2 (click
    would print the usage and a hint), anything else (a library's error nobody translated, a bug)
    with 70; the traceback goes to the log at DEBUG (`[log] level = "DEBUG"`), folded into one line.
    A group called with nothing still shows its help."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None and exc.ctx.parent is not None else ""
            fail(f"{where.removeprefix(f'{ctx.info_name} ')}: " * bool(where) + exc.format_message())
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except MaildeskError as exc:
            fail(str(exc))
        except Exception as exc:
            log.debug("unexpected error", exc_info=True)
            fail(f"unexpected {type(exc).__name__}: {fold(str(exc))}", EX_SOFTWARE)


def settings_of(ctx: click.Context) -> Settings:
    """Load (once) the settings named by --config or $MAILDESK_CONFIG."""
    obj: dict[str, Any] = ctx.ensure_object(dict)
    if "settings" not in obj:
        from maildesk import config
        from maildesk.serve.logs import configure_logging

        obj["settings"] = config.load(config.config_path(obj.get("config_path"), os.environ))
        configure_logging(obj["settings"].log_level)
    settings: Settings = obj["settings"]
    return settings


def runtime_of(ctx: click.Context) -> Runtime:
    """The whole desk of this process (store, templates, rules, sender): for commands that change
    tickets or send mail."""
    from maildesk.runtime.wiring import Runtime

    return Runtime.build(settings_of(ctx))


def store_of(ctx: click.Context) -> Database:
    """The store alone, its schema checked: for commands that only read it."""
    from maildesk.store.revision import open_current

    return open_current(settings_of(ctx).database.url)


def daemon_answer(ctx: click.Context, request: dict[str, Any], body: bytes = b"") -> Answer | None:
    """A running daemon's answer to `request` (serve/local.py), found through the config file's
    `[desk] data_dir` without validating the file; None when there is none for this config file."""
    from maildesk.config.peek import config_path, peek
    from maildesk.serve.local import ask, socket_path

    peeked = peek(config_path(ctx.ensure_object(dict).get("config_path"), os.environ))
    if peeked is None:
        return None
    return ask(socket_path(peeked.data_dir), request | {"config": str(peeked.path)}, body)


def finish(answer: Answer) -> None:
    """End as the daemon's answer says: print what it printed, or its one-line error and status."""
    if answer.code:
        fail(answer.message, answer.code)
    click.echo(answer.output.decode(), nl=False)


def json_option(fn: F) -> F:
    """The `--json` option every command that reads has: one JSON value on stdout instead of text."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(fn)


def echo_json(value: Any) -> None:
    """Print `value` as indented JSON, non-ASCII as it is."""
    click.echo(as_json(value), nl=False)


def echo_table(columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> None:
    """The header row (the titles), then one line per row."""
    click.echo("\n".join(table_lines(columns, rows)))


def instant(value: str | None) -> datetime | None:
    """An ISO date or date-time option (naive means UTC), or None when it was not given."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{value!r} is not a date like 2026-11-22 or 2026-11-22T09:00")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)
