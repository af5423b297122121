"""Business-hours arithmetic: worked examples plus property tests against a minute-by-minute reference."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maildesk.policy.calendar import (
    SEARCH_LIMIT_DAYS,
    Calendar,
    Interval,
    add_working,
    calendar_from_spec,
    is_working,
    next_working_instant,
    working_between,
)

H = timedelta(hours=1)
MINUTE = timedelta(minutes=1)

ALMATY = "Asia/Almaty"
KYIV = "Europe/Kyiv"
NEW_YORK = "America/New_York"

OFFICE = {"mon-fri": "09:00-18:00"}


def local(tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz), fold=fold)


def cal(
    tz: str,
    hours: dict[str, str] | str,
    holidays: Iterable[date] = (),
    extra_working_days: Mapping[date, str | None] | Iterable[date] = (),
) -> Calendar:
    return calendar_from_spec(tz, hours, holidays, extra_working_days)


# ---------------------------------------------------------------------------
# Worked examples (2026: Fri 10 Apr, Mon 13 Apr, Tue 14 Apr, Sat 11 Apr)

ADD_CASES = [
    pytest.param(cal(ALMATY, OFFICE), local(ALMATY, 2026, 4, 10, 17), 8 * H,
                 local(ALMATY, 2026, 4, 13, 16), id="friday-evening-to-monday"),
    pytest.param(cal(ALMATY, OFFICE, holidays=[date(2026, 4, 13)]), local(ALMATY, 2026, 4, 10, 17), 8 * H,
                 local(ALMATY, 2026, 4, 14, 16), id="monday-holiday-pushes-to-tuesday"),
    pytest.param(cal(ALMATY, OFFICE), local(ALMATY, 2026, 4, 10, 17), 1 * H,
                 local(ALMATY, 2026, 4, 10, 18), id="deadline-at-closing-stays-friday"),
    pytest.param(cal(ALMATY, OFFICE), local(ALMATY, 2026, 4, 11, 12), 1 * H,
                 local(ALMATY, 2026, 4, 13, 10), id="start-on-weekend"),
    pytest.param(cal(ALMATY, OFFICE), local(ALMATY, 2026, 4, 13, 7), 30 * MINUTE,
                 local(ALMATY, 2026, 4, 13, 9, 30), id="start-before-opening"),
    pytest.param(cal(ALMATY, OFFICE), local(ALMATY, 2026, 4, 13, 10), timedelta(0),
                 local(ALMATY, 2026, 4, 13, 10), id="zero-delta"),
    pytest.param(cal(ALMATY, OFFICE), local(ALMATY, 2026, 4, 13, 7), timedelta(0),
                 local(ALMATY, 2026, 4, 13, 7), id="zero-delta-outside-hours"),
    pytest.param(cal(ALMATY, {"mon-fri": "09:00-13:00, 14:00-18:00"}), local(ALMATY, 2026, 4, 13, 12), 2 * H,
                 local(ALMATY, 2026, 4, 13, 15), id="split-hours-skip-lunch"),
    pytest.param(cal(ALMATY, {"mon-fri": "22:00-06:00"}), local(ALMATY, 2026, 4, 10, 23), 8 * H,
                 local(ALMATY, 2026, 4, 13, 23), id="overnight-friday-shift-into-saturday"),
    pytest.param(cal(ALMATY, {"mon-fri": "22:00-06:00"}, holidays=[date(2026, 4, 14)]),
                 local(ALMATY, 2026, 4, 13, 22), 8 * H,
                 local(ALMATY, 2026, 4, 14, 6), id="overnight-runs-into-holiday-morning"),
    pytest.param(cal(ALMATY, {"mon-fri": "22:00-06:00"}, holidays=[date(2026, 4, 14)]),
                 local(ALMATY, 2026, 4, 13, 22), 9 * H,
                 local(ALMATY, 2026, 4, 15, 23), id="holiday-shift-itself-cancelled"),
    pytest.param(cal(ALMATY, "24/7"), local(ALMATY, 2026, 4, 10, 17), 8 * H,
                 local(ALMATY, 2026, 4, 11, 1), id="round-the-clock"),
    pytest.param(cal(ALMATY, OFFICE, extra_working_days=[date(2026, 4, 11)]), local(ALMATY, 2026, 4, 10, 17),
                 8 * H, local(ALMATY, 2026, 4, 11, 16), id="extra-saturday-with-monday-hours"),
    pytest.param(cal(ALMATY, OFFICE, extra_working_days={date(2026, 4, 11): "10:00-13:00"}),
                 local(ALMATY, 2026, 4, 10, 17), 8 * H,
                 local(ALMATY, 2026, 4, 13, 13), id="extra-saturday-with-own-hours"),
    pytest.param(cal(ALMATY, OFFICE, holidays=[date(2026, 4, 13)], extra_working_days=[date(2026, 4, 13)]),
                 local(ALMATY, 2026, 4, 10, 17), 8 * H,
                 local(ALMATY, 2026, 4, 13, 16), id="extra-working-day-beats-holiday"),
    # DST.  New York 2026: 8 Mar 02:00 EST -> 03:00 EDT; 1 Nov 02:00 EDT -> 01:00 EST.
    # Kyiv 2026: 29 Mar 03:00 EET -> 04:00 EEST; 25 Oct 04:00 EEST -> 03:00 EET.
    pytest.param(cal(NEW_YORK, "24/7"), local(NEW_YORK, 2026, 10, 31, 12), 24 * H,
                 local(NEW_YORK, 2026, 11, 1, 11), id="ny-24-7-fall-back-24h-reads-23h-on-clock"),
    pytest.param(cal(NEW_YORK, "24/7"), local(NEW_YORK, 2026, 3, 7, 12), 24 * H,
                 local(NEW_YORK, 2026, 3, 8, 13), id="ny-24-7-spring-forward-24h-reads-25h-on-clock"),
    pytest.param(cal(KYIV, "24/7"), local(KYIV, 2026, 3, 28, 12), 24 * H,
                 local(KYIV, 2026, 3, 29, 13), id="kyiv-24-7-spring-forward"),
    pytest.param(cal(KYIV, {"sun": "00:00-06:00"}), local(KYIV, 2026, 3, 29, 0), 4 * H,
                 local(KYIV, 2026, 3, 29, 5), id="kyiv-night-hours-skip-the-gap"),
    pytest.param(cal(KYIV, {"sun": "00:00-06:00"}), local(KYIV, 2026, 10, 25, 0), 3 * H,
                 local(KYIV, 2026, 10, 25, 3, fold=0), id="kyiv-night-hours-first-pass-of-repeat"),
    pytest.param(cal(KYIV, {"sun": "00:00-06:00"}), local(KYIV, 2026, 10, 25, 0), 4 * H,
                 local(KYIV, 2026, 10, 25, 3, fold=1), id="kyiv-night-hours-second-pass-of-repeat"),
    pytest.param(cal(KYIV, {"sun": "00:00-06:00"}), local(KYIV, 2026, 10, 25, 0), 7 * H,
                 local(KYIV, 2026, 10, 25, 6), id="kyiv-fall-back-night-holds-7h"),
    pytest.param(cal(NEW_YORK, {"sun": "00:00-04:00"}), local(NEW_YORK, 2026, 3, 8, 0), 3 * H,
                 local(NEW_YORK, 2026, 3, 8, 4), id="ny-spring-night-holds-three-hours"),
    pytest.param(cal(NEW_YORK, {"sun": "00:00-04:00"}), local(NEW_YORK, 2026, 3, 8, 0), 4 * H,
                 local(NEW_YORK, 2026, 3, 15, 1), id="ny-spring-night-fourth-hour-next-week"),
]


@pytest.mark.parametrize(("calendar", "start", "delta", "expected"), ADD_CASES)
def test_add_working_examples(
    calendar: Calendar, start: datetime, delta: timedelta, expected: datetime
) -> None:
    # Scenario: worked deadlines, each checked in both directions and returned in UTC.
    result = add_working(calendar, start, delta)
    # Compare in UTC: Python never finds a datetime in a repeated hour equal to one in another zone.
    assert result == expected.astimezone(UTC)
    assert result.tzinfo is UTC
    assert working_between(calendar, start, result) == delta


NY_FALL_DAY = (local(NEW_YORK, 2026, 11, 1), local(NEW_YORK, 2026, 11, 2))
NY_SPRING_DAY = (local(NEW_YORK, 2026, 3, 8), local(NEW_YORK, 2026, 3, 9))

BETWEEN_CASES = [
    pytest.param(cal(NEW_YORK, "24/7"), *NY_FALL_DAY, 25 * H,
                 id="ny-fall-back-day-has-25h"),
    pytest.param(cal(NEW_YORK, "24/7"), *NY_SPRING_DAY, 23 * H,
                 id="ny-spring-forward-day-has-23h"),
    pytest.param(cal(NEW_YORK, {"sun": "00:00-04:00"}), *NY_FALL_DAY,
                 5 * H, id="ny-fall-back-night-hours-hold-5h"),
    pytest.param(cal(NEW_YORK, {"sun": "02:30-05:00"}), *NY_SPRING_DAY,
                 2 * H, id="ny-start-in-gap-moves-to-03:00"),
    pytest.param(cal(NEW_YORK, {"sun": "01:30-03:00"}), *NY_FALL_DAY,
                 150 * MINUTE, id="ny-ambiguous-start-is-first-01:30"),
    pytest.param(cal(NEW_YORK, {"sun": "00:00-01:30"}), *NY_FALL_DAY,
                 90 * MINUTE, id="ny-ambiguous-end-is-first-01:30"),
    pytest.param(cal(KYIV, {"sat": "22:00-06:00"}), local(KYIV, 2026, 10, 24), local(KYIV, 2026, 10, 26),
                 9 * H, id="kyiv-overnight-across-fall-back-holds-9h"),
    pytest.param(cal(KYIV, {"sat": "22:00-06:00"}), local(KYIV, 2026, 3, 28), local(KYIV, 2026, 3, 30),
                 7 * H, id="kyiv-overnight-across-spring-forward-holds-7h"),
    pytest.param(cal(ALMATY, OFFICE), local(ALMATY, 2026, 1, 1), local(ALMATY, 2027, 1, 1), 261 * 9 * H,
                 id="a-whole-year-of-weekdays"),
    pytest.param(cal(ALMATY, OFFICE), local(ALMATY, 2026, 4, 13, 12), local(ALMATY, 2026, 4, 13, 12), 0 * H,
                 id="empty-range"),
    pytest.param(cal(ALMATY, OFFICE), local(ALMATY, 2026, 4, 13, 12), local(ALMATY, 2026, 4, 13, 10), 0 * H,
                 id="reversed-range"),
]


@pytest.mark.parametrize(("calendar", "a", "b", "expected"), BETWEEN_CASES)
def test_working_between_examples(calendar: Calendar, a: datetime, b: datetime, expected: timedelta) -> None:
    # Scenario: working time measured across DST nights, a whole year and empty ranges.
    assert working_between(calendar, a, b) == expected


NY_SECOND_0115 = local(NEW_YORK, 2026, 11, 1, 1, 15, fold=1)  # 01:15 EST, after clocks went back


@pytest.mark.parametrize(
    ("calendar", "instant", "working"),
    [
        pytest.param(cal(ALMATY, OFFICE), local(ALMATY, 2026, 4, 13, 9), True, id="opening-is-working"),
        pytest.param(cal(ALMATY, OFFICE), local(ALMATY, 2026, 4, 13, 18), False, id="closing-instant-is-not"),
        pytest.param(cal(ALMATY, OFFICE), local(ALMATY, 2026, 4, 11, 12), False, id="saturday"),
        pytest.param(cal(NEW_YORK, {"sun": "01:30-03:00"}), NY_SECOND_0115, True,
                     id="repeat-hour-counts-when-01:59-was-working"),
        pytest.param(cal(NEW_YORK, {"sun": "00:00-01:30"}), NY_SECOND_0115, False,
                     id="repeat-hour-off-when-01:59-was-off"),
    ],
)
def test_is_working_examples(calendar: Calendar, instant: datetime, working: bool) -> None:
    # Scenario: half-open spans and the repeated fall-back hour.
    assert is_working(calendar, instant) is working


def test_next_working_instant_moves_out_of_the_gap() -> None:
    # Scenario: an opening time inside the spring-forward gap opens at the first valid instant.
    calendar = cal(NEW_YORK, {"sun": "02:30-05:00"})
    assert next_working_instant(calendar, local(NEW_YORK, 2026, 3, 8)) == local(NEW_YORK, 2026, 3, 8, 3)
    assert next_working_instant(calendar, local(NEW_YORK, 2026, 3, 8, 4)) == local(NEW_YORK, 2026, 3, 8, 4)


NAIVE = datetime(2026, 4, 13, 12)
AWARE = local(ALMATY, 2026, 4, 13, 12)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: add_working(c, NAIVE, H), id="add_working"),
        pytest.param(lambda c: working_between(c, NAIVE, AWARE), id="working_between-a"),
        pytest.param(lambda c: working_between(c, AWARE, NAIVE), id="working_between-b"),
        pytest.param(lambda c: is_working(c, NAIVE), id="is_working"),
        pytest.param(lambda c: next_working_instant(c, NAIVE), id="next_working_instant"),
    ],
)
def test_naive_datetimes_rejected(call: Callable[[Calendar], object]) -> None:
    # Scenario: a naive datetime has no instant, so every entry point refuses it.
    with pytest.raises(ValueError, match="naive"):
        call(cal(ALMATY, OFFICE))


def test_calendar_without_working_time_raises_instead_of_looping() -> None:
    # Scenario: nothing is ever worked, so the bounded search gives up with ValueError.
    closed = cal(ALMATY, {})
    with pytest.raises(ValueError, match="working time"):
        add_working(closed, AWARE, H)
    with pytest.raises(ValueError, match="working time"):
        next_working_instant(closed, AWARE)
    assert add_working(closed, AWARE, timedelta(0)) == AWARE


def test_negative_delta_rejected() -> None:
    # Scenario: subtracting working time is not supported.
    with pytest.raises(ValueError, match="negative"):
        add_working(cal(ALMATY, OFFICE), AWARE, -H)


def test_calendar_needs_seven_days() -> None:
    # Scenario: a week with six entries is refused.
    with pytest.raises(ValueError, match="7 days"):
        Calendar(tz="UTC", weekly=((),) * 6)


def test_equal_specs_give_equal_hashable_calendars() -> None:
    # Scenario: calendars are values, usable as cache keys whatever order extras were given in.
    days = {date(2026, 4, 11): None, date(2026, 4, 4): "10:00-12:00"}
    one = calendar_from_spec(ALMATY, OFFICE, holidays={date(2026, 5, 1)}, extra_working_days=days)
    two = calendar_from_spec(ALMATY, OFFICE, holidays=[date(2026, 5, 1)],
                             extra_working_days=dict(reversed(list(days.items()))))
    assert one == two and hash(one) == hash(two)


# ---------------------------------------------------------------------------
# Property tests against a brute-force reference
#
# The reference restates the documented rules from first principles: walk UTC
# minute by minute, read the local wall clock, and keep its high-water mark (a
# boundary is "the first instant the wall clock reads that time or later", so
# during a repeated fall-back hour the schedule stays where the clock had got
# to).  A minute works when that mark lies in an interval that starts on a
# working day (holidays cancel the intervals starting on them; extra days
# replace the weekday's hours).

# Zones with interesting transitions, each with instants near them: 30-minute DST
# (Lord Howe), DST at midnight (Havana), a repeated hour ending at midnight when
# Almaty left UTC+6, and the day Samoa skipped.
ZONE_ANCHORS: list[tuple[str, datetime]] = [
    ("UTC", datetime(2026, 4, 10, tzinfo=UTC)),
    ("Asia/Kolkata", datetime(2026, 1, 1, tzinfo=UTC)),
    (ALMATY, datetime(2024, 2, 29, 18, tzinfo=UTC)),
    (ALMATY, datetime(2026, 4, 10, tzinfo=UTC)),
    (KYIV, datetime(2026, 3, 29, 1, tzinfo=UTC)),
    (KYIV, datetime(2026, 10, 25, 1, tzinfo=UTC)),
    (NEW_YORK, datetime(2026, 3, 8, 7, tzinfo=UTC)),
    (NEW_YORK, datetime(2026, 11, 1, 6, tzinfo=UTC)),
    ("America/Havana", datetime(2026, 3, 8, 5, tzinfo=UTC)),
    ("America/Havana", datetime(2026, 11, 1, 5, tzinfo=UTC)),
    ("Australia/Lord_Howe", datetime(2026, 4, 4, 15, tzinfo=UTC)),
    ("Australia/Lord_Howe", datetime(2026, 10, 3, 15, tzinfo=UTC)),
    ("Pacific/Apia", datetime(2011, 12, 30, 10, tzinfo=UTC)),
]


def ref_intervals_on(calendar: Calendar, day: date) -> tuple[Interval, ...]:
    for extra_day, hours in calendar.extra_working_days:
        if extra_day == day:
            return hours
    return () if day in calendar.holidays else calendar.weekly[day.weekday()]


def ref_wall_is_working(calendar: Calendar, wall: datetime) -> bool:
    # Only intervals starting on the wall date or the day before can contain it.
    for day in (wall.date() - timedelta(days=1), wall.date()):
        for iv in ref_intervals_on(calendar, day):
            start = datetime.combine(day, iv.start)
            end = datetime.combine(day + timedelta(days=1 if iv.end <= iv.start else 0), iv.end)
            if start <= wall < end:
                return True
    return False


def ref_working_minutes(calendar: Calendar, lo: datetime, minutes: int) -> list[bool]:
    """Return, for each UTC minute from ``lo``, whether it is working time."""
    zone = ZoneInfo(calendar.tz)
    t = lo - timedelta(days=1)  # warm up the high-water mark past any repeated hour
    high = t.astimezone(zone).replace(tzinfo=None)
    flags: list[bool] = []
    while len(flags) < minutes:
        wall = t.astimezone(zone).replace(tzinfo=None)
        high = max(high, wall)
        if t >= lo:
            flags.append(ref_wall_is_working(calendar, high))
        t += MINUTE
    return flags


# Half-hour wall times, often 00:00-04:00 where these zones change their clocks.
SLOTS = st.one_of(st.integers(0, 8), st.integers(0, 47)).map(lambda i: time(i // 2, 30 * (i % 2)))
DAY_HOURS = st.lists(st.builds(Interval, SLOTS, SLOTS), max_size=3).map(tuple)


Scenario = tuple[Calendar, datetime]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Draw a calendar and a minute-aligned UTC start shortly before one of its zone's transitions."""
    tz, anchor = draw(st.sampled_from(ZONE_ANCHORS))
    # Up to two days before the anchor, so the clock change usually falls inside the window.
    start = anchor - draw(st.integers(0, 2 * 1440)) * MINUTE
    near = st.integers(-2, 4).map(lambda k: start.date() + timedelta(days=k))
    calendar = Calendar(
        tz=tz,
        weekly=tuple(draw(DAY_HOURS) for _ in range(7)),
        holidays=draw(st.frozensets(near, max_size=4)),
        extra_working_days=tuple(draw(st.dictionaries(near, DAY_HOURS, max_size=2)).items()),
    )
    return calendar, start


WINDOW_MINUTES = 3 * 1440
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(scenario=scenarios(), delta_minutes=st.integers(0, 2 * 1440), probe=st.integers(0, WINDOW_MINUTES - 1))
def test_add_working_matches_reference(scenario: Scenario, delta_minutes: int, probe: int) -> None:
    # Scenario: add_working (and is_working) agree with the minute-by-minute reference.
    calendar, start = scenario
    flags = ref_working_minutes(calendar, start, WINDOW_MINUTES)
    assert is_working(calendar, start + probe * MINUTE) is flags[probe]
    worked = [i for i, flag in enumerate(flags) if flag]
    if delta_minutes == 0:
        assert add_working(calendar, start, timedelta(0)) == start
    elif len(worked) >= delta_minutes:
        expected = start + (worked[delta_minutes - 1] + 1) * MINUTE
        assert add_working(calendar, start, delta_minutes * MINUTE) == expected
    else:
        try:
            result = add_working(calendar, start, delta_minutes * MINUTE)
        except ValueError:
            return  # too little working time within the search limit: a documented outcome
        assert result > start + WINDOW_MINUTES * MINUTE


@PROPERTY_SETTINGS
@given(scenario=scenarios(), lo=st.integers(0, WINDOW_MINUTES), hi=st.integers(0, WINDOW_MINUTES))
def test_working_between_matches_reference(scenario: Scenario, lo: int, hi: int) -> None:
    # Scenario: working_between agrees with counting working minutes in [a, b), and is zero when b <= a.
    calendar, start = scenario
    flags = ref_working_minutes(calendar, start, WINDOW_MINUTES)
    a, b = start + lo * MINUTE, start + hi * MINUTE
    assert working_between(calendar, a, b) == sum(flags[lo:hi]) * MINUTE


@settings(max_examples=150, deadline=None)
@given(
    scenario=scenarios(),
    jitter=st.integers(0, 59_999_999),
    delta=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
)
def test_working_between_inverts_add_working(scenario: Scenario, jitter: int, delta: timedelta) -> None:
    # Scenario: measuring up to the deadline gives back exactly the delta, at microsecond precision.
    calendar, start = scenario
    a = start + timedelta(microseconds=jitter)
    try:
        deadline = add_working(calendar, a, delta)
    except ValueError:
        assert working_between(calendar, a, a + timedelta(days=SEARCH_LIMIT_DAYS - 3)) < delta
        return
    assert working_between(calendar, a, deadline) == delta
    # ... and nothing earlier would do: the deadline is the earliest such instant.
    if delta:
        assert working_between(calendar, a, deadline - timedelta(microseconds=1)) < delta

