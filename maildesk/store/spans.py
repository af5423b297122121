"""Time arithmetic in SQL that SQLite and PostgreSQL spell differently: seconds between two instants,
which bucket (day, week) of a fixed length an instant falls in counted from an origin, the UTC date
of an instant; the larger of two values; and a column the SQLite planner is told not to look up by
index.

The report aggregates in the database (docs/sla.md), so these run once per row inside a GROUP BY or
a window; both compile to plain SQL functions of each backend, never to a Python callback.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Dialect, Float, Integer, String, TypeDecorator, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement[float]):  # named as the SQL it stands for
    """`later - earlier` in seconds, as a float."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"

    def __init__(self, later: ColumnElement[Any], earlier: ColumnElement[Any]) -> None:
        super().__init__(later, earlier)


class bucket_of(FunctionElement[int]):
    """Which bucket of `seconds` an instant falls in, counted from `origin` (bucket 0 starts there).

    Whole seconds on both backends, so an instant exactly on a boundary lands in the later bucket
    (a float julianday difference could put midnight a hair before it)."""

    type = Integer()
    inherit_cache = True
    name = "bucket_of"

    def __init__(self, when: ColumnElement[Any], origin: ColumnElement[Any], seconds: int) -> None:
        # The length is a clause, not an attribute: the statement cache keys on clauses, so a day and
        # a week must differ there or one would run the other's compiled SQL.
        super().__init__(when, origin, literal_column(str(int(seconds))))


_EPOCH = date(1970, 1, 1)


class _UtcDate(TypeDecorator[date]):
    """A date as each backend's utc_day gives it: SQLite's date() text, PostgreSQL's day number."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: date | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value.isoformat() if dialect.name == "sqlite" else (value - _EPOCH).days

    def process_result_value(self, value: Any, dialect: Dialect) -> date | None:
        if value is None:
            return None
        return date.fromisoformat(value) if isinstance(value, str) else _EPOCH + timedelta(days=int(value))


class utc_day(FunctionElement[date]):
    """The UTC date of an instant, a date in Python. An expression an index can hold (the report's
    created tickets, migration 0012), unlike a bucket counted from an origin."""

    type = _UtcDate()
    inherit_cache = True
    name = "utc_day"

    def __init__(self, when: ColumnElement[Any]) -> None:
        super().__init__(when)


class larger(FunctionElement[Any]):
    """The larger of two values, or the one that is not NULL; NULL only when both are."""

    inherit_cache = True
    name = "larger"

    def __init__(self, first: ColumnElement[Any], second: ColumnElement[Any]) -> None:
        super().__init__(first, second)
        self.type = first.type


class unindexed(FunctionElement[Any]):  # named as what it asks of the planner
    """The column itself, marked on SQLite so the planner does not pick an index for this term.

    The report's walks (store/report.py) read a duration index in order and test the period on each
    entry; without stats SQLite would rather range over `created_at`'s index and sort. PostgreSQL
    plans from its statistics and gets the bare column."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column: ColumnElement[Any]) -> None:
        super().__init__(column)
        self.type = column.type


#: Each construct as each backend spells it, its arguments in order as {0}, {1}, {2}; None is the
#: spelling for any other backend.
SPELLINGS: dict[type[FunctionElement[Any]], dict[str | None, str]] = {
    seconds_between: {
        "sqlite": "((julianday({0}) - julianday({1})) * 86400.0)",
        # date_part, not EXTRACT: EXTRACT gives numeric since PostgreSQL 14, several times slower per row.
        "postgresql": "date_part('epoch', {0} - {1})"},
    bucket_of: {
        # Only instants at or after the origin are asked about, so integer division is the floor.
        "sqlite": "((CAST(strftime('%s', {0}) AS INTEGER) - CAST(strftime('%s', {1}) AS INTEGER)) / {2})",
        "postgresql": "CAST(floor(date_part('epoch', {0} - {1}) / {2}) AS INTEGER)"},
    utc_day: {
        # Instants are stored as UTC text (store.dates.UtcDateTime); date() keeps a day's last
        # microsecond in its day, where strftime('%s') and julianday() round to the next one.
        "sqlite": "date({0})",
        # Days since 1970-01-01: AT TIME ZONE and a cast to date cost 0.23 s more per million rows.
        "postgresql": "CAST(floor(date_part('epoch', {0}) / 86400) AS INTEGER)"},
    larger: {
        # SQLite's max() of several arguments is NULL when any is: each stands in for the other.
        "sqlite": "max(coalesce({0}, {1}), coalesce({1}, {0}))",
        "postgresql": "greatest({0}, {1})"},  # which leaves NULLs out itself
    unindexed: {
        "sqlite": "+{0}",  # SQLite's documented way to take a term away from the index planner
        None: "{0}"},
}


def _spell(construct: type[FunctionElement[Any]], dialect: str | None, template: str) -> None:
    def compile_(element: FunctionElement[Any], compiler: Any, **kw: Any) -> str:
        return template.format(*(compiler.process(arg, **kw) for arg in element.clauses))
    compiles(construct, *([dialect] if dialect else []))(compile_)


for _construct, _spellings in SPELLINGS.items():
    for _dialect, _template in _spellings.items():
        _spell(_construct, _dialect, _template)
