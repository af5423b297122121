"""Load with a worker killed: two front ends, two worker processes, PostgreSQL + Redis, 10,000 mails.

MAILDESK_LOAD_MESSAGES makes it smaller while developing (CI runs the full 10,000).
"""

from __future__ import annotations

import json
import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from conftest import REPO, ServeProcess, make_mail, outbox_files, query, wait_for, write_config
from servers import Postgres, Redis, postgres_server, redis_server  # noqa: F401

TOTAL = int(os.environ.get("MAILDESK_LOAD_MESSAGES", "10000"))
REPLY_SHARE = 0.3
CLIENTS = 4


class Worker:
    """`maildesk worker` in its own process group, so SIGKILL takes its children too."""

    def __init__(self, config_path: Path, name: str) -> None:
        self.args = [sys.executable, "-m", "maildesk", "--config", str(config_path), "worker",
                     "--processes", "1", "--threads", "4"]
        self.log = config_path.parent / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                         cwd=REPO)

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.wait(60)


def _mails() -> list[tuple[str, bytes]]:
    """(envelope sender, bytes): originals from distinct senders, then replies citing an earlier original."""
    originals = int(TOTAL * (1 - REPLY_SHARE))
    mails = [(f"c{i}@client.example", make_mail(sender=f"c{i}@client.example", subject=f"Request {i}",
                                                 message_id=f"load-{i}")) for i in range(originals)]
    for j in range(TOTAL - originals):
        i = j % originals
        mails.append((f"c{i}@client.example", make_mail(
            sender=f"c{i}@client.example", subject=f"Re: Request {i}", body=f"More about {i}.",
            message_id=f"load-re-{j}", In_Reply_To=f"<load-{i}@client.example>",
            References=f"<load-{i}@client.example>")))
    return mails


def _send(fronts: list[ServeProcess], mails: list[tuple[str, bytes]], accepted: list[str]) -> None:
    """One client: like an MTA, a mail without 250 is offered again (to the other front end)."""
    client: smtplib.SMTP | None = None
    turn = 0
    for sender, raw in mails:
        while True:
            try:
                if client is None:
                    front = fronts[turn % len(fronts)].settings.smtp
                    client = smtplib.SMTP(front.host, front.port, timeout=30)
                client.sendmail(sender, ["support@example.org"], raw)
                accepted.append(str(message_from_bytes(raw, policy=policy.compat32)["Message-ID"]))
                break
            except (OSError, smtplib.SMTPException):
                client, turn = None, turn + 1
                time.sleep(0.05)
    if client is not None:
        client.quit()


def _send_all(fronts: list[ServeProcess], mails: list[tuple[str, bytes]]) -> list[str]:
    accepted: list[str] = []
    threads = [threading.Thread(target=_send, args=(fronts, mails[k::CLIENTS], accepted)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(900)
    return accepted


def _drained(front: ServeProcess) -> bool:
    return (query(front.settings, "select count(*) from inbound where state = 'received'") == [(0,)]
            and query(front.settings, "select count(*) from outbox where state != 'sent'") == [(0,)])


@pytest.mark.slow
def test_10000_messages_two_front_ends_two_workers_one_killed(tmp_path: Path, postgres_server: Postgres,  # noqa: F811
                                                             redis_server: Redis) -> None:  # noqa: F811
    # 10,000 mails (30% replies) over SMTP into two front ends; one of two workers is SIGKILLed and
    # restarted; every mail ends on exactly one ticket, every ack goes out once, nothing is stuck.
    backend = f'[database]\nurl = "{postgres_server.new_database()}"\n[broker]\nurl = "{redis_server.new_url()}"\n'
    # Sweeps rarely and late: a deep queue is not stuck, and re-queueing it would only add work.
    sweep = "[sweep]\ninterval_seconds = 5\nstuck_after_seconds = 60\n"
    fronts = []
    for name in ("front1", "front2"):
        directory = tmp_path / name
        directory.mkdir()
        path = write_config(directory, backend, data_dir=str(tmp_path / "data"))
        path.write_text(path.read_text().replace("[sweep]\ninterval_seconds = 0.5\nstuck_after_seconds = 5\n",
                                                 sweep))
        fronts.append(ServeProcess(path))
    assert fronts[0].cli("init").returncode == 0
    for front in fronts:
        front.start_args = ("serve", "--no-workers")
        front.start()
    workers = [Worker(fronts[i].config_path, f"worker{i}") for i in range(2)]
    for w in workers:
        w.start()
    mails = _mails()
    originals = int(TOTAL * (1 - REPLY_SHARE))
    started = time.monotonic()
    accepted = _send_all(fronts, mails[:originals])
    # Replies go out once their originals are tickets, and meanwhile one worker dies the hard way.
    wait_for(lambda: query(fronts[0].settings, "select count(*) from inbound where state = 'received'")
             < [(originals // 4,)], 600, "most originals processed")
    print(f"\noriginals sent and mostly processed after {time.monotonic() - started:.0f}s")
    workers[0].kill()
    accepted += _send_all(fronts, mails[originals:originals + (TOTAL - originals) // 2])
    workers[0].start()
    wait_for(lambda: query(fronts[0].settings, "select count(*) from inbound where state = 'received'") == [(0,)],
             600, "every original processed")
    print(f"worker restarted, originals done after {time.monotonic() - started:.0f}s")
    accepted += _send_all(fronts, mails[originals + (TOTAL - originals) // 2:])
    wait_for(lambda: _drained(fronts[0]), 600, "all mail processed and every acknowledgement sent")
    elapsed = time.monotonic() - started
    print(f"\n{TOTAL} messages in {elapsed:.0f}s ({TOTAL / elapsed:.0f} msg/s end to end)")

    assert len(accepted) == TOTAL == len(set(accepted))
    on_tickets = Counter(f"<{r[0]}>" for r in query(fronts[0].settings, "select message_id from messages"))
    assert set(on_tickets) == set(accepted) and max(on_tickets.values()) == 1
    assert query(fronts[0].settings, "select count(*) from tickets") == [(originals,)]
    replies_off = query(fronts[0].settings, "select count(*) from messages m join tickets t on t.id = m.ticket_id "
                        "join contacts c on c.id = t.requester_id where left(m.message_id, 8) = 'load-re-' "
                        "and c.email != m.from_email")
    assert replies_off == [(0,)]  # each reply is on its own requester's ticket
    acks = [message_from_bytes(raw, policy=policy.compat32) for raw in outbox_files(fronts[0].settings)]
    answered = Counter(str(m["In-Reply-To"]) for m in acks if m["Auto-Submitted"] == "auto-replied")
    assert len(answered) == originals and max(answered.values()) == 1
    status = fronts[0].cli("status", "--json")
    assert status.returncode == 0, status.stdout
    assert json.loads(status.stdout)["stuck"] is False
    for w in workers:
        assert w.stop() == 0
    for front in fronts:
        assert front.stop() == 0
