"""Time `maildesk report` over 1,000,000 tickets on SQLite (issue #17: at most 3 s and 150 MB peak RSS).

Run from the repository root:  .venv/bin/python bench/report.py [--tickets 1000000] [--keep DIR]

Fills a temporary SQLite desk with bench/sweep.py's fill (imported, not copied), then gives the
tickets what a report reads: five agents, four categories, three queues, statuses from new to
closed, first responses, resolutions, SLA due instants (some met, some missed), one `created`
event per ticket and a satisfaction rating on every 50th. Two shapes, both timed:

  recent  every ticket created in the report's period (sweep.py's fill: three days before its NOW),
          the worst case, and the shape of the earlier 12.4 s / 890 MB figure;
  spread  the tickets created over 1,000 days, so the default 30-day period holds about 3 %.

Each run is the real command in a child process, `maildesk report --json --csv DIR --html FILE`
over sweep.py's NOW minus 30 days (start-up and imports included); wall time from the parent, peak
RSS from the child's own rusage. With --postgres the same desk is copied into a private PostgreSQL
cluster (started as the tests start theirs, default settings) and the command runs there too; the
server's memory is its own and not in the figure.
Prints seconds and MB against the 3 s / 150 MB targets, and SQLite's plan for the period scan.
Not a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "bench", REPO / "tests", REPO / "tests" / "integration"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))  # Run as a script from anywhere: maildesk, sweep.py, servers.py importable.

import sweep  # noqa: E402  (bench/sweep.py: its CONFIG, NOW, stamp and fill)
from sqlalchemy import MetaData, create_engine  # noqa: E402

from maildesk import config  # noqa: E402
from maildesk.store import migrate  # noqa: E402
from maildesk.store.db import Database  # noqa: E402

TARGET_S, TARGET_MB = 3.0, 150.0
EARLIER = "12.4 s and 890 MB (the loading implementation, issue #17)"
BEFORE = "fe3d772"  # the last commit with the loading implementation
# The period as the report's statements read it (store/report.py: "not spam" as no index answers it).
PERIOD_QUERY = "SELECT count(*) FROM tickets WHERE spam IS NOT 1 AND created_at >= ? AND created_at < ?"
# Spread creation over 1,000 days before sweep.py's NOW (the shape "spread" only).
SPREAD = ("UPDATE tickets SET created_at = strftime('%Y-%m-%d %H:%M:%S', ?, '-' || (id % 1000) || ' days', "
          "'-' || (id % 1440) || ' minutes') || '.000000'")
# What the report reads, from each ticket's id (sweep.py's first `due` tickets keep their sweep state).
SHAPE = """UPDATE tickets SET
  status = CASE id % 10 WHEN 0 THEN 'new' WHEN 1 THEN 'open' WHEN 2 THEN 'pending' WHEN 3 THEN 'resolved'
                        WHEN 4 THEN 'resolved' ELSE 'closed' END,
  assignee_id = CASE WHEN id % 10 = 0 THEN NULL ELSE 1 + id % 5 END,
  category = CASE id % 4 WHEN 0 THEN 'hardware' WHEN 1 THEN 'access' WHEN 2 THEN 'billing' ELSE 'other' END,
  queue = CASE id % 3 WHEN 0 THEN 'support' WHEN 1 THEN 'it' ELSE '' END,
  priority = CASE id % 7 WHEN 0 THEN 'high' WHEN 1 THEN 'low' ELSE 'normal' END,
  first_response_due = strftime('%Y-%m-%d %H:%M:%S', created_at, '+2 hours') || '.000000',
  resolution_due = strftime('%Y-%m-%d %H:%M:%S', created_at, '+16 hours') || '.000000',
  first_response_at = CASE WHEN id % 10 = 0 THEN NULL
    ELSE strftime('%Y-%m-%d %H:%M:%S', created_at, '+' || (id % 181) || ' minutes') || '.000000' END,
  resolved_at = CASE WHEN id % 10 < 3 THEN NULL
    ELSE strftime('%Y-%m-%d %H:%M:%S', created_at, '+' || (id % 1201) || ' minutes') || '.000000' END,
  closed_at = CASE WHEN id % 10 < 5 THEN NULL
    ELSE strftime('%Y-%m-%d %H:%M:%S', created_at, '+' || (1440 + id % 1201) || ' minutes') || '.000000' END,
  close_reason = CASE WHEN id % 10 = 5 THEN 'resolved_timeout' WHEN id % 10 > 5 THEN 'agent' ELSE '' END
WHERE id > ?"""
# A desk years old has closed its old tickets: past 60 days, those still open in the shape above close.
SETTLE = ("UPDATE tickets SET status = 'closed', close_reason = 'agent', closed_at = "
          "strftime('%Y-%m-%d %H:%M:%S', created_at, '+3 days') || '.000000' "
          "WHERE status != 'closed' AND created_at < strftime('%Y-%m-%d %H:%M:%S', ?, '-60 days') AND id > ?")


def shape(db_path: Path, due: int, spread: bool) -> None:
    """Agents, the columns the report reads, one event per ticket and every 50th ticket rated."""
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA synchronous=OFF")
    conn.executemany("INSERT INTO agents (id, email, name, active, created_at) VALUES (?, ?, ?, 1, ?)",
                     ((i, f"agent{i}@example.org", f"Agent {i}", sweep.stamp(sweep.NOW)) for i in range(2, 6)))
    if spread:
        conn.execute(SPREAD, (sweep.stamp(sweep.NOW),))
    conn.execute(SHAPE, (due,))
    if spread:
        conn.execute(SETTLE, (sweep.stamp(sweep.NOW), due))
    conn.execute("INSERT INTO events (ticket_id, at, actor, kind, detail, reason) "
                 "SELECT id, created_at, 'contact:1', 'created', '{}', '' FROM tickets")
    conn.execute("INSERT INTO events (ticket_id, at, actor, kind, detail, reason) "
                 "SELECT id, coalesce(closed_at, created_at), 'contact:1', 'satisfaction', json_object('rating', 1 + (id / 50) % 5, 'comment', ''),"
                 " '' FROM tickets WHERE id % 50 = 5")
    conn.commit()
    # No planner statistics, as on a real desk (maildesk never runs ANALYZE); sweep.py's fill made some.
    conn.execute("DROP TABLE IF EXISTS sqlite_stat1")
    conn.execute("DROP TABLE IF EXISTS sqlite_stat4")
    conn.commit()
    conn.close()


def timed(argv: list[str], out: Path, env: dict[str, str] | None = None, cwd: Path = REPO) -> tuple[float, float]:
    """Run `argv` in a child with stdout to `out`: (seconds, the child's own peak RSS in MB)."""
    started = time.perf_counter()
    with open(out, "wb") as stdout:
        child = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE, cwd=cwd, env=env)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, not every child's so far
    took = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"{argv[3:]} failed: {child.stderr.read().decode() if child.stderr else ''}")
    return took, usage.ru_maxrss / 1024


def period_args() -> list[str]:
    """sweep.py's NOW minus 30 days to a day after it: every ticket of the shape "recent"."""
    return ["--since", (sweep.NOW - timedelta(days=30)).isoformat(), "--until", (sweep.NOW + timedelta(days=1)).isoformat()]


def run_report(conf: Path, out: Path) -> tuple[float, float, dict[str, Any]]:
    """The command once: (seconds, peak RSS in MB, its JSON document)."""
    took, peak = timed([sys.executable, "-m", "maildesk", "--config", str(conf), "report", *period_args(), "--json",
                        "--csv", str(out / "csv"), "--html", str(out / "report.html")], out / "report.json")
    return took, peak, json.loads((out / "report.json").read_text(encoding="utf-8"))


def run_before(conf: Path, out: Path) -> tuple[float, float]:
    """The implementation before this one (commit BEFORE, which loaded the period's rows), unpacked from
    git into `out` and run the same way with --html."""
    old = out / "before"
    old.mkdir(exist_ok=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", BEFORE, "maildesk"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
    # Run from the unpacked copy: `python -m` puts the working directory first on the path, and the
    # repository's own maildesk/ must not be the one imported.
    env = {**os.environ, "PYTHONPATH": str(old)}
    took, peak = timed([sys.executable, "-m", "maildesk", "--config", str(conf), "report", *period_args(),
                        "--html", str(out / "before.html")], out / "before.txt", env, cwd=old)
    if "opened" not in (out / "before.txt").read_text(encoding="utf-8") or (old / "maildesk/admin/report").exists():
        sys.exit("the run of the earlier implementation printed no report")
    return took, peak


def timing(took: float, peak: float) -> str:
    """One run of the command against the targets."""
    return (f"maildesk report --json --csv --html: {took:.2f} s = {took / TARGET_S:.2f} x the {TARGET_S:.0f} s "
            f"target; peak RSS {peak:.0f} MB = {peak / TARGET_MB:.2f} x the {TARGET_MB:.0f} MB target")


def figures(doc: dict[str, Any]) -> str:
    """What the report found, to compare runs and backends by."""
    summary = {row["metric"]: row["value"] for row in doc["summary"]}
    return (f"opened {summary['opened']:,}, closed {summary['closed']:,}, breached {doc['breached_total']:,}, "
            f"first response median {summary['first_response_median_seconds']} s")


def copy_to_postgres(db_path: Path, url: str) -> None:
    """Every row of the SQLite desk into the migrated PostgreSQL database at `url`, table by table in
    foreign-key order, with COPY; then VACUUM ANALYZE, as autovacuum does after a load (its
    visibility map is what lets PostgreSQL answer from an index alone)."""
    pg = create_engine(url)
    tables = MetaData()
    tables.reflect(pg)
    source = sqlite3.connect(db_path)
    with pg.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        with raw.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
            for table in tables.sorted_tables:
                if table.name == "alembic_version":
                    continue
                names = [c.name for c in table.columns]
                rows = source.execute(f"SELECT {', '.join(names)} FROM {table.name}")
                with cur.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            raw.commit()
            raw.autocommit = True
            cur.execute("VACUUM ANALYZE")
    source.close()
    pg.dispose()


def postgres_run(name: str, root: Path, conf: Path) -> None:
    """The same desk on PostgreSQL: a private cluster, the schema by migration, the rows copied."""
    from servers import start_postgres, stop_postgres

    # A folder of its own: the cluster runs as the postgres user, who cannot enter the desk's folder.
    pg_root = Path(tempfile.mkdtemp(prefix="maildesk-bench-pg-"))
    server = start_postgres(pg_root)
    try:
        url = server.new_database()
        pg_conf = root / "maildesk-pg.conf"
        pg_conf.write_text(conf.read_text(encoding="utf-8").replace(
            f'url = "sqlite:///{root / "desk.db"}"', f'url = "{url}"'), encoding="utf-8")
        db = Database(url)
        migrate.upgrade(db)
        db.dispose()
        started = time.perf_counter()
        copy_to_postgres(root / "desk.db", url)
        print(f"[{name}] copied into PostgreSQL in {time.perf_counter() - started:.1f} s")
        took, peak, doc = run_report(pg_conf, root)
        print(f"[{name}] PostgreSQL: {timing(took, peak)} (the command's; the server's is its own)")
        print(f"[{name}] PostgreSQL: {figures(doc)}")
    finally:
        stop_postgres(server)
        shutil.rmtree(pg_root, ignore_errors=True)


def one_shape(name: str, tickets: int, due: int, root: Path, before: bool, postgres: bool = False) -> None:
    """Build a desk of this shape in `root`, fill it and time the report over it."""
    root.mkdir(parents=True, exist_ok=True)
    conf = root / "maildesk.conf"
    conf.write_text(sweep.CONFIG.replace("[desk]\n", f"[desk]\nname = \"Bench {name}\"\n")
                    + f"[database]\nurl = \"sqlite:///{root / 'desk.db'}\"\n", encoding="utf-8")
    settings = config.load(conf)
    db = Database(settings.database.url)
    migrate.upgrade(db)
    db.dispose()  # no connection left open: the fill's last close checkpoints the WAL
    db_path = root / "desk.db"
    started = time.perf_counter()
    sweep.fill(db_path, tickets, due)
    shape(db_path, due, spread=name == "spread")
    print(f"[{name}] filled {tickets:,} tickets in {time.perf_counter() - started:.1f} s")
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT min(created_at), max(created_at) FROM tickets").fetchone()
        print(f"[{name}] tickets created from {row[0]} to {row[1]}")
        bounds = (sweep.stamp(sweep.NOW - timedelta(days=30)), sweep.stamp(sweep.NOW + timedelta(days=1)))
        plan = conn.execute("EXPLAIN QUERY PLAN " + PERIOD_QUERY, bounds).fetchall()
        print(f"[{name}] period scan: {conn.execute(PERIOD_QUERY, bounds).fetchone()[0]:,} tickets; "
              f"plan: {'; '.join(str(line[-1]) for line in plan)}")
    took, peak, doc = run_report(conf, root)
    print(f"[{name}] {timing(took, peak)}")
    if before:
        old_s, old_mb = run_before(conf, root)
        print(f"[{name}] before ({BEFORE}), same desk, same run: {old_s:.2f} s, peak RSS {old_mb:.0f} MB; "
              f"now {took / old_s:.2f} x the time and {peak / old_mb:.2f} x the memory")
    print(f"[{name}] {figures(doc)}")
    if postgres:
        postgres_run(name, root, conf)


def main() -> None:
    """Fill and time each shape; print the earlier figure for comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--shape", choices=("recent", "spread", "both"), default="both")
    parser.add_argument("--keep", type=Path, default=None, help="Build the desks here and keep them.")
    parser.add_argument("--postgres", action="store_true",
                        help="Also copy each desk into a private PostgreSQL cluster and time the report there.")
    parser.add_argument("--before", action="store_true",
                        help=f"Also time the implementation of commit {BEFORE} on the same desk (git needed).")
    args = parser.parse_args()
    print(f"earlier figure at 1,000,000 tickets: {EARLIER}")
    shapes = ("recent", "spread") if args.shape == "both" else (args.shape,)
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        for name in shapes:
            one_shape(name, args.tickets, args.due, base / name, args.before, args.postgres)


if __name__ == "__main__":
    main()
