"""The hours-spec parser: accepted spellings of weekly hours, and ValueErrors that name the bad key or value."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from maildesk.policy.calendar import WHOLE_DAY, Interval, calendar_from_spec

ALMATY = "Asia/Almaty"
OFFICE = {"mon-fri": "09:00-18:00"}
T = time


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        pytest.param({"mon-fri": "09:00-18:00"}, [(Interval(T(9), T(18)),)] * 5 + [()] * 2, id="weekdays"),
        pytest.param({"sat": "10:00-13:00, 14:00-16:00"},
                     [()] * 5 + [(Interval(T(10), T(13)), Interval(T(14), T(16))), ()], id="split"),
        pytest.param({"sun": "22:00-06:00"}, [()] * 6 + [(Interval(T(22), T(6)),)], id="overnight"),
        pytest.param("24/7", [(WHOLE_DAY,)] * 7, id="round-the-clock-string"),
        pytest.param({"Monday": "00:00-24:00", "tue": "24/7"}, [(WHOLE_DAY,)] * 2 + [()] * 5,
                     id="whole-day-forms"),
        pytest.param({"fri-mon": "10:00-11:00"}, [(Interval(T(10), T(11)),)] + [()] * 3
                     + [(Interval(T(10), T(11)),)] * 3, id="wrapping-range"),
        pytest.param({"mon,wed": "18:00-24:00", "tue": "closed"},
                     [(Interval(T(18), T(0)),), (), (Interval(T(18), T(0)),)] + [()] * 4,
                     id="list-and-midnight"),
    ],
)
def test_calendar_from_spec_parses(hours: dict[str, str] | str, expected: list[tuple[Interval, ...]]) -> None:
    # Scenario: accepted spellings of weekly hours.
    assert calendar_from_spec("UTC", hours).weekly == tuple(expected)


@pytest.mark.parametrize(
    ("hours", "fragment"),
    [
        pytest.param({"mon-fry": "09:00-18:00"}, "'mon-fry'", id="bad-day"),
        pytest.param({"mon": "9-18"}, "'9-18'", id="bad-format"),
        pytest.param({"mon": "09:00-25:00"}, "'25:00'", id="bad-hour"),
        pytest.param({"mon": "09:60-10:00"}, "'09:60'", id="bad-minute"),
        pytest.param({"mon": "24:00-06:00"}, "24:00", id="24-as-start"),
        pytest.param({"mon": "09:00-09:00"}, "start equals end", id="zero-length"),
        pytest.param({"mon": "09:00-12:00, 11:00-13:00"}, "overlap", id="overlap"),
        pytest.param({"mon-fri": "09:00-18:00", "fri": "10:00-12:00"}, "'fri'", id="day-twice"),
        pytest.param({"mon": "22:00-10:00", "tue": "09:00-18:00"}, "runs into tue", id="overnight-collides"),
        pytest.param("9 to 5", "'9 to 5'", id="bad-shorthand"),
        pytest.param({"mon,mon": "09:00-18:00"}, "names a day twice", id="day-twice-in-one-key"),
        pytest.param({"mon-tue-wed": "09:00-18:00"}, "'mon-tue-wed'", id="range-of-three"),
        pytest.param({"mon": 9}, "expected a string", id="hours-not-a-string"),
    ],
)
def test_calendar_from_spec_rejects(hours: dict[str, str] | str, fragment: str) -> None:
    # Scenario: a bad key or value raises ValueError naming it, for the config layer to report.
    with pytest.raises(ValueError) as caught:
        calendar_from_spec("UTC", hours)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        pytest.param({"tz": "Mars/Olympus"}, "'Mars/Olympus'", id="unknown-zone"),
        pytest.param({"hours": {"sat": "10:00-12:00"}, "extra_working_days": [date(2026, 4, 11)]},
                     "Monday", id="extra-day-copies-closed-monday"),
        pytest.param({"extra_working_days": {date(2026, 4, 11): "closed"}}, "2026-04-11",
                     id="extra-day-closed"),
        pytest.param({"extra_working_days": {date(2026, 4, 11): "10-12"}}, "2026-04-11",
                     id="extra-day-bad-hours"),
        pytest.param({"holidays": [datetime(2026, 4, 13)]}, "holiday", id="datetime-as-holiday"),
        pytest.param({"extra_working_days": [datetime(2026, 4, 11)]}, "extra working day",
                     id="datetime-as-extra-day"),
        pytest.param({"extra_working_days": [date(2026, 4, 11), date(2026, 4, 11)]}, "twice",
                     id="extra-day-twice"),
    ],
)
def test_calendar_from_spec_rejects_other_settings(kwargs: dict[str, object], fragment: str) -> None:
    # Scenario: bad zone, holidays or extra days raise ValueError naming them.
    args: dict[str, object] = {"tz": ALMATY, "hours": OFFICE, **kwargs}
    with pytest.raises(ValueError) as caught:
        calendar_from_spec(**args)  # type: ignore[arg-type]
    assert fragment in str(caught.value)

