"""The config's named calendars built into Calendar values, and holiday dates from the ``holidays``
package with their effect on a business-hours deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from maildesk.config import DEFAULT_CALENDAR, CalendarSettings
from maildesk.errors import ConfigError
from maildesk.policy.calendar import (
    add_working,
    build_calendars,
    calendar_from_spec,
    holiday_dates,
    working_calendars,
)


@pytest.mark.parametrize(
    ("country", "subdiv", "year", "day"),
    [
        pytest.param("KZ", None, 2026, date(2026, 3, 21), id="kz-nauryz-1"),
        pytest.param("KZ", None, 2026, date(2026, 3, 22), id="kz-nauryz-2"),
        pytest.param("KZ", None, 2026, date(2026, 3, 23), id="kz-nauryz-3"),
        pytest.param("KZ", None, 2026, date(2026, 12, 16), id="kz-independence-day"),
        pytest.param("UA", None, 2021, date(2021, 8, 24), id="ua-independence-day"),
        pytest.param("UA", None, 2021, date(2021, 6, 28), id="ua-constitution-day"),
        pytest.param("US", "NY", 2026, date(2026, 2, 12), id="us-ny-lincolns-birthday"),
        pytest.param("kz", None, 2026, date(2026, 1, 1), id="country-code-in-lower-case"),
    ],
)
def test_holiday_dates_include_known_days(country: str, subdiv: str | None, year: int, day: date) -> None:
    # Scenario: well-known public holidays are present for the country (and subdivision) asked for.
    assert day in holiday_dates(country, subdiv, [year])


def test_subdivision_adds_its_own_days() -> None:
    # Scenario: a state holiday is absent from the country-wide list.
    assert date(2026, 2, 12) not in holiday_dates("US", None, [2026])


def test_only_requested_years_are_returned() -> None:
    # Scenario: asking for two years returns dates from those years only.
    dates = holiday_dates("KZ", None, iter([2027, 2026, 2026]))
    assert {d.year for d in dates} == {2026, 2027}


@pytest.mark.parametrize(
    ("country", "subdiv", "fragment"),
    [
        pytest.param("XX", None, "'XX'", id="unknown-country"),
        pytest.param("KZ", "ZZ", "'KZ/ZZ'", id="unknown-subdivision"),
    ],
)
def test_unknown_country_or_subdivision_raises(country: str, subdiv: str | None, fragment: str) -> None:
    # Scenario: a bad setting raises ValueError naming it, for the config layer to report.
    with pytest.raises(ValueError) as caught:
        holiday_dates(country, subdiv, [2026])
    assert fragment in str(caught.value)


def test_nauryz_week_pushes_friday_ticket_to_thursday() -> None:
    # Scenario: a ticket pending from Friday 20 Mar 2026 17:00 in Almaty closes after 8 working hours,
    # skipping the weekend and the Nauryz holidays (Mon 23 - Wed 25 Mar).
    almaty = ZoneInfo("Asia/Almaty")
    calendar = calendar_from_spec("Asia/Almaty", {"mon-fri": "09:00-18:00"},
                                  holidays=holiday_dates("KZ", None, [2026]))
    closes = add_working(calendar, datetime(2026, 3, 20, 17, tzinfo=almaty), timedelta(hours=8))
    assert closes == datetime(2026, 3, 26, 16, tzinfo=almaty).astimezone(UTC)



def settings(name: str = "office", **values: object) -> CalendarSettings:
    """A `[calendars.NAME]` table as the config layer hands it over: Almaty office hours by default."""
    table: dict[str, object] = {"tz": "Asia/Almaty", "hours": (("mon-fri", "09:00-18:00"),),
                                "holidays_country": "", "holidays_subdiv": "", "holidays": (),
                                "extra_working_days": ()}
    return CalendarSettings(name=name, **{**table, **values})  # type: ignore[arg-type]


def at_ten(day: date) -> datetime:
    """10:00 Almaty time on `day`: inside office hours on any working day."""
    return datetime.combine(day, datetime.min.time(), ZoneInfo("Asia/Almaty")) + timedelta(hours=10)


def test_default_calendar_is_round_the_clock_utc_unless_declared() -> None:
    # Scenario: with no [calendars.default] the default works 24/7 in UTC; a declared one replaces it.
    built = build_calendars([settings()], [2026])
    assert set(built) == {DEFAULT_CALENDAR, "office"}
    assert built[DEFAULT_CALENDAR] == calendar_from_spec("UTC", "24/7")
    declared = build_calendars([settings(DEFAULT_CALENDAR, tz="Europe/Kyiv")], [2026])
    assert declared[DEFAULT_CALENDAR].tz == "Europe/Kyiv"


# December 2026: Tue 15, Wed 16 (Independence Day in Kazakhstan), Thu 17, Sat 12.
@pytest.mark.parametrize(
    ("values", "inside", "outside"),
    [
        pytest.param({}, date(2026, 12, 16), date(2026, 12, 12), id="weekday-works-weekend-not"),
        pytest.param({"holidays": (date(2026, 12, 15),)}, date(2026, 12, 16), date(2026, 12, 15),
                     id="listed-holiday"),
        pytest.param({"holidays_country": "KZ"}, date(2026, 12, 15), date(2026, 12, 16),
                     id="country-holiday"),
        pytest.param({"holidays_country": "KZ", "holidays": (date(2026, 12, 17),)}, date(2026, 12, 15),
                     date(2026, 12, 17), id="listed-and-country-holidays-add-up"),
        pytest.param({"holidays_country": "KZ", "holidays": (date(2026, 12, 17),)}, date(2026, 12, 15),
                     date(2026, 12, 16), id="country-holidays-stay-with-listed-ones"),
        pytest.param({"extra_working_days": (date(2026, 12, 12),)}, date(2026, 12, 12), date(2026, 12, 13),
                     id="extra-saturday"),
    ],
)
def test_built_calendar_works_on_the_right_days(values: dict[str, object], inside: date, outside: date) -> None:
    # Scenario: each setting of [calendars.office] decides whether 10:00 on a day is working time.
    office = {"office": build_calendars([settings(**values)], [2026])["office"]}
    assert working_calendars(office, at_ten(inside)) == {"office"}
    assert working_calendars(office, at_ten(outside)) == frozenset()


@pytest.mark.parametrize(
    ("values", "key"),
    [
        pytest.param({"holidays_country": "XX"}, "calendars.office.holidays_country", id="unknown-country"),
        pytest.param({"holidays_country": "KZ", "holidays_subdiv": "ZZ"}, "calendars.office.holidays_country",
                     id="unknown-subdivision"),
        pytest.param({"hours": (("mon-fry", "09:00-18:00"),)}, "calendars.office.hours", id="bad-day-key"),
        pytest.param({"hours": "9 to 5"}, "calendars.office.hours", id="bad-shorthand"),
        pytest.param({"tz": "Mars/Olympus"}, "calendars.office.hours", id="unknown-zone"),
    ],
)
def test_bad_calendar_settings_name_their_key(values: dict[str, object], key: str) -> None:
    # Scenario: a bad setting is a ConfigError that names the calendar and the key to fix.
    with pytest.raises(ConfigError) as caught:
        build_calendars([settings(**values)], [2026])
    assert str(caught.value).startswith(f"{key}: ")


def test_working_calendars_names_only_those_at_work() -> None:
    # Scenario: at 08:00 in Almaty (UTC+5) on a Monday only the 24/7 default works; at 09:00 the office too.
    built = build_calendars([settings()], [2026])
    assert working_calendars(built, datetime(2026, 12, 14, 3, tzinfo=UTC)) == {DEFAULT_CALENDAR}
    assert working_calendars(built, datetime(2026, 12, 14, 4, tzinfo=UTC)) == {DEFAULT_CALENDAR, "office"}
