"""`maildesk report` on a desk built through the real pipeline: every aggregate the database computes
equals the same figure computed in Python from the rows, on SQLite and on PostgreSQL; the JSON and
CSV forms; the HTML page rendered in headless Chromium, misses in red."""

from __future__ import annotations

import csv
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ALICE, BOB, SECRET, DeskFactory, make_mail, query, receive, sent, statements_sent, token
from servers import postgres_server  # noqa: F401
from sqlalchemy import Float, cast, insert, literal, select
from test_sweep import SLA_CONFIG, local, run_sweep

from maildesk.admin.report import build_report
from maildesk.admin.report.build import monday_of
from maildesk.admin.report.html import render_html
from maildesk.admin.report.model import AGE_BUCKETS, Report
from maildesk.runtime.wiring import Runtime
from maildesk.store import report as queries
from maildesk.store import sql
from maildesk.store.dates import UtcDateTime
from maildesk.store.spans import larger, utc_day

SINCE, UNTIL, NOW = local(16, 0), local(26, 0), local(25, 9, 30)
CONFIG = SLA_CONFIG + """
[[queues]]
name = "it"
addresses = ["it@example.org"]
calendar = "astana"

[[categories]]
name = "hardware"

[[categories]]
name = "access"

[satisfaction]
enabled = true
"""
AGENTS = {1: "alice@example.org", 2: "bob@example.org"}


def opens(rt: Runtime, who: str, when: datetime, queue: str = "support@example.org") -> int:
    out = receive(rt, make_mail(sender=f"{who} <{who}@client.example>", to=queue, subject=f"Help {who}",
                                message_id=f"{who}-1"), f"{who}@client.example", rcpt=queue, when=when)
    assert out.ticket_id is not None
    return int(out.ticket_id)


def agent(rt: Runtime, ticket: int, who: int, body: str, when: datetime) -> None:
    raw = make_mail(sender=AGENTS[who], to=token(ticket, who), subject=f"Re: [#{ticket}] Help", body=body,
                    message_id=f"agent-{ticket}-{when:%d%H%M}")
    receive(rt, raw, AGENTS[who], when=when)


def rates(rt: Runtime, who: str, text: str, when: datetime) -> None:
    (survey,) = [m for m in sent(rt, "survey") if f"{who}@client.example" in str(m["To"])]
    receive(rt, make_mail(sender=f"{who}@client.example", subject=f"Re: {survey['Subject']}", body=text,
                          message_id=f"{who}-rating", In_Reply_To=str(survey["Message-ID"])),
            f"{who}@client.example", when=when)


@pytest.fixture(params=["sqlite", "postgres"])
def desk(request: pytest.FixtureRequest, make_desk: DeskFactory) -> Runtime:
    """Two agents, two queues, two categories, surveys on; Monday 23 November in Astana office hours
    (first response 2h, resolution 16h):
    #1 ann, older (Tuesday 17th), never answered: both targets missed, still open (backlog > 1 week);
    #2 bea: Alice takes it, hardware, answers in 1h, resolves in 3h: met; bea rates 5;
    #3 cal: Bob takes it, priority high, answers in 3h (missed), resolves Tuesday 9:00; cal rates 1 then 2;
    #4 dan (queue it): Alice sets it pending after 30 minutes, the sweep auto-closes it at 17:55;
    #5 eva (queue it): Bob takes it, access, never answers: both targets missed;
    #6 fay: opened Tuesday 17:00, its first response not due yet at the report's instant (Wed 9:30)."""
    extra = CONFIG
    if request.param == "postgres":
        extra += f'[database]\nurl = "{request.getfixturevalue("postgres_server").new_database()}"\n'
    rt = make_desk(extra, agents=[ALICE, BOB], since=local(1, 9), secret=SECRET, aliases='["it@example.org"]')
    opens(rt, "ann", local(17, 10))
    two, three = opens(rt, "bea", local(23, 9)), opens(rt, "cal", local(23, 9, 5))
    four, five = opens(rt, "dan", local(23, 9, 10), "it@example.org"), opens(rt, "eva", local(23, 9, 15),
                                                                            "it@example.org")
    agent(rt, two, 1, "#assign me\n#category hardware\nRestart it, please.", local(23, 10))
    agent(rt, two, 1, "#resolve\nDone.", local(23, 12))
    rates(rt, "bea", "5", local(23, 13))
    agent(rt, three, 2, "#assign me\n#priority high\nLooking.", local(23, 12, 5))
    agent(rt, three, 2, "#resolve\nFixed.", local(24, 9))
    rates(rt, "cal", "1", local(24, 10))
    rates(rt, "cal", "2 - on second thought", local(24, 11))
    agent(rt, four, 1, "#pending\nWhich model?", local(23, 9, 40))
    agent(rt, five, 2, "#assign me\n#category access", local(23, 9, 20))
    run_sweep(rt, local(23, 17, 55))
    opens(rt, "fay", local(24, 17))
    return rt


def when(value: object) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


COLUMNS = ("id", "subject", "status", "priority", "category", "queue", "assignee_id", "close_reason", "created_at",
           "closed_at", "first_response_at", "first_response_due", "resolved_at", "resolution_due")


def rows(rt: Runtime) -> list[dict[str, Any]]:
    found = query(rt.settings, f"select {', '.join(COLUMNS)} from tickets where spam = ?", False)
    return [{k: (when(v) if k.endswith(("_at", "_due")) else v) for k, v in zip(COLUMNS, r, strict=True)}
            for r in found]


def nearest(values: list[float], q: int) -> float | None:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] if ordered else None


def missed(done: datetime | None, due: datetime | None) -> bool:
    return due is not None and (done > due if done is not None else due <= NOW)


def verdict(t: dict[str, Any]) -> str | None:
    targets = [(t["first_response_at"], t["first_response_due"]), (t["resolved_at"], t["resolution_due"])]
    if any(missed(done, due) for done, due in targets):
        return "missed"
    if any(due is not None and done is None for done, due in targets) or all(due is None for _, due in targets):
        return None
    return "met"


def late(done: datetime | None, due: datetime | None) -> float | None:
    return ((done or NOW) - due).total_seconds() if missed(done, due) else None


def test_percentiles_and_per_ticket_compliance_equal_python_from_rows(desk: Runtime) -> None:
    # Opened, closed, times, volume, SLA per ticket and the breach list: database figures = Python over rows.
    report, tickets = build_report(desk.db, SINCE, UNTIL, NOW), rows(desk)
    new = [t for t in tickets if SINCE <= t["created_at"] < UNTIL]
    closed = [t for t in tickets if t["closed_at"] and SINCE <= t["closed_at"] < UNTIL]
    assert (report.opened, report.closed) == (len(new), len(closed)) == (6, 1)
    assert dict(report.auto_closed_by_reason) == {"no_response": 1, "resolved_timeout": 0}
    for times, end in ((report.first_response, "first_response_at"), (report.resolution, "resolved_at")):
        spans = [(t[end] - t["created_at"]).total_seconds() for t in new if t[end]]
        assert (times.count, times.median, times.p90) == pytest.approx(
            (len(spans), nearest(spans, 50), nearest(spans, 90)), abs=0.01)
        assert times.mean == pytest.approx(sum(spans) / len(spans), abs=0.01)
    assert {v.name: v.count for v in report.by_category} == Counter(t["category"] for t in new)
    assert {v.name: v.count for v in report.by_queue} == Counter(t["queue"] for t in new)
    verdicts = Counter(verdict(t) for t in new)
    assert (report.compliance.met, report.compliance.missed) == (verdicts["met"], verdicts["missed"]) == (2, 3)
    for name, groups in report.compliance_by:
        expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for t in new:
            if verdict(t):
                expected[t[name]][verdict(t) == "missed"] += 1
        assert {c.group: [c.met, c.missed] for c in groups} == expected
    worst = sorted(((t["id"], late(t["first_response_at"], t["first_response_due"]),
                     late(t["resolved_at"], t["resolution_due"])) for t in new if verdict(t) == "missed"),
                   key=lambda b: (-max(x for x in b[1:] if x is not None), b[0]))
    got = [(b.ticket_id, b.first_response_late, b.resolution_late) for b in report.breaches]
    assert [b[0] for b in got] == [b[0] for b in worst] == [1, 5, 3]
    assert [v for b in got for v in b[1:]] == pytest.approx([v for b in worst for v in b[1:]], abs=0.01)
    assert report.breached_total == 3 and report.breaches[0].targets == "first response + resolution"


def test_created_groups_equal_python_over_many_edge_cases(desk: Runtime) -> None:
    # The created tickets' groups come from the settled outcome, then those still open in time at
    # `now` are moved to "no outcome yet" (store/report.py): equal to each ticket's outcome at `now`
    # counted in Python, over 400 tickets with targets due, done and created on every boundary.
    origin, pick = monday_of(SINCE), random.Random(17).choice
    instants = [origin - timedelta(hours=1), origin, SINCE - timedelta(seconds=1), SINCE, NOW - timedelta(hours=3),
                NOW, NOW + timedelta(hours=2), UNTIL - timedelta(microseconds=1), UNTIL, origin + timedelta(days=3)]
    with desk.db.reading() as session:
        requester = session.connection().execute(select(sql.tickets.c.requester_id)).scalars().first()
    made = []
    for _ in range(400):
        created, due = pick(instants), [pick([None, *instants]) for _ in range(2)]
        done = [pick([None, d, d and d - timedelta(minutes=5), d and d + timedelta(minutes=5)]) for d in due]
        made.append({"status": "open", "requester_id": requester, "created_at": created, "updated_at": created,
                     "queue": pick(["", "it"]), "category": pick(["other", "access"]), "priority": pick(["normal", "high"]),
                     "spam": pick([False, False, False, True]), "first_response_due": due[0], "first_response_at": done[0],
                     "resolution_due": due[1], "resolved_at": done[1]})
    with desk.db.transaction() as session:
        session.connection().execute(insert(sql.tickets), made)
    with desk.db.reading() as session:
        got = queries.created_groups(session, queries.Span(SINCE, UNTIL, NOW), origin)
    expected = Counter((t["queue"], t["category"], t["priority"], verdict(t), (t["created_at"].astimezone(UTC).date()
                        - origin.date()).days, t["created_at"] >= SINCE)
                       for t in rows(desk) if origin <= t["created_at"] < UNTIL)
    assert {g[:6]: g[6] for g in got} == dict(expected) and len(got) == len(expected) > 20


@pytest.mark.parametrize("walked_weeks", [queries.WALKED_WEEKS_UP_TO, 0])
def test_windows_and_walks_of_the_duration_indexes_rank_alike(desk: Runtime, walked_weeks: int,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # The two ways of ranking the duration figures (small and large periods) give the same figures,
    # the weekly one walked or, past WALKED_WEEKS_UP_TO weeks, windowed.
    monkeypatch.setattr(queries, "WALKED_WEEKS_UP_TO", walked_weeks)
    span = queries.Span(SINCE, UNTIL, NOW)
    with desk.db.reading() as session:
        windows = queries.spreads(session, span, monday_of(SINCE))
        walks = queries.spreads(session, span, monday_of(SINCE), walk=True)
    assert set(windows["agent"]) == {1, 2, None} and set(windows["week"]) == {2}
    assert windows["resolution"][0].count == 3 and windows["first_response"][0].percentiles.keys() == {50, 90}
    for name in queries.FIGURES:
        assert walks[name].keys() == windows[name].keys()
        for group, spread in windows[name].items():
            walked = walks[name][group]
            assert (walked.count, walked.percentiles) == (spread.count, spread.percentiles)
            assert walked.mean == pytest.approx(spread.mean)


def plan(conn: Any, statement: str, parameters: Any) -> str:
    """How the database would run `statement`, as text: EXPLAIN on PostgreSQL, EXPLAIN QUERY PLAN on SQLite."""
    explain = "EXPLAIN " if conn.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    return str(conn.exec_driver_sql(explain + statement, parameters).all())


def test_a_walk_reads_each_duration_off_its_index(desk: Runtime) -> None:
    # Every statement of a walk over tickets reads one of migration 0011's duration indexes, no sort
    # (an index on an expression serves only the very expression the report compiles). PostgreSQL
    # plans the counts from its statistics; its rankings show the expressions match.
    span, statements = queries.Span(SINCE, UNTIL, NOW), statements_sent(desk.db)
    with desk.db.reading() as session:
        conn = session.connection()
        postgres = conn.dialect.name == "postgresql"
        if postgres:  # priced out on a desk of six tickets, where reading the table would be cheaper
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_sort = off")
        queries.spreads(session, span, monday_of(SINCE), walk=True)
        walk = [(statement, parameters) for statement, parameters in statements
                if "FROM tickets" in statement and (not postgres or "ORDER BY" in statement)]
        plans = [plan(conn, statement, parameters) for statement, parameters in walk]
    used = [re.findall(r"ix_tickets_(?:agent_)?(?:first_response|resolution)_s", p) for p in plans]
    assert len(plans) >= 6 and all(used) and not [p for p in plans if "TEMP B-TREE" in p or "Sort" in p]


@pytest.mark.parametrize("desk", ["sqlite"], indirect=True)
def test_a_desk_without_statistics_reads_the_period_by_its_index(desk: Runtime) -> None:
    # A desk never runs ANALYZE: each statement over the period ranges over created_at's or
    # closed_at's index, not every ticket that is not spam (a month of a million-ticket desk: 1.6 →
    # 0.7 s, docs/performance.md).
    statements = statements_sent(desk.db)
    build_report(desk.db, SINCE, UNTIL, NOW)
    period = [(st, params) for st, params in statements if "tickets.created_at >=" in st or "tickets.closed_at >=" in st]
    with desk.db.reading() as session:
        conn = session.connection()
        assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").scalar() == 0
        plans = {st: plan(conn, st, params) for st, params in period}
    # created groups, those not settled yet, closed, breaches, the duration windows
    assert len(plans) == 5
    assert all(re.search(r"ix_tickets_(created|closed|opened|first_response_open)\b", p) and "spam_status" not in p
               for p in plans.values())
    # The created tickets' groups come off a range of ix_tickets_opened in order, without a sort;
    # those whose outcome is not settled at `now`, from the partial indexes of open targets.
    (grouped,) = [p for st, p in plans.items() if "GROUP BY date(tickets.created_at)" in st]
    assert "COVERING INDEX ix_tickets_opened (<expr>>? AND <expr><?)" in grouped and "TEMP B-TREE" not in grouped
    (unsettled,) = [p for st, p in plans.items() if "GROUP BY +date(tickets.created_at)" in st]
    assert "ix_tickets_first_response_open" in unsettled and "ix_tickets_resolution_open" in unsettled


def test_closures_and_the_backlog_are_read_from_their_indexes_alone(desk: Runtime) -> None:
    # Migration 0012: the closures of the period and the open tickets come from ix_tickets_closed and
    # ix_tickets_spam_status without reading a ticket row (a million tickets on SQLite: closures
    # 1.2 → 0.3 s, backlog 0.5 → 0.14 s, docs/performance.md). SQLite plans this without statistics;
    # PostgreSQL, on six tickets, once the table and its bitmaps are priced out.
    statements = statements_sent(desk.db)
    build_report(desk.db, SINCE, UNTIL, NOW)
    grouped = [(st, params) for st, params in statements if "GROUP BY tickets.assignee_id, tickets.close_reason" in st
               or "GROUP BY tickets.status" in st]
    with desk.db.reading() as session:
        conn = session.connection()
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            for setting in ("enable_seqscan", "enable_bitmapscan"):
                conn.exec_driver_sql(f"SET {setting} = off")
        plans = [plan(conn, st, params) for st, params in grouped]
    only = "Index Only Scan using {}" if postgres else "COVERING INDEX {}"
    assert len(plans) == 2
    assert only.format("ix_tickets_closed") in plans[0] and only.format("ix_tickets_spam_status") in plans[1]


@pytest.mark.parametrize(("first", "second", "expected"),
                         [(None, None, None), (3.0, None, 3.0), (None, 2.0, 2.0), (3.0, 2.0, 3.0), (1.0, 2.0, 2.0)])
def test_larger_of_two_leaves_a_null_out(desk: Runtime, first: float | None, second: float | None,
                                         expected: float | None) -> None:
    # The breach list orders by the larger lateness of the two targets, a missing one left out.
    values = [cast(literal(v, Float), Float) for v in (first, second)]
    with desk.db.reading() as session:
        assert session.connection().execute(select(larger(*values))).scalar() == expected


@pytest.mark.parametrize("instant", [datetime(2026, 11, 20, 23, 59, 59, 999999, tzinfo=UTC),
                                     datetime(2026, 11, 21, tzinfo=UTC), datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC),
                                     local(20, 3, 30)])
def test_utc_day_is_the_date_python_gives(desk: Runtime, instant: datetime) -> None:
    # The day a ticket was created on, as the report groups it: a day's last microsecond stays in it.
    with desk.db.reading() as session:
        day = session.connection().execute(select(utc_day(literal(instant, UtcDateTime())))).scalar()
    assert day == instant.astimezone(UTC).date()


@pytest.mark.parametrize("desk", ["postgres"], indirect=True)
def test_postgres_reports_from_one_snapshot_and_hashes_its_groups(desk: Runtime) -> None:
    # Every statement of the report reads one snapshot (a walk's ranks come from its counts), and
    # PostgreSQL gets room to hash a million tickets' groups instead of sorting them on disk
    # (docs/performance.md); both settings end with the transaction.
    statements = statements_sent(desk.db)
    build_report(desk.db, SINCE, UNTIL, NOW)
    assert [statement for statement, _ in statements[:2]] == ["SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                              f"SET LOCAL work_mem = '{queries.POSTGRES_WORK_MEM}'"]
    with desk.db.reading() as session:
        conn = session.connection()
        assert conn.exec_driver_sql("SHOW work_mem").scalar() == "4MB"
        assert conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"


@pytest.mark.parametrize("desk", ["sqlite"], indirect=True)
def test_sqlite_sorts_of_a_large_period_may_use_a_second_thread(desk: Runtime) -> None:
    # The report's GROUP BYs over a million tickets merge their sorts on two threads (docs/performance.md).
    with desk.db.reading() as session:
        assert session.connection().exec_driver_sql("PRAGMA threads").scalar() == 2


def test_backlog_agents_trend_and_satisfaction_equal_python_from_rows(desk: Runtime) -> None:
    # Backlog by age, agents' workload and first response, weeks, days, ratings: database = Python over rows.
    report, tickets = build_report(desk.db, SINCE, UNTIL, NOW), rows(desk)
    limits = [NOW - timedelta(days=d) for _, d in AGE_BUCKETS if d is not None]
    open_now = [t for t in tickets if t["status"] in ("new", "open", "pending")]
    for row in report.backlog:
        ages = Counter(sum(t["created_at"] <= limit for limit in limits) for t in open_now if t["status"] == row.status)
        assert row.counts == tuple(ages[i] for i in range(len(AGE_BUCKETS)))
    assert sum(r.total for r in report.backlog) == len(open_now) == 3 and report.backlog[0].counts[-2] == 1
    new = [t for t in tickets if SINCE <= t["created_at"] < UNTIL]
    for line in report.agents:
        mine = [t for t in tickets if AGENTS.get(t["assignee_id"] or 0, "-") == line.agent]
        spans = [(t["first_response_at"] - t["created_at"]).total_seconds()
                 for t in new if t in mine and t["first_response_at"]]
        assert line.open_assigned == sum(t in open_now for t in mine)
        assert line.closed == sum(bool(t["closed_at"] and SINCE <= t["closed_at"] < UNTIL) for t in mine)
        assert (line.first_response.count, line.first_response.median) == pytest.approx(
            (len(spans), nearest(spans, 50)), abs=0.01)
    assert [a.agent for a in report.agents] == ["alice@example.org", "bob@example.org", "-"]
    origin = monday_of(SINCE)
    for i, week in enumerate(report.weeks):
        start, end = origin + timedelta(days=7 * i), origin + timedelta(days=7 * (i + 1))
        inside = [t for t in tickets if start <= t["created_at"] < min(end, UNTIL)]
        spans = [(t["first_response_at"] - t["created_at"]).total_seconds() for t in inside if t["first_response_at"]]
        assert (week.opened, week.closed) == (
            len(inside), sum(bool(t["closed_at"] and start <= t["closed_at"] < min(end, UNTIL)) for t in tickets))
        assert week.first_response_median == pytest.approx(nearest(spans, 50), abs=0.01)
    # The period starts on Sunday 15th at 19:00 UTC, so the UTC weeks are three, the first a few hours long.
    assert [w.label for w in report.weeks] == ["2026-W46", "2026-W47", "2026-W48"]
    by_day = Counter(t["created_at"].date() for t in tickets if t["created_at"] < UNTIL)
    assert {d: o for d, o, _ in report.per_day if o} == {d: n for d, n in by_day.items() if d >= SINCE.date()}
    latest = {}
    for ticket, _, at, detail in sorted(query(desk.settings, "select ticket_id, id, at, detail from events "
                                                             "where kind = 'satisfaction'"), key=lambda e: e[1]):
        if SINCE <= when(at) < UNTIL:  # type: ignore[operator]
            latest[ticket] = (json.loads(detail) if isinstance(detail, str) else detail)["rating"]
    assert report.ratings.by_score == tuple(Counter(latest.values())[s] for s in range(1, 6)) == (0, 1, 0, 0, 1)
    assert (report.ratings.good, report.ratings.bad, report.ratings.rate) == (1, 1, 50.0)
    assert [a.ratings.by_score for a in report.agents[:2]] == [(0, 0, 0, 0, 1), (0, 1, 0, 0, 0)]


def cli(rt: Runtime, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "maildesk", "--config", str(rt.settings.path), "report",
                           "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(), *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("desk", ["sqlite"], indirect=True)
def test_json_is_one_document_with_every_section(desk: Runtime) -> None:
    # `report --json` prints one JSON document: every section, the same figures as the report itself.
    result = cli(desk, "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) >= {"summary", "backlog", "agents", "volume", "sla", "breaches", "weeks", "per_day",
                        "satisfaction", "breached_total", "sla_goal_percent"}
    summary = {row["metric"]: row["value"] for row in doc["summary"]}
    assert (summary["opened"], summary["closed"], summary["auto_closed_no_response"]) == (6, 1, 1)
    assert {(r["dimension"], r["name"], r["opened"]) for r in doc["volume"]} >= {
        ("category", "hardware", 1), ("category", "access", 1), ("queue", "it", 2), ("queue", "support", 4)}
    assert doc["satisfaction"][0] == {"agent": "all", "rated_1": 0, "rated_2": 1, "rated_3": 0, "rated_4": 0,
                                      "rated_5": 1, "ratings": 2, "good": 1, "bad": 1, "good_percent": 50.0}
    # At the real now, fay's first response is overdue too.
    assert doc["breached_total"] == len(doc["breaches"]) == 4


@pytest.mark.parametrize("desk", ["sqlite"], indirect=True)
def test_csv_writes_one_file_per_section_with_a_header(desk: Runtime, tmp_path: Path) -> None:
    # `report --csv DIR` writes one CSV per section, header first, and says which files it wrote.
    out = tmp_path / "csv"
    result = cli(desk, "--csv", str(out))
    assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(f"{n}.csv" for n in ("summary", "backlog", "agents", "volume", "sla", "breaches",
                                                 "weeks", "per_day", "satisfaction"))
    assert all(f"wrote {out / name}" in result.stdout for name in files)
    with (out / "agents.csv").open(encoding="utf-8", newline="") as f:
        table = list(csv.reader(f))
    assert table[0][:3] == ["agent", "open_assigned", "closed"]
    assert [r[0] for r in table[1:]] == ["alice@example.org", "bob@example.org", "-"]
    with (out / "backlog.csv").open(encoding="utf-8", newline="") as f:
        assert next(csv.reader(f)) == ["status", *(label for label, _ in AGE_BUCKETS), "total"]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but chromium is not installed (.ci/run installs Debian's package)")
    pytest.skip("chromium not installed")


def headless(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--virtual-time-budget=2000", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def checked(dom: str, name: str) -> Any:
    found = re.search(rf'data-{name}="([^"]*)"', dom)
    assert found, dom[-2000:]
    return json.loads(found[1].replace("&quot;", '"'))


@pytest.mark.parametrize("desk", ["sqlite"], indirect=True)
def test_html_report_in_headless_chromium_shows_misses_red(desk: Runtime, tmp_path: Path) -> None:
    # In Chromium every chart has a legend and sized bars, SLA bars below the goal and missed figures are red.
    report: Report = build_report(desk.db, SINCE, UNTIL, NOW)
    page = tmp_path / "report.html"
    html = render_html(report, "Example Support")
    page.write_text(html, encoding="utf-8")
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    dom = headless(page, tmp_path / "profile", "--dump-dom").stdout
    assert checked(dom, "charts") == html.count("<svg class=\"chart\"") == 12
    assert all(n >= 1 for n in checked(dom, "legends"))
    bars = checked(dom, "bars")
    assert all(w > 0 and h > 0 for value, w, h, _, _ in bars if value > 0)
    red, green = "rgb(204, 0, 0)", "rgb(46, 125, 50)"
    sla = [(value, fill) for value, _, _, fill, miss in bars if miss]
    assert sla and all(fill == red and value < 90 for value, fill in sla)
    assert any(fill == green and value == 100 for value, _, _, fill, miss in bars if not miss)
    misses = checked(dom, "misses")
    assert len(misses) >= 5 and set(misses) == {red}  # breach cells and the overall compliance
    shot = tmp_path / "report.png"
    headless(page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,4000", "--hide-scrollbars")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    print(f"screenshot: {shot}")
