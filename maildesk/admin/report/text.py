"""The report as plain text for the terminal, and the units every form of it prints durations in."""

from __future__ import annotations

from maildesk.admin.report.model import AGE_BUCKETS, Compliance, Ratings, Report, Times


def duration(seconds: float | None) -> str:
    """A duration a reader takes in at once: seconds under a minute, minutes under an hour, hours
    under two days, then days (never "0.0 h" for a four-minute answer)."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def percent(value: float | None) -> str:
    """A share in whole percent, "-" when there is nothing to divide."""
    return "-" if value is None else f"{value:.0f}%"


def ratings_line(ratings: Ratings) -> str:
    """The ratings in one line: how many, the mean, how many of each score, good and bad."""
    if not ratings.count:
        return "no ratings"
    spread = ", ".join(f"{s}: {ratings.by_score[s - 1]}" for s in range(5, 0, -1) if ratings.by_score[s - 1])
    return (f"{ratings.count} ratings, mean {ratings.mean:.1f} of 5 ({spread}); good {ratings.good}, "
            f"bad {ratings.bad}, {percent(ratings.rate)} good")


def _times(name: str, t: Times) -> str:
    return (f"{name} ({t.count} tickets): median {duration(t.median)}, mean {duration(t.mean)}, "
            f"p90 {duration(t.p90)}")


def _compliance(c: Compliance, report: Report) -> str:
    mark = {True: "", False: "  BELOW GOAL", None: ""}[report.meets_goal(c)]
    return f"  {c.group:<16} {percent(c.percent):>6}  met {c.met}, missed {c.missed}{mark}"


def format_text(report: Report) -> str:
    """Every section, one screen per section at most (the breaches list is the longest)."""
    lines = [f"period {report.since:%Y-%m-%d %H:%M} – {report.until:%Y-%m-%d %H:%M} UTC",
             f"opened {report.opened}", f"closed {report.closed}",
             f"auto-closed {report.auto_closed} (" + ", ".join(f"{k} {n}" for k, n in
                                                            report.auto_closed_by_reason) + ")",
             f"satisfaction: {ratings_line(report.ratings)}",
             _times("first response", report.first_response), _times("resolution", report.resolution),
             "backlog (open tickets by age): " + " | ".join(label for label, _ in AGE_BUCKETS)]
    lines += [f"  {row.status:<8} " + " ".join(f"{n:>6}" for n in row.counts) + f"  total {row.total}"
              for row in report.backlog]
    lines.append("agents: open assigned, closed in period, first response median/mean, ratings")
    lines += [f"  {a.agent:<24} open {a.open_assigned}, closed {a.closed}, first response "
              f"{duration(a.first_response.median)}/{duration(a.first_response.mean)}, "
              f"{ratings_line(a.ratings)}" for a in report.agents]
    for title, volumes in (("category", report.by_category), ("queue", report.by_queue)):
        lines.append(f"opened by {title}: " + (", ".join(f"{v.name} {v.count}" for v in volumes) or "none"))
    lines.append(f"SLA compliance per ticket (goal {report.goal:.0f}%):")
    lines.append(_compliance(report.compliance, report))
    for title, groups in report.compliance_by:
        lines.append(f"SLA compliance by {title}:")
        lines += [_compliance(c, report) for c in groups] or ["  (no ticket decided)"]
    shown = len(report.breaches)
    lines.append(f"breached tickets: {report.breached_total}"
                 + (f" (the {shown} worst)" if report.breached_total > shown else ""))
    lines += [f"  #{b.ticket_id:<8} {b.targets:<28} late {duration(b.worst):>8}  {b.subject[:60]}"
              for b in report.breaches]
    lines.append("weeks: opened, closed, first response median")
    lines += [f"  {w.label}  opened {w.opened}, closed {w.closed}, {duration(w.first_response_median)}"
              for w in report.weeks]
    return "\n".join(lines) + "\n"
