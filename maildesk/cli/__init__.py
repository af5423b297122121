"""The `maildesk` command (click is imported only in this package).

`main` is what the `maildesk` executable runs. A mail an MTA pipes to `maildesk ingest` while a
daemon is running goes to the daemon before click is imported (pipe.py); every other command line
is parsed by click (app.py)."""

from __future__ import annotations

import sys


def main() -> None:
    """Run the `maildesk` command line in sys.argv."""
    from maildesk.cli import pipe

    handover = pipe.attempt(sys.argv[1:])
    if handover.status is not None:
        sys.exit(handover.status)
    from maildesk.cli.app import main as command

    command(obj=handover.context)


__all__ = ["main"]
