"""Instants the database hands back without their column type."""

from __future__ import annotations

from datetime import UTC, datetime


def aware(value: object) -> datetime | None:
    """`value` as an aware UTC datetime: aggregates such as func.min() bypass the column type, so
    SQLite hands back a naive string or datetime."""
    if value is None:
        return None
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(when, datetime)
    return when if when.tzinfo else when.replace(tzinfo=UTC)
