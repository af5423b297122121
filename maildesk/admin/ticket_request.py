"""`tickets list` as the command line gives it, checked: what the command reads the store by, or
sends a running daemon to read it by (serve/local.py). Only the standard library: the command
builds it before it knows whether it will open the store at all."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from maildesk.errors import UsageProblem


@dataclass(frozen=True)
class ListRequest:
    """`tickets list` as given on the command line, its statuses, type and instants already checked:
    what the CLI reads the store by, or sends a running daemon (as JSON) to read it by."""

    status: str = ""
    category: str = ""
    type: str = ""
    requester: str = ""
    assignee: str = ""
    text: str = ""
    breached: bool = False
    due_before: datetime | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    spam: bool = False
    admin: str = ""  # who runs the command (`--as`, else the login name): the agent "me" is

    def as_json(self) -> dict[str, Any]:
        """The request as JSON, instants in ISO 8601."""
        return {f.name: _iso(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_json(cls, data: Any) -> ListRequest:
        """The request `as_json` gave; UsageProblem for anything else."""
        try:
            known = {f.name for f in fields(cls)}
            values: dict[str, Any] = {k: datetime.fromisoformat(v) if k in _INSTANTS and v else v
                                      for k, v in data.items() if k in known}
            return cls(**values)
        except (AttributeError, TypeError, ValueError) as exc:
            raise UsageProblem(f"not a tickets list request: {exc}") from exc


_INSTANTS = ("due_before", "since", "until")


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
