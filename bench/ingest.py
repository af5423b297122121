"""End-to-end ingestion throughput: SMTP in → ticket → acknowledgement written, against a floor.

    .venv/bin/python bench/ingest.py [-n 2000] [--clients 4] [--threads 4]

Starts a fresh `maildesk serve` (SQLite, embedded broker, Maildir outbox) in a
temporary directory, sends N generated requests over SMTP from several client
threads, and measures from the first 250 to the moment the N-th
acknowledgement file exists. The floor is the same client against a bare
aiosmtpd server that only commits the raw bytes to SQLite (no parsing, no
tickets, no mail out): the ratio says how much of the ceiling maildesk keeps.
The daemon's resident memory is sampled through the run to show whether it
stays flat.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Every request comes from client.example over one loopback client: a real desk's do not, so the
# brakes on answers per domain, client and fingerprint and the connection rate per client are
# raised out of the way (each request still gets its acknowledgement, as before they existed).
ONE_DOMAIN_BRAKES = ("[brakes]\nanswers_per_domain_per_hour = 1000000\nanswers_per_client_per_hour = 1000000\n"
                     "answers_per_fingerprint_per_day = 1000000\n")
ONE_CLIENT_SMTP = "connections_per_client_per_minute = 1000000\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def message(i: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"User {i} <user{i}@client.example>"
    msg["To"] = "support@example.org"
    msg["Subject"] = f"Request {i}: the printer on floor {i % 7} does not print"
    msg["Message-ID"] = f"<bench-{i}-{os.getpid()}@client.example>"
    msg["Date"] = "Fri, 20 Nov 2026 10:00:00 +0000"
    msg.set_content(f"Hello,\n\nrequest number {i}. The printer shows error {i % 13}.\n\nThanks\n" * 3)
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))  # as MTAs send it


LATENCIES: list[float] = []  # seconds from MAIL FROM to 250 after DATA, per message of the last run


def send_all(port: int, count: int, clients: int) -> tuple[float, float]:
    """Send `count` mails over `clients` connections; return (first 250, last 250) monotonic times."""
    stamps: list[float] = []
    lock = threading.Lock()
    mails = [message(i) for i in range(count)]
    LATENCIES.clear()

    def worker(offset: int) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
            for i in range(offset, count, clients):
                started = time.monotonic()
                client.sendmail(f"user{i}@client.example", ["support@example.org"], mails[i])
                with lock:
                    stamps.append(time.monotonic())
                    LATENCIES.append(stamps[-1] - started)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return min(stamps), max(stamps)


def machine_ticks() -> tuple[int, int]:
    """(all CPU ticks, stolen ticks) of the whole machine so far: a VM's host may take time away."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(fields[:8]), fields[7]


def tree(pid: int) -> list[int]:
    """`pid` and its descendants (serve and its pipeline process)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    found = [pid]
    for p in found:
        found += [child for child, parent in parents.items() if parent == p]
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process and its descendants have used so far."""
    total = 0
    for p in tree(pid):
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    """Resident memory of the process and its descendants."""
    total = 0
    for p in tree(pid):
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def run_maildesk(count: int, clients: int, threads: int, work: Path, one_process: bool) -> dict[str, Any]:
    port = free_port()
    conf = work / "maildesk.conf"
    conf.write_text(f'[desk]\naddress = "support@example.org"\n[smtp]\nlisten = "127.0.0.1:{port}"\n'
                    f"{ONE_CLIENT_SMTP}[broker]\nworker_threads = {threads}\n"
                    f"pipeline_process = {'false' if one_process else 'true'}\n"
                    f"[log]\nlevel = \"WARNING\"\n{ONE_DOMAIN_BRAKES}")
    cli = [sys.executable, "-m", "maildesk", "--config", str(conf)]
    subprocess.run([*cli, "init"], check=True, capture_output=True)
    with open(work / "serve.log", "wb") as log:
        proc = subprocess.Popen([*cli, "serve"], stderr=log)
    try:
        wait_port(port)
        outbox = work / "var" / "outbox" / "new"
        samples: list[int] = [rss_kib(proc.pid)]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.5):
                samples.append(rss_kib(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        ticks_before = machine_ticks()
        first, last_250 = send_all(port, count, clients)
        while not outbox.is_dir() or len(os.listdir(outbox)) < count:
            time.sleep(0.01)
        done = time.monotonic()
        ticks_after = machine_ticks()
        cpu = cpu_seconds(proc.pid)
        stop.set()
        sampler.join()
    finally:
        proc.terminate()
        proc.wait(30)
    total, stolen = (after - before for after, before in zip(ticks_after, ticks_before, strict=True))
    return {"seconds": done - first, "accept_seconds": last_250 - first, "rss": samples, "cpu": cpu,
            "latency": sorted(LATENCIES), "steal": stolen / total if total else 0.0}


FLOOR_SERVER = '''
import asyncio, sqlite3, sys, threading, time
from aiosmtpd.controller import Controller
db = sqlite3.connect(sys.argv[2], check_same_thread=False, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL")
db.execute("create table raw (id integer primary key, data blob)")
lock = threading.Lock()
class H:
    async def handle_DATA(self, server, session, envelope):
        with lock:
            db.execute("BEGIN IMMEDIATE"); db.execute("insert into raw (data) values (?)", (envelope.original_content,)); db.execute("COMMIT")
        return "250 OK"
c = Controller(H(), hostname="127.0.0.1", port=int(sys.argv[1])); c.start()
time.sleep(3600)
'''


def run_floor(count: int, clients: int, work: Path) -> float:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", FLOOR_SERVER, str(port), str(work / "floor.sqlite3")])
    try:
        wait_port(port)
        first, last = send_all(port, count, clients)
    finally:
        proc.terminate()
        proc.wait(30)
    return last - first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--count", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="maildesk worker threads")
    parser.add_argument("--one-process", action="store_true",
                        help="pipeline_process = false: listener and workers share one process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "floor").mkdir()
        floor_s = run_floor(args.count, args.clients, work / "floor")
        result = run_maildesk(args.count, args.clients, args.threads, work, args.one_process)
    rate = args.count / result["seconds"]
    floor_rate = args.count / floor_s
    rss = result["rss"]
    third = max(1, len(rss) // 3)
    print(f"messages: {args.count}, SMTP clients: {args.clients}, worker threads: {args.threads}, "
          f"{'one process' if args.one_process else 'listener and pipeline in two processes'}")
    print(f"floor (aiosmtpd + raw bytes into SQLite): {floor_rate:8.1f} msg/s ({floor_s:.2f} s)")
    print(f"maildesk end to end (250 → ack written):  {rate:8.1f} msg/s ({result['seconds']:.2f} s)")
    print(f"maildesk acceptance only (first→last 250): {args.count / result['accept_seconds']:8.1f} msg/s")
    print(f"ratio end-to-end / floor: {rate / floor_rate:.2f}")
    print(f"CPU time stolen by the VM host during the run: {result['steal'] * 100:.1f} %")
    latency = result["latency"]
    print(f"time to 250 per message: median {latency[len(latency) // 2] * 1000:.1f} ms, "
          f"p99 {latency[int(len(latency) * 0.99)] * 1000:.1f} ms, max {latency[-1] * 1000:.1f} ms")
    print(f"daemon CPU per message (all its processes): {result['cpu'] / args.count * 1000:.2f} ms "
          f"(start-up included; independent of other load on the machine)")
    print(f"daemon RSS KiB: start {rss[0]}, first third max {max(rss[:third])}, "
          f"last third max {max(rss[-third:])}, peak {max(rss)} ({len(rss)} samples)")
    print(f"target 200 msg/s: {'met' if rate >= 200 else 'NOT met'} ({rate / 200:.2f}x)")


if __name__ == "__main__":
    main()
