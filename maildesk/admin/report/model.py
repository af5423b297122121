"""The report's figures as frozen values: what the text, JSON, CSV and HTML forms all print."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

#: Backlog age buckets: (label, upper limit in days; None for the last, unbounded one).
AGE_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("< 1 day", 1), ("1-3 days", 3), ("3-7 days", 7), ("1-4 weeks", 28), ("> 4 weeks", None))
AUTO_REASONS = ("no_response", "resolved_timeout")
#: Satisfaction scores counted as good and as bad (3 is neither).
GOOD, BAD = (4, 5), (1, 2)


@dataclass(frozen=True)
class Times:
    """Durations in seconds from a ticket's creation: how many, mean, median and 90th percentile."""

    count: int
    mean: float | None
    median: float | None
    p90: float | None


NO_TIMES = Times(0, None, None, None)


@dataclass(frozen=True)
class Compliance:
    """SLA compliance of one group counted per ticket: a ticket met when it met every target it had,
    missed when it missed any; tickets with a target still open in time are not counted yet."""

    group: str
    met: int
    missed: int

    @property
    def percent(self) -> float | None:
        """Share of decided tickets that met all their targets, in percent."""
        total = self.met + self.missed
        return 100.0 * self.met / total if total else None


@dataclass(frozen=True)
class AgeRow:
    """Open tickets of one status, counted per age bucket (AGE_BUCKETS)."""

    status: str
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        """Tickets of this status in all buckets."""
        return sum(self.counts)


@dataclass(frozen=True)
class Ratings:
    """Satisfaction ratings (each rated ticket's latest) by score 1-5."""

    by_score: tuple[int, int, int, int, int]  # how many 1s, 2s, 3s, 4s and 5s

    @property
    def count(self) -> int:
        """How many ratings."""
        return sum(self.by_score)

    @property
    def good(self) -> int:
        """Ratings of 4 or 5."""
        return sum(self.by_score[s - 1] for s in GOOD)

    @property
    def bad(self) -> int:
        """Ratings of 1 or 2."""
        return sum(self.by_score[s - 1] for s in BAD)

    @property
    def rate(self) -> float | None:
        """Share of ratings that are good, in percent."""
        return 100.0 * self.good / self.count if self.count else None

    @property
    def mean(self) -> float | None:
        """The mean score."""
        return sum(s * n for s, n in enumerate(self.by_score, 1)) / self.count if self.count else None


NO_RATINGS = Ratings((0, 0, 0, 0, 0))


@dataclass(frozen=True)
class AgentLine:
    """One agent's workload (the assignee's), first response on tickets created in the period, and
    ratings given in the period; agent "-" stands for tickets nobody is assigned."""

    agent: str
    open_assigned: int
    closed: int
    first_response: Times
    ratings: Ratings


@dataclass(frozen=True)
class BreachLine:
    """A ticket that missed a target, and by how many seconds (None: that target was not missed)."""

    ticket_id: int
    subject: str
    first_response_late: float | None
    resolution_late: float | None

    @property
    def targets(self) -> str:
        """Which targets were missed."""
        names = [n for n, late in (("first response", self.first_response_late),
                                   ("resolution", self.resolution_late)) if late is not None]
        return " + ".join(names)

    @property
    def worst(self) -> float:
        """The larger lateness."""
        return max(v for v in (self.first_response_late, self.resolution_late) if v is not None)


@dataclass(frozen=True)
class Week:
    """One ISO week (from its Monday, UTC): opened, closed, median first response in seconds."""

    monday: date
    opened: int
    closed: int
    first_response_median: float | None

    @property
    def label(self) -> str:
        """The ISO week, e.g. 2026-W48."""
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class Volume:
    """Tickets created in the period in one category or queue."""

    name: str
    count: int


@dataclass(frozen=True)
class Report:
    """The figures for [since, until), made at `now`; `goal` is the SLA compliance a group must reach
    (in percent) not to be shown as a miss."""

    since: datetime
    until: datetime
    now: datetime
    goal: float
    opened: int
    closed: int
    auto_closed_by_reason: tuple[tuple[str, int], ...]
    first_response: Times
    resolution: Times
    backlog: tuple[AgeRow, ...]
    agents: tuple[AgentLine, ...]
    by_category: tuple[Volume, ...]
    by_queue: tuple[Volume, ...]
    compliance: Compliance
    # ("queue", (…)), ("category", (…)), ("priority", (…))
    compliance_by: tuple[tuple[str, tuple[Compliance, ...]], ...]
    breaches: tuple[BreachLine, ...]
    breached_total: int
    weeks: tuple[Week, ...]
    per_day: tuple[tuple[date, int, int], ...]  # (day, opened, closed)
    ratings: Ratings

    @property
    def auto_closed(self) -> int:
        """Tickets the sweep closed in the period."""
        return sum(n for _, n in self.auto_closed_by_reason)

    def meets_goal(self, compliance: Compliance) -> bool | None:
        """Whether the group reached the goal; None when it has no decided ticket."""
        percent = compliance.percent
        return None if percent is None else percent >= self.goal
