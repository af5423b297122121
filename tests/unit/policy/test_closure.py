"""Auto-closure and reminders on a controlled clock: Friday evening, holidays, DST, resolved tickets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from maildesk.policy.calendar import Calendar, calendar_from_spec
from maildesk.policy.closure import NO_RESPONSE, RESOLVED_TIMEOUT, ClosurePolicy, close_at, decide_closure

ASTANA = ZoneInfo("Asia/Almaty")  # Nur-Sultan (Astana) keeps Almaty's time
KYIV = ZoneInfo("Europe/Kyiv")
OFFICE = {"mon-fri": "09:00-18:00"}
POLICY = ClosurePolicy(pending_after=timedelta(hours=8), reminders=(0.5, 0.9), resolved_after=timedelta(days=3))


def cal(tz: str = "Asia/Almaty", holidays: tuple[date, ...] = ()) -> Calendar:
    return calendar_from_spec(tz, OFFICE, holidays)


def at(day: int, hour: int, minute: int = 0, month: int = 11, zone: ZoneInfo = ASTANA) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=zone)


def test_friday_evening_pending_closes_monday_after_eight_working_hours() -> None:
    # Pending Friday 17:00: one hour on Friday, seven on Monday, so it closes Monday 16:00, not Saturday.
    since = at(20, 17)
    assert close_at(POLICY, since, cal()) == at(23, 16)
    assert decide_closure(POLICY, "pending", since, 2, cal(), at(23, 15, 59)).close == ""
    step = decide_closure(POLICY, "pending", since, 2, cal(), at(23, 16))
    assert step.close == NO_RESPONSE
    assert "8 working hours" in step.reason


def test_holiday_monday_moves_the_closure_to_tuesday() -> None:
    # Pending Friday 17:00 with Monday a holiday: closes Tuesday 16:00.
    calendar = cal(holidays=(date(2026, 11, 23),))
    assert close_at(POLICY, at(20, 17), calendar) == at(24, 16)
    assert decide_closure(POLICY, "pending", at(20, 17), 2, calendar, at(23, 17)).close == ""


def test_dst_weekend_counts_real_working_hours() -> None:
    # Kyiv springs forward on Sunday 2026-03-29: pending Friday 17:00 closes Monday 16:00 local time.
    calendar = cal("Europe/Kyiv")
    since = datetime(2026, 3, 27, 17, tzinfo=KYIV)
    due = close_at(POLICY, since, calendar)
    assert due == datetime(2026, 3, 30, 16, tzinfo=KYIV)
    assert due is not None and due.astimezone(UTC) == datetime(2026, 3, 30, 13, tzinfo=UTC)


def test_reminders_at_half_and_ninety_percent_each_once() -> None:
    # Reminder 1 at 4 working hours, reminder 2 at 7.2; a reminder already sent is not owed again.
    since = at(23, 9)
    first = decide_closure(POLICY, "pending", since, 0, cal(), at(23, 13))
    assert (first.remind, first.next_at) == (1, at(23, 16, 12))
    assert decide_closure(POLICY, "pending", since, 1, cal(), at(23, 14)).remind == 0
    second = decide_closure(POLICY, "pending", since, 1, cal(), at(23, 16, 12))
    assert (second.remind, second.next_at) == (2, at(23, 17))


def test_after_an_outage_only_the_latest_reminder_goes_out() -> None:
    # Both reminder times passed while nothing ran: one reminder (number 2) marks both as sent.
    step = decide_closure(POLICY, "pending", at(23, 9), 0, cal(), at(23, 16, 30))
    assert (step.remind, step.reminders_due) == (2, 2)


def test_nothing_is_decided_for_a_ticket_that_is_not_waiting() -> None:
    # Open tickets and tickets with auto-close off have no closure step and no next check.
    assert decide_closure(POLICY, "open", None, 0, cal(), at(23, 9)).next_at is None
    off = ClosurePolicy(pending_after=None, resolved_after=None)
    assert decide_closure(off, "pending", at(20, 9), 0, cal(), at(30, 9)).close == ""


def test_next_check_is_the_first_reminder_then_the_closure() -> None:
    # Right after going pending the next check is reminder 1; with no reminders it is the closure.
    since = at(23, 9)
    assert decide_closure(POLICY, "pending", since, 0, cal(), since).next_at == at(23, 13)
    quiet = ClosurePolicy(pending_after=timedelta(hours=8), reminders=())
    assert decide_closure(quiet, "pending", since, 0, cal(), since).next_at == at(23, 17)


def test_resolved_closes_after_calendar_days() -> None:
    # A resolved ticket closes three calendar days later, weekends included.
    since = at(20, 17)
    assert decide_closure(POLICY, "resolved", since, 0, cal(), since).next_at == at(23, 17)
    assert decide_closure(POLICY, "resolved", since, 0, cal(), at(23, 17)).close == RESOLVED_TIMEOUT
