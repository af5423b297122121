"""Time the commands an admin types on a desk of 1,000,000 tickets and 5,000,000 messages (issue #17:
`tickets list` with any filter and `tickets show` under 0.3 s).

Run from the repository root:  .venv/bin/python bench/cli.py [--reuse DIR] [--runs 5]

Builds a SQLite desk in DIR (a new temporary one unless --reuse names one already built, which is
kept): the schema at the revision before the query indexes, the tickets of bench/sweep.py's fill
varied in status, category, type, requester, assignee and SLA, five messages per ticket, all with
executemany in big transactions; then `maildesk init` brings it to the newest revision (its
indexes, and the full-text index filled for the rows already there) and that time is printed.
Then, for each command, prints the import time (`python -X importtime`, the top-level imports
summed) and the wall time of the whole process, best and median of --runs runs, without a daemon
and with `maildesk serve` running (which answers `tickets show/list` over its local socket), the
ratio of the best to the 0.3 s target, and (without the daemon) the best time of the same command
run inside this process once its imports are paid ("warm": the query and the output alone).
Not a timed test.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))  # Run as a script from anywhere: maildesk and sweep.py importable.

import sweep  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

from maildesk.store import migrate  # noqa: E402
from maildesk.store.db import Database  # noqa: E402

TARGET_S = 0.3
BEFORE_QUERIES = "0009_answer_brakes"  # the revision the desk is filled at, before `maildesk init`
CONFIG = """[desk]
address = "support@example.org"
secret = "bench"
data_dir = "."
[smtp]
enabled = false
[[sla]]
name = "standard"
first_response = "2h"
resolution = "16h"
"""
CONTACTS, AGENTS, PER_TICKET = 100_000, 20, 5
CATEGORIES = ("billing", "network", "account", "hardware", "other", "billing", "network", "other")
WORDS = ("printer", "vpn", "invoice", "password", "laptop", "email", "screen", "badge", "wifi", "license",
         "monitor", "phone", "calendar", "backup", "server", "keyboard", "refund", "access", "update")
CHUNK = 200_000
RECENT = 20_000  # tickets of the last two weeks, at one a minute
_COL = {name: i for i, name in enumerate(sweep.COLUMNS)}
EXTRA = ("assignee_id", "first_response_at", "resolved_at", "closed_at")


def status_of(i: int, tickets: int) -> str:
    """Ticket i's status: the older ones closed (or canceled); of the last two weeks' a third still
    being worked on, a few new, some resolved, as on a desk that keeps up."""
    flavour = i % 20
    if i <= tickets - RECENT:
        return "canceled" if flavour == 19 else "closed"
    if flavour == 0:
        return "new"
    if flavour < 5:
        return "open"
    if flavour < 7:
        return "pending"
    if flavour < 9:
        return "resolved"
    return "canceled" if flavour == 19 else "closed"


def ticket(i: int, tickets: int) -> tuple[object, ...]:
    """Ticket i of bench/sweep.py's fill, one a minute back from now (i = tickets the newest), varied."""
    base = list(sweep.row(i, 0))
    created = sweep.NOW - timedelta(minutes=tickets - i)
    status = status_of(i, tickets)
    late = i % 97 == 0  # about 1 % missed a target
    answered = None if status == "new" else created + timedelta(hours=3 if late else 1)
    resolved = created + timedelta(hours=10) if status in ("resolved", "closed", "canceled") else None
    base[_COL["subject"]] = f"{WORDS[i % len(WORDS)]} {WORDS[(i // 7) % len(WORDS)]} problem {i}"
    base[_COL["status"]] = base[_COL["clock_status"]] = status
    base[_COL["category"]] = "legal" if i % 1000 == 7 else CATEGORIES[i % len(CATEGORIES)]
    base[_COL["type"]] = "incident" if i % 25 == 0 else "request"
    base[_COL["requester_id"]] = 1 + (i * 7919) % CONTACTS
    base[_COL["created_at"]] = base[_COL["updated_at"]] = sweep.stamp(created)
    base[_COL["sla_sent"]] = "first_response.breach" if late and status == "new" else ""
    base[_COL["waiting_since"]] = base[_COL["next_check_at"]] = None
    base[_COL["first_response_due"]] = sweep.stamp(created + timedelta(hours=2))
    base[_COL["resolution_due"]] = sweep.stamp(created + timedelta(hours=16))
    extra = (None if i % 3 == 0 else 1 + i % AGENTS, answered and sweep.stamp(answered),
             resolved and sweep.stamp(resolved), resolved and sweep.stamp(resolved))
    return (*base, *extra)


def message_rows(start: int, stop: int, tickets: int) -> Iterator[tuple[object, ...]]:
    """PER_TICKET messages for each ticket in [start, stop): the requester's, then answers and notes."""
    for i in range(start, stop):
        created = sweep.NOW - timedelta(minutes=tickets - i)
        for k in range(PER_TICKET):
            n = (i - 1) * PER_TICKET + k + 1
            # About one message in 100,000 names a rare word, one in 19 each common one.
            rare = " kerberos" if n % 100_003 == 0 else ""
            text = (f"Hello, the {WORDS[n % len(WORDS)]} and the {WORDS[(n // 3) % len(WORDS)]} stopped "
                    f"working after the update{rare}. Note {n}.")
            yield (n, i, "inbound" if k % 2 == 0 else "outbound", f"<{n}@bench.example>",
                   f"user{1 + (i * 7919) % CONTACTS}@client.example", f"Re: problem {i}", text, text, "human",
                   "[]", sweep.stamp(created + timedelta(minutes=k)))


def fill(path: Path, tickets: int) -> None:
    """Contacts, agents, tickets and their messages, in transactions of CHUNK rows."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    now = sweep.stamp(sweep.NOW)
    conn.executemany("INSERT INTO contacts (id, email, name, created_at) VALUES (?, ?, ?, ?)",
                     ((i, f"user{i}@client.example", f"User {i}", now) for i in range(1, CONTACTS + 1)))
    conn.executemany("INSERT INTO agents (id, email, name, active, created_at) VALUES (?, ?, ?, 1, ?)",
                     ((i, f"agent{i}@example.org", f"Agent {i}", now) for i in range(1, AGENTS + 1)))
    columns = (*sweep.COLUMNS, *EXTRA)
    insert = f"INSERT INTO tickets ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    insert_messages = ("INSERT INTO messages (id, ticket_id, direction, message_id, from_email, from_name, subject, "
                       "text, new_text, verdict, verdict_reasons, created_at) VALUES "
                       "(?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?)")
    step = CHUNK // PER_TICKET
    for start in range(1, tickets + 1, step):
        stop = min(start + step, tickets + 1)
        conn.executemany(insert, (ticket(i, tickets) for i in range(start, stop)))
        conn.executemany(insert_messages, message_rows(start, stop, tickets))
        conn.commit()
    conn.close()  # No ANALYZE: maildesk never runs it, so the plans must hold without statistics.


def build(folder: Path, tickets: int) -> Path:
    """A desk in `folder` filled with `tickets` tickets at BEFORE_QUERIES, then initialised: its config."""
    conf = folder / "maildesk.conf"
    conf.write_text(CONFIG, encoding="utf-8")
    db_path = folder / "maildesk.sqlite3"
    db = Database(f"sqlite:///{db_path}")
    cfg = Config()
    cfg.set_main_option("script_location", str(migrate.MIGRATIONS))
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, BEFORE_QUERIES)
    db.dispose()
    started = time.perf_counter()
    fill(db_path, tickets)
    print(f"filled {tickets:,} tickets and {tickets * PER_TICKET:,} messages in "
          f"{time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    run(conf, "init")
    print(f"`maildesk init` to the newest revision (indexes, full-text index of the rows there): "
          f"{time.perf_counter() - started:.0f} s")
    return conf


def run(conf: Path, *args: str, importtime: bool = False) -> subprocess.CompletedProcess[str]:
    """`maildesk --config CONF ARGS…` as a new process, as an admin runs it; raises if it fails."""
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run([sys.executable, *flags, "-m", "maildesk", "--config", str(conf), *args],
                          capture_output=True, text=True, check=True, env=os.environ | {"PYTHONPATH": str(REPO)})


def import_seconds(conf: Path, args: tuple[str, ...]) -> float:
    """The imports of one run, from `python -X importtime`: the cumulative times of the top-level
    imports (those not nested in another) summed."""
    report = run(conf, *args, importtime=True).stderr
    top = re.findall(r"^import time:\s+\d+ \|\s+(\d+) \| (?! )", report, flags=re.MULTILINE)
    return sum(int(us) for us in top) / 1e6


def wall_seconds(conf: Path, args: tuple[str, ...], runs: int) -> list[float]:
    """Wall time of `runs` runs of the command as an admin types it (the installed script)."""
    script = Path(sys.executable).with_name("maildesk")
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(script), "--config", str(conf), *args], capture_output=True, check=True)
        took.append(time.perf_counter() - started)
    return took


def warm_seconds(conf: Path, args: tuple[str, ...], runs: int) -> float:
    """The best time of the command run in this process, its imports already paid: what is left of
    the wall time once Python has started and loaded maildesk (the query, the output)."""
    from click.testing import CliRunner

    from maildesk.cli.app import main as cli_main

    took = []
    for _ in range(runs):
        started = time.perf_counter()
        result = CliRunner().invoke(cli_main, ["--config", str(conf), *args])
        took.append(time.perf_counter() - started)
        assert result.exit_code == 0, result.output
    return min(took)


def commands(tickets: int) -> list[tuple[str, ...]]:
    """What an admin types: help, show, list with each filter and a few combinations, the report."""
    middle, due = str(tickets // 2), (sweep.NOW - timedelta(days=300)).date().isoformat()
    listing = [(), ("--status", "open"), ("--status", "open,pending"), ("--category", "legal"),
               ("--type", "incident"), ("--requester", "user4242@client"), ("--assignee", "agent3"),
               ("--assignee", "none"), ("--text", "kerberos"), ("--text", "printer"), ("--breached",),
               ("--due-before", sweep.NOW.date().isoformat()), ("--due-before", due),
               ("--since", "2025-06-01", "--until", "2025-06-02"),
               ("--assignee", "agent3", "--status", "open"), ("--status", "new", "--type", "incident"),
               ("--category", "billing", "--text", "invoice"), ("--assignee", "none", "--breached")]
    return [("--help",), ("tickets", "show", middle), ("tickets", "show", str(tickets)),
            *(("tickets", "list", *f) for f in listing), ("report",)]


def measure(conf: Path, runs: int, daemon: bool, tickets: int) -> None:
    """One line per command: imports, best and median wall time, best against the target."""
    print(f"\n{'with' if daemon else 'without'} a running daemon ({runs} runs each)")
    print(f"{'command':60} {'imports':>8} {'best':>7} {'median':>7} {'best/0.3s':>9} {'warm':>7}")
    for args in commands(tickets):
        answered_by_daemon = daemon and args[:1] == ("tickets",)
        if daemon and not answered_by_daemon:
            continue  # the daemon answers only tickets show/list; the rest are timed once, without
        took = wall_seconds(conf, args, runs if args != ("report",) else 1)
        imports = import_seconds(conf, args)
        line = "maildesk " + " ".join(args)
        warm = "" if daemon else f"{warm_seconds(conf, args, len(took)):6.3f}s"
        print(f"{line[:60]:60} {imports:7.2f}s {min(took):6.2f}s {statistics.median(took):6.2f}s "
              f"{min(took) / TARGET_S:8.2f}x {warm:>7}")


@contextmanager
def with_daemon(conf: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`maildesk serve` on the desk, until the generator is closed; ready when its socket is there."""
    sock = conf.parent / "maildesk.sock"
    script = Path(sys.executable).with_name("maildesk")
    log = open(conf.parent / "serve.log", "wb")  # noqa: SIM115 - open while the daemon runs
    proc = subprocess.Popen([str(script), "--config", str(conf), "serve"], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while not sock.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"maildesk serve did not start: see {conf.parent / 'serve.log'}")
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def main() -> None:
    """Build or reuse the desk, then time every command without and with the daemon."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reuse", type=Path, help="A folder holding a desk this script built (or to build one in).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.reuse or Path(tmp)
        conf = folder / "maildesk.conf"
        if not conf.exists():
            folder.mkdir(parents=True, exist_ok=True)
            build(folder, args.tickets)
        tickets = int(sqlite3.connect(folder / "maildesk.sqlite3").execute("SELECT max(id) FROM tickets").fetchone()[0])
        measure(conf, args.runs, False, tickets)
        with with_daemon(conf):
            measure(conf, args.runs, True, tickets)


if __name__ == "__main__":
    main()
