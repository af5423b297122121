"""One logging setup for every command: one line per event, to stderr."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str) -> None:
    """Log `level` and above from maildesk, warnings and above from libraries."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("maildesk").setLevel(level)
