"""`maildesk ingest` the way an MTA runs it, when a daemon is running: the mail goes straight to the
daemon's local socket, before click and the command modules are imported.

An MTA starts one `maildesk ingest` per message, and waits for its exit status. Importing click
and the command tree costs about 45 ms of CPU time per process, more than everything else the
handover does (bench/pipe.py). So `maildesk.cli.main` first asks this module: a command line it
recognises as `[--config PATH] ingest [-f SENDER] [-r RECIPIENT]…` (the forms click accepts for
those options) goes to the daemon here; anything else — another command, help, an option this
parser does not know, no daemon, a daemon that asks the command to do the work itself — goes to
click as before, with the mail read here kept for it. The daemon commits the mail durably before
it answers, so exit status 0 means stored, as with the click command.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: The keys of the context object the fast path leaves for `ingest` when click runs it after all.
PIPED_MAIL, DAEMON_ASKED = "piped_mail", "daemon_asked"

#: How each option of `ingest` and of the group may be spelled, and the field it fills.
_OPTIONS = {"-f": "mail_from", "--sender": "mail_from", "-r": "rcpt_to", "--recipient": "rcpt_to"}
_GROUP_OPTIONS = {"--config": "config"}


@dataclass(frozen=True)
class Handover:
    """What the fast path did: the exit status when a daemon answered, else what click's command
    gets in its context object — the mail already read from stdin, and that the daemon was asked."""

    status: int | None
    context: dict[str, Any]


def attempt(argv: Sequence[str]) -> Handover:
    """Hand the mail over when `argv` is a plain `ingest` and a daemon is running; else nothing read."""
    parsed = parse(argv)
    if parsed is None:
        return Handover(None, {})
    raw = sys.stdin.buffer.read()
    status = daemon_status(parsed["config"][-1] if parsed["config"] else None, raw,
                           parsed["mail_from"][-1] if parsed["mail_from"] else None, tuple(parsed["rcpt_to"]))
    return Handover(status, {PIPED_MAIL: raw, DAEMON_ASKED: True})


def daemon_status(config: str | None, raw: bytes, mail_from: str | None,
                  rcpt_to: tuple[str, ...]) -> int | None:
    """Hand `raw` to the daemon of the desk `config` names: the exit status its answer gives (0: stored
    durably; else its one-line error is on stderr), or None when no daemon took it and the command
    must store it itself."""
    try:
        return _hand_over(config, raw, mail_from, rcpt_to)
    except Exception:  # The command then does it all itself; a mail the daemon stored already is
        # found again there by its digest and not stored twice.
        return None


def parse(argv: Sequence[str]) -> dict[str, list[str]] | None:
    """`[--config PATH] ingest [options]` split into its fields (each a list of the values given);
    None for any other command line."""
    fields: dict[str, list[str]] = {"config": [], "mail_from": [], "rcpt_to": []}
    args = list(argv)
    if not _take_options(args, _GROUP_OPTIONS, fields, stop="ingest") or args[:1] != ["ingest"]:
        return None
    args.pop(0)
    if not _take_options(args, _OPTIONS, fields) or args:
        return None
    return fields


def _take_options(args: list[str], known: dict[str, str], fields: dict[str, list[str]],
                  stop: str = "") -> bool:
    """Move the options at the front of `args` into `fields` until `stop` or the end; False at
    anything else (an option not known here, a missing value)."""
    while args and args[0] != stop:
        name, value = _option(args, known)
        if name is None or value is None:
            return False
        fields[known[name]].append(value)
    return True


def _option(args: list[str], known: dict[str, str]) -> tuple[str | None, str | None]:
    """Take one option and its value off the front of `args`: `--long VALUE`, `--long=VALUE`,
    `-x VALUE`, `-xVALUE`."""
    arg = args.pop(0)
    name, equals, value = arg.partition("=")
    if arg.startswith("--") and equals and name in known:
        return name, value
    if arg in known:
        return (arg, args.pop(0)) if args else (arg, None)
    if len(arg) > 2 and not arg.startswith("--") and arg[:2] in known:
        return arg[:2], arg[2:]
    return None, None


def _hand_over(config: str | None, raw: bytes, mail_from: str | None, rcpt_to: tuple[str, ...]) -> int | None:
    from maildesk.config.peek import config_path, peek
    from maildesk.serve.local import ask, socket_path

    peeked = peek(config_path(config, os.environ))
    if peeked is None or not socket_path(peeked.data_dir).exists():
        return None
    answer = ask(socket_path(peeked.data_dir), {"op": "ingest", "config": str(peeked.path),
                                                "mail_from": mail_from, "rcpt_to": list(rcpt_to)},
                 raw)
    if answer is None:
        return None
    if answer.code:
        sys.stderr.write(f"maildesk: {answer.message}\n")
        return answer.code
    if peeked.log_level in ("DEBUG", "INFO"):  # stored: a lost log line must not make the MTA retry
        with contextlib.suppress(OSError, ValueError):
            _note(f"inbound={answer.fields.get('inbound')} stored from {mail_from or '<>'}"
                  f"{'' if answer.fields.get('new') else ' (a duplicate)'}, handed to the running daemon")
    return 0


def _note(message: str) -> None:
    """One INFO line to syslog's mail facility, as serve.logs.configure_mta_logging writes it, through
    the C module: the logging package and its syslog handler would cost more than the handover."""
    import syslog

    syslog.openlog(f"maildesk-ingest[{os.getpid()}]", 0, syslog.LOG_MAIL)
    syslog.syslog(syslog.LOG_INFO, f"{__name__}: {message}")
    syslog.closelog()
