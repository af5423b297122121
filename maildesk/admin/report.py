"""`maildesk report`: tickets opened and closed, response and resolution times in working hours,
SLA compliance by queue, category and priority, and auto-closures, for a period."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from maildesk.policy.calendar import working_between
from maildesk.store import reads
from maildesk.store.db import Database
from maildesk.store.reads import ReportRow
from maildesk.tickets.clock import TicketClock

AUTO_REASONS = ("no_response", "resolved_timeout")


@dataclass(frozen=True)
class Times:
    """Durations in working hours: how many, the median and the 90th percentile (None when empty)."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Compliance:
    """SLA targets met and missed for one group (a queue, a category or a priority)."""

    group: str
    met: int
    missed: int

    @property
    def percent(self) -> float | None:
        """Share of decided targets that were met, in percent."""
        total = self.met + self.missed
        return 100.0 * self.met / total if total else None


@dataclass(frozen=True)
class Report:
    """The figures for [since, until)."""

    since: datetime
    until: datetime
    opened: int
    closed: int
    auto_closed: int
    auto_closed_by_reason: tuple[tuple[str, int], ...]
    first_response: Times
    resolution: Times
    by_queue: tuple[Compliance, ...]
    by_category: tuple[Compliance, ...]
    by_priority: tuple[Compliance, ...]
    per_day: tuple[tuple[date, int, int], ...]  # (day, opened, closed)
    ratings: tuple[int, ...] = ()  # each ticket's satisfaction rating given in the period, 1-5

    @property
    def satisfaction(self) -> str:
        """The ratings in one line: how many, their mean, and how many of each score."""
        if not self.ratings:
            return "no ratings"
        spread = ", ".join(f"{s}: {self.ratings.count(s)}" for s in range(5, 0, -1) if s in self.ratings)
        mean = sum(self.ratings) / len(self.ratings)
        return f"{len(self.ratings)} ratings, mean {mean:.1f} of 5 ({spread})"


def period(since: datetime | None, until: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """The report period: until defaults to now, since to 30 days before until."""
    end = until or now
    return since or end - timedelta(days=30), end


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile `q` (0-100) of `values`; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _times(values: list[float]) -> Times:
    return Times(len(values), percentile(values, 50), percentile(values, 90))


def build_report(db: Database, clock: TicketClock, since: datetime, until: datetime,
                 now: datetime) -> Report:
    """Compute the report from the tickets created or closed in the period."""
    with db.reading() as session:
        rows = reads.report_rows(session, since, until)
        ratings = tuple(reads.ratings(session, since, until).values())
    created = [r for r in rows if since <= r.created_at < until]
    closed = [r for r in rows if r.closed_at is not None and since <= r.closed_at < until]
    auto = [r for r in closed if r.close_reason in AUTO_REASONS]

    def hours(r: ReportRow, end: datetime | None) -> float | None:
        if end is None:
            return None
        return working_between(clock.calendar_for(r.queue), r.created_at, end) / timedelta(hours=1)

    return Report(
        since=since, until=until, opened=len(created), closed=len(closed), auto_closed=len(auto),
        auto_closed_by_reason=tuple((k, sum(1 for r in auto if r.close_reason == k)) for k in AUTO_REASONS),
        first_response=_times(_present(hours(r, r.first_response_at) for r in created)),
        resolution=_times(_present(hours(r, r.resolved_at) for r in created)),
        by_queue=_compliance(created, lambda r: r.queue or "-", now),
        by_category=_compliance(created, lambda r: r.category, now),
        by_priority=_compliance(created, lambda r: r.priority, now),
        per_day=_per_day(created, closed, since, until),
        ratings=ratings,
    )


def _present(values: Iterable[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def _compliance(rows: list[ReportRow], key: Callable[[ReportRow], str],
                now: datetime) -> tuple[Compliance, ...]:
    """Each target with a due time counts once it is decided: met (done by the due time) or missed
    (done late, or not done and the due time passed). Open targets still in time are left out."""
    tally: dict[str, list[int]] = {}
    for r in rows:
        for done, due in ((r.first_response_at, r.first_response_due), (r.resolved_at, r.resolution_due)):
            if due is None or (done is None and now < due):
                continue
            met = done is not None and done <= due
            tally.setdefault(key(r), [0, 0])[0 if met else 1] += 1
    return tuple(Compliance(g, m, x) for g, (m, x) in sorted(tally.items()))


def _per_day(created: list[ReportRow], closed: list[ReportRow], since: datetime,
             until: datetime) -> tuple[tuple[date, int, int], ...]:
    days: dict[date, list[int]] = {}
    day = since.date()
    while day < until.date() or (day == until.date() and until.time() != datetime.min.time()):
        days[day] = [0, 0]
        day += timedelta(days=1)
        if len(days) > 366:  # a long period is summed, not drawn day by day
            break
    for r in created:
        days.setdefault(r.created_at.date(), [0, 0])[0] += 1
    for r in closed:
        assert r.closed_at is not None
        days.setdefault(r.closed_at.date(), [0, 0])[1] += 1
    return tuple((d, o, c) for d, (o, c) in sorted(days.items()))


def format_text(report: Report) -> str:
    """The report as plain text for the terminal."""
    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f}h"

    lines = [f"period {report.since:%Y-%m-%d %H:%M} – {report.until:%Y-%m-%d %H:%M} UTC",
             f"opened {report.opened}", f"closed {report.closed}",
             f"auto-closed {report.auto_closed} (" + ", ".join(f"{k} {n}" for k, n in
                                                            report.auto_closed_by_reason) + ")",
             f"satisfaction: {report.satisfaction}"]
    for name, t in (("first response", report.first_response), ("resolution", report.resolution)):
        lines.append(f"{name} (working hours, {t.count} tickets): median {fmt(t.median)}, p90 {fmt(t.p90)}")
    for title, groups in (("queue", report.by_queue), ("category", report.by_category),
                          ("priority", report.by_priority)):
        lines.append(f"SLA compliance by {title}:")
        lines += [f"  {c.group:<16} {_pct(c.percent):>6}  met {c.met}, missed {c.missed}" for c in groups]
        if not groups:
            lines.append("  (no SLA targets decided)")
    return "\n".join(lines) + "\n"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"
