"""Calendars named in the config (`[calendars.NAME]`), built into :class:`Calendar` values, with their
public holidays from the third-party ``holidays`` package.

This is the only module that imports ``holidays``: calendars take plain dates, so the arithmetic
stays pure and the data source stays replaceable. Holidays are loaded for a window of years chosen
by the caller, so the calendars stay plain data. The calendar called ``default`` always exists:
when the config does not declare it, it is 24/7 in UTC, which makes "outside working hours" never
true for queues that name no calendar.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

import holidays

from maildesk.config import DEFAULT_CALENDAR, CalendarSettings
from maildesk.errors import ConfigError
from maildesk.policy.calendar.model import Calendar, is_working
from maildesk.policy.calendar.spec import calendar_from_spec


def build_calendars(specs: Iterable[CalendarSettings], years: Iterable[int]) -> dict[str, Calendar]:
    """Every configured calendar by name, plus the default; ConfigError names the faulty key."""
    wanted = tuple(years)
    calendars = {DEFAULT_CALENDAR: calendar_from_spec("UTC", "24/7")}
    for spec in specs:
        calendars[spec.name] = _build(spec, wanted)
    return calendars


def _build(spec: CalendarSettings, years: tuple[int, ...]) -> Calendar:
    key = f"calendars.{spec.name}"
    days_off = set(spec.holidays)
    if spec.holidays_country:
        try:
            days_off |= holiday_dates(spec.holidays_country, spec.holidays_subdiv or None, years)
        except ValueError as exc:
            raise ConfigError(f"{key}.holidays_country: {exc}") from None
    hours = spec.hours if isinstance(spec.hours, str) else dict(spec.hours)
    try:
        return calendar_from_spec(spec.tz, hours, days_off, spec.extra_working_days)
    except ValueError as exc:
        raise ConfigError(f"{key}.hours: {exc}") from None


def working_calendars(calendars: Mapping[str, Calendar], instant: datetime) -> frozenset[str]:
    """The names of the calendars whose working time includes `instant`."""
    return frozenset(name for name, cal in calendars.items() if is_working(cal, instant))


def holiday_dates(country: str, subdiv: str | None, years: Iterable[int]) -> frozenset[date]:
    """Return the public-holiday dates (observed days included) of ``country``/``subdiv`` in ``years``.

    Only the package's default "public" category is used: those are the days
    offices close.  ``country`` is an ISO 3166-1 alpha-2 code in any case;
    ``subdiv`` is passed as given (the package's codes are case-sensitive).
    Raises ValueError naming an unknown country or subdivision, so the config
    layer can report it like any bad setting.
    """
    country = country.strip().upper()
    wanted = sorted(set(years))
    try:
        table = holidays.country_holidays(country, subdiv=subdiv, years=wanted)
    except NotImplementedError as exc:
        # The package signals both unknown countries and unknown subdivisions this way.
        where = country if subdiv is None else f"{country}/{subdiv}"
        raise ValueError(f"no holiday data for {where!r}: {exc}") from exc
    # Filter by year: lookups can make the table grow beyond the years asked for.
    return frozenset(day for day in table if day.year in wanted)
