"""Time one SLA/auto-close sweep over 1,000,000 tickets of which 10,000 are due (issue #6: < 5 s on SQLite).

Run from the repository root:  .venv/bin/python bench/sweep.py [--tickets 1000000] [--due 10000]

Builds a temporary SQLite desk, bulk-inserts the tickets with executemany (most
with nothing to check, some checked later, `--due` of them due now: 50 % pending
past their 8 working hours, 30 % owed a reminder, 20 % owed an SLA breach notice),
then times one `sweep_tickets` call: reading due rows by index, deciding, closing,
writing events and rendering every notice into the outbox. Prints seconds, the
ratio to the 5 s target, and SQLite's EXPLAIN QUERY PLAN for the due-ticket query.
Not a timed test.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # Run as a script from anywhere: make maildesk importable.

from maildesk import config  # noqa: E402
from maildesk.runtime.wiring import Runtime  # noqa: E402
from maildesk.store import migrate  # noqa: E402
from maildesk.store.db import Database  # noqa: E402
from maildesk.sweep.sla import sweep_tickets  # noqa: E402

TARGET_S = 5.0
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday
CONFIG = """[desk]
address = "support@example.org"
secret = "bench"
[smtp]
enabled = false
[[sla]]
name = "standard"
first_response = "2h"
resolution = "16h"
[autoclose]
pending_hours = 8
reminders = [0.5, 0.9]
"""
DUE_QUERY = "SELECT * FROM tickets WHERE next_check_at <= ? ORDER BY next_check_at LIMIT 2000"
COLUMNS = ("id", "subject", "status", "priority", "category", "queue", "language", "requester_id",
           "close_reason", "created_at", "updated_at", "type", "tags", "tier", "spam", "sla_policy",
           "paused_seconds", "clock_status", "sla_sent", "reminders_sent", "waiting_since", "next_check_at",
           "first_response_due", "resolution_due")


def stamp(when: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite."""
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def row(i: int, due: int) -> tuple[object, ...]:
    """Ticket i: the first `due` are due now in three flavours, a tenth of the rest checked later."""
    created = NOW - timedelta(days=3)
    status, waiting, check, sent = "open", None, None, "first_response.breach,first_response.warning"
    if i <= due:
        flavour = i % 10
        check = stamp(NOW - timedelta(minutes=1 + i % 50))
        if flavour < 5:  # pending for three days: closes
            status, waiting = "pending", stamp(NOW - timedelta(days=3))
        elif flavour < 8:  # pending 5 hours: the first reminder is owed
            status, waiting = "pending", stamp(NOW - timedelta(hours=5))
        else:  # new, nobody answered for three days: first-response breach owed
            status, sent = "new", ""
    elif i % 10 == 0:
        check = stamp(NOW + timedelta(hours=1 + i % 100))
    return (i, f"Bench ticket {i}", status, "normal", "other", "", "en", 1, "", stamp(created), stamp(created),
            "request", "[]", "", 0, "standard", 0, status, sent, 0, waiting, check,
            stamp(created + timedelta(hours=2)), stamp(created + timedelta(hours=16)))


def fill(path: Path, tickets: int, due: int) -> None:
    """Bulk-insert the tickets (and, for each due one, its own requester as participant) in chunks."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    # One requester per due ticket, as on a real desk: the brakes cap automatic mail per address and
    # day, so a single requester on 10,000 tickets would be held back after 40 notices.
    conn.executemany("INSERT INTO contacts (id, email, name, created_at) VALUES (?, ?, ?, ?)",
                     ((i, f"user{i}@client.example", f"User {i}", stamp(NOW)) for i in range(1, due + 1)))
    conn.execute("INSERT INTO agents (id, email, name, active, created_at) VALUES "
                 "(1, 'alice@example.org', 'Alice', 1, ?)", (stamp(NOW),))
    sql = f"INSERT INTO tickets ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    for start in range(1, tickets + 1, 100_000):
        conn.executemany(sql, (row(i, due) for i in range(start, min(start + 100_000, tickets + 1))))
    conn.executemany("INSERT INTO participants (ticket_id, contact_id, role) VALUES (?, ?, 'requester')",
                     ((i, i) for i in range(1, due + 1)))
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def main() -> None:
    """Build, fill, sweep once, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "maildesk.conf"
        conf.write_text(CONFIG, encoding="utf-8")
        settings = config.load(conf)
        migrate.upgrade(Database(settings.database.url))
        db_path = Path(settings.database.url.removeprefix("sqlite:///"))
        started = time.perf_counter()
        fill(db_path, args.tickets, args.due)
        print(f"inserted {args.tickets:,} tickets ({args.due:,} due) in {time.perf_counter() - started:.1f} s")
        runtime = Runtime.build(settings)
        started = time.perf_counter()
        planned = sweep_tickets(runtime.desk, NOW, dry_run=True)
        print(f"dry run (read due rows by index + decide, no writes, no mail): {len(planned.actions):,} "
              f"actions in {time.perf_counter() - started:.2f} s")
        started = time.perf_counter()
        result = sweep_tickets(runtime.desk, NOW)
        took = time.perf_counter() - started
        kinds: dict[str, int] = {}
        for action in result.actions:
            kinds[action.action] = kinds.get(action.action, 0) + 1
        print(f"sweep: {result.checked:,} tickets checked, {len(result.outbox_ids):,} notices, actions {kinds}")
        print(f"sweep took {took:.2f} s = {took / TARGET_S:.2f} x the {TARGET_S:.0f} s target")
        with sqlite3.connect(db_path) as conn:
            plan = conn.execute("EXPLAIN QUERY PLAN " + DUE_QUERY, (stamp(NOW),)).fetchall()
            print("EXPLAIN QUERY PLAN", DUE_QUERY)
            for line in plan:
                print("   ", line[-1])
            left = conn.execute("SELECT count(*) FROM tickets WHERE next_check_at <= ?", (stamp(NOW),)).fetchone()
            print(f"still due after the sweep: {left[0]}")
        runtime.db.dispose()


if __name__ == "__main__":
    main()
