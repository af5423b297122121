"""Mail piped in by an MTA, one process per message: maildesk with and without a running daemon,
and Roundup's mail gateway on the same messages.

    .venv/bin/python bench/pipe.py [-n 100] [--roundup ../roundup-venv] [--generated]

Each message goes through `maildesk ingest -f SENDER -r support@example.org` as Postfix's pipe
transport calls it: a fresh process, the raw mail on stdin, exit status 0 required (anything else
stops the bench with the command's stderr). Twice, each on a fresh desk (SQLite, embedded queue,
Maildir outbox) in a temporary directory:

* with `maildesk serve` running: `ingest` hands the mail to the daemon over its local socket, which
  commits it durably before it answers, and the daemon's pipeline makes the ticket afterwards;
* without a daemon: `ingest` stores the mail itself, then processes it in the same process.

It prints the seconds per message (mean, median, p95: the time an MTA waits for each exit
status), the CPU time of those processes per message (which other load on the machine changes
less), and the seconds from the first pipe until every message is processed (a ticket, or set
aside as a robot's or a duplicate, as each mail deserves), read from the desk's database.

The messages are the first N of the shared corpus (`../shared/corpus`, MANIFEST.tsv: every file not
tagged `expected-result`) when it is there, else generated requests (`--generated` forces those).

With `--roundup VENV`, a venv with Roundup installed:

    python3 -m venv ../roundup-venv && ../roundup-venv/bin/pip install roundup

the bench also creates a Roundup tracker (`roundup-admin install classic sqlite`, then
`initialise`) in a temporary directory and pipes the same messages, one process each, through
`roundup-mailgw TRACKER` reading stdin, and prints its figures and the ratios. The tracker lets
unknown senders in by mail (the classic schema's commented-out `'Email Access'` for Anonymous,
switched on: a help desk takes mail from anyone), turns HTML-only mail into text (`[mailgw]
convert_htmltotext = dehtml`; with the default it refuses such mail) and writes the mail it sends to
a file (`[mail] debug`) as maildesk writes to its Maildir. Roundup's non-zero exits are counted
and shown, not fatal: its gateway fails on some real mail. Roundup's gateway works synchronously: when its
process exits, the issue exists. The three runs go back to back: Roundup, maildesk with a daemon,
maildesk without.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ingest.py's helpers, run from anywhere
from ingest import free_port

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
DESK = "support@example.org"
# Every generated request comes from client.example, and many corpus mails from a handful of
# domains: the brakes on answers per domain, client and fingerprint would hold back acknowledgements
# a real desk sends, so they are raised out of the way (as bench/ingest.py does).
BRAKES = ("[brakes]\nanswers_per_domain_per_hour = 1000000\nanswers_per_client_per_hour = 1000000\n"
          "answers_per_fingerprint_per_day = 1000000\n")


@dataclass(frozen=True)
class Mail:
    """One message to pipe: its envelope sender and its bytes."""

    sender: str
    raw: bytes


@dataclass(frozen=True)
class Run:
    """What one system did with the messages: seconds per pipe, and until all were processed."""

    name: str
    per_message: list[float]
    until_done: float
    cpu: float  # of the piped processes alone (not the daemon's), all messages
    failures: tuple[str, ...] = ()

    def line(self) -> str:
        p = sorted(self.per_message)
        p95 = p[min(len(p) - 1, int(len(p) * 0.95))]
        return (f"{self.name:<28} per message: mean {statistics.fmean(p):.3f} s, median "
                f"{statistics.median(p):.3f} s, p95 {p95:.3f} s, CPU {self.cpu / len(p) * 1000:.0f} ms; "
                f"all {len(p)} processed after "
                f"{self.until_done:.2f} s" + (f"; {len(self.failures)} exited non-zero" if self.failures else ""))


def corpus_mail(count: int) -> list[Mail]:
    """The first `count` messages of the shared corpus, in MANIFEST order."""
    lines = (CORPUS / "MANIFEST.tsv").read_text().splitlines()[1:]
    paths = [line.split("\t")[0] for line in lines if "expected-result" not in line.split("\t")[2]]
    mails = []
    for path in paths[:count]:
        raw = (CORPUS / path).read_bytes()
        if raw.startswith(b"From "):  # an mbox "From " line is not part of the mail an MTA pipes
            raw = raw.split(b"\n", 1)[1]
        sender = parseaddr(str(BytesHeaderParser().parsebytes(raw).get("From", "")))[1]
        mails.append(Mail(sender if "@" in sender else "someone@client.example", raw))
    return mails


def generated_mail(count: int) -> list[Mail]:
    """`count` plain requests from different people."""
    mails = []
    for i in range(count):
        msg = EmailMessage()
        msg["From"] = f"User {i} <user{i}@client.example>"
        msg["To"] = DESK
        msg["Subject"] = f"Request {i}: the printer on floor {i % 7} does not print"
        msg["Message-ID"] = f"<pipe-{i}-{os.getpid()}@client.example>"
        msg["Date"] = "Fri, 20 Nov 2026 10:00:00 +0000"
        msg.set_content(f"Hello,\n\nrequest number {i}. The printer shows error {i % 13}.\n\nThanks\n" * 3)
        mails.append(Mail(f"user{i}@client.example", msg.as_bytes()))
    return mails


def children_cpu() -> float:
    """CPU seconds (user + system) of the child processes that have ended so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pipe_all(mails: list[Mail], command: Callable[[Mail], list[str]],
             failures: list[str] | None = None) -> tuple[list[float], float, float]:
    """Run `command` once per mail with the mail on stdin; each run's seconds, when the first began,
    and the CPU seconds of all of them. A non-zero exit status stops the bench, or with `failures` is
    noted there (the last stderr line)."""
    started, cpu = time.monotonic(), children_cpu()
    seconds = []
    for mail in mails:
        before = time.monotonic()
        done = subprocess.run(command(mail), input=mail.raw, capture_output=True, timeout=120)
        seconds.append(time.monotonic() - before)
        if done.returncode == 0:
            continue
        last = (done.stderr.decode(errors="replace").strip().splitlines() or ["(nothing on stderr)"])[-1]
        if failures is None:
            raise SystemExit(f"{command(mail)[0]} exited {done.returncode}: {last}")
        failures.append(f"exit {done.returncode}: {last}")
    return seconds, started, children_cpu() - cpu


def make_desk(work: Path) -> Path:
    """A fresh desk in `work`; its config file."""
    work.mkdir()
    conf = work / "maildesk.conf"
    conf.write_text(f'[desk]\naddress = "{DESK}"\n[smtp]\nlisten = "127.0.0.1:{free_port()}"\n'
                    f'[log]\nlevel = "WARNING"\n{BRAKES}')
    subprocess.run([str(Path(sys.executable).with_name("maildesk")), "--config", str(conf), "init"],
                   check=True, capture_output=True, cwd=work)
    return conf


def waiting(database: Path) -> int:
    """Inbound rows the desk has not processed yet."""
    with sqlite3.connect(database, timeout=30) as db:
        return int(db.execute("select count(*) from inbound where state = 'received'").fetchone()[0])


@contextmanager
def daemon(conf: Path) -> Iterator[None]:
    """`maildesk serve` on the desk of `conf`, ready when its local socket answers."""
    cli = str(Path(sys.executable).with_name("maildesk"))
    with open(conf.parent / "serve.log", "wb") as log:
        proc = subprocess.Popen([cli, "--config", str(conf), "serve"], stderr=log, cwd=conf.parent)
    try:
        deadline = time.monotonic() + 60
        sock = conf.parent / "var" / "maildesk.sock"
        while not sock.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"maildesk serve did not start: {(conf.parent / 'serve.log').read_text()}")
            time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        proc.wait(60)


def run_maildesk(mails: list[Mail], work: Path, with_daemon: bool) -> Run:
    conf = make_desk(work)
    cli = str(Path(sys.executable).with_name("maildesk"))

    def command(mail: Mail) -> list[str]:
        return [cli, "--config", str(conf), "ingest", "-f", mail.sender, "-r", DESK]

    database = conf.parent / "var" / "maildesk.sqlite3"
    if with_daemon:
        with daemon(conf):
            seconds, started, cpu = pipe_all(mails, command)
            while waiting(database):
                time.sleep(0.01)
            until = time.monotonic() - started
    else:
        seconds, started, cpu = pipe_all(mails, command)
        until = time.monotonic() - started
        if waiting(database):
            raise SystemExit("ingest without a daemon left messages unprocessed")
    name = "maildesk, daemon running" if with_daemon else "maildesk, no daemon"
    return Run(name, seconds, until, cpu)


def roundup_tracker(venv: Path, work: Path) -> Path:
    """A classic Roundup tracker on sqlite in `work` that takes mail from anyone."""
    tracker = work / "tracker"
    admin = str(venv / "bin" / "roundup-admin")
    options = (f"tracker_web=http://localhost:8917/,mail_domain=example.org,mail_host=localhost,"
               f"mail_debug={work / 'sent-mail.txt'},mailgw_convert_htmltotext=dehtml")
    subprocess.run([admin, "-i", str(tracker), "install", "classic", "sqlite", options],
                   check=True, capture_output=True)
    schema = tracker / "schema.py"
    line = "db.security.addPermissionToRole('Anonymous', 'Email Access')"
    schema.write_text(schema.read_text().replace(f"#{line}", line))
    subprocess.run([admin, "-i", str(tracker), "initialise", "admin-password"], check=True, capture_output=True)
    return tracker


def run_roundup(mails: list[Mail], venv: Path, work: Path) -> Run:
    work.mkdir()
    tracker = roundup_tracker(venv, work)
    gateway = str(venv / "bin" / "roundup-mailgw")
    failures: list[str] = []
    seconds, started, cpu = pipe_all(mails, lambda mail: [gateway, str(tracker)], failures)
    return Run("Roundup roundup-mailgw", seconds, time.monotonic() - started, cpu, tuple(failures))


def tickets(work: Path) -> int:
    with sqlite3.connect(work / "var" / "maildesk.sqlite3") as db:
        return int(db.execute("select count(*) from tickets").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--count", type=int, default=100)
    parser.add_argument("--roundup", type=Path, default=None, help="A venv with Roundup installed.")
    parser.add_argument("--generated", action="store_true", help="Generated mail even when the corpus is there.")
    parser.add_argument("--daemon-only", action="store_true",
                        help="Skip the run without a daemon (it takes minutes): to compare two checkouts.")
    args = parser.parse_args()
    from_corpus = CORPUS.is_dir() and not args.generated
    mails = corpus_mail(args.count) if from_corpus else generated_mail(args.count)
    print(f"{len(mails)} messages from {'the shared corpus' if from_corpus else 'the generator'}, "
          f"one process each, back to back")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        roundup = run_roundup(mails, args.roundup, work / "roundup") if args.roundup else None
        served = run_maildesk(mails, work / "served", with_daemon=True)
        alone = None if args.daemon_only else run_maildesk(mails, work / "alone", with_daemon=False)
        made = (tickets(work / "served"), None if alone is None else tickets(work / "alone"))
    for run in (served, alone, roundup):
        if run is not None:
            print(run.line())
            for failure in sorted(set(run.failures)):
                print(f"    {run.failures.count(failure)} x {failure}")
    print(f"tickets made: {made[0]} with the daemon" + ("" if made[1] is None else f", {made[1]} without"))
    mean = statistics.fmean(served.per_message)
    print(f"target 0.15 s per message with the daemon: {'met' if mean <= 0.15 else 'NOT met'} ({mean:.3f} s)")
    if roundup is not None:
        ratio = mean / statistics.fmean(roundup.per_message)
        alone_ratio = "" if alone is None else \
            f"without a daemon: {statistics.fmean(alone.per_message) / statistics.fmean(roundup.per_message):.2f}; "
        print(f"maildesk (daemon) / Roundup, mean per message: {ratio:.2f}; {alone_ratio}"
              f"target at most 0.50: {'met' if ratio <= 0.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
