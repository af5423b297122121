"""SIGKILL in the middle of an IMAP fetch: after a restart every message is stored once, none left behind."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import ServeProcess, make_mail, query, wait_for
from dovecot import Dovecot, dovecot_fixture, imap_block  # noqa: F401 (fixture)

TOTAL = 500
PROCESSED = "maildesk/processed"

pytestmark = pytest.mark.slow


def _count(daemon: ServeProcess, sql: str) -> int:
    return int(str(query(daemon.settings, sql)[0][0]))


def test_sigkill_mid_fetch_then_restart(dovecot: Dovecot, serve: Callable[..., ServeProcess]) -> None:
    # Scenario: maildesk killed with SIGKILL during a 500-message fetch and restarted: each stored exactly once.
    dovecot.append([make_mail(sender=f"k{i}@client.example", subject=f"Kill {i}", message_id=f"kill{i}")
                    for i in range(TOTAL)])
    daemon = serve(extra=imap_block(dovecot, batch_size="20")).start()
    wait_for(lambda: _count(daemon, "SELECT count(*) FROM inbound") >= 120, 120, "a part of the fetch stored")
    daemon.kill()
    stored_before = _count(daemon, "SELECT count(*) FROM inbound")
    assert stored_before < TOTAL, "the kill came too late to interrupt the fetch"
    daemon.start()
    wait_for(lambda: dovecot.count(PROCESSED) == TOTAL and dovecot.count("INBOX") == 0, 180,
             "every message moved out of INBOX")
    wait_for(lambda: _count(daemon, "SELECT count(*) FROM inbound WHERE state = 'received'") == 0, 180,
             "every stored message processed")
    assert query(daemon.settings, "SELECT count(*), count(DISTINCT message_id) FROM inbound") == [(TOTAL, TOTAL)]
    assert _count(daemon, "SELECT count(*) FROM tickets") == TOTAL
    assert daemon.stop() == 0
