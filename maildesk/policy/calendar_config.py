"""Calendars named in the config (`[calendars.NAME]`), built into :class:`Calendar` values.

Public holidays come from :mod:`maildesk.policy.holidays_source` for a window of
years chosen by the caller, so the calendars stay plain data. The calendar
called ``default`` always exists: when the config does not declare it, it is
24/7 in UTC, which makes "outside working hours" never true for queues that
name no calendar.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from maildesk.config import DEFAULT_CALENDAR, CalendarSettings
from maildesk.errors import ConfigError
from maildesk.policy.calendar import Calendar, calendar_from_spec, is_working
from maildesk.policy.holidays_source import holiday_dates

__all__ = ["build_calendars", "working_calendars"]


def build_calendars(specs: Iterable[CalendarSettings], years: Iterable[int]) -> dict[str, Calendar]:
    """Every configured calendar by name, plus the default; ConfigError names the faulty key."""
    wanted = tuple(years)
    calendars = {DEFAULT_CALENDAR: calendar_from_spec("UTC", "24/7")}
    for spec in specs:
        calendars[spec.name] = _build(spec, wanted)
    return calendars


def _build(spec: CalendarSettings, years: tuple[int, ...]) -> Calendar:
    key = f"calendars.{spec.name}"
    holidays = set(spec.holidays)
    if spec.holidays_country:
        try:
            holidays |= holiday_dates(spec.holidays_country, spec.holidays_subdiv or None, years)
        except ValueError as exc:
            raise ConfigError(f"{key}.holidays_country: {exc}") from None
    hours = spec.hours if isinstance(spec.hours, str) else dict(spec.hours)
    try:
        return calendar_from_spec(spec.tz, hours, holidays, spec.extra_working_days)
    except ValueError as exc:
        raise ConfigError(f"{key}.hours: {exc}") from None


def working_calendars(calendars: Mapping[str, Calendar], instant: datetime) -> frozenset[str]:
    """The names of the calendars whose working time includes `instant`."""
    return frozenset(name for name, cal in calendars.items() if is_working(cal, instant))
