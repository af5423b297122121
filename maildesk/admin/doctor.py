"""`maildesk doctor`: a list of named checks, each one line, so an admin sees what is wrong at once.

A check is a function that returns a short "why it is fine" or raises a
MaildeskError saying what is wrong; add one by appending to `checks()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from maildesk.arrival.imap_fetch import check_login
from maildesk.config import ImapAccount, Settings
from maildesk.errors import ConfigError, MaildeskError, StoreError
from maildesk.notices.check import template_problems
from maildesk.notices.notifier import Identity
from maildesk.notices.render import Renderer
from maildesk.runtime.wiring import utcnow
from maildesk.store import migrate
from maildesk.store.db import Database


@dataclass(frozen=True)
class Check:
    """A named check: returns a one-line summary, or raises MaildeskError."""

    name: str
    run: Callable[[], str]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check."""

    name: str
    ok: bool
    detail: str


def checks(settings: Settings) -> list[Check]:
    """Everything doctor looks at, in order: config, database schema, each IMAP login."""
    found = [Check("config", lambda: f"{settings.path} is valid"),
             Check("database", partial(_schema, settings)), Check("templates", partial(_templates, settings))]
    found += [Check(f"imap {a.name}", partial(_imap_login, a)) for a in settings.imap]
    return found


def _templates(settings: Settings) -> str:
    """Every notice template, built-in and in `[desk] templates_dir`, in every language, renders with
    sample values; else each one that does not, by file and line."""
    renderer = Renderer(settings.desk.templates_dir)
    problems = template_problems(renderer, Identity.from_settings(settings))
    if problems:
        raise ConfigError(f"{len(problems)} cannot be rendered:\n  " + "\n  ".join(problems))
    return f"{len(renderer.templates())} templates render"


def _imap_login(account: ImapAccount) -> str:
    return check_login(account, utcnow())


def run_checks(to_run: list[Check]) -> Iterator[CheckResult]:
    """Run each check; a failure is reported, never raised, so every check gets its turn."""
    for check in to_run:
        try:
            yield CheckResult(check.name, True, check.run())
        except MaildeskError as exc:
            yield CheckResult(check.name, False, str(exc))


def _schema(settings: Settings) -> str:
    db = Database(settings.database.url)
    try:
        current, head = migrate.current_revision(db), migrate.head_revision()
    except Exception as exc:  # Any driver error here means "cannot read the database"; say so plainly.
        raise StoreError(f"cannot read {settings.database.url}: {exc}") from exc
    finally:
        db.dispose()
    if current != head:
        raise StoreError(f"schema at {current or 'nothing'}, this version needs {head}: run `maildesk init`")
    return f"schema at {head}"
