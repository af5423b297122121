"""Auto-closure and reminder decisions for tickets waiting on the requester. Pure.

A ``pending`` ticket closes with reason ``no_response`` once the requester has
been silent for the configured working time since the ticket went pending;
reminders go out at fractions of that time. Only a genuine requester reply
stops the clock, and it does so by moving the ticket out of ``pending`` (the
pipeline never moves a ticket on machine mail), so the decision here needs only
the instant the wait began. A ``resolved`` ticket closes after a number of
calendar days: the answer was given, and nobody works on it in the meantime.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from maildesk.policy.calendar import Calendar, add_working

__all__ = ["NO_RESPONSE", "RESOLVED_TIMEOUT", "ClosurePolicy", "ClosureStep", "close_at", "decide_closure"]

NO_RESPONSE = "no_response"
RESOLVED_TIMEOUT = "resolved_timeout"


@dataclass(frozen=True)
class ClosurePolicy:
    """How long a ticket may wait on the requester; None turns that closure off."""

    pending_after: timedelta | None = timedelta(hours=8)
    reminders: tuple[float, ...] = (0.5, 0.9)
    resolved_after: timedelta | None = timedelta(days=3)


@dataclass(frozen=True)
class ClosureStep:
    """What to do now: `close` with a reason, or send reminder number `remind` (1-based); and when to
    look again (`next_at`, None when the wait clock is not running)."""

    close: str = ""
    remind: int = 0
    reminders_due: int = 0
    next_at: datetime | None = None
    reason: str = ""


def decide_closure(policy: ClosurePolicy, status: str, waiting_since: datetime | None,
                   reminders_sent: int, cal: Calendar, now: datetime) -> ClosureStep:
    """The closure step for a ticket seen in `status` at `now`."""
    if waiting_since is None:
        return ClosureStep()
    if status == "resolved":
        return _resolved(policy, waiting_since, now)
    if status != "pending" or policy.pending_after is None:
        return ClosureStep()
    close_at = add_working(cal, waiting_since, policy.pending_after)
    if now >= close_at:
        return ClosureStep(close=NO_RESPONSE, reason=f"no reply from the requester for "
                           f"{_hours(policy.pending_after)} working hours (due {close_at.isoformat()})")
    instants = [add_working(cal, waiting_since, policy.pending_after * f) for f in policy.reminders]
    passed = sum(1 for at in instants if at <= now)
    upcoming = [at for at in instants[passed:] if at > now]
    next_at = min([*upcoming, close_at])
    if passed > reminders_sent:
        # After a long outage only the latest reminder goes out; earlier ones would say the same.
        return ClosureStep(remind=passed, reminders_due=passed, next_at=next_at,
                           reason=f"reminder {passed} of {len(instants)}; closes at {close_at.isoformat()}")
    return ClosureStep(next_at=next_at)


def _resolved(policy: ClosurePolicy, since: datetime, now: datetime) -> ClosureStep:
    if policy.resolved_after is None:
        return ClosureStep()
    close_at = since + policy.resolved_after
    if now >= close_at:
        days = policy.resolved_after / timedelta(days=1)
        return ClosureStep(close=RESOLVED_TIMEOUT, reason=f"resolved {days:g} days ago with no reply")
    return ClosureStep(next_at=close_at)


def _hours(delta: timedelta) -> str:
    return f"{delta / timedelta(hours=1):g}"


def close_at(policy: ClosurePolicy, waiting_since: datetime, cal: Calendar) -> datetime | None:
    """When a ticket pending since `waiting_since` closes if the requester stays silent."""
    if policy.pending_after is None:
        return None
    return add_working(cal, waiting_since, policy.pending_after)
