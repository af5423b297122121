"""What every `maildesk` command shares: the settings it loads, the one line it prints on an error,
and how it reads an instant given on the command line."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, NoReturn, ParamSpec, TypeVar

import click

from maildesk import config
from maildesk.config import Settings
from maildesk.errors import MaildeskError
from maildesk.serve.logs import configure_logging, fold

P = ParamSpec("P")
R = TypeVar("R")
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
        obj["settings"] = config.load(config.config_path(obj.get("config_path"), os.environ))
        configure_logging(obj["settings"].log_level)
    settings: Settings = obj["settings"]
    return settings


def instant(value: str | None) -> datetime | None:
    """An ISO date or date-time option (naive means UTC), or None when it was not given."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{value!r} is not a date like 2026-11-22 or 2026-11-22T09:00")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
