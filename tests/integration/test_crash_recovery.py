"""SIGKILL in the middle of a stream of mail: nothing that got 250 is lost or doubled."""

from __future__ import annotations

import smtplib
import threading
import time
from collections import Counter
from collections.abc import Callable
from email import message_from_bytes, policy

import pytest
from conftest import ServeProcess, make_mail, outbox_files, query, wait_for
from servers import backend, postgres_server, redis_server, serve_on_backend  # noqa: F401


@pytest.fixture
def serve(serve: Callable[..., ServeProcess], backend: str) -> Callable[..., ServeProcess]:  # noqa: F811
    """Every test here runs on SQLite + embedded queue and again on PostgreSQL + Redis."""
    return serve_on_backend(serve, backend)

TOTAL = 500


def _send_all(daemon: ServeProcess, accepted: list[str], stop: threading.Event) -> None:
    """Send TOTAL mails like an MTA: a mail without a 250 is sent again until it gets one."""
    pending = [f"crash-{i}" for i in range(TOTAL)]
    client: smtplib.SMTP | None = None
    while pending and not stop.is_set():
        try:
            if client is None:
                client = smtplib.SMTP(daemon.settings.smtp.host, daemon.settings.smtp.port, timeout=5)
            mid = pending[0]
            client.sendmail(f"{mid}@client.example", ["support@example.org"],
                            make_mail(sender=f"{mid}@client.example", subject=f"Request {mid}", message_id=mid))
            accepted.append(mid)
            pending.pop(0)
        except (OSError, smtplib.SMTPException):
            client = None
            time.sleep(0.05)


@pytest.mark.slow
def test_sigkill_during_500_messages(serve: Callable[..., ServeProcess]) -> None:
    # The daemon is killed with SIGKILL mid-stream and restarted; every 250'd mail is on one ticket
    # exactly once and every acknowledgement went out exactly once.
    daemon = serve().start()
    accepted: list[str] = []
    stop = threading.Event()
    sender = threading.Thread(target=_send_all, args=(daemon, accepted, stop), daemon=True)
    sender.start()
    wait_for(lambda: len(accepted) >= 150, 60, "150 accepted mails before the kill")
    daemon.kill()
    time.sleep(0.5)
    daemon.start()
    sender.join(180)
    stop.set()
    assert len(accepted) == TOTAL
    wait_for(lambda: query(daemon.settings, "select count(*) from inbound where state = 'received'") == [(0,)]
             and query(daemon.settings, "select count(*) from outbox where state != 'sent'") == [(0,)],
             120, "all mail processed and every acknowledgement sent")
    on_tickets = Counter(r[0] for r in query(daemon.settings, "select message_id from messages"))
    assert set(on_tickets) == {f"{mid}@client.example" for mid in accepted}
    assert max(on_tickets.values()) == 1
    assert query(daemon.settings, "select count(*) from tickets") == [(TOTAL,)]
    acks = [message_from_bytes(raw, policy=policy.default) for raw in outbox_files(daemon.settings)]
    by_id = Counter(str(m["Message-ID"]) for m in acks)
    assert len(acks) == TOTAL and max(by_id.values()) == 1
    answered = Counter(str(m["In-Reply-To"]) for m in acks)
    assert set(answered) == {f"<{mid}@client.example>" for mid in accepted} and max(answered.values()) == 1
    assert daemon.stop() == 0
