"""The report's queries: every figure of `maildesk report` aggregated in the database.

Each function runs a statement or a few (GROUP BY, a window for nearest-rank percentiles, or a walk
of an index to a rank) and hands back plain tuples whose number depends on the groups (statuses,
agents, days, queues), never on the number of tickets: a million-ticket desk costs scans in the
database, not rows in Python.
Spam is left out everywhere, as in every list of the desk.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, null, or_, select, true

from maildesk.store import sql
from maildesk.store.db import Session
from maildesk.store.outcomes import MISSED, missed_at, opened_groups, targets, unsettled
from maildesk.store.spans import bucket_of, larger, seconds_between, unindexed

_t, _e, _g = sql.tickets, sql.events, sql.agents
OPEN_STATUSES = ("new", "open", "pending")


@dataclass(frozen=True)
class Span:
    """The period [since, until) and the instant the report is made (for targets not yet due)."""

    since: datetime
    until: datetime
    now: datetime


@dataclass(frozen=True)
class Spread:
    """Durations in seconds of one group: how many, their mean, and the nearest-rank percentiles asked."""

    group: Any
    count: int
    mean: float
    percentiles: dict[int, float]


@dataclass(frozen=True)
class Breach:
    """A ticket that missed a target: seconds late per target (None: that target was met or is open)."""

    ticket_id: int
    subject: str
    first_response_late: float | None
    resolution_late: float | None


def _instant(value: datetime) -> ColumnElement[Any]:
    return literal(value, _t.c.created_at.type)


# Not spam is nearly every ticket: said as `IS NOT true`, which no index answers (as store/reads.py
# says it), so a period is a range of created_at's or closed_at's index (migration 0010). Said as
# `IS false`, SQLite without statistics (a desk never runs ANALYZE) would rather read every ticket
# that is not spam through ix_tickets_spam_status.
_NOT_SPAM = _t.c.spam.is_not(True)


def _created_in(since: datetime, until: datetime, by_index: bool = True) -> ColumnElement[bool]:
    """Not spam and created in [since, until); without `by_index` the range is kept from SQLite's
    planner, for a statement that reads another index in order and tests the period on each entry."""
    created = _t.c.created_at if by_index else unindexed(_t.c.created_at)
    return and_(_NOT_SPAM, created >= _instant(since), created < _instant(until))


def _closed_in(since: datetime, until: datetime) -> ColumnElement[bool]:
    return and_(_NOT_SPAM, _t.c.closed_at >= since, _t.c.closed_at < until)


#: PostgreSQL's memory per hash table for the report's transaction. At the default 4 MB it groups a
#: million tickets by sorting them on disk (its estimate of the groups is far above the few hundred
#: there are); with this it hashes them (bench/report.py --postgres: created groups 1.3 → 0.54 s).
POSTGRES_WORK_MEM = "16MB"


def prepare(session: Session) -> None:
    """Set the report's transaction up, before its first query: one snapshot for every statement
    (SQLite's read transaction is one already; PostgreSQL's default gives each statement its own,
    and a walk's rank must come from the count it was computed from), and on PostgreSQL room to
    hash its groups."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{POSTGRES_WORK_MEM}'")


Opening = tuple[str, str, str, str | None, int, bool, int]


def created_groups(session: Session, span: Span, origin: datetime) -> list[Opening]:
    """Tickets created in [origin, until) by (queue, category, priority, SLA outcome at `now`, UTC day
    from `origin`, whether in the period): volume, compliance, the opened count and the tickets opened per
    day and week all fold from these rows.

    One scan groups them by UTC date and settled outcome (store/outcomes.py), the order in which
    ix_tickets_opened holds them (migration 0012): SQLite, which groups only by sorting, reads the
    groups off that index without a sort (a million tickets: 1.5 → 0.3 s). A second statement finds
    the tickets with a target still open in time, which have no outcome yet at `now`."""
    keys, first = opened_groups(_t.c)[:5], origin.astimezone(UTC).date()
    day = keys[0]
    period = _created_in(origin, span.until, by_index=False)  # the range is the index's leading date
    conn, found = session.connection(), defaultdict[tuple[Any, ...], int](int)
    # The range of the index's leading date, on SQLite alone: PostgreSQL has no such index, and would
    # take the two ranges for independent and expect a few rows, then sort a million on disk.
    where = (and_(period, day >= first, day <= span.until.astimezone(UTC).date())
             if conn.dialect.name == "sqlite" else period)
    inside = func.sum(case((_t.c.created_at >= _instant(span.since), 1), else_=0))
    grouped = select(*keys, inside, func.count()).where(where).group_by(*keys)
    for d, q, c, p, o, n_in, n in map(tuple, conn.execute(grouped)):
        _count(found, (q, c, p, o, (d - first).days), int(n_in), int(n))
    # Settled, these said "missed"; at `now` they have no outcome yet: a target is open in time. Each
    # target's partial index of open ones finds them (migration 0010): tickets created within a
    # target's span of `now`, whatever the period holds. Their date is kept from the planner, which
    # would rather read the period off ix_tickets_opened for its order than sort these few.
    by = (unindexed(day), *keys[1:4])
    unsettled_now = select(*by, inside, func.count()).where(period, unsettled(_t.c, span.now)).group_by(*by)
    for d, q, c, p, n_in, n in map(tuple, conn.execute(unsettled_now)):
        _count(found, (q, c, p, MISSED, (d - first).days), -int(n_in), -int(n))
        _count(found, (q, c, p, None, (d - first).days), int(n_in), int(n))
    return [(q, c, p, o, d, i, n) for (q, c, p, o, d, i), n in found.items() if n]


def _count(found: dict[tuple[Any, ...], int], group: tuple[Any, ...], inside: int, total: int) -> None:
    """Add `total` tickets to `group`, `inside` of them created in the period."""
    found[(*group, True)] += inside
    found[(*group, False)] += total - inside


def closed_groups(session: Session, span: Span,
                  origin: datetime) -> list[tuple[int | None, str, int, bool, int]]:
    """Tickets closed in [origin, until) by (assignee id, close reason, UTC day from `origin`, whether
    in the period): the period's closures by agent and reason and the closures per day and week, from
    one scan."""
    day = bucket_of(_t.c.closed_at, _instant(origin), 86400).label("day")
    inside = case((_t.c.closed_at >= span.since, 1), else_=0).label("inside")
    stmt = (select(_t.c.assignee_id, _t.c.close_reason, day, inside, func.count())
            .where(_closed_in(origin, span.until))
            .group_by(_t.c.assignee_id, _t.c.close_reason, day, inside))
    return [(a, r, int(d), bool(i), int(n)) for a, r, d, i, n in session.connection().execute(stmt)]


def backlog(session: Session, now: datetime,
            ages: Sequence[datetime]) -> list[tuple[str, int, int | None, int]]:
    """Open tickets (new, open, pending) by (status, age bucket, assignee id). `ages` are the bucket
    limits newest first: bucket 0 is created after ages[0], the last is created at or before ages[-1]."""
    age = case(*((_t.c.created_at > limit, literal(i)) for i, limit in enumerate(ages)),
               else_=literal(len(ages))).label("age")
    stmt = (select(_t.c.status, age, _t.c.assignee_id, func.count())
            .where(_t.c.spam.is_(False), _t.c.status.in_(OPEN_STATUSES), _t.c.created_at <= now)
            .group_by(_t.c.status, age, _t.c.assignee_id))
    return [(s, int(b), a, int(n)) for s, b, a, n in session.connection().execute(stmt)]


FIGURES = ("first_response", "agent", "week", "resolution")


def _rank(n: Any, q: int) -> Any:
    """The nearest rank of the q-th percentile of `n` values, ceil(q% of n): on ints, or on columns."""
    return (n * q + 99) // 100


#: Past this many weeks from the first Monday, a walk's weekly figure is one window (a sort of the
#: period's rows) rather than a walk per week (each up to the length of the duration index).
WALKED_WEEKS_UP_TO = 8


def spreads(session: Session, span: Span, origin: datetime, qs: Sequence[int] = (50, 90),
            walk: bool = False, weeks: Collection[int] | None = None,
            agents: Collection[int] | None = None) -> dict[str, dict[Any, Spread]]:
    """Seconds from creation to the first response and to the resolution, with count, mean and
    nearest-rank percentiles: "first_response" and "resolution" over the tickets created in the
    period (group 0), "agent" per assignee, "week" per 7-day bucket from `origin` (a Monday before
    the period) over the tickets created since then. A percentile is the duration whose rank in its
    group is ceil(q% of the group's count).

    Two ways, the same figures: one statement ranking the period's rows in four windows (a sort of
    the period: a month of a large desk), or with `walk` each figure read off its duration index
    (migration 0011) at the ranks wanted (the length of the index, whatever the period holds: a
    period of most of a large desk). `weeks`, when known, are the only weeks with tickets: a walk
    skips the others; `agents` are the agents' ids when the caller has read them already."""
    if not walk:
        return _windowed(session, _base(span, origin, FIGURES), FIGURES, qs)
    period = (span.since, span.until)
    assignees = {a: _t.c.assignee_id == a for a in (agent_names(session) if agents is None else agents)}
    return {"first_response": _walked(session, period, "fr", qs),
            "resolution": _walked(session, period, "res", qs),
            "agent": _walked(session, period, "fr", qs, assignees | {None: _t.c.assignee_id.is_(None)}),
            "week": _weeks(session, span, origin, qs, weeks)}


def _weeks(session: Session, span: Span, origin: datetime, qs: Sequence[int],
           weeks: Collection[int] | None) -> dict[Any, Spread]:
    """The weekly figure of a walk: each week with tickets (all, when not known) walked, or one
    window past WALKED_WEEKS_UP_TO of them (a walk costs the index's length, a window the period's)."""
    count = -(-int((span.until - origin).total_seconds()) // (7 * 86400))
    walked = sorted(range(count) if weeks is None else {w for w in weeks if 0 <= w < count})
    if len(walked) > WALKED_WEEKS_UP_TO:
        return _windowed(session, _base(span, origin, ("week",)), ("week",), qs)["week"]
    found = {}
    for i in walked:
        week = (origin + timedelta(days=7 * i), min(origin + timedelta(days=7 * (i + 1)), span.until))
        for spread in _walked(session, week, "fr", qs).values():
            found[i] = replace(spread, group=i)
    return found


def _windowed(session: Session, base: Any, names: Sequence[str],
              qs: Sequence[int]) -> dict[str, dict[Any, Spread]]:
    found: dict[str, dict[Any, Spread]] = {name: {} for name in names}
    for row in session.connection().execute(_ranked(base, names, qs)).mappings():
        for name in names:
            if _counted_row(row, name):
                _place(found[name], row, name, qs)
    return found


def _duration(end: str) -> ColumnElement[Any]:
    """The expression migration 0011 indexes: seconds from creation to `end` ("fr" or "res")."""
    return seconds_between(_t.c.first_response_at if end == "fr" else _t.c.resolved_at, _t.c.created_at)


def _walked(session: Session, period: tuple[datetime, datetime], end: str, qs: Sequence[int],
            groups: dict[Any, ColumnElement[bool]] | None = None) -> dict[Any, Spread]:
    """Count, mean and percentiles of a duration over the tickets created in `period`, as one group
    (0) or per condition of `groups` (an equality on the leading column of the index: one run each)."""
    d = _duration(end)
    # Every statement is a range of the duration index (SQLite 3.40 does not take IS NOT NULL as one)
    # that tests spam and the period on each entry; the period is kept from the planner, which would
    # otherwise range over created_at's index and sort what it finds.
    ranged = and_(d >= literal(-math.inf), _created_in(*period, by_index=False))
    found = {}
    for key, condition in (groups or {0: true()}).items():
        own = and_(condition, ranged)
        n, mean = session.connection().execute(select(func.count(d), func.avg(d)).where(own)).one()
        if n:
            found[key] = _ranks(session, d, own, key, int(n), float(mean), qs)
    return found


def _ranks(session: Session, d: ColumnElement[Any], where: ColumnElement[bool], group: Any, n: int,
           mean: float, qs: Sequence[int]) -> Spread:
    """The durations at the wanted ranks of a group of `n`, each the k-th entry of the index in order:
    counted from the nearer end (the 90th percentile is the (n-k+1)-th from the top, a tenth of the
    walk)."""
    conn = session.connection()

    def kth(k: int) -> float:
        ordered = (select(d).where(where).order_by(d).limit(1).offset(k - 1) if k <= n - k
                   else select(d).where(where).order_by(d.desc()).limit(1).offset(n - k))
        return float(conn.execute(ordered).scalar_one())
    return Spread(group, n, mean, {q: kth(_rank(n, q)) for q in qs})


_NEEDS = {"first_response": ("p", "fr"), "agent": ("a", "p", "fr"), "week": ("w", "fr"),
          "resolution": ("p", "res")}


def _base(span: Span, origin: datetime, names: Sequence[str]) -> Any:
    """The rows the figures `names` rank, with only what they read: assignee (a), week (w), in the
    period (p: 1) or before it, the durations to the first response (fr) and to the resolution (res)."""
    ends = {"fr": _t.c.first_response_at, "res": _t.c.resolved_at}
    made: dict[str, Callable[[], ColumnElement[Any]]] = {
        "a": lambda: _t.c.assignee_id,
        "w": lambda: bucket_of(_t.c.created_at, _instant(origin), 7 * 86400),
        "p": lambda: case((_t.c.created_at >= span.since, 1), else_=0),
        "fr": lambda: seconds_between(ends["fr"], _t.c.created_at),
        "res": lambda: seconds_between(ends["res"], _t.c.created_at)}
    wanted = [c for c in ("a", "w", "p", "fr", "res") if any(c in _NEEDS[n] for n in names)]
    start = origin if "week" in names else span.since
    return select(*(made[c]().label(c) for c in wanted)).where(
        _created_in(start, span.until), or_(*(ends[c].is_not(None) for c in ("fr", "res") if c in wanted))
    ).subquery()


def _ranked(base: Any, names: Sequence[str], qs: Sequence[int]) -> Any:
    """The rows at the wanted ranks of the figures `names`, with each figure's count and mean."""
    b = base.c
    # Each figure: its groups (the period flag and NULL durations kept apart) and its duration.
    figures = {"first_response": lambda: ([b.p, b.fr.is_(None)], b.fr),
               "agent": lambda: ([b.p, b.fr.is_(None), b.a], b.fr),
               "week": lambda: ([b.fr.is_(None), b.w], b.fr),
               "resolution": lambda: ([b.p, b.res.is_(None)], b.res)}
    columns: list[Any] = list(b)
    for name in names:
        part, d = figures[name]()
        columns += [func.row_number().over(partition_by=part, order_by=d).label(f"{name}_rn"),
                    func.count().over(partition_by=part).label(f"{name}_n"),
                    func.avg(d).over(partition_by=part).label(f"{name}_mean")]
    r = select(*columns).subquery().c
    return select(*r).where(or_(*(
        and_(_counted(r, name), or_(*(r[f"{name}_rn"] == _rank(r[f"{name}_n"], q) for q in qs)))
        for name in names)))


def _place(into: dict[Any, Spread], row: Any, name: str, qs: Sequence[int]) -> None:
    """File a returned row under its group of figure `name`: count, mean, and the percentiles it is."""
    n, rank = int(row[f"{name}_n"]), int(row[f"{name}_rn"])
    group = row["a"] if name == "agent" else row["w"] if name == "week" else 0
    spread = into.setdefault(group, Spread(group, n, float(row[f"{name}_mean"]), {}))
    d = row["res" if name == "resolution" else "fr"]
    spread.percentiles.update({q: float(d) for q in qs if rank == _rank(n, q)})


def _counted(r: Any, name: str) -> ColumnElement[bool]:
    """Whether a row counts in the figure `name` (SQL side)."""
    d = r.res if name == "resolution" else r.fr
    return d.is_not(None) if name == "week" else and_(r.p == 1, d.is_not(None))


def _counted_row(row: Any, name: str) -> bool:
    """The same test on a row that came back."""
    d = row["res" if name == "resolution" else "fr"]
    return d is not None and (name == "week" or row["p"] == 1)


def breaches(session: Session, span: Span, limit: int) -> list[Breach]:
    """The `limit` tickets created in the period that missed a target by the most, worst first."""
    missed = missed_at(_t.c, span.now)
    late = [case((miss, seconds_between(func.coalesce(done, _instant(span.now)), due)), else_=null())
            for miss, (done, due) in zip(missed, targets(_t.c), strict=True)]
    # Which tickets missed is a comparison of instants; only those get their seconds late computed,
    # each once (bench/report.py, a million tickets in the period on SQLite: 1.1 → 0.6 s).
    stmt = (select(_t.c.id, _t.c.subject, late[0], late[1])
            .where(_created_in(span.since, span.until), or_(*missed))
            .order_by(larger(late[0], late[1]).desc(), _t.c.id).limit(limit))
    return [Breach(int(i), s, _float(a), _float(b)) for i, s, a, b in session.connection().execute(stmt)]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def ratings(session: Session, since: datetime, until: datetime) -> list[tuple[int | None, int, int]]:
    """Satisfaction ratings given in the period, each ticket's latest, by (assignee id, rating 1-5)."""
    latest = (select(func.max(_e.c.id)).where(_e.c.kind == "satisfaction", _e.c.at >= since, _e.c.at < until)
              .group_by(_e.c.ticket_id).scalar_subquery())
    rating = _e.c.detail["rating"].as_integer().label("rating")
    stmt = (select(_t.c.assignee_id, rating, func.count())
            .select_from(_e.join(_t, _t.c.id == _e.c.ticket_id))
            .where(_e.c.id.in_(latest)).group_by(_t.c.assignee_id, rating))
    return [(a, int(r), int(n)) for a, r, n in session.connection().execute(stmt)]


def agent_names(session: Session) -> dict[int, str]:
    """Every agent's id → email, for labels."""
    return {int(i): str(e) for i, e in session.connection().execute(select(_g.c.id, _g.c.email))}
