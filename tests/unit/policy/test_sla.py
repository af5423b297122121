"""SLA policy choice, due times with the pending pause, and warnings/breaches each owed once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from maildesk.policy.calendar import calendar_from_spec
from maildesk.policy.sla import Clock, SlaPolicy, advance, check_sla, choose_policy, due_times

ASTANA = ZoneInfo("Asia/Almaty")
CAL = calendar_from_spec("Asia/Almaty", {"mon-fri": "09:00-18:00"}, [date(2026, 12, 16)])
GOLD = SlaPolicy("gold-urgent", priorities=frozenset({"urgent"}), tiers=frozenset({"gold"}),
                 first_response=timedelta(hours=1), resolution=timedelta(hours=4))
BILLING = SlaPolicy("billing", categories=frozenset({"billing"}), first_response=timedelta(hours=2))
DEFAULT = SlaPolicy("default", first_response=timedelta(hours=4), resolution=timedelta(hours=16))
TABLE = (GOLD, BILLING, DEFAULT)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ASTANA)


def test_first_matching_row_wins() -> None:
    # Rows are read in order: urgent gold first, then billing, then the catch-all.
    assert choose_policy(TABLE, "urgent", "billing", "gold") is GOLD
    assert choose_policy(TABLE, "urgent", "billing", "") is BILLING
    assert choose_policy(TABLE, "low", "other", "") is DEFAULT
    assert choose_policy((GOLD,), "low", "other", "") is None


def test_due_times_in_working_hours() -> None:
    # A ticket opened Friday 17:00 with 4h/16h targets: first response Monday 12:00, resolution Tuesday 15:00.
    clock = Clock(status="new", created_at=at(20, 17))
    due = due_times(DEFAULT, clock, CAL)
    assert due == {"first_response": at(23, 12), "resolution": at(24, 15)}


def test_pending_pauses_the_clock_and_moves_due_times() -> None:
    # Pending Monday 10:00-14:00 (4 working hours): resolution due moves 4 working hours later.
    clock = Clock(status="open", created_at=at(23, 9))
    clock = advance(clock, "pending", at(23, 10), CAL, pause_while_pending=True)
    assert clock.waiting_since == at(23, 10)
    assert check_sla(DEFAULT, clock, CAL, at(25, 9), 0.8, True).alerts == ()
    clock = advance(clock, "open", at(23, 14), CAL, pause_while_pending=True)
    assert clock.paused == timedelta(hours=4) and clock.waiting_since is None
    assert due_times(DEFAULT, clock, CAL)["resolution"] == at(25, 11)


def test_no_pause_when_configured_off() -> None:
    # With pause_while_pending = false the pending time counts against the targets.
    clock = advance(Clock(status="open", created_at=at(23, 9)), "pending", at(23, 10), CAL, False)
    clock = advance(clock, "open", at(23, 14), CAL, False)
    assert clock.paused == timedelta(0)


def test_warning_then_breach_each_once() -> None:
    # First response 4h from Monday 9:00: warning at 80% (12:12), breach at 13:00, neither repeated.
    clock = Clock(status="new", created_at=at(23, 9))
    assert check_sla(DEFAULT, clock, CAL, at(23, 12), 0.8, True).next_at == at(23, 12, 12)
    warn = check_sla(DEFAULT, clock, CAL, at(23, 12, 12), 0.8, True)
    assert [(a.target, a.level) for a in warn.alerts] == [("first_response", "warning")]
    clock = Clock(status="new", created_at=at(23, 9), sent=warn.marks)
    assert check_sla(DEFAULT, clock, CAL, at(23, 12, 30), 0.8, True).alerts == ()
    breach = check_sla(DEFAULT, clock, CAL, at(23, 13), 0.8, True)
    assert [(a.target, a.level) for a in breach.alerts] == [("first_response", "breach")]
    clock = Clock(status="new", created_at=at(23, 9), sent=warn.marks | breach.marks)
    assert check_sla(DEFAULT, clock, CAL, at(23, 13, 1), 0.8, True).alerts == ()


def test_late_sweep_sends_breach_without_the_stale_warning() -> None:
    # Nothing ran between warning and breach time: only the breach goes out, the warning is marked.
    check = check_sla(DEFAULT, Clock(status="new", created_at=at(23, 9)), CAL, at(23, 14), 0.8, True)
    assert [a.level for a in check.alerts] == ["breach"]
    assert "first_response.warning" in check.marks


def test_first_public_reply_meets_first_response() -> None:
    # After the first public agent reply only the resolution target is watched.
    clock = advance(Clock(status="new", created_at=at(23, 9)), "open", at(23, 10), CAL, True,
                    public_reply=True)
    assert clock.first_response_at == at(23, 10)
    check = check_sla(DEFAULT, clock, CAL, at(24, 18), 0.8, True)
    assert [a.target for a in check.alerts] == ["resolution"]


def test_resolved_meets_resolution_and_reopening_undoes_it() -> None:
    # Resolving stops the clock; a requester reply that reopens it starts it again.
    clock = advance(Clock(status="open", created_at=at(23, 9)), "resolved", at(23, 11), CAL, True)
    assert clock.resolved_at == at(23, 11)
    assert check_sla(DEFAULT, clock, CAL, at(30, 9), 0.8, True).next_at is None
    assert advance(clock, "open", at(24, 9), CAL, True).resolved_at is None


def test_holiday_is_not_working_time_for_sla() -> None:
    # December 16 is a holiday: a 4h first response from Tuesday 17:00 is due Thursday 12:00.
    clock = Clock(status="new", created_at=at(15, 17, month=12))
    assert due_times(DEFAULT, clock, CAL)["first_response"] == at(17, 12, month=12)
