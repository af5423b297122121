"""A progress bar on the terminal that log lines do not break.

click's bar is drawn with a carriage return and knows nothing of logging: the first log line is
written after the bar, on the bar's line, and the bar goes on overwriting the line below. Here,
while the bar is shown, every logging handler that writes to the same terminal goes through the
bar: it clears the bar's line, writes the log line, and draws the bar again under it. Not on a
terminal (a pipe, a file, journald) nothing is drawn at all.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from types import TracebackType
from typing import IO, Any

#: At most this many redraws a second: drawing is cheap, a terminal scrolling is not.
REDRAW_SECONDS = 0.1


class Progress:
    """`with Progress(total, label) as bar: … bar.advance(n) …`."""

    def __init__(self, total: int, label: str, stream: IO[str]) -> None:
        self.total, self.label, self.stream = total, label, stream
        self.done = 0
        self.shown = _is_terminal(stream)
        self._lock = threading.RLock()
        self._drawn_at = 0.0
        self._started = time.monotonic()
        self._wrapped: list[tuple[logging.StreamHandler[Any], Any]] = []

    def __enter__(self) -> Progress:
        if self.shown:
            self._route_logs()
            self._draw()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.shown:
            with self._lock:
                self._draw()
                self.stream.write("\n")
                self.stream.flush()
            for handler, stream in self._wrapped:
                handler.setStream(stream)

    def advance(self, count: int) -> None:
        """`count` more items are done."""
        with self._lock:
            self.done += count
            due = time.monotonic() - self._drawn_at >= REDRAW_SECONDS or self.done >= self.total
            if self.shown and due:
                self._draw()

    def line(self) -> str:
        """The bar as drawn: label, bar, share, count and rate."""
        width = max(10, min(40, shutil.get_terminal_size((80, 24)).columns - len(self.label) - 40))
        share = self.done / self.total if self.total else 1.0
        filled = int(width * share)
        rate = self.done / max(time.monotonic() - self._started, 1e-6)
        return (f"{self.label} [{'#' * filled}{'-' * (width - filled)}] {share:4.0%} "
                f"{self.done}/{self.total} {rate:.0f}/s")

    def _draw(self) -> None:
        with self._lock:
            self.stream.write("\r\x1b[K" + self.line())
            self.stream.flush()
            self._drawn_at = time.monotonic()

    def _clear(self) -> None:
        self.stream.write("\r\x1b[K")

    def _route_logs(self) -> None:
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and _same_terminal(handler.stream, self.stream):
                self._wrapped.append((handler, handler.stream))
                handler.setStream(_AboveTheBar(self))


class _AboveTheBar:
    """What a logging handler writes to while the bar is shown: its lines go above the bar."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar

    def write(self, text: str) -> int:
        with self.bar._lock:
            self.bar._clear()
            self.bar.stream.write(text)
            if text.endswith("\n"):
                self.bar._draw()
        return len(text)

    def flush(self) -> None:
        self.bar.stream.flush()


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _same_terminal(one: Any, other: IO[str]) -> bool:
    """Whether a handler's stream and the bar's end up on the same terminal (stdout and stderr
    both on it, say)."""
    if one is other:
        return True
    try:
        return bool(one.isatty()) and os.path.samestat(os.fstat(one.fileno()), os.fstat(other.fileno()))
    except (AttributeError, ValueError, OSError):
        return False
