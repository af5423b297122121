"""Throughput on PostgreSQL + Redis with 1, 2 and 4 worker processes.

    .venv/bin/python bench/scale.py [--messages 2000] [--processes 1,2,4] [--threads 4]

For each process count: a fresh database, a front end (`serve --no-workers`) that takes the
messages over SMTP from 4 concurrent clients with no worker running (so the queue is full), then
`maildesk worker --processes N` is started and timed until every message is a ticket and every
acknowledgement is delivered (to a local Maildir). Prints accept rate, processing rate, and the
ratio to one process. Private PostgreSQL and Redis servers are started as the tests do.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "integration")]

from conftest import ServeProcess, make_mail, query, wait_for, write_config  # noqa: E402
from servers import start_postgres, start_redis, stop_postgres  # noqa: E402

CLIENTS = 4


def _send(front: ServeProcess, mails: list[tuple[str, bytes]]) -> None:
    with smtplib.SMTP(front.settings.smtp.host, front.settings.smtp.port, timeout=60) as client:
        for sender, raw in mails:
            client.sendmail(sender, ["support@example.org"], raw)


def _accept(front: ServeProcess, count: int, run: int) -> float:
    mails = [(f"b{run}-{i}@client.example", make_mail(sender=f"b{run}-{i}@client.example",
                                                      subject=f"Bench {i}", message_id=f"b{run}-{i}"))
             for i in range(count)]
    started = time.monotonic()
    threads = [threading.Thread(target=_send, args=(front, mails[k::CLIENTS])) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started


def _done(front: ServeProcess) -> bool:
    return (query(front.settings, "select count(*) from inbound where state = 'received'") == [(0,)]
            and query(front.settings, "select count(*) from outbox where state != 'sent'") == [(0,)])


def run_one(work: Path, database_url: str, redis_url: str, processes: int, threads: int, count: int) -> dict[str, float]:
    """One measurement; returns accept and processing rates in messages per second."""
    work.mkdir()
    path = write_config(work, f'[database]\nurl = "{database_url}"\n[broker]\nurl = "{redis_url}"\n'
                              '[log]\nlevel = "WARNING"\n')
    path.write_text(path.read_text().replace("interval_seconds = 0.5\nstuck_after_seconds = 5",
                                             "interval_seconds = 30\nstuck_after_seconds = 600"))
    front = ServeProcess(path)
    front.start_args = ("serve", "--no-workers")
    assert front.cli("init").returncode == 0
    front.start()
    accept_seconds = _accept(front, count, processes)
    started = time.monotonic()
    worker = subprocess.Popen([sys.executable, "-m", "maildesk", "--config", str(path), "worker", "--processes",
                               str(processes), "--threads", str(threads)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _done(front), 1800, "the queue to drain")
        process_seconds = time.monotonic() - started
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)
        front.stop()
    return {"accept": count / accept_seconds, "process": count / process_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="maildesk-bench-"))
    root.chmod(0o711)  # PostgreSQL runs as its own user and must reach root/pg
    pg = start_postgres(root / "pg")
    redis, redis_proc = start_redis()
    results: dict[int, dict[str, float]] = {}
    try:
        for n in (int(p) for p in args.processes.split(",")):
            results[n] = run_one(root / f"run{n}", pg.new_database(), redis.new_url(), n, args.threads,
                                 args.messages)
            print(f"{n} worker process(es) × {args.threads} threads: accept {results[n]['accept']:.0f} msg/s, "
                  f"process {results[n]['process']:.0f} msg/s", flush=True)
    finally:
        redis_proc.terminate()
        stop_postgres(pg)
        shutil.rmtree(root, ignore_errors=True)
    base = results[min(results)]["process"]
    print(f"\n{args.messages} messages each; processing rate relative to {min(results)} process(es):")
    for n, r in results.items():
        print(f"  {n}: {r['process']:.0f} msg/s  ×{r['process'] / base:.2f}")


if __name__ == "__main__":
    main()
