"""Calendars from configuration-style strings: ``{"mon-fri": "09:00-18:00", "sat": "10:00-13:00"}``. Pure.

The parser turns day keys and hours strings into the :class:`Interval` tuples of a
:class:`Calendar`, and raises ValueError naming the offending key or value so the config layer
can report it like any bad setting.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from datetime import date, time

from maildesk.policy.calendar.model import WHOLE_DAY, Calendar, Interval

_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_INDEX = {name: i for i, full in enumerate(_DAY_NAMES) for name in (full, full[:3])}
_ROUND_THE_CLOCK = ("24/7", "24h")
_CLOSED = ("", "closed", "off")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_DAY_MINUTES = 24 * 60


def calendar_from_spec(
    tz: str,
    hours: Mapping[str, str] | str,
    holidays: Iterable[date] = (),
    extra_working_days: Mapping[date, str | None] | Iterable[date] = (),
) -> Calendar:
    """Return a Calendar built from configuration-style strings.

    ``hours`` maps day keys to hours, e.g. ``{"mon-fri": "09:00-18:00",
    "sat": "10:00-13:00, 14:00-16:00", "sun": "22:00-06:00"}``; a key is a day
    name (``mon`` or ``monday``), a range (``mon-fri``, wrapping allowed:
    ``fri-mon``) or a comma list of those.  A value is ``24/7`` (whole day),
    ``closed``, or comma-separated ``HH:MM-HH:MM`` intervals where ``24:00``
    may end one and an end not after the start runs overnight.  Unmentioned
    days are closed.  ``hours`` may also be the string ``"24/7"`` for every day.
    ``extra_working_days`` is a set of dates worked with Monday's hours, or a
    mapping from date to hours string (None meaning Monday's hours).

    Raises ValueError naming the offending key or value.
    """
    weekly = _parse_week(hours)
    extras = _parse_extra_days(extra_working_days, weekly[0])
    return Calendar(tz=tz, weekly=weekly, holidays=frozenset(holidays), extra_working_days=extras)


def _parse_week(hours: Mapping[str, str] | str) -> tuple[tuple[Interval, ...], ...]:
    if isinstance(hours, str):
        if hours.strip().lower() in _ROUND_THE_CLOCK:
            return ((WHOLE_DAY,),) * 7
        raise ValueError(f"hours: expected a mapping of days to hours or '24/7', got {hours!r}")
    week: list[tuple[Interval, ...] | None] = [None] * 7
    owner: dict[int, str] = {}
    for key, value in hours.items():
        days = _parse_days(key)
        try:
            intervals = _parse_hours(value)
        except ValueError as exc:
            raise ValueError(f"hours[{key!r}] = {value!r}: {exc}") from exc
        for day in days:
            if day in owner:
                raise ValueError(f"hours: day {_day_name(day)!r} is given by both {owner[day]!r} and {key!r}")
            owner[day] = key
            week[day] = intervals
    weekly = tuple(day or () for day in week)
    _check_overnight_tails(weekly)
    return weekly


def _day_name(index: int) -> str:
    return _DAY_NAMES[index][:3]


def _parse_days(key: str) -> list[int]:
    """Return weekday indexes for a key such as ``mon-fri``, ``sat`` or ``mon,wed``."""
    days: list[int] = []
    for part in key.lower().split(","):
        ends = [p.strip() for p in part.split("-")]
        if len(ends) > 2 or not all(end in _DAY_INDEX for end in ends):
            raise ValueError(f"hours: bad day key {key!r} (use e.g. 'mon', 'mon-fri', 'sat,sun')")
        first, last = _DAY_INDEX[ends[0]], _DAY_INDEX[ends[-1]]
        days.extend((first + i) % 7 for i in range((last - first) % 7 + 1))
    if len(set(days)) != len(days):
        raise ValueError(f"hours: day key {key!r} names a day twice")
    return days


def _parse_hours(text: str) -> tuple[Interval, ...]:
    """Return the intervals of one day from ``09:00-13:00, 14:00-18:00``, ``24/7`` or ``closed``."""
    if not isinstance(text, str):
        raise ValueError("expected a string")
    text = text.strip().lower()
    if text in _ROUND_THE_CLOCK:
        return (WHOLE_DAY,)
    if text in _CLOSED:
        return ()
    ranges = sorted(_parse_range(part.strip()) for part in text.split(","))
    for (_s1, e1), (s2, _e2) in itertools.pairwise(ranges):
        if s2 < e1:
            raise ValueError("intervals overlap")
    return tuple(Interval(_to_time(s), _to_time(e)) for s, e in ranges)


def _parse_range(text: str) -> tuple[int, int]:
    """Return (start, end) minutes from ``HH:MM-HH:MM``; an overnight end gets 24 h added."""
    ends = text.split("-")
    if len(ends) != 2:
        raise ValueError(f"bad interval {text!r} (use HH:MM-HH:MM)")
    start, end = _parse_clock(ends[0], text), _parse_clock(ends[1], text)
    if start == _DAY_MINUTES:
        raise ValueError(f"bad interval {text!r}: 24:00 can only end an interval")
    if start % _DAY_MINUTES == end % _DAY_MINUTES and start != 0:
        raise ValueError(f"bad interval {text!r}: start equals end (use 24/7 for a whole day)")
    if end <= start:
        end += _DAY_MINUTES
    return start, end


def _parse_clock(text: str, interval: str) -> int:
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"bad time {text.strip()!r} in {interval!r} (use HH:MM)")
    hour, minute = int(match[1]), int(match[2])
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise ValueError(f"bad time {text.strip()!r} in {interval!r}")
    return hour * 60 + minute


def _to_time(minutes: int) -> time:
    minutes %= _DAY_MINUTES
    return time(minutes // 60, minutes % 60)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _check_overnight_tails(weekly: tuple[tuple[Interval, ...], ...]) -> None:
    """Reject an overnight interval whose tail runs into the next day's first interval (a likely typo)."""
    for day, intervals in enumerate(weekly):
        following = weekly[(day + 1) % 7]
        if not following:
            continue
        next_start = min(_minutes(iv.start) for iv in following)
        for iv in intervals:
            if iv.end <= iv.start and _minutes(iv.end) > next_start:
                raise ValueError(
                    f"hours: {_day_name(day)} {iv.start:%H:%M}-{iv.end:%H:%M} runs into "
                    f"{_day_name((day + 1) % 7)}'s hours"
                )


def _parse_extra_days(
    extra: Mapping[date, str | None] | Iterable[date], monday: tuple[Interval, ...]
) -> tuple[tuple[date, tuple[Interval, ...]], ...]:
    items: Iterable[tuple[date, str | None]]
    items = extra.items() if isinstance(extra, Mapping) else ((day, None) for day in extra)
    result: list[tuple[date, tuple[Interval, ...]]] = []
    for day, text in items:
        if text is None:
            hours = monday
            if not hours:
                raise ValueError(f"extra working day {day}: no hours given and Monday has none to copy")
        else:
            try:
                hours = _parse_hours(text)
            except ValueError as exc:
                raise ValueError(f"extra working day {day} = {text!r}: {exc}") from exc
            if not hours:
                raise ValueError(f"extra working day {day} = {text!r}: no working hours")
        result.append((day, hours))
    return tuple(result)
