"""`maildesk report`: ask the store's aggregates (maildesk.store.report) and fold their few rows into
a Report. Nothing here sees a ticket row: every loop runs over groups (statuses, agents, days, weeks).

Durations are elapsed time from a ticket's creation (the database subtracts instants); SLA
compliance compares the done instants with the due instants the SLA clock set in working hours.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from maildesk.admin.report.model import (
    AGE_BUCKETS,
    AUTO_REASONS,
    NO_RATINGS,
    NO_TIMES,
    AgentLine,
    AgeRow,
    BreachLine,
    Compliance,
    Ratings,
    Report,
    Times,
    Volume,
    Week,
)
from maildesk.store import report as queries
from maildesk.store.db import Database
from maildesk.store.outcomes import MET, MISSED

BREACH_LIMIT = 50
# Up to this many tickets created since the first Monday, one scan ranks all four duration figures
# (bench/report.py: a month of a 1,000,000-ticket desk, 30,000 tickets); past it, each figure is
# read off its duration index (bench/report.py: the whole million in the period).
ONE_SCAN_UP_TO = 200_000
DEFAULT_GOAL = 90.0
_GROUPS = ("queue", "category", "priority")


def period(since: datetime | None, until: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """The report period: until defaults to now, since to 30 days before until."""
    end = until or now
    return since or end - timedelta(days=30), end


def monday_of(when: datetime) -> datetime:
    """Midnight UTC of the Monday of `when`'s ISO week: where the weekly trend starts."""
    utc = when.astimezone(UTC)
    return datetime.combine(utc.date() - timedelta(days=utc.weekday()), time(), tzinfo=UTC)


def build_report(db: Database, since: datetime, until: datetime, now: datetime,
                 goal: float = DEFAULT_GOAL, breach_limit: int = BREACH_LIMIT) -> Report:
    """Compute every section for [since, until) at `now`."""
    span, origin = queries.Span(since, until, now), monday_of(since)
    with db.reading() as session:
        queries.prepare(session)
        opened_by_day = queries.created_groups(session, span, origin)
        created = [(q, c, p, o, n) for q, c, p, o, _, inside, n in opened_by_day if inside]
        by_day = queries.closed_groups(session, span, origin)
        closed = [(a, r, n) for a, r, _, inside, n in by_day if inside]
        backlog = queries.backlog(session, now, _age_limits(now))
        breaches = queries.breaches(session, span, breach_limit)
        # A period of many tickets walks the duration indexes instead of sorting (store/report.py).
        walk = sum(n for *_, n in opened_by_day) >= ONE_SCAN_UP_TO
        weeks = {day // 7 for *_, day, _, _ in opened_by_day}
        names = queries.agent_names(session)
        spreads = queries.spreads(session, span, origin, walk=walk, weeks=weeks, agents=names)
        days = _day_counts(since, until, opened_by_day, by_day)
        rated = queries.ratings(session, since, until)
        return Report(
            since=since, until=until, now=now, goal=goal,
            opened=sum(n for *_, n in created), closed=sum(n for *_, n in closed),
            auto_closed_by_reason=tuple((r, sum(n for _, c, n in closed if c == r)) for r in AUTO_REASONS),
            first_response=_times(spreads["first_response"]), resolution=_times(spreads["resolution"]),
            backlog=_backlog(backlog), agents=_agents(names, rated, backlog, closed, spreads["agent"]),
            by_category=_volume(created, 1), by_queue=_volume(created, 0),
            compliance=_overall(created),
            compliance_by=tuple((name, _compliance(created, i)) for i, name in enumerate(_GROUPS)),
            breaches=tuple(BreachLine(b.ticket_id, b.subject, b.first_response_late, b.resolution_late)
                           for b in breaches),
            breached_total=sum(n for *_, o, n in created if o == MISSED),
            weeks=_weeks(days, since, until, spreads["week"]),
            per_day=tuple(d for d in days if d[0] >= since.astimezone(UTC).date()),
            ratings=_ratings(rated))


def _times(spreads: dict[Any, queries.Spread]) -> Times:
    s = spreads.get(0)
    return NO_TIMES if s is None else Times(s.count, s.mean, s.percentiles.get(50), s.percentiles.get(90))


def _age_limits(now: datetime) -> list[datetime]:
    return [now - timedelta(days=days) for _, days in AGE_BUCKETS if days is not None]


def _backlog(rows: list[tuple[str, int, int | None, int]]) -> tuple[AgeRow, ...]:
    counts: dict[str, list[int]] = {s: [0] * len(AGE_BUCKETS) for s in queries.OPEN_STATUSES}
    for status, bucket, _, n in rows:
        counts[status][bucket] += n
    return tuple(AgeRow(s, tuple(c)) for s, c in counts.items())


def _volume(created: list[tuple[str, str, str, str | None, int]], index: int) -> tuple[Volume, ...]:
    tally: dict[str, int] = defaultdict(int)
    for group in created:
        tally[str(group[index]) or "-"] += group[-1]
    return tuple(Volume(k, n) for k, n in sorted(tally.items(), key=lambda kv: (-kv[1], kv[0])))


def _compliance(created: list[tuple[str, str, str, str | None, int]], index: int) -> tuple[Compliance, ...]:
    """Per queue (index 0), category (1) or priority (2)."""
    tally: dict[str, list[int]] = {}
    for group in created:
        verdict, n = group[3], group[4]
        if verdict is not None:
            tally.setdefault(str(group[index]) or "-", [0, 0])[0 if verdict == MET else 1] += n
    return tuple(Compliance(g, met, missed) for g, (met, missed) in sorted(tally.items()))


def _overall(created: list[tuple[str, str, str, str | None, int]]) -> Compliance:
    return Compliance("all", sum(n for *_, o, n in created if o == MET),
                      sum(n for *_, o, n in created if o == MISSED))


def _ratings(rows: Iterable[tuple[Any, int, int]]) -> Ratings:
    scores = [0, 0, 0, 0, 0]
    for _, rating, n in rows:
        if 1 <= rating <= 5:
            scores[rating - 1] += n
    return Ratings((scores[0], scores[1], scores[2], scores[3], scores[4]))


def _agents(names: dict[int, str], ratings: list[tuple[int | None, int, int]],
            backlog: list[tuple[str, int, int | None, int]],
            closed: list[tuple[int | None, str, int]],
            response: dict[Any, queries.Spread]) -> tuple[AgentLine, ...]:
    open_by: dict[int | None, int] = defaultdict(int)
    for _, _, agent, n in backlog:
        open_by[agent] += n
    closed_by: dict[int | None, int] = defaultdict(int)
    for agent, _, n in closed:
        closed_by[agent] += n
    rated: dict[int | None, list[tuple[Any, int, int]]] = defaultdict(list)
    for row in ratings:
        rated[row[0]].append(row)
    lines = []
    for agent in set(open_by) | set(closed_by) | set(response) | set(rated):
        spread = response.get(agent)
        times = _times({0: spread} if spread else {})
        label = "-" if agent is None else names.get(agent, f"#{agent}")
        given = _ratings(rated[agent]) if agent in rated else NO_RATINGS
        lines.append(AgentLine(label, open_by[agent], closed_by[agent], times, given))
    return tuple(sorted(lines, key=lambda a: (a.agent == "-", a.agent)))


def _days(start: date, until: datetime) -> list[date]:
    """Every UTC day the period touches, from `start` to the day of `until` (if past its midnight)."""
    end = until.astimezone(UTC)
    last = end.date() if end.time() != time() else end.date() - timedelta(days=1)
    return [start + timedelta(days=i) for i in range((last - start).days + 1)]


Openings = list[tuple[str, str, str, str | None, int, bool, int]]


def _day_counts(since: datetime, until: datetime, openings: Openings,
                closures: list[tuple[int | None, str, int, bool, int]]) -> list[tuple[date, int, int]]:
    """Opened and closed per UTC day from the Monday of the period's first week (the weeks add them
    up; the days shown start at the period's first day, whole days)."""
    origin = monday_of(since)
    opened: dict[int, int] = defaultdict(int)
    for *_, day, _, n in openings:
        opened[day] += n
    closed: dict[int, int] = defaultdict(int)
    for *_, day, _, n in closures:
        closed[day] += n
    return [(d, opened.get(i, 0), closed.get(i, 0)) for i, d in enumerate(_days(origin.date(), until))]


def _weeks(days: list[tuple[date, int, int]], since: datetime, until: datetime,
           medians: dict[Any, queries.Spread]) -> tuple[Week, ...]:
    """The ISO weeks the period touches, whole weeks from the first Monday."""
    origin = monday_of(since).date()
    weeks = []
    for i in range(0, len(days), 7):
        spread, week = medians.get(i // 7), days[i:i + 7]
        median = spread.percentiles.get(50) if spread else None
        opened, closed = sum(o for _, o, _ in week), sum(c for _, _, c in week)
        weeks.append(Week(origin + timedelta(days=i), opened, closed, median))
    return tuple(weeks)
