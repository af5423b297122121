"""SLA policies, due times and escalation decisions, in working time. Pure.

A ticket's clock starts when it is created. Time spent ``pending`` (waiting on
the requester) is added to every target when ``pause_while_pending`` holds, so
a due time is ``add_working(created, target + paused)``. First response is met
by the first public agent reply; resolution when the ticket is resolved or
closed. Each warning and each breach is sent once per policy: the ticket keeps
the set of notices sent (``first_response.warning`` …) and the decisions here
only name the ones still owed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from maildesk.policy.calendar import Calendar, add_working, working_between

__all__ = [
    "TARGETS",
    "Alert",
    "Clock",
    "SlaCheck",
    "SlaPolicy",
    "advance",
    "check_sla",
    "choose_policy",
    "due_times",
]

#: The two promises a policy makes, in the order they fall due.
TARGETS = ("first_response", "resolution")
_WAITING = frozenset({"pending", "resolved"})
_DONE = frozenset({"resolved", "closed", "canceled"})


@dataclass(frozen=True)
class SlaPolicy:
    """One `[[sla]]` row: whom it matches (empty = any) and its targets in working time."""

    name: str
    priorities: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()
    first_response: timedelta | None = None
    resolution: timedelta | None = None

    def matches(self, priority: str, category: str, tier: str) -> bool:
        """Whether every condition the row names holds for this ticket."""
        return all(not allowed or value in allowed for allowed, value in
                   ((self.priorities, priority), (self.categories, category), (self.tiers, tier)))

    def target(self, name: str) -> timedelta | None:
        """The working time allowed for `name` (one of TARGETS), if the policy sets it."""
        return self.first_response if name == "first_response" else self.resolution


def choose_policy(policies: Iterable[SlaPolicy], priority: str, category: str, tier: str) -> SlaPolicy | None:
    """The first policy in table order that matches, or None (no SLA for this ticket)."""
    return next((p for p in policies if p.matches(priority, category, tier)), None)


@dataclass(frozen=True)
class Clock:
    """What a ticket stores about its time: the status the clock last saw and what followed from it.

    `waiting_since` is when the ticket entered pending or resolved (the auto-close clock);
    `paused` the working time already spent pending; `sent` the SLA notices already sent.
    """

    status: str
    created_at: datetime
    waiting_since: datetime | None = None
    paused: timedelta = timedelta(0)
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    reminders_sent: int = 0
    sent: frozenset[str] = frozenset()


def advance(clock: Clock, status: str, now: datetime, cal: Calendar, pause_while_pending: bool,
            public_reply: bool = False) -> Clock:
    """The clock after the ticket is seen in `status` at `now` (idempotent for an unchanged status)."""
    if public_reply and clock.first_response_at is None:
        clock = replace(clock, first_response_at=now)
    if status == clock.status:
        return clock
    paused = clock.paused
    if clock.status == "pending" and pause_while_pending and clock.waiting_since is not None:
        paused += working_between(cal, clock.waiting_since, now)
    entering_wait = status in _WAITING
    return replace(
        clock, status=status, paused=paused,
        waiting_since=now if entering_wait else None,
        # Reminders start again with every new wait: the requester is asked something new.
        reminders_sent=0 if entering_wait else clock.reminders_sent,
        # A reopened ticket is no longer resolved; the first resolution or closure counts.
        resolved_at=(clock.resolved_at or now) if status in _DONE else None,
    )


def due_times(policy: SlaPolicy | None, clock: Clock, cal: Calendar) -> dict[str, datetime | None]:
    """The due instant of each target, shifted by the working time spent pending."""
    out: dict[str, datetime | None] = dict.fromkeys(TARGETS)
    if policy is None:
        return out
    for name in TARGETS:
        target = policy.target(name)
        if target is not None:
            out[name] = add_working(cal, clock.created_at, target + clock.paused)
    return out


@dataclass(frozen=True)
class Alert:
    """A notice owed: `level` is warning or breach, `key` what the ticket records once sent."""

    target: str
    level: str
    due: datetime
    reason: str

    @property
    def key(self) -> str:
        """The entry in the ticket's set of sent notices."""
        return f"{self.target}.{self.level}"


@dataclass(frozen=True)
class SlaCheck:
    """What the SLA clock says at one instant: notices owed now and when to look again."""

    alerts: tuple[Alert, ...]
    marks: frozenset[str]
    next_at: datetime | None


def check_sla(policy: SlaPolicy | None, clock: Clock, cal: Calendar, now: datetime, warn_at: float,
              pause_while_pending: bool) -> SlaCheck:
    """Which warnings and breaches are due at `now` and not yet sent, and the next instant to check.

    A stopped clock (pending with pausing on) owes nothing until the ticket moves again.
    A breach that is due makes its unsent warning moot: the warning is marked, never sent late.
    """
    if policy is None or (pause_while_pending and clock.status == "pending"):
        return SlaCheck((), frozenset(), None)
    alerts: list[Alert] = []
    marks: set[str] = set()
    future: list[datetime] = []
    for name in _running_targets(clock):
        target = policy.target(name)
        if target is None:
            continue
        warn = add_working(cal, clock.created_at, target * warn_at + clock.paused)
        due = add_working(cal, clock.created_at, target + clock.paused)
        _check_target(name, warn, due, now, clock.sent, alerts, marks, future)
    return SlaCheck(tuple(alerts), frozenset(marks), min(future, default=None))


def _running_targets(clock: Clock) -> tuple[str, ...]:
    if clock.status in _DONE:
        return ()
    return tuple(n for n in TARGETS if n != "first_response" or clock.first_response_at is None)


def _check_target(name: str, warn: datetime, due: datetime, now: datetime, sent: frozenset[str],
                  alerts: list[Alert], marks: set[str], future: list[datetime]) -> None:
    warn_key, breach_key = f"{name}.warning", f"{name}.breach"
    if now >= due:
        if breach_key not in sent:
            alerts.append(Alert(name, "breach", due, f"{name} target passed at {due.isoformat()}"))
            marks.update({breach_key, warn_key})
        return
    future.append(due)
    if now >= warn:
        if warn_key not in sent:
            alerts.append(Alert(name, "warning", due, f"{name} due at {due.isoformat()}"))
            marks.add(warn_key)
    elif warn_key not in sent:
        future.append(warn)
