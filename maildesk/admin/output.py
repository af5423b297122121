"""What the commands print: JSON as every `--json` prints it, and plain-text tables (a header row
of titles, then one padded line per row)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


def as_json(value: Any) -> str:
    """Indented, non-ASCII as it is, instants in ISO 8601, one newline at the end."""
    return json.dumps(value, ensure_ascii=False, indent=2, default=_iso) + "\n"


def _iso(value: Any) -> str:
    isoformat = getattr(value, "isoformat", None)
    if isoformat is None:
        raise TypeError(f"{type(value).__name__} is not JSON")
    return str(isoformat())


@dataclass(frozen=True)
class Column:
    """A column: its title and width (0: the last column, as long as it is), right-aligned or not."""

    title: str
    width: int = 0
    right: bool = False


def table_line(columns: Sequence[Column], cells: Sequence[str]) -> str:
    """One row: each cell padded to its column's width, one space between columns."""
    padded = [cell.rjust(c.width) if c.right else cell.ljust(c.width)
              for c, cell in zip(columns, cells, strict=True)]
    return " ".join(padded).rstrip()


def table_lines(columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> list[str]:
    """The header row (the titles), then one line per row."""
    return [table_line(columns, [c.title for c in columns]), *(table_line(columns, row) for row in rows)]
