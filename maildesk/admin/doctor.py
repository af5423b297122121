"""`maildesk doctor`: what a deploy needs, checked one line each, so an admin sees what is wrong at once.

A check is a function of the settings that returns a short "why it is fine", raises Concern for
something that works but deserves a look (WARN), or raises another MaildeskError saying what is
wrong (FAIL). `checks()` lists them in the order printed: add one by writing its function and
adding one line there. Every check runs, each within CHECK_SECONDS, whatever the others found.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from maildesk.admin.private import open_to_others
from maildesk.arrival.imap_fetch import check_login
from maildesk.config import ImapAccount, Settings
from maildesk.errors import ConfigError, MaildeskError, StoreError
from maildesk.notices.check import template_problems
from maildesk.notices.notifier import Identity
from maildesk.notices.render import Renderer
from maildesk.outbound import make_sender
from maildesk.runtime.queue import check_broker
from maildesk.runtime.wiring import utcnow
from maildesk.store import migrate
from maildesk.store.db import Database

#: A check that has not answered by then (a host that drops packets) fails, and the next one runs.
CHECK_SECONDS = 30.0
#: Below this much free space in data_dir, intake is close to answering 451 to every sender.
MIN_FREE_BYTES = 1 << 30


class Concern(MaildeskError):
    """Raised by a check for what works but should be looked at: printed WARN, not a failure."""


@dataclass(frozen=True)
class Check:
    """A named check: returns a one-line summary, or raises MaildeskError (Concern: a warning)."""

    name: str
    run: Callable[[], str]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: state is "ok", "warn" or "fail"."""

    name: str
    state: str
    detail: str

    @property
    def ok(self) -> bool:
        """Whether the check passed (a warning passes)."""
        return self.state != "fail"

    def as_json(self) -> dict[str, str]:
        """The result as `doctor --json` prints it."""
        return {"name": self.name, "state": self.state, "detail": self.detail}


def checks(settings: Settings) -> list[Check]:
    """Everything doctor looks at, in the order printed, one line each."""
    return [
        Check("config", lambda: f"{settings.path} is valid"),
        Check("database", partial(_schema, settings)),
        Check("templates", partial(_templates, settings)),
        Check("broker", partial(check_broker, settings.broker.url)),
        Check("outbound", partial(_outbound, settings)),
        *[Check(f"imap {a.name}", partial(_imap_login, a)) for a in settings.imap],
        Check("data dir", partial(_data_dir, settings.desk.data_dir)),
        Check("private data", partial(private_data, settings)),
    ]


def _templates(settings: Settings) -> str:
    """Every notice template, built-in and in `[desk] templates_dir`, in every language, renders with
    sample values; else each one that does not, by file and line."""
    renderer = Renderer(settings.desk.templates_dir)
    problems = template_problems(renderer, Identity.from_settings(settings))
    if problems:
        raise ConfigError(f"{len(problems)} cannot be rendered:\n  " + "\n  ".join(problems))
    return f"{len(renderer.templates())} templates render"


def run_checks(to_run: list[Check]) -> Iterator[CheckResult]:
    """Run each check; a failure is reported, never raised, so every check gets its turn."""
    for check in to_run:
        yield _run(check)


def _run(check: Check) -> CheckResult:
    """One check, in a thread of its own so that a check that hangs is reported, not waited for."""
    outcome: list[CheckResult] = []

    def run() -> None:
        try:
            outcome.append(CheckResult(check.name, "ok", check.run()))
        except Concern as exc:
            outcome.append(CheckResult(check.name, "warn", str(exc)))
        except MaildeskError as exc:
            outcome.append(CheckResult(check.name, "fail", str(exc)))
        except Exception as exc:  # a check's bug still gets its line, and the other checks run
            outcome.append(CheckResult(check.name, "fail", f"unexpected error: {exc!r}"))

    worker = threading.Thread(target=run, name=f"doctor-{check.name}", daemon=True)
    worker.start()
    worker.join(CHECK_SECONDS)
    if not outcome:
        return CheckResult(check.name, "fail", f"no answer within {CHECK_SECONDS:.0f} s")
    return outcome[0]


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


def _outbound(settings: Settings) -> str:
    """The relay answers EHLO (and takes the login when one is configured); or the Maildir is writable."""
    return make_sender(settings.outbound).check()


def _imap_login(account: ImapAccount) -> str:
    return check_login(account, utcnow())


def _data_dir(path: Path) -> str:
    """data_dir is a folder this user may write in (the database, blobs and outbox live there), with
    room left on its file system."""
    try:
        info = path.stat()
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}; run `maildesk init` as the service's user") from exc
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"{path} is not a directory")
    mode = f"mode {stat.S_IMODE(info.st_mode):04o}, owner {_user(info.st_uid)}"
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"{path} ({mode}) is not writable by {_user(os.geteuid())}")
    usage = shutil.disk_usage(path)
    room = f"{usage.free / (1 << 30):.1f} GiB free of {usage.total / (1 << 30):.1f} GiB"
    if usage.free < MIN_FREE_BYTES:
        raise ConfigError(f"{path}: only {room}; new mail is refused with 451 once it is full")
    return f"{path}: {mode}, writable by {_user(os.geteuid())}, {room}"


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def private_data(settings: Settings) -> str:
    """Tickets and raw mail must not be readable by other users of the machine (admin/private.py)."""
    exposed = open_to_others(settings)
    if exposed:
        listed = ", ".join(f"{path} ({stat.filemode(mode)})" for path, mode in exposed)
        raise MaildeskError(f"open to other users: {listed}; `maildesk init` takes their access away")
    return f"{settings.desk.data_dir} and what is in it are closed to other users"
