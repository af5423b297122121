"""`maildesk doctor`: a list of named checks, each one line, so an admin sees what is wrong at once.

A check is a function that returns a short "why it is fine" or raises a
MaildeskError saying what is wrong; add one by appending to `checks()`.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from maildesk.admin.private import open_to_others
from maildesk.arrival.imap_fetch import check_login
from maildesk.config import ImapAccount, Settings
from maildesk.errors import MaildeskError, StoreError
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
    """Everything doctor looks at, in order: config, database schema, private data, each IMAP login."""
    found = [Check("config", lambda: f"{settings.path} is valid"),
             Check("database", partial(_schema, settings)),
             Check("private data", partial(private_data, settings))]
    found += [Check(f"imap {a.name}", partial(_imap_login, a)) for a in settings.imap]
    return found


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


def private_data(settings: Settings) -> str:
    """Tickets and raw mail must not be readable by other users of the machine (admin/private.py)."""
    exposed = open_to_others(settings)
    if exposed:
        listed = ", ".join(f"{path} ({stat.filemode(mode)})" for path, mode in exposed)
        raise MaildeskError(f"open to other users: {listed}; `maildesk init` takes their access away")
    return f"{settings.desk.data_dir} and what is in it are closed to other users"
