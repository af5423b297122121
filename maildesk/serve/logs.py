"""One logging setup for every command: one line per event, to stderr, or to syslog for `ingest`.

One line per event: a message or traceback that spans lines is folded into one (" | " between
its lines), so journald, syslog and an MTA's bounce each hold one record per event. Under
systemd (`$JOURNAL_STREAM` names our stderr) a line carries no timestamp of its own — the journal
adds one — and starts with its priority as `<N>` (sd-daemon(3)), so `journalctl -p err` finds
errors. `ingest`, which an MTA runs, logs to syslog's mail facility instead (`configure_mta_logging`):
whatever it writes to stderr the MTA shows the sender, so it prints only its one-line failure.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
import threading
from typing import TextIO

#: syslog(3) priorities of logging's levels.
PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}
SYSLOG_SOCKET = "/dev/log"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def fold(text: str) -> str:
    """Several lines as one: each stripped, joined by " | " (a traceback stays readable in one line)."""
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())


class OneLine(logging.Formatter):
    """A formatter whose every record is one line; with `journal`, `<N>` first and no timestamp."""

    def __init__(self, fmt: str, journal: bool = False) -> None:
        super().__init__(fmt)
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:
        line = fold(super().format(record))
        if self.journal:
            return f"<{PRIORITY.get(record.levelno, 6)}>{line}"
        return line


def journal_stream(stream: TextIO) -> bool:
    """Whether `stream` is the journal connection systemd gave us: `$JOURNAL_STREAM` is
    "device:inode" of it. A child whose stderr was redirected inherits the variable, so the
    variable alone is not enough."""
    expected = os.environ.get("JOURNAL_STREAM", "")
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return bool(expected) and expected == f"{info.st_dev}:{info.st_ino}"


def configure_logging(level: str, stream: TextIO | None = None) -> None:
    """Log `level` and above from maildesk, warnings and above from libraries, to stderr."""
    out = stream if stream is not None else sys.stderr
    journal = journal_stream(out)
    handler = logging.StreamHandler(out)
    handler.setFormatter(OneLine("%(name)s: %(message)s" if journal else FORMAT, journal))
    _install(handler, level)


def configure_mta_logging(level: str, address: str = SYSLOG_SOCKET) -> None:
    """For `ingest`: log to syslog's mail facility when `address` is a syslog socket; otherwise
    only warnings and errors, to stderr (nothing on a normal delivery either way)."""
    handler = _syslog(address)
    if handler is not None:
        handler.setFormatter(OneLine(f"maildesk-ingest[{os.getpid()}]: %(name)s: %(message)s"))
        _install(handler, level)
        return
    fallback = logging.StreamHandler(sys.stderr)
    fallback.setFormatter(OneLine(FORMAT))
    _install(fallback, max(logging.getLevelNamesMapping()[level], logging.WARNING))


def _syslog(address: str) -> logging.Handler | None:
    import logging.handlers  # here: the module brings the socket machinery every command would pay for

    try:
        if not stat.S_ISSOCK(os.stat(address).st_mode):
            return None
        return logging.handlers.SysLogHandler(address, facility=logging.handlers.SysLogHandler.LOG_MAIL)
    except OSError:  # no syslog daemon behind the socket
        return None


def _install(handler: logging.Handler, level: str | int) -> None:
    root = logging.getLogger()
    for old in root.handlers:
        old.close()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("maildesk").setLevel(level)
    # What Python would print to stderr by itself, over several lines, goes through the handler:
    # warnings, and the traceback of a thread that dies.
    logging.captureWarnings(True)
    threading.excepthook = _thread_died


def _thread_died(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "a thread"
    logging.getLogger("maildesk").critical("%s died", name, exc_info=args.exc_value or True)
