"""A ticket as every layer sees it, and the typed changes that move it (DESIGN.md decision 11).

`TicketState` is one frozen snapshot of a ticket row: the store reads it, the clock and the pure
decisions look at it, and only `maildesk.tickets.apply` turns a `TicketChange` into the next state,
its events and the row's one UPDATE. Nobody outside the store holds a live database row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from maildesk.domain.values import Status


@dataclass(frozen=True, slots=True)
class TicketState:
    """Every column of one ticket row. A new ticket not yet written has id 0."""

    id: int
    subject: str
    status: str
    priority: str
    category: str
    queue: str
    language: str
    type: str
    tier: str
    tags: tuple[str, ...]
    spam: bool
    requester_id: int
    assignee_id: int | None
    linked_ticket_id: int | None
    close_reason: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    # The SLA and auto-close clock (docs/sla.md); maildesk.tickets.clock keeps them current.
    sla_policy: str
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    waiting_since: datetime | None
    paused_seconds: int
    clock_status: str
    sla_sent: str
    reminders_sent: int
    next_check_at: datetime | None


@dataclass(frozen=True)
class Opening:
    """A ticket about to be opened: what the mail that opens it says."""

    subject: str
    requester_id: int
    language: str
    linked_ticket_id: int | None = None


#: Columns a change may set directly; status, updated_at, closed_at and close_reason are set only
#: through SetStatus and `touch`, the same way for every writer.
FieldName = Literal["subject", "priority", "category", "queue", "language", "type", "tier", "tags", "spam",
                    "assignee_id", "reminders_sent", "sla_sent", "linked_ticket_id"]


@dataclass(frozen=True)
class SetStatus:
    """Move the ticket to `status`; the transition is checked, and closed_at, close_reason and
    updated_at follow. `reason` is the status event's; `detail` adds to it."""

    status: Status
    reason: str
    close_reason: str = ""  # kept on the ticket while `status` ends the work (closed, canceled)
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SetField:
    """Set one column. With `event` (an agent's command) a real change is recorded as an event of
    that kind, its detail the old and new value unless `detail` says otherwise; without, the caller
    records why in an event of its own (a `rules` event, the sweep's)."""

    name: FieldName
    value: Any
    event: str = ""
    reason: str = ""
    detail: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class AddParticipant:
    """Put a contact on the ticket (a no-op when already there); `event` records it when added."""

    contact_id: int
    role: str
    event: str = ""
    reason: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RemoveParticipant:
    """Take a Cc participant off (never the requester); `event` records it when removed."""

    address: str
    event: str = ""
    reason: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MoveThread:
    """Bring mail of ticket `source` onto this ticket: all its messages and events, its people joining
    as Cc (a merge), or only the message whose row is `message` (a split). Recorded as event `event`,
    its detail saying what moved."""

    source: int
    message: int | None = None
    event: str = ""
    reason: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Record:
    """An event that changes no column: what happened to the ticket, who did it and why."""

    kind: str
    reason: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)
    actor: str = ""  # "" = the change's actor


Step = SetStatus | SetField | AddParticipant | RemoveParticipant | MoveThread | Record


@dataclass(frozen=True)
class TicketChange:
    """What one actor does to one ticket at one instant, as ordered steps (events keep that order).

    `touch`: a message landed (updated_at moves even without a status change). `public_reply`: an
    agent's answer reached the requester (the first response is given). `settle`: the sweep acted, so
    a ticket the clock says is still due is looked at again only this much later.
    """

    actor: str
    steps: tuple[Step, ...] = ()
    touch: bool = False
    public_reply: bool = False
    settle: timedelta | None = None

    def then(self, *steps: Step) -> TicketChange:
        """This change with `steps` appended."""
        return TicketChange(self.actor, (*self.steps, *steps), self.touch, self.public_reply, self.settle)
