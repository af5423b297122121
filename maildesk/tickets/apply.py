"""The one way a ticket changes (DESIGN.md decision 11).

Every writer — the requester's mail, an agent's, the requester's own commands, the sweep, the CLI —
expresses what it does as a :class:`~maildesk.domain.ticket.TicketChange` and hands it to a
:class:`TicketWriter`, which, the same way every time:

* checks every status transition (maildesk.policy.lifecycle) and raises InvalidTransition;
* sets closed_at, close_reason and updated_at from the new status;
* records one event per step, in the order of the steps;
* moves a merged ticket's mail, events and people, or a split message, as its `MoveThread` says;
* brings the SLA and auto-close clock up to date (maildesk.tickets.clock);
* writes the row once: one INSERT for a new ticket, one UPDATE of the changed columns otherwise.

`record` writes events that change nothing on the ticket (a bounce, a held notice, a suggestion).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from maildesk.domain import Status
from maildesk.domain.ticket import (
    AddParticipant,
    MoveThread,
    Opening,
    Record,
    RemoveParticipant,
    SetField,
    SetStatus,
    Step,
    TicketChange,
    TicketState,
)
from maildesk.policy.lifecycle import check_transition, closes
from maildesk.store import events, messages, participants
from maildesk.store import tickets as rows
from maildesk.store.db import Session
from maildesk.store.events import EventRow
from maildesk.tickets.clock import TicketClock

log = logging.getLogger(__name__)
#: One event before its ticket id is known: (actor, kind, reason, detail).
_Event = tuple[str, str, str, Mapping[str, Any]]
#: Steps that write rows of their own, so they need the ticket's id (a new ticket's comes with its INSERT).
_Membership = AddParticipant | RemoveParticipant | MoveThread


@dataclass(frozen=True)
class TicketWriter:
    """Applies typed changes to tickets; holds the clock every change moves."""

    clock: TicketClock

    def open(self, session: Session, opening: Opening, change: TicketChange, now: datetime) -> TicketState:
        """Write a new ticket, status new, as `change` leaves it, with one INSERT; its participants
        and events follow. Returns the ticket with its id."""
        state, found, memberships = _walk(None, blank(opening, now), change, now)
        state = self._settled(state, change, now)
        state = dataclasses.replace(state, id=rows.insert_new(session, state))
        found += _memberships(session, state.id, change.actor, memberships)
        events.add(session, _rows(state.id, now, found))
        return state

    def change(self, session: Session, ticket: TicketState, change: TicketChange,
               now: datetime) -> TicketState:
        """Apply `change` to `ticket`; returns the ticket as it now is."""
        return self.change_many(session, [(ticket, change)], now)[0]

    def change_many(self, session: Session, changes: Sequence[tuple[TicketState, TicketChange]],
                    now: datetime) -> list[TicketState]:
        """Apply each change to its ticket; the rows are written together (one executemany per set of
        changed columns, one for all events), as a sweep over thousands of tickets needs."""
        done: list[TicketState] = []
        found: list[EventRow] = []
        for ticket, change in changes:
            state, planned, _ = _walk(session, ticket, change, now)
            done.append(self._settled(state, change, now))
            found += _rows(ticket.id, now, planned)
        rows.save_many(session, [(old, new) for (old, _), new in zip(changes, done, strict=True)])
        events.add(session, found)
        return done

    def record(self, session: Session, ticket_id: int, now: datetime, actor: str, *notes: Record) -> None:
        """Write events that change nothing on the ticket (no row, no clock)."""
        events.add(session, _rows(ticket_id, now, [(n.actor or actor, n.kind, n.reason,
                                                    n.detail) for n in notes]))

    def _settled(self, state: TicketState, change: TicketChange, now: datetime) -> TicketState:
        if change.touch:
            state = dataclasses.replace(state, updated_at=now)
        state = self.clock.update(state, now, public_reply=change.public_reply)
        if change.settle is not None and state.next_check_at is not None and state.next_check_at <= now:
            log.warning("ticket=%s still due after %s acted; looking again later", state.id, change.actor)
            state = dataclasses.replace(state, next_check_at=now + change.settle)
        return state


def blank(opening: Opening, now: datetime) -> TicketState:
    """A new ticket as the table's defaults make it, before rules and the clock have had their say."""
    return TicketState(
        id=0, subject=opening.subject[:2000], status=Status.NEW, priority="normal", category="other",
        queue="", language=opening.language, type="request", tier="", tags=(), spam=False,
        requester_id=opening.requester_id,
        assignee_id=None, linked_ticket_id=opening.linked_ticket_id, close_reason="", created_at=now,
        updated_at=now, closed_at=None, sla_policy="", first_response_due=None, resolution_due=None,
        first_response_at=None, resolved_at=None, waiting_since=None, paused_seconds=0, clock_status="",
        sla_sent="", reminders_sent=0, next_check_at=None)


def _walk(session: Session | None, ticket: TicketState, change: TicketChange,
          now: datetime) -> tuple[TicketState, list[_Event], list[_Membership]]:
    """Run the steps in order: the ticket's columns and the events they record. Participants are
    written as their step comes (so an event can say whether one was added), or, for a ticket not yet
    written (no `session`), returned to be written once the row and its id exist."""
    state, found, later = ticket, [], []
    for step in change.steps:
        if not isinstance(step, AddParticipant | RemoveParticipant | MoveThread):
            state, event = _step(state, step, change.actor, now)
            found += event
        elif session is None:
            later.append(step)
        else:
            found += _memberships(session, ticket.id, change.actor, [step])
    return state, found, later


def _step(state: TicketState, step: Step, actor: str, now: datetime) -> tuple[TicketState, list[_Event]]:
    """One step on the ticket's columns, and the event it records (if any)."""
    if isinstance(step, SetStatus):
        return _status(state, step, actor, now)
    if isinstance(step, SetField):
        return _field(state, step, actor)
    assert isinstance(step, Record)
    return state, [(step.actor or actor, step.kind, step.reason, step.detail)]


def _status(state: TicketState, step: SetStatus, actor: str, now: datetime) -> tuple[TicketState,
                                                                                     list[_Event]]:
    check_transition(Status(state.status), step.status)
    ends = closes(step.status)
    new = dataclasses.replace(state, status=step.status, updated_at=now, closed_at=now if ends else None,
                              close_reason=step.close_reason if ends else "")
    return new, [(actor, "status", step.reason, {"old": state.status, "new": step.status, **step.detail})]


def _field(state: TicketState, step: SetField, actor: str) -> tuple[TicketState, list[_Event]]:
    old = getattr(state, step.name)
    if old == step.value:
        return state, []
    new = dataclasses.replace(state, **{step.name: step.value})
    if not step.event:
        return new, []
    detail = step.detail if step.detail is not None else {"old": old, "new": step.value}
    return new, [(actor, step.event, step.reason, detail)]


def _memberships(session: Session, ticket_id: int, actor: str, steps: Sequence[_Membership]) -> list[_Event]:
    found: list[_Event] = []
    for step in steps:
        if isinstance(step, MoveThread):
            moved = _moved(session, ticket_id, step)
            found.append((actor, step.event, step.reason, {**step.detail, **moved}))
            continue
        if isinstance(step, AddParticipant):
            done = participants.add(session, ticket_id, step.contact_id, step.role)
        else:
            done = participants.remove_cc(session, ticket_id, step.address)
        if done and step.event:
            found.append((actor, step.event, step.reason, step.detail))
    return found


def _moved(session: Session, ticket_id: int, step: MoveThread) -> dict[str, Any]:
    """Move what `step` names onto `ticket_id`; what moved, for its event."""
    if step.message is not None:
        return {"messages": messages.move(session, step.source, ticket_id, step.message)}
    return {"messages": messages.move(session, step.source, ticket_id),
            "events": events.move(session, step.source, ticket_id),
            "participants": participants.copy(session, step.source, ticket_id)}


def _rows(ticket_id: int, now: datetime, found: Sequence[_Event]) -> list[EventRow]:
    return [EventRow(ticket_id, now, actor, kind, reason, detail) for actor, kind, reason, detail in found]
