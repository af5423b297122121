"""Which status changes are allowed (DESIGN.md decision 7). Pure."""

from __future__ import annotations

from maildesk.domain import FINAL_STATUSES, Status
from maildesk.errors import InvalidTransition

#: Templates sent to the requester when a ticket enters these statuses.
REQUESTER_NOTICE = {
    Status.PENDING: "status_pending",
    Status.RESOLVED: "status_resolved",
    Status.CLOSED: "status_closed",
    Status.CANCELED: "status_canceled",
    Status.OPEN: "status_open",
}


def check_transition(old: Status, new: Status) -> None:
    """Raise InvalidTransition unless a ticket may move from `old` to `new`.

    `new` is only where tickets start, so nothing returns to it; a change to the
    same status is refused so that every status event records a real change.
    """
    if old == new:
        raise InvalidTransition(f"ticket is already {new}")
    if new == Status.NEW:
        raise InvalidTransition("a ticket cannot go back to new")


def closes(status: Status) -> bool:
    """Whether entering `status` ends the work on a ticket (sets closed_at)."""
    return status in FINAL_STATUSES
