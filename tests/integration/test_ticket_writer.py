"""The one ticket writer on SQLite: every operation stamps, records and moves the clock the same way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import NOW, query

from maildesk.domain import Address, Status
from maildesk.domain.ticket import (
    AddParticipant,
    Opening,
    Record,
    RemoveParticipant,
    SetField,
    SetStatus,
    TicketChange,
    TicketState,
)
from maildesk.errors import InvalidTransition
from maildesk.runtime.wiring import Runtime
from maildesk.store import contacts, tickets

LATER = NOW + timedelta(hours=1)


def _open(rt: Runtime) -> TicketState:
    with rt.db.transaction() as session:
        bob = contacts.contact_for(session, Address("bob@client.example", "Bob"), NOW)
        change = TicketChange("system", (SetField("priority", "high"), AddParticipant(bob.id, "requester"),
                                         Record("created", "a test")))
        return rt.desk.writer.open(session, Opening("Printer", bob.id, "en"), change, NOW)


def _change(rt: Runtime, ticket: TicketState, change: TicketChange) -> TicketState:
    with rt.db.transaction() as session:
        return rt.desk.writer.change(session, ticket, change, LATER)


def _events(rt: Runtime) -> list[tuple[object, ...]]:
    return query(rt.settings, "select actor, kind, reason, detail from events order by id")


def test_open_writes_the_whole_row_once_then_participants_and_events(runtime: Runtime) -> None:
    # A new ticket is status new with its fields, its clock set, its requester and its events.
    ticket = _open(runtime)
    assert (ticket.id, ticket.status, ticket.priority) == (1, Status.NEW, "high")
    assert query(runtime.settings, "select status, priority, clock_status, next_check_at is not null "
                                   "from tickets") == [("new", "high", "new", 0)]
    assert query(runtime.settings, "select contact_id, role from participants") == [(1, "requester")]
    assert _events(runtime) == [("system", "created", "a test", "{}")]


def test_a_status_change_stamps_closed_at_close_reason_and_updated_at(runtime: Runtime) -> None:
    # Closing sets closed_at and the close reason; reopening clears both; each records old and new.
    ticket = _change(runtime, _open(runtime), TicketChange("agent:1", (
        SetStatus(Status.CLOSED, "done", close_reason="agent"),)))
    assert (ticket.status, ticket.closed_at, ticket.close_reason, ticket.updated_at) == (
        Status.CLOSED, LATER, "agent", LATER)
    ticket = _change(runtime, ticket, TicketChange("contact:1", (SetStatus(Status.OPEN, "replied"),)))
    assert (ticket.closed_at, ticket.close_reason) == (None, "")
    assert query(runtime.settings, "select status, close_reason, closed_at from tickets") == [("open", "",
                                                                                               None)]
    assert [e[:3] for e in _events(runtime)][1:] == [("agent:1", "status", "done"), ("contact:1", "status",
                                                                                     "replied")]
    assert _events(runtime)[1][3] == '{"old": "new", "new": "closed"}'


@pytest.mark.parametrize("status", [Status.NEW, Status.CLOSED])
def test_a_transition_the_lifecycle_refuses_changes_nothing(runtime: Runtime, status: Status) -> None:
    # Back to new, or to the status it already has: refused, and the transaction leaves no trace.
    ticket = _change(runtime, _open(runtime), TicketChange("agent:1", (SetStatus(Status.CLOSED, "done"),)))
    with pytest.raises(InvalidTransition):
        _change(runtime, ticket, TicketChange("agent:1", (SetStatus(status, "again"),)))
    assert len(_events(runtime)) == 2


def test_field_events_only_for_real_changes_and_in_step_order(runtime: Runtime) -> None:
    # A field set to its own value records nothing; the steps' events keep their order.
    ticket = _open(runtime)
    _change(runtime, ticket, TicketChange("agent:1", (
        SetField("priority", "high", event="priority", reason="cmd"),
        SetField("category", "hardware", event="category", reason="cmd"),
        Record("agent_reply", "via token"))))
    assert [e[1] for e in _events(runtime)] == ["created", "category", "agent_reply"]
    assert _events(runtime)[1][3] == '{"old": "other", "new": "hardware"}'


def test_participants_events_say_only_what_happened(runtime: Runtime) -> None:
    # A Cc added twice is one row and one event; removing a stranger records nothing; the requester stays.
    ticket = _open(runtime)
    with runtime.db.transaction() as session:
        dan = contacts.contact_for(session, Address("dan@client.example"), NOW)
    add = AddParticipant(dan.id, "cc", event="cc_add", reason="cmd", detail={"address": "dan@client.example"})
    _change(runtime, ticket, TicketChange("agent:1", (add, add)))
    _change(runtime, ticket, TicketChange("agent:1", (
        RemoveParticipant("nobody@x.example", event="cc_remove"), RemoveParticipant("bob@client.example",
                                                                                    event="cc_remove"),
        RemoveParticipant("dan@client.example", event="cc_remove",
                          detail={"address": "dan@client.example"}))))
    assert [e[1] for e in _events(runtime)] == ["created", "cc_add", "cc_remove"]
    assert query(runtime.settings, "select role from participants") == [("requester",)]


def test_change_many_writes_each_ticket_and_touch_moves_updated_at(runtime: Runtime) -> None:
    # Two tickets changed in one call: their rows and events are all written; only `touch` moves updated_at.
    first, second = _open(runtime), _open(runtime)
    with runtime.db.transaction() as session:
        runtime.desk.writer.change_many(session, [
            (first, TicketChange("system", (Record("reminder", "1 of 2"),))),
            (second, TicketChange("contact:1", (Record("reply", "tag"),), touch=True))], LATER)
    assert query(runtime.settings, "select id, updated_at > created_at from tickets order by id") == [(1, 0),
                                                                                                      (2, 1)]
    assert [(e[1]) for e in _events(runtime)][2:] == ["reminder", "reply"]


def test_record_writes_events_and_leaves_the_row_alone(runtime: Runtime) -> None:
    # A bounce noted on a ticket is an event; the ticket row (and its clock) is untouched.
    ticket = _open(runtime)
    before = query(runtime.settings, "select * from tickets")
    with runtime.db.transaction() as session:
        runtime.desk.writer.record(session, ticket.id, LATER, "system", Record("bounce", "bounced",
                                                                               {"hard": True}))
        assert tickets.load(session, ticket.id) == ticket
    assert query(runtime.settings, "select * from tickets") == before
    assert _events(runtime)[-1] == ("system", "bounce", "bounced", '{"hard": true}')
