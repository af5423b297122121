"""The report as named tables (a header and rows), the one shape behind `--json` and `--csv DIR`.

Durations are whole seconds and shares are percents rounded to one decimal, so a spreadsheet can
compute with them; None (nothing to measure) is null in JSON and an empty cell in CSV.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from maildesk.admin.report.model import AGE_BUCKETS, Compliance, Ratings, Report, Times

Table = tuple[tuple[str, ...], list[tuple[Any, ...]]]


def _s(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _times(name: str, t: Times) -> list[tuple[Any, ...]]:
    return [(f"{name}_count", t.count), (f"{name}_mean_seconds", _s(t.mean)),
            (f"{name}_median_seconds", _s(t.median)), (f"{name}_p90_seconds", _s(t.p90))]


def _summary(r: Report) -> Table:
    rows: list[tuple[Any, ...]] = [("since", r.since.isoformat()), ("until", r.until.isoformat()),
                                   ("opened", r.opened), ("closed", r.closed), ("auto_closed", r.auto_closed)]
    rows += [(f"auto_closed_{reason}", n) for reason, n in r.auto_closed_by_reason]
    rows += _times("first_response", r.first_response) + _times("resolution", r.resolution)
    return ("metric", "value"), rows


def _ratings(who: str, ratings: Ratings) -> tuple[Any, ...]:
    return (who, *ratings.by_score, ratings.count, ratings.good, ratings.bad, _pct(ratings.rate))


def _compliance(dimension: str, c: Compliance, r: Report) -> tuple[Any, ...]:
    return (dimension, c.group, c.met, c.missed, _pct(c.percent), r.meets_goal(c))


def tables(r: Report) -> dict[str, Table]:
    """Every section as a table, in the order the page shows them."""
    return {
        "summary": _summary(r),
        "backlog": (("status", *(label for label, _ in AGE_BUCKETS), "total"),
                    [(row.status, *row.counts, row.total) for row in r.backlog]),
        "agents": (("agent", "open_assigned", "closed", "first_response_count",
                    "first_response_median_seconds", "first_response_mean_seconds", "ratings", "good", "bad",
                    "good_percent"),
                   [(a.agent, a.open_assigned, a.closed, a.first_response.count, _s(a.first_response.median),
                     _s(a.first_response.mean), a.ratings.count, a.ratings.good, a.ratings.bad,
                     _pct(a.ratings.rate)) for a in r.agents]),
        "volume": (("dimension", "name", "opened"),
                   [("category", v.name, v.count) for v in r.by_category]
                   + [("queue", v.name, v.count) for v in r.by_queue]),
        "sla": (("dimension", "group", "met", "missed", "percent", "meets_goal"),
                [_compliance("all", r.compliance, r)]
                + [_compliance(dim, c, r) for dim, groups in r.compliance_by for c in groups]),
        "breaches": (("ticket", "subject", "targets", "first_response_late_seconds",
                      "resolution_late_seconds"),
                     [(b.ticket_id, b.subject, b.targets, _s(b.first_response_late), _s(b.resolution_late))
                      for b in r.breaches]),
        "weeks": (("week", "monday", "opened", "closed", "first_response_median_seconds"),
                  [(w.label, w.monday.isoformat(), w.opened, w.closed, _s(w.first_response_median))
                   for w in r.weeks]),
        "per_day": (("day", "opened", "closed"), [(d.isoformat(), o, c) for d, o, c in r.per_day]),
        "satisfaction": (("agent", "rated_1", "rated_2", "rated_3", "rated_4", "rated_5", "ratings", "good",
                          "bad", "good_percent"),
                         [_ratings("all", r.ratings)]
                         + [_ratings(a.agent, a.ratings) for a in r.agents if a.ratings.count]),
    }


def as_document(r: Report) -> dict[str, Any]:
    """One JSON document: each table as a list of objects keyed by its header, plus the SLA goal, the
    report's instant and how many tickets breached in all (the breaches table lists the worst)."""
    doc: dict[str, Any] = {"now": r.now.isoformat(), "sla_goal_percent": r.goal,
                           "breached_total": r.breached_total}
    for name, (header, rows) in tables(r).items():
        doc[name] = [dict(zip(header, row, strict=True)) for row in rows]
    return doc


def write_csv(r: Report, folder: Path) -> list[Path]:
    """One CSV file per table in `folder` (made if missing), header row first; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (header, rows) in tables(r).items():
        path = folder / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            _write(out, header, rows)
        written.append(path)
    return written


def _write(out: Any, header: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
