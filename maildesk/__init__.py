"""maildesk: a help desk that lives in email."""

__version__ = "0.1.0"
