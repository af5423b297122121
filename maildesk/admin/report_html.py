"""The report as one self-contained HTML page with inline SVG charts (no scripts or fonts from the network).

The charts are drawn here, as plain SVG rectangles and text, so the page opens
offline in any browser and can be mailed or archived as a single file.
"""

from __future__ import annotations

from html import escape

from maildesk.admin.report import Compliance, Report, Times

_WIDTH, _LABEL, _ROW = 640, 150, 26
_COLORS = {"opened": "#3b6fb6", "closed": "#6aa84f", "met": "#6aa84f", "median": "#3b6fb6", "p90": "#e69138"}

# After loading, the page records the size of every bar it drew (a check for headless browsers;
# it changes nothing a reader sees).
_SELF_CHECK = """<script>
addEventListener("load", function () {
  var bars = document.querySelectorAll("svg.chart rect.bar");
  var sizes = Array.prototype.map.call(bars, function (r) {
    var b = r.getBoundingClientRect();
    return [Number(r.getAttribute("data-value")), Math.round(b.width), Math.round(b.height)];
  });
  document.body.setAttribute("data-charts", String(document.querySelectorAll("svg.chart").length));
  document.body.setAttribute("data-bars", JSON.stringify(sizes));
});
</script>"""


def render_html(report: Report, desk_name: str) -> str:
    """The whole page for `report`."""
    title = f"{desk_name}: report {report.since:%Y-%m-%d} – {report.until:%Y-%m-%d}"
    sections = [
        _summary(report),
        _section("Tickets opened and closed per day", _per_day(report)),
        _section("Working hours to first response and resolution", _times_chart(report)),
        *(_section(f"SLA compliance by {name}", _compliance_chart(groups))
          for name, groups in (("queue", report.by_queue), ("category", report.by_category),
                               ("priority", report.by_priority))),
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{escape(title)}</h1>{''.join(sections)}{_SELF_CHECK}</body></html>\n")


_CSS = ("body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left}"
        "svg.chart{display:block;margin:0.5em 0 1.5em}svg text{font-size:12px;fill:#222}")


def _section(title: str, body: str) -> str:
    return f"<h2>{escape(title)}</h2>{body}"


def _summary(report: Report) -> str:
    def h(v: float | None) -> str:
        return "–" if v is None else f"{v:.1f} h"

    reasons = ", ".join(f"{k}: {n}" for k, n in report.auto_closed_by_reason)
    rows = [("Opened", str(report.opened)), ("Closed", str(report.closed)),
            ("Auto-closed", f"{report.auto_closed} ({reasons})"),
            ("First response, median / p90",
             f"{h(report.first_response.median)} / {h(report.first_response.p90)}"),
            ("Resolution, median / p90", f"{h(report.resolution.median)} / {h(report.resolution.p90)}"),
            ("Satisfaction", report.satisfaction)]
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table class=\"summary\">{cells}</table>"


def _bar(x: float, y: float, w: float, h: float, color: str, value: float, tip: str) -> str:
    return (f"<rect class=\"bar\" data-value=\"{value:g}\" x=\"{x:.1f}\" y=\"{y:.1f}\" width=\"{w:.1f}\" "
            f"height=\"{h:.1f}\" fill=\"{color}\"><title>{escape(tip)}</title></rect>")


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return f"<text x=\"{x:.1f}\" y=\"{y:.1f}\" text-anchor=\"{anchor}\">{escape(text)}</text>"


def _svg(height: float, label: str, parts: list[str]) -> str:
    return (f"<svg class=\"chart\" role=\"img\" aria-label=\"{escape(label)}\" "
            f"xmlns=\"http://www.w3.org/2000/svg\" width=\"{_WIDTH}\" height=\"{height:.0f}\" "
            f"viewBox=\"0 0 {_WIDTH} {height:.0f}\">{''.join(parts)}</svg>")


def _hbars(label: str, rows: list[tuple[str, list[tuple[str, float]]]], scale: float, unit: str) -> str:
    """Horizontal bars: one row per group, one bar per series in the row."""
    span = _WIDTH - _LABEL - 60
    parts: list[str] = []
    y = 4.0
    for group, series in rows:
        parts.append(_text(4, y + _ROW / 2 + 4, group[:22]))
        height = (_ROW - 6) / max(1, len(series))
        for i, (name, value) in enumerate(series):
            w = span * value / scale if scale else 0.0
            top = y + i * height
            parts.append(_bar(_LABEL, top, max(w, 1.0 if value else 0.0), height - 1,
                              _COLORS.get(name, "#999"), value, f"{group} {name}: {value:.1f}{unit}"))
            parts.append(_text(_LABEL + w + 4, top + height - 3, f"{value:.1f}{unit}"))
        y += _ROW
    return _svg(y + 4, label, parts) if rows else "<p>No data.</p>"


def _times_chart(report: Report) -> str:
    def series(t: Times) -> list[tuple[str, float]]:
        return [(n, v) for n, v in (("median", t.median), ("p90", t.p90)) if v is not None]

    rows = [(name, series(t)) for name, t in (("first response", report.first_response),
                                              ("resolution", report.resolution)) if t.count]
    top = max((v for _, s in rows for _, v in s), default=0.0)
    return _hbars("working hours", rows, top, " h")


def _compliance_chart(groups: tuple[Compliance, ...]) -> str:
    return _hbars("SLA compliance", [(c.group, [("met", c.percent)]) for c in groups
                                     if c.percent is not None], 100.0, " %")


def _per_day(report: Report) -> str:
    days = report.per_day
    if not days:
        return "<p>No data.</p>"
    height, base = 180.0, 150.0
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
    parts.append(_text(30, height - 6, "blue: opened · green: closed"))
    return _svg(height, "tickets per day", parts)
