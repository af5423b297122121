"""Business-hours calendars and pure working-time arithmetic.

A :class:`Calendar` says, in the local wall time of one IANA time zone, when
support works: hours per weekday, holidays, and extra working days.  The
functions here answer "when have N working hours elapsed after this instant?"
and "how much working time lies between these two instants?".  They take and
return aware datetimes and do no I/O; holidays are supplied by the caller
(see :mod:`maildesk.policy.calendar.build`).  Calendars are built from
configuration-style strings by :mod:`maildesk.policy.calendar.spec`.

Rules (the property tests check the code against an independent reading of
exactly these rules):

* **Day ownership.**  Every interval belongs to the local date on which it
  *starts*.  An interval whose end is not after its start runs overnight into
  the next day (22:00-06:00); 00:00-00:00 is the whole day.
* **Holidays** cancel the intervals that start on them.  An overnight interval
  that started on the previous working day still runs to its end on the
  holiday morning: the shift was already under way, and cutting it at
  midnight would make the previous day's hours depend on the next day.
* **Extra working days** replace the weekday's hours on that date, whether the
  date is a weekend, a holiday or an ordinary day.
* **Wall-clock boundaries.**  An interval boundary (a local date and wall time)
  is the *first instant at which the local wall clock reads that time or
  later*.  Hence a boundary that falls in a spring-forward gap moves to the
  end of the gap (the first valid instant after it); an ambiguous boundary in
  a fall-back overlap means its first occurrence; and the repeated hour after
  clocks go back counts as working exactly when the wall time just before the
  change was working (an interval 00:00-04:00 on a fall-back night holds five
  real hours, one on a spring-forward night three).
* Working time is real elapsed time: 24/7 across a fall-back night counts the
  25 hours of that local day.

Internally each local day's intervals are converted once to UTC spans (cached)
and the arithmetic walks days, never minutes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)
_ONE_SECOND = timedelta(seconds=1)

#: How far ahead :func:`add_working` and :func:`next_working_instant` look
#: before concluding the calendar cannot satisfy the request.  A calendar
#: with no working time at all would otherwise make them loop forever.
SEARCH_LIMIT_DAYS = 3 * 366

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Interval:
    """Working hours within one day, in local wall time.

    ``end <= start`` means the interval runs overnight and ends on the next
    day; ``Interval(time(0), time(0))`` is the whole day.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"Interval.{name} must be a naive datetime.time, got {value!r}")

    def wall_bounds(self, day: date) -> tuple[datetime, datetime]:
        """Return the naive local (start, end) of this interval when it starts on ``day``."""
        end_day = day + _ONE_DAY if self.end <= self.start else day
        return datetime.combine(day, self.start), datetime.combine(end_day, self.end)


WHOLE_DAY = Interval(time(0), time(0))


@dataclass(frozen=True)
class Calendar:
    """When support works: a time zone, weekly hours, holidays and extra working days.

    ``weekly`` has seven entries, Monday first.  ``extra_working_days`` pairs
    dates with the hours worked on them; it is a tuple (not a dict) so the
    calendar stays hashable and can key the per-day cache.
    """

    tz: str
    weekly: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = frozenset()
    extra_working_days: tuple[tuple[date, tuple[Interval, ...]], ...] = ()
    _extra: Mapping[date, tuple[Interval, ...]] = field(init=False, repr=False, compare=False)
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Checked here is only what the type checker cannot prove: the zone exists, the week has
        # seven days, no date comes twice, and dates are dates (a config's TOML datetime is one too).
        _load_zone(self.tz)
        weekly = tuple(tuple(day) for day in self.weekly)
        if len(weekly) != 7:
            raise ValueError(f"weekly hours need 7 days (Monday first), got {len(weekly)}")
        holidays = frozenset(self.holidays)
        for day in holidays:
            _check_date(day, "holiday")
        extra = dict(self.extra_working_days)
        if len(extra) != len(self.extra_working_days):
            raise ValueError("extra_working_days lists a date twice")
        for day in extra:
            _check_date(day, "extra working day")
        # Normalise so that equal calendars compare (and hash) equal.
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "extra_working_days", tuple(sorted(extra.items())))
        object.__setattr__(self, "_extra", MappingProxyType(extra))
        # The sweep hashes the calendar on every per-day cache lookup; hashing
        # the nested tuples each time costs several times the lookup itself.
        object.__setattr__(self, "_hash", hash((self.tz, weekly, holidays, self.extra_working_days)))

    def __hash__(self) -> int:
        return self._hash

    @property
    def zone(self) -> ZoneInfo:
        """Return the calendar's time zone (ZoneInfo caches instances by key)."""
        return ZoneInfo(self.tz)

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        """Return the intervals that *start* on local date ``day``, after holidays and extra days."""
        extra = self._extra.get(day)
        if extra is not None:
            return extra
        if day in self.holidays:
            return ()
        return self.weekly[day.weekday()]


def _load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _check_date(day: object, what: str) -> None:
    # datetime is a date subclass but never equals a date, so it would silently never match.
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValueError(f"{what} must be a datetime.date, got {day!r}")


# ---------------------------------------------------------------------------
# Local wall time -> UTC


def _first_instant_at(zone: ZoneInfo, wall: datetime) -> datetime:
    """Return the first UTC instant at which the wall clock in ``zone`` reads ``wall`` or later.

    For an existing wall time that is its (first, ``fold=0``) occurrence; for a
    wall time inside a spring-forward gap it is the transition instant.
    """
    early = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if early.astimezone(zone).replace(tzinfo=None) == wall:
        return early
    # In a gap, fold=0 and fold=1 read the wall time with the offsets before and
    # after the change, which brackets the transition; zoneinfo does not expose
    # transitions, so bisect for it on whole seconds (tz data has no finer).
    late = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo = min(early, late).replace(microsecond=0)
    hi = max(early, late).replace(microsecond=0) + _ONE_SECOND
    while hi - lo > _ONE_SECOND:
        mid = lo + timedelta(seconds=int((hi - lo).total_seconds()) // 2)
        if mid.astimezone(zone).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return hi


@functools.lru_cache(maxsize=16384)
def _day_spans(cal: Calendar, day: date) -> tuple[Span, ...]:
    """Return the UTC spans of the intervals starting on ``day``, sorted, empty ones dropped."""
    zone = cal.zone
    spans: list[Span] = []
    for interval in cal.intervals_on(day):
        wall_start, wall_end = interval.wall_bounds(day)
        start, end = _first_instant_at(zone, wall_start), _first_instant_at(zone, wall_end)
        if start < end:  # both ends in the same gap: the interval never happens
            spans.append((start, end))
    return tuple(sorted(spans))


def _working_spans(cal: Calendar, since: datetime, until: datetime | None, days: int) -> Iterator[Span]:
    """Yield disjoint working spans in time order, clipped to start at ``since`` or later.

    Stops at the first span starting at or after ``until`` or, without
    ``until``, after ``days`` local days.  Overlapping intervals (an overnight
    tail running into the next day's hours) are trimmed rather than merged, so
    a 24/7 calendar yields one span per day instead of never finishing a merge.
    """
    zone = cal.zone
    # Start one day back, for an overnight interval still running at `since`.
    # Anything starting earlier has ended: it ends by the first instant the wall
    # clock reads the midnight that began since's local date, which `since` is
    # already past.  (At the far end one extra day is needed instead: inside a
    # fall-back hour that recrosses midnight, the next day's hours have begun.)
    day = since.astimezone(zone).date() - _ONE_DAY
    last = until.astimezone(zone).date() + _ONE_DAY if until is not None else day + days * _ONE_DAY
    frontier = since
    while day <= last:
        for start, end in _day_spans(cal, day):
            start = max(start, frontier)
            if end <= start:
                continue
            if until is not None and start >= until:
                return
            yield start, end
            frontier = end
        day += _ONE_DAY


# ---------------------------------------------------------------------------
# Public arithmetic


def _utc(instant: datetime, name: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {instant!r}")
    return instant.astimezone(UTC)


def is_working(cal: Calendar, instant: datetime) -> bool:
    """Return whether ``instant`` lies inside working time (spans are half-open: start in, end out)."""
    t = _utc(instant, "instant")
    # Spans come clipped to start at t or later, so only the first can contain t.
    first = next(_working_spans(cal, t, None, 3), None)
    return first is not None and first[0] == t


def next_working_instant(cal: Calendar, instant: datetime) -> datetime:
    """Return, in UTC, ``instant`` itself if it is working time, else the start of the next working span.

    Raises ValueError when there is no working time within SEARCH_LIMIT_DAYS.
    """
    t = _utc(instant, "instant")
    first = next(_working_spans(cal, t, None, SEARCH_LIMIT_DAYS), None)
    if first is not None:
        return first[0]
    raise ValueError(f"calendar has no working time within {SEARCH_LIMIT_DAYS} days after {t}")


def add_working(cal: Calendar, start: datetime, delta: timedelta) -> datetime:
    """Return, in UTC, the earliest instant by which ``delta`` of working time has elapsed after ``start``.

    A deadline landing exactly on the end of a working span is that end (Friday
    17:00 plus one hour in a 9-18 calendar is Friday 18:00, not Monday 09:00).
    A zero ``delta`` returns the ``start`` instant.  Raises ValueError for a negative
    ``delta`` or when the calendar does not supply ``delta`` within
    SEARCH_LIMIT_DAYS (e.g. it has no working time at all).
    """
    t = _utc(start, "start")
    if delta < _ZERO:
        raise ValueError(f"delta must not be negative, got {delta}")
    if delta == _ZERO:
        return t
    remaining = delta
    for span_start, span_end in _working_spans(cal, t, None, SEARCH_LIMIT_DAYS):
        available = span_end - span_start
        if available >= remaining:
            return span_start + remaining
        remaining -= available
    raise ValueError(f"calendar does not supply {delta} of working time within {SEARCH_LIMIT_DAYS} days")


def working_between(cal: Calendar, a: datetime, b: datetime) -> timedelta:
    """Return the working time in ``[a, b)``, or zero when ``b <= a``.

    Cost grows with the number of local days between the instants, not with
    their distance in minutes.
    """
    lo, hi = _utc(a, "a"), _utc(b, "b")
    total = _ZERO
    if hi <= lo:
        return total
    for start, end in _working_spans(cal, lo, hi, 0):
        total += min(end, hi) - start
    return total

