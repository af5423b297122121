"""Holiday dates from the ``holidays`` package, and their effect on a business-hours deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from maildesk.policy.calendar import add_working, calendar_from_spec, holiday_dates


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
