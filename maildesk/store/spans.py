"""Time arithmetic in SQL that SQLite and PostgreSQL spell differently: seconds between two instants,
and which bucket (day, week) of a fixed length an instant falls in counted from an origin; the
larger of two values; and a column the SQLite planner is told not to look up by index.

The report aggregates in the database (docs/sla.md), so these run once per row inside a GROUP BY or
a window; both compile to plain SQL functions of each backend, never to a Python callback.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, literal_column
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


def _args(element: FunctionElement[Any], compiler: Any, **kw: Any) -> list[str]:
    return [compiler.process(arg, **kw) for arg in element.clauses]


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = _args(element, compiler, **kw)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_postgres(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = _args(element, compiler, **kw)
    # date_part, not EXTRACT: EXTRACT gives numeric since PostgreSQL 14, several times slower per row.
    return f"date_part('epoch', {later} - {earlier})"


@compiles(bucket_of, "sqlite")
def _bucket_sqlite(element: bucket_of, compiler: Any, **kw: Any) -> str:
    when, origin, seconds = _args(element, compiler, **kw)
    # Only instants at or after the origin are asked about, so integer division is the floor.
    return (f"((CAST(strftime('%s', {when}) AS INTEGER) - CAST(strftime('%s', {origin}) AS INTEGER))"
            f" / {seconds})")


@compiles(bucket_of, "postgresql")
def _bucket_postgres(element: bucket_of, compiler: Any, **kw: Any) -> str:
    when, origin, seconds = _args(element, compiler, **kw)
    return f"CAST(floor(date_part('epoch', {when} - {origin}) / {seconds}) AS INTEGER)"


class larger(FunctionElement[Any]):
    """The larger of two values, or the one that is not NULL; NULL only when both are."""

    inherit_cache = True
    name = "larger"

    def __init__(self, first: ColumnElement[Any], second: ColumnElement[Any]) -> None:
        super().__init__(first, second)
        self.type = first.type


@compiles(larger, "sqlite")
def _larger_sqlite(element: larger, compiler: Any, **kw: Any) -> str:
    first, second = _args(element, compiler, **kw)
    # SQLite's max() of several arguments is NULL when any is: each stands in for the other.
    return f"max(coalesce({first}, {second}), coalesce({second}, {first}))"


@compiles(larger, "postgresql")
def _larger_postgres(element: larger, compiler: Any, **kw: Any) -> str:
    first, second = _args(element, compiler, **kw)
    return f"greatest({first}, {second})"  # which leaves NULLs out itself


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


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: Any, **kw: Any) -> str:
    (column,) = _args(element, compiler, **kw)
    return f"+{column}"  # SQLite's documented way to take a term away from the index planner


@compiles(unindexed)
def _unindexed_other(element: unindexed, compiler: Any, **kw: Any) -> str:
    (column,) = _args(element, compiler, **kw)
    return column
