"""A ticket's SLA outcome as SQL, over any table's columns: the report's queries, the index that
holds the settled outcome in order (migration 0012) and the models all build it here, and a
database uses an index on an expression only for the very same expression.

A target (first response, resolution) with a due instant is missed when it was done late, or is not
done and already past due; it is open while not done and not yet due. A ticket has missed when any
target has, has met when it has targets and every one was met, and has no outcome yet while one is
open in time (or when it has none). The outcome "settled" is the one a ticket has once every open
target has fallen due: it depends on the row alone, not on the instant asked about, so an index can
hold it. It differs from the outcome at an instant only for tickets with a target still open then
(`unsettled`): those say "missed" settled and have no outcome yet at that instant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, literal, literal_column, null, or_

from maildesk.store.spans import utc_day

MET, MISSED = "met", "missed"


def targets(c: Any) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """(done, due) of the first response and of the resolution, from a table's columns `c`."""
    return (c.first_response_at, c.first_response_due), (c.resolved_at, c.resolution_due)


def _missed(done: Any, due: Any, now: Any) -> ColumnElement[bool]:
    """Done late, or not done and already past due."""
    return and_(due.is_not(None), or_(done > due, and_(done.is_(None), due <= now)))


def _open(done: Any, due: Any, now: Any) -> ColumnElement[bool]:
    return and_(due.is_not(None), done.is_(None), due > now)


def _any_open(c: Any, now: datetime | ColumnElement[Any]) -> ColumnElement[bool]:
    return or_(*(_open(done, due, now) for done, due in targets(c)))


def _has_targets(c: Any) -> ColumnElement[bool]:
    return or_(c.first_response_due.is_not(None), c.resolution_due.is_not(None))


def missed_at(c: Any, now: datetime | ColumnElement[Any]) -> list[ColumnElement[bool]]:
    """Whether each target (first response, resolution) was missed at `now`."""
    return [_missed(done, due, now) for done, due in targets(c)]


def outcome(c: Any, now: datetime | ColumnElement[Any]) -> ColumnElement[Any]:
    """The outcome at `now`: "missed", "met", or NULL (a target open in time, or no targets)."""
    return case(
        (or_(*missed_at(c, now)), literal(MISSED)),
        (_any_open(c, now), null()),
        (_has_targets(c), literal(MET)),
        else_=null())


def settled(c: Any) -> ColumnElement[Any]:
    """The outcome once every open target has fallen due: a target not done counts as missed. Its
    words are written into the SQL, not bound, so a query's expression is the index's."""
    late = or_(*(and_(due.is_not(None), or_(done.is_(None), done > due)) for done, due in targets(c)))
    return case((late, literal_column(f"'{MISSED}'")), (_has_targets(c), literal_column(f"'{MET}'")),
                else_=null())


def unsettled(c: Any, now: datetime | ColumnElement[Any]) -> ColumnElement[bool]:
    """A target open in time at `now` and none missed: settled says "missed", `now` says nothing yet.
    (Asked of the outcome, not as NOT missed: a comparison with a NULL instant is NULL, not false.)"""
    return and_(_any_open(c, now), outcome(c, now).is_(None))


def opened_groups(c: Any) -> list[ColumnElement[Any]]:
    """What ix_tickets_opened holds, in order (migration 0012, the models): the keys the report groups
    the created tickets by (UTC date, queue, category, priority, settled outcome), then every column
    its scan reads, so it never reads a ticket row."""
    return [utc_day(c.created_at), c.queue, c.category, c.priority, settled(c), c.spam, c.created_at,
            c.first_response_due, c.first_response_at, c.resolution_due, c.resolved_at]
