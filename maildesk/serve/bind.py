"""Binding a listening address as a long-running process starts: one line when it cannot."""

from __future__ import annotations

import os
from collections.abc import Callable

from maildesk.errors import StartError


def bind(what: str, host: str, port: int, start: Callable[[], None]) -> None:
    """Run `start`, which binds host:port; an address taken (or not ours) is a StartError in one line
    naming `what` (a traceback, or a daemon left running deaf, would help nobody)."""
    try:
        start()
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise StartError(f"{what} cannot listen on {host}:{port}: {reason}") from exc
