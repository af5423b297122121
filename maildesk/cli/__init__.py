"""The `maildesk` command (click is imported only in this package)."""

from maildesk.cli.app import main

__all__ = ["main"]
