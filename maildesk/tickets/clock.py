"""A ticket's SLA and auto-close clock over maildesk.policy.sla and maildesk.policy.closure. Pure.

maildesk.tickets.apply runs :meth:`TicketClock.update` on every change it applies: it reads the
ticket's state, lets the pure decisions say what the clock is now, and returns the state with its
due times and ``next_check_at`` brought up to date; running it twice changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from maildesk.config import DEFAULT_CALENDAR, AutocloseRule, RoutingSettings, Settings, SlaSettings
from maildesk.domain.ticket import TicketState
from maildesk.policy.calendar import Calendar
from maildesk.policy.closure import ClosurePolicy, decide_closure
from maildesk.policy.sla import Clock, SlaPolicy, advance, check_sla, choose_policy, due_times


def policies_from(sla: SlaSettings) -> tuple[SlaPolicy, ...]:
    """The `[[sla]]` table as pure policies, in table order."""
    def seconds(n: int) -> timedelta | None:
        return timedelta(seconds=n) if n else None

    return tuple(SlaPolicy(name=r.name, priorities=frozenset(r.priorities),
                           categories=frozenset(r.categories), tiers=frozenset(r.tiers),
                           first_response=seconds(r.first_response_seconds),
                           resolution=seconds(r.resolution_seconds)) for r in sla.rows)


def closure_policy(rule: AutocloseRule) -> ClosurePolicy:
    """An `[autoclose]` rule as the pure policy; 0 hours or days turns that closure off."""
    return ClosurePolicy(
        pending_after=timedelta(hours=rule.pending_hours) if rule.pending_hours else None,
        reminders=rule.reminders,
        resolved_after=timedelta(days=rule.resolved_days) if rule.resolved_days else None)


def clock_of(ticket: TicketState) -> Clock:
    """The clock as the ticket keeps it."""
    return Clock(status=ticket.clock_status, created_at=ticket.created_at, waiting_since=ticket.waiting_since,
                 paused=timedelta(seconds=ticket.paused_seconds or 0),
                 first_response_at=ticket.first_response_at, resolved_at=ticket.resolved_at,
                 reminders_sent=ticket.reminders_sent or 0,
                 sent=frozenset(filter(None, (ticket.sla_sent or "").split(","))))


def with_clock(ticket: TicketState, clock: Clock, sla_policy: str, first_response_due: datetime | None,
               resolution_due: datetime | None, next_check_at: datetime | None) -> TicketState:
    """`ticket` keeping `clock`, its policy, due times and next check in its columns (one copy: the
    sweep does this for thousands of tickets)."""
    return replace(ticket, clock_status=clock.status, waiting_since=clock.waiting_since,
                   paused_seconds=int(clock.paused.total_seconds()),
                   first_response_at=clock.first_response_at,
                   resolved_at=clock.resolved_at, reminders_sent=clock.reminders_sent,
                   sla_sent=",".join(sorted(clock.sent)), sla_policy=sla_policy,
                   first_response_due=first_response_due, resolution_due=resolution_due,
                   next_check_at=next_check_at)


@dataclass(frozen=True)
class TicketClock:
    """The SLA settings with the calendars they count in."""

    sla: SlaSettings
    routing: RoutingSettings
    calendars: Mapping[str, Calendar]

    @classmethod
    def from_settings(cls, settings: Settings, calendars: Mapping[str, Calendar]) -> TicketClock:
        """The clock for this desk's config and compiled calendars."""
        return cls(sla=settings.sla, routing=settings.routing, calendars=calendars)

    # The lookups below run several times per ticket in a sweep over thousands: built once, then kept.
    @functools.cached_property
    def policies(self) -> tuple[SlaPolicy, ...]:
        """The SLA table as pure policies."""
        return policies_from(self.sla)

    @functools.cached_property
    def _calendars_by_queue(self) -> dict[str, Calendar]:
        return {}

    @functools.cached_property
    def _closures(self) -> dict[tuple[str, str], ClosurePolicy]:
        return {}

    @functools.cached_property
    def _policies_by_key(self) -> dict[tuple[str, str, str], SlaPolicy | None]:
        return {}

    def calendar_for(self, queue: str) -> Calendar:
        """The calendar of the ticket's queue; the default calendar for a queue the config lacks."""
        known = self._calendars_by_queue.get(queue)
        if known is None:
            found = next((q.calendar for q in self.routing.queues if q.name == queue), DEFAULT_CALENDAR)
            known = self._calendars_by_queue[queue] = (self.calendars.get(found)
                                                       or self.calendars[DEFAULT_CALENDAR])
        return known

    def closure_for(self, ticket: TicketState) -> ClosurePolicy:
        """The auto-close policy for the ticket's category and queue."""
        key = (ticket.queue, ticket.category)
        known = self._closures.get(key)
        if known is None:
            known = self._closures[key] = closure_policy(self.sla.autoclose_for(*key))
        return known

    def policy_for(self, ticket: TicketState) -> SlaPolicy | None:
        """The first `[[sla]]` row matching the ticket's priority, category and tier."""
        key = (ticket.priority, ticket.category, ticket.tier or "")
        if key not in self._policies_by_key:
            self._policies_by_key[key] = choose_policy(self.policies, *key)
        return self._policies_by_key[key]

    def update(self, ticket: TicketState, now: datetime, public_reply: bool = False) -> TicketState:
        """`ticket` with its clock, due times and next check brought up to date after a change at `now`."""
        cal = self.calendar_for(ticket.queue)
        clock = advance(clock_of(ticket), ticket.status, now, cal, self.sla.pause_while_pending,
                        public_reply=public_reply)
        policy = self.policy_for(ticket)
        name = policy.name if policy else ""
        if name != (ticket.sla_policy or ""):
            # A new policy makes new promises: its warnings and breaches are owed afresh.
            clock = replace(clock, sent=frozenset())
        due = due_times(policy, clock, cal)
        # Spam stays stored but nobody is chased about it and nothing is sent to it.
        next_at = None if ticket.spam else self._next_check(ticket, now, cal, clock, policy)
        return with_clock(ticket, clock, sla_policy=name, first_response_due=due["first_response"],
                          resolution_due=due["resolution"], next_check_at=next_at)

    def _next_check(self, ticket: TicketState, now: datetime, cal: Calendar, clock: Clock,
                    policy: SlaPolicy | None) -> datetime | None:
        sla = check_sla(policy, clock, cal, now, self.sla.warn_at, self.sla.pause_while_pending)
        step = decide_closure(self.closure_for(ticket), ticket.status, clock.waiting_since,
                              clock.reminders_sent, cal, now)
        if sla.alerts or step.close or step.remind:
            return now  # Something is owed already: the next sweep acts on it.
        return min((t for t in (sla.next_at, step.next_at) if t is not None), default=None)
