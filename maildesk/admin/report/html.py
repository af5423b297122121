"""The report as one self-contained HTML page with inline SVG charts (no scripts or fonts from the network).

The charts are drawn here, as plain SVG rectangles and text, so the page opens offline in any
browser and can be mailed or archived as a single file. Every chart carries its legend; SLA figures
are coloured by value against the goal (red below it), so a miss never hides in green.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from maildesk.admin.report.model import AGE_BUCKETS, Compliance, Report, Times
from maildesk.admin.report.text import duration, percent, ratings_line

_WIDTH, _LABEL, _ROW = 720, 170, 26
GREEN, RED = "#2e7d32", "#cc0000"
_COLORS = {"opened": "#3b6fb6", "closed": "#6aa84f", "median": "#3b6fb6", "mean": "#8e7cc3", "p90": "#e69138",
           "open assigned": "#3b6fb6", "good": GREEN, "bad": RED, **dict(zip(
               ("new", "open", "pending"), ("#e69138", "#3b6fb6", "#999999"), strict=True))}

# After loading, the page records every bar it drew (value, size, fill as the browser computed it),
# how many legends each chart has and the colour of every figure marked as a miss: a check for
# headless browsers that changes nothing a reader sees.
_SELF_CHECK = """<script>
addEventListener("load", function () {
  var charts = document.querySelectorAll("svg.chart");
  var bars = Array.prototype.map.call(document.querySelectorAll("svg.chart rect.bar"), function (r) {
    var b = r.getBoundingClientRect();
    return [Number(r.getAttribute("data-value")), Math.round(b.width), Math.round(b.height),
            getComputedStyle(r).fill, r.getAttribute("data-miss") === "1"];
  });
  var legends = Array.prototype.map.call(charts, function (c) {
    return c.querySelectorAll("g.legend text").length; });
  var misses = Array.prototype.map.call(document.querySelectorAll(".miss"), function (e) {
    return getComputedStyle(e).color; });
  document.body.setAttribute("data-charts", String(charts.length));
  document.body.setAttribute("data-bars", JSON.stringify(bars));
  document.body.setAttribute("data-legends", JSON.stringify(legends));
  document.body.setAttribute("data-misses", JSON.stringify(misses));
});
</script>"""

_CSS = ("body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:60em}"
        "table{border-collapse:collapse;margin:0.5em 0 1em}td,th{padding:2px 10px;text-align:left}"
        "td.n{text-align:right}tr:nth-child(even) td{background:#f4f4f4}"
        f".miss{{color:{RED};font-weight:bold}}.ok{{color:{GREEN}}}"
        "svg.chart{display:block;margin:0.5em 0 1.5em}svg text{font-size:12px;fill:#222}")


def render_html(report: Report, desk_name: str) -> str:
    """The whole page for `report`."""
    title = f"{desk_name}: report {report.since:%Y-%m-%d} – {report.until:%Y-%m-%d}"
    sections = [
        _summary(report),
        _section("Backlog: open tickets by age", _backlog(report)),
        _section("Agents", _agents(report)),
        _section("Tickets opened and closed per day", _per_day(report)),
        _section("Time to first response and resolution", _times_chart(report)),
        _section("Opened by category and by queue", _volume(report)),
        _section(f"SLA compliance per ticket (goal {report.goal:.0f}%)", _sla(report)),
        _section("Breached tickets", _breaches(report)),
        _section("Week over week", _weeks(report)),
        _section("Satisfaction", _satisfaction(report)),
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{escape(title)}</h1>{''.join(sections)}{_SELF_CHECK}</body></html>\n")


def _section(title: str, body: str) -> str:
    return f"<h2>{escape(title)}</h2>{body}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]],
           classes: Sequence[Sequence[str]] = ()) -> str:
    """An HTML table; `classes` gives each cell's class, row by row (numbers right-aligned by "n")."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        marks = classes[i] if i < len(classes) else [""] * len(row)
        cells = "".join(f"<td class=\"{m}\">{escape(v)}</td>" for v, m in zip(row, marks, strict=True))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>" if rows else "<p>None.</p>"


def _summary(report: Report) -> str:
    def times(t: Times) -> str:
        return f"{duration(t.median)} / {duration(t.p90)}"

    reasons = ", ".join(f"{k}: {n}" for k, n in report.auto_closed_by_reason)
    c = report.compliance
    rows = [("Opened", str(report.opened)), ("Closed", str(report.closed)),
            ("Auto-closed", f"{report.auto_closed} ({reasons})"),
            ("First response, median / p90", times(report.first_response)),
            ("Resolution, median / p90", times(report.resolution)),
            ("SLA compliance per ticket", f"{percent(c.percent)} (met {c.met}, missed {c.missed})"),
            ("Satisfaction", ratings_line(report.ratings))]
    sla = {True: "ok", False: "miss", None: ""}[report.meets_goal(report.compliance)]
    cells = "".join(f"<tr><th>{escape(k)}</th><td class=\"{sla if k.startswith('SLA') else ''}\">"
                    f"{escape(v)}</td></tr>" for k, v in rows)
    return f"<table class=\"summary\">{cells}</table>"


def _bar(x: float, y: float, w: float, h: float, color: str, value: float, tip: str,
         miss: bool = False) -> str:
    return (f"<rect class=\"bar\" data-value=\"{value:g}\" data-miss=\"{int(miss)}\" "
            f"x=\"{x:.1f}\" y=\"{y:.1f}\" width=\"{w:.1f}\""
            f" height=\"{h:.1f}\" fill=\"{color}\"><title>{escape(tip)}</title></rect>")


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return f"<text x=\"{x:.1f}\" y=\"{y:.1f}\" text-anchor=\"{anchor}\">{escape(text)}</text>"


def _legend(y: float, entries: Sequence[tuple[str, str]]) -> str:
    """One line of coloured squares with their names, at `y`."""
    parts, x = [], 4.0
    for name, color in entries:
        parts.append(f"<rect x=\"{x:.1f}\" y=\"{y - 10:.1f}\" width=\"10\" height=\"10\" fill=\"{color}\"/>")
        parts.append(_text(x + 14, y, name))
        x += 24 + 7 * len(name)
    return f"<g class=\"legend\">{''.join(parts)}</g>"


def _svg(height: float, label: str, parts: list[str], legend: Sequence[tuple[str, str]]) -> str:
    total = height + 22
    return (f"<svg class=\"chart\" role=\"img\" aria-label=\"{escape(label)}\" "
            f"xmlns=\"http://www.w3.org/2000/svg\" width=\"{_WIDTH}\" height=\"{total:.0f}\" "
            f"viewBox=\"0 0 {_WIDTH} {total:.0f}\">{''.join(parts)}{_legend(total - 6, legend)}</svg>")


Series = list[tuple[str, float, str, bool]]  # (series name, value, label printed, a miss?)


def _hbars(label: str, rows: list[tuple[str, Series]], scale: float,
           legend: Sequence[tuple[str, str]], colors: dict[str, str] = _COLORS) -> str:
    """Horizontal bars: one row per group, one bar per series in the row; misses drawn red."""
    if not rows:
        return "<p>No data.</p>"
    span, parts, y = _WIDTH - _LABEL - 90, [], 4.0
    for group, series in rows:
        parts.append(_text(4, y + _ROW / 2 + 4, group[:24]))
        height = (_ROW - 6) / max(1, len(series))
        for i, (name, value, shown, miss) in enumerate(series):
            w, top = (span * value / scale if scale else 0.0), y + i * height
            color = RED if miss else colors.get(name, "#999999")
            # A miss at 0% still shows a red stub: an empty row would read as "no data".
            stub = 3.0 if miss else 1.0 if value else 0.0
            parts.append(_bar(_LABEL, top, max(w, stub), height - 1, color, value,
                              f"{group} {name}: {shown}", miss))
            parts.append(_text(_LABEL + w + 4, top + height - 3, shown))
        y += _ROW
    return _svg(y + 4, label, parts, legend)


def _backlog(report: Report) -> str:
    header = ["status", *(label for label, _ in AGE_BUCKETS), "total"]
    rows = [[row.status, *map(str, row.counts), str(row.total)] for row in report.backlog]
    numbers = [[""] + ["n"] * (len(header) - 1)] * len(rows)
    chart_rows = [(label, [(row.status, float(row.counts[i]), str(row.counts[i]), False)
                           for row in report.backlog]) for i, (label, _) in enumerate(AGE_BUCKETS)]
    top = max((v for _, s in chart_rows for _, v, _, _ in s), default=0.0)
    legend = [(row.status, _COLORS[row.status]) for row in report.backlog]
    chart = _hbars("open tickets by age", chart_rows, top, legend) if top else "<p>No open tickets.</p>"
    return _table(header, rows, numbers) + chart


def _agents(report: Report) -> str:
    header = ["agent", "open assigned", "closed", "first response median", "mean", "ratings", "good"]
    rows = [[a.agent, str(a.open_assigned), str(a.closed), duration(a.first_response.median),
             duration(a.first_response.mean), str(a.ratings.count), percent(a.ratings.rate)]
            for a in report.agents]
    chart_rows = [(a.agent, [("open assigned", float(a.open_assigned), str(a.open_assigned), False),
                             ("closed", float(a.closed), str(a.closed), False)]) for a in report.agents]
    top = max((v for _, s in chart_rows for _, v, _, _ in s), default=0.0)
    legend = [("open assigned", _COLORS["open assigned"]), ("closed", _COLORS["closed"])]
    return _table(header, rows, [[""] + ["n"] * 6] * len(rows)) + _hbars("workload", chart_rows, top, legend)


def _times_chart(report: Report) -> str:
    rows = []
    for name, t in (("first response", report.first_response), ("resolution", report.resolution)):
        figures = (("median", t.median), ("mean", t.mean), ("p90", t.p90))
        series = [(n, v, duration(v), False) for n, v in figures if v is not None]
        if series:
            rows.append((f"{name} ({t.count})", series))
    top = max((v for _, s in rows for _, v, _, _ in s), default=0.0)
    legend = [(n, _COLORS[n]) for n in ("median", "mean", "p90")]
    return _hbars("time from creation", rows, top, legend)


def _volume(report: Report) -> str:
    charts = []
    for title, volumes in (("category", report.by_category), ("queue", report.by_queue)):
        rows = [(v.name, [("opened", float(v.count), str(v.count), False)]) for v in volumes]
        top = max((v.count for v in volumes), default=0)
        legend = [(f"opened, by {title}", _COLORS["opened"])]
        charts.append(_hbars(f"opened by {title}", rows, float(top), legend))
    return "".join(charts)


def _sla_rows(report: Report, groups: Sequence[Compliance]) -> list[tuple[str, Series]]:
    return [(c.group, [("met", c.percent, f"{percent(c.percent)} of {c.met + c.missed}",
                        not report.meets_goal(c))]) for c in groups if c.percent is not None]


def _sla(report: Report) -> str:
    legend = [(f"at or above {report.goal:.0f}%", GREEN), (f"below {report.goal:.0f}%", RED)]
    colors = {"met": GREEN}
    parts = [_hbars("SLA compliance", _sla_rows(report, [report.compliance]), 100.0, legend, colors)]
    for title, groups in report.compliance_by:
        parts.append(f"<h3>by {escape(title)}</h3>")
        parts.append(_hbars(f"SLA compliance by {title}", _sla_rows(report, groups), 100.0, legend, colors))
    return "".join(parts)


def _breaches(report: Report) -> str:
    shown = len(report.breaches)
    note = (f"<p>{report.breached_total} tickets missed a target"
            + (f"; the {shown} worst:" if report.breached_total > shown else ":") + "</p>")
    rows = [[f"#{b.ticket_id}", b.subject, b.targets, duration(b.first_response_late),
             duration(b.resolution_late)] for b in report.breaches]
    marks = [["", "", "", "miss" if b.first_response_late is not None else "",
              "miss" if b.resolution_late is not None else ""] for b in report.breaches]
    header = ["ticket", "subject", "missed", "first response late by", "resolution late by"]
    return note + _table(header, rows, marks) if rows else "<p>No ticket missed a target.</p>"


def _weeks(report: Report) -> str:
    rows = [[w.label, str(w.opened), str(w.closed), duration(w.first_response_median)] for w in report.weeks]
    chart_rows = [(w.label, [("opened", float(w.opened), str(w.opened), False),
                             ("closed", float(w.closed), str(w.closed), False)]) for w in report.weeks]
    top = max((v for _, s in chart_rows for _, v, _, _ in s), default=0.0)
    legend = [("opened", _COLORS["opened"]), ("closed", _COLORS["closed"])]
    header = ["week", "opened", "closed", "first response median"]
    table = _table(header, rows, [["", "n", "n", "n"]] * len(rows))
    return table + _hbars("week over week", chart_rows, top, legend)


def _satisfaction(report: Report) -> str:
    people = [("all", report.ratings)] + [(a.agent, a.ratings) for a in report.agents if a.ratings.count]
    rows = [[who, str(r.count), str(r.good), str(r.bad), percent(r.rate)] for who, r in people if r.count]
    chart_rows = [(who, [("good", float(r.good), str(r.good), False),
                         ("bad", float(r.bad), str(r.bad), False)]) for who, r in people if r.count]
    top = max((v for _, s in chart_rows for _, v, _, _ in s), default=0.0)
    legend = [("good (4-5)", GREEN), ("bad (1-2)", RED)]
    header = ["who", "ratings", "good", "bad", "good share"]
    table = _table(header, rows, [["", "n", "n", "n", "n"]] * len(rows))
    return table + (_hbars("ratings", chart_rows, top, legend) if top else "")


def _per_day(report: Report) -> str:
    days = report.per_day[-92:]  # a long period is drawn for its last three months; the tables have it all
    if not days:
        return "<p>No data.</p>"
    base = 150.0
    top = max(max(o, c) for _, o, c in days) or 1
    step = (_WIDTH - 40) / len(days)
    parts = [_text(4, 12, f"max {top}")]
    for i, (day, opened, closed) in enumerate(days):
        x = 30 + i * step
        for j, (name, value) in enumerate((("opened", opened), ("closed", closed))):
            h = (base - 20) * value / top
            parts.append(_bar(x + j * step / 2.4, base - h, max(step / 2.6, 1.0), h, _COLORS[name], value,
                              f"{day:%Y-%m-%d} {name}: {value}"))
        if len(days) <= 31:
            parts.append(_text(x + step / 3, base + 14, f"{day:%d}", "middle"))
    legend = [("opened", _COLORS["opened"]), ("closed", _COLORS["closed"])]
    return _svg(base + 20, "tickets per day", parts, legend)
