"""`maildesk report` on a known data set: text figures, and the HTML page rendered in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ALICE, SECRET, DeskFactory
from test_sweep import SLA_CONFIG, agent_says, local, open_ticket, run_sweep

from maildesk.admin.report import build_report, format_text, percentile
from maildesk.admin.report_html import render_html
from maildesk.runtime.wiring import Runtime

SINCE, UNTIL = local(23, 0), local(25, 0)


@pytest.fixture
def desk(make_desk: DeskFactory) -> Runtime:
    """Three tickets on Monday 23 November in Astana office hours (2h first response, 16h resolution).

    #1 answered after 1h, resolved after 3h; #2 answered after 3h (missed), resolved Tuesday 9:00;
    #3 set pending after 30 minutes and auto-closed at 17:30.
    """
    rt = make_desk(SLA_CONFIG, agents=[ALICE], since=local(1, 9), secret=SECRET)
    one, two, three = (open_ticket(rt, local(23, 9), who=w) for w in ("ann", "ben", "cid"))
    agent_says(rt, one, "Restart it, please.", local(23, 10))
    agent_says(rt, one, "#resolve\nDone.", local(23, 12))
    agent_says(rt, two, "Looking.", local(23, 12))
    agent_says(rt, two, "#resolve\nFixed.", local(24, 9))
    agent_says(rt, three, "#pending\nWhich model?", local(23, 9, 30))
    run_sweep(rt, local(23, 17, 30))
    return rt


def test_percentile_is_nearest_rank() -> None:
    # The 90th percentile of ten values is the ninth; the median of three is the middle one.
    assert percentile([float(v) for v in range(1, 11)], 90) == 9.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([], 50) is None


def test_text_report_figures(desk: Runtime) -> None:
    # Known data set: 3 opened, 1 closed (auto), first response 0.5/1/3h, resolution 3/8.5/9h, SLA 5 of 6.
    report = build_report(desk.db, desk.desk.clock, SINCE, UNTIL, local(25, 0))
    assert (report.opened, report.closed, report.auto_closed) == (3, 1, 1)
    assert (report.first_response.median, report.first_response.p90) == (1.0, 3.0)
    assert (report.resolution.median, report.resolution.p90) == (8.5, 9.0)
    assert [(c.group, c.met, c.missed) for c in report.by_queue] == [("support", 5, 1)]
    assert [(c.group, c.met, c.missed) for c in report.by_priority] == [("normal", 5, 1)]
    text = format_text(report)
    assert "first response (working hours, 3 tickets): median 1.0h, p90 3.0h" in text
    assert "auto-closed 1 (no_response 1, resolved_timeout 0)" in text
    assert re.search(r"support\s+83%\s+met 5, missed 1", text)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but chromium is not installed (.ci/run installs Debian's package)")
    pytest.skip("chromium not installed")


def test_html_report_renders_charts_in_headless_chromium(desk: Runtime, tmp_path: Path) -> None:
    # The page opens offline in headless Chromium, and every non-zero bar of its 5 charts has a size.
    report = build_report(desk.db, desk.desk.clock, SINCE, UNTIL, local(25, 0))
    page = tmp_path / "report.html"
    page.write_text(render_html(report, "Example Support"), encoding="utf-8")
    assert "http://" not in page.read_text().replace("http://www.w3.org/2000/svg", "")
    profile = tmp_path / "chromium-profile"
    result = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--virtual-time-budget=2000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    charts = re.search(r'data-charts="(\d+)"', result.stdout)
    bars = re.search(r'data-bars="([^"]*)"', result.stdout)
    assert charts and bars, result.stdout[-2000:]
    assert int(charts[1]) == 5
    sizes = json.loads(bars[1].replace("&quot;", '"'))
    drawn = [(w, h) for value, w, h in sizes if value > 0]
    assert len(drawn) >= 8
    assert all(w > 0 and h > 0 for w, h in drawn)


def test_report_cli_writes_the_page(desk: Runtime, tmp_path: Path) -> None:
    # `maildesk report --since --until --html FILE` prints the figures and writes the page.
    page = tmp_path / "out.html"
    result = subprocess.run(
        [sys.executable, "-m", "maildesk", "--config", str(desk.settings.path), "report",
         "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(), "--html", str(page)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "opened 3" in result.stdout and page.read_text().count("<svg") == 5
