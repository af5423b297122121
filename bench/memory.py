"""Memory with large mail: 16 messages of 23 MB sent at once to a fresh `maildesk serve`.

    .venv/bin/python bench/memory.py [--messages 16] [--mb 23]

Starts the daemon (SQLite, embedded broker with its pipeline process, Maildir outbox) in a temporary
directory, sends the messages over SMTP from as many client threads at once (each a PDF-like
attachment of random bytes, base64-encoded as mail clients do), waits until every one is stored
and processed, and prints the peak resident memory (VmHWM) of the listener process and of the
pipeline process against the ceilings of 300 MB and 400 MB, and whether every message was stored
byte for byte. Exits 1 when a ceiling is passed or a message is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ingest.py's helpers, run from anywhere
from ingest import free_port, wait_port

ROOT = Path(__file__).resolve().parents[1]
LISTENER_CEILING_MB, PIPELINE_CEILING_MB = 300, 400


def message(i: int, size: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"User {i} <user{i}@client{i}.example>"
    msg["To"] = "support@example.org"
    msg["Subject"] = f"Scan {i}"
    msg["Message-ID"] = f"<memory-{i}-{os.getpid()}@client.example>"
    msg.set_content("The scan is attached.\n")
    msg.add_attachment(os.urandom(size * 3 // 4), maintype="application", subtype="pdf", filename=f"scan{i}.pdf")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def peak_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def send_all(port: int, mails: list[bytes]) -> list[str]:
    errors: list[str] = []

    def send(raw: bytes) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=300) as client:
                client.sendmail("bench@client.example", ["support@example.org"], raw)
        except (OSError, smtplib.SMTPException) as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=send, args=(raw,)) for raw in mails]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def wait_processed(db: Path, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(db, timeout=30) as conn:
            done = conn.execute("select count(*) from inbound where state != 'received'").fetchone()[0]
        if done >= count:
            return
        time.sleep(0.5)
    raise SystemExit(f"only {done} of {count} messages processed after {timeout:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=16)
    parser.add_argument("--mb", type=int, default=23, help="size of each message in MB")
    args = parser.parse_args()
    mails = [message(i, args.mb * 1024 * 1024) for i in range(args.messages)]
    with tempfile.TemporaryDirectory() as tmp:
        work, port = Path(tmp), free_port()
        conf = work / "maildesk.conf"
        conf.write_text(f'[desk]\naddress = "support@example.org"\n[smtp]\nlisten = "127.0.0.1:{port}"\n'
                        'max_message_size = 30000000\n[log]\nlevel = "WARNING"\n', encoding="utf-8")
        cli = [sys.executable, "-m", "maildesk", "--config", str(conf)]
        subprocess.run([*cli, "init"], check=True, capture_output=True)
        daemon = subprocess.Popen([*cli, "serve"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_port(port)
            started = time.monotonic()
            errors = send_all(port, mails)
            sent = time.monotonic() - started
            wait_processed(work / "var" / "maildesk.sqlite3", args.messages, 600)
            pipeline = children(daemon.pid)
            listener_mb = peak_mb(daemon.pid)
            pipeline_mb = max((peak_mb(p) for p in pipeline), default=0.0)
            with sqlite3.connect(work / "var" / "maildesk.sqlite3") as conn:
                stored = {hashlib.sha256(raw).hexdigest() for (raw,) in conn.execute("select raw from inbound")}
        finally:
            daemon.terminate()
            daemon.wait(60)
    whole = sum(hashlib.sha256(raw).hexdigest() in stored for raw in mails)
    print(f"{args.messages} messages of {len(mails[0]) / 1e6:.1f} MB at once, sent in {sent:.1f} s"
          + (f", {len(errors)} refused: {errors[:2]}" if errors else ""))
    print(f"listener peak RSS   {listener_mb:7.1f} MB  (ceiling {LISTENER_CEILING_MB} MB)")
    print(f"pipeline peak RSS   {pipeline_mb:7.1f} MB  (ceiling {PIPELINE_CEILING_MB} MB)")
    print(f"stored byte for byte {whole} of {args.messages}")
    ok = listener_mb < LISTENER_CEILING_MB and pipeline_mb < PIPELINE_CEILING_MB and whole == args.messages
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
