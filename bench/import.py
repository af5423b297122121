"""Import speed: `maildesk import` of a generated mbox into a fresh desk, in messages per second.

    .venv/bin/python bench/import.py [-n 2000] [--replies 0.4] [--notify]

Writes an mbox of N messages spread over two years (new requests from a few hundred people, a
share of replies quoting what they answer, one in twenty with a PDF), initialises a fresh desk
(SQLite, the embedded defaults) in a temporary folder and times `maildesk import` as an admin runs
it, from the shell to its exit. The start of the interpreter and the imports of the package are
timed apart (`maildesk import --help`) so the rate of the import itself can be read too, and the
command's CPU time is reported beside the wall clock: on a shared machine the wall clock follows
the other load, the CPU time much less. Prints the figures and the command to reproduce them.
"""

from __future__ import annotations

import argparse
import mailbox
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 120  # about 30 KB


def backlog(path: Path, count: int, replies: float) -> None:
    """An mbox of `count` messages, oldest first, a share `replies` of them answering an earlier one."""
    rng = random.Random(15)
    box = mailbox.mbox(path)
    start = datetime(2023, 1, 2, 9, tzinfo=UTC)
    requests: list[tuple[int, str, str, str]] = []
    for i in range(count):
        msg = EmailMessage()
        msg["To"] = "support@example.org"
        msg["Date"] = format_datetime(start + timedelta(minutes=37 * i + rng.randrange(30)))
        msg["Message-ID"] = f"<backlog-{i}@client{i % 9}.example>"
        text = (f"Hello,\n\nthe printer on floor {i % 7} shows error {i % 13} again since this morning.\n"
                "We restarted it twice; the queue still holds our jobs.\n\nRegards\n") * 2
        if requests and rng.random() < replies:
            j, sender, subject, asked = rng.choice(requests)
            msg["From"], msg["Subject"] = sender, "Re: " + subject
            msg["In-Reply-To"] = msg["References"] = f"<backlog-{j}@client{j % 9}.example>"
            text = "Any news on this?\n\n> " + asked.replace("\n", "\n> ")
        else:
            sender, subject = f"User {i % 300} <user{i % 300}@client{i % 9}.example>", f"Printer error {i}"
            msg["From"], msg["Subject"] = sender, subject
            requests.append((i, sender, subject, text))
        msg.set_content(text)
        if i % 20 == 0:
            msg.add_attachment(PDF, maintype="application", subtype="pdf", filename=f"scan-{i}.pdf")
        box.add(msg)
    box.close()


def timed(args: list[str]) -> tuple[float, float]:
    """Wall-clock seconds of the command, and the CPU seconds it used (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(args, capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr.decode()[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return time.monotonic() - started, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--count", type=int, default=2000)
    parser.add_argument("--replies", type=float, default=0.4, help="share of replies (default 0.4)")
    parser.add_argument("--notify", action="store_true", help="import with --notify (acknowledgements sent)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="maildesk-bench-import-") as tmp:
        work = Path(tmp)
        (work / "maildesk.conf").write_text(f'[desk]\naddress = "support@example.org"\ndata_dir = "{work / "var"}"\n')
        cli = [sys.executable, "-m", "maildesk", "--config", str(work / "maildesk.conf")]
        backlog(work / "backlog.mbox", options.count, options.replies)
        subprocess.run([*cli, "init"], check=True, capture_output=True)
        start_up, _ = min(timed([*cli, "import", "--help"]) for _ in range(3))
        load = os.getloadavg()[0]
        seconds, cpu = timed([*cli, "import", *(["--notify"] if options.notify else []), str(work / "backlog.mbox")])
    print(f"maildesk import of {options.count} messages ({options.replies:.0%} replies, 5% with a 30 KB PDF)"
          f"{', --notify' if options.notify else ''}, fresh SQLite desk:")
    print(f"  command, start to exit   {seconds:6.2f} s   {options.count / seconds:6.0f} msg/s")
    print(f"  interpreter and imports  {start_up:6.2f} s   (maildesk import --help)")
    net = seconds - start_up
    print(f"  the import itself        {net:6.2f} s   {options.count / net:6.0f} msg/s")
    print(f"  CPU time of the command  {cpu:6.2f} s   {options.count / cpu:6.0f} msg per CPU second "
          f"(what other load on the machine changes least; load average {load:.1f} at the start)")
    print(f"reproduce: .venv/bin/python bench/import.py -n {options.count} --replies {options.replies}"
          f"{' --notify' if options.notify else ''}")


if __name__ == "__main__":
    main()
